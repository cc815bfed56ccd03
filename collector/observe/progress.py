"""Progress on a terminal (rich): windows done of planned, points, requests/s against the
limit, ETA, retries and 429s so far, and the server quota left in its current window.

An observer: it reads events and never steers. Off when stderr is not a terminal or with
`--no-progress`. The display hides the cursor while it runs: whoever starts a run with it calls
`close()` in a `finally`, so a cancelled run (Ctrl-C) gives the terminal its cursor back.
"""

from __future__ import annotations

import time

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeRemainingColumn

from collector.observe.events import (
    Event,
    PassStarted,
    QuotaSeen,
    RatePaused,
    RetryScheduled,
    RunFinished,
    WindowFailed,
    WindowStored,
)


class RichProgress:
    """One rich progress bar fed by pipeline events."""

    def __init__(self, console: Console, *, rate_limit_per_s: float) -> None:
        self.console = console
        self.rate_limit_per_s = rate_limit_per_s
        self.done = 0
        self.total = 0
        self.points = 0
        self.retries = 0
        self.rate_limited = 0
        self.quota: str = "?"
        self._started = time.monotonic()
        self._progress = Progress(
            BarColumn(bar_width=16),
            TextColumn("{task.completed}/{task.total} windows"),
            TimeRemainingColumn(),
            TextColumn("{task.fields[detail]}"),
            console=console,
            transient=False,
        )
        self._task: TaskID | None = None

    def __call__(self, event: Event) -> None:
        if isinstance(event, PassStarted):
            self.total = self.done + event.windows
            if self._task is None:
                self._progress.start()
                self._task = self._progress.add_task("collecting", total=self.total, detail="")
        elif isinstance(event, WindowStored):
            self.done += 1
            self.points += len(event.result.points)
        elif isinstance(event, WindowFailed):
            self.done += 1
        elif isinstance(event, RetryScheduled):
            self.retries += 1
        elif isinstance(event, RatePaused):
            self.rate_limited += 1
        elif isinstance(event, QuotaSeen):
            self.quota = f"{event.remaining}/{event.limit}"
        elif isinstance(event, RunFinished):
            self._refresh()
            self.close()
            return
        self._refresh()

    def close(self) -> None:
        """Stop the display and show the cursor again; safe to call more than once."""
        if self._task is not None:
            self._progress.stop()

    def detail(self) -> str:
        elapsed = max(1e-6, time.monotonic() - self._started)
        return (
            f"{self.points} points · {self.done / elapsed:.1f}/{self.rate_limit_per_s:.1f} req/s · "
            f"{self.retries} retries · {self.rate_limited} 429s · quota left {self.quota}"
        )

    def _refresh(self) -> None:
        if self._task is not None:
            self._progress.update(
                self._task,
                completed=self.done,
                total=max(self.total, self.done),
                detail=self.detail(),
            )
