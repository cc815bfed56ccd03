"""The command line, in-process: exit codes, messages that teach, no tracebacks, no key leaks."""

from __future__ import annotations

import json

import pytest

from collector.cli import main
from collector.simulator import ApiKey, Segment, SimulatorConfig, Workspace

from .threaded import simulator_thread

SECRET = "SECRET-kq93-zz81-DO-NOT-LEAK"


@pytest.fixture(scope="module")
def sim():
    config = SimulatorConfig(
        workspaces=(Workspace(apps=("app-ios",), segments=(Segment("vip"),)),),
        keys=(ApiKey(SECRET), ApiKey("no-perm", permissions=frozenset())),
    )
    with simulator_thread(config) as s:
        yield s


def cli(capsys, monkeypatch, args, key=SECRET, endpoint=None):
    monkeypatch.setenv("BRAZE_API_KEY", key)
    if endpoint:
        monkeypatch.setenv("BRAZE_REST_ENDPOINT", endpoint)
    else:
        monkeypatch.delenv("BRAZE_REST_ENDPOINT", raising=False)
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (["backfill"], "--start is required"),
        (["backfill", "--start", "2024-02-30"], "not a valid date"),
        (["backfill", "--start", "2024-01-02", "--end", "2024-01-01"], "not before --end"),
        (["backfill", "--start", "2024-01-01", "--unit", "week"], "invalid choice: 'week'"),
        (["backfill", "--start", "2024-01-01", "--rate-limit", "lots"], "N/s, N/m or N/h"),
        (["backfill", "--start", "2024-01-01", "--timezone", "Nowhere/City"], "IANA"),
        (["backfill", "--start", "2024-01-01", "--endpoint", "gopher://x"], "not an http"),
        (["backfill", "--start", "2024-01-01", "--concurrency", "many"], "invalid int value"),
        (["backfill", "--start", "2024-01-01", "--config", "/no/such.toml"], "does not exist"),
        (["export", "--db", "/no/such.db"], "no database at"),
        (["status", "--db", "/no/such.db"], "no database at"),
        (["nonsense"], "invalid choice"),
    ],
)
def test_bad_input_exits_2_with_one_short_message(capsys, monkeypatch, tmp_path, args, match):
    """Each bad flag, date, rate, zone, endpoint, config or db: exit 2, no traceback."""
    monkeypatch.chdir(tmp_path)
    code, _out, err = cli(capsys, monkeypatch, args, endpoint="https://rest.iad-01.braze.com")
    assert code == 2
    assert match in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "collector.db").exists()


def test_a_missing_key_is_exit_2_naming_the_variable(capsys, monkeypatch, tmp_path):
    """No BRAZE_API_KEY and no --api-key-file: exit 2 before any request."""
    monkeypatch.delenv("BRAZE_API_KEY", raising=False)
    code = main(
        [
            "backfill",
            "--start",
            "2024-01-01",
            "--endpoint",
            "https://rest.iad-01.braze.com",
            "--db",
            str(tmp_path / "c.db"),
        ]
    )
    assert code == 2 and "BRAZE_API_KEY" in capsys.readouterr().err


def test_backfill_status_export_round_trip_without_leaking_the_key(
    capsys, monkeypatch, tmp_path, sim
):
    """A real backfill, then status and export (csv, jsonl); the key is in no output and no file."""
    db = tmp_path / "c.db"
    args = [
        "backfill",
        "--start",
        "2024-01-01",
        "--end",
        "2024-05-01",
        "--app-id",
        "",
        "--app-id",
        "app-ios",
        "--segment-id",
        "",
        "--segment-id",
        "vip",
        "--db",
        db,
        "-vv",
        "--log-format",
        "json",
    ]
    code, out, err = cli(capsys, monkeypatch, [*args, "--endpoint", sim.url])
    assert code == 0, err
    summary = [json.loads(line) for line in err.splitlines() if '"summary"' in line]
    assert summary and summary[-1]["complete"] and summary[-1]["inserted"] == 4 * 121
    outputs = [out, err]
    code, out, err = cli(capsys, monkeypatch, ["status", "--db", db, "--format", "json"])
    status = json.loads(out)
    assert (
        code == 0 and len(status["series"]) == 4 and all(s["gaps"] == [] for s in status["series"])
    )
    outputs += [out, err]
    csv_path = tmp_path / "out.csv"
    code, out, err = cli(capsys, monkeypatch, ["export", "--db", db, "--out", csv_path])
    lines = csv_path.read_text().splitlines()
    assert (
        code == 0
        and lines[0] == "app_id,segment_id,unit,time,sessions"
        and len(lines) == 1 + 4 * 121
    )
    assert lines[1].startswith(",,day,2024-01-01,")
    code, out, err = cli(capsys, monkeypatch, ["export", "--db", db, "--format", "jsonl"])
    first = json.loads(out.splitlines()[0])
    assert first["app_id"] == "" and first["time"] == "2024-01-01"
    outputs += [out, err]
    assert not any(SECRET in text for text in outputs)
    for f in tmp_path.iterdir():
        assert SECRET.encode() not in f.read_bytes(), f


def test_a_rerun_sends_nothing(capsys, monkeypatch, tmp_path, sim):
    """The second identical backfill makes zero requests."""
    args = [
        "backfill",
        "--start",
        "2024-03-01",
        "--end",
        "2024-04-01",
        "--db",
        tmp_path / "c.db",
        "--endpoint",
        sim.url,
    ]
    assert cli(capsys, monkeypatch, args)[0] == 0
    before = len(sim.log)
    code, out, _ = cli(capsys, monkeypatch, args)
    assert code == 0 and len(sim.log) == before and "0 requests" in out


@pytest.mark.parametrize(
    ("key", "code", "match"),
    [("unknown-key", 3, "BRAZE_API_KEY"), ("no-perm", 3, "sessions.data_series")],
)
def test_auth_failures_exit_naming_the_fix(capsys, monkeypatch, tmp_path, sim, key, code, match):
    """401 → exit 3 naming the key variable; a 403 on the only stream → it is refused, nothing
    can be collected with this key: exit 3 naming the missing permission."""
    got, out, err = cli(
        capsys,
        monkeypatch,
        ["backfill", "--start", "2024-01-01", "--db", tmp_path / "c.db", "--endpoint", sim.url],
        key=key,
    )
    assert got == code and match in err and "Traceback" not in err
    if key == "no-perm":
        assert "INCOMPLETE" in out and "refused" in out and match in out
    assert key not in out + err


def test_a_rejected_series_exits_1_and_keeps_the_rest(capsys, monkeypatch, tmp_path, sim):
    """An unknown app_id: exit 1, its series reported, the other series stored."""
    db = tmp_path / "c.db"
    code, out, err = cli(
        capsys,
        monkeypatch,
        [
            "backfill",
            "--start",
            "2024-01-01",
            "--end",
            "2024-02-01",
            "--app-id",
            "",
            "--app-id",
            "ghost",
            "--db",
            db,
            "--endpoint",
            sim.url,
        ],
    )
    assert code == 1 and "ghost" in out + err and "INCOMPLETE" in out
    code, out, _ = cli(capsys, monkeypatch, ["status", "--db", db])
    [total] = [line for line in out.splitlines() if "app_id=(all apps)" in line]
    [ghost] = [line for line in out.splitlines() if "app_id=ghost" in line]
    assert "2024-01-01 .. 2024-01-31, 31 buckets" in total and "last run: complete" in total
    assert "no points, 0 buckets" in ghost and "last run: failed" in ghost and "400" in ghost


def test_plan_sends_nothing_and_counts_requests(capsys, monkeypatch, tmp_path):
    """`plan` prints windows and requests for the range; no key, no endpoint needed."""
    monkeypatch.delenv("BRAZE_API_KEY", raising=False)
    code = main(
        [
            "plan",
            "--start",
            "2020-01-01",
            "--end",
            "2020-01-02",
            "--unit",
            "hour",
            "--app-id",
            "a",
            "--app-id",
            "b",
            "--db",
            str(tmp_path / "c.db"),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0 and "2 series" in out and "2 request(s)" in out


def test_help_explains_every_flag_with_its_default(capsys):
    """backfill --help lists each flag and its default."""
    assert main(["backfill", "--help"]) == 0
    out = capsys.readouterr().out
    for flag in (
        "--start",
        "--end",
        "--unit",
        "--app-id",
        "--segment-id",
        "--endpoint",
        "--db",
        "--timezone",
        "--concurrency",
        "--rate-limit",
        "--max-retries",
        "--timeout",
        "--config",
        "--no-progress",
        "--log-format",
        "-v",
    ):
        assert flag in out
    flat = " ".join(out.split())
    assert "default 250000/h" in flat and "default: 8" in flat
