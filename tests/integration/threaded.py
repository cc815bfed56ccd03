"""The simulator on its own event loop in a background thread, for in-process CLI tests and
subprocess tests (whose `asyncio.run` cannot share the test's loop)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from collector.simulator import Simulator, SimulatorConfig, run_simulator


@contextmanager
def simulator_thread(config: SimulatorConfig) -> Iterator[Simulator]:
    started = threading.Event()
    holder: dict[str, object] = {}
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()

    async def serve() -> None:
        async with run_simulator(config) as sim:
            holder["sim"] = sim
            started.set()
            await stop.wait()

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    if not started.wait(10):
        raise RuntimeError("the simulator did not start")
    try:
        sim = holder["sim"]
        assert isinstance(sim, Simulator)
        yield sim
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)
        loop.close()
