"""Injected faults, latency, and prompt shutdown (braze-api.md §9 rule 22)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time

import aiohttp
import pytest

from collector.simulator import Faults, SimulatorConfig, run_simulator
from collector.simulator.faults import Dice

from .support import RATE_HEADERS, Harness


def _faulty(**probabilities: float) -> SimulatorConfig:
    return SimulatorConfig(faults=Faults(**probabilities))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kind", "field", "status", "message"),
    [
        ("500", "error_500", 500, "Internal Server Error"),
        ("503", "error_503", 503, "Service Unavailable"),
    ],
)
async def test_json_5xx_faults(
    braze: Harness, kind: str, field: str, status: int, message: str
) -> None:
    """500 and 503 faults are JSON, carry the rate headers, count, and are logged."""
    sim = await braze.start(_faulty(**{field: 1.0}))
    answer = await braze.get(sim, {"length": "1"})
    assert answer.status == status
    assert answer.message == message
    assert answer.headers["Content-Type"].startswith("application/json")
    assert answer.headers["X-RateLimit-Remaining"] == str(SimulatorConfig().rate_limit - 1)
    assert (sim.log[-1].status, sim.log[-1].fault) == (status, kind)


async def test_502_fault_is_html(braze: Harness) -> None:
    """A 502 fault answers an HTML page, not JSON, and still carries the rate headers."""
    sim = await braze.start(_faulty(error_502_html=1.0))
    answer = await braze.get(sim, {"length": "1"})
    assert answer.status == 502
    assert answer.headers["Content-Type"].startswith("text/html")
    assert b"502 Bad Gateway" in answer.body
    assert all(h in answer.headers for h in RATE_HEADERS)


async def test_504_fault_has_empty_body(braze: Harness) -> None:
    """A 504 fault has an empty body, no JSON content type, and the rate headers."""
    sim = await braze.start(_faulty(error_504_empty=1.0))
    answer = await braze.get(sim, {"length": "1"})
    assert answer.status == 504
    assert answer.body == b""
    assert "json" not in answer.headers.get("Content-Type", "")
    assert all(h in answer.headers for h in RATE_HEADERS)


async def test_dropped_connection_is_a_client_error(braze: Harness) -> None:
    """A drop closes the socket unanswered; the client sees a disconnect, the log status None."""
    sim = await braze.start(_faulty(drop_connection=1.0))
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await braze.get(sim, {"length": "1"})
    # aiohttp resends an idempotent request once after a disconnect: both attempts were dropped
    assert sim.log
    assert {(r.status, r.fault) for r in sim.log} == {(None, "drop")}
    assert sim.stats()[None] == len(sim.log)


async def test_truncated_json_is_a_strict_prefix_with_200(braze: Harness) -> None:
    """A truncated fault is a 200 JSON whose body is a strict prefix of the real one."""
    clean = await braze.start(SimulatorConfig())
    sim = await braze.start(_faulty(truncated_json=1.0))
    for length in ("1", "50", "100"):
        real = await braze.get(clean, {"length": length})
        cut = await braze.get(sim, {"length": length})
        assert cut.status == 200
        assert cut.headers["Content-Type"].startswith("application/json")
        assert 0 < len(cut.body) < len(real.body)
        assert real.body.startswith(cut.body)
        assert int(cut.headers["Content-Length"]) == len(cut.body)
        with pytest.raises(json.JSONDecodeError):
            json.loads(cut.body)
    assert {r.fault for r in sim.log} == {"truncated"}


async def test_unauthenticated_requests_are_never_faulted(braze: Harness) -> None:
    """Faults hit only counted requests: a request without a key still gets its 401."""
    sim = await braze.start(_faulty(error_500=1.0))
    answer = await braze.get(sim, {"length": "1"}, key=None)
    assert answer.status == 401
    assert sim.log[-1].fault is None


async def test_hang_outlasts_the_client_timeout(braze: Harness) -> None:
    """A hang keeps the request unanswered past the client's timeout."""
    sim = await braze.start(_faulty(hang=1.0))  # hang_seconds defaults to 600
    with pytest.raises(asyncio.TimeoutError):
        await braze.get(sim, {"length": "1"}, timeout_s=0.05)
    assert sim.log[-1].fault == "hang"


async def test_short_hang_then_answers_normally(braze: Harness) -> None:
    """After hang_seconds the request is answered as usual."""
    sim = await braze.start(SimulatorConfig(faults=Faults(hang=1.0, hang_seconds=0.05)))
    started = time.monotonic()
    answer = await braze.get(sim, {"length": "2"})
    assert time.monotonic() - started >= 0.05
    assert answer.status == 200
    assert len(answer.values) == 2
    assert (sim.log[-1].status, sim.log[-1].fault) == (200, "hang")


async def test_constant_latency_delays_every_request(braze: Harness) -> None:
    """latency_ms adds that much real delay to each request, fault or not."""
    sim = await braze.start(SimulatorConfig(faults=Faults(latency_ms=40)))
    for key in ("sim-key", None):
        started = time.monotonic()
        await braze.get(sim, {"length": "1"}, key=key)
        assert time.monotonic() - started >= 0.04


def test_exponential_latency_has_the_configured_mean() -> None:
    """Exponential latency draws delays with mean latency_ms; constant latency never varies."""
    faults = Faults(latency_ms=10, latency_distribution="exponential", seed=1)
    dice = Dice(faults, seed=0, omit_headers_probability=0.0)
    delays = [dice.roll().latency_s for _ in range(4000)]
    assert 0.0095 < sum(delays) / len(delays) < 0.0105
    assert len(set(delays)) == len(delays)
    constant = Dice(Faults(latency_ms=10), seed=0, omit_headers_probability=0.0)
    assert {constant.roll().latency_s for _ in range(10)} == {0.01}


async def test_fault_sequence_is_deterministic_per_seed(braze: Harness) -> None:
    """The same seed gives the same fault for the n-th request; another seed another sequence."""

    async def sequence(seed: int) -> list[tuple[int | None, str | None]]:
        sim = await braze.start(SimulatorConfig(faults=Faults.uniform(0.6, seed=seed)))
        for _ in range(30):
            with contextlib.suppress(aiohttp.ClientError):
                await braze.get(sim, {"length": "3"})
        return [(r.status, r.fault) for r in sim.log]

    first, again, other = await sequence(7), await sequence(7), await sequence(8)
    assert first == again
    assert first != other
    assert {f for _, f in first} >= {"500", "502", "503", "504", "drop", "truncated"}


def test_at_most_one_fault_per_request_drawn_in_order() -> None:
    """Every kind is drawn each time; the first hit wins, so earlier kinds hit more often."""
    dice = Dice(Faults.uniform(0.6, seed=2), seed=0, omit_headers_probability=0.0)
    rolls = [dice.roll().fault for _ in range(20_000)]
    shares = [rolls.count(kind) / len(rolls) for kind in ("500", "502", "503", "504", "drop")]
    assert shares == sorted(shares, reverse=True)
    assert abs(shares[0] - 0.1) < 0.01
    assert rolls.count("hang") == 0


async def test_shutdown_is_prompt_while_a_hang_sleeps(session: aiohttp.ClientSession) -> None:
    """Leaving run_simulator cancels a 600 s hang at once and leaves no task behind."""
    config = SimulatorConfig(faults=Faults(hang=1.0))
    started = time.monotonic()
    async with run_simulator(config) as sim:
        request = asyncio.create_task(
            session.get(f"{sim.url}/sessions/data_series?length=1&api_key=sim-key")
        )
        for _ in range(400):  # wait (at most 2 s) until the request is hanging in the server
            if sim.log:
                break
            await asyncio.sleep(0.005)
    with pytest.raises(aiohttp.ClientError):
        await request
    assert time.monotonic() - started < 1.5
    assert asyncio.all_tasks() == {asyncio.current_task()}


@pytest.mark.parametrize("host", ["0.0.0.0", "10.1.2.3", "example.com", ""])
async def test_non_loopback_host_is_refused(host: str) -> None:
    """run_simulator refuses to listen anywhere but loopback."""
    with pytest.raises(ValueError, match="loopback"):
        async with run_simulator(host=host):
            pass


async def test_localhost_is_served_on_127_0_0_1(braze: Harness) -> None:
    """host="localhost" binds 127.0.0.1 and the URL says so."""
    async with run_simulator(host="localhost") as sim:
        assert sim.url.startswith("http://127.0.0.1:")
        answer = await braze.get(sim, {"length": "1"})
        assert answer.status == 200
