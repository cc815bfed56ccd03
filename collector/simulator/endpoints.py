"""The endpoints the simulator serves: every family's routes, by path.

`SCALAR` holds the `{time, <field>}` series (for `Simulator.truth`), `STATS` the nested day
stats (for `Simulator.truth_days`), `ROUTES` every `GET` path `Api` dispatches on.
"""

from __future__ import annotations

from collector.simulator.families import (
    campaigns,
    canvas,
    events,
    kpi,
    purchases,
    segments,
    sends,
    sessions,
)
from collector.simulator.routes import DayStats, Route, ScalarSeries

SCALAR: dict[str, ScalarSeries] = {
    s.path: s
    for s in (
        sessions.SERIES,
        *kpi.SERIES,
        events.SERIES,
        *purchases.SERIES,
        segments.SERIES,
    )
}
STATS: dict[str, DayStats] = {s.path: s for s in (campaigns.STATS, sends.STATS, canvas.STATS)}
ROUTES: dict[str, Route] = {
    r.path: r
    for r in (
        *(s.route for s in SCALAR.values()),
        events.LIST,
        purchases.LIST,
        segments.LIST,
        campaigns.SERIES,
        campaigns.LIST,
        campaigns.DETAILS,
        sends.SERIES,
        canvas.SERIES,
        canvas.LIST,
        canvas.DETAILS,
    )
}
