"""argv → settings → pipeline → exit code. Thin: parse, configure output once, call the core.

Exit codes:
    0    complete
    1    some windows still failed after retries (data kept; re-running resumes)
    2    usage or configuration error (nothing was sent)
    3    authentication or permission refused (401/403)
    4    the local database could not be opened, read or written
    130  interrupted by SIGINT; 143 by SIGTERM (every finished window is committed)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any, TypeVar

from collector import __version__
from collector.config import (
    DEFAULT_DB,
    DEFAULT_LOOKBACK,
    ENV_API_KEY,
    ENV_ENDPOINT,
    Command,
    build_job,
    load_file,
    settings_from,
)
from collector.errors import CollectorError, ConfigError, StoreError
from collector.events import Observer
from collector.export import FORMATS, export
from collector.observe import LogObserver, ProgressLine, print_summary
from collector.pipeline import collect, plan_only
from collector.store import SQLiteStore
from collector.units import Unit

T = TypeVar("T")

EXIT_OK, EXIT_INCOMPLETE, EXIT_USAGE, EXIT_AUTH, EXIT_STORE = 0, 1, 2, 3, 4
EXIT_SIGNAL = {signal.SIGINT: 130, signal.SIGTERM: 143}


class Interrupted(Exception):
    """SIGINT or SIGTERM arrived; the run stopped after committing what was done."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> Any:  # usage errors: one line and exit 2, no traceback
        print(f"{self.prog}: error: {message} (see {self.prog} --help)", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def _series_flags(p: argparse.ArgumentParser, *, sync: bool = False) -> None:
    g = p.add_argument_group("what to collect")
    g.add_argument(
        "--start",
        help="first bucket, a date or datetime in the workspace zone unless it has an offset "
        "(e.g. 2024-01-01 or 2024-01-01T00:00:00Z)"
        + ("; sync needs it only for series with nothing stored" if sync else "; required"),
    )
    g.add_argument(
        "--end",
        help="end of the half-open range [start, end) (default: the end of the last complete "
        "unit; the current one is partial)",
    )
    g.add_argument("--unit", choices=["day", "hour"], help="bucket size (default: day)")
    g.add_argument(
        "--app-id",
        action="append",
        metavar="ID",
        help="an app API identifier; repeat for several; '' is the workspace total "
        "(default: the workspace total only)",
    )
    g.add_argument(
        "--segment-id",
        action="append",
        metavar="ID",
        help="an analytics-enabled segment id; repeat for several; '' is no segment "
        "(default: no segment only)",
    )
    if sync:
        g.add_argument(
            "--lookback",
            type=int,
            metavar="N",
            help=f"re-fetch the last N stored buckets so late data are refreshed "
            f"(default: {DEFAULT_LOOKBACK[Unit.DAY]} days or {DEFAULT_LOOKBACK[Unit.HOUR]} hours)",
        )
    c = p.add_argument_group("where and how")
    c.add_argument(
        "--endpoint",
        metavar="URL",
        help=f"REST endpoint of your instance, e.g. https://rest.iad-01.braze.com "
        f"(default: ${ENV_ENDPOINT}, then the config file)",
    )
    c.add_argument(
        "--db", type=Path, metavar="PATH", help=f"SQLite database (default: {DEFAULT_DB})"
    )
    c.add_argument("--timezone", metavar="TZ", help="workspace time zone, IANA name (default: UTC)")
    c.add_argument("--concurrency", type=int, metavar="N", help="requests in flight (default: 8)")
    c.add_argument(
        "--rate-limit",
        metavar="N/s|N/m|N/h",
        help="this job's share of the workspace quota (default: 250000/h); the server's "
        "X-RateLimit headers lower it further when needed",
    )
    c.add_argument("--max-retries", type=int, metavar="N", help="retries per window (default: 8)")
    c.add_argument(
        "--timeout", type=float, metavar="S", help="per-request timeout in seconds (default: 30)"
    )
    c.add_argument("--config", type=Path, metavar="FILE", help="TOML job file; flags override it")
    c.add_argument(
        "--api-key-file",
        type=Path,
        metavar="PATH",
        help=f"read the REST API key from this file (default: ${ENV_API_KEY})",
    )
    o = p.add_argument_group("output")
    o.add_argument(
        "--no-progress", dest="progress", action="store_const", const=False, help="no progress line"
    )
    o.add_argument(
        "--log-format", choices=["text", "json"], help="stderr log format (default: text)"
    )
    o.add_argument("-v", "--verbose", action="count", help="more log lines (-vv: every window)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="collector",
        description="Pull Braze analytics time series (/sessions/data_series) in bulk into SQLite: "
        "≤100-unit windows, concurrent, rate-aware, resumable.",
        epilog="Exit codes: 0 complete, 1 windows failed (re-run resumes), 2 usage, 3 auth, "
        "4 database, 130/143 interrupted.",
    )
    parser.add_argument("--version", action="version", version=f"collector {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    _series_flags(
        sub.add_parser(
            "backfill",
            help="fetch [start, end) for every series, skipping what is stored",
            description="Fetch [start, end) for every app × segment series, skipping what the "
            "database already holds.\n\nExample:\n  BRAZE_API_KEY=… collector backfill "
            "--endpoint https://rest.iad-01.braze.com \\\n      --start 2021-01-01 --unit day "
            "--app-id '' --app-id IOS_ID --db sessions.db",
        )
    )
    _series_flags(
        sub.add_parser(
            "sync",
            help="nightly: refresh the last stored buckets and fetch newer ones",
            description="Re-fetch the last --lookback stored buckets of every series (Braze "
            "revises recent data) and everything newer, up to the last complete unit."
            "\n\nExample:\n  collector sync --db sessions.db --app-id '' --lookback 3",
        ),
        sync=True,
    )
    _series_flags(
        sub.add_parser(
            "plan",
            help="show the windows and requests a backfill would make; sends nothing",
            description="Print the series, windows and requests a backfill would make now, and "
            "how long they take at --rate-limit. Sends nothing.\n\nExample:\n  collector plan "
            "--start 2020-01-01 --unit hour --app-id A --app-id B",
        )
    )
    ex = sub.add_parser("export", help="write stored points as CSV or JSON Lines")
    ex.add_argument(
        "--db",
        type=Path,
        default=DEFAULT_DB,
        metavar="PATH",
        help=f"database (default: {DEFAULT_DB})",
    )
    ex.add_argument("--format", choices=FORMATS, default="csv", help="output format (default: csv)")
    ex.add_argument("--out", type=Path, metavar="FILE", help="output file (default: stdout)")
    st = sub.add_parser("status", help="coverage and gaps per stored series")
    st.add_argument(
        "--db",
        type=Path,
        default=DEFAULT_DB,
        metavar="PATH",
        help=f"database (default: {DEFAULT_DB})",
    )
    st.add_argument(
        "--format", choices=["text", "json"], default="text", help="output format (default: text)"
    )
    sim = sub.add_parser("simulate", help="serve the embedded Braze simulator on loopback")
    from collector.simulator import cli as simulator_cli

    simulator_cli.add_arguments(sim)
    demo = sub.add_parser("demo", help="a real backfill against the embedded simulator (make run)")
    demo.add_argument(
        "--dir", type=Path, default=Path("demo"), help="output folder (default: demo)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error already printed
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    try:
        if args.command in ("backfill", "sync", "plan"):
            return _run_job(args)
        if args.command == "export":
            return _export(args)
        if args.command == "status":
            return _status(args)
        if args.command == "simulate":
            from collector.simulator import cli as simulator_cli

            code: int = simulator_cli.run(args)
            return code
        from collector import demo

        return _with_signals(lambda: demo.run(args.dir))
    except ConfigError as exc:
        _error(str(exc))
        return EXIT_USAGE
    except StoreError as exc:
        _error(str(exc))
        return EXIT_STORE
    except Interrupted as exc:
        _error(f"interrupted by {exc}; every finished window is committed, re-run to resume")
        return EXIT_SIGNAL[signal.Signals(exc.signum)]
    except CollectorError as exc:
        _error(str(exc))
        return EXIT_INCOMPLETE


def _error(text: str) -> None:
    print(f"collector: {text}", file=sys.stderr)


def _flags(args: argparse.Namespace) -> dict[str, Any]:
    names = [
        "start",
        "end",
        "unit",
        "app_id",
        "segment_id",
        "endpoint",
        "db",
        "timezone",
        "concurrency",
        "rate_limit",
        "max_retries",
        "timeout",
        "api_key_file",
        "progress",
        "log_format",
        "verbose",
        "lookback",
    ]
    return {n: getattr(args, n, None) for n in names}


def _run_job(args: argparse.Namespace) -> int:
    file_values = load_file(args.config) if args.config else {}
    settings = settings_from(file_values, _flags(args), source=str(args.config))
    command: Command = args.command
    job = build_job(command, settings)
    if command == "plan":
        _print_plan(job)
        return EXIT_OK
    observers: list[Observer] = [
        LogObserver(sys.stderr, fmt=settings.log_format, verbosity=settings.verbose)
    ]
    if settings.progress and sys.stderr.isatty() and settings.log_format == "text":
        observers.append(ProgressLine(sys.stderr))
    report = _with_signals(lambda: collect(job, observers=observers))
    if settings.log_format == "text":
        print_summary(report, sys.stdout)
    if report.fatal:
        _error(report.fatal)
        return EXIT_AUTH
    return EXIT_OK if report.complete else EXIT_INCOMPLETE


def _with_signals(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine; SIGINT/SIGTERM cancel it (its cleanup commits), then raise Interrupted."""

    async def guarded() -> T:
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        assert task is not None
        got: list[int] = []

        def on_signal(signum: int) -> None:
            got.append(signum)
            task.cancel()

        for signum in EXIT_SIGNAL:
            loop.add_signal_handler(signum, on_signal, signum)
        try:
            return await make()
        except asyncio.CancelledError:
            if got:
                raise Interrupted(got[0]) from None
            raise
        finally:
            for signum in EXIT_SIGNAL:
                loop.remove_signal_handler(signum)

    return asyncio.run(guarded())


def _print_plan(job: Any) -> None:
    plan, _ = plan_only(job)
    seconds = plan.requests / job.rate.per_second
    print(f"{len(plan.series)} series, {plan.missing} {job.unit}s missing")
    for sp in plan.series:
        print(
            f"  {sp.series.describe()}: {sp.missing} {job.unit}s in {len(sp.gaps)} gap(s), {sp.requests} request(s)"
        )
    print(f"{plan.requests} request(s); at {job.rate} that is at least {seconds:.1f}s")


def _export(args: argparse.Namespace) -> int:
    with SQLiteStore(args.db, timezone=None, read_only=True) as store:
        if args.out is None:
            rows = export(store, sys.stdout, args.format)
        else:
            try:
                with args.out.open("w", encoding="utf-8", newline="") as f:
                    rows = export(store, f, args.format)
            except OSError as exc:
                raise ConfigError(f"--out {args.out}: cannot write it ({exc.strerror})") from exc
            print(f"wrote {rows} rows to {args.out}", file=sys.stderr)
    return EXIT_OK


def _status(args: argparse.Namespace) -> int:
    from collector.status import describe, render

    with SQLiteStore(args.db, timezone=None, read_only=True) as store:
        status = describe(store)
    print(json.dumps(status, indent=2) if args.format == "json" else render(status))
    return EXIT_OK
