"""Both readings of an on-boundary ending_at, and body validation."""

import json

import pytest

from collector.core.alignment import Aligner, Reading, Request
from collector.core.models import Point, Series, Window
from collector.core.streams import SESSIONS
from collector.core.units import Calendar, Unit
from collector.errors import PayloadError, SeriesMismatch
from collector.response import parse_body

CAL = Calendar("UTC")
DAY = Series(SESSIONS, ("", ""), Unit.DAY, CAL)
HOUR = Series(SESSIONS, ("", ""), Unit.HOUR, Calendar("America/New_York"))


def pts(lo: int, hi: int) -> list[Point]:
    return [Point(o, 1) for o in range(lo, hi)]


def test_unknown_reading_pads_a_short_window_so_both_readings_cover_it():
    """While unknown, a window with room asks for one bucket more with the same ending_at."""
    w = Window(DAY, 10, 60, 0, 100)
    a = Aligner()
    req = a.request_for(w)
    assert req == Request(end=60, length=51)
    # exclusive server: buckets 9..59 → covers [10, 60) and learns EXCLUSIVE
    assert Aligner().covered(w, req, pts(9, 60)) == (9, 60)
    # inclusive server: buckets 10..60 → covers [10, 61)
    inclusive = Aligner()
    assert inclusive.covered(w, req, pts(10, 61)) == (10, 61)
    assert inclusive.reading is Reading.INCLUSIVE


def test_known_inclusive_reading_shifts_ending_at_back_one_unit():
    """Under INCLUSIVE, ending_at is the start of the window's last bucket."""
    w = Window(DAY, 0, 100, 0, 100)
    a = Aligner(Reading.INCLUSIVE)
    req = a.request_for(w)
    assert req == Request(end=99, length=100)
    assert a.covered(w, req, pts(0, 100)) == (0, 100)


def test_coverage_is_clipped_to_the_run_range():
    """A bucket answered outside the run's range is never claimed as covered."""
    w = Window(DAY, 0, 100, 0, 100)
    assert Aligner().covered(w, Request(100, 100), pts(1, 101)) == (1, 100)


def test_a_shorter_series_still_classifies_by_its_last_bucket():
    """Missing leading buckets (history starts later) are allowed; coverage is the asked span."""
    w = Window(DAY, 0, 100, 0, 100)
    a = Aligner()
    assert a.covered(w, Request(100, 100), pts(40, 100)) == (0, 100)
    assert a.reading is Reading.EXCLUSIVE


def test_empty_series_covers_only_what_both_readings_guarantee():
    """No data at all: the asked span under the reading the request assumed."""
    w = Window(DAY, 10, 60, 0, 100)
    assert Aligner().covered(w, Request(60, 51), []) == (9, 60)
    assert Aligner(Reading.INCLUSIVE).covered(w, Request(59, 50), []) == (10, 60)


@pytest.mark.parametrize("last", [57, 61, 70])
def test_a_series_fitting_neither_reading_is_a_final_mismatch(last):
    """Buckets ending anywhere but the two readings' last bucket are rejected, not stored."""
    w = Window(DAY, 10, 60, 0, 100)
    with pytest.raises(SeriesMismatch):
        Aligner().covered(w, Request(60, 50), pts(last - 9, last + 1))


def body(entries, message="success") -> bytes:
    return json.dumps({"data": entries, "message": message}).encode()


def test_parse_body_reads_days_and_every_hour_form():
    """Day dates; hour Z, offset, fractional and naive (workspace zone) forms agree."""
    w = Window(DAY, 0, 1, 0, 1)
    [p] = parse_body(w, body([{"time": "2024-03-01", "sessions": 5}])).points
    assert CAL.key(Unit.DAY, p.ordinal) == "2024-03-01" and p.value == 5
    hw = Window(HOUR, 0, 1, 0, 1)
    forms = [
        "2024-07-01T12:00:00Z",
        "2024-07-01T08:00:00-04:00",
        "2024-07-01T08:00:00.000-04:00",
        "2024-07-01T08:00:00",
        "2024-07-01T08:00:00-0400",
    ]
    ordinals = {parse_body(hw, body([{"time": f, "sessions": 1}])).points[0].ordinal for f in forms}
    assert len(ordinals) == 1


def test_naive_fall_back_hours_resolve_in_order():
    """Two naive 01:00 entries at a fall-back are consecutive buckets, not a repeat."""
    hw = Window(HOUR, 0, 1, 0, 1)
    entries = [
        {"time": t, "sessions": 1}
        for t in (
            "2024-11-03T00:00:00",
            "2024-11-03T01:00:00",
            "2024-11-03T01:00:00",
            "2024-11-03T02:00:00",
        )
    ]
    ordinals = [p.ordinal for p in parse_body(hw, body(entries)).points]
    assert ordinals == list(range(ordinals[0], ordinals[0] + 4))


@pytest.mark.parametrize(
    "raw",
    [
        b'{"data": [{"time": "2024-03-01", "sess',
        b"<html>502</html>",
        b"[]",
        body([], message="error"),
        json.dumps({"message": "success"}).encode(),
        body([{"time": "2024-03-01", "sessions": -1}]),
        body([{"time": "2024-03-01", "sessions": "5"}]),
        body([{"time": "2024-03-01", "sessions": True}]),
        body([{"time": "2024-03-01", "sessions": 2**63}]),
        body([{"time": "2024-03-01"}]),
        body([{"time": 20240301, "sessions": 1}]),
        body([{"time": "2024-03-01", "sessions": 1}, {"time": "2024-03-01", "sessions": 1}]),
        body([{"time": "2024-03-02", "sessions": 1}, {"time": "2024-03-01", "sessions": 1}]),
        body([{"time": "2024-03-01", "sessions": 1}, {"time": "2024-03-03", "sessions": 1}]),
        body([{"time": "2024-03-01T10:30:00Z", "sessions": 1}]),
        body(["2024-03-01"]),
    ],
)
def test_malformed_bodies_are_payload_errors(raw):
    """Truncated, non-JSON, wrong types, negative/huge counts, repeats, holes: rejected."""
    with pytest.raises(PayloadError):
        parse_body(Window(DAY, 0, 1, 0, 1), raw)
