"""`python -m collector` is the same as the `collector` console script."""

from collector.cli import main

raise SystemExit(main())
