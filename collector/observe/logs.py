"""Log observers: pipeline events as text lines or one JSON object per line on stderr.

They watch; they never steer. Nothing here ever sees the API key. A stream that cannot be
written (a pipe whose reader left, `backfill -vv 2>&1 | head -2`) is dropped at the first failure:
logging stops, the run goes on.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from typing import Any, TextIO

from collector.core.models import RunReport, Window
from collector.observe.events import (
    Event,
    PassStarted,
    RatePaused,
    ReadingLearned,
    RetryScheduled,
    RunFinished,
    WindowFailed,
    WindowStored,
)
from collector.observe.summary import series_fields


def window_fields(window: Window) -> dict[str, Any]:
    s = window.series
    return {
        "stream": s.stream.name,
        **dict(zip(s.stream.dimensions, s.dims, strict=True)),
        "workspace": s.workspace,
        "unit": s.unit.value,
        "first": s.calendar.key(s.unit, window.lo),
        "last": s.calendar.key(s.unit, window.hi - 1),
    }


def summary_fields(report: RunReport) -> dict[str, Any]:
    return {
        "complete": report.complete,
        "interrupted": report.interrupted,
        "requests": report.requests,
        "windows_stored": sum(s.windows for s in report.series.values()),
        "planned_windows": report.planned_windows,
        "retries": dict(report.retries),
        "rate_limited": report.rate_limited,
        "failed_windows": report.failed_windows,
        "inserted": report.inserted,
        "revised": report.revised,
        "alignment": report.alignment,
        "duration_s": round(report.duration_s, 3),
        "achieved_rate_per_s": round(report.achieved_rate, 2),
        "rate_limit_per_s": round(report.rate_limit_per_s, 2),
        "fatal": report.fatal,
        "stopped": report.stopped,
        "skipped": report.skipped,
        "discovery_errors": report.discovery_errors,
        "discovery_requests": report.discovery_requests,
        "taken_over": report.taken_over,
        "notices": report.notices,
        "series": series_fields(report),
    }


WINDOW_LEVEL = 2  # -vv


class LogObserver:
    """Retries, failures, pauses and the summary as text or one JSON object per line."""

    def __init__(self, stream: TextIO, *, fmt: str = "text", verbosity: int = 0) -> None:
        self.stream: TextIO | None = stream
        self.fmt = fmt
        self.verbosity = verbosity
        self._seen = _Tally()
        self._interrupted_report: RunReport | None = None

    def __call__(self, event: Event) -> None:
        self._seen.add(event)
        if isinstance(event, WindowStored) and self.verbosity < WINDOW_LEVEL:
            return  # the hot path: one event per window, logged only at -vv
        record = self._record(event)
        if record is None:
            return
        level, name, fields, text = record
        if level > self.verbosity:
            return
        self._write(name, fields, text)

    def interrupted(self, signal_name: str) -> None:
        """The run was cancelled by a signal, so no RunFinished came: the JSON log still ends
        with a `summary`, built from the events seen and saying it was interrupted."""
        if self.fmt != "json" or self._seen.finished or self.verbosity < 0:
            return
        self._seen.finished = True
        report = self._interrupted_report
        fields = (
            {**summary_fields(report), "interrupted": signal_name}
            if report is not None
            else self._seen.summary(signal_name)
        )
        self._write("summary", fields, "")

    def _write(self, name: str, fields: dict[str, Any], text: str) -> None:
        if self.stream is None:
            return
        if self.fmt == "json":
            line = json.dumps({"ts": round(time.time(), 3), "event": name, **fields}, default=str)
        else:
            line = text
        try:
            print(line, file=self.stream, flush=True)
        except (OSError, ValueError):  # a closed pipe or file: drop the log, not the run
            self.stream = None

    def _record(self, event: Event) -> tuple[int, str, dict[str, Any], str] | None:
        if isinstance(event, RetryScheduled):
            fields = {
                **window_fields(event.window),
                "attempt": event.attempt,
                "cause": event.cause,
                "status": event.status,
                "wait_s": round(event.wait_s, 3),
                "message": event.message,
            }
            return (
                1,
                "retry",
                fields,
                f"retry after attempt {event.attempt} ({event.wait_s:.2f}s): {event.message}",
            )
        if isinstance(event, WindowFailed):
            fields = {
                **window_fields(event.window),
                "attempts": event.attempts,
                "cause": event.cause,
                "message": event.message,
            }
            return (
                0,
                "window_failed",
                fields,
                f"FAILED after {event.attempts} attempt(s): {event.message}",
            )
        if isinstance(event, RatePaused):
            return (
                1,
                "rate_paused",
                {"seconds": round(event.seconds, 3)},
                f"429: every worker pauses {event.seconds:.1f}s",
            )
        if isinstance(event, ReadingLearned):
            return (
                1,
                "alignment",
                {"reading": event.reading},
                f"server reads an on-boundary ending_at as {event.reading}",
            )
        if isinstance(event, PassStarted):
            fields = {"pass": event.name, "windows": event.windows, "missing": event.missing}
            return (
                1,
                "pass",
                fields,
                f"{event.name} pass: {event.windows} request(s) for {event.missing} bucket(s)",
            )
        if isinstance(event, WindowStored):
            fields = {
                **window_fields(event.result.window),
                "attempts": event.attempts,
                "inserted": event.outcome.inserted,
                "revised": event.outcome.revised,
            }
            return (
                WINDOW_LEVEL,
                "window_stored",
                fields,
                f"stored {event.result.window.describe()}",
            )
        if isinstance(event, RunFinished):
            if event.report.interrupted:
                # The CLI knows which signal: `interrupted()` writes this summary with its name.
                self._interrupted_report = event.report
                return None
            level = 0 if self.fmt == "json" else 99  # the text summary is printed by the CLI
            return (level, "summary", summary_fields(event.report), "")
        return None


class _Tally:
    """What the events have shown so far: the summary of a run that never reported."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.windows_stored = 0
        self.failed_windows = 0
        self.inserted = 0
        self.revised = 0
        self.rate_limited = 0
        self.retries: Counter[str] = Counter()
        self.finished = False

    def add(self, event: Event) -> None:
        if isinstance(event, WindowStored):
            self.windows_stored += 1
            self.inserted += event.outcome.inserted
            self.revised += event.outcome.revised
        elif isinstance(event, WindowFailed):
            self.failed_windows += 1
        elif isinstance(event, RetryScheduled):
            self.retries[event.cause] += 1
        elif isinstance(event, RatePaused):
            self.rate_limited += 1
        elif isinstance(event, RunFinished) and not event.report.interrupted:
            self.finished = True

    def summary(self, signal_name: str) -> dict[str, Any]:
        return {
            "complete": False,
            "interrupted": signal_name,
            "windows_stored": self.windows_stored,
            "failed_windows": self.failed_windows,
            "inserted": self.inserted,
            "revised": self.revised,
            "retries": dict(self.retries),
            "rate_limited": self.rate_limited,
            "duration_s": round(time.monotonic() - self.started, 3),
        }
