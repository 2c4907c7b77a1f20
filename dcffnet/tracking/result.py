"""What a tracker returns per frame: :class:`TrackResult` and its :class:`TrackState`."""

from __future__ import annotations

import enum

__all__ = ["TrackState", "TrackResult"]


class TrackState(str, enum.Enum):
    """Where the tracker stands with its target (see :class:`~dcffnet.TrackerHParams` for the thresholds)."""

    TRACKING = "tracking"    #: the score is at least ``lost_threshold``
    UNCERTAIN = "uncertain"  #: below it for fewer than ``lost_after`` frames: the box moves, its size is kept
    #: the target is reported lost: either the score stayed below ``lost_threshold`` for
    #: ``lost_after`` frames (the box is held and re-detection runs), or the
    #: :class:`~dcffnet.tracking.components.LostReport` component's sustained-low-score decision
    #: fired (``report_lost_below``; the box keeps tracking around where it is)
    LOST = "lost"


class TrackResult(tuple):
    """One frame's result: ``box = (x, y, w, h)`` in frame pixels (0-based), ``score`` in [0, 1] and
    ``state`` (a :class:`TrackState`; ``lost`` is ``state == TrackState.LOST``).

    It unpacks as the pair ``box, score = result``; ``state`` and ``lost`` are attributes. With a
    calibrated checkpoint the score estimates the probability that the box overlaps the target by
    more than 0.5 IoU.
    """

    def __new__(cls, box: tuple[float, float, float, float], score: float,
                state: TrackState = TrackState.TRACKING) -> "TrackResult":
        self = super().__new__(cls, (box, score))
        self.state = TrackState(state)
        return self

    def __getnewargs__(self) -> tuple:
        return (self[0], self[1], self.state)

    @property
    def box(self) -> tuple[float, float, float, float]:
        return self[0]

    @property
    def score(self) -> float:
        return self[1]

    @property
    def lost(self) -> bool:
        """Whether the tracker reports the target lost (see :attr:`TrackState.LOST` for what
        happens to the box)."""
        return self.state is TrackState.LOST

    def __repr__(self) -> str:
        return f"TrackResult(box={self.box!r}, score={self.score!r}, state={self.state.value!r})"
