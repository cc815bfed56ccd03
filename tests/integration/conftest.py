"""`store_at`: the same end-to-end test against a SQLite file and a PostgreSQL database."""

from __future__ import annotations

import pytest


@pytest.fixture(params=["sqlite", "postgres"])
def store_at(request: pytest.FixtureRequest, tmp_path) -> str:
    """Where a test's collector keeps its data: a SQLite path, or the DSN of a fresh database."""
    if request.param == "sqlite":
        return str(tmp_path / "c.db")
    dsn: str = request.getfixturevalue("pg_database")
    return dsn
