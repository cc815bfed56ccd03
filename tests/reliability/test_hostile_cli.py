"""Hostile flags and job files: hypothesis drives `collector backfill|sync|plan` in-process with
generated argv (every option the parser declares, so new flags are covered as they appear),
environment and TOML job files. A rejection is one short line on stderr with exit 2 (4 when the
--db path itself is unusable), never a traceback; an accepted job reaches the pipeline (stubbed
here, so nothing is sent) and exits 0.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import re
from collections import Counter
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from datetime import date, datetime
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collector import cli, pipeline
from collector.config import Settings
from collector.core.models import RunReport

EXAMPLES = 300
PROPERTY = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize=True,  # the same examples every run: CI never flakes on a new draw
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
PER_PROBLEM = 250  # characters per reported problem: a message lists every invalid setting
ALLOWED = {0, 2, 4}
COMMANDS = ("backfill", "sync", "plan")

TEXTS = [
    "",
    " ",
    "0",
    "-1",
    "1",
    "8",
    "1e9",
    "nan",
    "inf",
    "-inf",
    "99999999999999999999",
    "2024-01-01",
    "2024-02-30",
    "2024-01-01T00:00:00Z",
    "2024-01-01T00:30:00Z",
    "2024-01-01T00:00:00-5:00",
    "0001-01-01",
    "0001-01-01T01:00:00+05:00",
    "9999-12-31",
    "9999-12-31T23:00:00-05:00",
    "250000/h",
    "0/s",
    "5/d",
    "1e3/h",
    "0.0000001/h",
    "UTC",
    "Nowhere/City",
    "../../etc/passwd",
    "/etc/passwd",
    "America/New_York",
    "Australia/Lord_Howe",
    "http://[::1",
    "http://[::1]:8080",
    "http://example.com",
    "https://rest.iad-01.braze.com",
    "https://user:pw@rest.iad-01.braze.com",
    "ftp://x",
    "http://127.0.0.1:99999",
    "http://",
    "/",
    "/dev/null",
    "/nonexistent/dir/file",
    "день",
    "--start",
    "-5",
    "1h30m",
    "0s",
    "90",
    "text",
    "json",
    "csv",
    "day",
    "hour",
    "week",
    "'quoted'",
    "a,b",
    "{}",
    "[]",
]
NO_NUL = st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",))
VALUES = st.one_of(
    st.sampled_from(TEXTS),
    st.text(NO_NUL, max_size=24),
    st.integers(-(10**6), 10**12).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)
# Values aimed at what each flag parses, so the rare bad ones are actually reached.
DATES = [
    "2024-01-01",
    "2024-02-30",
    "2024-01-01T00:00:00Z",
    "2024-01-01T00:30:00Z",
    "2024-01-01T00:00:00-5:00",
    "2024-03-10T02:30:00",
    "2024-1-1",
    "20240101",
    "0001-01-01",
    "0001-01-01T01:00:00+05:00",
    "9999-12-31",
    "9999-12-31T23:00:00-05:00",
    "2999-01-01",
    "1970-01-01",
]
AIMED = {
    "start": DATES,
    "end": DATES,
    "endpoint": [
        "http://[::1",
        "http://[::1]:8080",
        "https://[::1]",
        "https://]x[",
        "http://example.com",
        "https://user:pw@rest.iad-01.braze.com",
        "ftp://x",
        "http://127.0.0.1:99999",
        "http://",
        "http://:80",
    ],
    "timezone": [
        "UTC",
        "utc",
        "Nowhere/City",
        "../../etc/passwd",
        "Australia/Lord_Howe",
        "Etc/GMT+5",
        "Asia/Kathmandu",
        "",
        "/",
    ],
    "rate": ["250000/h", "0/s", "5/d", "1e3/h", "0.0000001/h", "1/s", "10 / m", "inf/s"],
    "deadline": ["1h30m", "0s", "90", "-5m", "1e400s", "h", "3600000000h"],
}


def values_for(flag: str) -> st.SearchStrategy[str]:
    aimed = [v for key, vs in AIMED.items() if key in flag for v in vs]
    return st.sampled_from(aimed) | VALUES if aimed else VALUES


def job_options() -> dict[str, argparse.Action]:
    """Every option of the backfill, sync and plan subcommands, by its long flag."""
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    out: dict[str, argparse.Action] = {}
    for name in COMMANDS:
        for action in sub.choices[name]._actions:
            longs = [o for o in action.option_strings if o.startswith("--")]
            if longs and longs[0] not in ("--help", "--config", "--api-key-file"):
                out[longs[0]] = action
    return out


OPTIONS = job_options()


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    """Key files and paths the generated flags may point at."""
    d = tmp_path_factory.mktemp("hostile-cli")
    paths = {
        "key ok": d / "key-ok",
        "key quoted": d / "key-quoted",
        "key binary": d / "key-binary",
        "key empty": d / "key-empty",
        "folder": d / "a-folder",
        "missing": d / "no-such-file",
    }
    paths["key ok"].write_text("fuzz-key-123\n")
    paths["key quoted"].write_text("'fuzz-key'\n")
    paths["key binary"].write_bytes(b"\xff\xfe\x00\x81key")
    paths["key empty"].write_text("")
    paths["folder"].mkdir()
    return paths


@st.composite
def argvs(draw: st.DrawFn, files: dict[str, Path], db: Path) -> tuple[list[str], dict[str, str]]:
    command = draw(st.sampled_from(COMMANDS))
    argv = [command]
    if draw(st.booleans()):  # start from a valid job, then let the fuzz override parts of it
        argv += ["--start", "2024-01-01", "--end", "2024-02-01", "--db", str(db)]
        argv += ["--endpoint", "https://rest.iad-01.braze.com"]
    for flag in draw(st.lists(st.sampled_from(sorted(OPTIONS)), max_size=6)):
        action = OPTIONS[flag]
        if action.nargs == 0:
            argv.append(flag)
        elif action.choices is not None and draw(st.booleans()):
            argv += [flag, str(draw(st.sampled_from(list(action.choices))))]
        else:
            argv += [flag, draw(values_for(flag))]
    if draw(st.integers(0, 4)) == 0:
        argv += ["--api-key-file", str(draw(st.sampled_from(list(files.values()))))]
    env = {}
    key = draw(st.sampled_from(["fuzz-key-123", None, "", "'quoted'", "has space", "k\u00e9y"]))
    if key is not None:
        env["BRAZE_API_KEY"] = key
    return argv, env


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "nan" if math.isnan(value) else repr(value).replace("inf", "inf")
    if isinstance(value, int | datetime | date):
        return value.isoformat() if isinstance(value, date) else str(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return "{ " + ", ".join(f"{toml_key(k)} = {toml_value(v)}" for k, v in value.items()) + " }"


def toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key)


SCALARS = st.one_of(
    st.sampled_from(TEXTS),
    st.text(NO_NUL, max_size=16),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.dates(),
    st.datetimes(),
)
TOML_VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=2)
    ),
    max_leaves=5,
)
KEYS = st.sampled_from([*Settings.model_fields, "api_key", "Start", "unknown", "start.date"])


@st.composite
def job_files(draw: st.DrawFn) -> bytes:
    if draw(st.integers(0, 5)) == 0:
        return draw(st.binary(max_size=64))
    doc = draw(st.dictionaries(KEYS, TOML_VALUES, max_size=5))
    if draw(st.booleans()):  # mostly valid around the hostile parts
        doc.setdefault("start", "2024-01-01")
        doc.setdefault("end", "2024-02-01")
        doc.setdefault("endpoint", "https://rest.iad-01.braze.com")
    return "\n".join(f"{toml_key(k)} = {toml_value(v)}" for k, v in doc.items()).encode()


class Crash(Exception):
    """main() let an exception out: the user would see a traceback."""


def invoke(argv: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    clean = {k: v for k, v in os.environ.items() if not k.startswith("BRAZE_")}
    with (
        mock.patch.dict(os.environ, {**clean, **env}, clear=True),
        redirect_stdout(out),
        redirect_stderr(err),
    ):
        try:
            code = cli.main(argv)
        except SystemExit as exc:  # argparse paths the CLI does not catch
            code = exc.code if isinstance(exc.code, int) else -1
        except Exception as exc:
            raise Crash(f"{argv!r} with {env!r}: {type(exc).__name__}: {exc}") from exc
    return code, out.getvalue(), err.getvalue()


def short(line: str, argv: list[str]) -> bool:
    """At most PER_PROBLEM characters per problem reported ('; '-separated), not counting the
    echoes of the user's own values (quoting what was wrong is useful, however long it was)."""
    own = line
    for value in sorted({a for a in argv if a}, key=len, reverse=True):
        own = own.replace(repr(value), "'…'").replace(value, "…")
    return len(own) <= PER_PROBLEM * (own.count("; ") + 1)


def attempt(argv: list[str], env: dict[str, str], seen: Counter[int]) -> None:
    """Run one generated command line and judge it."""
    code, _out, err = invoke(argv, env)
    seen[code] += 1
    assert code in ALLOWED, (code, err)
    assert "Traceback" not in err
    if code:
        lines = [line for line in re.split(r"[\r\n]", err) if line.strip()]  # as a terminal shows
        assert len(lines) == 1, err
        assert lines[0].isprintable(), lines[0]
        assert short(lines[0], argv), lines[0]


@pytest.fixture
def no_pipeline() -> Iterator[list[Any]]:
    """Accepted jobs stop at the pipeline: collect() is replaced by a stub that records them."""
    jobs: list[Any] = []

    async def stub(job: Any, **_: Any) -> RunReport:
        jobs.append(job)
        return RunReport()

    with mock.patch.object(pipeline, "collect", stub):
        yield jobs


def test_hostile_flags_exit_2_in_one_line_never_a_traceback(
    files, tmp_path, no_pipeline, reliability
):
    """Generated argv and env over every job flag: exit 0, or 2 (4 for a bad --db) in one line."""
    seen: Counter[int] = Counter()
    db = tmp_path / "c.db"

    @PROPERTY
    @given(data=st.data())
    def prop(data: st.DataObject) -> None:
        argv, env = data.draw(argvs(files, db))
        attempt(argv, env, seen)

    prop()
    assert seen[0] and seen[2]
    reliability(
        section="hostile",
        scenario="CLI flags: hypothesis over argv and environment",
        parameters=f"backfill/sync/plan × up to 6 of the {len(OPTIONS)} job flags with "
        "hostile values (bad dates, zones, rates, URLs, paths, numbers, unicode) + key from "
        "env or file (missing, quoted, binary, folder)",
        runs=f"{sum(seen.values())} examples",
        checked=_tally(seen) + "; every rejection one line, ≤ 250 chars per problem it "
        "names (besides quoting the value), no traceback; nothing sent",
    )


def test_hostile_job_files_exit_2_in_one_line_never_a_traceback(tmp_path, no_pipeline, reliability):
    """Generated TOML job files (and raw bytes): exit 0, or 2 in one short line naming the file."""
    seen: Counter[int] = Counter()
    path = tmp_path / "job.toml"
    db = tmp_path / "c.db"

    @PROPERTY
    @given(content=job_files(), command=st.sampled_from(COMMANDS))
    def prop(content: bytes, command: str) -> None:
        path.write_bytes(content)
        argv = [command, "--config", str(path), "--db", str(db)]
        attempt(argv, {"BRAZE_API_KEY": "fuzz-key-123"}, seen)

    prop()
    assert seen[0] and seen[2]
    reliability(
        section="hostile",
        scenario="job files: hypothesis over TOML content",
        parameters="up to 5 settings (known, misspelt, unknown) with values of every TOML "
        "type (strings, ints incl. 64-bit extremes, nan/inf, booleans, dates, datetimes, "
        "arrays, inline tables), or raw bytes (invalid TOML, invalid UTF-8)",
        runs=f"{sum(seen.values())} examples",
        checked=_tally(seen) + "; every rejection one line, ≤ 250 chars per problem it "
        "names, no traceback",
    )


def _tally(seen: Counter[int]) -> str:
    return ", ".join(f"exit {k}×{v}" for k, v in sorted(seen.items()))


@pytest.mark.parametrize(
    ("args", "content", "says"),
    [
        pytest.param(["--api-key-file", "{key}"], b"\xff\xfe\x00key", "not UTF-8", id="key-file"),
        pytest.param(
            ["--config", "{key}"], b"start = '2024-01-01'\n\xff\xfe", "not UTF-8", id="job-file"
        ),
        pytest.param(["--start", "0001-01-01T01:00:00+05:00"], None, "years 1..9999", id="start"),
        pytest.param(["--end", "9999-12-31T23:00:00-05:00"], None, "years 1..9999", id="end"),
        pytest.param(["--endpoint", "http://[::1"], None, "not a valid URL", id="endpoint"),
        pytest.param(["--no-such-flag", "a\nb\x1b[2J"], None, "a\\nb\\x1b[2J", id="newline"),
    ],
)
def test_crashes_the_fuzz_found_are_one_line_exit_2(tmp_path, no_pipeline, args, content, says):
    """Each crash round 1's fuzz found (bad bytes, years out of range, a broken URL, control
    characters echoed raw) is now exit 2 with one printable line saying what is wrong."""
    path = tmp_path / "input"
    if content is not None:
        path.write_bytes(content)
    argv = [
        "backfill",
        "--start",
        "2024-01-01",
        "--end",
        "2024-02-01",
        "--db",
        str(tmp_path / "c.db"),
    ]
    argv += ["--endpoint", "https://rest.iad-01.braze.com"]
    argv += [a.replace("{key}", str(path)) for a in args]
    code, _out, err = invoke(argv, {"BRAZE_API_KEY": "fuzz-key-123"})
    assert code == 2 and "Traceback" not in err and len(err.strip().split("\n")) == 1, err
    assert err.strip().isprintable() and says in err, err
