"""A shared check for configuration dataclasses built from dicts (JSON / YAML)."""

from __future__ import annotations

import dataclasses
from typing import Any

__all__ = ["reject_unknown_keys"]


def reject_unknown_keys(cls: type, data: dict[str, Any], what: str) -> None:
    """Raise ``ValueError`` naming every key of ``data`` that is not a field of dataclass ``cls``."""
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"unknown {what} {unknown}; known: {sorted(known)}")
