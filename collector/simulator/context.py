"""What an answer is computed from — configuration, data set, workspace, now — and the 400 error."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from collector.simulator.config import SimulatorConfig, Workspace
from collector.simulator.data import Dataset, unit_hash


class BadRequest(ValueError):
    """A parameter is invalid; the text is the 400 message."""


@dataclass(frozen=True)
class Context:
    """One answer's inputs: the configuration and data set, the key's workspace, the clock's now."""

    config: SimulatorConfig
    data: Dataset
    workspace: Workspace
    now: float

    @property
    def zone(self) -> ZoneInfo:
        """The workspace time zone (ZoneInfo caches instances, so this is cheap and stable)."""
        return ZoneInfo(self.workspace.timezone)

    def hashed(self, *parts: object) -> float:
        """A uniform number in [0, 1) fixed by the seed, the workspace and `parts`."""
        return unit_hash(self.config.seed, self.workspace.id, *parts)
