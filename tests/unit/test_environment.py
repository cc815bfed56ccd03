"""The suite does not depend on the developer's environment (tests/conftest.py)."""

from __future__ import annotations

import os

from collector.config import settings_from
from collector.core.units import Unit


def test_no_collector_or_braze_variable_reaches_a_test():
    """`COLLECTOR_UNIT=hour` (or a real BRAZE_API_KEY) exported in the shell is invisible here."""
    leaked = sorted(k for k in os.environ if k.startswith(("COLLECTOR_", "BRAZE_")))
    assert leaked == []
    assert settings_from({}, {}).unit is Unit.DAY
