"""`stores`: the same test against a SQLite file and a PostgreSQL schema."""

from __future__ import annotations

import pytest

from .support import Stores


@pytest.fixture(params=["sqlite", "postgres"])
def stores(request: pytest.FixtureRequest, tmp_path) -> Stores:
    if request.param == "sqlite":
        return Stores("sqlite", str(tmp_path / "c.db"))
    dsn, schema = request.getfixturevalue("pg_schema")
    return Stores("postgres", dsn, schema)
