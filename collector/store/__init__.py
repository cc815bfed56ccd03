"""Where points, coverage and runs live: SQLite (the embedded default) or PostgreSQL.

`--db` picks the engine: a path is SQLite; `postgresql://…` (or `postgres://…`) is PostgreSQL,
its tables in the schema `--pg-schema` (default `braze`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from collector.errors import ConfigError
from collector.store.base import ReadStore, RunStore

if TYPE_CHECKING:
    from collector.store.base import CopyStore
    from collector.store.postgres import PostgresStore

POSTGRES_SCHEMES = ("postgresql://", "postgres://")
DEFAULT_PG_SCHEMA = "braze"
_URL_PASSWORD = re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://[^:/@\s]*:)[^@\s]*@")
_KV_PASSWORD = re.compile(r"(?i)(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s&]*)")


def is_postgres(location: str) -> bool:
    return location.startswith(POSTGRES_SCHEMES)


def display(location: str) -> str:
    """`location` fit to print: a PostgreSQL URL's password (in its user part or its query)
    replaced by ********."""
    masked = _URL_PASSWORD.sub(lambda m: m.group(1) + "********@", location)
    return _KV_PASSWORD.sub(lambda m: m.group(1) + "********", masked)


def _postgres() -> None:
    try:
        import psycopg  # noqa: F401
        import psycopg_pool  # noqa: F401
    except ImportError:
        raise ConfigError(
            "--db postgresql://… needs PostgreSQL support: pip install 'collector[postgres]'"
        ) from None


async def open_run_store(location: str, *, schema: str = DEFAULT_PG_SCHEMA) -> RunStore:
    """The store a run writes into (created and migrated when needed)."""
    if is_postgres(location):
        _postgres()
        from collector.store.postgres import PostgresRunStore

        return await PostgresRunStore.open(location, schema=schema)
    from collector.store.threaded import ThreadedStore

    return await ThreadedStore.open(Path(location))


def open_read_store(location: str, *, schema: str = DEFAULT_PG_SCHEMA) -> ReadStore:
    """The store read-outs read from; it must exist."""
    if is_postgres(location):
        return open_postgres(location, schema=schema, read_only=True)
    from collector.store.sqlite import SQLiteStore

    return SQLiteStore(Path(location), read_only=True)


def open_postgres(location: str, *, schema: str, read_only: bool) -> PostgresStore:
    """A synchronous PostgreSQL store (read-outs, `db copy`)."""
    _postgres()
    from collector.store.postgres import PostgresStore

    return PostgresStore(location, schema=schema, read_only=read_only)


def open_copy_store(location: str, *, schema: str = DEFAULT_PG_SCHEMA, create: bool) -> CopyStore:
    """Either end of `db copy`: the source must exist; the target is created when new."""
    if is_postgres(location):
        return open_postgres(location, schema=schema, read_only=not create)
    from collector.store.sqlite import SQLiteStore

    if not create and not Path(location).exists():
        raise ConfigError(f"no database at {location}: pass the --from you collected into")
    return SQLiteStore(Path(location))


def exists(location: str) -> bool:
    """Whether there is anything to read yet (PostgreSQL: always asked)."""
    return is_postgres(location) or Path(location).exists()
