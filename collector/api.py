"""The Python entry point: the CLI's settings, the CLI's pipeline, a RunReport back.

import asyncio
from collector import run

report = asyncio.run(run("backfill", start="2024-01-01", unit="day",
                         app_id=["", "IOS_APP_ID"], db="sessions.db",
                         endpoint="https://rest.iad-01.braze.com"))
print(report.complete, report.inserted, report.requests)
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from collector.clock import Clock
from collector.config import ENV_API_KEY, Command, resolve
from collector.core.models import RunReport
from collector.errors import ConfigError
from collector.observe.events import Observer
from collector.pipeline import collect


async def run(
    command: Command = "backfill",
    /,
    *,
    config: str | Path | None = None,
    api_key: str | None = None,
    observers: Sequence[Observer] = (),
    clock: Clock | None = None,
    **settings: Any,
) -> RunReport:
    """Run `backfill` or `sync` with the CLI's settings (flag names with underscores).

    Precedence is the CLI's: `settings` here > COLLECTOR_* environment > the `config` TOML file.
    The key comes from `api_key_file` when one is set (here, in COLLECTOR_API_KEY_FILE or in the
    TOML file), else from `api_key`, else from $BRAZE_API_KEY. Raises ConfigError (also a
    ValueError) for bad settings before any request; a 401/403 is `report.fatal`.
    """
    if command not in ("backfill", "sync"):
        raise ConfigError(f"run() takes 'backfill' or 'sync', not {command!r}")
    env = dict(os.environ)
    if api_key is not None:
        env[ENV_API_KEY] = api_key
    _, job = resolve(command, settings, config=Path(config) if config else None, env=env)
    return await collect(job, observers=observers, clock=clock)
