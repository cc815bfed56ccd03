"""A run's per-series outcome says what happened, never 'complete' for what was not fetched."""

from __future__ import annotations

from collector.core.models import RunReport, SeriesReport

KEY = ("default", "sessions", '["",""]', "day")


def test_a_series_never_reached_before_an_auth_failure_is_not_complete():
    """Found in the JSON summary: after a 401 every series said 'complete' with 0 missing."""
    report = RunReport(fatal="401 Unauthorized")
    report.series[KEY] = SeriesReport()
    assert report.outcome(KEY) == "auth-failed" and not report.complete


def test_outcomes_once_gaps_are_known():
    report = RunReport()
    s = report.series.setdefault(KEY, SeriesReport())
    assert report.outcome(KEY) == "unknown"
    s.missing = 0
    assert report.outcome(KEY) == "complete" and report.complete
    s.missing = 3
    assert report.outcome(KEY) == "incomplete"
    report.interrupted = True
    s.missing = None
    assert report.outcome(KEY) == "interrupted"
