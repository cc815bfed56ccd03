"""`python -m collector.simulator`: URL first on stdout, SIGINT exits 0, bad flags exit 2."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys

import aiohttp
import pytest

from collector.simulator import SimulatorConfig
from collector.simulator.cli import add_arguments, config_from_args, main
from collector.simulator.config import PoolLimit


def _parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(argv)


async def test_subprocess_serves_until_sigint(session: aiohttp.ClientSession) -> None:
    """The server prints its URL first, answers a real request, and exits 0 on SIGINT."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "collector.simulator",
        "--port",
        "0",
        "--api-key",
        "K",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        url = (await asyncio.wait_for(proc.stdout.readline(), 20)).decode().strip()
        assert url.startswith("http://127.0.0.1:")
        headers = {"Authorization": "Bearer K"}
        async with session.get(f"{url}/sessions/data_series?length=3", headers=headers) as r:
            assert r.status == 200
            assert len((await r.json())["data"]) == 3
        async with session.get(f"{url}/sessions/data_series?length=3&api_key=sim-key") as r:
            assert r.status == 401
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGINT)
        _, stderr = await asyncio.wait_for(proc.communicate(), 20)
    assert proc.returncode == 0
    assert b"Traceback" not in stderr


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--timezone", "Mars/Olympus_Mons"], "unknown time zone 'Mars/Olympus_Mons'"),
        (["--host", "0.0.0.0"], "loopback"),
        (["--limit", "0"], "rate_limit"),
        (["--fault-rate", "1.5"], "fault rate"),
        (["--port", "70000"], "--port"),
        (["--pool-limit", "campaigns=5"], "NAME=LIMIT/SECONDS"),
        (["--pool-limit", "lists=5/60"], "pool_limits pool"),
        (["--pool-limit", "campaigns=0/60"], "at least 1"),
    ],
)
def test_bad_flags_exit_2_with_one_line(
    capsys: pytest.CaptureFixture[str], argv: list[str], needle: str
) -> None:
    """An invalid flag value exits 2 with a single error line on stderr and nothing on stdout."""
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert len(err.splitlines()) == 1
    assert needle in err


def test_defaults_match_the_simulator_defaults() -> None:
    """With no flags the configuration is the default one (key sim-key, UTC, 250k/h)."""
    assert config_from_args(_parse()) == SimulatorConfig()


def test_flags_map_to_the_configuration() -> None:
    """Each flag lands in its configuration field."""
    config = config_from_args(
        _parse(
            "--api-key", "a", "--api-key", "b", "--limit", "9", "--window", "60",
            "--fault-rate", "0.6", "--latency-ms", "5", "--timezone", "Europe/Berlin",
            "--apps", "x, y", "--segments", "s1,s2", "--seed", "4", "--alignment", "inclusive",
            "--hour-format", "z", "--late-data", "--retry-after",
        )
    )  # fmt: skip
    workspace = config.workspaces[0]
    assert [k.key for k in config.keys] == ["a", "b"]
    assert (config.rate_limit, config.rate_window_s) == (9, 60)
    assert config.faults.error_500 == pytest.approx(0.1)
    assert config.faults.truncated_json == pytest.approx(0.1)
    assert (config.faults.latency_ms, config.faults.seed, config.seed) == (5, 4, 4)
    assert (workspace.timezone, workspace.apps) == ("Europe/Berlin", ("x", "y"))
    assert [s.id for s in workspace.segments] == ["s1", "s2"]
    assert all(s.analytics_tracking for s in workspace.segments)
    assert (config.alignment, config.hour_time_format) == ("inclusive", "z")
    assert config.late_data and config.emit_retry_after and config.emit_x_ratelimit_retry_after


def test_every_flag_documents_its_default() -> None:
    """Each flag's help text names its default."""
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    for action in parser._actions:
        if action.dest != "help":
            assert action.help is not None and "default" in action.help, action.dest


def test_family_preset_and_pool_flags() -> None:
    """--preset family serves the large catalogue; pool and list switches land in the config."""
    config = config_from_args(
        _parse(
            "--preset", "family", "--apps", "a,b", "--pool-limit", "campaigns=5/60",
            "--pool-limit", "export-lists=7/600", "--purchases-pool", "default",
            "--list-behaviour", "repeating", "--revenue-format", "int",
        )
    )  # fmt: skip
    workspace = config.workspaces[0]
    assert len(workspace.events) > 250 and len(workspace.campaigns) > 100
    assert workspace.apps == ("a", "b")
    assert config.pool_limits == (PoolLimit("campaigns", 5, 60), PoolLimit("export-lists", 7, 600))
    assert (config.purchases_pool, config.list_behaviour, config.revenue_format) == (
        "default",
        "repeating",
        "int",
    )


def test_segments_flag_replaces_the_family_segments() -> None:
    """With --preset family, --segments replaces the generated segments."""
    config = config_from_args(_parse("--preset", "family", "--segments", "s1"))
    assert [s.id for s in config.workspaces[0].segments] == ["s1"]
    assert len(config_from_args(_parse("--preset", "family")).workspaces[0].segments) > 1
