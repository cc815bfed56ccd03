"""One day of Braze's nested analytics (campaign, send and Canvas stats) as numeric leaves.

Pure: no I/O, no clock. The input is a day object as `json.loads(body, parse_float=Decimal)` gives
it (braze-api.md §10.3); the output is every numeric leaf of that day as `(facet, metric, value)`
with `facet = (step_id, variant_id, channel)`, `""` where a level does not apply, plus the names
the day carries for its variants and steps.

Campaign and send days (`campaign_day`)::

    {time, <totals>, messages: {<channel>: [ {variation_api_id, variation_name, <counts>}, … ]}}

    totals                          → ("", "", "")            metric = field name
    messages[channel][i]            → ("", variation_api_id, channel)

Canvas days (`canvas_day`, one element of `data.stats`, see `canvas_days`)::

    {time, total_stats {…}, variant_stats {<id>: {name, …}}, step_stats {<id>: {name, …, messages}}}

    total_stats                     → ("", "", "")
    variant_stats[id]               → ("", id, "")
    step_stats[id] (its scalars)    → (id, "", "")
    step_stats[id].messages[ch][i]  → (id, <slot>, ch)

Metric names come from the response, never from a fixed list: a field Braze adds (`machine_open`)
is a point like any other. The rules, and the choices the API leaves open:

- A leaf is an `int` (not a bool) or a finite `Decimal`, in 0..2**63-1, kept exactly
  as sent (`0.0` stays `Decimal("0.0")`; a negative zero becomes a positive one).
- `null` anywhere is absence: no point, no name, no error (a control group's counts, an unused
  channel, a channel or map that is not there). An empty array or object is absence too.
- Strings are labels, not leaves: `time`, names and ids are read, any other string field is
  skipped (it stays in the raw object the caller keeps). A string in a field documented as a count
  (`NUMERIC_FIELDS`, e.g. `"sent": "12"`) is an error, not a label.
- Rejected with `NestedError`: negative numbers, NaN and infinities, ints over 2**63-1, bools in
  any field (no stats field is boolean, and `True` would pass for 1), floats (decode with
  `parse_float=Decimal`), non-JSON values, a container of the wrong type (`messages` not an object,
  a channel neither array nor null, an entry or a map value not an object), empty or non-string
  keys and ids, nesting deeper than `MAX_DEPTH`, and two leaves with the same (facet, metric) in
  one day (e.g. one variant id twice in a channel).
- Control group: a campaign entry whose `variation_name` is "Control Group" (any case) is the
  control. It keeps its own `variation_api_id` when it has one (the simulator and the details
  endpoint give it one, e.g. `…-control-email`); without one its variant slot is `CONTROL_ID`
  (`"control"`), one per channel. Every other campaign entry needs a string `variation_api_id`.
- Step messages: Braze documents one object per channel and no id, which lands on
  `(step_id, "", channel)`. When an array holds several objects, an object with a string
  `variation_api_id` uses it as its variant slot; an object without one gets `""` at position 0 and
  `"#<position>"` after (so the first object keeps its facet when a second one appears).
- Nesting the shapes do not describe (an object or array inside a stats object, or an unknown
  top-level field holding one) is flattened, not dropped: the metric is the dotted path from the
  stats object, array elements by position (`foo.bar`, `foo.0.bar`). A dotted name that collides
  with a real field of that name is a duplicate, hence an error.
- Names: `variation_name` of campaign entries and of step-message entries with an id, and the
  `name` of Canvas variants and steps, as `(kind, id, name)` with kind "variant" or "step";
  distinct and sorted. Names and ids must be strings (or null) where present.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

Value = int | Decimal
Facet = tuple[str, str, str]  # (step_id, variant_id, channel); "" where a level does not apply

TOTAL: Final[Facet] = ("", "", "")
MAX_INT: Final = 2**63 - 1
MAX_DEPTH: Final = 16  # levels of nesting below the day object
CONTROL_NAME: Final = "control group"  # compared case-insensitively, spaces trimmed
CONTROL_ID: Final = "control"  # the variant slot of a control group entry without an id
ID_FIELD: Final = "variation_api_id"
NAME_FIELD: Final = "variation_name"
# Fields Braze documents as numbers (§10.3): a string there is an error, not a label. This list
# only validates; it never selects which fields become points.
NUMERIC_FIELDS: Final = frozenset(
    {
        "conversions",
        "conversions1",
        "conversions2",
        "conversions3",
        "conversions_by_send_time",
        "conversions1_by_send_time",
        "conversions2_by_send_time",
        "conversions3_by_send_time",
        "conversions_by_entry_time",
        "unique_recipients",
        "revenue",
        "entries",
        "enrolled",
        "sent",
        "opens",
        "unique_opens",
        "clicks",
        "unique_clicks",
        "unsubscribes",
        "bounces",
        "delivered",
        "reported_spam",
        "direct_opens",
        "total_opens",
        "body_clicks",
        "sent_to_carrier",
        "rejected",
        "delivery_failed",
        "opt_out",
        "help",
    }
)

_Path = tuple[str | int, ...]
_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,39}")
_SHOWN = 40  # characters of a key or value shown in a message


class NestedError(ValueError):
    """A day object that is not the nested shape; the message says what is wrong and where."""

    def __init__(self, problem: str, path: str = "day") -> None:
        super().__init__(f"{path}: {problem}")
        self.problem = problem
        self.path = path


@dataclass(frozen=True)
class DayLeaves:
    """Every numeric leaf of one day, and the names it gives its variants and steps."""

    points: list[tuple[Facet, str, Value]]  # sorted by (facet, metric); each pair once
    names: list[tuple[str, str, str]]  # (kind, id, name), kind "variant" or "step"; sorted


def campaign_day(day: object) -> DayLeaves:
    """The leaves of one `/campaigns/data_series` (or `/sends/data_series`) day object."""
    out = _Leaves()
    root: _Path = ()
    for key, value in _object(day, root).items():
        path = (*root, key)
        if key == "time":
            _label(value, path)
        elif key == "messages":
            _campaign_messages(value, path, out)
        else:
            _flatten(value, TOTAL, key, path, out)
    return out.result()


def canvas_day(day: object) -> DayLeaves:
    """The leaves of one Canvas day, an element of `data.stats` of `/canvas/data_series`."""
    out = _Leaves()
    root: _Path = ()
    for key, value in _object(day, root).items():
        path = (*root, key)
        if key == "time":
            _label(value, path)
        elif key == "total_stats":
            stats = _optional_object(value, path)
            for field, leaf in stats.items():
                _flatten(leaf, TOTAL, field, (*path, field), out)
        elif key == "variant_stats":
            for vid, stats, at in _id_map(value, path):
                out.name("variant", vid, _label(stats.get("name"), (*at, "name")))
                _stats(stats, ("", vid, ""), at, out, skip=("name",))
        elif key == "step_stats":
            for sid, stats, at in _id_map(value, path):
                out.name("step", sid, _label(stats.get("name"), (*at, "name")))
                _stats(stats, (sid, "", ""), at, out, skip=("name", "messages"))
                if "messages" in stats:
                    _step_messages(stats["messages"], sid, (*at, "messages"), out)
        else:
            _flatten(value, TOTAL, key, path, out)
    return out.result()


def canvas_days(data: object) -> list[Any]:
    """The day objects of a Canvas body's `data`: it must be an object with a `stats` array."""
    if not isinstance(data, dict):
        raise NestedError(f"expected an object with a stats array, got {_kind(data)}", "data")
    stats = data.get("stats")
    if not isinstance(stats, list):
        raise NestedError(f"expected an array of day objects, got {_kind(stats)}", "data.stats")
    return stats


class _Leaves:
    """The points and names of one day as they are found, refusing a (facet, metric) twice."""

    def __init__(self) -> None:
        self._points: dict[tuple[Facet, str], Value] = {}
        self._where: dict[tuple[Facet, str], _Path] = {}
        self._names: set[tuple[str, str, str]] = set()

    def point(self, facet: Facet, metric: str, value: Value, path: _Path) -> None:
        key = (facet, metric)
        if key in self._points:
            raise NestedError(
                f"metric {_show(metric)} of {_facet(facet)} appears twice,"
                f" also at {_text(self._where[key])}",
                _text(path),
            )
        self._points[key] = value
        self._where[key] = path

    def name(self, kind: str, ident: str, name: str | None) -> None:
        if name is not None:
            self._names.add((kind, ident, name))

    def result(self) -> DayLeaves:
        points = [(facet, metric, value) for (facet, metric), value in self._points.items()]
        points.sort(key=lambda p: (p[0], p[1]))
        return DayLeaves(points, sorted(self._names))


def _campaign_messages(value: object, path: _Path, out: _Leaves) -> None:
    """`messages {channel: [entry, …] | null}`: each entry's leaves under its variant and channel."""
    for channel, entries, at in _channels(value, path):
        for i, entry in enumerate(entries):
            where = (*at, i)
            if entry is None:
                continue
            fields = _object(entry, where)
            name = _label(fields.get(NAME_FIELD), (*where, NAME_FIELD))
            vid = _campaign_variant(fields, name, where)
            out.name("variant", vid, name)
            _stats(fields, ("", vid, channel), where, out, skip=(ID_FIELD, NAME_FIELD))


def _campaign_variant(entry: dict[str, Any], name: str | None, path: _Path) -> str:
    """The variant slot of a campaign entry: its id; `CONTROL_ID` for an id-less control group."""
    ident = _optional_id(entry.get(ID_FIELD), (*path, ID_FIELD))
    if ident is not None:
        return ident
    if name is not None and name.strip().casefold() == CONTROL_NAME:
        return CONTROL_ID
    raise NestedError(
        f"a variant entry needs a string {ID_FIELD} (only a Control Group may lack one)",
        _text(path),
    )


def _step_messages(value: object, step_id: str, path: _Path, out: _Leaves) -> None:
    """A step's `messages {channel: [counts, …] | null}` under (step_id, slot, channel)."""
    for channel, entries, at in _channels(value, path):
        for i, entry in enumerate(entries):
            where = (*at, i)
            if entry is None:
                continue
            fields = _object(entry, where)
            ident = _optional_id(fields.get(ID_FIELD), (*where, ID_FIELD))
            name = _label(fields.get(NAME_FIELD), (*where, NAME_FIELD))
            if ident is not None:
                out.name("variant", ident, name)
                slot = ident
            else:
                slot = "" if i == 0 else f"#{i}"
            _stats(fields, (step_id, slot, channel), where, out, skip=(ID_FIELD, NAME_FIELD))


def _channels(value: object, path: _Path) -> list[tuple[str, list[Any], _Path]]:
    """The (channel, entries, path) of a `messages` object; null channels and messages are none."""
    found = []
    for channel, entries in _optional_object(value, path).items():
        at = (*path, channel)
        if entries is None:
            continue
        if not isinstance(entries, list):
            raise NestedError(
                f"a channel must be an array or null, got {_kind(entries)}", _text(at)
            )
        found.append((channel, entries, at))
    return found


def _id_map(value: object, path: _Path) -> list[tuple[str, dict[str, Any], _Path]]:
    """The (id, stats, path) of a map keyed by API id (`variant_stats`, `step_stats`)."""
    found = []
    for ident, stats in _optional_object(value, path).items():
        at = (*path, ident)
        if stats is not None:
            found.append((ident, _object(stats, at), at))
    return found


def _stats(
    fields: dict[str, Any], facet: Facet, path: _Path, out: _Leaves, *, skip: tuple[str, ...]
) -> None:
    """Every field of a stats object but `skip`, as leaves of `facet`."""
    for field, value in fields.items():
        if field not in skip:
            _flatten(value, facet, field, (*path, field), out)


def _flatten(value: object, facet: Facet, metric: str, path: _Path, out: _Leaves) -> None:
    """`value` found at `metric` of `facet`: a leaf, nothing (null, label) or nested leaves."""
    if len(path) > MAX_DEPTH:
        raise NestedError(f"nested deeper than {MAX_DEPTH} levels", _text(path[:MAX_DEPTH]))
    if value is None:
        return
    if isinstance(value, str):
        if "." not in metric and metric in NUMERIC_FIELDS:
            raise NestedError(f"expected a number, got the string {_show(value)}", _text(path))
        return
    if isinstance(value, dict):
        for key, inner in _object(value, path).items():
            _flatten(inner, facet, f"{metric}.{key}", (*path, key), out)
    elif isinstance(value, list):
        for i, inner in enumerate(value):
            _flatten(inner, facet, f"{metric}.{i}", (*path, i), out)
    else:
        out.point(facet, metric, _number(value, path), path)


def _number(value: object, path: _Path) -> Value:
    """`value` as a leaf, or NestedError saying why it cannot be one."""
    if isinstance(value, bool):
        raise NestedError(f"expected a number, got {_kind(value)}", _text(path))
    if isinstance(value, int):
        if value < 0:
            raise NestedError(_negative(value), _text(path))
        if value > MAX_INT:
            raise NestedError("integer larger than 2**63-1", _text(path))
        return value
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise NestedError(f"expected a finite number, got {_show(value)}", _text(path))
        if value < 0:
            raise NestedError(_negative(value), _text(path))
        if value > MAX_INT:  # as scalar revenue: no store or export column holds more
            raise NestedError("number larger than 2**63-1", _text(path))
        return value.copy_abs() if value.is_signed() else value
    if isinstance(value, float):
        raise NestedError("a float: decode bodies with parse_float=Decimal", _text(path))
    raise NestedError(f"expected a number, got {_kind(value)}", _text(path))


def _object(value: object, path: _Path) -> dict[str, Any]:
    """An object whose keys (field names, channels, ids) are all non-empty strings."""
    if not isinstance(value, dict):
        raise NestedError(f"expected an object, got {_kind(value)}", _text(path))
    for key in value:
        if not isinstance(key, str) or not key:
            raise NestedError(f"a key must be a non-empty string, got {_kind(key)}", _text(path))
    return value


def _optional_object(value: object, path: _Path) -> dict[str, Any]:
    """An object, or `{}` for null."""
    return {} if value is None else _object(value, path)


def _label(value: object, path: _Path) -> str | None:
    """A string field (time, a name), or None when null or absent."""
    if value is not None and not isinstance(value, str):
        raise NestedError(f"expected a string or null, got {_kind(value)}", _text(path))
    return value


def _optional_id(value: object, path: _Path) -> str | None:
    """A non-empty string id, or None when null or absent."""
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise NestedError(f"expected a non-empty string id, got {_kind(value)}", _text(path))
    return value


def _negative(value: Value) -> str:
    return f"negative number {_show(value)}: counts and revenue are never below zero"


def _kind(value: object) -> str:
    """A short, printable description of `value` for a message."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, str):
        return "an empty string" if not value else f"the string {_show(value)}"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, Decimal):
        return f"the number {_show(value)}"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return f"a {type(value).__name__}"


def _show(value: object) -> str:
    """`value` as short printable text: JSON-quoted strings, numbers as digits, cut at 40."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_INT:
        return "a huge integer"  # str() of a very long int raises ValueError
    text = json.dumps(value) if isinstance(value, str) else str(value)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"


def _facet(facet: Facet) -> str:
    step, variant, channel = facet
    parts = [
        f"{n} {_show(v)}"
        for n, v in (("step", step), ("variant", variant), ("channel", channel))
        if v
    ]
    return ", ".join(parts) if parts else "the totals"


def _text(path: _Path) -> str:
    """`path` as `day.messages.email[0].sent`; odd keys JSON-quoted in brackets, cut at 40."""
    text = "day"
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif isinstance(part, str) and _PLAIN_KEY.fullmatch(part):
            text += f".{part}"
        else:
            text += f"[{_show(part) if isinstance(part, str) else '?'}]"
    return text
