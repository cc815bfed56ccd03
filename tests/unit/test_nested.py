"""`collector.core.nested`: a nested analytics day (campaign, send, Canvas) as numeric leaves.

Expected leaves are written by hand for small days, and for simulator days derived from the
documented shape (braze-api.md §10.3) by test-side code that knows nothing of the module's walk.
Hostile inputs may only ever raise `NestedError`.
"""

from __future__ import annotations

import copy
import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import cache
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collector.clock import VirtualClock
from collector.core.nested import (
    CONTROL_ID,
    DayLeaves,
    Facet,
    NestedError,
    Value,
    campaign_day,
    canvas_day,
    canvas_days,
)
from collector.simulator import Simulator, SimulatorConfig, family_workspace

T0 = datetime(2024, 3, 1, 12, 30, tzinfo=UTC).timestamp()
TOTAL: Facet = ("", "", "")
CAMPAIGN_TOTALS = (
    "conversions",
    "conversions1",
    "conversions2",
    "conversions3",
    "conversions_by_send_time",
    "conversions1_by_send_time",
    "conversions2_by_send_time",
    "conversions3_by_send_time",
    "unique_recipients",
    "revenue",
)
CANVAS_TOTALS = ("revenue", "conversions", "conversions_by_entry_time", "entries")


def d(text: str) -> Decimal:
    return Decimal(text)


def loads(text: str) -> Any:
    """A body as the collector decodes it."""
    return json.loads(text, parse_float=Decimal)


def as_map(leaves: DayLeaves) -> dict[tuple[Facet, str], Value]:
    return {(facet, metric): value for facet, metric, value in leaves.points}


def is_number(value: object) -> bool:
    return isinstance(value, int | Decimal) and not isinstance(value, bool)


def numbers(obj: object) -> list[Value]:
    """Every numeric value anywhere inside `obj` (test-side, shape-blind)."""
    if isinstance(obj, dict):
        return [n for v in obj.values() for n in numbers(v)]
    if isinstance(obj, list):
        return [n for v in obj for n in numbers(v)]
    return [obj] if is_number(obj) else []  # type: ignore[list-item]


def count_nulls(obj: object) -> int:
    if isinstance(obj, dict):
        return sum(count_nulls(v) for v in obj.values())
    if isinstance(obj, list):
        return sum(count_nulls(v) for v in obj)
    return int(obj is None)


def assert_well_formed(leaves: DayLeaves) -> None:
    """Sorted by (facet, metric), each pair once, every value a valid leaf, names sorted."""
    keys = [(facet, metric) for facet, metric, _ in leaves.points]
    assert keys == sorted(keys)
    assert len(keys) == len(set(keys))
    for facet, metric, value in leaves.points:
        assert len(facet) == 3 and all(isinstance(part, str) for part in facet)
        assert isinstance(metric, str) and metric
        assert is_number(value)
        if isinstance(value, int):
            assert 0 <= value <= 2**63 - 1
        else:
            assert value.is_finite() and not value.is_signed()
    assert leaves.names == sorted(set(leaves.names))
    assert all(kind in ("variant", "step") for kind, _, _ in leaves.names)


# --- hand-written campaign days -----------------------------------------------------------

SMALL_CAMPAIGN = """{
  "time": "2024-02-01",
  "conversions": 3, "revenue": 12.50, "unique_recipients": 90, "machine_total": 7,
  "messages": {
    "email": [
      {"variation_api_id": "va", "variation_name": "A", "sent": 50, "opens": 10,
       "machine_open": 2, "revenue": 0.0, "conversions": 1},
      {"variation_api_id": "vb", "variation_name": "B", "sent": 40, "opens": null,
       "revenue": 12.5, "conversions": 2},
      {"variation_api_id": "ctl", "variation_name": "Control Group", "sent": null,
       "enrolled": 9, "unique_recipients": null, "conversions": 0}
    ],
    "sms": [],
    "webhook": null,
    "ios_push": [{"variation_api_id": "va-push", "sent": 5, "body_clicks": 1}]
  }
}"""


def test_small_campaign_day_gives_exactly_its_numeric_leaves() -> None:
    """Totals at ("","",""), entries at ("", id, channel); nulls, [] and strings give nothing."""
    leaves = campaign_day(loads(SMALL_CAMPAIGN))
    assert leaves.points == [
        (TOTAL, "conversions", 3),
        (TOTAL, "machine_total", 7),
        (TOTAL, "revenue", d("12.50")),
        (TOTAL, "unique_recipients", 90),
        (("", "ctl", "email"), "conversions", 0),
        (("", "ctl", "email"), "enrolled", 9),
        (("", "va", "email"), "conversions", 1),
        (("", "va", "email"), "machine_open", 2),
        (("", "va", "email"), "opens", 10),
        (("", "va", "email"), "revenue", d("0.0")),
        (("", "va", "email"), "sent", 50),
        (("", "va-push", "ios_push"), "body_clicks", 1),
        (("", "va-push", "ios_push"), "sent", 5),
        (("", "vb", "email"), "conversions", 2),
        (("", "vb", "email"), "revenue", d("12.5")),
        (("", "vb", "email"), "sent", 40),
    ]
    assert leaves.names == [
        ("variant", "ctl", "Control Group"),
        ("variant", "va", "A"),
        ("variant", "vb", "B"),
    ]


def test_values_keep_their_exact_type_and_digits() -> None:
    """Ints stay int, decimals keep their exponent (0.0, 12.50); a negative zero becomes zero."""
    leaves = as_map(campaign_day(loads('{"a": 0, "b": 0.0, "c": 12.50, "d": -0.0, "e": 1E+2}')))
    assert type(leaves[TOTAL, "a"]) is int
    assert str(leaves[TOTAL, "b"]) == "0.0"
    assert str(leaves[TOTAL, "c"]) == "12.50"
    assert leaves[TOTAL, "d"] == 0 and not leaves[TOTAL, "d"].is_signed()  # type: ignore[union-attr]
    assert leaves[TOTAL, "e"] == 100 and isinstance(leaves[TOTAL, "e"], Decimal)


def test_largest_int_is_a_leaf() -> None:
    """2**63-1 and 0 are accepted as they are."""
    leaves = as_map(campaign_day({"big": 2**63 - 1, "zero": 0}))
    assert leaves == {(TOTAL, "big"): 2**63 - 1, (TOTAL, "zero"): 0}


def test_all_null_day_gives_no_points() -> None:
    """A day of nulls (counts, messages, channels, entries) is no points and no error."""
    day = {
        "time": None,
        "conversions": None,
        "revenue": None,
        "messages": {"email": None, "sms": [None], "push": []},
    }
    assert campaign_day(day) == DayLeaves([], [])
    assert campaign_day({"time": "2024-01-01", "messages": None}) == DayLeaves([], [])
    assert campaign_day({}) == DayLeaves([], [])


@pytest.mark.parametrize("name", ["Control Group", "control group", " CONTROL GROUP "])
def test_control_group_without_id_is_variant_control(name: str) -> None:
    """An id-less Control Group entry lands on variant "control", one per channel."""
    day = {
        "messages": {
            "email": [{"variation_name": name, "enrolled": 4, "sent": None}],
            "sms": [{"variation_api_id": None, "variation_name": name, "enrolled": 2}],
        }
    }
    leaves = campaign_day(day)
    assert leaves.points == [
        (("", CONTROL_ID, "email"), "enrolled", 4),
        (("", CONTROL_ID, "sms"), "enrolled", 2),
    ]
    assert leaves.names == [("variant", "control", name)]


def test_control_group_with_id_keeps_its_id() -> None:
    """A Control Group entry that carries an id uses it, like every variant."""
    day = {
        "messages": {
            "email": [{"variation_api_id": "c-1", "variation_name": "Control Group", "enrolled": 4}]
        }
    }
    assert campaign_day(day).points == [(("", "c-1", "email"), "enrolled", 4)]


def test_unknown_nesting_is_flattened_with_dotted_names() -> None:
    """Objects and arrays the shape does not describe become dotted metrics, arrays by position."""
    day = loads(
        """{"foo": {"bar": 1, "baz": [2, null, {"q": 3.5}], "label": "x"},
            "messages": {"email": [{"variation_api_id": "v", "links": {"top": 4, "all": [5]}}]}}"""
    )
    assert campaign_day(day).points == [
        (TOTAL, "foo.bar", 1),
        (TOTAL, "foo.baz.0", 2),
        (TOTAL, "foo.baz.2.q", d("3.5")),
        (("", "v", "email"), "links.all.0", 5),
        (("", "v", "email"), "links.top", 4),
    ]


def test_unknown_string_fields_are_labels() -> None:
    """A string in a field not documented as a number is skipped, not an error."""
    day = {"status": "ok", "messages": {"sms": [{"variation_api_id": "v", "kind": "x", "sent": 1}]}}
    assert campaign_day(day).points == [(("", "v", "sms"), "sent", 1)]


def test_same_variant_id_on_two_channels_is_fine() -> None:
    """The channel is part of the facet: one id on two channels is two facets."""
    day = {
        "messages": {
            "email": [{"variation_api_id": "v", "sent": 1}],
            "sms": [{"variation_api_id": "v", "sent": 2}],
        }
    }
    assert campaign_day(day).points == [
        (("", "v", "email"), "sent", 1),
        (("", "v", "sms"), "sent", 2),
    ]


# --- hand-written Canvas days -------------------------------------------------------------

SMALL_CANVAS = """{
  "time": "2024-02-01",
  "total_stats": {"revenue": 10.5, "conversions": 3, "conversions_by_entry_time": null, "entries": 40},
  "variant_stats": {
    "v1": {"name": "Variant 1", "revenue": 10.5, "conversions": 3, "entries": 40},
    "v2": null
  },
  "step_stats": {
    "s1": {"name": "Welcome", "revenue": 1.0, "unique_recipients": 30,
           "messages": {"email": [{"sent": 30, "opens": 5, "machine_open": 1}],
                        "sms": null, "push": []}},
    "s2": {"name": "Nudge", "conversions": 1, "messages": null}
  }
}"""


def test_small_canvas_day_gives_exactly_its_numeric_leaves() -> None:
    """total_stats → totals, variant_stats → variant, step scalars → step, messages → step+channel."""
    leaves = canvas_day(loads(SMALL_CANVAS))
    assert leaves.points == [
        (TOTAL, "conversions", 3),
        (TOTAL, "entries", 40),
        (TOTAL, "revenue", d("10.5")),
        (("", "v1", ""), "conversions", 3),
        (("", "v1", ""), "entries", 40),
        (("", "v1", ""), "revenue", d("10.5")),
        (("s1", "", ""), "revenue", d("1.0")),
        (("s1", "", ""), "unique_recipients", 30),
        (("s1", "", "email"), "machine_open", 1),
        (("s1", "", "email"), "opens", 5),
        (("s1", "", "email"), "sent", 30),
        (("s2", "", ""), "conversions", 1),
    ]
    assert leaves.names == [
        ("step", "s1", "Welcome"),
        ("step", "s2", "Nudge"),
        ("variant", "v1", "Variant 1"),
    ]


def test_several_objects_in_a_step_channel_get_their_id_or_position() -> None:
    """Id → its variant slot (and a name); no id → "" at position 0, "#<position>" after."""
    day = {
        "step_stats": {
            "s": {
                "messages": {
                    "email": [
                        {"sent": 1},
                        {"variation_api_id": "m-2", "variation_name": "Two", "sent": 2},
                        {"sent": 3},
                    ],
                    "sms": [{"variation_api_id": "m-9", "sent": 9}, {"sent": 4}],
                }
            }
        }
    }
    leaves = canvas_day(day)
    assert leaves.points == [
        (("s", "", "email"), "sent", 1),
        (("s", "#1", "sms"), "sent", 4),
        (("s", "#2", "email"), "sent", 3),
        (("s", "m-2", "email"), "sent", 2),
        (("s", "m-9", "sms"), "sent", 9),
    ]
    assert leaves.names == [("variant", "m-2", "Two")]


def test_canvas_unknown_parts_are_flattened_at_the_right_facet() -> None:
    """Unknown top-level objects flatten at the totals; nested objects inside a step at the step."""
    day = {
        "time": "2024-02-01",
        "goal_stats": {"g1": {"hits": 2}},
        "step_stats": {"s": {"split": {"a": 1}, "messages": {"email": [{"links": [7]}]}}},
    }
    assert canvas_day(day).points == [
        (TOTAL, "goal_stats.g1.hits", 2),
        (("s", "", ""), "split.a", 1),
        (("s", "", "email"), "links.0", 7),
    ]


def test_canvas_day_without_breakdowns() -> None:
    """A day with total_stats only gives the totals; an empty day gives nothing."""
    assert canvas_day({"time": "t", "total_stats": {"entries": 1}}).points == [
        (TOTAL, "entries", 1)
    ]
    assert canvas_day({"time": "t", "total_stats": None}) == DayLeaves([], [])


def test_canvas_days_returns_the_stats_list() -> None:
    """`data.stats` is returned as it is."""
    stats: list[Any] = [{"time": "2024-01-01"}]
    assert canvas_days({"name": "x", "stats": stats}) is stats
    assert canvas_days({"stats": []}) == []


@pytest.mark.parametrize(
    "data", [None, [], "x", 3, {}, {"stats": None}, {"stats": {}}, {"stats": "[]"}]
)
def test_canvas_days_rejects_data_without_a_stats_list(data: object) -> None:
    """Anything but an object with a stats array is a NestedError naming data."""
    with pytest.raises(NestedError, match=r"^data"):
        canvas_days(data)


# --- rejections ---------------------------------------------------------------------------


def entry(**fields: object) -> dict[str, object]:
    return {"variation_api_id": "v", **fields}


CAMPAIGN_REJECTS: list[tuple[str, object, str]] = [
    ("day not an object", [], "day: expected an object"),
    ("negative total", {"conversions": -1}, "day.conversions: negative"),
    ("negative decimal", {"revenue": d("-0.01")}, "day.revenue: negative"),
    ("NaN", {"revenue": d("NaN")}, "day.revenue: expected a finite"),
    ("sNaN", {"revenue": d("sNaN")}, "day.revenue: expected a finite"),
    ("infinity", {"revenue": d("Infinity")}, "day.revenue: expected a finite"),
    ("-infinity", {"revenue": d("-Infinity")}, "day.revenue: expected a finite"),
    ("int too big", {"sent": 2**63}, "day.sent: integer larger"),
    ("bool total", {"conversions": True}, "day.conversions: expected a number, got the boolean"),
    ("bool unknown", {"flag": False}, "day.flag: expected a number, got the boolean"),
    ("float", {"revenue": 1.5}, "parse_float=Decimal"),
    ("tuple", {"x": (1, 2)}, "day.x: expected a number, got a tuple"),
    (
        "string count",
        {"conversions": "3"},
        'day.conversions: expected a number, got the string "3"',
    ),
    ("time not a string", {"time": 20240101}, "day.time: expected a string"),
    ("messages array", {"messages": []}, "day.messages: expected an object"),
    ("messages string", {"messages": "email"}, "day.messages: expected an object"),
    (
        "channel object",
        {"messages": {"email": {"sent": 1}}},
        "day.messages.email: a channel must be",
    ),
    ("channel number", {"messages": {"email": 0}}, "day.messages.email: a channel must be"),
    ("entry number", {"messages": {"email": [3]}}, "day.messages.email[0]: expected an object"),
    (
        "entry array",
        {"messages": {"sms": [entry(), []]}},
        "day.messages.sms[1]: expected an object",
    ),
    ("no id", {"messages": {"email": [{"sent": 1}]}}, "needs a string variation_api_id"),
    (
        "id number",
        {"messages": {"email": [{"variation_api_id": 7}]}},
        "variation_api_id: expected a non-empty string",
    ),
    (
        "id empty",
        {"messages": {"email": [{"variation_api_id": ""}]}},
        "variation_api_id: expected a non-empty string",
    ),
    (
        "name number",
        {"messages": {"email": [entry(variation_name=1)]}},
        "variation_name: expected a string",
    ),
    (
        "control name but id wrong",
        {"messages": {"email": [{"variation_api_id": 0, "variation_name": "Control Group"}]}},
        "variation_api_id: expected a non-empty string",
    ),
    (
        "negative in entry",
        {"messages": {"email": [entry(sent=-5)]}},
        "day.messages.email[0].sent: negative",
    ),
    ("string sent", {"messages": {"email": [entry(sent="5")]}}, "email[0].sent: expected a number"),
    (
        "bool in entry",
        {"messages": {"email": [entry(opens=True)]}},
        "email[0].opens: expected a number",
    ),
    (
        "duplicate variant in a channel",
        {"messages": {"email": [entry(sent=1), entry(sent=2)]}},
        "appears twice",
    ),
    (
        "two id-less controls in a channel",
        {"messages": {"email": [{"variation_name": "Control Group", "enrolled": 1}] * 2}},
        "appears twice",
    ),
    ("dotted collision", {"a.b": 1, "a": {"b": 2}}, "appears twice"),
    ("empty key", {"": 1}, "a key must be a non-empty string"),
    ("non-string key", {"x": {1: 2}}, "a key must be a non-empty string"),
    ("empty channel key", {"messages": {"": []}}, "a key must be a non-empty string"),
    ("too deep", {"x": json.loads("[" * 40 + "]" * 40)}, "nested deeper than"),
    ("nested negative", {"x": {"y": [0, -1]}}, "day.x.y[1]: negative"),
]


@pytest.mark.parametrize(
    ("day", "needle"),
    [(day, needle) for _, day, needle in CAMPAIGN_REJECTS],
    ids=[case for case, _, _ in CAMPAIGN_REJECTS],
)
def test_campaign_day_rejects(day: object, needle: str) -> None:
    """Each malformed day raises NestedError whose message names the problem and its path."""
    with pytest.raises(NestedError) as caught:
        campaign_day(day)
    assert needle in str(caught.value)
    assert str(caught.value).startswith(caught.value.path)


CANVAS_REJECTS: list[tuple[str, object, str]] = [
    ("day not an object", "x", "day: expected an object"),
    ("total_stats array", {"total_stats": []}, "day.total_stats: expected an object"),
    ("total_stats number", {"total_stats": 3}, "day.total_stats: expected an object"),
    ("negative total", {"total_stats": {"entries": -1}}, "day.total_stats.entries: negative"),
    ("bool total", {"total_stats": {"entries": True}}, "expected a number, got the boolean"),
    ("string revenue", {"total_stats": {"revenue": "1.0"}}, "expected a number, got the string"),
    (
        "variant_stats array",
        {"variant_stats": [{"name": "x"}]},
        "day.variant_stats: expected an object",
    ),
    (
        "variant not object",
        {"variant_stats": {"v1": 3}},
        "day.variant_stats.v1: expected an object",
    ),
    (
        "variant name number",
        {"variant_stats": {"v1": {"name": 3}}},
        "day.variant_stats.v1.name: expected a string",
    ),
    (
        "empty variant id",
        {"variant_stats": {"": {"entries": 1}}},
        "a key must be a non-empty string",
    ),
    ("step_stats string", {"step_stats": "s"}, "day.step_stats: expected an object"),
    ("step not object", {"step_stats": {"s": []}}, "day.step_stats.s: expected an object"),
    (
        "step name bool",
        {"step_stats": {"s": {"name": False}}},
        "day.step_stats.s.name: expected a string",
    ),
    (
        "step messages array",
        {"step_stats": {"s": {"messages": []}}},
        "day.step_stats.s.messages: expected an object",
    ),
    (
        "step channel string",
        {"step_stats": {"s": {"messages": {"email": "x"}}}},
        "day.step_stats.s.messages.email: a channel must be",
    ),
    (
        "step entry number",
        {"step_stats": {"s": {"messages": {"email": [1]}}}},
        "day.step_stats.s.messages.email[0]: expected an object",
    ),
    (
        "step entry id number",
        {"step_stats": {"s": {"messages": {"email": [{"variation_api_id": 1}]}}}},
        "variation_api_id: expected a non-empty string",
    ),
    (
        "step entries with one id twice",
        {"step_stats": {"s": {"messages": {"email": [{"variation_api_id": "m", "sent": 1}] * 2}}}},
        "appears twice",
    ),
    (
        "position slot collides with an id",
        {
            "step_stats": {
                "s": {"messages": {"sms": [{"variation_api_id": "#1", "sent": 1}, {"sent": 2}]}}
            }
        },
        "appears twice",
    ),
    (
        "NaN in step",
        {"step_stats": {"s": {"revenue": d("NaN")}}},
        "day.step_stats.s.revenue: expected a finite",
    ),
    ("huge int in variant", {"variant_stats": {"v": {"entries": 2**64}}}, "integer larger"),
    ("unknown top-level collides", {"total_stats": {"x": 1}, "x": 2}, "appears twice"),
]


@pytest.mark.parametrize(
    ("day", "needle"),
    [(day, needle) for _, day, needle in CANVAS_REJECTS],
    ids=[case for case, _, _ in CANVAS_REJECTS],
)
def test_canvas_day_rejects(day: object, needle: str) -> None:
    """Each malformed Canvas day raises NestedError whose message names the problem and its path."""
    with pytest.raises(NestedError) as caught:
        canvas_day(day)
    assert needle in str(caught.value)


def test_error_messages_are_short_and_printable() -> None:
    """Hostile keys and values are quoted and cut: the message stays one short printable line."""
    key = "bad\x00key\n\u2028" + "z" * 500
    cases: list[object] = [
        {"messages": {key: {"x": 1}}},
        {"messages": {"email": [{"variation_api_id": "v" * 500, "sent": 1}] * 2}},
        {key: {key: d("-" + "9" * 500)}},
        {key: 2**10_000},
        {"x": d("NaN" + "1" * 300)},
    ]
    for day in cases:
        with pytest.raises(NestedError) as caught:
            campaign_day(day)
        text = str(caught.value)
        assert text.isprintable() and len(text) < 300, text


def test_nested_error_is_a_value_error() -> None:
    """Callers may catch ValueError; the path is also an attribute."""
    with pytest.raises(ValueError):
        campaign_day({"sent": -1})
    with pytest.raises(NestedError) as caught:
        canvas_day({"total_stats": {"entries": -1}})
    assert caught.value.path == "day.total_stats.entries"


def test_input_is_not_modified() -> None:
    """The day object (kept raw by the caller) is left exactly as it was."""
    day = loads(SMALL_CAMPAIGN)
    before = json.dumps(day, default=str, sort_keys=True)
    campaign_day(day)
    assert json.dumps(day, default=str, sort_keys=True) == before


# --- simulator days -----------------------------------------------------------------------

START, END = datetime(2023, 1, 20, tzinfo=UTC), datetime(2023, 2, 20, tzinfo=UTC)


@cache
def simulator() -> Simulator:
    workspace = family_workspace(campaigns=24, canvases=10, sends=3, control_characters=True)
    config = SimulatorConfig(workspaces=(workspace,), seed=5, late_data=True)
    return Simulator(config, VirtualClock(T0))


@cache
def campaign_sim_days() -> list[dict[str, Any]]:
    """Days of every campaign of the family catalogue and of its sends, plus the defaults."""
    sim = simulator()
    workspace = sim.config.workspace("ws")
    days = []
    for campaign in workspace.campaigns:
        days += sim.truth_days("/campaigns/data_series", START, END, campaign_id=campaign.id)
    for send in workspace.sends:
        start = send.sent_at.replace(hour=0)
        ids = {"campaign_id": send.campaign_id, "send_id": send.send_id}
        days += sim.truth_days("/sends/data_series", start, start + timedelta(days=16), **ids)
    defaults = Simulator(SimulatorConfig(seed=2), VirtualClock(T0))
    recent = datetime(2024, 2, 1, tzinfo=UTC), datetime(2024, 3, 2, tzinfo=UTC)
    days += defaults.truth_days("/campaigns/data_series", *recent, campaign_id="cmp-welcome")
    days += defaults.truth_days(
        "/sends/data_series", *recent, campaign_id="cmp-receipts", send_id="send-0001"
    )
    return days


@cache
def canvas_sim_days() -> list[dict[str, Any]]:
    sim = simulator()
    days = []
    for canvas in sim.config.workspace("ws").canvases:
        days += sim.truth_days("/canvas/data_series", START, END, canvas_id=canvas.id)
    defaults = Simulator(SimulatorConfig(seed=2), VirtualClock(T0))
    recent = datetime(2024, 2, 16, tzinfo=UTC), datetime(2024, 3, 2, tzinfo=UTC)
    days += defaults.truth_days("/canvas/data_series", *recent, canvas_id="cnv-onboarding")
    return days


def test_simulator_days_cover_the_awkward_cases() -> None:
    """The sample has activity, control groups, null and empty channels, awkward ids."""
    days = campaign_sim_days()
    entries = [e for day in days for es in day["messages"].values() for e in es or []]
    assert sum(day["unique_recipients"] > 0 for day in days) > 100
    assert any(e["variation_name"] == "Control Group" for e in entries)
    assert any(v is None for day in days for v in day["messages"].values())
    assert any(v == [] for day in days for v in day["messages"].values())
    assert any("\x01" in e["variation_api_id"] or '"' in e["variation_api_id"] for e in entries)
    channels = {c for day in days for c, es in day["messages"].items() if es}
    assert {"email", "sms", "webhook", "content_cards", "whats_app", "in_app_message"} <= channels
    canvas = canvas_sim_days()
    assert sum(day["total_stats"]["entries"] > 0 for day in canvas) > 50


def expected_campaign(day: dict[str, Any]) -> dict[tuple[Facet, str], Value]:
    """The leaves of a documented campaign day, read field by field from its shape."""
    expected: dict[tuple[Facet, str], Value] = {}
    for field, value in day.items():
        if field not in ("time", "messages") and value is not None:
            expected[TOTAL, field] = value
    for channel, entries in day["messages"].items():
        for item in entries or []:
            facet = ("", item["variation_api_id"], channel)
            for field, value in item.items():
                if field not in ("variation_api_id", "variation_name") and value is not None:
                    expected[facet, field] = value
    return expected


def expected_canvas(day: dict[str, Any]) -> dict[tuple[Facet, str], Value]:
    """The leaves of a documented Canvas day, read field by field from its shape."""
    expected: dict[tuple[Facet, str], Value] = {}
    for field, value in day["total_stats"].items():
        expected[TOTAL, field] = value
    for vid, stats in day.get("variant_stats", {}).items():
        for field, value in stats.items():
            if field != "name":
                expected[("", vid, ""), field] = value
    for sid, stats in day.get("step_stats", {}).items():
        for field, value in stats.items():
            if field not in ("name", "messages"):
                expected[(sid, "", ""), field] = value
        for channel, (counts,) in stats["messages"].items():
            for field, value in counts.items():
                expected[(sid, "", channel), field] = value
    return expected


def test_simulator_campaign_and_send_days_match_their_documented_reading() -> None:
    """Every simulator campaign/send day gives exactly the leaves its shape documents."""
    for day in campaign_sim_days():
        leaves = campaign_day(day)
        assert_well_formed(leaves)
        assert as_map(leaves) == expected_campaign(day), day["time"]


def test_simulator_canvas_days_match_their_documented_reading() -> None:
    """Every simulator Canvas day gives exactly the leaves its shape documents."""
    for day in canvas_sim_days():
        leaves = canvas_day(day)
        assert_well_formed(leaves)
        assert as_map(leaves) == expected_canvas(day), day["time"]


@pytest.mark.parametrize("kind", ["campaign", "canvas"])
def test_every_numeric_leaf_appears_exactly_once_and_nulls_give_nothing(kind: str) -> None:
    """The multiset of point values is the multiset of numbers in the day, digits included."""
    days, parse = (
        (campaign_sim_days(), campaign_day)
        if kind == "campaign"
        else (canvas_sim_days(), canvas_day)
    )
    nulls = 0
    for day in days:
        leaves = parse(day)
        found = Counter((type(v), str(v)) for _, _, v in leaves.points)
        assert found == Counter((type(v), str(v)) for v in numbers(day))
        nulls += count_nulls(day)
    assert kind == "canvas" or nulls > 1000  # campaign days have null control counts and channels


def test_campaign_totals_equal_the_sum_of_the_variant_points() -> None:
    """Summed over each day's non-control variant facets, the points give the totals."""
    for day in campaign_sim_days():
        leaves = campaign_day(day)
        control = {ident for kind, ident, name in leaves.names if name == "Control Group"}
        totals: dict[str, Value] = {}
        sums: dict[str, Value] = dict.fromkeys(CAMPAIGN_TOTALS, 0)
        for facet, metric, value in leaves.points:
            if facet == TOTAL:
                totals[metric] = value
            elif facet[1] not in control and metric in sums:
                sums[metric] += value
        assert totals == sums, day["time"]


def test_canvas_totals_equal_the_sum_of_the_variant_points() -> None:
    """Canvas total_stats equal the sums over the variant facets; steps carry their channels."""
    sim = simulator()
    steps = {s.id: set(s.channels) for c in sim.config.workspace("ws").canvases for s in c.steps}
    for day in canvas_sim_days():
        leaves = canvas_day(day)
        totals = {m: v for f, m, v in leaves.points if f == TOTAL}
        sums: dict[str, Value] = dict.fromkeys(CANVAS_TOTALS, 0)
        for (step, variant, channel), metric, value in leaves.points:
            if variant and not step:
                sums[metric] += value
            if step in steps and channel:
                assert channel in steps[step]
        assert totals == sums
        assert {i for kind, i, _ in leaves.names if kind == "step"} == set(day["step_stats"])


def test_control_group_points_are_its_non_null_fields() -> None:
    """A control entry gives enrolled, conversions and revenue, never its null counts."""
    seen = 0
    for day in campaign_sim_days():
        leaves = campaign_day(day)
        for channel, entries in day["messages"].items():
            for item in entries or []:
                if item["variation_name"] != "Control Group":
                    continue
                facet = ("", item["variation_api_id"], channel)
                metrics = {m for f, m, _ in leaves.points if f == facet}
                assert metrics == {k for k, v in item.items() if is_number(v)}
                assert "enrolled" in metrics and "sent" not in metrics
                seen += 1
    assert seen > 10


def test_names_come_from_the_response() -> None:
    """Variant names are the entries' variation_name, step names the steps' name, ids exact."""
    for day in canvas_sim_days():
        names = canvas_day(day).names
        expected = {("variant", k, v["name"]) for k, v in day["variant_stats"].items()}
        expected |= {("step", k, v["name"]) for k, v in day["step_stats"].items()}
        assert set(names) == expected
    for day in campaign_sim_days():
        expected = {
            ("variant", e["variation_api_id"], e["variation_name"])
            for es in day["messages"].values()
            for e in es or []
        }
        assert set(campaign_day(day).names) == expected


def test_a_field_braze_adds_later_becomes_a_point() -> None:
    """Names come from the response: a new total, entry field and channel are leaves too."""
    day = copy.deepcopy(campaign_sim_days()[-1])
    day["new_total"] = 5
    day["messages"]["line"] = [{"variation_api_id": "vx", "variation_name": "X", "taps": 3}]
    first = next(es for es in day["messages"].values() if es)
    first[0]["machine_amp_click"] = 2
    facet = ("", first[0]["variation_api_id"], next(c for c, es in day["messages"].items() if es))
    leaves = as_map(campaign_day(day))
    assert leaves[TOTAL, "new_total"] == 5
    assert leaves[("", "vx", "line"), "taps"] == 3
    assert leaves[facet, "machine_amp_click"] == 2


# --- hostile input ------------------------------------------------------------------------

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.decimals(allow_nan=True, allow_infinity=True)
    | st.floats()
    | st.text(max_size=8)
)
json_like = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=25,
)
ids = st.sampled_from(["v1", "v2", "", "control", "#1"]) | st.none() | json_like
names = st.sampled_from(["A", "Control Group", "control group"]) | st.none() | json_like
counts = (
    st.integers(min_value=-2, max_value=2**63)
    | st.decimals(allow_nan=True, allow_infinity=True)
    | json_like
)
stats = st.dictionaries(
    st.sampled_from(["sent", "revenue", "enrolled", "x", "name", "messages"]),
    counts | json_like,
    max_size=4,
)
entries = st.one_of(
    json_like,
    st.fixed_dictionaries(
        {},
        optional={
            "variation_api_id": ids,
            "variation_name": names,
            "sent": counts,
            "revenue": counts,
            "extra": json_like,
        },
    ),
)
messages = st.one_of(
    json_like,
    st.dictionaries(
        st.sampled_from(["email", "sms", "", "ios_push"]),
        st.none() | st.lists(entries, max_size=4) | json_like,
        max_size=4,
    ),
)
campaign_days_st = st.one_of(
    json_like,
    st.fixed_dictionaries(
        {},
        optional={
            "time": json_like,
            "conversions": counts,
            "revenue": counts,
            "messages": messages,
            "foo": json_like,
        },
    ),
)
step = st.one_of(
    json_like,
    st.fixed_dictionaries(
        {}, optional={"name": names, "revenue": counts, "messages": messages, "y": json_like}
    ),
)
canvas_days_st = st.one_of(
    json_like,
    st.fixed_dictionaries(
        {},
        optional={
            "time": json_like,
            "total_stats": st.one_of(json_like, stats),
            "variant_stats": st.one_of(
                json_like,
                st.dictionaries(
                    ids.filter(lambda i: isinstance(i, str)) | st.text(max_size=3),
                    st.one_of(json_like, stats),
                    max_size=3,
                ),
            ),
            "step_stats": st.one_of(
                json_like, st.dictionaries(st.text(max_size=3), step, max_size=3)
            ),
        },
    ),
)


def survives(parse: Any, day: object) -> None:
    """`parse(day)` returns well-formed leaves or raises NestedError, nothing else."""
    try:
        leaves = parse(day)
    except NestedError as exc:
        text = str(exc)
        assert text.startswith("day") and text.isprintable() and len(text) < 300
        return
    assert_well_formed(leaves)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(day=campaign_days_st)
def test_hostile_campaign_days_raise_only_nested_error(day: object) -> None:
    """Arbitrary JSON-like input, near-valid or not: leaves or NestedError, never another error."""
    survives(campaign_day, day)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(day=canvas_days_st)
def test_hostile_canvas_days_raise_only_nested_error(day: object) -> None:
    """Arbitrary JSON-like input, near-valid or not: leaves or NestedError, never another error."""
    survives(canvas_day, day)


@settings(max_examples=200, deadline=None)
@given(data=json_like | st.fixed_dictionaries({"stats": json_like}))
def test_hostile_canvas_data_raises_only_nested_error(data: object) -> None:
    """canvas_days returns a list or raises NestedError."""
    try:
        assert isinstance(canvas_days(data), list)
    except NestedError as exc:
        assert str(exc).startswith("data")


def paths(obj: object, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value inside `obj`."""
    found = [prefix]
    if isinstance(obj, dict):
        for key, value in obj.items():
            found += paths(value, (*prefix, key))
    elif isinstance(obj, list):
        for i, value in enumerate(obj):
            found += paths(value, (*prefix, i))
    return found


def replaced(day: object, path: tuple[Any, ...], value: object) -> object:
    """A copy of `day` with the value at `path` replaced."""
    if not path:
        return value
    clone: Any = _copy(day)
    node = clone
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return clone


def _copy(obj: object) -> object:
    if isinstance(obj, dict):
        return {k: _copy(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_copy(v) for v in obj]
    return obj


@settings(max_examples=400, deadline=None)
@given(data=st.data(), value=json_like, kind=st.sampled_from(["campaign", "canvas"]))
def test_a_simulator_day_with_one_value_replaced_raises_only_nested_error(
    data: st.DataObject, value: object, kind: str
) -> None:
    """Corrupting any one place of a real day gives leaves or NestedError, never another error."""
    days, parse = (
        (campaign_sim_days(), campaign_day)
        if kind == "campaign"
        else (canvas_sim_days(), canvas_day)
    )
    day = data.draw(st.sampled_from(days[-20:]))
    path = data.draw(st.sampled_from(paths(day)))
    survives(parse, replaced(day, path, value))


@settings(max_examples=200, deadline=None)
@given(
    day=st.recursive(
        st.none()
        | st.text(max_size=3)
        | st.integers(min_value=0, max_value=2**63 - 1)
        | st.decimals(min_value=0, max_value=2**63 - 1, allow_nan=False, allow_infinity=False),
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(st.text(alphabet="ab", min_size=1, max_size=2), inner, max_size=3)
        ),
        max_leaves=20,
    ).filter(lambda v: isinstance(v, dict))
)
def test_valid_unknown_nesting_keeps_every_number(day: dict[str, Any]) -> None:
    """Numbers nested any way under unknown fields all come out, unless two share a dotted name."""
    day.pop("messages", None)
    day.pop("time", None)
    try:
        leaves = campaign_day(day)
    except NestedError as exc:
        assert "nested deeper than" in str(exc)
        return
    assert Counter(map(exact, numbers(day))) == Counter(exact(v) for _, _, v in leaves.points)


def exact(value: Value) -> str:
    """A value's digits, a negative zero read as zero (copy_abs never rounds)."""
    return str(value.copy_abs() if isinstance(value, Decimal) else value)


def test_a_decimal_leaf_above_2_63_is_refused_as_scalar_revenue_is() -> None:
    """1e400 as a campaign's revenue: NestedError, never a stored point (found by the
    reliability suite; Parquet's decimal128 could not hold it either)."""
    with pytest.raises(NestedError, match="larger than 2"):
        campaign_day({"time": "2024-01-01", "revenue": Decimal("1e400")})
    assert campaign_day({"time": "2024-01-01", "revenue": Decimal(2**63 - 1)}).points
