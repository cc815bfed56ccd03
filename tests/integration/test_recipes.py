"""The README's deployment recipes, tried as written: the commands are read out of README.md,
pointed at the simulator and a real PostgreSQL, and run as real processes side by side.

- cron on several hosts: the same line twice at once;
- a Kubernetes Job with `parallelism: 4`: the container's args and env, four pods at once;
- Airflow dynamic task mapping: the templated bash_command, rendered for one data interval, four
  mapped tasks at once.
Each must exit 0 (75 allowed for the cron line's deadline), store the job exactly, and fetch no
window twice.
"""

from __future__ import annotations

import json
import math
import os
import re
import shlex
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from collector.core.streams import SESSIONS
from collector.simulator import Faults, Segment, SimulatorConfig, Workspace
from collector.store.postgres import PostgresStore

from .threaded import simulator_thread

README = Path(__file__).resolve().parents[2] / "README.md"
KEY = "sim-key"
APPS = ("app-ios", "app-android")
START = (datetime.now(UTC) - timedelta(days=900)).date()
END = (datetime.now(UTC) - timedelta(days=1)).date()


@pytest.fixture(scope="module")
def sim():
    config = SimulatorConfig(
        workspaces=(Workspace(apps=APPS, segments=(Segment("vip"),)),),
        faults=Faults(latency_ms=10.0),
    )
    with simulator_thread(config) as s:
        yield s


def job_file(tmp_path: Path, sim) -> Path:
    path = tmp_path / "job.toml"
    path.write_text(
        f'endpoint = "{sim.url}"\nstart = "{START}"\nend = "{END}"\ntimezone = "UTC"\n'
        'stream = ["sessions", "dau"]\napp_id = ["", "app-ios", "app-android"]\n'
        'segment_id = ["", "vip"]\nlease = 3\n',
        encoding="utf-8",
    )
    return path


def readme_block(lang: str, containing: str) -> str:
    blocks = re.findall(r"```" + lang + r"\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    return next(b for b in blocks if containing in b)


def environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COLLECTOR_", "BRAZE_"))}
    bin_dir = str(Path(sys.executable).parent)  # `collector` as installed in this environment
    return {**env, "PATH": bin_dir + os.pathsep + env.get("PATH", ""), **extra}


def run_all(commands: list[list[str]], env: dict[str, str], cwd: Path) -> list[int]:
    procs = [
        subprocess.Popen(c, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for c in commands
    ]  # fmt: skip
    codes = []
    for p in procs:
        _, err = p.communicate(timeout=240)
        assert "Traceback" not in err, err[-2000:]
        codes.append(p.returncode)
    return codes


def check_job(sim, dsn: str, start: date, end: date) -> None:
    days = (end - start).days
    series = 3 * 2 + 3  # sessions: apps × segments; dau: apps
    data = [
        r for r in sim.log if r.path in (SESSIONS.path, "/kpi/dau/data_series") and r.status == 200
    ]
    sim.log.clear()  # whatever follows, the next recipe counts its own requests
    assert len(data) == series * math.ceil(days / 100), "a window was fetched twice"
    with PostgresStore(dsn) as store:
        sessions = list(store.iter_points("default", "sessions"))
        dau = list(store.iter_points("default", "dau"))
    assert len(sessions) == 6 * days and len(dau) == 3 * days


@pytest.mark.slow
def test_cron_on_several_hosts(sim, pg_database, tmp_path):
    block = readme_block("", "15 2 * * *")
    line = next(x for x in block.splitlines() if x.startswith("15 2 * * *"))
    command = line.split(None, 5)[5]
    command = command.replace("/etc/collector/job.toml", str(job_file(tmp_path, sim)))
    command = re.sub(r"postgresql://\S+", shlex.quote(pg_database), command)
    command = command.replace("/var/log/collector.log", str(tmp_path / "collector.log"))
    command = command.replace("collector sync", f"collector sync --start {START}")
    env = environment(BRAZE_API_KEY=KEY)
    codes = run_all([["bash", "-c", command], ["bash", "-c", command]], env, tmp_path)
    assert codes == [0, 0]  # `|| [ $? -eq 75 ]` turns a spent deadline into success too
    check_job(sim, pg_database, START, END)
    summaries = [
        json.loads(x)
        for x in (tmp_path / "collector.log").read_text().splitlines()
        if '"event": "summary"' in x
    ]
    assert len(summaries) == 2 and all(s["complete"] for s in summaries)


@pytest.mark.slow
def test_kubernetes_job_with_parallelism_4(sim, pg_database, tmp_path):
    block = readme_block("yaml", "parallelism: 4")
    assert re.search(r"parallelism: 4\b", block) and re.search(r"completions: 4\b", block)
    args = json.loads(re.search(r"args: (\[.*\])", block)[1])
    args = [str(job_file(tmp_path, sim)) if a == "/etc/collector/job.toml" else a for a in args]
    names = re.findall(r"\{name: (\w+), valueFrom", block)
    assert names == ["COLLECTOR_DB", "BRAZE_API_KEY"]
    env = environment(COLLECTOR_DB=pg_database, BRAZE_API_KEY=KEY)
    codes = run_all([["collector", *args] for _ in range(4)], env, tmp_path)
    assert codes == [0, 0, 0, 0]
    check_job(sim, pg_database, START, END)


@pytest.mark.slow
def test_airflow_dynamic_task_mapping(sim, pg_database, tmp_path):
    block = readme_block("python", "BashOperator.partial")
    template = "".join(re.findall(r'"([^"]*)"', block.split("bash_command=")[1].split("env=")[0]))
    assert ".expand(" in block and "skip_on_exit_code=75" in block
    start, end = START + timedelta(days=100), END
    command = (
        template.replace("{{ data_interval_start | ds }}", start.isoformat())
        .replace("{{ data_interval_end | ds }}", end.isoformat())
        .replace("/opt/jobs/braze.toml", str(job_file(tmp_path, sim)))
    )
    env = environment(BRAZE_API_KEY=KEY, COLLECTOR_DB=pg_database)
    codes = run_all([shlex.split(command) for _ in range(4)], env, tmp_path)
    assert all(c in (0, 75) for c in codes) and codes.count(0) >= 1
    check_job(sim, pg_database, start, end)
