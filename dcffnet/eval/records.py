"""What running trackers over a benchmark records, before anything is scored.

* :class:`SequenceResult`: one tracker on one sequence (boxes, scores, times, lost flags);
* :class:`KeptUse`: which results of one tracker were read back from the kept folder, and why the
  others kept there were not;
* :class:`OPERecord`: a whole one-pass run, every tracker on every sequence.

:mod:`dcffnet.eval.runner` fills them; :mod:`dcffnet.eval.report` scores them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .datasets import Sequence

__all__ = ["SequenceResult", "KeptUse", "OPERecord", "jsonable"]


@dataclass
class SequenceResult:
    """One tracker's pass over one sequence.

    Attributes:
        boxes: ``(N, 4)`` boxes ``(x, y, w, h)``, 0-based frame pixels; row 0 is the given box.
        scores: ``(N,)`` the confidence each ``update`` returned (1.0 on frame 0).
        times: ``(N,)`` seconds spent in each ``init`` / ``update`` call (decoding excluded).
        lost: ``(N,)`` bool, frames where the tracker reported the target lost.
        reused: read back from the kept folder of an earlier run instead of computed.
    """

    boxes: np.ndarray
    scores: np.ndarray
    times: np.ndarray
    lost: np.ndarray
    reused: bool = False

    def __post_init__(self) -> None:
        n = len(self.boxes)
        if np.shape(self.boxes) != (n, 4):
            raise ValueError(f"boxes must be (N, 4), got shape {np.shape(self.boxes)}")
        for name in ("scores", "times", "lost"):
            if np.shape(getattr(self, name)) != (n,):
                raise ValueError(f"{name} must be ({n},) like the boxes, got shape {np.shape(getattr(self, name))}")

    def __len__(self) -> int:
        return len(self.boxes)


@dataclass
class KeptUse:
    """How one tracker used the kept folder: ``reused`` sequence names read back, ``refused``
    ``{sequence: reason}`` for kept results that were there but computed again."""

    reused: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)


@dataclass
class OPERecord:
    """Every tracker's :class:`SequenceResult` on every sequence of a one-pass run.

    ``results[tracker][sequence]``; ``peers``: names of the reference trackers (OpenCV's);
    ``keep_dir``: the kept folder the run read and wrote (None: none); ``kept[tracker]``: its use.
    """

    sequences: list[Sequence]
    results: dict[str, dict[str, SequenceResult]]
    peers: list[str] = field(default_factory=list)
    keep_dir: Path | None = None
    kept: dict[str, KeptUse] = field(default_factory=dict)

    @property
    def trackers(self) -> list[str]:
        """Tracker names in run order."""
        return list(self.results)

    def boxes(self) -> dict[str, dict[str, np.ndarray]]:
        """``boxes[tracker][sequence]``: ``(N, 4)`` xywh boxes, 0-based pixels."""
        return {t: {s: r.boxes for s, r in per_seq.items()} for t, per_seq in self.results.items()}

    def scores(self) -> dict[str, dict[str, np.ndarray]]:
        """``scores[tracker][sequence]``: ``(N,)`` per-frame confidences."""
        return {t: {s: r.scores for s, r in per_seq.items()} for t, per_seq in self.results.items()}

    def fps(self) -> dict[str, float]:
        """``fps[tracker]``: frames / seconds spent in ``init`` + ``update`` over every sequence
        (reused results count with the times measured when they were computed)."""
        out = {}
        for tracker, per_seq in self.results.items():
            frames = sum(len(r) for r in per_seq.values())
            seconds = sum(float(r.times.sum()) for r in per_seq.values())
            out[tracker] = frames / max(seconds, 1e-9)
        return out


def jsonable(value: Any) -> Any:
    """``value`` with numpy arrays and scalars turned into lists and Python numbers (dicts, lists
    and tuples converted recursively), ready for :func:`json.dumps`."""
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (np.floating, np.integer, np.bool_)):
        return value.item()
    return value
