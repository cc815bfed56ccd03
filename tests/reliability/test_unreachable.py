"""A server that cannot be reached ends the run early (a circuit breaker), not after days of
retries: refused connections on loopback, on the virtual clock, and the CLI's one line and exit 1.
"""

from __future__ import annotations

import functools
import socket
from dataclasses import replace

import pytest

from collector import cli, pipeline
from collector.clock import VirtualClock
from collector.errors import ServerUnreachable
from collector.http.retry import RetryPolicy
from collector.pipeline import collect
from collector.work.scheduler import UNREACHABLE_AFTER
from tests.integration.harness import NOW, make_job


class _Nowhere:
    """Stands in for a simulator: only its URL is read."""

    def __init__(self) -> None:
        self.url = refused_url()


def refused_url() -> str:
    """A loopback port with nothing listening (bound, then closed)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


async def test_a_refused_endpoint_ends_the_run_after_a_few_attempts(tmp_path, reliability):
    """Every connection refused, 30 windows, 8 retries each: the run stops after a few attempts."""
    clock = VirtualClock(NOW)
    sim = _Nowhere()
    job = make_job(sim, clock, tmp_path / "u.db", start="2016-06-01", concurrency=4)  # type: ignore[arg-type]
    job = replace(job, retry=RetryPolicy(max_retries=8))  # real backoff, on the virtual clock
    began = clock.time()
    with pytest.raises(ServerUnreachable, match="cannot reach the server") as caught:
        await collect(job, clock=clock)
    waited = clock.time() - began
    assert "ClientConnectorError" in str(caught.value)
    assert waited < 60, f"gave up after {waited:.0f} virtual seconds"
    reliability(
        section="faults",
        scenario="an endpoint that refuses every connection",
        parameters=f"{job.end - (job.start or 0)} days (30 windows), --max-retries 8, "
        "concurrency 4, real backoff on the virtual clock",
        checked=f"ServerUnreachable after {UNREACHABLE_AFTER} identical failures, "
        f"{waited:.1f} virtual seconds (was 8 retries × 30 windows)",
    )


def test_the_cli_says_so_in_one_line_and_exits_1(tmp_path, capsys, monkeypatch):
    """`backfill` against a refused port: exit 1, one stderr line naming the cause and the fix."""
    monkeypatch.setenv("BRAZE_API_KEY", "k")
    monkeypatch.setattr(pipeline, "collect", functools.partial(collect, clock=VirtualClock(NOW)))
    code = cli.main(
        [
            "backfill",
            "--endpoint",
            refused_url(),
            "--start",
            "2020-01-01",
            "--end",
            "2024-06-01",
            "--db",
            str(tmp_path / "c.db"),
            "--no-progress",
        ]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1
    assert len(err) == 1 and err[0].startswith("collector: cannot reach the server"), err
    assert "--endpoint" in err[0]
