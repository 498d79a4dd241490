"""``python -m reference_client`` → ``askelephant-ref``."""

import sys

from reference_client.cli import main

sys.exit(main())
