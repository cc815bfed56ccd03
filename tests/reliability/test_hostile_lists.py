"""Hostile lists (issue 14, item 2): a list endpoint that repeats its first page forever, pages
that shrink or repeat names between calls, 10,000 awkward names with quotes, NUL-free control
characters and an SQL-looking one, on both stores: bounded, clear errors, every name once and
byte for byte, and no name ever changes a query."""

from __future__ import annotations

import pytest

from collector.clock import VirtualClock
from collector.simulator import SimulatorConfig, Workspace, run_simulator
from collector.simulator.presets import awkward_names
from tests.integration.family import NOW, run, stored

INJECTION = "'); DROP TABLE points; --"
START = "2024-06-01"  # 14 days before NOW: one window per series


def workspace(events: tuple[str, ...]) -> SimulatorConfig:
    return SimulatorConfig(workspaces=(Workspace(timezone="UTC", events=events),))


@pytest.mark.parametrize("behaviour", ["shrinking", "repeating"])
async def test_pages_that_shrink_or_repeat_names_still_list_every_name_once(
    behaviour, store_at, reliability
):
    """Pages that shrink or repeat names between calls: every event listed once, stored once"""
    names = awkward_names("ev", 600, control_characters=True)
    clock = VirtualClock(NOW)
    config = workspace((*names, INJECTION))
    config = SimulatorConfig(workspaces=config.workspaces, list_behaviour=behaviour)
    async with run_simulator(config, clock=clock) as sim:
        report = await run(
            sim, clock, store_at, stream=["events"], event=["*"], start=START, timezone="UTC"
        )
        assert report.complete, report.discovery_errors
        got = {k[0][0] for k in stored(store_at, "events")}
        assert got == {*names, INJECTION}  # byte for byte, the SQL-looking one included
        pages = sum(1 for r in sim.log if r.path == "/events/list")
        series = sum(1 for r in sim.log if r.path == "/events/data_series")
        assert series == len(names) + 1  # one window each: no name requested twice
    reliability(
        section="hostile",
        scenario=f"/events/list pages {behaviour} between calls ({store_at.split(':')[0]})",
        parameters=f"{len(names) + 1} names with quotes, control characters and {INJECTION!r}",
        requests=report.requests,
        checked=f"{pages} list pages, every name stored once and byte for byte",
    )


async def test_a_list_that_returns_its_first_page_forever_is_a_clear_bounded_error(
    tmp_path, reliability
):
    """A list that returns its first page forever: one clear error after two pages, the stream
    fails, the others complete"""
    clock = VirtualClock(NOW)
    config = workspace(awkward_names("ev", 300))
    config = SimulatorConfig(workspaces=config.workspaces, list_behaviour="repeat_forever")
    async with run_simulator(config, clock=clock) as sim:
        report = await run(
            sim,
            clock,
            tmp_path / "c.db",
            stream=["events", "sessions"],
            event=["*"],
            start=START,
            timezone="UTC",
        )
        pages = sum(1 for r in sim.log if r.path == "/events/list")
    assert not report.complete
    assert pages == 2
    assert len(report.discovery_errors) == 1
    assert "identical to page 0" in report.discovery_errors[0]
    assert report.outcome(next(k for k in report.series if k[1] == "sessions")) == "complete"
    reliability(
        section="hostile",
        scenario="a list endpoint that returns page 0 forever",
        parameters="repeat_forever, 300 names",
        requests=report.requests,
        checked=f"{pages} list requests, one error naming the repeat, sessions still complete",
    )


async def test_ten_thousand_names_are_listed_and_cached(tmp_path, reliability):
    """10,000 event names: 41 pages, listed once and cached, the second run lists nothing"""
    names = awkward_names("e", 10_000)
    clock = VirtualClock(NOW)
    async with run_simulator(workspace(names), clock=clock) as sim:
        db = tmp_path / "c.db"
        from collector.pipeline import discover
        from tests.integration.family import make_job

        job = make_job(sim, clock, db, stream=["events"], event=["*"], start=START)
        found = await discover(job, clock=clock)
        pages = sum(1 for r in sim.log if r.path == "/events/list")
        again = await discover(job, clock=clock)
        assert sum(1 for r in sim.log if r.path == "/events/list") == pages
    listed = found["events"][0]
    assert sorted(listed) == sorted(names) and len(listed) == len(names)  # each once, exactly
    assert again["events"][0] == listed
    assert pages == 10_000 // 250 + 1
    reliability(
        section="hostile",
        scenario="10,000 names in a list",
        parameters="awkward names, 250 a page",
        requests=pages,
        checked="every name once, byte for byte; the second discovery served from the cache",
    )
