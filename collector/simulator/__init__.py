"""An embedded Braze `data_series` simulator, served on a loopback socket for tests and demos.

Self-contained on purpose: it imports nothing from `collector` but the clock, so a parsing bug in
the collector is never shared with the server it is tested against. Behaviour follows
braze-api.md §9; every undocumented choice is a `SimulatorConfig` switch.

    async with run_simulator(SimulatorConfig(), clock=VirtualClock(t0)) as sim:
        ...  # GET f"{sim.url}/sessions/data_series?length=7" with "Authorization: Bearer sim-key"

Modules: config (the data classes), timetext (ending_at in, time out), buckets (day/hour
arithmetic), data (synthetic counts), series (which buckets, which values), quota (rate limit),
endpoints (the path table), api (one request's answer), faults (seeded chaos), server (aiohttp,
log, truth), cli (`python -m collector.simulator`).
"""

from collector.simulator.config import ApiKey, Faults, Segment, SimulatorConfig, Workspace
from collector.simulator.server import RequestRecord, Simulator, run_simulator

__all__ = [
    "ApiKey",
    "Faults",
    "RequestRecord",
    "Segment",
    "Simulator",
    "SimulatorConfig",
    "Workspace",
    "run_simulator",
]
