"""Start-up: `collector --help` and a run with nothing to do, in milliseconds, and what each
dependency costs to import (`python -X importtime -c "import collector.cli"`: the self time of
every module, summed by top-level package). Medians of 5 runs.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from tests.benchmarks.harness import (
    PY,
    REPO,
    Figures,
    apps,
    child_env,
    collector_argv,
    median,
    run_measured,
    simulator,
    year_start,
)

RUNS = 5
_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)")


def _wall(argv: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, cwd=REPO, env=child_env(), capture_output=True, check=False)
    return (time.perf_counter() - started) * 1000


def import_costs() -> dict[str, float]:
    """ms per top-level package imported by the CLI (self time of its modules)."""
    out = subprocess.run(
        [PY, "-X", "importtime", "-c", "import collector.cli"],
        cwd=REPO,
        env=child_env(),
        capture_output=True,
        text=True,
        check=False,
    ).stderr
    costs: dict[str, float] = defaultdict(float)
    for line in out.splitlines():
        m = _LINE.match(line)
        if m is not None:
            costs[m[4].split(".")[0]] += int(m[1]) / 1000  # self time, by top-level package
    return dict(costs)


def run(figures: Figures) -> None:
    bench = "startup"
    figures.note("startup: --help, an empty run, import costs")
    python = median([_wall([PY, "-c", "pass"]) for _ in range(RUNS)])
    helps = median([_wall([PY, "-m", "collector", "--help"]) for _ in range(RUNS)])
    figures.add(bench, "collector --help", round(helps), "ms", bare_interpreter_ms=round(python))
    app_ids = apps(1)
    with simulator(app_ids=app_ids) as url, tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "s.db"
        argv = collector_argv(url, db, start=year_start(1), end=year_start(0), app_ids=app_ids)
        run_measured(argv)  # fill it: the runs below have nothing to do
        empty = [run_measured(argv) for _ in range(RUNS)]
    figures.add(
        bench,
        "a run with nothing to do",
        round(median([m.wall_s * 1000 for m in empty])),
        "ms",
        cpu_ms=round(median([m.cpu_s * 1000 for m in empty])),
        requests=empty[0].summary()["requests"],
    )
    costs = sorted(import_costs().items(), key=lambda kv: -kv[1])
    figures.add(
        bench,
        "import cost of `collector.cli`, by top-level package",
        round(sum(v for _, v in costs), 1),
        "ms",
        **{k: round(v, 1) for k, v in costs[:14]},
    )
