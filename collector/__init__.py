"""collector: bulk, resumable, rate-aware collection of Braze analytics time series."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = ["CollectorError", "ConfigError", "RunReport", "Settings", "__version__", "run"]

_LAZY = {
    "run": "collector.api",
    "Settings": "collector.config",
    "RunReport": "collector.core.models",
    "CollectorError": "collector.errors",
    "ConfigError": "collector.errors",
}


def __getattr__(name: str) -> Any:
    """The public names, imported on first use (PEP 562): `collector --help` need not load
    the HTTP stack to print a page of text."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'collector' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
