"""One PostgreSQL transaction, repeated while the connection is lost (a restarting server, a
proxy that cut it): a failed transaction committed nothing, so it is safe to repeat, and the
pool replaces the dead connection. psycopg is imported only when a call fails, so importing
this module costs nothing on the SQLite path."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from collector.errors import StoreError

RECONNECT_TRIES = 8  # about 30 s of a restarting server
T = TypeVar("T")


async def again(doing: str, call: Callable[[], Awaitable[T]]) -> T:
    """`call()`, repeated on a lost connection (a psycopg OperationalError, or a StoreError the
    store marked transient); after RECONNECT_TRIES, a StoreError (exit 4)."""
    for attempt in range(RECONNECT_TRIES):
        last = attempt == RECONNECT_TRIES - 1
        try:
            return await call()
        except StoreError as exc:
            if not exc.transient or last:
                raise
        except Exception as exc:
            import psycopg

            if not isinstance(exc, psycopg.OperationalError):
                raise
            if last:
                text = " ".join(str(exc).split())
                raise StoreError(f"lost PostgreSQL while {doing}: {text}") from None
        await asyncio.sleep(min(5.0, 0.25 * 2**attempt))  # real time: the server's
    raise AssertionError("unreachable")
