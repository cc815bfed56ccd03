"""Configuration validation: bad values fail at construction with a message naming the field."""

from __future__ import annotations

from datetime import datetime

import pytest

from collector.simulator import ApiKey, Faults, Segment, SimulatorConfig, Workspace


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
