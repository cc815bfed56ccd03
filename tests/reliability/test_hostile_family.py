"""Hostile bodies for every stream of the family: wrong types at every level of the nested
campaign and Canvas shapes, missing and extra channels, NaN/Infinity/exponent revenue, negative or
huge counts, duplicate times, times outside the window, non-JSON, a 200 whose `message` is an
error. Each body is either stored correctly or rejected as a PayloadError naming its window
(which the scheduler retries, then reports); nothing else escapes and nothing wrong is stored.

The property drives the pure path a body takes (`parse_body`, then the `Aligner`, as the
scheduler does) with honest bodies built from the simulator's own days, mutated at a random node
of their tree; the end-to-end test puts a rewriting proxy between the real collector and the
simulator so hostile nested bodies arrive over a socket in the middle of a run.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collector.core.alignment import Aligner, Reading
from collector.core.models import Series, Window
from collector.core.streams import STREAMS
from collector.core.units import Calendar, Unit
from collector.errors import PayloadError
from collector.observe.events import WindowFailed
from collector.response import MAX_VALUE, facet_text, parse_body
from collector.simulator import Simulator, run_simulator

from .family import NOW, FrozenClock, contents, job_flags, run_job, sim_config

EXAMPLES = 60  # per stream
PROPERTY = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
CAL = Calendar("UTC")
DAYS = 10  # per honest body
FIRST = CAL.from_key(Unit.DAY, "2024-05-01")
SCALAR = ("sessions", "dau", "events", "purchase_quantity", "purchase_revenue", "segment_size")
NESTED = ("campaign_stats", "canvas_stats", "send_stats")


@dataclass(frozen=True)
class Raw:
    """A number spelled exactly as given in the body (NaN, 1e400, 12.0, -0)."""

    text: str


HOSTILE_LEAVES: list[Any] = [
    None,
    True,
    False,
    "12",
    "",
    "NaN",
    -1,
    2**63,
    2**64 + 7,
    [],
    {},
    [1, 2],
    {"x": 1},
    {"x": {"y": [1, {"z": 2}]}},
    Raw("NaN"),
    Raw("Infinity"),
    Raw("-Infinity"),
    Raw("1e400"),
    Raw("1E5"),
    Raw("12.0"),
    Raw("-1e-3"),
    Raw("-0"),
    Raw("0.000000000000000000001"),
    Raw("9223372036854775808"),
    Raw("1" + "0" * 400),
]
BAD_TIMES = ["2024-13-01", "yesterday", "", "2024-05-01T12:00:00Z", "0001-01-01T00:00:00+05:00"]


def honest_days(stream: str) -> list[dict[str, Any]]:
    """DAYS consecutive day objects as the simulator serves them (scalar: {time, metric})."""
    spec = STREAMS[stream]
    sim = Simulator(sim_config(), FrozenClock(NOW))  # type: ignore[arg-type]
    start = CAL.start(Unit.DAY, FIRST)
    end = CAL.start(Unit.DAY, FIRST + DAYS)
    if stream in NESTED:
        ids = {
            "campaign_stats": {"campaign_id": "cmp-welcome"},
            "canvas_stats": {"canvas_id": "cnv-onboarding"},
            "send_stats": {"campaign_id": "cmp-receipts", "send_id": "send-0001"},
        }[stream]
        days = sim.truth_days(spec.path, start, end, **ids)
        assert len(days) == DAYS, (stream, len(days))
        return days
    filters: dict[str, Any] = {}
    if stream == "segment_size":
        filters["segment_id"] = "vip"
    if stream == "events":
        filters["event"] = sim.config.workspaces[0].events[0]
    out = []
    for when, value in sim.truth("day", start, end, path=spec.path, **filters):  # type: ignore[call-overload]
        out.append({"time": CAL.key(Unit.DAY, CAL.ordinal(Unit.DAY, when)), spec.metric: value})
    assert len(out) == DAYS
    return out


HONEST = {name: honest_days(name) for name in (*SCALAR, *NESTED)}


def encode(doc: Any) -> bytes:
    """JSON text of `doc`, with each Raw number spelled as given and Decimals as their digits."""
    raws: list[str] = []

    def default(o: object) -> object:
        if isinstance(o, Raw | Decimal):
            raws.append(o.text if isinstance(o, Raw) else str(o))
            return f"\x00RAW{len(raws) - 1}\x00"
        raise TypeError(type(o).__name__)

    text = json.dumps(doc, default=default, ensure_ascii=False)
    for i, raw in enumerate(raws):
        text = text.replace(f'"\\u0000RAW{i}\\u0000"', raw)
    return text.encode()


def wrap(stream: str, days: list[Any]) -> dict[str, Any]:
    if STREAMS[stream].shape == "canvas":
        return {"data": {"name": "x", "stats": days}, "message": "success"}
    return {"data": days, "message": "success"}


Path_ = tuple[str | int, ...]


def nodes(value: Any, path: Path_ = ()) -> list[Path_]:
    """Every path into `value` (containers and leaves)."""
    out = [path]
    if isinstance(value, dict):
        for k, v in value.items():
            out += nodes(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += nodes(v, (*path, i))
    return out


def parent(doc: Any, path: Path_) -> Any:
    for part in path[:-1]:
        doc = doc[part]
    return doc


MUTATIONS = (
    "honest",
    "replace a node",
    "delete a key",
    "add a field",
    "add a channel",
    "duplicate a day",
    "swap two days",
    "time outside the window",
    "unreadable time",
    "message not success",
    "not JSON",
    "truncated",
)


@st.composite
def bodies(draw: st.DrawFn, stream: str) -> tuple[str, bytes]:
    days = json.loads(encode(HONEST[stream]), parse_float=Decimal)
    doc = wrap(stream, days)
    kind = draw(st.sampled_from(MUTATIONS))
    day_list = doc["data"]["stats"] if STREAMS[stream].shape == "canvas" else doc["data"]
    if kind == "replace a node":
        path = draw(st.sampled_from(nodes(doc)[1:]))
        parent(doc, path)[path[-1]] = draw(st.sampled_from(HOSTILE_LEAVES))
    elif kind == "delete a key":
        keyed = [p for p in nodes(doc)[1:] if isinstance(p[-1], str)]
        path = draw(st.sampled_from(keyed))
        del parent(doc, path)[path[-1]]
    elif kind == "add a field":
        objects = [p for p in nodes(doc) if isinstance(_at(doc, p), dict)]
        target = _at(doc, draw(st.sampled_from(objects)))
        name = draw(st.sampled_from(["machine_open", "sent", "time", "", "é\x00", "a.b"]))
        target[name] = draw(st.sampled_from([3, Raw("1.5"), None, "label", Raw("NaN"), -2]))
    elif kind == "add a channel":
        holders = [p for p in nodes(doc) if p and p[-1] == "messages"]
        if holders:
            target = _at(doc, draw(st.sampled_from(holders)))
            if isinstance(target, dict):
                target[draw(st.sampled_from(["carrier_pigeon", "email", ""]))] = draw(
                    st.sampled_from(
                        [
                            [{"variation_api_id": "v-new", "sent": 4}],
                            [{"sent": 1}],
                            "email",
                            None,
                            [],
                            [None],
                            [{"variation_api_id": 7, "sent": 1}],
                        ]
                    )
                )
    elif kind == "duplicate a day":
        i = draw(st.integers(0, len(day_list) - 1))
        day_list.insert(i, json.loads(encode(day_list[i]), parse_float=Decimal))
    elif kind == "swap two days":
        i = draw(st.integers(0, len(day_list) - 2))
        day_list[i], day_list[i + 1] = day_list[i + 1], day_list[i]
    elif kind == "time outside the window":
        shift = draw(st.sampled_from([-400, -DAYS, -1, 1, DAYS, 5000]))
        for j, day in enumerate(day_list):
            day["time"] = CAL.key(Unit.DAY, FIRST + shift + j)
    elif kind == "unreadable time":
        i = draw(st.integers(0, len(day_list) - 1))
        day_list[i]["time"] = draw(st.sampled_from(BAD_TIMES))
    elif kind == "message not success":
        doc["message"] = draw(st.sampled_from(["error", "Success", None, 1, "rate limited"]))
    body = encode(doc)
    if kind == "not JSON":
        body = draw(st.sampled_from([b"", b"<html>502</html>", b"\xff\xfe", b"NaN", b"[1,"]))
    elif kind == "truncated":
        body = body[: draw(st.integers(0, len(body) - 1))]
    return kind, body


def _at(doc: Any, path: Path_) -> Any:
    for part in path:
        doc = doc[part]
    return doc


def window(stream: str) -> Window:
    series = Series(STREAMS[stream], ("x",) * len(STREAMS[stream].dimensions), Unit.DAY, CAL)
    return Window(series, FIRST, FIRST + DAYS, FIRST - 30, FIRST + DAYS + 30)


def judge(stream: str, body: bytes) -> str:
    """'accepted' (and then every invariant of what would be stored holds) or 'rejected'."""
    w = window(stream)
    aligner = Aligner(Reading.EXCLUSIVE)
    request = aligner.request_for(w)
    try:
        parsed = parse_body(w, body)
        lo, hi = aligner.covered(w, request, parsed.buckets)
    except PayloadError as exc:
        text = str(exc)
        assert exc.window is w
        assert text.startswith(w.describe()) and "\n" not in text and len(text) < 600, text
        return "rejected"
    keys = Counter((p.ordinal, p.facet, p.metric) for p in parsed.points)
    assert all(n == 1 for n in keys.values()), "a leaf twice"
    for p in parsed.points:
        v = p.value
        assert not isinstance(v, bool) and isinstance(v, int | Decimal)
        assert v >= 0 and (not isinstance(v, Decimal) or v.is_finite())
        assert v <= MAX_VALUE, (p.metric, v)
        assert isinstance(p.metric, str) and p.metric
        assert w.range_lo <= p.ordinal < w.range_hi or not (lo <= p.ordinal < hi)
    assert w.range_lo <= lo <= hi <= w.range_hi
    ordinals = sorted({p.ordinal for p in parsed.buckets})
    assert ordinals == list(range(ordinals[0], ordinals[0] + len(ordinals))) if ordinals else True
    if STREAMS[stream].nested:
        for p in parsed.points:  # a facet is a (step, variant, channel) of strings, or ""
            facet = tuple(json.loads(p.facet)) if p.facet else ("", "", "")
            assert len(facet) == 3 and all(isinstance(x, str) for x in facet)
            assert facet_text(facet) == p.facet  # type: ignore[arg-type]
    else:
        assert all(p.metric == STREAMS[stream].metric and p.facet == "" for p in parsed.points)
    return "accepted"


@pytest.mark.parametrize("stream", [*SCALAR, *NESTED])
def test_hostile_bodies_for_every_stream(reliability, stream):
    """Generated hostile bodies of one stream: stored exactly as valid, or a one-line PayloadError."""
    seen: Counter[tuple[str, str]] = Counter()
    assert judge(stream, encode(wrap(stream, HONEST[stream]))) == "accepted"

    @PROPERTY
    @given(case=bodies(stream))
    def prop(case: tuple[str, bytes]) -> None:
        kind, body = case
        verdict = judge(stream, body)
        if kind == "honest":
            assert verdict == "accepted"
        if kind in ("not JSON", "truncated", "message not success", "duplicate a day"):
            assert verdict == "rejected", kind
        seen[(kind, verdict)] += 1

    prop()
    accepted = sum(n for (_, v), n in seen.items() if v == "accepted")
    rejected = sum(n for (_, v), n in seen.items() if v == "rejected")
    assert rejected > 0
    reliability(
        section="hostile",
        scenario=f"hostile {stream} bodies (hypothesis over parse_body + Aligner)",
        parameters=f"{len({k for k, _ in seen})} kinds of mutation of a {DAYS}-day body built "
        "from the simulator's days: a node anywhere replaced by a wrong type, NaN, ±Infinity, "
        "1e400, exponent, -0, negative, 2**63+, nested junk; a key deleted; a field or channel "
        "added; a day duplicated or swapped; times outside the window or unreadable; message "
        "≠ success; not JSON; truncated",
        runs=f"{sum(seen.values())} examples",
        checked=f"{accepted} accepted (every leaf an int in 0..2**63-1 or a finite non-negative "
        f"decimal, each (day, facet, metric) once, coverage inside the range); {rejected} "
        "rejected as a one-line PayloadError naming the window; nothing else raised",
    )


# --- end to end: hostile nested bodies mid-run -------------------------------------------------

Rewrite = Callable[[dict[str, Any]], bytes]
VICTIM = "cmp-welcome"


def _first_day(change: Callable[[dict[str, Any]], None]) -> Rewrite:
    def rewrite(doc: dict[str, Any]) -> bytes:
        if doc.get("data"):
            change(doc["data"][-1])
        return encode(doc)

    return rewrite


def _set(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(day: dict[str, Any]) -> None:
        day[key] = value

    return change


def _channel_as_string(day: dict[str, Any]) -> None:
    day["messages"] = {**(day.get("messages") or {}), "email": "email"}


E2E: dict[str, tuple[Rewrite, str]] = {
    "NaN revenue": (_first_day(_set("revenue", Raw("NaN"))), "not valid JSON"),
    "Infinity conversions": (_first_day(_set("conversions", Raw("Infinity"))), "not valid JSON"),
    "negative count": (_first_day(_set("unique_recipients", -3)), "negative number"),
    "a channel that is a string": (_first_day(_channel_as_string), "array or null"),
    "a count as a string": (_first_day(_set("sent", "12")), "expected a number"),
    "message 'error'": (lambda doc: encode({**doc, "message": "error"}), "not 'success'"),
}


@asynccontextmanager
async def rewriting_proxy(upstream: str, rewrite: Rewrite) -> AsyncIterator[str]:
    """Forward to `upstream`; rewrite the 200 data_series bodies of VICTIM."""
    async with aiohttp.ClientSession() as session:

        async def handle(request: web.Request) -> web.Response:
            headers = {"Authorization": request.headers.get("Authorization", "")}
            async with session.get(upstream + request.path_qs, headers=headers) as up:
                body = await up.read()
                keep = {k: v for k, v in up.headers.items() if k.lower().startswith("x-")}
                status = up.status
            if (
                status == 200
                and request.path.endswith("/data_series")
                and request.query.get("campaign_id") == VICTIM
            ):
                body = rewrite(json.loads(body, parse_float=Decimal))
            return web.Response(
                status=status, body=body, headers=keep, content_type="application/json"
            )

        runner = web.AppRunner(web.Application())
        runner.app.router.add_get("/{tail:.*}", handle)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        try:
            yield f"http://127.0.0.1:{runner.addresses[0][1]}"
        finally:
            await runner.cleanup()


@dataclass(frozen=True)
class Upstream:
    url: str


@pytest.mark.parametrize("name", list(E2E), ids=lambda n: n.replace(" ", "-").replace("'", ""))
async def test_hostile_campaign_bodies_mid_run_fail_only_their_windows(tmp_path, reliability, name):
    """A campaign answered with hostile days: its windows fail, reported; none stored; rest exact."""
    rewrite, expected = E2E[name]
    flags = job_flags("campaign_stats", start="2024-01-01", max_retries=2)
    clock = FrozenClock(NOW)
    async with run_simulator(sim_config(), clock=clock) as sim:  # type: ignore[arg-type]
        ref = tmp_path / "ref.db"
        assert (await run_job(sim, clock, ref, **flags)).complete
        db = tmp_path / "c.db"
        events: list[Any] = []
        async with rewriting_proxy(sim.url, rewrite) as url:
            report = await run_job(Upstream(url), clock, db, observers=[events.append], **flags)
    failures = [e for e in events if isinstance(e, WindowFailed)]
    assert not report.complete and report.fatal is None  # the CLI's exit 1
    assert failures and all(f.window.series.dims == (VICTIM,) for f in failures)
    assert all(expected in f.message and "\n" not in f.message for f in failures), [
        f.message for f in failures
    ]
    got, want = contents(db, ["campaign_stats"]), contents(ref, ["campaign_stats"])
    assert got.duplicates == 0
    assert not [k for k in got.points if k[1] == (VICTIM,)]
    assert not [k for k in got.raw if k[1] == (VICTIM,)]
    assert got.points == {k: v for k, v in want.points.items() if k[1] != (VICTIM,)}
    reliability(
        section="hostile",
        scenario=f"end to end, campaign_stats: {name}",
        parameters=f"a proxy rewrites every 200 /campaigns/data_series body of {VICTIM} "
        "(campaign_stats '*' from 2024-01-01, --max-retries 2)",
        runs=1,
        requests=report.requests,
        retries=sum(report.retries.values()),
        checked=f"{len(failures)} window(s) of {VICTIM} failed, each reported in one line "
        f"('{expected}'); nothing of {VICTIM} stored; the other campaigns equal a clean run's "
        f"({len(got.points)} points); run incomplete (exit 1); crashes 0",
    )


def test_honest_bodies_built_here_are_what_the_simulator_serves():
    """The property's honest bodies come from the simulator's own days (sanity of the oracle)."""
    assert datetime(2024, 5, 1, tzinfo=UTC) == CAL.start(Unit.DAY, FIRST)
    for stream in (*SCALAR, *NESTED):
        assert judge(stream, encode(wrap(stream, HONEST[stream]))) == "accepted"


@pytest.mark.parametrize("stream", NESTED)
@pytest.mark.parametrize("number", ["1e400"])
def test_a_nested_decimal_above_2_63_is_a_payload_error(stream, number):
    """A nested leaf like 1e400 is refused as scalar revenue is, never stored (nor exported)."""
    days = json.loads(encode(HONEST[stream]), parse_float=Decimal)
    day = days[0]
    stats = day["total_stats"] if stream == "canvas_stats" else day
    stats["revenue"] = Raw(number)
    with pytest.raises(PayloadError, match="larger than 2"):
        parse_body(window(stream), encode(wrap(stream, days)))
