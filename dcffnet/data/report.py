"""What reading a dataset found: the sequences read and everything skipped, each with why.

Every reader takes ``report=`` (a :class:`ReadReport`) and records into it; called without one, a
reader keeps its own and warns with :meth:`ReadReport.summary` when it skipped anything, so nothing
is skipped silently either way. :func:`dcffnet.data.read_dataset_report` reads a dataset by format
name and returns the report.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from ..errors import DatasetError
from .sequence import Sequence

__all__ = ["Skipped", "ReadReport"]


@dataclass(frozen=True)
class Skipped:
    """One thing a reader did not read: ``name`` (the sequence's name, or the path relative to the
    dataset root of a folder or link) and ``reason`` (a sentence)."""

    name: str
    reason: str


@dataclass
class ReadReport:
    """The outcome of reading one dataset.

    Attributes:
        root: the dataset read (its folder, or the annotation file for ``coco``).
        format: its format name (empty when a reader is called directly).
        strict: :meth:`skip` raises :class:`~dcffnet.errors.DatasetError` for a sequence that cannot
            be read instead of recording it.
        sequences: the sequences read, in the reader's order.
        skipped: what was not read, each with its reason, in the order met.
    """

    root: str
    format: str = ""
    strict: bool = False
    sequences: list[Sequence] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    @property
    def found(self) -> int:
        """How many sequences (or places that could hold one) the reader met: read + skipped."""
        return len(self.sequences) + len(self.skipped)

    def add(self, sequence: Sequence) -> None:
        """Record a sequence read."""
        self.sequences.append(sequence)

    def skip(self, name: str, reason: str, fatal: bool = True) -> None:
        """Record that ``name`` is not read, and why.

        Args:
            fatal: whether strict reading fails on it (``False`` for what loses no data, such as a
                folder reached twice through links, or a documented limit of a reader).

        Raises:
            DatasetError: ``strict`` and ``fatal``; the message names the dataset, ``name`` and ``reason``.
        """
        if self.strict and fatal:
            raise DatasetError(f"dataset {self.root}{self._format()}: sequence {name!r} cannot be read: {reason} "
                               "(strict reading; without it the sequence is skipped and reported)", name, reason)
        self.skipped.append(Skipped(name, reason))

    def require_first_box(self) -> None:
        """Skip (strict: refuse) every sequence without a valid box in its first frame: a tracker
        cannot be initialised on it, so it cannot be evaluated."""
        kept = []
        for seq in self.sequences:
            box = seq.boxes[0]
            if np.isfinite(box).all():
                kept.append(seq)
            else:
                self.skip(seq.name, "no valid box in the first frame (the ground truth's first line is "
                                    "empty, NaN, or has a width or height <= 0): a tracker cannot be "
                                    "initialised on it")
        self.sequences = kept

    def summary(self, limit: int = 10) -> str:
        """One paragraph: how many sequences were found, read and skipped, and why (the first
        ``limit`` skipped ones by name, then a count)."""
        text = (f"dataset {self.root}{self._format()}: found {self.found}, read {len(self.sequences)}, "
                f"skipped {len(self.skipped)}")
        if not self.skipped:
            return text
        shown = "; ".join(f"{s.name}: {s.reason}" for s in self.skipped[:limit])
        more = f"; and {len(self.skipped) - limit} more" if len(self.skipped) > limit else ""
        return f"{text} ({shown}{more})"

    def finish(self, warn: bool) -> list[Sequence]:
        """The sequences read; with ``warn``, a ``UserWarning`` carrying :meth:`summary` first when
        anything was skipped (how readers called without a report say so)."""
        if warn and self.skipped:
            warnings.warn(self.summary(), stacklevel=3)
        return self.sequences

    def _format(self) -> str:
        return f" ({self.format})" if self.format else ""
