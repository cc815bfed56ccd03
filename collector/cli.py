"""argv → settings → pipeline → exit code. Thin: parse, configure output once, call the core.

Exit codes:
    0    complete
    1    some windows still failed after retries (data kept; re-running resumes)
    2    usage or configuration error (nothing was sent)
    3    authentication refused (401), or every stream refused by permission (403)
    4    the local database could not be opened, read or written, or an output could not be
         written (`export > /dev/full`: "cannot write …: No space left on device")
    75   a --max-requests or --deadline budget ran out (finished windows kept; next run resumes)
    130  interrupted by SIGINT (Ctrl-C, any command); 143 by SIGTERM (every finished window is
         committed)

A reader that goes away (`collector export | head -1`) is not an error: output stops quietly and
the exit code is the command's own (0 for export; a run's log or summary reader leaving never ends
the run, which exits as it finished). Observers watch the run and never end it: one that fails is
switched off.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sys
from collections.abc import Callable, Coroutine, Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO, TypeVar

from collector import __version__
from collector.config import (
    DEFAULT_DB,
    DEFAULT_DISCOVERY_TTL,
    ENV_API_KEY,
    ENV_DB,
    ENV_ENDPOINT,
    ENV_PG_SCHEMA,
    Command,
    masked,
    resolve,
    streams_named,
)
from collector.core.models import DEFAULT_WORKSPACE
from collector.core.streams import POOL_RATES, STREAMS, Stream
from collector.errors import CollectorError, ConfigError, StoreError
from collector.observe.events import Event, Observer
from collector.observe.logs import LogObserver
from collector.observe.progress import RichProgress
from collector.observe.summary import headline, print_summary, print_table, trouble
from collector.readout.export import (
    FORMATS,
    Selection,
    columns,
    write_names,
    write_parquet,
    write_raw,
    write_text,
)
from collector.store import DEFAULT_PG_SCHEMA, display, open_read_store
from collector.store.base import ReadStore

T = TypeVar("T")

EXIT_OK, EXIT_INCOMPLETE, EXIT_USAGE, EXIT_AUTH, EXIT_STORE, EXIT_BUDGET = 0, 1, 2, 3, 4, 75
EXIT_OUTPUT = EXIT_STORE  # a local write failed: the database, or an export's output
EXIT_SIGNAL = {signal.SIGINT: 130, signal.SIGTERM: 143}


class Interrupted(Exception):
    """SIGINT or SIGTERM arrived; the run stopped after committing what was done."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class OutputFailed(Exception):
    """Writing a command's output failed (disk full, I/O error); not a closed pipe."""


class ReaderGone(Exception):
    """The reader of stdout went away (`| head`): stop writing, quietly."""


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> Any:  # usage errors: one line and exit 2, no traceback
        text = one_line(f"{self.prog}: error: {message} (see {self.prog} --help)")
        print(text, file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def one_line(text: str) -> str:
    """`text` with line breaks and other control characters escaped (argparse and errors echo
    the user's values raw; a newline would split the one-line message, an escape sequence would
    reach the terminal)."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)


STREAM_HELP = "a stream to collect; repeat for several (default: sessions). One of: " + ", ".join(
    STREAMS
)


def _series_flags(p: argparse.ArgumentParser, *, sync: bool = False) -> None:
    g = p.add_argument_group("what to collect")
    g.add_argument("--stream", action="append", metavar="NAME", help=STREAM_HELP)
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
        help="an analytics-enabled segment id; repeat for several; '' is no segment, '*' every "
        "tracked segment the workspace lists (default: no segment only)",
    )
    g.add_argument(
        "--event",
        action="append",
        metavar="NAME",
        help="a custom event name (required by --stream events); '*' is every listed event",
    )
    g.add_argument(
        "--product",
        action="append",
        metavar="NAME",
        help="a product id for the purchase streams; '' is all products (default), '*' every "
        "listed product",
    )
    g.add_argument(
        "--campaign-id",
        action="append",
        metavar="ID",
        help="a campaign for campaign_stats; '*' every campaign, archived ones included",
    )
    g.add_argument(
        "--canvas-id",
        action="append",
        metavar="ID",
        help="a Canvas for canvas_stats; '*' every Canvas, archived ones included",
    )
    g.add_argument(
        "--send-id",
        action="append",
        metavar="CAMPAIGN_ID:SEND_ID",
        help="a send for send_stats (Braze keeps send analytics 14 days); repeatable",
    )
    g.add_argument(
        "--workspace",
        metavar="NAME",
        help=f"the name this workspace's series are kept under in --db, so several workspaces "
        f"can share one database (default: {DEFAULT_WORKSPACE})",
    )
    g.add_argument(
        "--discovery-ttl",
        metavar="DURATION",
        help=f"reuse lists ('*') fetched within this long (default: {DEFAULT_DISCOVERY_TTL})",
    )
    g.add_argument(
        "--lease",
        type=float,
        metavar="S",
        help="PostgreSQL: seconds a claimed window stays this process's without a heartbeat, "
        "before a cooperating process may take it over (default: 30)",
    )
    if sync:
        g.add_argument(
            "--lookback",
            type=int,
            metavar="N",
            help="re-fetch the last N stored buckets so late data are refreshed (default: per "
            "stream, e.g. 3 days or 48 hours for sessions, 14 days for campaign stats)",
        )
    c = p.add_argument_group("where and how")
    c.add_argument(
        "--endpoint",
        metavar="URL",
        help=f"REST endpoint of your instance, e.g. https://rest.iad-01.braze.com "
        f"(default: ${ENV_ENDPOINT}, then the config file)",
    )
    c.add_argument(
        "--db",
        metavar="PATH|URL",
        help=f"SQLite file, or postgresql://… (default: ${ENV_DB}, then {DEFAULT_DB})",
    )
    c.add_argument(
        "--key-rotated",
        action="store_const",
        const=True,
        help="accept a new API key for a workspace already in --db (after rotating its key)",
    )
    c.add_argument("--timezone", metavar="TZ", help="workspace time zone, IANA name (default: UTC)")
    c.add_argument(
        "--concurrency",
        type=int,
        metavar="N",
        help="the most requests in flight per pool; fewer when the rate and latency need fewer (default: 128)",
    )
    c.add_argument(
        "--rate-limit",
        action="append",
        metavar="[POOL=]N/s|m|h",
        help="this job's share of a pool's quota; no POOL= is the default pool (defaults: "
        + ", ".join(f"{k} {v}" for k, v in POOL_RATES.items())
        + "); the server's X-RateLimit headers lower it further when needed",
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
    b = p.add_argument_group("budgets for a time slot")
    b.add_argument(
        "--max-requests",
        type=int,
        metavar="N",
        help="stop after N requests, commit, exit 75 (default: no limit); e.g. --max-requests 50000",
    )
    b.add_argument(
        "--deadline",
        metavar="DURATION",
        help="stop after this long, commit, exit 75 (default: none); e.g. --deadline 45m, 2h, 1h30m",
    )
    o = p.add_argument_group("output")
    o.add_argument(
        "--no-progress", dest="progress", action="store_const", const=False, help="no progress line"
    )
    o.add_argument(
        "--log-format", choices=["text", "json"], help="stderr log format (default: text)"
    )
    o.add_argument(
        "-v",
        "--verbose",
        action="count",
        help="more log lines: retries, pauses (-vv: every window)",
    )
    o.add_argument(
        "-q", "--quiet", action="store_const", const=True, help="only errors; no summary"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="collector",
        description="Pull Braze analytics time series (sessions, KPIs, events, purchases, "
        "segments, campaign, Canvas and send stats) in bulk into SQLite or PostgreSQL: minimal "
        "windows, concurrent, rate-aware per pool, resumable.",
        epilog="Exit codes: 0 complete, 1 windows failed (re-run resumes), 2 usage, 3 auth, "
        "4 database, 75 --max-requests/--deadline spent (re-run resumes), 130/143 interrupted.",
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
    ex = sub.add_parser(
        "export",
        help="write stored points as CSV, JSON Lines or Parquet",
        description="One stream's points, sorted; '' is all apps / no segment / all products; "
        "days YYYY-MM-DD, hours YYYY-MM-DDTHH:MM:SSZ (UTC). Columns per stream:\n"
        + "\n".join(f"  {s.name}: {','.join(columns(s))}" for s in STREAMS.values())
        + "\n\nExample:\n  collector export --db sessions.db --format parquet --out "
        "sessions.parquet --unit hour --start 2024-01-01\n  collector export --stream dau "
        "--stream mau --format csv --out exports/",
    )
    _db_flag(ex)
    ex.add_argument("--format", choices=FORMATS, default="csv", help="output format (default: csv)")
    ex.add_argument(
        "--out",
        type=Path,
        metavar="FILE|DIR",
        help="output file (default: stdout; required for parquet); a folder with several "
        "--stream: one <stream>.<format> each",
    )
    ex.add_argument(
        "--raw",
        action="store_true",
        help="with --format jsonl and a nested stream: the day objects as Braze sent them",
    )
    ex.add_argument(
        "--names",
        action="store_true",
        help="a nested stream's names dimension (CSV: ids, kind, id, name) instead of its values",
    )
    _selection_flags(ex)
    pl = sub.add_parser(
        "plot",
        help="draw the stored timelines to a PNG (needs collector[plot])",
        description="One line per series; a hole in coverage breaks its line.\n\nExample:\n"
        "  collector plot --db sessions.db --out sessions.png --unit day --app-id ''",
    )
    _db_flag(pl)
    pl.add_argument("--out", type=Path, metavar="FILE.png", required=True, help="PNG to write")
    _selection_flags(pl)
    disc = sub.add_parser(
        "discover",
        help="list what '*' expands to for a stream (and cache it)",
        description="Fetch the workspace's lists that --stream's '*' would use (events, "
        "products, segments, campaigns, Canvases), print them, and cache them in --db."
        "\n\nExample:\n  collector discover --stream events --stream segment_size",
    )
    _series_flags(disc)
    st = sub.add_parser(
        "status",
        help="coverage and gaps per stored series",
        description="Per series: first and last bucket, points, gaps, last fetched, and the "
        "last run's outcome.\n\nExample:\n  collector status --db sessions.db --format json",
    )
    _db_flag(st)
    st.add_argument("--workspace", metavar="NAME", help="only this workspace (default: all)")
    st.add_argument(
        "--format", choices=["text", "json"], default="text", help="output format (default: text)"
    )
    cfg = sub.add_parser("config", help="validate a job file and show the resolved settings")
    cfg_sub = cfg.add_subparsers(dest="config_command", required=True, parser_class=_Parser)
    check = cfg_sub.add_parser(
        "check",
        help="validate FILE (+ COLLECTOR_* env) and print the resolved settings, key masked",
        description="Example:\n  collector config check config/example.toml",
    )
    check.add_argument("file", type=Path, metavar="FILE", help="TOML job file")
    check.add_argument(
        "--for",
        dest="for_command",
        choices=["backfill", "sync", "plan"],
        default="backfill",
        help="validate for this command (default: backfill)",
    )
    db = sub.add_parser("db", help="move a history between databases")
    db_sub = db.add_subparsers(dest="db_command", required=True, parser_class=_Parser)
    cp = db_sub.add_parser(
        "copy",
        help="copy points, coverage, revisions, runs and discovery from one --db to another",
        description="Idempotent and resumable: re-running copies only what is missing."
        "\n\nExample:\n  collector db copy --from collector.db --to postgresql://host/analytics",
    )
    cp.add_argument("--from", dest="source", required=True, metavar="PATH|URL")
    cp.add_argument("--to", dest="target", required=True, metavar="PATH|URL")
    cp.add_argument("--pg-schema", metavar="NAME", help="schema on the PostgreSQL side(s)")
    # Its flags are the simulator's own (main() hands `simulate …` to it): listed here for --help.
    sub.add_parser(
        "simulate",
        help="serve the embedded Braze simulator on loopback (collector simulate --help)",
        add_help=False,
    )
    demo = sub.add_parser("demo", help="a real backfill against the embedded simulator (make run)")
    demo.add_argument(
        "--dir", type=Path, default=Path("demo"), help="output folder (default: demo)"
    )
    return parser


def _db_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--db",
        metavar="PATH|URL",
        help=f"database: a SQLite path or postgresql://… (default: ${ENV_DB}, then {DEFAULT_DB})",
    )
    p.add_argument(
        "--pg-schema",
        metavar="NAME",
        help=f"PostgreSQL schema of the tables (default: ${ENV_PG_SCHEMA}, then {DEFAULT_PG_SCHEMA})",
    )


def _db_of(args: argparse.Namespace) -> str:
    return str(args.db or os.environ.get(ENV_DB) or DEFAULT_DB)


def _schema_of(args: argparse.Namespace) -> str:
    return str(args.pg_schema or os.environ.get(ENV_PG_SCHEMA) or DEFAULT_PG_SCHEMA)


SELECTION_DIMENSIONS = ("app_id", "segment_id", "event", "product", "campaign_id", "canvas_id")


def _selection_flags(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("which points (default: all)")
    g.add_argument(
        "--stream", action="append", metavar="NAME", help="the stream (default: sessions)"
    )
    g.add_argument("--workspace", metavar="NAME", help=f"(default: {DEFAULT_WORKSPACE})")
    for dim in SELECTION_DIMENSIONS:
        g.add_argument(
            "--" + dim.replace("_", "-"),
            action="append",
            metavar="ID",
            help=f"only this {dim} ('' = all / none); repeatable",
        )
    g.add_argument("--unit", choices=["day", "hour"], help="only this unit")
    g.add_argument("--start", metavar="TIME", help="from this bucket, e.g. 2024-01-01 (inclusive)")
    g.add_argument("--end", metavar="TIME", help="until this bucket, e.g. 2025-01-01 (exclusive)")


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["simulate"]:
        from collector.simulator import cli as simulator_cli

        try:
            return simulator_cli.main(argv[1:], prog="collector simulate")
        except SystemExit as exc:  # --help, or a usage error already printed
            return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error already printed
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    try:
        code = _dispatch(args)
        _flush_stdout()
        return code
    except ReaderGone:
        return EXIT_OK  # like `seq 1e9 | head -1`: the reader has what it wanted
    except OutputFailed as exc:
        _error(str(exc))
        return EXIT_OUTPUT
    except KeyboardInterrupt:  # SIGINT outside a run's own handler (export, plot, status …)
        _error("interrupted by SIGINT")
        return EXIT_SIGNAL[signal.SIGINT]
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


def _dispatch(args: argparse.Namespace) -> int:
    if args.command in ("backfill", "sync", "plan"):
        return _run_job(args)
    if args.command == "export":
        return _export(args)
    if args.command == "plot":
        return _plot(args)
    if args.command == "status":
        return _status(args)
    if args.command == "discover":
        return _discover(args)
    if args.command == "config":
        return _config_check(args)
    if args.command == "db":
        return _db_copy(args)
    from collector import demo

    return _with_signals(lambda: demo.run(args.dir))


def _error(text: str) -> None:
    """One line on stderr; dropped when stderr is a pipe nobody reads any more."""
    try:
        print(one_line(f"collector: {text}"), file=sys.stderr, flush=True)
    except (OSError, ValueError):
        _to_devnull(sys.stderr)


def _to_devnull(stream: TextIO) -> None:
    """Point a broken stream's file descriptor at /dev/null, so what is still buffered (and the
    flush at interpreter exit) goes nowhere instead of raising "Exception ignored … BrokenPipeError"
    (the Python docs' note on SIGPIPE). Streams without a descriptor (tests) are left alone."""
    try:
        fd = stream.fileno()
    except (OSError, ValueError, AttributeError):
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)


@contextlib.contextmanager
def _writing_stdout() -> Iterator[None]:
    """Around output to stdout: a closed pipe is ReaderGone, any other write error OutputFailed
    (one line naming the cause, exit 4)."""
    try:
        yield
        sys.stdout.flush()
    except BrokenPipeError:
        _to_devnull(sys.stdout)
        raise ReaderGone from None
    except OSError as exc:
        _to_devnull(sys.stdout)
        raise OutputFailed(f"cannot write to stdout: {exc.strerror or exc}") from None


def _flush_stdout() -> None:
    """Flush now, where a failure can still be reported, rather than at interpreter exit."""
    with _writing_stdout():
        pass


def _print_quietly(show: Callable[[], None]) -> None:
    """Print a run's summary; a reader that went away drops it, a write error is one line on
    stderr. Either way the exit code stays the run's: its windows are committed."""
    try:
        with _writing_stdout():
            show()
    except ReaderGone:
        pass
    except OutputFailed as exc:
        _error(str(exc))


def _flags(args: argparse.Namespace) -> dict[str, Any]:
    names = [
        "start",
        "end",
        "unit",
        "stream",
        "app_id",
        "segment_id",
        "event",
        "product",
        "campaign_id",
        "canvas_id",
        "send_id",
        "workspace",
        "key_rotated",
        "discovery_ttl",
        "lease",
        "endpoint",
        "db",
        "pg_schema",
        "timezone",
        "concurrency",
        "rate_limit",
        "max_retries",
        "timeout",
        "api_key_file",
        "progress",
        "log_format",
        "verbose",
        "quiet",
        "lookback",
        "max_requests",
        "deadline",
    ]
    return {n: getattr(args, n, None) for n in names}


def _run_job(args: argparse.Namespace) -> int:
    from rich.console import Console

    from collector.pipeline import collect

    command: Command = args.command
    settings, job = resolve(command, _flags(args), config=args.config)
    if command == "plan":
        _print_plan(job)
        return EXIT_OK
    verbosity = -1 if settings.quiet else settings.verbose
    log = LogObserver(sys.stderr, fmt=settings.log_format, verbosity=verbosity)
    observers: list[Observer] = [_watch_only(log)]
    progress: RichProgress | None = None
    text_on_tty = settings.log_format == "text" and not settings.quiet and sys.stderr.isatty()
    if settings.progress and text_on_tty:
        progress = RichProgress(Console(stderr=True), rate_limit_per_s=job.rate.per_second)
        observers.append(_watch_only(progress))
    try:
        report = _with_signals(lambda: collect(job, observers=observers))
    except Interrupted as exc:
        log.interrupted(signal.Signals(exc.signum).name)  # the JSON log's final summary
        raise
    finally:
        if progress is not None:
            progress.close()  # shows the cursor again, whatever ended the run
    if settings.log_format == "text" and not settings.quiet:
        if sys.stdout.isatty():
            _print_quietly(lambda: print_table(report, Console()))
        else:
            _print_quietly(lambda: print_summary(report, sys.stdout))
    if report.fatal:
        _error(report.fatal)
        return EXIT_AUTH
    refused = [s.refused for s in report.series.values() if s.refused]
    if report.series and len(refused) == len(report.series):
        _error(f"every stream was refused: {refused[0]}")
        return EXIT_AUTH  # nothing can be collected with this key: not worth retrying
    if report.complete:
        return EXIT_OK
    if report.stopped and report.failed_windows == 0:
        _error(f"stopped: {report.stopped}; finished windows are committed, the next run resumes")
        return EXIT_BUDGET
    if settings.quiet:  # quiet hides progress and the summary, never what failed
        _error(headline(report))
        for line in trouble(report):
            _error(line)
    return EXIT_INCOMPLETE


def _watch_only(observer: Observer) -> Observer:
    """`observer`, switched off at its first failure instead of ending the run: observers watch,
    they never steer. A closed pipe is dropped silently; anything else is named once."""
    failed = False

    def watch(event: Event) -> None:
        nonlocal failed
        if failed:
            return
        try:
            observer(event)
        except Exception as exc:
            failed = True
            if not isinstance(exc, BrokenPipeError):
                _error(f"{type(observer).__name__} stopped after {type(exc).__name__}: {exc}")

    return watch


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
    from collector.pipeline import plan_only

    preview = asyncio.run(plan_only(job))
    with _writing_stdout():
        _show_plan(job, preview)


def _show_plan(job: Any, preview: Any) -> None:
    plan, fan = preview.plan, preview.fan
    seconds = plan.requests / job.rate.per_second
    print(f"{len(plan.series)} series, {plan.missing} {job.unit}s missing")
    by_stream: dict[str, list[Any]] = {}
    for sp in plan.series:
        by_stream.setdefault(sp.series.stream.name, []).append(sp)
    for stream, sps in by_stream.items():
        requests = sum(sp.requests for sp in sps)
        print(f"{stream}: {len(sps)} series, {requests} request(s)")
        for sp in sps:
            print(
                f"  {sp.series.describe()}: {sp.missing} {job.unit}s in {len(sp.gaps)} gap(s), "
                f"{sp.requests} request(s)"
            )
    for line in fan.unresolved:
        print(f"not yet known: {line}; run `collector discover` (or a backfill) to list it")
    for why in fan.skipped:
        print(f"skipped: {why}")
    if fan.saved_by_life:
        print(
            f"life bounds save {fan.saved_by_life} request(s): no window before a first send or after the last"
        )
    print(f"{plan.requests} request(s); at {job.rate} that is at least {seconds:.1f}s")


def _streams_of(args: argparse.Namespace) -> tuple[Stream, ...]:
    return streams_named(args.stream or [])


def _selection(args: argparse.Namespace) -> Selection:
    return Selection.of(
        {dim: getattr(args, dim) for dim in SELECTION_DIMENSIONS},
        args.unit,
        args.start,
        args.end,
    )


def _export(args: argparse.Namespace) -> int:
    selection = _selection(args)
    streams = _streams_of(args)
    workspace = args.workspace or DEFAULT_WORKSPACE
    if args.names and (args.format != "csv" or args.raw or any(not s.nested for s in streams)):
        raise ConfigError(
            "--names writes the variant and step names of campaign_stats, canvas_stats or "
            "send_stats as CSV: use it with --format csv and those streams only"
        )
    if args.raw and (args.format != "jsonl" or any(not s.nested for s in streams)):
        raise ConfigError(
            "--raw writes nested streams' day objects: use it with --format jsonl "
            "and --stream campaign_stats, canvas_stats or send_stats"
        )
    if len(streams) > 1 and (args.out is None or args.out.suffix):
        raise ConfigError(
            "several --stream write one file each: pass --out DIR (a folder), e.g. --out exports/"
        )
    with open_read_store(_db_of(args), schema=_schema_of(args)) as store:
        for stream in streams:
            out = args.out
            if len(streams) > 1:
                out = args.out / f"{stream.name}.{args.format}"
                try:
                    args.out.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    raise ConfigError(
                        f"--out {args.out}: cannot make this folder ({exc.strerror})"
                    ) from exc
            _export_one(store, workspace, stream, selection, args, out)
    return EXIT_OK


def _export_one(
    store: ReadStore,
    workspace: str,
    stream: Stream,
    selection: Selection,
    args: argparse.Namespace,
    out: Path | None,
) -> None:
    if args.format == "parquet":
        if out is None:
            raise ConfigError("--format parquet needs --out FILE (Parquet is not a stream)")
        # Parquet's `time` is typed per unit: a stream stored in both units is one file each.
        stored_units = sorted(
            {st.key[3] for st in store.status(workspace) if st.key[1] == stream.name}
        )
        units = [selection.unit] if selection.unit else stored_units or ["day"]
        if len(units) > 1:
            print(
                f"{stream.name} is stored in {' and '.join(units)}s: one Parquet file per unit "
                "(pass --unit for one)",
                file=sys.stderr,
            )
        for unit in units:
            target = out if len(units) == 1 else out.with_name(f"{out.stem}.{unit}{out.suffix}")
            unit_only = Selection(selection.dims, unit, selection.start, selection.end)
            count = write_parquet(unit_only.rows(store, workspace, stream), target, stream, unit)
            print(f"wrote {count} {stream.name} rows to {target}", file=sys.stderr)
        return

    def write(f: TextIO) -> int:
        if args.names:
            return write_names(store, workspace, stream, f)
        if args.raw:
            return write_raw(store, workspace, stream, f)
        return write_text(selection.rows(store, workspace, stream), f, args.format, stream)

    if out is None:
        with _writing_stdout():
            write(sys.stdout)
        return
    try:
        f = out.open("w", encoding="utf-8", newline="")
    except OSError as exc:
        raise ConfigError(f"--out {out}: cannot write it ({exc.strerror})") from exc
    try:
        with f:
            count = write(f)
    except OSError as exc:
        raise OutputFailed(f"--out {out}: cannot write it ({exc.strerror or exc})") from exc
    print(f"wrote {count} {stream.name} rows to {out}", file=sys.stderr)


def _plot(args: argparse.Namespace) -> int:
    from collector.readout.plot import plot

    with open_read_store(_db_of(args), schema=_schema_of(args)) as store:
        lines = plot(
            store,
            args.workspace or DEFAULT_WORKSPACE,
            _streams_of(args),
            _selection(args),
            args.out,
        )
    print(f"drew {lines} series to {args.out}", file=sys.stderr)
    return EXIT_OK


def _status(args: argparse.Namespace) -> int:
    from collector.readout.status import describe, render

    location = _db_of(args)
    with open_read_store(location, schema=_schema_of(args)) as store:
        status = describe(store, display(location), args.workspace)
    with _writing_stdout():
        print(json.dumps(status, indent=2) if args.format == "json" else render(status))
    return EXIT_OK


def _discover(args: argparse.Namespace) -> int:
    from collector.pipeline import discover

    flags = _flags(args)
    names = args.stream or ["sessions"]
    if "send_stats" in names:
        raise ConfigError(
            "send ids cannot be listed (Braze has no list of sends): name each "
            "with --send-id CAMPAIGN_ID:SEND_ID"
        )
    for dim in ("event", "campaign_id", "canvas_id", "product", "segment_id"):
        flags[dim] = flags[dim] or ["*"]
    flags["start"] = flags["start"] or "2000-01-01"
    _, job = resolve("backfill", flags, config=args.config)
    found = _with_signals(lambda: discover(job))
    with _writing_stdout():
        for what, (items, skipped) in found.items():
            listed = f"{what}: {len(items)} listed"
            print(listed + (f", {len(skipped)} skipped" if skipped else ""))
            for item in items:
                print(f"  {one_line(item)}")
            for item in skipped:
                print(f"  {one_line(item)}  (skipped: analytics tracking off)")
    return EXIT_OK


def _db_copy(args: argparse.Namespace) -> int:
    from collector.store import open_copy_store
    from collector.store.copy import copy_store

    schema = _schema_of(args)
    with (
        open_copy_store(args.source, schema=schema, create=False) as source,
        open_copy_store(args.target, schema=schema, create=True) as target,
    ):
        report = copy_store(source, target)
    for notice in report.notices:
        _error(notice)
    print(f"{report.summary()} from {display(args.source)} to {display(args.target)}")
    return EXIT_OK


def _config_check(args: argparse.Namespace) -> int:
    settings, job = resolve(args.for_command, {}, config=args.file, need_key=False)
    with _writing_stdout():
        print(json.dumps(masked(settings), indent=2, default=str))
    names = ", ".join(s.name for s in job.streams)
    print(f"ok: streams {names}, {job.unit}s, zone {job.calendar.zone_name}", file=sys.stderr)
    return EXIT_OK
