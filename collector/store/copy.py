"""`collector db copy --from A --to B`: a whole history from one store into another, either way
between SQLite and PostgreSQL. Engine-neutral: it sees only the `CopyStore` protocol.

Idempotent and resumable. Each series is compared with what the target holds and only the
difference is written, in one transaction per series (its points, raw days and coverage
together), so an interrupted copy leaves whole series and a re-run finishes the rest; a second
run writes nothing. Where both hold a point, the later fetch wins (as in collecting); coverage
is the union of both. Runs are matched by (workspace, command, started_at) and get the
target's ids. Key fingerprints are salted per database: the target adopts the source's salt
while it has no fingerprint of its own, else a workspace's fingerprint cannot be carried over
and its next run records the key again (a notice says so).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

from collector.core.models import SeriesKey
from collector.core.planner import merge
from collector.errors import ConfigError
from collector.store.base import CopyStore, PointRow


@dataclass
class CopyReport:
    """What one copy wrote (all zero when the target already held everything)."""

    series: int = 0
    points: int = 0
    raw_days: int = 0
    coverage: int = 0
    runs: int = 0
    run_series: int = 0
    discovery: int = 0
    workspaces: int = 0
    notices: list[str] = field(default_factory=list)

    @property
    def changed(self) -> int:
        return (
            self.points
            + self.raw_days
            + self.coverage
            + self.runs
            + self.run_series
            + self.discovery
            + self.workspaces
        )

    def summary(self) -> str:
        return (
            f"copied {self.points} points, {self.raw_days} raw days, {self.coverage} coverage "
            f"changes in {self.series} series, {self.runs} runs ({self.run_series} run series), "
            f"{self.discovery} discovery lists, {self.workspaces} workspaces"
        )


def copy_store(
    source: CopyStore, target: CopyStore, *, on_series: Callable[[int, int], None] | None = None
) -> CopyReport:
    """Copy everything `source` holds into `target` (see the module docstring)."""
    report = CopyReport()
    _workspaces(source, target, report)
    keys = source.dump_series()
    known = set(target.dump_series())
    for n, key in enumerate(keys, 1):
        _series(source, target, key, key in known, report)
        if on_series is not None:
            on_series(n, len(keys))
    _runs(source, target, report)
    mine = {(d[0], d[1]): d for d in target.dump_discovery()}
    for row in source.dump_discovery():
        old = mine.get((row[0], row[1]))
        if old is None or (old != row and row[4] > old[4]):
            target.put_discovery(row)
            report.discovery += 1
    return report


def _workspaces(source: CopyStore, target: CopyStore, report: CopyReport) -> None:
    same_salt = source.salt() == target.salt()
    if not same_salt and not target.has_fingerprints():
        target.put_salt(source.salt())
        same_salt = True
    mine = {name: (zone, mark) for name, zone, mark in target.dump_workspaces()}
    for name, zone, mark in source.dump_workspaces():
        their_zone, their_mark = mine.get(name, (None, None))
        if zone is not None and their_zone is not None and zone != their_zone:
            raise ConfigError(
                f"workspace {name!r} is in time zone {zone!r} in the source but {their_zone!r} "
                "in the target: their buckets do not line up; copy into another --to (or "
                "--pg-schema)"
            )
        if not same_salt and mark is not None:
            report.notices.append(
                f"the key fingerprint of workspace {name!r} cannot be carried over (the target "
                "salts its fingerprints differently): its next run records the key it uses"
            )
            mark = None
        new = (zone if zone is not None else their_zone, their_mark if mark is None else mark)
        if name not in mine or new != (their_zone, their_mark):
            target.put_workspace(name, *new)
            report.workspaces += 1


def _series(
    source: CopyStore, target: CopyStore, key: SeriesKey, known: bool, report: CopyReport
) -> None:
    theirs = source.dump_series_rows(key)
    mine = target.dump_series_rows(key)
    held = {(p.time, p.facet, p.metric): p for p in mine.points}
    points: list[PointRow] = []
    for p in theirs.points:
        old = held.get((p.time, p.facet, p.metric))
        if old is None or (not _same(old, p) and p.fetched_at > old.fetched_at):
            points.append(p)
    raw_held = {t: (body, at) for t, body, at in mine.raw}
    raw = [
        (t, body, at)
        for t, body, at in theirs.raw
        if t not in raw_held or (raw_held[t] != (body, at) and at > raw_held[t][1])
    ]
    coverage = _union(mine.coverage, theirs.coverage)
    new_coverage = None if coverage == list(mine.coverage) else coverage
    if points or raw or new_coverage is not None or not known:
        target.put_series_rows(key, points, raw, new_coverage)
        report.series += 1
        report.points += len(points)
        report.raw_days += len(raw)
        report.coverage += 0 if new_coverage is None else 1


def _same(a: PointRow, b: PointRow) -> bool:
    """Equal as stored: a count and a decimal, or 12.0 and 12.00, are different values."""
    return (type(a.value), str(a.value), a.fetched_at, a.revisions) == (
        type(b.value),
        str(b.value),
        b.fetched_at,
        b.revisions,
    )


def _union(
    a: tuple[tuple[int, int, str], ...], b: tuple[tuple[int, int, str], ...]
) -> list[tuple[int, int, str]]:
    """Merged intervals of both; each keeps the fetched_at of the target's interval it extends
    (the source's when new), so a union equal to the target's is the target's, unchanged."""
    if not b:
        return list(a)
    merged = merge([(lo, hi) for lo, hi, _ in (*a, *b)])
    out = []
    for lo, hi in merged:
        at = next(
            (f for l2, h2, f in a if l2 == lo and h2 == hi),
            max(f for l2, h2, f in (*a, *b) if lo <= l2 and h2 <= hi),
        )
        out.append((lo, hi, at))
    return out


def _runs(source: CopyStore, target: CopyStore, report: CopyReport) -> None:
    mine = {(r.workspace, r.command, r.started_at): r for r in target.dump_runs()}
    ids: dict[int, int] = {}
    for run in source.dump_runs():
        old = mine.get((run.workspace, run.command, run.started_at))
        if old is None:
            ids[run.id] = target.put_run(run, new=True)
            report.runs += 1
            continue
        ids[run.id] = old.id
        theirs = replace(run, id=old.id)
        if theirs != old and (old.finished_at is None or run.finished_at is not None):
            target.put_run(theirs, new=False)
            report.runs += 1
    held = {(r, key): (o, e) for r, key, o, e in target.dump_run_series()}
    for r, key, outcome, error in source.dump_run_series():
        at = ids[r]
        if held.get((at, key)) != (outcome, error):
            target.put_run_series(at, key, outcome, error)
            report.run_series += 1
