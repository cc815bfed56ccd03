"""`/kpi/{dau,mau,new_users,uninstalls}/data_series`: daily KPIs by app (braze-api.md §7, §10.5).

All four are daily only (`unit` is ignored) and filter by `app_id` alone.

- new_users and uninstalls are additive hour-atom streams of their own; new users start above
  their final value when late data is on and fall to it (profile merges), uninstalls grow.
- dau of an app is `floor(sessions of that app and day, as seen now × ratio)`, the ratio hashed
  per (app, day) below 1, so it is never above the sessions and grows with them. Users active in
  several apps count once in the workspace total: `floor(Σ apps × overlap)`, overlap ≤ 1.
- mau of an app is a 30-day rolling figure from the final dau of the 30 days ending with the
  day, at least that day's dau; the workspace total takes an overlap too and is at least the
  total dau. It is a snapshot: a day that has started shows its final value, never revised.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from collector.simulator.buckets import Bucket, Unit
from collector.simulator.context import Context
from collector.simulator.data import Metric
from collector.simulator.families.sessions import SESSIONS
from collector.simulator.routes import Filters, ScalarSeries
from collector.simulator.series import SeriesQuery, app_scope, atoms_query

NEW_USERS = Metric("new_users", scale=0.03, late_share=1.1)
UNINSTALLS = Metric("uninstalls", scale=0.008)
MAU_WINDOW_DAYS = 30

_DAU_RATIO_MIN, _DAU_RATIO_SPAN = 0.25, 0.2  # daily users per session
_OVERLAP_MIN = 0.85  # share of the summed app users who are distinct in the workspace
_MAU_RATIO_MIN, _MAU_RATIO_SPAN = 0.12, 0.08  # monthly users per summed daily user


class DailyActive:
    """DAU of some apps: from their sessions as seen now (see the module docstring)."""

    def __init__(self, ctx: Context, apps: tuple[str, ...]) -> None:
        self._ctx = ctx
        self._apps = apps
        self._zone: ZoneInfo = ctx.zone

    def _app(self, app: str, day: date, now: float | None) -> int:
        """One app's DAU of `day`, as seen at `now` (final when None)."""
        data = self._ctx.data
        vectors = data.day(SESSIONS, self._ctx.workspace.id, self._zone, (app,), None, day)
        sessions = vectors.total if now is None else data.day_seen(vectors, now)
        ratio = _DAU_RATIO_MIN + _DAU_RATIO_SPAN * self._ctx.hashed("dau", app, day)
        return math.floor(sessions * ratio)

    def of(self, day: date, now: float | None) -> int:
        """DAU of `day` over the apps, as seen at `now` (final when None)."""
        per_app = [self._app(app, day, now) for app in self._apps]
        if len(per_app) == 1:
            return per_app[0]
        overlap = _OVERLAP_MIN + (1 - _OVERLAP_MIN) * self._ctx.hashed("dau-overlap", day)
        return math.floor(sum(per_app) * overlap)

    def values(self, buckets: Sequence[Bucket], now: float) -> list[int]:
        return [self.of(b.day, now) for b in buckets]


class MonthlyActive:
    """MAU of some apps: a 30-day rolling snapshot of the final DAU (see the module docstring)."""

    def __init__(self, ctx: Context, apps: tuple[str, ...]) -> None:
        self._ctx = ctx
        self._apps = apps
        self._daily = {app: DailyActive(ctx, (app,)) for app in apps}
        self._total = DailyActive(ctx, apps)
        self._dau: dict[tuple[str, date], int] = {}

    def _app_dau(self, app: str, day: date) -> int:
        key = (app, day)
        if key not in self._dau:
            self._dau[key] = self._daily[app].of(day, None)
        return self._dau[key]

    def _app(self, app: str, day: date) -> int:
        window = sum(self._app_dau(app, day - timedelta(days=i)) for i in range(MAU_WINDOW_DAYS))
        ratio = _MAU_RATIO_MIN + _MAU_RATIO_SPAN * self._ctx.hashed("mau", app)
        return max(self._app_dau(app, day), math.floor(window * ratio))

    def of(self, day: date) -> int:
        """The MAU of `day` over the apps."""
        per_app = [self._app(app, day) for app in self._apps]
        if len(per_app) == 1:
            return per_app[0]
        overlap = _OVERLAP_MIN + (1 - _OVERLAP_MIN) * self._ctx.hashed("mau-overlap", day)
        return max(self._total.of(day, None), math.floor(sum(per_app) * overlap))

    def values(self, buckets: Sequence[Bucket], now: float) -> list[int]:
        return [self.of(b.day) for b in buckets]


def _dau(ctx: Context, unit: Unit, filters: Filters) -> SeriesQuery:
    apps, all_zero = app_scope(ctx, filters.app_id)
    return SeriesQuery(ctx.workspace, ctx.zone, unit, DailyActive(ctx, apps), all_zero=all_zero)


def _mau(ctx: Context, unit: Unit, filters: Filters) -> SeriesQuery:
    apps, all_zero = app_scope(ctx, filters.app_id)
    return SeriesQuery(ctx.workspace, ctx.zone, unit, MonthlyActive(ctx, apps), all_zero=all_zero)


def _new_users(ctx: Context, unit: Unit, filters: Filters) -> SeriesQuery:
    return atoms_query(ctx, unit, NEW_USERS, filters.app_id)


def _uninstalls(ctx: Context, unit: Unit, filters: Filters) -> SeriesQuery:
    return atoms_query(ctx, unit, UNINSTALLS, filters.app_id)


SERIES = tuple(
    ScalarSeries(
        f"/kpi/{name}/data_series",
        name,
        f"kpi.{name}.data_series",
        resolve,
        ("app_id",),
        units=("day",),
    )
    for name, resolve in (
        ("dau", _dau),
        ("mau", _mau),
        ("new_users", _new_users),
        ("uninstalls", _uninstalls),
    )
)
