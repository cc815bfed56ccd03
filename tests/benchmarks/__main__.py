"""`python -m tests.benchmarks [--only NAME,…]`: run the benchmarks, print figures and a table.

One JSON line per figure on stdout as it is measured (progress notes go to stderr), then the
machine and a Markdown table of every figure, ready for BENCHMARKS.md. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from tests.benchmarks import (
    arithmetic,
    naive,
    overhead,
    saturation,
    scale,
    shared,
    smallpool,
    startup,
)
from tests.benchmarks.harness import Figures, machine

BENCHMARKS: dict[str, Callable[..., None]] = {
    "saturation": saturation.run,
    "smallpool": smallpool.run,
    "shared": shared.run,
    "overhead": overhead.run,
    "scale": scale.run,
    "naive": naive.run,
    "arithmetic": arithmetic.run,
    "startup": startup.run,
}
WITH_BASELINE = frozenset({"saturation", "smallpool"})


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return "" if value is None else str(value)


def table(rows: Sequence[dict[str, Any]]) -> str:
    """Every figure as a Markdown row: benchmark, figure, value, target, met, details."""
    lines = ["| bench | figure | value | target | met | details |", "|---|---|---|---|---|---|"]
    for row in rows:
        details = {
            k: v
            for k, v in row.items()
            if k not in ("bench", "figure", "value", "unit", "target", "met")
        }
        value = f"{_cell(row['value'])} {row.get('unit', '')}".strip()
        met = "yes" if row.get("met") is True else "**no**" if row.get("met") is False else ""
        extra = ", ".join(f"{k}={_cell(v)}" for k, v in details.items())
        lines.append(
            f"| {row['bench']} | {row['figure']} | {value} | {_cell(row.get('target'))} "
            f"| {met} | {extra} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tests.benchmarks", description=__doc__)
    p.add_argument(
        "--only",
        metavar="NAME,…",
        help=f"run only these, comma-separated (default: all of {', '.join(BENCHMARKS)})",
    )
    p.add_argument(
        "--baseline",
        metavar="DIR",
        type=Path,
        help="another checkout (e.g. a git worktree of main) whose collector the saturation "
        "and small-pool benchmarks also run, side by side",
    )
    args = p.parse_args(argv)
    names = args.only.split(",") if args.only else list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        p.error(f"unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    figures = Figures()
    host = machine()
    print(json.dumps({"machine": host, "baseline": str(args.baseline)}), flush=True)
    started = time.perf_counter()
    for name in names:
        t0 = time.perf_counter()
        if name in WITH_BASELINE:
            BENCHMARKS[name](figures, baseline=args.baseline)
        else:
            BENCHMARKS[name](figures)
        figures.note(f"{name}: {time.perf_counter() - t0:.0f} s")
    total = time.perf_counter() - started
    print(
        f"\nMachine: {host['cores']} cores ({host['cpu']}), {host['implementation']} "
        f"{host['python']}, {host['system']}, {host['date']}; benchmarks took {total:.0f} s\n",
        flush=True,
    )
    print(table(figures.rows), flush=True)
    missed = [r for r in figures.rows if r.get("met") is False]
    if missed:
        print(f"\n{len(missed)} target(s) missed (see BENCHMARKS.md for what limits each).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
