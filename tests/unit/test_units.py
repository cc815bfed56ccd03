"""Bucket arithmetic and ISO-8601 parsing."""

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collector.core.units import Calendar, Unit, parse_iso, utc_z
from collector.errors import ConfigError

NY = Calendar("America/New_York")
UTC_CAL = Calendar("UTC")


@pytest.mark.parametrize(
    ("text", "wall", "offset"),
    [
        ("2024-03-01", datetime(2024, 3, 1), None),
        ("2024-03-01T13:00:00Z", datetime(2024, 3, 1, 13), timedelta(0)),
        ("2024-03-01T13:00:00+00:00", datetime(2024, 3, 1, 13), timedelta(0)),
        ("2024-03-01T13:00:00", datetime(2024, 3, 1, 13), None),
        ("2024-03-01T13:00:00.000+00:00", datetime(2024, 3, 1, 13), timedelta(0)),
        ("2024-03-01T13:00:00.123456789Z", datetime(2024, 3, 1, 13, 0, 0, 123456), timedelta(0)),
        ("2018-06-28T23:59:59-5:00", datetime(2018, 6, 28, 23, 59, 59), timedelta(hours=-5)),
        ("2024-03-01T13:00+0530", datetime(2024, 3, 1, 13), timedelta(hours=5, minutes=30)),
    ],
)
def test_parse_iso_accepts_every_form_braze_may_send(text, wall, offset):
    """Dates, Z, ±HH:MM, ±H:MM, ±HHMM, no offset and fractions all parse."""
    parsed = parse_iso(text)
    assert (parsed.wall, parsed.offset) == (wall, offset)


@pytest.mark.parametrize(
    "text",
    [
        "2024-02-30",
        "2024-13-01",
        "yesterday",
        "2024-03-01T25:00:00Z",
        "2024-03-01T00:00:00 01:00",
        "",
    ],
)
def test_parse_iso_rejects_impossible_or_garbled_input(text):
    """Impossible dates and an unencoded '+' (a space) are errors, not guesses."""
    with pytest.raises(ValueError):
        parse_iso(text)


def test_day_ordinals_are_calendar_days_in_the_workspace_zone():
    """A NY day starts at local midnight; DST days are 23 and 25 hours long."""
    spring = date(2024, 3, 10).toordinal()
    fall = date(2024, 11, 3).toordinal()
    assert NY.start(Unit.DAY, spring) == datetime(2024, 3, 10, 5, tzinfo=UTC)
    assert NY.start(Unit.DAY, spring + 1) - NY.start(Unit.DAY, spring) == timedelta(hours=23)
    assert NY.start(Unit.DAY, fall + 1) - NY.start(Unit.DAY, fall) == timedelta(hours=25)
    assert NY.ordinal(Unit.DAY, datetime(2024, 3, 10, 4, 59, tzinfo=UTC)) == spring - 1


def test_fall_back_repeated_hour_is_two_buckets():
    """The two 01:00 local hours of a fall-back are separate hour buckets."""
    first = NY.instant(parse_iso("2024-11-03T01:00:00"), fold=0)
    second = NY.instant(parse_iso("2024-11-03T01:00:00"), fold=1)
    assert NY.ordinal(Unit.HOUR, second) == NY.ordinal(Unit.HOUR, first) + 1


def test_hour_grid_follows_half_hour_zones():
    """In Asia/Kolkata (UTC+05:30) hour buckets start at :30 UTC."""
    kolkata = Calendar("Asia/Kolkata")
    o = kolkata.ordinal(Unit.HOUR, datetime(2024, 1, 1, 0, 45, tzinfo=UTC))
    assert kolkata.start(Unit.HOUR, o) == datetime(2024, 1, 1, 0, 30, tzinfo=UTC)


def test_keys_round_trip_and_hours_export_in_utc_z():
    """Day keys are local dates, hour keys UTC with Z, and both invert."""
    o = NY.ordinal(Unit.HOUR, datetime(2024, 7, 1, 4, tzinfo=UTC))
    assert NY.key(Unit.HOUR, o) == "2024-07-01T04:00:00Z"
    assert NY.from_key(Unit.HOUR, NY.key(Unit.HOUR, o)) == o
    d = NY.ordinal(Unit.DAY, datetime(2024, 7, 1, 4, tzinfo=UTC))
    assert NY.key(Unit.DAY, d) == "2024-07-01"
    assert NY.from_key(Unit.DAY, "2024-07-01") == d
    assert utc_z(datetime(2024, 1, 1, tzinfo=UTC)) == "2024-01-01T00:00:00Z"


def test_unknown_zone_is_a_config_error_that_names_a_fix():
    """A misspelt zone fails before any I/O, with an example of a valid name."""
    with pytest.raises(ConfigError, match="IANA name"):
        Calendar("Mars/Olympus")


def test_leap_day_is_a_bucket():
    """29 February exists in leap years."""
    assert UTC_CAL.from_key(Unit.DAY, "2024-03-01") - UTC_CAL.from_key(Unit.DAY, "2024-02-28") == 2


ZONES = [
    "UTC",
    "America/New_York",
    "Europe/London",
    "Asia/Kolkata",
    "Australia/Lord_Howe",
    "Pacific/Apia",
]


def slow_ordinal(cal: Calendar, unit: Unit, text: str) -> int | None:
    """The general path: parse every form, then check the time starts a bucket."""
    try:
        parsed = parse_iso(text)
        instant = cal.instant(parsed)
        ordinal = cal.ordinal(unit, instant)
    except (ValueError, ConfigError):
        return None
    if (unit is Unit.HOUR or parsed.has_time) and cal.start(unit, ordinal) != instant:
        return None
    return ordinal


@settings(max_examples=300, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    moment=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2035, 1, 1)),
    form=st.sampled_from(["date", "z", "offset", "millis", "micros", "naive", "odd"]),
)
def test_fast_bucket_reading_agrees_with_the_general_parser(zone, moment, form):
    """Calendar.bucket_of answers only what the general parser would answer, or defers (None)."""
    cal = Calendar(zone)
    hour = moment.replace(minute=0 if form != "odd" else 30, second=0, microsecond=0, tzinfo=UTC)
    texts = {
        "date": moment.date().isoformat(),
        "z": hour.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "offset": hour.isoformat(),
        "millis": hour.isoformat(timespec="milliseconds"),
        "micros": hour.isoformat(timespec="microseconds"),
        "naive": hour.replace(tzinfo=None).isoformat(),
        "odd": hour.isoformat(),
    }
    text = texts[form]
    for unit in (Unit.DAY, Unit.HOUR):
        try:
            fast = cal.bucket_of(unit, text)
        except ConfigError:
            continue
        if fast is not None:
            assert fast == slow_ordinal(cal, unit, text)


@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Asia/Tokyo", "Pacific/Chatham"])
@pytest.mark.parametrize("unit", [Unit.DAY, Unit.HOUR])
def test_keys_spells_each_bucket_as_key_does(zone, unit):
    """The batch spelling used by the stores equals `key` bucket by bucket, across years,
    day boundaries, the fast range's edges and before 1970."""
    cal = Calendar(zone)  # Chatham's hours start at :45 UTC: spelled the long way
    first = cal.ordinal(unit, datetime(1969, 12, 30, tzinfo=UTC))
    spans = [range(first, first + 100), range(first + 500_000, first + 500_100)]
    if unit is Unit.HOUR:
        spans.append(range(-8_502_840 - 5, -8_502_840 + 5))  # the fast range's low edge (1000 AD)
    for span in spans:
        ordinals = list(span)
        assert cal.keys(unit, ordinals) == [cal.key(unit, o) for o in ordinals]
