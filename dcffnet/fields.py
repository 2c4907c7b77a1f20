"""Shared argument checks: configuration dataclasses built from dicts (JSON / YAML), counts."""

from __future__ import annotations

import dataclasses
from typing import Any

__all__ = ["reject_unknown_keys", "is_positive_int"]


def reject_unknown_keys(cls: type, data: dict[str, Any], what: str) -> None:
    """Raise ``ValueError`` naming every key of ``data`` that is not a field of dataclass ``cls``."""
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"unknown {what} {unknown}; known: {sorted(known)}")


def is_positive_int(value: Any) -> bool:
    """Whether ``value`` is an ``int`` (not a ``bool``) of at least 1: a count of threads, crops, calls."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1
