"""A real PostgreSQL for the tests: `COLLECTOR_TEST_POSTGRES` (a DSN) when set, else a throwaway
server started from the `pgserver` wheel in a temporary folder (one per xdist worker).

Never a silent skip: when neither works, `server_dsn` raises, and every test that needs
PostgreSQL fails saying why.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from psycopg import sql

ENV_TEST_POSTGRES = "COLLECTOR_TEST_POSTGRES"


class NoPostgres(RuntimeError):
    """No PostgreSQL could be had for the tests."""


@contextmanager
def server_dsn(given: str | None) -> Iterator[str]:
    """A DSN of a server the tests may create databases and schemas in: `given` (the value of
    $COLLECTOR_TEST_POSTGRES) when set, else a throwaway pgserver."""
    if given:
        try:
            psycopg.connect(given, connect_timeout=10).close()
        except psycopg.Error as exc:
            raise NoPostgres(f"${ENV_TEST_POSTGRES} is set but unusable: {exc}") from None
        yield given
        return
    try:
        import pgserver
    except ImportError as exc:
        raise NoPostgres(
            f"no PostgreSQL for the tests: set ${ENV_TEST_POSTGRES} to a DSN, or install the "
            "pgserver wheel (pip install -e '.[dev]')"
        ) from exc
    # Not under pytest's 0700 basetemp: as root, pgserver runs the server as its own user.
    folder = Path(tempfile.mkdtemp(prefix="collector-pg-"))
    folder.chmod(0o755)
    try:
        try:
            server = pgserver.get_server(folder / "data", cleanup_mode="stop")
        except Exception as exc:
            raise NoPostgres(f"pgserver could not start a PostgreSQL in {folder}: {exc}") from exc
        try:
            yield server.get_uri()
        finally:
            server.cleanup()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def fresh_name(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


def new_database(dsn: str) -> str:
    """A new, empty database on the server of `dsn`; its DSN."""
    name = fresh_name("t")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return with_database(dsn, name)


def with_database(dsn: str, name: str) -> str:
    """`dsn` pointing at database `name` (URL form, as pgserver and most DSNs are)."""
    if "://" not in dsn:
        return f"{dsn} dbname={name}"
    head, _, tail = dsn.partition("://")
    netloc, _, rest = tail.partition("/")
    query = rest.partition("?")[2]
    return f"{head}://{netloc}/{name}" + (f"?{query}" if query else "")


def drop_schema(dsn: str, schema: str) -> None:
    assert re.fullmatch(r"[a-z0-9_]+", schema)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
