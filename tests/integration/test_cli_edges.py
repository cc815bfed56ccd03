"""The real CLI at its edges: a reader that goes away (`| head`), a full disk, Ctrl-C and SIGTERM
mid-command, a terminal left behind, and `-q`. Each ends with the exit code the run (not the
pipe) earned, one line at most, no traceback and no "Exception ignored" at shutdown.

Subprocess tests run `python -m collector` against the embedded simulator on loopback.
"""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from collector.cli import main
from collector.simulator import Faults, Simulator, SimulatorConfig

from .threaded import simulator_thread

KEY = "sim-key"  # the simulator's default key
HOURS = ("--start", "2023-01-01", "--end", "2024-01-01", "--unit", "hour")
APPS = ("--app-id", "", "--app-id", "app-ios")
FAST = ("--rate-limit", "100000/s", "--concurrency", "8")
WAIT_S = 30.0


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    """One simulator, 5 ms per request so a run lasts long enough to be interrupted."""
    with simulator_thread(SimulatorConfig(faults=Faults(latency_ms=5.0))) as s:
        yield s


@pytest.fixture(scope="module")
def stored(sim: Simulator, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database with a year of hourly sessions (two series, ~600 KB as CSV) and a quarter of
    campaign stats (for --raw), collected once for the module."""
    db = tmp_path_factory.mktemp("edges") / "c.db"
    common = ["--endpoint", sim.url, "--db", str(db), "-q", *FAST]
    env_before = os.environ.get("BRAZE_API_KEY")
    os.environ["BRAZE_API_KEY"] = KEY
    try:
        assert main(["backfill", *HOURS, *APPS, *common]) == 0
        campaigns = ["--stream", "campaign_stats", "--campaign-id", "*"]
        assert (
            main(["backfill", *campaigns, "--start", "2023-10-01", "--end", "2024-01-01", *common])
            == 0
        )
    finally:
        if env_before is None:
            del os.environ["BRAZE_API_KEY"]
        else:
            os.environ["BRAZE_API_KEY"] = env_before
    return db


def env(**extra: str) -> dict[str, str]:
    """The test's own environment: none of the developer's COLLECTOR_*/BRAZE_* settings."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("COLLECTOR_", "BRAZE_"))}
    return {**clean, "BRAZE_API_KEY": KEY, **extra}


def collector(*args: str, **kw: Any) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "collector", *args],
        env=env(),
        **kw,  # type: ignore[call-overload]
    )


def clean_stderr(err: str, *, lines: int) -> None:
    """At most `lines` lines, no traceback, nothing Python ignored at shutdown."""
    assert "Traceback" not in err, err
    assert "Exception ignored" not in err, err
    assert len([line for line in err.splitlines() if line.strip()]) <= lines, err


def last_run(db: Path) -> tuple[str, int]:
    conn = sqlite3.connect(db)
    try:
        outcome, requests = conn.execute(
            "SELECT outcome, requests FROM runs ORDER BY id DESC LIMIT 1"
        ).fetchone()
    finally:
        conn.close()
    return str(outcome), int(requests)


def test_a_log_reader_that_goes_away_does_not_end_the_run(sim, tmp_path):
    """`backfill -vv 2>&1 | head -2`: the run completes and is recorded complete, exit 0."""
    db = tmp_path / "c.db"
    args = ["backfill", *HOURS, *APPS, "--endpoint", sim.url, "--db", str(db), "-vv"]
    proc = collector(*args, "--concurrency", "2", stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert proc.stdout is not None
    head = [proc.stdout.readline(), proc.stdout.readline()]
    proc.stdout.close()  # `head -2` exits: every later write meets a closed pipe
    assert proc.wait(WAIT_S) == 0, head
    assert last_run(db)[0] == "complete"


@pytest.mark.parametrize(
    "args",
    [
        ["--unit", "hour"],
        ["--unit", "hour", "--format", "jsonl"],
        ["--stream", "campaign_stats", "--format", "jsonl", "--raw"],
    ],
    ids=["csv", "jsonl", "raw"],
)
def test_export_into_head_stops_quietly_with_exit_0(stored, args):
    """`export … | head -1`, like `seq 1e9 | head -1`: no traceback, nothing on stderr, exit 0."""
    proc = collector(
        "export", "--db", str(stored), *args, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.readline()
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(WAIT_S) == 0, err
    clean_stderr(err, lines=0)


@pytest.mark.parametrize(
    "args",
    [
        ["export", "--unit", "hour"],
        ["export", "--unit", "day"],
        ["status", "--format", "json"],
    ],
    ids=["export-big", "export-small", "status"],
)
def test_output_to_a_full_disk_is_one_line_and_exit_4(stored, args):
    """`export > /dev/full` (a large export, and one small enough to sit in the buffer until
    the flush at exit), `status > /dev/full`: one line naming the cause, exit 4, no traceback."""
    with open("/dev/full", "wb") as full:
        proc = collector(*args, "--db", str(stored), stdout=full, stderr=subprocess.PIPE)
        _, err_bytes = proc.communicate(timeout=WAIT_S)
    err = err_bytes.decode()
    assert proc.returncode == 4, err
    assert "cannot write" in err and "No space left on device" in err
    clean_stderr(err, lines=1)


def test_ctrl_c_during_plot_is_one_line_and_exit_130(stored, tmp_path):
    """SIGINT while `plot` draws: one line, exit 130, no traceback."""
    pytest.importorskip("matplotlib")
    script = (
        "import signal, sys\n"
        "import matplotlib.pyplot as plt\n"
        "real = plt.subplots\n"
        "def subplots(*a, **k):\n"
        "    made = real(*a, **k)\n"
        "    signal.raise_signal(signal.SIGINT)  # Ctrl-C, while the figure is being drawn\n"
        "    return made\n"
        "plt.subplots = subplots\n"
        "from collector.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    out = tmp_path / "p.png"
    proc = subprocess.run(
        [sys.executable, "-c", script, "plot", "--db", str(stored), "--out", str(out)],
        env=env(),
        capture_output=True,
        text=True,
        timeout=WAIT_S,
    )
    assert proc.returncode == 130, proc.stderr
    assert "interrupted" in proc.stderr
    clean_stderr(proc.stderr, lines=1)


@pytest.mark.parametrize(
    "args",
    [
        ["export", "--format", "parquet"],  # refused after the store is open
        ["export", "--stream", "sessions", "--stream", "dau", "--out", "/dev/null/x"],
        ["backfill", "--start", "2024-01-01", "--timezone", "America/New_York"],  # zone pinned
    ],
    ids=["parquet-needs-out", "out-not-a-folder", "zone-mismatch"],
)
def test_early_exits_leave_nothing_ignored_at_shutdown(stored, sim, args):
    """An error after the database was opened: one line, no "Exception ignored" at exit."""
    proc = subprocess.run(
        [sys.executable, "-m", "collector", *args, "--db", str(stored)]
        + (["--endpoint", sim.url] if args[0] == "backfill" else []),
        env=env(),
        capture_output=True,
        text=True,
        timeout=WAIT_S,
    )
    assert proc.returncode in (2, 4), proc.stderr
    clean_stderr(proc.stderr, lines=1)


def _wait_for_a_stored_window(proc: subprocess.Popen[str]) -> list[str]:
    assert proc.stderr is not None
    seen: list[str] = []
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        assert line, f"the run ended first: {seen}"
        seen.append(line)
        if '"window_stored"' in line:
            return seen
    raise AssertionError("no window stored in time")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_json_log_ends_with_a_summary_after_a_signal(sim, tmp_path, sig):
    """`--log-format json`, then SIGINT/SIGTERM: the last JSON line is the run's summary,
    saying it was interrupted; exit 130/143."""
    db = tmp_path / "c.db"
    args = ["backfill", *HOURS, *APPS, "--endpoint", sim.url, "--db", str(db), "-vv"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "collector", *args, "--rate-limit", "20/s", "--log-format", "json"],
        env=env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    seen = _wait_for_a_stored_window(proc)
    proc.send_signal(sig)
    _, rest = proc.communicate(timeout=WAIT_S)
    assert proc.returncode == {signal.SIGINT: 130, signal.SIGTERM: 143}[sig], rest
    events = [json.loads(line) for line in [*seen, *rest.splitlines()] if line.startswith("{")]
    summary = events[-1]
    assert summary["event"] == "summary", events[-3:]
    assert summary["complete"] is False and summary["interrupted"] == sig.name
    assert summary["windows_stored"] >= 1 and summary["inserted"] >= 1
    assert summary["requests"] >= summary["windows_stored"]  # the report's own count
    assert "Traceback" not in rest and "Exception ignored" not in rest


def test_quiet_still_reports_failed_windows(capsys, monkeypatch, sim, tmp_path):
    """`-q` and a series the server rejects: exit 1, and stderr names the series and its error
    (quiet hides progress and the summary, not failures)."""
    monkeypatch.setenv("BRAZE_API_KEY", KEY)
    span = ["--start", "2024-01-01", "--end", "2024-02-01"]
    where = ["--endpoint", sim.url, "--db", str(tmp_path / "c.db")]
    code = main(["backfill", *span, "--app-id", "ghost", *where, "-q"])
    out, err = capsys.readouterr()
    assert code == 1
    assert "ghost" in err and "400" in err, err
    assert out == ""


SHOW_CURSOR, HIDE_CURSOR = b"\x1b[?25h", b"\x1b[?25l"


def _read_pty(fd: int, until: bytes | None, deadline: float) -> bytes:
    """Read the terminal's output until `until` appears (or, with None, until it closes)."""
    got = b""
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: every process closed the terminal
            return got
        if not chunk:
            return got
        got += chunk
        if until is not None and until in got:
            return got
    raise AssertionError(f"timed out; got {got[-400:]!r}")


def test_ctrl_c_on_a_terminal_shows_the_cursor_again(sim, tmp_path):
    """A backfill on a terminal (progress bar on, cursor hidden), then SIGINT: exit 130 and the
    terminal's cursor is shown again after the last time it was hidden."""
    db = tmp_path / "c.db"
    args = ["backfill", *HOURS, *APPS, "--endpoint", sim.url, "--db", str(db)]
    primary, secondary = pty.openpty()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "collector", *args, "--rate-limit", "20/s"],
            env=env(TERM="xterm-256color", COLUMNS="120"),
            stdin=secondary,
            stdout=secondary,
            stderr=secondary,
        )
        os.close(secondary)
        deadline = time.monotonic() + WAIT_S
        shown = _read_pty(primary, HIDE_CURSOR, deadline)
        proc.send_signal(signal.SIGINT)
        shown += _read_pty(primary, None, deadline)
        assert proc.wait(WAIT_S) == 130, shown[-400:]
    finally:
        os.close(primary)
    assert SHOW_CURSOR in shown[shown.rindex(HIDE_CURSOR) :], shown[-400:]
    assert b"Traceback" not in shown
