"""The four KPI series: daily only, by app, and their data invariants (braze-api.md §7, §10.5)."""

from __future__ import annotations

import pytest

from collector.clock import VirtualClock
from collector.simulator import SimulatorConfig, Workspace

from .support import SESSIONS, T0, Harness

KPIS = ("dau", "mau", "new_users", "uninstalls")
APPS = ("ios", "android", "web")
CONFIG = SimulatorConfig(workspaces=(Workspace(timezone="America/New_York", apps=APPS),), seed=5)
LATE = SimulatorConfig(workspaces=CONFIG.workspaces, seed=5, late_data=True)
DAY, HOUR = 86_400, 3_600


def kpi(name: str) -> str:
    return f"/kpi/{name}/data_series"


@pytest.mark.parametrize("name", KPIS)
async def test_kpi_is_a_daily_series_of_its_field(braze: Harness, name: str) -> None:
    """Each KPI answers daily `{time, <name>}` points; `unit=hour` is ignored."""
    sim = await braze.start(CONFIG)
    params = {"length": "3", "ending_at": "2024-02-20"}
    daily = await braze.get(sim, params, path=kpi(name))
    hourly = await braze.get(sim, {**params, "unit": "hour"}, path=kpi(name))
    assert daily.status == 200
    assert [p["time"] for p in daily.json()["data"]] == ["2024-02-17", "2024-02-18", "2024-02-19"]
    assert all(isinstance(v, int) and v > 0 for v in daily.series(name))
    assert hourly.body == daily.body


@pytest.mark.parametrize("name", KPIS)
async def test_kpi_unknown_app_follows_the_switch(braze: Harness, name: str) -> None:
    """An unknown app_id is 400 "Invalid app_id", or all zeros with unknown_app="zeros"."""
    strict = await braze.start(CONFIG)
    lenient = await braze.start(SimulatorConfig(workspaces=CONFIG.workspaces, unknown_app="zeros"))
    params = {"length": "4", "app_id": "nope"}
    assert (await braze.get(strict, params, path=kpi(name))).message == "Invalid app_id"
    assert (await braze.get(lenient, params, path=kpi(name))).series(name) == [0] * 4


@pytest.mark.parametrize("config", [CONFIG, LATE], ids=["final", "late"])
@pytest.mark.parametrize("app", [None, *APPS])
async def test_dau_is_at_most_sessions_and_mau(
    braze: Harness, config: SimulatorConfig, app: str | None
) -> None:
    """For the same app and day, DAU ≤ sessions and DAU ≤ MAU, including the recent days."""
    sim = await braze.start(config)
    params = {"length": "100"} | ({"app_id": app} if app else {})
    dau = (await braze.get(sim, params, path=kpi("dau"))).series("dau")
    mau = (await braze.get(sim, params, path=kpi("mau"))).series("mau")
    sessions = (await braze.get(sim, params, path=SESSIONS)).values
    assert all(0 < d <= s for d, s in zip(dau, sessions, strict=True))
    assert all(d <= m for d, m in zip(dau, mau, strict=True))
    assert max(mau) > 2 * max(dau)  # a 30-day figure, well above one day


async def test_additive_kpis_total_is_sum_of_apps_but_dau_is_not(braze: Harness) -> None:
    """new_users and uninstalls total = Σ apps; DAU and MAU totals count shared users once."""
    sim = await braze.start(CONFIG)
    params = {"length": "30", "ending_at": "2024-02-20"}
    for name in KPIS:
        total = (await braze.get(sim, params, path=kpi(name))).series(name)
        apps = [
            (await braze.get(sim, params | {"app_id": a}, path=kpi(name))).series(name)
            for a in APPS
        ]
        summed = [sum(column) for column in zip(*apps, strict=True)]
        if name in ("new_users", "uninstalls"):
            assert total == summed
        else:
            assert all(t <= s for t, s in zip(total, summed, strict=True))
            assert total != summed


async def test_mau_never_changes_once_reported(braze: Harness) -> None:
    """With late data on, MAU of started days is the same three days later (no revisions)."""
    clock = VirtualClock(T0)
    sim = await braze.start(LATE, clock)
    params = {"length": "10", "ending_at": "2024-03-02"}
    before = await braze.get(sim, params, path=kpi("mau"))
    clock.advance(3 * DAY)
    after = await braze.get(sim, params, path=kpi("mau"))
    assert before.body == after.body


async def test_new_users_decrease_while_settling(braze: Harness) -> None:
    """With late data a finished day's new users start above final, fall, and settle at final."""
    clock = VirtualClock(T0)
    late = await braze.start(LATE, clock)
    final = await braze.start(CONFIG, clock)
    params = {"length": "1", "ending_at": "2024-03-01"}  # 02-29 (New York), ended 07:30 ago
    settled = (await braze.get(final, params, path=kpi("new_users"))).series("new_users")[0]
    seen = []
    for step in (0, 10 * HOUR, 30 * HOUR, 48 * HOUR):
        clock.set(T0 + step)
        seen.append((await braze.get(late, params, path=kpi("new_users"))).series("new_users")[0])
    assert seen == sorted(seen, reverse=True)
    assert seen[0] > seen[1] > settled == seen[-1]


async def test_uninstalls_grow_while_settling(braze: Harness) -> None:
    """With late data a finished day's uninstalls start below final, grow, and settle at final."""
    clock = VirtualClock(T0)
    late = await braze.start(LATE, clock)
    final = await braze.start(CONFIG, clock)
    params = {"length": "1", "ending_at": "2024-03-01"}
    settled = (await braze.get(final, params, path=kpi("uninstalls"))).series("uninstalls")[0]
    seen = []
    for step in (0, 30 * HOUR, 48 * HOUR):
        clock.set(T0 + step)
        seen.append((await braze.get(late, params, path=kpi("uninstalls"))).series("uninstalls")[0])
    assert seen[0] < seen[1] < seen[2] == settled
