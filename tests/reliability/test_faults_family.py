"""The fault matrix over the whole family: every stream of the brief (sessions, a KPI, events,
purchase revenue, segment size, campaign and Canvas stats) under 20 % injected faults, on SQLite
and on PostgreSQL, alone and as two cooperating collectors on one PostgreSQL database; and each
fault kind alone on events.

Each case runs the real pipeline and HTTP client against the embedded simulator on a loopback
socket, on a clock frozen at one instant and shared with the simulator (see
`family.FrozenClock`: a VirtualClock would jump while the loop waits on PostgreSQL, a store
thread or an injected hang, so leases would "expire" mid round trip and the campaign and Canvas
figures, which ramp with time, would differ from the oracle's), three times:

1. a run cut short by `--max-requests` (as a scheduler slot or a crash would end it);
2. the resumed run, under the same faults (two collectors at once in the cooperating cases);
3. a third run, which must send nothing.

The oracle is a fault-free run of the same job on a fault-free simulator at the same instant
(the family end-to-end tests check such runs against the simulator's truth): the faulted
database must hold exactly its points and raw days, none twice, every value in range; no window
is stored twice by the resumed run(s) (their own WindowStored events); the requests stay within twice the fault-free
count; nothing escapes as an exception (crashes 0) and the resumed run is complete.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from collector.observe.events import WindowStored
from collector.simulator import Faults, run_simulator

from .family import (
    NOW,
    STREAM_FLAGS,
    FrozenClock,
    contents,
    describe,
    faults_of,
    job_flags,
    run_job,
    sim_config,
    stored_twice,
)

SEED = 5
CONCURRENCY = 6
TIMEOUT_S = 0.3  # per request, real time; hangs last 0.6 s
# A nested window (100 days of campaign or Canvas stats) takes the in-process simulator up to a
# few hundred milliseconds to build under load: a tighter timeout would retry healthy answers.
NESTED = ("campaign_stats", "canvas_stats")
NESTED_TIMEOUT_S = 1.5
MIX: dict[str, Any] = {  # 20 % in all, spread over the six answering faults, + hangs and latency
    "error_500": 0.034,
    "error_502_html": 0.033,
    "error_503": 0.033,
    "error_504_empty": 0.033,
    "drop_connection": 0.033,
    "truncated_json": 0.034,
    "hang": 0.02,
    "hang_seconds": "2x",  # twice the case's --timeout: a hang the client gives up on
    "latency_ms": 1.0,
    "latency_distribution": "exponential",
}
ALONE: dict[str, dict[str, Any]] = {
    "500": {"error_500": 0.2},
    "502-html": {"error_502_html": 0.2},
    "503": {"error_503": 0.2},
    "504-empty": {"error_504_empty": 0.2},
    "dropped-connection": {"drop_connection": 0.2},
    "truncated-body": {"truncated_json": 0.2},
    "hang": {"hang": 0.2, "hang_seconds": "2x"},
    "latency-spikes": {
        "hang": 0.2,
        "hang_seconds": 0.03,
        "latency_ms": 2.0,
        "latency_distribution": "exponential",
    },
}


@dataclass(frozen=True)
class Case:
    stream: str
    store: str  # "sqlite" or "postgres"
    processes: int = 1
    faults: dict[str, Any] = field(default_factory=lambda: MIX)
    fault_name: str = "20 % mix"

    @property
    def id(self) -> str:
        coop = "-2proc" if self.processes > 1 else ""
        return f"{self.stream}-{self.store}{coop}-{self.fault_name.replace(' ', '').replace('%', 'pc')}"


CASES = [
    *(Case(s, store) for s in STREAM_FLAGS for store in ("sqlite", "postgres")),
    *(Case(s, "postgres", processes=2) for s in STREAM_FLAGS),
    *(Case("events", "sqlite", faults=f, fault_name=n) for n, f in ALONE.items()),
]


@pytest.fixture
def location(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    case: Case = request.node.callspec.params["case"]
    if case.store == "postgres":
        return str(request.getfixturevalue("pg_database"))
    return str(tmp_path / "faulted.db")


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
async def test_every_stream_under_faults_on_both_stores(tmp_path, location, reliability, case):
    """One stream, 20 % faults, one store (one or two processes): exact, no duplicate, resumable."""
    stream = case.stream
    timeout = TIMEOUT_S if stream not in NESTED else NESTED_TIMEOUT_S
    flags = job_flags(stream, concurrency=CONCURRENCY, timeout=timeout, max_retries=8)
    # The oracle: the same job, no faults, the same instant.
    ref_db = tmp_path / "reference.db"
    ref_clock = FrozenClock(NOW)
    async with run_simulator(sim_config(), clock=ref_clock) as clean:
        ref_report = await run_job(clean, ref_clock, ref_db, **flags)
        assert ref_report.complete, ref_report
        minimum = len(clean.log)
    expected = contents(ref_db, [stream])
    assert expected.points and expected.duplicates == 0

    clock = FrozenClock(NOW)  # shared with the simulator: its figures are those of one instant
    faults = dict(case.faults)
    if faults.get("hang_seconds") == "2x":
        faults["hang_seconds"] = 2 * timeout
    config = sim_config(faults=Faults(seed=SEED, **faults))
    async with run_simulator(config, clock=clock) as sim:
        cut = max(2, minimum // 3)
        first = await run_job(sim, clock, location, **flags, max_requests=cut)
        assert first.fatal is None and not first.complete  # stopped early: resumable
        events: list[Any] = []
        resumed = await asyncio.gather(
            *(
                run_job(sim, clock, location, observers=[events.append], **flags)
                for _ in range(case.processes)
            )
        )
        assert all(r.fatal is None for r in resumed)
        assert all(r.complete for r in resumed), [
            (r.stopped, r.discovery_errors, [s.errors for s in r.series.values() if s.errors])
            for r in resumed
        ]
        third = await run_job(sim, clock, location, **flags)
        assert third.complete and third.requests == 0  # resumable to the end: nothing left
        log = list(sim.log)

    got = contents(location, [stream])
    assert got.duplicates == 0
    assert got.points == expected.points
    assert got.raw == expected.raw
    assert got.values_ok()
    hang_reaches_client = faults.get("hang_seconds", 0) < timeout
    windows = sum(isinstance(e, WindowStored) for e in events)
    assert windows > 0 and stored_twice(events) == 0
    assert len(log) <= 2 * minimum + case.processes * CONCURRENCY, (len(log), minimum)
    injected = faults_of(log)
    if not hang_reaches_client or "hang" not in case.faults:
        assert sum(injected.values()) > 0, "the case injected nothing"
    retries = sum(sum(r.retries.values()) for r in (first, *resumed))
    taken = sum(r.taken_over for r in resumed)
    store = "PostgreSQL" if case.store == "postgres" else "SQLite"
    who = f"{case.processes} cooperating collectors" if case.processes > 1 else "one collector"
    reliability(
        section="faults",
        scenario=f"{stream} on {store}, {who}, {case.fault_name}",
        parameters=f"{case.fault_name} ({_fault_text(faults)}); {STREAM_FLAGS[stream]}, "
        f"from {flags['start']}; concurrency {CONCURRENCY}, --timeout {timeout} s; a run cut "
        f"at --max-requests {cut}, resumed ({who}), then a third run; fault seed {SEED}",
        runs=2 + case.processes,
        requests=len(log),
        minimum=minimum,
        bound=2 * minimum + case.processes * CONCURRENCY,
        retries=retries,
        rate_limited=sum(r.rate_limited for r in (first, *resumed)),
        checked=f"faults injected: {describe(injected)}; {len(got.points)} points and "
        f"{len(got.raw)} raw days equal to a fault-free run's; duplicates 0; {windows} windows "
        "stored by the resumed run(s), none twice; crashes 0; resumed run complete"
        + (
            f" (requests split {'/'.join(str(r.requests) for r in resumed)}, {taken} taken over)"
            if case.processes > 1
            else ""
        )
        + "; third run sent 0",
    )


def _fault_text(faults: dict[str, Any]) -> str:
    parts = []
    for k, v in faults.items():
        if k in ("hang_seconds", "latency_distribution"):
            continue
        if k == "latency_ms":
            parts.append(f"latency ~{v} ms")
        elif k == "hang":
            parts.append(f"hang {v:.0%} × {faults.get('hang_seconds')} s")
        else:
            parts.append(f"{k} {v:.1%}")
    return ", ".join(parts)
