"""Fixtures for the whole suite: no test reads the developer's own collector or Braze settings."""

from __future__ import annotations

import os

import pytest

ENV_PREFIXES = ("COLLECTOR_", "BRAZE_")


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Remove every COLLECTOR_* and BRAZE_* variable for the test; tests set what they need."""
    for name in list(os.environ):
        if name.startswith(ENV_PREFIXES):
            monkeypatch.delenv(name)
