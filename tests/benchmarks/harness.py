"""Processes for the benchmarks: the simulator, measured children, and their figures.

Every measured program runs as its own child process and is reaped with `os.wait4`, whose
rusage is that child's alone: user + system CPU seconds and peak RSS (`ru_maxrss`). The
simulator runs in another process, so its CPU is never counted against the collector.
"""

from __future__ import annotations

import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
PY = sys.executable
API_KEY = "sim-key"  # the simulator's default key
NO_QUOTA = 1_000_000_000  # a server limit no run reaches
UNLIMITED_RATE = "1000000/s"  # a client rate no run reaches
DEFAULT_TIMEOUT_S = 300.0


def apps(n: int) -> list[str]:
    """`n` app ids: one series each (the workspace has exactly these apps)."""
    return [f"app{i:02d}" for i in range(n)]


def year_start(years_back: int = 0) -> str:
    """Midnight UTC on 1 January, `years_back` years before this year's: always in the past."""
    return f"{datetime.now(UTC).year - years_back}-01-01T00:00:00Z"


def child_env() -> dict[str, str]:
    """This environment without COLLECTOR_* overrides, with the simulator's key."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("COLLECTOR_")}
    env["BRAZE_API_KEY"] = API_KEY
    env.pop("BRAZE_REST_ENDPOINT", None)
    return env


@dataclass(frozen=True)
class Measured:
    """One child process: exit code, wall time, its own CPU and peak RSS, and what it printed."""

    returncode: int
    wall_s: float
    user_s: float
    sys_s: float
    maxrss_mb: float
    stdout: str
    stderr: str
    peak_sockets: int = 0

    @property
    def cpu_s(self) -> float:
        return self.user_s + self.sys_s

    def events(self) -> list[dict[str, Any]]:
        """The JSON log lines the collector wrote to stderr (`--log-format json`)."""
        out = []
        for line in self.stderr.splitlines():
            if line.startswith("{"):
                try:
                    out.append(json.loads(line))
                except ValueError:
                    continue
        return out

    def summary(self) -> dict[str, Any]:
        """The collector's final `summary` event; RuntimeError if the run printed none."""
        for event in reversed(self.events()):
            if event.get("event") == "summary":
                return dict(event)
        raise RuntimeError(f"no summary (exit {self.returncode}): {self.stderr[-2000:]}")


def _open_sockets(pid: int) -> int:
    """How many sockets `pid` holds (its TCP connections, plus a few of its own)."""
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return 0
    count = 0
    for fd in fds:
        try:
            count += os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:")
        except OSError:
            continue
    return count


def run_measured(
    argv: Sequence[str],
    *,
    env: dict[str, str] | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    cwd: Path | None = None,
) -> Measured:
    """Run `argv` to completion and reap it with wait4: its rusage is its own. `cwd` (default:
    this checkout) is where `python -m collector` is imported from. The most sockets it held at
    once is sampled 5 times a second (`peak_sockets`: its connections, about its peak in flight)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        child_env_ = env or child_env()
        if cwd is not None:
            child_env_ = {**child_env_, "PYTHONPATH": str(cwd)}
        proc = subprocess.Popen(argv, stdout=out, stderr=err, env=child_env_, cwd=cwd or REPO)
        timer = threading.Timer(timeout_s, proc.kill)  # a hung child must not hang `make bench`
        timer.start()
        peak = [0]
        done = threading.Event()

        def sample() -> None:
            while not done.wait(0.2):
                peak[0] = max(peak[0], _open_sockets(proc.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
            done.set()
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Measured(
            returncode=proc.returncode,
            wall_s=wall,
            user_s=usage.ru_utime,
            sys_s=usage.ru_stime,
            maxrss_mb=usage.ru_maxrss / 1024,  # KiB on Linux
            stdout=out.read().decode(errors="replace"),
            stderr=err.read().decode(errors="replace"),
            peak_sockets=peak[0],
        )


@contextmanager
def simulator(
    *,
    app_ids: Sequence[str],
    limit: int = NO_QUOTA,
    window_s: int = 3600,
    latency_ms: float = 0.0,
    extra: Sequence[str] = (),
) -> Iterator[str]:
    """A simulator process on an ephemeral loopback port; yields its URL, stops it on exit."""
    argv = [
        PY,
        "-m",
        "collector.simulator",
        "--port",
        "0",
        "--limit",
        str(limit),
        "--window",
        str(window_s),
        "--latency-ms",
        str(latency_ms),
        "--apps",
        ",".join(app_ids),
        *extra,
    ]
    proc = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=REPO
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        if not url.startswith("http"):
            raise RuntimeError(f"the simulator did not start (exit {proc.wait()})")
        yield url
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def collector_argv(
    url: str,
    db: Path,
    *,
    start: str,
    end: str,
    app_ids: Sequence[str],
    unit: str = "hour",
    concurrency: int | None = 8,
    rate_limit: str | None = UNLIMITED_RATE,
    verbose: int = 1,
    stream: str | None = None,
) -> list[str]:
    """The real CLI: `collector backfill …` with JSON logs on stderr and a final summary.
    `concurrency` or `rate_limit` None: the collector's own default (no flag)."""
    argv = [PY, "-m", "collector", "backfill", "--start", start, "--end", end, "--unit", unit]
    if stream is not None:
        argv += ["--stream", stream]
    for app in app_ids:
        argv += ["--app-id", app]
    argv += ["--endpoint", url, "--db", str(db)]
    if concurrency is not None:
        argv += ["--concurrency", str(concurrency)]
    if rate_limit is not None:
        argv += ["--rate-limit", rate_limit]
    argv += ["--no-progress", "--log-format", "json"]
    return [*argv, "-" + "v" * verbose] if verbose else argv


def bare_argv(
    url: str,
    *,
    start: str,
    end: str,
    app_ids: Sequence[str],
    concurrency: int,
    fetch: bool = True,
) -> list[str]:
    """The bare aiohttp loop over the same windows (see `bare.py`)."""
    argv = [PY, "-m", "tests.benchmarks.bare", "--endpoint", url, "--start", start, "--end", end]
    argv += ["--apps", ",".join(app_ids), "--concurrency", str(concurrency)]
    return argv if fetch else [*argv, "--no-fetch"]


def components_argv(url: str, app_ids: Sequence[str], *, windows: int = 2000) -> list[str]:
    """The in-process breakdown of a window's CPU (see `components.py`)."""
    return [
        PY,
        "-m",
        "tests.benchmarks.components",
        "--endpoint",
        url,
        "--apps",
        ",".join(app_ids),
        "--windows",
        str(windows),
    ]


def stored_times(events: Sequence[dict[str, Any]]) -> list[float]:
    """When each window was stored (`-vv` logs one `window_stored` event per window)."""
    return sorted(e["ts"] for e in events if e.get("event") == "window_stored")


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def machine() -> dict[str, Any]:
    """What the figures came from."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cores": os.cpu_count(),
        "cpu": model or platform.processor(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "system": f"{platform.system()} {platform.release()}",
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
    }


class Figures:
    """Collects figures and prints each as one JSON line the moment it is known."""

    def __init__(self, stream: Any = None) -> None:
        self.stream = stream or sys.stdout
        self.rows: list[dict[str, Any]] = []

    def add(self, bench: str, name: str, value: Any, unit: str = "", **detail: Any) -> None:
        row = {"bench": bench, "figure": name, "value": value, "unit": unit, **detail}
        self.rows.append(row)
        print(json.dumps(row, default=str), file=self.stream, flush=True)

    def note(self, text: str) -> None:
        """Progress for the person running `make bench` (stderr, not a figure)."""
        print(f"# {text}", file=sys.stderr, flush=True)
