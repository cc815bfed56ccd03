"""Settings: file < env < flags, and every bad input a short ConfigError naming the fix."""

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from collector.config import build_job, load_file, settings_from
from collector.errors import ConfigError
from collector.fanout import fan_out

NOW = datetime(2024, 6, 15, 10, 30, tzinfo=UTC)
ENV = {"BRAZE_API_KEY": "k-123", "BRAZE_REST_ENDPOINT": "https://rest.iad-01.braze.com"}


def job(command="backfill", env=ENV, **flags):
    return build_job(command, settings_from({}, flags), env=env, now=NOW)


def series_of(j):
    """The job's series as fan-out makes them (no '*', so nothing is listed)."""

    async def nothing_listed(what):
        raise AssertionError(f"no '*' was asked for, yet {what} was listed")

    return [s for s, _, _ in asyncio.run(fan_out(j, nothing_listed, None, NOW)).ranges]


def test_defaults_are_the_workspace_total_without_segment_up_to_the_last_complete_unit():
    """No --app-id/--segment-id: one series; --end defaults to the current (partial) unit."""
    j = job(start="2024-06-01")
    assert [(s.stream.name, s.app_id, s.segment_id) for s in series_of(j)] == [("sessions", "", "")]
    assert j.end - j.start == 14
    hourly = job(start="2024-06-15T00:00:00Z", unit="hour")
    assert hourly.end - hourly.start == 10


def test_series_are_apps_times_segments():
    """Every app (or total) × every segment (or none)."""
    j = job(start="2024-06-01", app_id=["", "a", "b", "a"], segment_id=["", "s"])
    got = [(s.app_id, s.segment_id) for s in series_of(j)]
    assert sorted(got) == sorted((a, g) for a in ("", "a", "b") for g in ("", "s"))


def test_flags_override_the_file_and_the_file_overrides_defaults(tmp_path):
    """Precedence: flags > file > defaults."""
    f = tmp_path / "job.toml"
    f.write_text('start = "2024-01-01"\nconcurrency = 3\nunit = "hour"\n')
    s = settings_from(load_file(f), {"concurrency": 5})
    assert (s.start, s.concurrency, s.unit) == ("2024-01-01", 5, "hour")


def test_the_key_never_appears_in_the_job_repr():
    """The job and its key print masked."""
    j = job(start="2024-06-01")
    assert "k-123" not in repr(j) and "k-123" not in str(j.api_key)


@pytest.mark.parametrize(
    ("flags", "env", "match"),
    [
        ({}, ENV, "--start is required"),
        ({"start": "2024-02-30"}, ENV, "not a valid date"),
        ({"start": "2024-06-10", "end": "2024-06-10"}, ENV, "not before --end"),
        ({"start": "2024-06-10", "end": "2024-07-01"}, ENV, "after the last complete day"),
        ({"start": "2024-06-10T10:30:00Z"}, ENV, "not on a day boundary"),
        ({"start": "2024-06-10", "unit": "week"}, ENV, "--unit"),
        ({"start": "2024-06-10", "timezone": "Mars/Base"}, ENV, "IANA"),
        ({"start": "2024-06-10", "rate_limit": "fast"}, ENV, "N/s, N/m or N/h"),
        ({"start": "2024-06-10", "concurrency": 0}, ENV, "--concurrency"),
        ({"start": "2024-06-10", "timeout": -1}, ENV, "--timeout"),
        ({"start": "2024-06-10"}, {"BRAZE_REST_ENDPOINT": "https://x.braze.com"}, "BRAZE_API_KEY"),
        ({"start": "2024-06-10"}, {"BRAZE_API_KEY": "k"}, "no REST endpoint"),
        ({"start": "2024-06-10", "endpoint": "ftp://rest.braze.com"}, ENV, "not an http"),
        ({"start": "2024-06-10", "endpoint": "http://rest.iad-01.braze.com"}, ENV, "use https"),
        ({"start": "2024-06-10"}, {**ENV, "BRAZE_API_KEY": "'quoted'"}, "quotes"),
        ({"start": "2024-06-10", "api_key_file": Path("/no/such/key")}, ENV, "--api-key-file"),
    ],
)
def test_bad_input_is_one_config_error_naming_the_flag(flags, env, match):
    """Each bad flag, date, zone, rate, endpoint or missing key fails before any I/O."""
    with pytest.raises(ConfigError, match=match):
        job(env=env, **flags)


def test_plain_http_is_allowed_only_to_loopback():
    """The simulator on 127.0.0.1 may use http; nothing else may."""
    j = job(start="2024-06-10", endpoint="http://127.0.0.1:8080/")
    assert j.base_url == "http://127.0.0.1:8080"


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ("start = ", "not valid TOML"),
        ('colour = "blue"', "unknown setting 'colour'"),
        ("concurrency = 'x'", "--concurrency"),
    ],
)
def test_broken_config_files_are_explained(tmp_path, content, match):
    """A TOML syntax error, an unknown field or a wrong type is one line naming it."""
    f = tmp_path / "job.toml"
    f.write_text(content)
    with pytest.raises(ConfigError, match=match):
        settings_from(load_file(f), {})


def test_a_missing_config_file_is_named():
    """--config to a path that does not exist."""
    with pytest.raises(ConfigError, match="does not exist"):
        load_file(Path("/no/such/job.toml"))


def test_the_api_key_file_is_read_and_trimmed(tmp_path):
    """--api-key-file beats the environment."""
    f = tmp_path / "key"
    f.write_text("from-file\n")
    j = job(start="2024-06-10", api_key_file=f)
    assert j.api_key is not None and j.api_key.get_secret_value() == "from-file"
