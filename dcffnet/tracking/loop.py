"""The one tracking loop: ``init`` on the first frame, ``update`` on the rest, timing each call.

Used by ``dcffnet eval`` (and ``dcffnet tune`` through it), ``dcffnet track`` and the benchmarks,
like got10k's ``Tracker.track(img_files, box) -> boxes, times``. Works with any object that has
``init(frame, box)`` and ``update(frame) -> (box, score)`` (a dcffnet :class:`~dcffnet.Tracker`,
the OpenCV peers of :mod:`dcffnet.eval.peers`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Iterable, Iterator, NamedTuple

import numpy as np

from .result import TrackState

__all__ = ["TrackStep", "TrackRun", "iter_track", "track_frames"]


class TrackStep(NamedTuple):
    """One frame of :func:`iter_track`: its index, the frame itself, the box ``(x, y, w, h)``
    (frame pixels; the init box on frame 0), the score (1.0 on frame 0), the seconds the
    ``init`` / ``update`` call took, and the tracker's :class:`TrackState` (``tracking`` for
    trackers that do not report one)."""

    index: int
    frame: Any
    box: tuple[float, float, float, float]
    score: float
    seconds: float
    state: TrackState = TrackState.TRACKING


@dataclass
class TrackRun:
    """What one pass over a sequence produced.

    Attributes:
        boxes: ``(N, 4)`` boxes ``(x, y, w, h)`` in frame pixels (0-based); row 0 is the init box.
        scores: ``(N,)`` the score of each ``update`` (1.0 for the init frame).
        times: ``(N,)`` seconds spent in each ``init`` / ``update`` call (frame decoding excluded).
        lost: ``(N,)`` bool, whether the tracker reported the target lost.
    """

    boxes: np.ndarray
    scores: np.ndarray
    times: np.ndarray
    lost: np.ndarray

    def __len__(self) -> int:
        return len(self.boxes)

    @property
    def fps(self) -> float:
        """Calls per second of tracker time (``inf`` for an empty or instant run)."""
        total = float(self.times.sum())
        return len(self.times) / total if total > 0 else float("inf")


def iter_track(tracker: Any, frames: Iterable[Any], box: "tuple[float, float, float, float] | np.ndarray",
               max_frames: int | None = None) -> Iterator[TrackStep]:
    """Track one target through ``frames``, yielding a :class:`TrackStep` per frame.

    ``tracker.init(frames[0], box)`` on the first frame, ``tracker.update(frame)`` on each later one.

    Args:
        tracker: an object with ``init(frame, box)`` and ``update(frame) -> (box, score)``.
        frames: frames in order (any iterable: a list, a video reader, a generator reading files);
            the time taken to produce each frame, and whatever the caller does between steps, is not
            counted in ``seconds``.
        box: ``(x, y, w, h)`` of the target in the first frame (pixels, 0-based).
        max_frames: stop after this many frames (default: all).
    """
    if max_frames is not None and max_frames < 1:
        raise ValueError(f"max_frames must be >= 1 or None, got {max_frames}")
    init_box = tuple(float(v) for v in np.asarray(box, dtype=np.float64).reshape(-1))
    for index, frame in enumerate(frames):
        if max_frames is not None and index >= max_frames:
            return
        t0 = time.perf_counter()
        state = TrackState.TRACKING
        if index == 0:
            tracker.init(frame, init_box)
            result, score = init_box, 1.0
        else:
            output = tracker.update(frame)
            result, score = output
            state = TrackState(getattr(output, "state", TrackState.TRACKING))
        seconds = time.perf_counter() - t0
        yield TrackStep(index, frame, tuple(float(v) for v in result), float(score), seconds, state)


def track_frames(tracker: Any, frames: Iterable[Any], box: "tuple[float, float, float, float] | np.ndarray",
                 max_frames: int | None = None) -> TrackRun:
    """:func:`iter_track` collected into a :class:`TrackRun` (empty when ``frames`` is empty)."""
    steps = list(iter_track(tracker, frames, box, max_frames))
    return TrackRun(np.asarray([s.box for s in steps], dtype=np.float64).reshape(-1, 4),
                    np.asarray([s.score for s in steps], dtype=np.float64),
                    np.asarray([s.seconds for s in steps], dtype=np.float64),
                    np.asarray([s.state is TrackState.LOST for s in steps], dtype=bool))
