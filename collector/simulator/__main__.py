"""`python -m collector.simulator [flags]`: the simulator as a standalone server."""

from collector.simulator.cli import main

raise SystemExit(main())
