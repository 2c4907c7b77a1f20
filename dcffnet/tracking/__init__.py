"""Tracking: the :class:`Tracker`, its decoding step and the one tracking loop.

* :mod:`~dcffnet.tracking.tracker`: ``Tracker`` (``init`` / ``update`` / ``track``) and ``TrackResult``;
* :mod:`~dcffnet.tracking.multi`: ``MultiTracker`` (many targets, one batched pass per frame);
* :mod:`~dcffnet.tracking.appearance`: ``appearance_scores`` (does a candidate box show a target?);
* :mod:`~dcffnet.tracking.result`: ``TrackResult`` (box, score, state) and ``TrackState``;
* :mod:`~dcffnet.tracking.calibration`: the score calibration;
* :mod:`~dcffnet.tracking.decode`: head output -> box (penalties, window, peak);
* :mod:`~dcffnet.tracking.threads`: ``ThreadChooser`` (``threads="auto"``: the thread count picked while tracking);
* :mod:`~dcffnet.tracking.loop`: ``iter_track`` / ``track_frames`` (init + update over a sequence, timed).

The frame -> crop -> cell -> box geometry these use is :mod:`dcffnet.geometry`.
"""

from .decode import decode_response
from .loop import TrackRun, TrackStep, iter_track, track_frames
from .result import TrackResult, TrackState
from .multi import MultiTracker
from .threads import ThreadChooser
from .tracker import Tracker

__all__ = ["Tracker", "MultiTracker", "ThreadChooser", "TrackResult", "TrackState", "decode_response", "TrackRun", "TrackStep", "iter_track", "track_frames"]
