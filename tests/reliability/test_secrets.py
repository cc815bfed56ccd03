"""Secrets: one distinctive API key driven through every path a run can take (success, retries,
401, 403, 400, a quoted key, SIGKILL and SIGTERM, verbose text and JSON logs, sync, plan,
config check, status, export); it must appear in no output, no file, and no URL the server saw.
"""

from __future__ import annotations

import base64
import signal
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from collector.cli import main
from collector.simulator import ApiKey, Faults, Simulator
from tests.integration.threaded import simulator_thread

from .support import cli_process, simulator_config

SECRET = "sk-CANARY-1d8f7e3a9c2b4d6e-LEAK"
FRAGMENTS = (SECRET, "1d8f7e3a9c2b4d6e", base64.b64encode(SECRET.encode()).decode())

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sims() -> Iterator[dict[str, Simulator]]:
    """The same key: accepted (with faults), unknown (401), without the permission (403)."""
    configs = {
        "ok": simulator_config(
            keys=(ApiKey(SECRET),),
            faults=Faults.uniform(0.3, seed=5, latency_ms=5.0),
        ),
        "401": simulator_config(keys=(ApiKey("somebody-else"),)),
        "403": simulator_config(keys=(ApiKey(SECRET, permissions=frozenset()),)),
    }
    with ExitStack() as stack:
        yield {name: stack.enter_context(simulator_thread(c)) for name, c in configs.items()}


def leaks(text: str | bytes) -> list[str]:
    data = text.encode("utf-8", "replace") if isinstance(text, str) else text
    return [f for f in FRAGMENTS if f.encode() in data]


def test_the_api_key_appears_in_no_output_no_file_and_no_url(
    sims, tmp_path, capsys, monkeypatch, reliability
):
    """Every path of every command: the key is in no stdout/stderr, file, or request URL."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    key_file = tmp_path / "secret" / "key"  # the one place the key may be: outside `work`
    key_file.parent.mkdir()
    key_file.write_text(SECRET + "\n")
    db = work / "c.db"
    outputs: list[tuple[str, int, str]] = []  # (path, exit code, everything printed)
    span = ["--start", "2023-09-01", "--end", "2024-01-01"]
    fan = ["--app-id", "", "--app-id", "app-ios", "--segment-id", "", "--segment-id", "vip"]

    def run(name: str, args: list[str], *, key: str | None = SECRET, endpoint: str = "") -> int:
        if key is None:
            monkeypatch.delenv("BRAZE_API_KEY", raising=False)
        else:
            monkeypatch.setenv("BRAZE_API_KEY", key)
        monkeypatch.setenv("BRAZE_REST_ENDPOINT", endpoint or sims["ok"].url)
        code = main(args)
        out, err = capsys.readouterr()
        outputs.append((name, code, out + err))
        return code

    assert (
        run(
            "backfill with retries, -vv JSON logs",
            ["backfill", *span, *fan, "--db", str(db), "-vv", "--log-format", "json"],
        )
        == 0
    )
    assert (
        run("sync, -vv text logs", ["sync", *fan, "--db", str(db), "-vv", "--lookback", "30"]) == 0
    )
    assert (
        run(
            "key from --api-key-file",
            [
                "backfill",
                "--start",
                "2023-06-01",
                "--end",
                "2023-09-01",
                "--db",
                str(db),
                "-v",
                "--api-key-file",
                str(key_file),
            ],
            key=None,
        )
        == 0
    )
    assert (
        run(
            "400 (unknown app), -v JSON",
            [
                "backfill",
                *span,
                "--app-id",
                "ghost",
                "--db",
                str(work / "b.db"),
                "-v",
                "--log-format",
                "json",
            ],
        )
        == 1
    )
    assert (
        run("401", ["backfill", *span, "--db", str(work / "u.db"), "-vv"], endpoint=sims["401"].url)
        == 3
    )
    assert (
        run(
            "403",
            ["backfill", *span, "--db", str(work / "f.db"), "-vv", "--log-format", "json"],
            endpoint=sims["403"].url,
        )
        == 3  # the only stream refused (403): nothing can be collected with this key
    )
    assert (
        run("a quoted key", ["backfill", *span, "--db", str(work / "q.db")], key=f"'{SECRET}'") == 2
    )
    assert run("plan", ["plan", *span, *fan, "--db", str(db)]) == 0
    job = work / "job.toml"
    job.write_text(
        'start = "2023-09-01"\nend = "2024-01-01"\nendpoint = "https://rest.iad-01.braze.com"\n'
    )
    run("config check", ["config", "check", str(job)])
    assert run("status", ["status", "--db", str(db)]) == 0
    assert run("status, JSON", ["status", "--db", str(db), "--format", "json"]) == 0
    assert (
        run("export CSV to a file", ["export", "--db", str(db), "--out", str(work / "o.csv")]) == 0
    )
    assert run("export JSONL", ["export", "--db", str(db), "--format", "jsonl"]) == 0

    # The real CLI, killed mid-run (SIGKILL), and stopped (SIGTERM).
    for sig in (signal.SIGKILL, signal.SIGTERM):
        target = work / f"{sig.name}.db"
        proc = cli_process(
            [
                "backfill",
                "--start",
                "2016-01-01",
                "--end",
                "2024-01-01",
                *fan,
                "--db",
                str(target),
                "--endpoint",
                sims["ok"].url,
                "-vv",
                "--log-format",
                "json",
            ],
            key=SECRET,
        )
        deadline = time.monotonic() + 30
        while not Path(f"{target}-wal").exists() or Path(f"{target}-wal").stat().st_size < 50_000:
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.01)
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=30)
        outputs.append((f"subprocess killed by {sig.name}", proc.returncode, out + err))
        assert proc.returncode in (-signal.SIGKILL, 143)

    seen_by = {p: leaks(text) for p, _, text in outputs}
    assert {p: f for p, f in seen_by.items() if f} == {}
    files = [p for p in tmp_path.rglob("*") if p.is_file() and p != key_file]
    assert {str(p): leaks(p.read_bytes()) for p in files if leaks(p.read_bytes())} == {}
    urls = [str(record.params) + record.path for sim in sims.values() for record in sim.log]
    assert urls and not any(leaks(u) for u in urls)
    statuses = {s for sim in sims.values() for s in sim.stats()}
    assert {200, 400, 401, 403, 500, None} <= statuses  # every path was really taken
    reliability(
        section="secrets",
        scenario="a distinctive API key through every path",
        parameters=f"{len(outputs)} command runs: "
        + "; ".join(p for p, _, _ in outputs)
        + f"; server answered {', '.join(str(s) for s in sorted(statuses, key=str))}",
        runs=len(outputs),
        requests=sum(len(sim.log) for sim in sims.values()),
        checked=f"key, a 16-char fragment and its base64 absent from all outputs, from "
        f"{len(files)} files (databases, WAL, exports, job file) and from every request URL",
    )
