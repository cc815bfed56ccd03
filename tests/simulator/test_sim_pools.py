"""Rate-limit pools and permissions per endpoint (braze-api.md §3, §10.4)."""

from __future__ import annotations

import math
from typing import Any

import pytest

from collector.clock import VirtualClock
from collector.simulator import ApiKey, Segment, SimulatorConfig, Workspace
from collector.simulator.config import ALL_PERMISSIONS, Pool, PoolLimit
from collector.simulator.endpoints import ROUTES

from .support import SESSIONS, T0, VALID, Harness

EXPORT_LISTS = {
    "/events/list",
    "/purchases/product_list",
    "/purchases/quantity_series",
    "/purchases/revenue_series",
}
# The pools with the default purchases_pool ("export-lists").
POOLS = {
    "default": set(VALID) - EXPORT_LISTS - {"/campaigns/data_series"},
    "campaigns": {"/campaigns/data_series"},
    "export-lists": EXPORT_LISTS,
}
LIMITS: dict[Pool, int] = {"default": 7, "campaigns": 5, "export-lists": 3, "purchases": 4}
WORKSPACE = Workspace(segments=(Segment("s"),))


def _config(**switches: Any) -> SimulatorConfig:
    """Small, distinct limits per pool, so headers tell the pools apart."""
    pools = tuple(PoolLimit(p, n, 3600) for p, n in LIMITS.items() if p != "default")
    return SimulatorConfig(
        workspaces=(WORKSPACE,), rate_limit=LIMITS["default"], pool_limits=pools, **switches
    )


def test_every_route_is_covered_here() -> None:
    """This file exercises every served path, and every permission is some route's."""
    assert set(VALID) == set(ROUTES)
    assert {r.permission for r in ROUTES.values()} == ALL_PERMISSIONS


@pytest.mark.parametrize("path", sorted(VALID))
async def test_each_endpoint_needs_exactly_its_permission(braze: Harness, path: str) -> None:
    """Without its permission an endpoint is 403 Access Denied; with only that one it is 200."""
    permission = ROUTES[path].permission
    keys = (
        ApiKey("all-but", permissions=ALL_PERMISSIONS - {permission}),
        ApiKey("only", permissions=frozenset({permission})),
    )
    sim = await braze.start(SimulatorConfig(workspaces=(WORKSPACE,), keys=keys))
    denied = await braze.get(sim, VALID[path], path=path, key="all-but")
    allowed = await braze.get(sim, VALID[path], path=path, key="only")
    assert (denied.status, denied.message) == (403, "Access Denied")
    assert allowed.status == 200, allowed.body


@pytest.mark.parametrize(("pool", "paths"), sorted(POOLS.items()))
async def test_pool_headers_show_the_pool_of_the_endpoint(
    braze: Harness, pool: str, paths: set[str]
) -> None:
    """Each endpoint reports its own pool's limit, and its requests count only there."""
    sim = await braze.start(_config())
    for n, path in enumerate(sorted(paths), start=1):
        answer = await braze.get(sim, VALID[path], path=path)
        assert answer.headers["X-RateLimit-Limit"] == str(LIMITS[pool]), path
        assert answer.headers["X-RateLimit-Remaining"] == str(max(0, LIMITS[pool] - n)), path


async def test_a_429_in_one_pool_leaves_the_others_alone(braze: Harness) -> None:
    """Exhausting the campaigns pool does not limit sessions or the lists, and vice versa."""
    sim = await braze.start(_config())
    campaign = VALID["/campaigns/data_series"]
    statuses = [
        (await braze.get(sim, campaign, path="/campaigns/data_series")).status for _ in range(6)
    ]
    assert statuses == [200] * 5 + [429]
    assert (await braze.get(sim, {"length": "1"})).headers["X-RateLimit-Remaining"] == "6"
    for _ in range(3):
        assert (await braze.get(sim, None, path="/events/list")).status == 200
    assert (await braze.get(sim, None, path="/purchases/product_list")).status == 429
    assert (await braze.get(sim, None, path="/campaigns/list")).status == 200


@pytest.mark.parametrize(
    ("placement", "limit", "shared_with_lists"),
    [("export-lists", "3", True), ("purchases", "4", False), ("default", "7", False)],
)
async def test_purchases_pool_placements(
    braze: Harness, placement: str, limit: str, shared_with_lists: bool
) -> None:
    """purchases_pool puts the purchase series with the lists, in their own pool, or in default."""
    sim = await braze.start(_config(purchases_pool=placement))
    await braze.get(sim, None, path="/events/list")
    answer = await braze.get(sim, {"length": "1"}, path="/purchases/quantity_series")
    assert answer.headers["X-RateLimit-Limit"] == limit
    used = 2 if shared_with_lists else 1
    assert answer.headers["X-RateLimit-Remaining"] == str(int(limit) - used)


async def test_default_pool_limits_are_the_documented_ones(braze: Harness) -> None:
    """Untouched, campaigns allow 50,000 a minute and the lists 1,000 an hour."""
    clock = VirtualClock(T0 + 17)
    sim = await braze.start(SimulatorConfig(), clock)
    campaigns = await braze.get(sim, VALID["/campaigns/data_series"], path="/campaigns/data_series")
    lists = await braze.get(sim, None, path="/events/list")
    sessions = await braze.get(sim, {"length": "1"}, path=SESSIONS)
    assert campaigns.headers["X-RateLimit-Limit"] == "50000"
    assert campaigns.headers["X-RateLimit-Reset"] == str(math.ceil((T0 + 17) / 60) * 60)
    assert lists.headers["X-RateLimit-Limit"] == "1000"
    assert sessions.headers["X-RateLimit-Limit"] == "250000"


async def test_unknown_paths_count_in_the_default_pool(braze: Harness) -> None:
    """A 404 spends the default pool, whatever it resembles."""
    sim = await braze.start(_config())
    answer = await braze.get(sim, None, path="/campaigns/data_series/extra")
    assert answer.status == 404
    assert answer.headers["X-RateLimit-Limit"] == "7"


async def test_inactive_workspace_reports_the_endpoint_pool(braze: Harness) -> None:
    """A 403 Forbidden carries the headers of the pool the endpoint would count in."""
    config = SimulatorConfig(workspaces=(Workspace(active=False),))
    sim = await braze.start(config)
    answer = await braze.get(sim, None, path="/events/list")
    assert (answer.status, answer.headers["X-RateLimit-Remaining"]) == (403, "1000")
