"""SQLite for the run path: every call runs on the store's own thread, so a lock held by another
writer (up to the 60 s busy timeout) never freezes the event loop and its workers."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from collector.core.models import RunReport, SeriesKey, StoreOutcome, WindowResult
from collector.store.base import Interval
from collector.store.sqlite import SQLiteStore

T = TypeVar("T")


class ThreadedStore:
    """A `RunStore` over one SQLiteStore, all of whose calls happen on one thread."""

    def __init__(self, store: SQLiteStore, executor: ThreadPoolExecutor) -> None:
        self._store = store
        self._executor = executor
        self.notices = store.notices

    @classmethod
    async def open(cls, path: Path) -> ThreadedStore:
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="collector-sqlite")
        try:
            store = await asyncio.get_running_loop().run_in_executor(
                executor, lambda: SQLiteStore(path)
            )
        except BaseException:
            executor.shutdown(wait=False)
            raise
        return cls(store, executor)

    async def _call(self, fn: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn)

    async def prepare(self, workspace: str, timezone: str) -> None:
        await self._call(lambda: self._store.prepare(workspace, timezone))

    async def check_key(self, workspace: str, api_key: str, *, rotated: bool) -> None:
        await self._call(lambda: self._store.check_key(workspace, api_key, rotated=rotated))

    async def covered(self, keys: Sequence[SeriesKey]) -> dict[SeriesKey, list[Interval]]:
        return await self._call(lambda: self._store.covered(keys))

    async def last_time(self, key: SeriesKey) -> str | None:
        return await self._call(lambda: self._store.last_time(key))

    async def commit(self, result: WindowResult) -> StoreOutcome:
        return await self._call(lambda: self._store.commit(result))

    async def begin_run(self, workspace: str, command: str, started_at: datetime) -> int:
        return await self._call(lambda: self._store.begin_run(workspace, command, started_at))

    async def finish_run(
        self, run_id: int, finished_at: datetime, outcome: str, report: RunReport
    ) -> None:
        await self._call(lambda: self._store.finish_run(run_id, finished_at, outcome, report))

    async def discovered(
        self, workspace: str, what: str
    ) -> tuple[list[str], list[str], datetime] | None:
        found = await self._call(lambda: self._store.discovered_now(workspace, what))
        if found is None:
            return None
        items, skipped, at = found
        return items, skipped, datetime.fromisoformat(at)

    async def remember(
        self, workspace: str, what: str, items: list[str], skipped: list[str], at: datetime
    ) -> None:
        await self._call(lambda: self._store.remember(workspace, what, items, skipped, at))

    async def close(self) -> None:
        try:
            await self._call(self._store.close)
        finally:
            self._executor.shutdown(wait=False)
