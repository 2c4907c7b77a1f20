"""The per-target state record: everything one tracked target carries from frame to frame.

A :class:`~dcffnet.Tracker` owns one :class:`TargetState`, a :class:`~dcffnet.MultiTracker` one
per target; the stages of :mod:`dcffnet.tracking.pipeline` read and write it, and tracking
components keep their per-target memory in :attr:`TargetState.memory`. Nothing else about a
target lives anywhere else, so copying a target is copying its record.
"""

from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .result import TrackState

__all__ = ["TargetState"]

_serials = itertools.count()


@dataclass(eq=False)
class TargetState:
    """One target's state (frame pixels, 0-based; boxes as ``(cx, cy, w, h)`` float64 arrays).

    Attributes:
        box: the current box ``(cx, cy, w, h)``.
        confident: the last box whose score passed ``lost_threshold`` (held while lost).
        mode: :class:`TrackState` of the box (tracking, uncertain, lost: held, re-detecting).
        reported: the :class:`TrackState` the last result reported (``mode``, or ``lost`` where a
            component such as :class:`~dcffnet.tracking.components.LostReport` reports it).
        misses: consecutive frames below ``lost_threshold``.
        lost_frames: frames since the target was lost (bounded: see
            :mod:`dcffnet.tracking.redetect`).
        template: the network's template features of the target (backend specific).
        tile_template: ``template`` repeated ``tile_count`` times for the batched re-detection
            crops (made when first needed, for the ``redetect_tiles`` in effect then), or ``None``.
        tile_count: how many copies ``tile_template`` holds (0: not made yet).
        redetect_grid: the last re-detection grid, reused while the target stays lost
            (:func:`~dcffnet.tracking.redetect.redetection_centres`).
        pad_value: colour that pads crops reaching outside the frame (the init frame's mean, BGR).
        size_factor: per-axis factor on regressed sizes (size calibration x ``size_scale``), fixed at init.
        last_cues: the last frame's calibration cues (``score``, ``peak``, ``psr``).
        memory: per-component memory, keyed by the component's name
            (:class:`~dcffnet.tracking.components.TrackingComponent`).
        version: incremented on every (re-)initialisation; batched template caches key on it.
    """

    box: np.ndarray
    confident: np.ndarray
    template: Any
    pad_value: tuple[float, ...]
    size_factor: tuple[float, float] = (1.0, 1.0)
    mode: TrackState = TrackState.TRACKING
    reported: TrackState = TrackState.TRACKING
    misses: int = 0
    lost_frames: int = 0
    tile_template: Any = None
    tile_count: int = 0
    redetect_grid: dict[str, Any] = field(default_factory=dict)
    last_cues: dict[str, float] = field(default_factory=dict)
    memory: dict[str, Any] = field(default_factory=dict)
    version: int = 0
    serial: int = field(default_factory=lambda: next(_serials))

    @property
    def xywh(self) -> tuple[float, float, float, float]:
        """The current box as ``(x, y, w, h)`` floats (frame pixels)."""
        cx, cy, w, h = self.box
        return (float(cx - w / 2), float(cy - h / 2), float(w), float(h))

    @property
    def cache_key(self) -> tuple[int, int]:
        """Identifies this target's current template: ``(serial, version)``."""
        return (self.serial, self.version)

    def restart(self, box: np.ndarray, template: Any, pad_value: tuple[float, ...],
                size_factor: tuple[float, float]) -> None:
        """Reset to a new target in ``box`` (re-initialisation in place: every holder of this
        record sees the new target, and every cache keyed on :attr:`cache_key` is invalidated)."""
        self.box = np.asarray(box, dtype=np.float64).copy()
        self.confident = self.box.copy()
        self.template, self.tile_template, self.tile_count = template, None, 0
        self.pad_value, self.size_factor = pad_value, size_factor
        self.mode, self.misses, self.lost_frames = TrackState.TRACKING, 0, 0
        self.reported = TrackState.TRACKING
        self.last_cues, self.memory, self.redetect_grid = {}, {}, {}
        self.version += 1

    def take_position(self, other: "TargetState") -> None:
        """Take ``other``'s box, confident box, mode and lost-state counters (not its template or
        memories): open-loop comparisons start two trackers' frames from the same state."""
        self.box, self.confident = other.box.copy(), other.confident.copy()
        self.mode, self.misses, self.lost_frames = other.mode, other.misses, other.lost_frames
        self.reported = other.reported

    def __deepcopy__(self, memo: dict[int, Any]) -> "TargetState":
        clone = copy.copy(self)
        for name in ("box", "confident", "last_cues", "memory", "template", "tile_template", "redetect_grid"):
            setattr(clone, name, copy.deepcopy(getattr(self, name), memo))
        clone.serial = next(_serials)  # a copy is another target: its own template caches
        return clone
