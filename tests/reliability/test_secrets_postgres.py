"""Secrets on PostgreSQL (issue 14, item 5): a role with a password in the --db URL; the password
and the API key appear in no output, log, error, database row, export or `config check`, on
the success path and an unreachable server (the throwaway server trusts local connections, so
a refused password cannot be played here; its message goes through the same masking)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from urllib.parse import quote

import psycopg
import pytest
from psycopg import sql

from collector.simulator import ApiKey, SimulatorConfig, Workspace
from tests.integration.threaded import simulator_thread
from tests.pg import with_database

KEY = "sim-key-5e3c7a9d1f"
PASSWORD = "pw-Zq8!x#" + uuid.uuid4().hex[:10]


def _with_password(dsn: str, user: str, password: str) -> str:
    head, _, tail = dsn.partition("://")
    netloc, _, rest = tail.partition("/")
    host = netloc.rpartition("@")[2]
    return f"{head}://{user}:{quote(password, safe='')}@{host}/{rest}"


@pytest.fixture
def secret_dsn(pg_database: str) -> str:
    """A DSN of a fresh database owned by a new role that logs in with PASSWORD."""
    user = f"u_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_database, autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                sql.Identifier(user), sql.Literal(PASSWORD)
            )
        )
        db = conn.execute("SELECT current_database()").fetchone()
        assert db is not None
        conn.execute(
            sql.SQL("ALTER DATABASE {} OWNER TO {}").format(
                sql.Identifier(db[0]), sql.Identifier(user)
            )
        )
        conn.execute(sql.SQL("GRANT ALL ON SCHEMA public TO {}").format(sql.Identifier(user)))
    return _with_password(with_database(pg_database, db[0]), user, PASSWORD)


def _collector(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("COLLECTOR_", "BRAZE_"))}
    return subprocess.run(
        [sys.executable, "-m", "collector", *args],
        env={**base, "BRAZE_API_KEY": KEY, **(env or {})},
        capture_output=True,
        text=True,
        timeout=180,
    )


def _rows(dsn: str) -> str:
    """Every row of every table of the braze schema, as text."""
    out = []
    with psycopg.connect(dsn) as conn:
        tables = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'braze'"
        ).fetchall()
        for (table,) in tables:
            for row in conn.execute(
                sql.SQL("SELECT * FROM braze.{}").format(sql.Identifier(table))
            ):
                out.append(repr(row))
    return "\n".join(out)


@pytest.mark.slow
def test_the_postgres_password_and_the_key_appear_nowhere(secret_dsn, tmp_path, reliability):
    """A password-protected PostgreSQL: password and key absent from every output, log, row,
    export and config check; a dead server is one masked line, exit 4"""
    config = SimulatorConfig(workspaces=(Workspace(apps=("app-ios",)),), keys=(ApiKey(KEY),))
    seen: list[str] = []
    with simulator_thread(config) as sim:
        common = ["--endpoint", sim.url, "--db", secret_dsn]
        runs = {
            "backfill -vv json": _collector(
                "backfill",
                *common,
                "--start",
                "2024-01-01",
                "--stream",
                "sessions",
                "--stream",
                "dau",
                "-vv",
                "--log-format",
                "json",
            ),
            "sync": _collector("sync", *common, "--stream", "sessions", "-v"),
            "status": _collector("status", "--db", secret_dsn, "--format", "json"),
            "export": _collector("export", "--db", secret_dsn, "--format", "jsonl"),
            "plan": _collector("plan", "--db", secret_dsn, "--start", "2024-01-01"),
        }
        job = tmp_path / "job.toml"
        job.write_text(
            f'db = "{secret_dsn}"\nstart = "2024-01-01"\nendpoint = "https://rest.iad-01.braze.com"\n',
            encoding="utf-8",
        )
        runs["config check"] = _collector("config", "check", str(job))
        runs["config check (env)"] = _collector(
            "config", "check", str(job), env={"COLLECTOR_DB": secret_dsn}
        )
        dead = secret_dsn.rsplit("@", 1)[0] + "@127.0.0.1:1/nodb"
        runs["unreachable"] = _collector(
            "backfill", "--endpoint", sim.url, "--db", dead, "--start", "2024-01-01"
        )
    for name, done in runs.items():
        seen.append(done.stdout + done.stderr)
        assert "Traceback" not in done.stderr, (name, done.stderr[-1500:])
    assert runs["backfill -vv json"].returncode == 0, runs["backfill -vv json"].stderr[-1500:]
    assert runs["unreachable"].returncode == 4 and len(runs["unreachable"].stderr.splitlines()) == 1
    everything = "\n".join(seen) + _rows(secret_dsn)
    encoded = PASSWORD.replace("!", "%21").replace("#", "%23")
    for secret in (PASSWORD, encoded, KEY):
        assert secret not in everything
    assert "****" in runs["config check"].stdout
    reliability(
        section="secrets",
        scenario="a password-protected PostgreSQL --db",
        parameters=f"{len(runs)} commands incl. -vv JSON logs and a dead server",
        checked=f"password (raw and percent-encoded) and API key absent from {len(everything):,} "
        "characters of output and every row of the braze schema",
    )
