"""Validation helpers for the configuration data: each raises `ValueError` naming the field."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, get_args


def require_aware(value: datetime | None, name: str) -> None:
    """`value` is None or timezone-aware."""
    if value is not None and value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {value!r}")


def require_probability(value: float, name: str) -> None:
    """`value` lies in [0, 1]."""
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be a probability in [0, 1], got {value!r}")


def require_choice(value: str, choices: Any, name: str) -> None:
    """`value` is one of the strings of the `Literal` type `choices`."""
    allowed = get_args(choices)
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}, got {value!r}")


def require_unique(ids: Iterable[object], what: str) -> None:
    """No id occurs twice."""
    seen: set[object] = set()
    duplicates: set[object] = set()
    for i in ids:
        (duplicates if i in seen else seen).add(i)
    if duplicates:
        raise ValueError(f"duplicate {what}: {', '.join(sorted(map(repr, duplicates)))}")


def require_order(first: datetime | None, last: datetime | None, names: str) -> None:
    """`last` needs `first`, and is not before it."""
    if last is not None and (first is None or last < first):
        raise ValueError(f"{names}: the last date needs a first date and must not precede it")
