"""Configuration validation: bad values fail at construction with a message naming the field."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from collector.simulator import ApiKey, Faults, Segment, SimulatorConfig, Workspace
from collector.simulator.catalogue import Campaign, Canvas, CanvasStep, CanvasVariant, Send, Variant
from collector.simulator.config import ALL_PERMISSIONS, PoolLimit

AWARE = datetime(2024, 1, 1, tzinfo=UTC)
NAIVE = datetime(2024, 1, 1)
API = Campaign("api", api_campaign=True)


@pytest.mark.parametrize(
    ("build", "needle"),
    [
        (lambda: Workspace(timezone="Nowhere/City"), "unknown time zone"),
        (lambda: Workspace(apps=("a", "a")), "duplicate app ids"),
        (lambda: Workspace(segments=(Segment("s"), Segment("s"))), "duplicate segment ids"),
        (lambda: Workspace(history_start=datetime(2024, 1, 1)), "timezone-aware"),
        (lambda: Segment("s", tracking_since=datetime(2024, 1, 1)), "timezone-aware"),
        (lambda: SimulatorConfig(workspaces=()), "at least one workspace"),
        (lambda: SimulatorConfig(workspaces=(Workspace(), Workspace())), "duplicate workspace"),
        (lambda: SimulatorConfig(keys=(ApiKey("k", "other"),)), "names workspace 'other'"),
        (lambda: SimulatorConfig(keys=(ApiKey("k"), ApiKey("k"))), "duplicate API keys"),
        (lambda: SimulatorConfig(rate_limit=0), "rate_limit"),
        (lambda: SimulatorConfig(settle_period_s=-1), "settle_period_s"),
        (lambda: SimulatorConfig(omit_ratelimit_headers_probability=2), "probability"),
        (lambda: SimulatorConfig(alignment="ceil"), "alignment must be"),  # type: ignore[arg-type]
        (lambda: SimulatorConfig(hour_time_format="iso"), "hour_time_format"),  # type: ignore[arg-type]
        (lambda: Faults(error_500=-0.1), "faults.error_500"),
        (lambda: Faults(hang_seconds=-1), "must not be negative"),
        (lambda: Faults(latency_distribution="normal"), "latency_distribution"),  # type: ignore[arg-type]
        (lambda: Faults.uniform(1.2), "fault rate"),
        (lambda: PoolLimit("nope", 1, 1), "pool_limits pool"),  # type: ignore[arg-type]
        (lambda: PoolLimit("campaigns", 0, 60), "at least 1"),
        (lambda: SimulatorConfig(pool_limits=(PoolLimit("default", 1, 1),)), "default pool"),
        (
            lambda: SimulatorConfig(
                pool_limits=(PoolLimit("campaigns", 1, 1), PoolLimit("campaigns", 2, 2))
            ),
            "duplicate pool_limits",
        ),
        (lambda: SimulatorConfig(purchases_pool="own"), "purchases_pool"),  # type: ignore[arg-type]
        (lambda: SimulatorConfig(revenue_format="float"), "revenue_format"),  # type: ignore[arg-type]
        (lambda: SimulatorConfig(list_behaviour="odd"), "list_behaviour"),  # type: ignore[arg-type]
        (lambda: SimulatorConfig(inactive_days="none"), "inactive_days"),  # type: ignore[arg-type]
        (lambda: SimulatorConfig(expired_send_days="x"), "expired_send_days"),  # type: ignore[arg-type]
        (lambda: SimulatorConfig(never_sent_dates="x"), "never_sent_dates"),  # type: ignore[arg-type]
        (lambda: SimulatorConfig(canvas_long_range="x"), "canvas_long_range"),  # type: ignore[arg-type]
        (lambda: SimulatorConfig(product_page_size=0), "product_page_size"),
        (lambda: SimulatorConfig(send_retention_days=0), "send_retention_days"),
        (lambda: SimulatorConfig(conversion_settle_s=-1), "conversion_settle_s"),
        (lambda: Workspace(events=("a", "a")), "duplicate event names"),
        (lambda: Workspace(products=("p", "p")), "duplicate product names"),
        (lambda: Workspace(campaigns=(API, API)), "duplicate campaign ids"),
        (lambda: Workspace(canvases=(Canvas("c"), Canvas("c"))), "duplicate canvas ids"),
        (lambda: Workspace(sends=(Send("nope", "s", AWARE),)), "not configured"),
        (
            lambda: Workspace(campaigns=(Campaign("c"),), sends=(Send("c", "s", AWARE),)),
            "needs an API campaign",
        ),
        (
            lambda: Workspace(campaigns=(API,), sends=(Send("api", "s", AWARE),) * 2),
            "duplicate sends",
        ),
        (lambda: Send("c", "s", NAIVE), "timezone-aware"),
        (lambda: Campaign("c", first_sent=NAIVE), "timezone-aware"),
        (lambda: Campaign("c", last_sent=AWARE), "first_sent/last_sent"),
        (
            lambda: Campaign("c", first_sent=AWARE, last_sent=datetime(2023, 1, 1, tzinfo=UTC)),
            "must not precede",
        ),
        (lambda: Campaign("c", channels=()), "at least one channel"),
        (lambda: Campaign("c", variants=(Variant("v", "A"), Variant("v", "B"))), "variant ids"),
        (lambda: Campaign("c", control_id="variant-1"), "variant ids"),
        (lambda: Canvas("c", variants=()), "at least one variant"),
        (lambda: Canvas("c", steps=(CanvasStep("s", "S"), CanvasStep("s", "T"))), "step ids"),
        (
            lambda: Canvas("c", variants=(CanvasVariant("v", "V", ("missing",)),)),
            "unknown steps",
        ),
        (lambda: Canvas("c", last_entry=AWARE), "first_entry/last_entry"),
    ],
)
def test_invalid_configuration_is_a_value_error(build: object, needle: str) -> None:
    """Each invalid field raises ValueError whose message says which one."""
    with pytest.raises(ValueError, match=needle):
        build()  # type: ignore[operator]


def test_uniform_spreads_the_rate_over_six_error_kinds() -> None:
    """Faults.uniform gives each of the six error kinds rate/6, no hang, and passes extras on."""
    faults = Faults.uniform(0.3, seed=9, latency_ms=20)
    shares = [
        faults.error_500,
        faults.error_502_html,
        faults.error_503,
        faults.error_504_empty,
        faults.drop_connection,
        faults.truncated_json,
    ]
    assert shares == [pytest.approx(0.05)] * 6
    assert (faults.hang, faults.seed, faults.latency_ms) == (0.0, 9, 20)


def test_pool_limits_default_to_the_documented_budgets() -> None:
    """Pools keep their documented budgets unless overridden; default comes from rate_limit."""
    config = SimulatorConfig(rate_limit=9, pool_limits=(PoolLimit("campaigns", 5, 30),))
    assert config.pool_limit("default") == PoolLimit("default", 9, 3600)
    assert config.pool_limit("campaigns") == PoolLimit("campaigns", 5, 30)
    assert config.pool_limit("export-lists") == PoolLimit("export-lists", 1000, 3600)
    assert config.pool_limit("purchases") == PoolLimit("purchases", 1000, 3600)


def test_default_workspace_serves_a_small_family_catalogue() -> None:
    """Workspace() carries a small awkward catalogue; the default key has every permission."""
    workspace = Workspace()
    assert any(set("&=/?#%+'\"é") & set(e) for e in workspace.events)
    assert len(workspace.products) == 2
    assert any(c.archived for c in workspace.campaigns)
    assert any(c.first_sent is None for c in workspace.campaigns)
    assert len(workspace.sends) == 1
    assert [c.archived for c in workspace.canvases] == [False, True]
    assert ApiKey("k").permissions == ALL_PERMISSIONS
    assert workspace.event_names == tuple(sorted(workspace.events))
