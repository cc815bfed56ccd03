"""The per-workspace rate limit and its headers (braze-api.md §9 rules 14–17)."""

from __future__ import annotations

import math

from collector.clock import VirtualClock
from collector.simulator import ApiKey, SimulatorConfig, Workspace

from .support import RATE_HEADERS, T0, Harness

RESET = 1_709_298_000  # 2024-03-01T13:00:00Z, the end of the hourly window holding T0
LIMIT_3 = SimulatorConfig(rate_limit=3)


async def test_fourth_request_over_a_limit_of_three_is_429(braze: Harness) -> None:
    """Remaining counts down 2, 1, 0; the 4th request gets 429 "Rate limit exceeded"."""
    sim = await braze.start(LIMIT_3)
    answers = [await braze.get(sim, {"length": "1"}) for _ in range(4)]
    assert [a.status for a in answers] == [200, 200, 200, 429]
    assert [a.headers["X-RateLimit-Remaining"] for a in answers] == ["2", "1", "0", "0"]
    assert {a.headers["X-RateLimit-Limit"] for a in answers} == {"3"}
    assert {a.headers["X-RateLimit-Reset"] for a in answers} == {str(RESET)}
    assert answers[3].message == "Rate limit exceeded"
    assert "Retry-After" not in answers[3].headers
    assert "X-RateLimit-Retry-After" not in answers[3].headers


async def test_count_restarts_after_the_window_resets(braze: Harness) -> None:
    """Once the clock passes X-RateLimit-Reset, a new window starts with a fresh budget."""
    clock = VirtualClock(T0)
    sim = await braze.start(LIMIT_3, clock)
    for _ in range(4):
        await braze.get(sim, {"length": "1"})
    clock.set(RESET - 0.001)
    assert (await braze.get(sim, {"length": "1"})).status == 429
    clock.set(RESET)
    answer = await braze.get(sim, {"length": "1"})
    assert answer.status == 200
    assert answer.headers["X-RateLimit-Remaining"] == "2"
    assert answer.headers["X-RateLimit-Reset"] == str(RESET + 3600)


async def test_windows_are_aligned_to_the_epoch(braze: Harness) -> None:
    """A 60 s window resets on the next multiple of 60 epoch seconds."""
    sim = await braze.start(SimulatorConfig(rate_window_s=60), VirtualClock(T0 + 17.5))
    answer = await braze.get(sim, {"length": "1"})
    assert int(answer.headers["X-RateLimit-Reset"]) == math.ceil((T0 + 17.5) / 60) * 60


async def test_rejected_requests_count_too(braze: Harness) -> None:
    """400, 404 and 403 Access Denied answers all spend the budget; 401s do not."""
    config = SimulatorConfig(
        rate_limit=3,
        keys=(ApiKey("sim-key"), ApiKey("weak", permissions=frozenset())),
    )
    sim = await braze.start(config)
    for _ in range(3):
        assert (await braze.get(sim, {"length": "1"}, key="nope")).status == 401
    assert (await braze.get(sim, {"length": "0"})).status == 400
    assert (await braze.get(sim, {"length": "1"}, path="/elsewhere")).status == 404
    assert (await braze.get(sim, {"length": "1"}, key="weak")).status == 403
    assert (await braze.get(sim, {"length": "1"})).status == 429


async def test_429_comes_before_permission_and_validation(braze: Harness) -> None:
    """Over the limit, even an invalid or unauthorized-for-endpoint request gets 429."""
    config = SimulatorConfig(
        rate_limit=1, keys=(ApiKey("sim-key"), ApiKey("weak", permissions=frozenset()))
    )
    sim = await braze.start(config)
    await braze.get(sim, {"length": "1"})
    assert (await braze.get(sim, {"length": "0"})).status == 429
    assert (await braze.get(sim, {"length": "1"}, key="weak")).status == 429
    assert (await braze.get(sim, {"length": "1"}, path="/elsewhere")).status == 429


async def test_counter_is_per_workspace_shared_by_keys(braze: Harness) -> None:
    """Keys of one workspace share a counter; another workspace has its own."""
    config = SimulatorConfig(
        rate_limit=2,
        workspaces=(Workspace("a"), Workspace("b")),
        keys=(ApiKey("a1", "a"), ApiKey("a2", "a"), ApiKey("b1", "b")),
    )
    sim = await braze.start(config)
    assert (await braze.get(sim, {"length": "1"}, key="a1")).status == 200
    assert (await braze.get(sim, {"length": "1"}, key="a2")).status == 200
    assert (await braze.get(sim, {"length": "1"}, key="a1")).status == 429
    assert (await braze.get(sim, {"length": "1"}, key="b1")).status == 200


async def test_retry_after_switch(braze: Harness) -> None:
    """emit_retry_after adds Retry-After (seconds to reset, rounded up) on 429 only."""
    clock = VirtualClock(T0 + 0.5)
    sim = await braze.start(SimulatorConfig(rate_limit=1, emit_retry_after=True), clock)
    ok = await braze.get(sim, {"length": "1"})
    limited = await braze.get(sim, {"length": "1"})
    assert "Retry-After" not in ok.headers
    assert limited.headers["Retry-After"] == str(math.ceil(RESET - (T0 + 0.5)))
    assert "X-RateLimit-Retry-After" not in limited.headers


async def test_x_ratelimit_retry_after_switch(braze: Harness) -> None:
    """emit_x_ratelimit_retry_after adds X-RateLimit-Retry-After on 429, at least 1."""
    clock = VirtualClock(RESET - 0.2)
    config = SimulatorConfig(rate_limit=1, emit_x_ratelimit_retry_after=True)
    sim = await braze.start(config, clock)
    await braze.get(sim, {"length": "1"})
    limited = await braze.get(sim, {"length": "1"})
    assert limited.headers["X-RateLimit-Retry-After"] == "1"
    assert "Retry-After" not in limited.headers


async def test_omitting_all_rate_headers(braze: Harness) -> None:
    """omit_ratelimit_headers_probability=1 drops all three headers, on 200 and 429 alike."""
    sim = await braze.start(SimulatorConfig(rate_limit=1, omit_ratelimit_headers_probability=1.0))
    answers = [await braze.get(sim, {"length": "1"}) for _ in range(2)]
    assert [a.status for a in answers] == [200, 429]
    assert not any(h in a.headers for a in answers for h in RATE_HEADERS)


async def test_omitting_rate_headers_on_a_seeded_share(braze: Harness) -> None:
    """With probability 0.5 some responses lack the headers, the same ones for the same seed."""
    config = SimulatorConfig(omit_ratelimit_headers_probability=0.5, seed=5)
    patterns = []
    for _ in range(2):
        sim = await braze.start(config)
        answers = [await braze.get(sim, {"length": "1"}) for _ in range(40)]
        present = ["X-RateLimit-Limit" in a.headers for a in answers]
        for a, has in zip(answers, present, strict=True):
            assert all((h in a.headers) == has for h in RATE_HEADERS)
        patterns.append(present)
    assert patterns[0] == patterns[1]
    assert 5 < sum(patterns[0]) < 35
