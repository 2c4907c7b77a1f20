"""Per-stage wall-clock times of the real tracking path (``dcffnet bench``'s update profile).

:class:`StageTimes` is handed to :meth:`dcffnet.Tracker.profile`; the pipeline stamps it at each
stage boundary of every ``update`` while it is attached, so the profile times exactly the code
that tracks, not a copy of it.
"""

from __future__ import annotations

import statistics
import time

__all__ = ["StageTimes", "STAGES"]

#: the stages of a tracked frame, in order (see :mod:`dcffnet.tracking.pipeline`)
STAGES = ("frame", "region", "crop", "prepare", "network", "decode", "score", "state")


class StageTimes:
    """Milliseconds spent in each stage, one list per stage (one entry per frame)."""

    def __init__(self) -> None:
        self.samples: dict[str, list[float]] = {name: [] for name in STAGES}
        self._last = 0.0

    def start(self) -> None:
        """Start timing a frame."""
        self._last = time.perf_counter()

    def stamp(self, stage: str) -> None:
        """``stage`` ended now: add the time since the previous stamp (or :meth:`start`)."""
        now = time.perf_counter()
        self.samples.setdefault(stage, []).append((now - self._last) * 1000.0)
        self._last = now

    def medians(self) -> dict[str, float]:
        """Median milliseconds per frame of each stage that ran."""
        return {name: statistics.median(values) for name, values in self.samples.items() if values}
