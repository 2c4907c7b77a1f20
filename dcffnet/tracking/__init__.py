"""Tracking: the :class:`Tracker`, its decoding step and the one tracking loop.

* :mod:`~dcffnet.tracking.tracker`: ``Tracker`` (``init`` / ``update`` / ``track``) and ``TrackResult``;
* :mod:`~dcffnet.tracking.decode`: head output -> box (penalties, window, peak);
* :mod:`~dcffnet.tracking.loop`: ``iter_track`` / ``track_frames`` (init + update over a sequence, timed).

The frame -> crop -> cell -> box geometry these use is :mod:`dcffnet.geometry`.
"""

from .decode import decode_response
from .loop import TrackRun, TrackStep, iter_track, track_frames
from .tracker import Tracker, TrackResult

__all__ = ["Tracker", "TrackResult", "decode_response", "TrackRun", "TrackStep", "iter_track", "track_frames"]
