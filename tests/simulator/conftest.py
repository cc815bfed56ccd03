"""Fixtures for the simulator tests: an aiohttp session and a `Harness` bound to it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

import aiohttp
import pytest

from .support import Harness


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


@pytest.fixture
async def braze(session: aiohttp.ClientSession) -> AsyncIterator[Harness]:
    async with AsyncExitStack() as stack:
        yield Harness(session, stack)
