"""Hostile response bodies: wrong types, missing fields, negative or huge counts, extra, missing,
duplicate or shifted buckets, a `message` other than `success`, non-JSON. Each is either handled
correctly or rejected for its window with a clear report; nothing wrong is ever stored.

The property tests drive the pure path a response takes (`parse_body`, then the `Aligner`) with
generated bodies; the end-to-end tests put a small rewriting proxy between the real collector and
the simulator, so hostile bodies arrive over a socket in the middle of a run.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collector.clock import VirtualClock
from collector.core.alignment import Aligner, Reading, Request
from collector.core.models import Point, Series, Window
from collector.core.streams import SESSIONS
from collector.core.units import Calendar, Unit, utc_z
from collector.errors import PayloadError
from collector.observe.events import WindowFailed
from collector.response import MAX_VALUE, parse_body
from collector.simulator import run_simulator
from tests.integration.harness import NOW, sessions_key, stored, truth

from .support import observed_run, simulator_config

EXAMPLES = 25  # per kind of body
PROPERTY = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize=True,  # the same examples every run: CI never flakes on a new draw
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
ZONES = ("UTC", "America/New_York", "Asia/Kolkata")
HOUR_FORMS = ("z", "offset", "fractional", "naive")
DAY0 = Calendar("UTC").from_key(Unit.DAY, "2023-01-01")
HOUR0 = Calendar("UTC").ordinal(Unit.HOUR, datetime(2023, 1, 1, tzinfo=UTC))


# --- generating a response and what it should lead to -----------------------------------------


@dataclass
class Case:
    """A window, what the collector asked, how the server reads ending_at, and a body."""

    window: Window
    state: Reading  # the aligner's knowledge when the request was made
    request: Request
    server: Reading
    honest: list[Point]  # what an honest server answers
    body: bytes
    mutation: str
    verdict: str  # "accept", "reject" or "either"
    entries: list[tuple[int, int]] | None  # the (ordinal, value) pairs the body carries, if sound


def time_text(cal: Calendar, unit: Unit, ordinal: int, form: str) -> str:
    if unit is Unit.DAY:
        return cal.key(unit, ordinal)
    start = cal.start(unit, ordinal)
    local = start.astimezone(cal.zone)
    if form == "z":
        return utc_z(start)
    if form == "offset":
        return local.isoformat()
    if form == "fractional":
        return local.isoformat(timespec="milliseconds")
    return local.replace(tzinfo=None).isoformat()


def entry(cal: Calendar, unit: Unit, ordinal: int, value: Any, form: str) -> dict[str, Any]:
    return {"time": time_text(cal, unit, ordinal, form), "sessions": value}


def implied(request: Request, last: int) -> Reading | None:
    shift = last - (request.end - 1)
    return {0: Reading.EXCLUSIVE, 1: Reading.INCLUSIVE}.get(shift)


def fits(state: Reading, request: Request, ordinals: list[int]) -> bool:
    """Would a sound, contiguous run of `ordinals` be accepted for `request`?"""
    if not ordinals:
        return True
    reading = implied(request, ordinals[-1])
    if reading is None or len(ordinals) > request.length:
        return False
    return state is Reading.UNKNOWN or reading is state


NOT_INTS = [
    "12",
    12.0,
    1.5,
    None,
    True,
    False,
    [],
    [3],
    {"n": 3},
    float("nan"),
    float("inf"),
    "",
]
BAD_TIMES = [
    "",
    "yesterday",
    "2024-13-01",
    "2024-02-30",
    "24-03-01",
    "2024-03-01T25:00:00Z",
    "2024-03-01T10:00:00+25:00",
    "2024/03/01",
    "2024-03-01T10:00:00 01:00",
    "null",
]
MESSAGES = [None, "error", "Success", "success ", "", 1, True, ["success"], {"m": "success"}]


KINDS = (
    "none",
    "extra fields",
    "value not an integer",
    "negative value",
    "huge value",
    "missing time",
    "missing value",
    "time not a string",
    "unreadable time",
    "time not on a bucket start",
    "duplicate bucket",
    "buckets out of order",
    "bucket missing inside",
    "extra bucket after",
    "extra bucket before",
    "leading buckets missing",
    "last bucket missing",
    "times shifted",
    "no buckets",
    "message not success",
    "data not a list",
    "not a JSON object",
    "truncated JSON",
    "not JSON",
)


@st.composite
def cases(draw: st.DrawFn, kind: str) -> Case:
    unit = draw(st.sampled_from([Unit.DAY, Unit.HOUR]))
    cal = Calendar(draw(st.sampled_from(ZONES)))
    series = Series(SESSIONS, ("", ""), unit, cal)
    form = draw(st.sampled_from(HOUR_FORMS))
    base = DAY0 if unit is Unit.DAY else HOUR0
    lo = base + draw(st.integers(0, 24 * 400))
    units = draw(st.integers(1, 100))
    range_lo = lo - draw(st.integers(0, 300))
    range_hi = lo + units + draw(st.integers(0, 300))
    window = Window(series, lo, lo + units, range_lo, range_hi)
    state = draw(st.sampled_from(list(Reading)))
    request = Aligner(state).request_for(window)
    server = draw(st.sampled_from([Reading.EXCLUSIVE, Reading.INCLUSIVE]))
    first = request.end - request.length + (1 if server is Reading.INCLUSIVE else 0)
    values = draw(
        st.lists(
            st.integers(0, 10**9) | st.just(MAX_VALUE),
            min_size=request.length,
            max_size=request.length,
        )
    )
    honest = [Point(first + i, v) for i, v in enumerate(values)]
    pairs = [(p.ordinal, p.value) for p in honest]
    doc: Any = {"data": [entry(cal, unit, o, v, form) for o, v in pairs], "message": "success"}
    n = len(pairs)
    i = draw(st.integers(0, n - 1))
    data = doc["data"]
    verdict, sound = "reject", None
    body: bytes | None = None
    if kind == "none":
        sound = pairs
    elif kind == "extra fields":
        data[i]["unique_users"] = 3
        doc["errors"] = []
        doc["note"] = {"nested": [1, 2]}
        sound = pairs
    elif kind == "value not an integer":
        data[i]["sessions"] = draw(st.sampled_from(NOT_INTS))
    elif kind == "negative value":
        data[i]["sessions"] = -draw(st.integers(1, 10**12))
    elif kind == "huge value":
        data[i]["sessions"] = MAX_VALUE + draw(st.integers(1, 10**30))
    elif kind == "missing time":
        del data[i]["time"]
    elif kind == "missing value":
        del data[i]["sessions"]
    elif kind == "time not a string":
        data[i]["time"] = draw(st.sampled_from([None, 20240301, 1.5, [], {"t": 1}, True]))
    elif kind == "unreadable time":
        data[i]["time"] = draw(st.sampled_from(BAD_TIMES))
    elif kind == "time not on a bucket start":
        start = cal.start(unit, pairs[i][0])
        off = timedelta(minutes=30) if unit is Unit.HOUR else timedelta(hours=12)
        data[i]["time"] = utc_z(start + off)
    elif kind == "duplicate bucket":
        data.insert(i, dict(data[i]))
    elif kind == "buckets out of order":
        if n < 2:
            data.append(dict(data[0]))
        else:
            j = min(i, n - 2)
            data[j], data[j + 1] = data[j + 1], data[j]
    elif kind == "bucket missing inside":
        if n < 3:
            data.insert(0, entry(cal, unit, pairs[0][0] - 2, 1, form))
        else:
            del data[max(1, min(i, n - 2))]
    elif kind == "extra bucket after":
        data.append(entry(cal, unit, pairs[-1][0] + 1, 7, form))
    elif kind == "extra bucket before":
        data.insert(0, entry(cal, unit, pairs[0][0] - 1, 7, form))
    elif kind == "leading buckets missing":  # history starts later: Braze's "at most length"
        k = draw(st.integers(1, n))
        del data[:k]
        sound = pairs[k:]
        verdict = "accept" if fits(state, request, [o for o, _ in sound]) else "reject"
    elif kind == "last bucket missing":
        del data[-1]
        sound = pairs[:-1]
        verdict = "accept" if fits(state, request, [o for o, _ in sound]) else "reject"
    elif kind == "times shifted":
        k = draw(st.sampled_from([-3, -2, -1, 1, 2, 3, 50]))
        sound = [(o + k, v) for o, v in pairs]
        doc["data"] = [entry(cal, unit, o, v, form) for o, v in sound]
        verdict = "accept" if fits(state, request, [o for o, _ in sound]) else "reject"
    elif kind == "no buckets":
        doc["data"] = []
        sound = []
    elif kind == "message not success":
        msg = draw(st.sampled_from(MESSAGES))
        if msg is None:
            del doc["message"]
        else:
            doc["message"] = msg
    elif kind == "data not a list":
        value = draw(st.sampled_from([None, {}, "[]", 3, "missing"]))
        if value == "missing":
            del doc["data"]
        else:
            doc["data"] = value
    elif kind == "not a JSON object":
        doc = draw(st.sampled_from([[], data, "success", 3, None]))
    elif kind == "truncated JSON":
        full = json.dumps(doc).encode()
        body = full[: draw(st.integers(0, len(full) - 1))]
    elif kind == "not JSON":
        body = draw(
            st.sampled_from(
                [
                    b"",
                    b"<html><body>502 Bad Gateway</body></html>",
                    b"\xff\xfe\x00garbage",
                    b"success",
                    b"{'data': [], 'message': 'success'}",
                ]
            )
        )
    if kind in ("none", "extra fields", "no buckets"):
        assert sound is not None
        verdict = "accept" if fits(state, request, [o for o, _ in sound]) else "reject"
    if body is None:
        body = json.dumps(doc).encode()
    return Case(window, state, request, server, honest, body, kind, verdict, sound)


# --- the property ----------------------------------------------------------------------------


def outcome(case: Case) -> tuple[list[Point], tuple[int, int]] | PayloadError:
    """What the collector would store for `case`, or the error it would report."""
    try:
        parsed = parse_body(case.window, case.body)
        # As the scheduler does: the aligner sees one point per bucket answered.
        covered = Aligner(case.state).covered(case.window, case.request, parsed.buckets)
    except PayloadError as exc:
        return exc
    assert all(p.metric == "sessions" and p.facet == "" for p in parsed.points)
    return parsed.points, covered


def check(case: Case) -> str:
    """Assert the invariants for one case; returns 'accepted' or 'rejected'."""
    result = outcome(case)
    window = case.window
    if isinstance(result, PayloadError):
        assert case.verdict != "accept", (case.mutation, str(result))
        assert result.window is window
        text = str(result)
        assert text.startswith(window.describe()) and "\n" not in text and len(text) < 400
        return "rejected"
    assert case.verdict != "reject", case.mutation
    points, (lo, hi) = result
    ordinals = [p.ordinal for p in points]
    # Exactly the body's buckets, in order, each once; values are the body's, all in range.
    assert case.entries is not None
    assert [(p.ordinal, p.value) for p in points] == case.entries
    assert ordinals == list(range(ordinals[0], ordinals[0] + len(ordinals))) if ordinals else True
    assert all(isinstance(p.value, int) and 0 <= p.value <= MAX_VALUE for p in points)
    # Coverage: inside the run's range, never claiming a bucket after the first one answered
    # that has no point, and holding every point the scheduler stores.
    assert window.range_lo <= lo <= hi <= window.range_hi
    if ordinals:
        assert all(o in ordinals for o in range(max(lo, ordinals[0]), hi))
    stored = [o for o in ordinals if window.range_lo <= o < window.range_hi]
    assert all(lo <= o < hi for o in stored)
    padded = case.state is Reading.UNKNOWN and case.request.length > window.units
    if case.mutation in ("none", "extra fields") and (padded or case.state is case.server):
        # An honest answer to a request made under the right assumption (or padded to fit
        # both) covers the whole window, with the server's values.
        assert lo <= max(window.lo, window.range_lo) and hi >= min(window.hi, window.range_hi)
        assert [(p.ordinal, p.value) for p in points] == [(p.ordinal, p.value) for p in case.honest]
    return "accepted"


def test_hostile_bodies_are_handled_or_rejected_never_stored_wrong(reliability):
    """Generated hostile bodies (24 kinds): handled exactly, or rejected with a one-line report."""
    seen: Counter[tuple[str, str]] = Counter()
    for kind in KINDS:

        @PROPERTY
        @given(case=cases(kind))
        def prop(case: Case) -> None:
            seen[(case.mutation, check(case))] += 1

        prop()
    kinds = sorted({k for k, _ in seen})
    accepted = sum(v for (_, r), v in seen.items() if r == "accepted")
    rejected = sum(v for (_, r), v in seen.items() if r == "rejected")
    assert kinds == sorted(KINDS) and accepted and rejected
    reliability(
        section="hostile",
        scenario="response bodies: hypothesis over parse_body + Aligner",
        parameters=f"{len(kinds)} kinds of body (honest, extra fields, wrong types, missing "
        "fields, negative/huge counts, unreadable or off-boundary times, duplicate, "
        "out-of-order, missing, extra or shifted buckets, empty series, message ≠ success, "
        "data not a list, not an object, truncated, not JSON) × day/hour × UTC/New York/"
        "Kolkata × every hour form × every aligner state",
        runs=f"{sum(seen.values())} examples",
        checked=f"{accepted} accepted exactly as sent (only the body's buckets, in range, "
        f"coverage never past the data); {rejected} rejected as PayloadError naming the window "
        "in one line",
    )


@pytest.mark.parametrize(
    "raw", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:00:00-05:00"], ids=["year-0", "year-10000"]
)
def test_a_time_outside_the_calendar_is_a_payload_error(raw):
    """A time whose offset pushes it outside years 1..9999 is a PayloadError, not a crash."""
    window = Window(Series(SESSIONS, ("", ""), Unit.DAY, Calendar("UTC")), DAY0, DAY0 + 1, 0, 10**7)
    body = json.dumps({"data": [{"time": raw, "sessions": 1}], "message": "success"}).encode()
    with pytest.raises(PayloadError):
        parse_body(window, body)


# --- end to end: a rewriting proxy in front of the simulator ----------------------------------

Rewrite = Callable[[dict[str, Any]], bytes]


def _json(doc: Any) -> bytes:
    return json.dumps(doc).encode()


def _set_first_value(value: Any) -> Rewrite:
    def rewrite(doc: dict[str, Any]) -> bytes:
        if doc["data"]:
            doc["data"][0]["sessions"] = value
        return _json(doc)

    return rewrite


def _duplicate(doc: dict[str, Any]) -> bytes:
    doc["data"].insert(0, dict(doc["data"][0]))
    return _json(doc)


def _message(doc: dict[str, Any]) -> bytes:
    doc["message"] = "error"
    return _json(doc)


def _shift(doc: dict[str, Any]) -> bytes:
    for item in doc["data"]:
        day = datetime.fromisoformat(item["time"]).date()
        item["time"] = day.fromordinal(day.toordinal() + 1).isoformat()
    return _json(doc)


def _extra(doc: dict[str, Any]) -> bytes:
    last = datetime.fromisoformat(doc["data"][-1]["time"]).date()
    doc["data"].append({"time": last.fromordinal(last.toordinal() + 1).isoformat(), "sessions": 1})
    return _json(doc)


E2E: dict[str, tuple[Rewrite, str]] = {
    "negative count": (_set_first_value(-5), "must be a non-negative integer"),
    "count as a string": (_set_first_value("12"), "must be a non-negative integer"),
    "huge count": (_set_first_value(2**64), "must be a non-negative integer"),
    "duplicate bucket": (_duplicate, "repeated or out of order"),
    "message 'error'": (_message, "not 'success'"),
    "not JSON": (lambda doc: b"<html>oops</html>", "not valid JSON"),
    "times shifted by one day": (_shift, "shifted by one bucket"),
    "one bucket too many": (_extra, "fits neither reading"),
}
VICTIM = "app-ios"  # the series whose answers the proxy rewrites


@dataclass(frozen=True)
class Upstream:
    """Where the collector is pointed: the proxy (the harness only needs `.url`)."""

    url: str


@asynccontextmanager
async def rewriting_proxy(upstream: str, rewrite: Rewrite) -> AsyncIterator[str]:
    """Forward to `upstream`; rewrite the 200 bodies of VICTIM's requests."""
    async with aiohttp.ClientSession() as session:

        async def handle(request: web.Request) -> web.Response:
            headers = {"Authorization": request.headers.get("Authorization", "")}
            url = upstream + request.path_qs
            async with session.get(url, headers=headers) as upstream_response:
                body = await upstream_response.read()
                keep = {
                    k: v for k, v in upstream_response.headers.items() if k.lower().startswith("x-")
                }
                status = upstream_response.status
            if status == 200 and request.query.get("app_id") == VICTIM:
                body = rewrite(json.loads(body))
            return web.Response(
                status=status, body=body, headers=keep, content_type="application/json"
            )

        runner = web.AppRunner(web.Application())
        runner.app.router.add_get("/{tail:.*}", handle)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            await runner.cleanup()


@pytest.mark.parametrize("name", list(E2E), ids=lambda n: n.replace(" ", "-").replace("'", ""))
async def test_hostile_bodies_mid_run_fail_only_their_windows(tmp_path, reliability, name):
    """A series answered with hostile bodies: its windows fail, reported; none stored; rest exact."""
    rewrite, expected = E2E[name]
    clock = VirtualClock(NOW)
    async with run_simulator(simulator_config(), clock=clock) as sim:
        async with rewriting_proxy(sim.url, rewrite) as url:
            db = tmp_path / "c.db"
            flags = {"start": "2023-07-01", "app_id": ["", VICTIM], "max_retries": 2}
            obs = await observed_run(Upstream(url), clock, db, **flags)  # type: ignore[arg-type]
        report = obs.report
        failures = [e for _, e in obs.events if isinstance(e, WindowFailed)]
        victim = report.series[sessions_key(VICTIM)]
        healthy = report.series[sessions_key("")]
        assert not report.complete and report.fatal is None  # the CLI's exit 1
        assert victim.failed_windows >= 1 and victim.windows == 0
        assert healthy.failed_windows == 0
        assert failures and all(f.window.series.app_id == VICTIM for f in failures)
        assert all(expected in f.message and "\n" not in f.message for f in failures)
        assert all(f.message.startswith(f.window.describe()) for f in failures)
        rows = stored(db, "day")
        assert {app for app, _seg, _t in rows} == {""}
        assert rows == {k: v for k, v in truth(sim, obs.job).items() if k[0] == ""}
    retried = sum(report.retries.values())
    reliability(
        section="hostile",
        scenario=f"end to end: {name}",
        parameters=f"a proxy rewrites every 200 for app_id={VICTIM} (2 series × 350 days, "
        "--max-retries 2)",
        runs=1,
        requests=report.requests,
        retries=retried,
        checked=f"{len(failures)} window(s) of {VICTIM} failed, each reported in one line "
        f"naming it ('{expected}'); nothing of {VICTIM} stored; the workspace total exact; "
        "run incomplete (exit 1)",
    )
