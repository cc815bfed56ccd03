"""An embedded Braze analytics-export simulator, served on a loopback socket for tests and demos.

Self-contained on purpose: it imports nothing from `collector` but the clock, so a parsing bug in
the collector is never shared with the server it is tested against. Behaviour follows
braze-api.md §9–10; every undocumented choice is a `SimulatorConfig` switch.

    async with run_simulator(SimulatorConfig(), clock=VirtualClock(t0)) as sim:
        ...  # GET f"{sim.url}/sessions/data_series?length=7" with "Authorization: Bearer sim-key"

It serves the `data_series` family (sessions, the four KPIs, events, purchases, segments,
campaigns, sends, Canvas) and their list and details endpoints; `sim.truth(...)` and
`sim.truth_days(...)` give what a fault-free answer holds; `family_workspace()` builds a large,
awkward catalogue.

Modules: config and catalogue (the data classes, checks validates them), presets (the large
catalogue), timetext (ending_at in, time out), buckets (day/hour arithmetic), data (synthetic
hour atoms), context and params (one request's inputs), series (scalar series), render (bodies),
routes (endpoint declarations), families/ (one module per endpoint family), endpoints (the path
table), quota (rate-limit pools), api (one request's answer), faults (seeded chaos), truth and
server (aiohttp, log, truth), cli (`python -m collector.simulator`).
"""

from collector.simulator.catalogue import (
    Campaign,
    Canvas,
    CanvasStep,
    CanvasVariant,
    Send,
    Variant,
)
from collector.simulator.config import (
    ApiKey,
    Faults,
    PoolLimit,
    Segment,
    SimulatorConfig,
    Workspace,
)
from collector.simulator.presets import family_workspace
from collector.simulator.server import RequestRecord, Simulator, run_simulator

__all__ = [
    "ApiKey",
    "Campaign",
    "Canvas",
    "CanvasStep",
    "CanvasVariant",
    "Faults",
    "PoolLimit",
    "RequestRecord",
    "Segment",
    "Send",
    "Simulator",
    "SimulatorConfig",
    "Variant",
    "Workspace",
    "family_workspace",
    "run_simulator",
]
