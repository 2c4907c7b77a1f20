"""Shared argument checks: configuration dataclasses built from dicts (JSON / YAML), counts, and
bounded numbers (:func:`check_int`, :func:`check_real`: type, finiteness and range, for values that
may come from a file someone else wrote), paths (:func:`check_path`)."""

from __future__ import annotations

import dataclasses
import math
import numbers
import os
from pathlib import Path
from typing import Any

__all__ = ["reject_unknown_keys", "is_positive_int", "MAX_COUNT", "check_int", "check_real", "check_path",
           "short_repr"]


def reject_unknown_keys(cls: type, data: dict[str, Any], what: str) -> None:
    """Raise ``ValueError`` naming every key of ``data`` that is not a field of dataclass ``cls``."""
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - known, key=repr)  # keys read from a file need not be strings
    if unknown:
        raise ValueError(f"unknown {what} {unknown}; known: {sorted(known)}")


#: largest count :func:`is_positive_int` accepts: a C ``int``, what thread counts reach ONNX Runtime
#: and torch as (a larger one raised their raw binding errors)
MAX_COUNT = 2**31 - 1


def is_positive_int(value: Any) -> bool:
    """Whether ``value`` is an ``int`` (not a ``bool``) in ``[1, MAX_COUNT]``: a count of threads,
    crops, calls."""
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_COUNT


def check_path(value: Any, name: str) -> Path:
    """``value`` as a :class:`~pathlib.Path`: a non-empty ``str`` or ``os.PathLike`` naming a file or
    folder (``bytes`` are not accepted: the rest of dcffnet handles text paths).

    Raises:
        TypeError: not a ``str`` / ``os.PathLike`` of ``str``, naming ``name``.
        ValueError: empty (``Path("")`` would silently mean the current folder), naming ``name``.
    """
    text = os.fspath(value) if isinstance(value, os.PathLike) else value
    if not isinstance(text, str):
        raise TypeError(f"{name} must be a file or folder name (a str or os.PathLike), got {short_repr(value)} "
                        f"({type(value).__name__})")
    if not text:
        raise ValueError(f"{name} must be a file or folder name (a str or os.PathLike), got an empty name "
                         f"{short_repr(value)}")
    return Path(text)


def short_repr(value: Any, limit: int = 80) -> str:
    """``repr(value)`` cut to ``limit`` characters (a hostile file can hold a megabyte-long string)."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def check_int(value: Any, name: str, low: int, high: int) -> int:
    """``value`` as an ``int`` in ``[low, high]``; an integral float (``9.0``, from JSON or a tuning
    grid) counts.

    Raises:
        TypeError: not an integer (a ``bool`` or a string is not one), naming ``name``.
        ValueError: outside ``[low, high]`` (or a float with a fraction), naming ``name`` and the range.
    """
    if isinstance(value, bool) or not isinstance(value, (numbers.Integral, numbers.Real)):
        raise TypeError(f"{name} must be an integer in [{low}, {high}], got {short_repr(value)} "
                        f"({type(value).__name__})")
    if not isinstance(value, numbers.Integral):
        if not (math.isfinite(value) and float(value).is_integer()):
            raise ValueError(f"{name} must be an integer in [{low}, {high}], got {short_repr(value)}")
    number = int(value)
    if not low <= number <= high:
        raise ValueError(f"{name} must be an integer in [{low}, {high}], got {short_repr(value)}")
    return number


def check_real(value: Any, name: str, low: float, high: float, *, low_open: bool = False) -> float:
    """``value`` as a finite ``float`` in ``[low, high]`` (``(low, high]`` with ``low_open``).

    Raises:
        TypeError: not a real number (a ``bool`` or a string is not one), naming ``name``.
        ValueError: NaN, infinite or outside the range, naming ``name`` and the range.
    """
    interval = f"{'(' if low_open else '['}{low:g}, {high:g}]"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number in {interval}, got {short_repr(value)} ({type(value).__name__})")
    number = float(value)
    inside = (low < number if low_open else low <= number) and number <= high
    if not (math.isfinite(number) and inside):
        raise ValueError(f"{name} must be a finite number in {interval}, got {short_repr(value)}")
    return number
