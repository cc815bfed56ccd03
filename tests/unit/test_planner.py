"""Pure window planning."""

from datetime import date

import pytest

from collector.core.models import Series
from collector.core.planner import gaps, merge, plan, tile
from collector.core.streams import SESSIONS
from collector.core.units import Calendar, Unit

CAL = Calendar("UTC")


def series(app: str = "", unit: Unit = Unit.DAY, cal: Calendar = CAL) -> Series:
    return Series(SESSIONS, (app, ""), unit, cal)


@pytest.mark.parametrize(
    ("n", "requests"), [(1, 1), (99, 1), (100, 1), (101, 2), (200, 2), (201, 3)]
)
def test_a_span_of_n_units_costs_ceil_n_over_100_requests(n, requests):
    """1/99/100/101-unit spans: ceil(N/100) windows, no overlap, no gap, newest first."""
    p = plan([(series(), 1000, 1000 + n)], {})
    windows = list(p.windows())
    assert p.requests == len(windows) == requests
    assert all(w.units <= 100 for w in windows)
    assert windows[0].hi == 1000 + n
    covered = sorted((w.lo, w.hi) for w in windows)
    assert merge(covered) == [(1000, 1000 + n)]
    assert sum(w.units for w in windows) == n


def test_only_the_oldest_window_of_a_gap_is_short():
    """Tiling keeps the newest windows full so the short one is the oldest."""
    assert list(tile(0, 250, 100)) == [(150, 250), (50, 150), (0, 50)]


def test_stored_coverage_is_not_fetched_again():
    """Covered intervals are subtracted; a fully covered series plans nothing."""
    s = series()
    assert gaps(0, 10, [(2, 4), (3, 6), (8, 20)]) == [(0, 2), (6, 8)]
    assert plan([(s, 0, 300)], {s.key: [(0, 300)]}).requests == 0
    p = plan([(s, 0, 300)], {s.key: [(100, 150)]})
    assert p.series[0].gaps == ((0, 100), (150, 300))
    assert p.requests == 3


def test_windows_interleave_series_newest_first():
    """Round-robin across series so every series progresses, each from its newest window."""
    a, b = series("a"), series("b")
    p = plan([(a, 0, 300), (b, 0, 100)], {})
    order = [(w.series.app_id, w.lo) for w in p.windows()]
    assert order == [("a", 200), ("b", 0), ("a", 100), ("a", 0)]


def test_windows_are_lazy():
    """Ten years of hours over many series are not materialised up front."""
    many = [(series(f"app{i}", Unit.HOUR), 0, 87_600) for i in range(50)]
    p = plan(many, {})
    first = next(p.windows())
    assert p.requests == 50 * 876 and first.hi == 87_600


def test_probe_prefers_a_window_with_room_for_one_more_bucket():
    """The alignment probe is a short window when any series has one, else the newest."""
    a, b = series("a"), series("b")
    probe = plan([(a, 0, 200), (b, 0, 150)], {}).probe()
    assert probe is not None and (probe.series.app_id, probe.lo, probe.hi) == ("b", 0, 50)
    full = plan([(a, 0, 200)], {}).probe()
    assert full is not None and (full.lo, full.hi) == (100, 200)
    assert plan([(a, 0, 200)], {a.key: [(0, 200)]}).probe() is None


def test_leap_year_and_dst_days_count_as_one_unit_each():
    """A leap year has 366 day buckets; a DST year in New York still has 365."""
    ny = Calendar("America/New_York")
    lo, hi = date(2024, 1, 1).toordinal(), date(2025, 1, 1).toordinal()
    assert plan([(series(cal=ny), lo, hi)], {}).missing == 366
    lo, hi = date(2023, 1, 1).toordinal(), date(2024, 1, 1).toordinal()
    assert plan([(series(cal=ny), lo, hi)], {}).requests == 4


def test_dst_days_have_23_and_25_hour_buckets():
    """Hour planning over New York's DST days counts elapsed hours."""
    from datetime import UTC, datetime

    ny = Calendar("America/New_York")
    day = date(2024, 3, 10).toordinal()
    lo = ny.ordinal(Unit.HOUR, ny.start(Unit.DAY, day))
    hi = ny.ordinal(Unit.HOUR, ny.start(Unit.DAY, day + 1))
    assert hi - lo == 23
    day = date(2024, 11, 3).toordinal()
    lo = ny.ordinal(Unit.HOUR, ny.start(Unit.DAY, day))
    hi = ny.ordinal(Unit.HOUR, ny.start(Unit.DAY, day + 1))
    assert hi - lo == 25
    assert ny.start(Unit.HOUR, lo) == datetime(2024, 11, 3, 4, tzinfo=UTC)
