"""Fixtures for the whole suite: no test reads the developer's own collector or Braze settings;
a real PostgreSQL (see tests/pg.py), started only when a test asks for one."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.pg import ENV_TEST_POSTGRES, drop_schema, fresh_name, new_database, server_dsn

ENV_PREFIXES = ("COLLECTOR_", "BRAZE_")
# Read once, before any test clears the environment: the one COLLECTOR_* setting tests honour.
TEST_POSTGRES = os.environ.get(ENV_TEST_POSTGRES)


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Remove every COLLECTOR_* and BRAZE_* variable for the test; tests set what they need."""
    for name in list(os.environ):
        if name.startswith(ENV_PREFIXES):
            monkeypatch.delenv(name)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """The DSN of a PostgreSQL server (per xdist worker unless $COLLECTOR_TEST_POSTGRES is set)."""
    with server_dsn(TEST_POSTGRES) as dsn:
        yield dsn


@pytest.fixture
def pg_schema(pg_server: str) -> Iterator[tuple[str, str]]:
    """(DSN, a schema of this test's own), dropped afterwards."""
    schema = fresh_name("t")
    yield pg_server, schema
    drop_schema(pg_server, schema)


@pytest.fixture
def pg_database(pg_server: str) -> str:
    """The DSN of a new, empty database of this test's own (for tests that use schema braze)."""
    return new_database(pg_server)


@pytest.fixture(params=["sqlite", "postgres"])
def store_at(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a test's collector keeps its data: a SQLite path, or the DSN of a fresh database
    (the same end-to-end test runs against both stores)."""
    if request.param == "sqlite":
        return str(tmp_path / "c.db")
    dsn: str = request.getfixturevalue("pg_database")
    return dsn
