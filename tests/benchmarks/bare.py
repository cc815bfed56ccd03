"""The bare aiohttp loop: the same windows as the collector, fetched and thrown away.

    python -m tests.benchmarks.bare --endpoint URL --start S --end E --apps a,b --concurrency N

Same session headers, connector limit, query parameters (length, unit, ending_at, app_id) and
window order (newest first, round-robin over series) as `collector backfill --unit hour`; it
reads each body and does nothing else, so its CPU per request is the floor the collector's
overhead is measured against. With `--concurrency 1` it is the naive one-window-at-a-time
client. `--no-fetch` opens the session and exits: the fixed cost of starting. Prints one JSON
line: requests, non-200 answers, bytes, seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime

import aiohttp

MAX_LENGTH = 100
HOUR = 3600
PATH = "/sessions/data_series"


def _hour(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp()) // HOUR


def _z(hour: int) -> str:
    return datetime.fromtimestamp(hour * HOUR, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def windows(start: str, end: str, app_ids: Sequence[str]) -> Iterator[dict[str, str]]:
    """Query parameters of every ≤100-hour window, newest first, round-robin over apps."""
    lo, hi = _hour(start), _hour(end)
    cursor = hi
    while cursor > lo:
        first = max(lo, cursor - MAX_LENGTH)
        for app in app_ids:
            params = {"length": str(cursor - first), "unit": "hour", "ending_at": _z(cursor)}
            if app:
                params["app_id"] = app
            yield params
        cursor = first


async def fetch_all(
    endpoint: str, key: str, todo: Iterator[dict[str, str]], concurrency: int
) -> dict[str, int]:
    counts = {"requests": 0, "non_200": 0, "bytes": 0}
    url = endpoint.rstrip("/") + PATH
    async with aiohttp.ClientSession(
        headers={
            "Authorization": f"Bearer {key}",
            "User-Agent": "bare-aiohttp-loop",
            "Accept": "application/json",
        },
        timeout=aiohttp.ClientTimeout(total=30.0),
        connector=aiohttp.TCPConnector(limit=concurrency),
    ) as session:

        async def work() -> None:
            for params in todo:  # one shared iterator: each window goes to one worker
                async with session.get(url, params=params) as response:
                    body = await response.read()
                counts["requests"] += 1
                counts["bytes"] += len(body)
                counts["non_200"] += response.status != 200

        async with asyncio.TaskGroup() as group:
            for _ in range(concurrency):
                group.create_task(work())
    return counts


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tests.benchmarks.bare")
    p.add_argument("--endpoint", required=True)
    p.add_argument("--key", default="sim-key")
    p.add_argument("--start", required=True)
    p.add_argument("--end", required=True)
    p.add_argument("--apps", required=True, help="comma-separated app ids")
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--no-fetch", action="store_true")
    args = p.parse_args(argv)
    app_ids = args.apps.split(",")
    todo = iter([]) if args.no_fetch else windows(args.start, args.end, app_ids)
    started = time.perf_counter()
    counts = asyncio.run(fetch_all(args.endpoint, args.key, todo, args.concurrency))
    counts_out = {**counts, "seconds": round(time.perf_counter() - started, 3)}
    print(json.dumps(counts_out), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
