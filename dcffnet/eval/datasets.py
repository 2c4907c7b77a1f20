"""Benchmarks for ``dcffnet eval``: the readers of :mod:`dcffnet.data` by format name, and ping-pong clips.

Every reader returns :class:`~dcffnet.data.Sequence` objects whose ground truth (``gt``) is
``(x, y, w, h)`` in 0-based continuous pixels, NaN rows where the target is absent or
unannotated; training reads the same sequences through the same functions.
"""

from __future__ import annotations

from pathlib import Path

from ..data import (Sequence, polygon_to_box, read_folder, read_got10k, read_lasot, read_otb, read_uav123,
                    read_vot)

__all__ = ["Sequence", "FORMATS", "load_benchmark", "polygon_to_box", "read_otb", "read_vot", "read_lasot",
           "read_got10k", "read_uav123", "read_folder", "ping_pong"]


FORMATS = {"otb": read_otb, "vot": read_vot, "lasot": read_lasot, "got10k": read_got10k, "uav": read_uav123,
           "folder": read_folder}


def load_benchmark(path: str | Path, format: str = "folder") -> list[Sequence]:
    """Read the benchmark at ``path`` in ``format`` (``otb``, ``vot``, ``lasot``, ``got10k``, ``uav``, ``folder``)."""
    path = Path(path)
    if not path.is_dir():
        raise FileNotFoundError(f"benchmark folder not found: {path}")
    if format not in FORMATS:
        raise ValueError(f"unknown benchmark format {format!r}; available: {', '.join(FORMATS)}")
    seqs = FORMATS[format](path)
    if not seqs:
        raise ValueError(f"no sequences found in {path} as format {format!r}")
    return seqs


def ping_pong(seq: Sequence, cycles: int) -> Sequence:
    """``seq`` played forward, backward, forward, ... ``cycles`` times there and back (frames
    ``0..n-1, n-2..0, 1..n-1, ...``), with its ground truth reindexed the same way.

    A tuning aid for short clips: a tracker whose box size drifts is back at the first frame's
    target after each round trip and is scored against it, so drift that a 60-frame clip would hide
    costs AUC, as it does on long benchmark sequences. ``cycles=0`` returns ``seq`` unchanged.
    """
    if not isinstance(cycles, int) or cycles < 0:
        raise ValueError(f"cycles must be a non-negative int, got {cycles!r}")
    n = len(seq)
    if cycles == 0 or n < 2:
        return seq
    there_and_back = list(range(1, n)) + list(range(n - 2, -1, -1))
    order = [0] + there_and_back * cycles
    return seq.reindexed(order)
