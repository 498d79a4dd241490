"""`python -m fake_askelephant` runs the CLI."""

from .cli import main

raise SystemExit(main())
