"""`collector simulate` / `python -m collector.simulator`: serve the simulator until interrupted.

The first line on stdout is the base URL, flushed at once, so a parent process can read it and
connect. SIGINT or SIGTERM stops the server cleanly (exit 0). Bad flags exit 2 with one line.
`--preset family` serves the large, awkward catalogue of `presets.family_workspace`.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Sequence
from dataclasses import replace
from typing import Any, get_args

from collector.simulator.config import (
    DEFAULT_KEY,
    DEFAULT_POOL_LIMITS,
    DEFAULT_RATE_LIMIT,
    DEFAULT_RATE_WINDOW_S,
    Alignment,
    ApiKey,
    Faults,
    HourTimeFormat,
    ListBehaviour,
    PoolLimit,
    PurchasesPool,
    RevenueFormat,
    Segment,
    SimulatorConfig,
    Workspace,
)
from collector.simulator.presets import family_workspace
from collector.simulator.server import DEFAULT_HOST, bind_address, run_simulator

EXIT_OK = 0
EXIT_CANNOT_LISTEN = 1
EXIT_USAGE = 2
MAX_PORT = 65_535

_DEFAULT_WORKSPACE = Workspace()
_DEFAULTS = SimulatorConfig()
PRESETS = ("default", "family")


def _csv(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _pool_limit(text: str) -> PoolLimit:
    """`NAME=LIMIT/SECONDS`, e.g. `campaigns=50000/60`."""
    name, _, budget = text.partition("=")
    limit, _, window = budget.partition("/")
    if not (limit.isdigit() and window.isdigit()):
        raise ValueError(f"--pool-limit wants NAME=LIMIT/SECONDS, got {text!r}")
    pool: Any = name.strip()
    return PoolLimit(pool, int(limit), int(window))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the simulator's flags to `parser`."""
    add = parser.add_argument
    add("--host", default=DEFAULT_HOST, help="loopback address to listen on (default: %(default)s)")
    add("--port", type=int, default=0, help="port to listen on; 0 picks a free one (default: 0)")
    add(
        "--api-key",
        action="append",
        metavar="KEY",
        help=f"accepted REST API key, repeatable (default: {DEFAULT_KEY})",
    )
    add(
        "--limit",
        type=int,
        default=DEFAULT_RATE_LIMIT,
        help="requests per workspace per window (default: %(default)s)",
    )
    add(
        "--window",
        type=int,
        default=DEFAULT_RATE_WINDOW_S,
        metavar="SECONDS",
        help="rate-limit window, aligned to the epoch (default: %(default)s)",
    )
    add(
        "--fault-rate",
        type=float,
        default=0.0,
        metavar="P",
        help="share of requests failed with 500/502/503/504/drop/truncated (default: %(default)s)",
    )
    add(
        "--latency-ms",
        type=float,
        default=0.0,
        metavar="MS",
        help="extra latency on every request (default: %(default)s)",
    )
    add(
        "--timezone",
        default=_DEFAULT_WORKSPACE.timezone,
        metavar="TZ",
        help="workspace time zone, an IANA name (default: %(default)s)",
    )
    add(
        "--apps",
        default=",".join(_DEFAULT_WORKSPACE.apps),
        help="comma-separated app ids (default: %(default)s)",
    )
    add(
        "--segments",
        default="",
        help="comma-separated ids of analytics-tracked segments; with --preset family they "
        "replace the generated ones (default: none)",
    )
    add(
        "--preset",
        choices=PRESETS,
        default="default",
        help="catalogue to serve: a few events, products, campaigns and Canvases, or a large, "
        "awkward one paging every list (default: %(default)s)",
    )
    pools = ", ".join(f"{p.pool}={p.limit}/{p.window_s}" for p in DEFAULT_POOL_LIMITS)
    add(
        "--pool-limit",
        action="append",
        metavar="POOL=LIMIT/SECONDS",
        help=f"budget of another pool, repeatable; --limit/--window set the default pool "
        f"(default: {pools})",
    )
    add(
        "--purchases-pool",
        choices=get_args(PurchasesPool),
        default=_DEFAULTS.purchases_pool,
        help="pool the purchase series count in: shared with the lists, their own, or the "
        "default pool (default: %(default)s)",
    )
    add(
        "--list-behaviour",
        choices=get_args(ListBehaviour),
        default=_DEFAULTS.list_behaviour,
        help="how list endpoints page: honestly, or a hostile way (default: %(default)s)",
    )
    add(
        "--revenue-format",
        choices=get_args(RevenueFormat),
        default=_DEFAULTS.revenue_format,
        help="revenue_series values: decimal amounts or whole-unit ints (default: %(default)s)",
    )
    add("--seed", type=int, default=0, help="seed for data and faults (default: %(default)s)")
    add(
        "--alignment",
        choices=get_args(Alignment),
        default="exclusive",
        help="which buckets ending_at selects (default: %(default)s)",
    )
    add(
        "--hour-format",
        choices=get_args(HourTimeFormat),
        default="offset",
        help="form of hourly time fields (default: %(default)s)",
    )
    add(
        "--late-data",
        action="store_true",
        help="recent buckets grow until they settle after 48 h (default: off)",
    )
    add(
        "--retry-after",
        action="store_true",
        help="send Retry-After and X-RateLimit-Retry-After on 429 (default: off)",
    )


def config_from_args(args: argparse.Namespace) -> SimulatorConfig:
    """The configuration the flags describe; `ValueError` with a one-line reason otherwise."""
    segments = tuple(Segment(s) for s in _csv(args.segments))
    if args.preset == "family":
        workspace = family_workspace(timezone=args.timezone, apps=_csv(args.apps))
        workspace = replace(workspace, segments=segments) if segments else workspace
    else:
        workspace = Workspace(timezone=args.timezone, apps=_csv(args.apps), segments=segments)
    keys = tuple(ApiKey(k) for k in (args.api_key or [DEFAULT_KEY]))
    return SimulatorConfig(
        workspaces=(workspace,),
        keys=keys,
        seed=args.seed,
        rate_limit=args.limit,
        rate_window_s=args.window,
        pool_limits=tuple(_pool_limit(p) for p in args.pool_limit or ()),
        purchases_pool=args.purchases_pool,
        list_behaviour=args.list_behaviour,
        revenue_format=args.revenue_format,
        alignment=args.alignment,
        hour_time_format=args.hour_format,
        late_data=args.late_data,
        emit_retry_after=args.retry_after,
        emit_x_ratelimit_retry_after=args.retry_after,
        faults=Faults.uniform(args.fault_rate, seed=args.seed, latency_ms=args.latency_ms),
    )


async def _serve(config: SimulatorConfig, host: str, port: int) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with run_simulator(config, host=host, port=port) as simulator:
        print(simulator.url, flush=True)
        keys = ", ".join(k.key for k in config.keys)
        print(f"serving keys {keys}; Ctrl-C to stop", file=sys.stderr, flush=True)
        await stop.wait()


def run(args: argparse.Namespace) -> int:
    """Serve until SIGINT/SIGTERM; the exit code."""
    try:
        config = config_from_args(args)
        host = bind_address(args.host)
        if not 0 <= args.port <= MAX_PORT:
            raise ValueError(f"--port must be between 0 and {MAX_PORT}, got {args.port}")
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        asyncio.run(_serve(config, host, args.port))
    except OSError as exc:
        print(f"error: cannot listen on {host}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_CANNOT_LISTEN
    return EXIT_OK


def main(argv: Sequence[str] | None = None, *, prog: str = "python -m collector.simulator") -> int:
    """`python -m collector.simulator [flags]` (and `collector simulate [flags]`)."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Serve a simulated Braze data_series API on loopback.",
    )
    add_arguments(parser)
    return run(parser.parse_args(argv))
