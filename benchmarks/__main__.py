"""python -m benchmarks → benchmarks.run.main()."""

import sys

from .run import main

sys.exit(main())
