"""End to end: the real pipeline and HTTP client against the simulator on a loopback socket."""

from __future__ import annotations

import pytest

from collector.clock import VirtualClock
from collector.simulator import ApiKey, Faults, Segment, SimulatorConfig, Workspace, run_simulator

from .harness import NOW, make_job, minimal_requests, run, sessions_key, stored, truth

APPS = ("app-ios", "app-android")
FANOUT = {"app_id": ["", *APPS], "segment_id": ["", "vip"]}


def config(**kw) -> SimulatorConfig:
    ws = Workspace(timezone=kw.pop("timezone", "UTC"), apps=APPS, segments=(Segment("vip"),))
    return SimulatorConfig(workspaces=(ws,), **kw)


@pytest.mark.parametrize(
    ("unit", "start"), [("day", "2023-10-01"), ("hour", "2024-06-05T00:00:00Z")]
)
async def test_fan_out_gives_exact_timelines_with_the_minimal_request_count(tmp_path, unit, start):
    """6 series × (258 days | 250 hours): every bucket once, equal to the truth, ceil(N/100) each."""
    clock = VirtualClock(NOW)
    async with run_simulator(config(), clock=clock) as sim:
        db = tmp_path / "c.db"
        report = await run(sim, clock, db, start=start, unit=unit, **FANOUT)
        job = make_job(sim, clock, db, start=start, unit=unit, **FANOUT)
        assert report.complete
        assert stored(db, unit) == truth(sim, job)
        assert report.requests == len(sim.log) == minimal_requests(job) == 18


@pytest.mark.parametrize("alignment", ["exclusive", "inclusive", "floor_exclusive"])
@pytest.mark.parametrize("days", [250, 300])
async def test_either_reading_of_ending_at_gives_the_same_result(tmp_path, alignment, days):
    """Both readings: exact data; minimal requests (+1 at most when every span is a multiple of 100)."""
    clock = VirtualClock(NOW)
    async with run_simulator(config(alignment=alignment), clock=clock) as sim:
        db = tmp_path / "c.db"
        job = make_job(sim, clock, db, start="2023-01-01", **FANOUT)
        lo = job.end - days
        start = job.calendar.key(job.unit, lo)
        report = await run(sim, clock, db, start=start, **FANOUT)
        job = make_job(sim, clock, db, start=start, **FANOUT)
        assert report.complete and stored(db, "day") == truth(sim, job)
        slack = 1 if alignment == "inclusive" and days % 100 == 0 else 0
        assert minimal_requests(job) <= report.requests <= minimal_requests(job) + slack
        assert report.alignment == ("inclusive" if alignment == "inclusive" else "exclusive")


@pytest.mark.parametrize("hour_format", ["offset", "z", "naive", "fractional"])
async def test_every_hour_string_form_across_a_dst_fall_back(tmp_path, hour_format):
    """New York hours over 2023-11-05 (25 h): every form lands on the same exact timeline."""
    clock = VirtualClock(NOW)
    async with run_simulator(
        config(timezone="America/New_York", hour_time_format=hour_format), clock=clock
    ) as sim:
        db = tmp_path / "c.db"
        flags = {
            "start": "2023-11-03",
            "end": "2023-11-08",
            "unit": "hour",
            "timezone": "America/New_York",
        }
        report = await run(sim, clock, db, **flags, app_id=["", "app-ios"])
        job = make_job(sim, clock, db, **flags, app_id=["", "app-ios"])
        assert job.end - job.start == 5 * 24 + 1
        assert report.complete and stored(db, "hour") == truth(sim, job)
        assert report.requests == minimal_requests(job)


async def test_days_in_a_non_utc_workspace_across_spring_forward(tmp_path):
    """New York days over 2024-03-10 (23 h): day values equal the truth; ending_at at local midnight."""
    clock = VirtualClock(NOW)
    async with run_simulator(config(timezone="America/New_York"), clock=clock) as sim:
        db = tmp_path / "c.db"
        flags = {"start": "2024-02-01", "end": "2024-04-01", "timezone": "America/New_York"}
        report = await run(sim, clock, db, **flags)
        assert report.complete and stored(db, "day") == truth(
            sim, make_job(sim, clock, db, **flags)
        )
        assert all(r.params["ending_at"].endswith(("T05:00:00Z", "T04:00:00Z")) for r in sim.log)


async def test_faults_at_20_percent_still_give_the_exact_timeline(tmp_path):
    """500/502/503/504/drop/truncated at 20% in all: complete, exact, within 2× the minimum."""
    clock = VirtualClock(NOW)
    async with run_simulator(config(faults=Faults.uniform(0.2, seed=3)), clock=clock) as sim:
        db = tmp_path / "c.db"
        report = await run(sim, clock, db, start="2022-01-01", **FANOUT)
        job = make_job(sim, clock, db, start="2022-01-01", **FANOUT)
        assert report.complete and stored(db, "day") == truth(sim, job)
        assert sum(report.retries.values()) > 0
        assert report.requests <= 2 * minimal_requests(job)


async def test_a_server_quota_below_the_configured_rate_is_learned(tmp_path):
    """Server allows 10 per 60 s, we are told 100000/s: exact result, no 429, never over the quota."""
    clock = VirtualClock(NOW)
    async with run_simulator(config(rate_limit=10, rate_window_s=60), clock=clock) as sim:
        db = tmp_path / "c.db"
        report = await run(sim, clock, db, start="2023-01-01", concurrency=4, **FANOUT)
        job = make_job(sim, clock, db, start="2023-01-01", **FANOUT)
        assert report.complete and stored(db, "day") == truth(sim, job)
        assert report.rate_limited == 0 and sim.stats()[429] == 0
        per_window: dict[int, int] = {}
        for r in sim.log:
            per_window[int(r.at // 60)] = per_window.get(int(r.at // 60), 0) + 1
        assert max(per_window.values()) <= 10


async def test_re_running_a_finished_backfill_makes_zero_requests(tmp_path):
    """Idempotent: the second run plans nothing and sends nothing."""
    clock = VirtualClock(NOW)
    async with run_simulator(config(), clock=clock) as sim:
        db = tmp_path / "c.db"
        first = await run(sim, clock, db, start="2023-01-01", **FANOUT)
        sent = len(sim.log)
        second = await run(sim, clock, db, start="2023-01-01", **FANOUT)
        assert first.complete and second.complete
        assert second.requests == 0 and len(sim.log) == sent


async def test_a_rejected_app_fails_only_its_series(tmp_path):
    """An unknown app_id (400): its series fails and is reported; the others complete."""
    clock = VirtualClock(NOW)
    async with run_simulator(config(), clock=clock) as sim:
        db = tmp_path / "c.db"
        report = await run(sim, clock, db, start="2023-06-01", app_id=["", "app-nope"])
        assert not report.complete and report.fatal is None
        assert report.series[sessions_key("app-nope")].failed_windows >= 1
        assert report.series[sessions_key("")].failed_windows == 0
        assert {k[0] for k in stored(db, "day")} == {""}


async def test_a_refused_key_ends_the_run_naming_the_fix(tmp_path):
    """401 names the key variable; the run stops at once."""
    clock = VirtualClock(NOW)
    async with run_simulator(config(keys=(ApiKey("other"),)), clock=clock) as sim:
        report = await run(sim, clock, tmp_path / "c.db", start="2020-01-01", **FANOUT)
        assert report.fatal is not None and "BRAZE_API_KEY" in report.fatal
        assert len(sim.log) == 1


async def test_a_missing_permission_refuses_its_stream_naming_the_fix(tmp_path):
    """403 names the missing permission and refuses every series of that stream after one
    request; it is not fatal (keys are often scoped), but the run is not complete."""
    clock = VirtualClock(NOW)
    keys = (ApiKey("sim-key", permissions=frozenset()),)
    async with run_simulator(config(keys=keys), clock=clock) as sim:
        report = await run(sim, clock, tmp_path / "c.db", start="2020-01-01", **FANOUT)
        assert report.fatal is None and not report.complete
        assert len(report.series) == 6
        for key in report.series:
            refused = report.series[key].refused
            assert refused is not None and "sessions.data_series" in refused
            assert report.outcome(key) == "refused"
        assert len(sim.log) == 1


async def test_sync_refreshes_late_data_and_counts_revisions(tmp_path):
    """Backfill, a day later sync: the lookback is re-fetched, revised values counted, all equal truth."""
    clock = VirtualClock(NOW)
    async with run_simulator(config(late_data=True), clock=clock) as sim:
        db = tmp_path / "c.db"
        first = await run(sim, clock, db, start="2024-05-01")
        assert first.complete
        clock.advance(86_400)
        report = await run(sim, clock, db, "sync", lookback=3)
        job = make_job(sim, clock, db, start="2024-05-01")
        assert report.complete and report.revised > 0 and report.inserted == 1
        assert stored(db, "day") == truth(sim, job)
        assert report.requests == 1
