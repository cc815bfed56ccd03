"""Routing, query decoding, authentication and permissions (braze-api.md §9 rules 2–7)."""

from __future__ import annotations

import pytest

from collector.simulator import ApiKey, SimulatorConfig, Workspace

from .support import RATE_HEADERS, SESSIONS, Harness


async def test_success_is_json_with_rate_headers(braze: Harness) -> None:
    """A valid request gets 200, application/json, the three X-RateLimit headers, the envelope."""
    sim = await braze.start()
    answer = await braze.get(sim, {"length": "2"})
    assert answer.status == 200
    assert answer.headers["Content-Type"].startswith("application/json")
    assert all(h in answer.headers for h in RATE_HEADERS)
    assert answer.json()["message"] == "success"
    assert len(answer.json()["data"]) == 2


@pytest.mark.parametrize(
    ("key", "params"),
    [
        (None, {}),
        ("not-a-key", {}),
        ("'sim-key'", {}),
        ('"sim-key"', {}),
        (None, {"api_key": "'sim-key'"}),
        (None, {"api_key": "nope"}),
        (None, {"api_key": ""}),
        ("", {}),
    ],
    ids=[
        "missing",
        "unknown",
        "single-quoted",
        "double-quoted",
        "quoted-param",
        "unknown-param",
        "empty-param",
        "empty-bearer",
    ],
)
async def test_bad_keys_get_401_without_rate_headers(
    braze: Harness, key: str | None, params: dict[str, str]
) -> None:
    """Missing, unknown or quoted keys get 401 "Invalid API key" and no X-RateLimit headers."""
    sim = await braze.start()
    answer = await braze.get(sim, {"length": "1", **params}, key=key)
    assert answer.status == 401
    assert answer.message == "Invalid API key"
    assert answer.headers["Content-Type"].startswith("application/json")
    assert not any(h in answer.headers for h in RATE_HEADERS)


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER", "bEaReR"])
async def test_bearer_scheme_is_case_insensitive(braze: Harness, scheme: str) -> None:
    """The Authorization scheme name matches in any case."""
    sim = await braze.start()
    answer = await braze.get(
        sim, {"length": "1"}, key=None, headers={"Authorization": f"{scheme} sim-key"}
    )
    assert answer.status == 200


async def test_legacy_api_key_param_accepted_by_default(braze: Harness) -> None:
    """Without an Authorization header the legacy `api_key` query parameter authenticates."""
    sim = await braze.start()
    answer = await braze.get(sim, {"length": "1", "api_key": "sim-key"}, key=None)
    assert answer.status == 200


async def test_legacy_api_key_param_refused_when_switched_off(braze: Harness) -> None:
    """With legacy_api_key_param=False the `api_key` parameter is ignored: 401."""
    sim = await braze.start(SimulatorConfig(legacy_api_key_param=False))
    answer = await braze.get(sim, {"length": "1", "api_key": "sim-key"}, key=None)
    assert answer.status == 401


async def test_header_key_takes_precedence_over_param(braze: Harness) -> None:
    """A Bearer header is used even when an `api_key` parameter is also present."""
    sim = await braze.start()
    answer = await braze.get(sim, {"length": "1", "api_key": "sim-key"}, key="wrong")
    assert answer.status == 401


async def test_inactive_workspace_is_forbidden_and_not_counted(braze: Harness) -> None:
    """An inactive workspace gets 403 "Forbidden" with rate headers; the request is not counted."""
    config = SimulatorConfig(workspaces=(Workspace(active=False),), rate_limit=5)
    sim = await braze.start(config)
    for _ in range(2):
        answer = await braze.get(sim, {"length": "1"})
        assert answer.status == 403
        assert answer.message == "Forbidden"
        assert answer.headers["X-RateLimit-Remaining"] == "5"


async def test_missing_permission_is_access_denied_and_counted(braze: Harness) -> None:
    """A key without sessions.data_series gets 403 "Access Denied", counted against the limit."""
    config = SimulatorConfig(keys=(ApiKey("weak", permissions=frozenset({"kpi.dau.data_series"})),))
    sim = await braze.start(config)
    answer = await braze.get(sim, {"length": "1"}, key="weak")
    assert answer.status == 403
    assert answer.message == "Access Denied"
    assert answer.headers["X-RateLimit-Remaining"] == str(config.rate_limit - 1)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/sessions/data_series/"),
        ("GET", "/sessions/data"),
        ("GET", "/"),
        ("GET", "/SESSIONS/DATA_SERIES"),
        ("POST", SESSIONS),
        ("PUT", SESSIONS),
        ("DELETE", SESSIONS),
    ],
)
async def test_other_paths_and_methods_are_404(braze: Harness, method: str, path: str) -> None:
    """Anything but GET on a known path is 404 "Not Found", with rate headers (it was counted)."""
    sim = await braze.start()
    answer = await braze.get(sim, {"length": "1"}, path=path, method=method)
    assert answer.status == 404
    assert answer.message == "Not Found"
    assert answer.headers["X-RateLimit-Remaining"] == str(SimulatorConfig().rate_limit - 1)


async def test_unknown_path_without_key_is_401(braze: Harness) -> None:
    """Authentication comes before routing: an unknown path without a key is 401, not 404."""
    sim = await braze.start()
    answer = await braze.get(sim, path="/nowhere", key=None)
    assert answer.status == 401


async def test_repeated_parameter_last_value_wins(braze: Harness) -> None:
    """A repeated query parameter keeps its last value."""
    sim = await braze.start()
    answer = await braze.get(sim, raw_query="length=500&length=3&unit=week&unit=hour")
    assert answer.status == 200
    assert len(answer.values) == 3
    assert "T" in answer.times[0]
    assert sim.log[-1].params == {"length": "3", "unit": "hour"}


async def test_unknown_parameters_are_ignored(braze: Harness) -> None:
    """Unknown parameters (like PostHog's misspelt `ending_date`) do not change the answer."""
    sim = await braze.start()
    plain = await braze.get(sim, {"length": "4"})
    noisy = await braze.get(sim, {"length": "4", "ending_date": "2020-01-01", "foo": "bar"})
    assert noisy.status == 200
    assert noisy.points == plain.points


async def test_plus_in_query_decodes_to_space(braze: Harness) -> None:
    """Form decoding turns a raw `+` into a space, so an unencoded offset is rejected."""
    sim = await braze.start()
    raw = await braze.get(sim, raw_query="length=1&ending_at=2024-02-20T00:00:00+01:00")
    encoded = await braze.get(sim, raw_query="length=1&ending_at=2024-02-20T00:00:00%2B01:00")
    assert raw.status == 400
    assert raw.message == "Invalid ending_at"
    assert sim.log[-2].params["ending_at"] == "2024-02-20T00:00:00 01:00"
    assert encoded.status == 200


async def test_keys_share_their_workspace_and_map_to_it(braze: Harness) -> None:
    """Two keys of one workspace see the same data; a key of another workspace sees its own."""
    config = SimulatorConfig(
        workspaces=(Workspace("a"), Workspace("b")),
        keys=(ApiKey("a1", "a"), ApiKey("a2", "a"), ApiKey("b1", "b")),
    )
    sim = await braze.start(config)
    a1 = await braze.get(sim, {"length": "5"}, key="a1")
    a2 = await braze.get(sim, {"length": "5"}, key="a2")
    b1 = await braze.get(sim, {"length": "5"}, key="b1")
    assert a1.points == a2.points
    assert a1.values != b1.values
