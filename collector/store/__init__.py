"""Where points, coverage and runs live: SQLite (the embedded default) or PostgreSQL.

`--db` picks the engine: a path is SQLite; `postgresql://…` (or `postgres://…`) is PostgreSQL.
"""

from __future__ import annotations

from pathlib import Path

from collector.errors import ConfigError
from collector.store.base import ReadStore, RunStore

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def is_postgres(location: str) -> bool:
    return location.startswith(POSTGRES_SCHEMES)


async def open_run_store(location: str) -> RunStore:
    """The store a run writes into (created and migrated when needed)."""
    if is_postgres(location):
        raise ConfigError("PostgreSQL support is not installed in this build")
    from collector.store.threaded import ThreadedStore

    return await ThreadedStore.open(Path(location))


def open_read_store(location: str) -> ReadStore:
    """The store read-outs read from; it must exist."""
    if is_postgres(location):
        raise ConfigError("PostgreSQL support is not installed in this build")
    from collector.store.sqlite import SQLiteStore

    return SQLiteStore(Path(location), read_only=True)


def exists(location: str) -> bool:
    """Whether there is anything to read yet (PostgreSQL: always asked)."""
    return is_postgres(location) or Path(location).exists()
