"""Benchmarks for ``dcffnet eval``: the benchmark formats of :mod:`dcffnet.data.formats`, and ping-pong clips.

Every reader returns :class:`~dcffnet.data.Sequence` objects whose ground truth (``gt``) is
``(x, y, w, h)`` in 0-based continuous pixels, NaN rows where the target is absent or
unannotated; training reads the same sequences through the same functions.
"""

from __future__ import annotations

import warnings
from pathlib import Path

from ..data import (Sequence, format_names, get_format, polygon_to_box, read_dataset_report, read_folder, read_got10k,
                    read_lasot, read_otb, read_uav123, read_vot)
from ..data.report import ReadReport

__all__ = ["Sequence", "FORMATS", "load_benchmark", "read_benchmark", "polygon_to_box", "read_otb", "read_vot", "read_lasot",
           "read_got10k", "read_uav123", "read_folder", "ping_pong"]


#: benchmark format name (aliases included) -> reader: the registry's benchmark formats
FORMATS = {name: get_format(name).read for name in format_names(benchmark_only=True)}


def read_benchmark(path: str | Path, format: str = "folder", strict: bool = False) -> ReadReport:
    """Read the benchmark at ``path`` in ``format`` (a benchmark format of the registry,
    :func:`dcffnet.data.format_names` with ``benchmark_only=True``: ``folder``, ``otb``, ``vot``,
    ``lasot``, ``got10k``, ``uav``) and say what was read and what was skipped, and why
    (:func:`dcffnet.data.read_dataset_report` with ``benchmark=True``): a sequence that cannot be
    scored (no frames, empty ground truth, no valid first box) is skipped with its reason, or,
    with ``strict``, fails the run naming it.

    Raises:
        FileNotFoundError: ``path`` is not a folder; ValueError: an unknown or training-only format;
            DatasetError (a ValueError): no usable sequence, or ``strict`` and an unusable one.
    """
    path = Path(path)
    if not path.is_dir():
        raise FileNotFoundError(f"benchmark folder not found: {path}")
    return read_dataset_report(format, path, strict=strict, benchmark=True)


def load_benchmark(path: str | Path, format: str = "folder", strict: bool = False) -> list[Sequence]:
    """The usable sequences of :func:`read_benchmark`; a ``UserWarning`` carrying the report's
    summary when any were skipped."""
    report = read_benchmark(path, format, strict)
    if report.skipped:
        warnings.warn(report.summary(), stacklevel=2)
    return report.sequences


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
