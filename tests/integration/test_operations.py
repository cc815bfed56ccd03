"""What the people who run it see: progress, logs, summaries, status, plots, exports, config,
budgets and the Python API."""

from __future__ import annotations

import io
import json
import struct
from datetime import UTC, datetime

import pytest
from rich.console import Console

from collector import run as api_run
from collector.cli import main
from collector.clock import VirtualClock
from collector.core.models import (
    Point,
    RunReport,
    Series,
    SeriesReport,
    StoreOutcome,
    Window,
    WindowResult,
)
from collector.core.streams import SESSIONS
from collector.core.units import Calendar, Unit
from collector.observe.events import (
    PassStarted,
    QuotaSeen,
    RatePaused,
    RetryScheduled,
    RunFinished,
    WindowStored,
)
from collector.observe.progress import RichProgress
from collector.observe.summary import print_table
from collector.simulator import Faults, Segment, SimulatorConfig, Workspace, run_simulator

from .harness import NOW, run, sessions_key
from .threaded import simulator_thread

KEY = "sim-key"


@pytest.fixture(scope="module")
def sim():
    config = SimulatorConfig(
        workspaces=(Workspace(apps=("app-ios", "app-web"), segments=(Segment("vip"),)),)
    )
    with simulator_thread(config) as s:
        yield s


@pytest.fixture(scope="module")
def filled_db(sim, tmp_path_factory):
    """A database holding 3 series × (Jan–Apr 2024 days + 2 days of hours)."""
    db = tmp_path_factory.mktemp("ops") / "c.db"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BRAZE_API_KEY", KEY)
        for unit, start, end in (
            ("day", "2024-01-01", "2024-05-01"),
            ("hour", "2024-04-01", "2024-04-03"),
        ):
            assert (
                main(
                    [
                        "backfill",
                        "--start",
                        start,
                        "--end",
                        end,
                        "--unit",
                        unit,
                        "--app-id",
                        "",
                        "--app-id",
                        "app-ios",
                        "--app-id",
                        "app-web",
                        "--db",
                        str(db),
                        "--endpoint",
                        sim.url,
                        "-q",
                    ]
                )
                == 0
            )
    return db


def window_result(n_points: int) -> WindowResult:
    s = Series(SESSIONS, ("a", ""), Unit.DAY, Calendar("UTC"))
    w = Window(s, 800_000, 800_000 + n_points, 800_000, 800_100)
    return WindowResult(
        w,
        (w.lo, w.hi),
        tuple(Point(o, 1, "sessions") for o in range(w.lo, w.hi)),
        datetime(2024, 1, 1, tzinfo=UTC),
    )


def test_progress_shows_windows_points_rate_retries_429s_and_quota():
    """The rich progress bar reports every counter it promises (rendered on rich's test console)."""
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=200, color_system=None)
    progress = RichProgress(console, rate_limit_per_s=69.4)
    progress(PassStarted("main", 3, 300))
    progress(WindowStored(window_result(100), StoreOutcome(100, 0, 0), 1))
    progress(RetryScheduled(window_result(1).window, 1, "ServerError", 503, "503", 0.5))
    progress(RatePaused(until=0.0, seconds=1.0))
    progress(QuotaSeen(limit=250_000, remaining=1234, reset=0.0))
    progress(WindowStored(window_result(50), StoreOutcome(50, 0, 0), 2))
    progress(RunFinished(RunReport()))
    text = out.getvalue()
    assert "2/3 windows" in text and "150 points" in text and "/69.4 req/s" in text
    assert "1 retries" in text and "1 429s" in text and "quota left 1234/250000" in text


def test_summary_table_lists_every_series_with_gaps_left():
    """The end-of-run table has a row per series and the headline."""
    report = RunReport(requests=7, planned_windows=7)
    s = report.series.setdefault(sessions_key("app-ios"), SeriesReport())
    s.windows, s.inserted, s.missing, s.gaps = 7, 700, 3, ["2024-01-01..2024-01-03"]
    out = io.StringIO()
    print_table(report, Console(file=out, width=160, color_system=None))
    text = out.getvalue()
    assert (
        "app-ios" in text
        and "700" in text
        and "2024-01-01..2024-01-03" in text
        and "INCOMPLETE" in text
    )


async def test_json_logs_have_one_event_per_retry_and_a_final_summary(tmp_path):
    """--log-format json: every retry is a parseable line with window, attempt, status and wait."""
    from collector.observe.logs import LogObserver

    clock = VirtualClock(NOW)
    config = SimulatorConfig(faults=Faults(error_503=0.3, seed=5))
    stream = io.StringIO()
    async with run_simulator(config, clock=clock) as sim_:
        from .harness import make_job

        job = make_job(sim_, clock, tmp_path / "c.db", start="2023-01-01")
        from collector.pipeline import collect

        report = await collect(
            job, clock=clock, observers=[LogObserver(stream, fmt="json", verbosity=1)]
        )
    events = [json.loads(line) for line in stream.getvalue().splitlines()]
    retries = [e for e in events if e["event"] == "retry"]
    assert len(retries) == sum(report.retries.values()) > 0
    assert {"app_id", "first", "last", "attempt", "status", "wait_s", "cause"} <= retries[0].keys()
    assert events[-1]["event"] == "summary" and events[-1]["complete"] is True


def test_status_reports_span_points_gaps_and_the_last_run(capsys, filled_db):
    """status --format json: per series first/last/points/gaps/last_fetched and the last run."""
    assert main(["status", "--db", str(filled_db), "--format", "json"]) == 0
    status = json.loads(capsys.readouterr().out)
    days = [s for s in status["series"] if s["unit"] == "day"]
    assert len(days) == 3 and all(s["points"] == 121 and s["gaps"] == [] for s in days)
    assert days[0]["first"] == "2024-01-01" and days[0]["last"] == "2024-04-30"
    assert status["last_run"]["outcome"] == "complete"


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_plot_draws_one_line_per_series_to_a_real_png(capsys, filled_db, tmp_path):
    """plot --unit day: a 1200×600 PNG, one line for each of the 3 series."""
    out = tmp_path / "s.png"
    assert main(["plot", "--db", str(filled_db), "--out", str(out), "--unit", "day"]) == 0
    assert png_size(out.read_bytes()) == (1200, 600)
    assert "drew 3 series" in capsys.readouterr().err


def test_plot_with_nothing_selected_is_a_clear_error(capsys, filled_db, tmp_path):
    """A selection matching no points: exit 2, no file."""
    out = tmp_path / "s.png"
    assert main(["plot", "--db", str(filled_db), "--out", str(out), "--app-id", "ghost"]) == 2
    assert "nothing to plot" in capsys.readouterr().err and not out.exists()


def test_parquet_export_with_filters_streams_every_selected_row(capsys, filled_db, tmp_path):
    """--format parquet with --app-id/--unit/--start/--end: exactly the selected rows, typed."""
    import pyarrow.parquet as pq

    out = tmp_path / "s.parquet"
    args = [
        "export",
        "--db",
        str(filled_db),
        "--format",
        "parquet",
        "--out",
        str(out),
        "--app-id",
        "app-ios",
        "--unit",
        "day",
        "--start",
        "2024-02-01",
        "--end",
        "2024-03-01",
    ]
    assert main(args) == 0
    table = pq.read_table(out)
    assert table.num_rows == 29 and table.column_names == [
        "app_id",
        "segment_id",
        "unit",
        "time",
        "sessions",
    ]
    assert set(table.column("app_id").to_pylist()) == {"app-ios"}
    assert str(table.schema.field("sessions").type) == "int64"


def test_parquet_needs_an_output_file(capsys, filled_db):
    """Parquet cannot go to stdout: exit 2 naming --out."""
    assert main(["export", "--db", str(filled_db), "--format", "parquet"]) == 2
    assert "--out" in capsys.readouterr().err


def test_config_check_prints_resolved_settings_with_the_key_masked(capsys, monkeypatch, tmp_path):
    """Defaults < file < COLLECTOR_* env; the key is never shown."""
    f = tmp_path / "job.toml"
    f.write_text(
        'start = "2024-01-01"\nconcurrency = 3\nendpoint = "https://rest.iad-01.braze.com"\n'
    )
    monkeypatch.setenv("BRAZE_API_KEY", "top-secret-key-123")
    monkeypatch.setenv("COLLECTOR_CONCURRENCY", "5")
    monkeypatch.setenv("COLLECTOR_APP_ID", ",ios")
    assert main(["config", "check", str(f)]) == 0
    out, err = capsys.readouterr()
    settings = json.loads(out)
    assert (
        settings["concurrency"] == 5
        and settings["app_id"] == ["", "ios"]
        and settings["start"] == "2024-01-01"
    )
    assert "top-secret-key-123" not in out + err and settings["api_key"].startswith("**********")


def test_config_check_names_a_bad_environment_variable(capsys, monkeypatch, tmp_path):
    """A wrong COLLECTOR_* value is reported with the variable's name."""
    f = tmp_path / "job.toml"
    f.write_text('start = "2024-01-01"\n')
    monkeypatch.setenv("COLLECTOR_CONCURRENCY", "lots")
    assert main(["config", "check", str(f)]) == 2
    assert "$COLLECTOR_CONCURRENCY" in capsys.readouterr().err


def test_max_requests_stops_cleanly_with_exit_75_and_the_next_run_resumes(
    capsys, monkeypatch, sim, tmp_path
):
    """--max-requests 3: exactly 3 requests, exit 75, then a plain re-run completes."""
    monkeypatch.setenv("BRAZE_API_KEY", KEY)
    db = tmp_path / "c.db"
    args = [
        "backfill",
        "--start",
        "2020-01-01",
        "--end",
        "2024-01-01",
        "--db",
        str(db),
        "--endpoint",
        sim.url,
        "--concurrency",
        "2",
    ]
    before = len(sim.log)
    assert main([*args, "--max-requests", "3"]) == 75
    assert len(sim.log) - before == 3
    assert "next run resumes" in capsys.readouterr().err
    assert main(args) == 0
    assert len(sim.log) - before == 15  # ceil(1461 / 100): nothing fetched twice


async def test_deadline_stops_cleanly_on_the_run_clock(tmp_path):
    """--deadline 30s with a server allowing 1 request per 20 s: stops after the deadline, resumable."""
    clock = VirtualClock(NOW)
    config = SimulatorConfig(rate_limit=1, rate_window_s=20)
    async with run_simulator(config, clock=clock) as sim_:
        report = await run(
            sim_, clock, tmp_path / "c.db", start="2020-01-01", deadline="30s", concurrency=1
        )
        assert report.stopped == "--deadline reached" and not report.complete
        assert 1 <= report.requests <= 3 and report.failed_windows == 0
        report = await run(sim_, clock, tmp_path / "c.db", start="2020-01-01")
        assert report.complete


async def test_python_api_runs_a_backfill_and_returns_the_report(tmp_path):
    """`await collector.run("backfill", ...)` takes the CLI's settings and returns the RunReport."""
    clock = VirtualClock(NOW)
    async with run_simulator(SimulatorConfig(), clock=clock) as sim_:
        report = await api_run(
            "backfill",
            api_key=KEY,
            clock=clock,
            endpoint=sim_.url,
            start="2024-01-01",
            end="2024-06-01",
            db=tmp_path / "c.db",
            app_id=["", "app-ios"],
        )
    assert report.complete and report.inserted == 2 * 152 and report.requests == 4


async def test_python_api_rejects_bad_settings_as_value_errors(tmp_path):
    """Bad settings raise ConfigError, which is also a ValueError, before any request."""
    with pytest.raises(ValueError, match="--unit"):
        await api_run(
            "backfill",
            api_key="k",
            endpoint="https://rest.iad-01.braze.com",
            start="2024-01-01",
            unit="week",
            db=tmp_path / "c.db",
        )


@pytest.mark.parametrize(
    "command",
    [
        "backfill",
        "sync",
        "plan",
        "export",
        "plot",
        "status",
        "simulate",
        "demo",
        "config",
        "discover",
        "db",
    ],
)
def test_every_command_has_help(capsys, command):
    """Each command's --help exits 0 and explains its flags."""
    assert main([command, "--help"]) == 0
    out = capsys.readouterr().out
    assert "usage: collector" in out and "--help" in out
