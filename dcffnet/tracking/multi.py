"""Several targets in one video: one batched network pass per frame for all of them.

Each target is a :class:`~dcffnet.tracking.tracker.Tracker` state (box, template, lost-state
counters, size calibration) sharing one network; :meth:`MultiTracker.update` crops every tracked
target's search region, runs them as one batch and decodes each with the same code a single
``Tracker`` uses, so a target's results are those of a separate ``Tracker`` (up to the float
rounding of batched convolutions). Lost targets run their own batched re-detection.
"""

from __future__ import annotations

import copy
import itertools
from typing import Any, Hashable, Iterator

import numpy as np
import torch

from ..fields import is_positive_int
from ..frames import to_bgr
from .result import TrackResult, TrackState
from .tracker import Tracker

__all__ = ["MultiTracker"]


class MultiTracker:
    """Track any number of targets in one video, adding and removing them at any frame.

    Args:
        weights: as for :class:`~dcffnet.Tracker` (checkpoint folder, bundled name or hub id).
        batch_size: most search crops per network pass (default 16; measured on a 2-core CPU, 64
            crops in one pass cost more per target than four passes of 16, docs/performance.md).
        backend: ``"torch"`` (default: one batched pass per frame) or ``"onnx"`` (the exported
            graphs have batch 1, so targets run one after another).
        **kwargs: every other :class:`~dcffnet.Tracker` argument (``model``, ``hparams``,
            ``device``, ``color``, ``threads``, ...), shared by all targets.

    Example::

        multi = dcffnet.MultiTracker()
        a = multi.add(frame0, (x, y, w, h))          # returns the target's id
        b = multi.add(frame0, (x2, y2, w2, h2), target_id="car")
        for frame in frames:
            results = multi.update(frame)            # {id: TrackResult(box, score, state)}
        multi.remove("car")

    Boxes are ``(x, y, w, h)`` floats in 0-based continuous frame pixels.
    """

    def __init__(self, weights: Any = "default", *, batch_size: int = 16, backend: str = "torch", **kwargs: Any) -> None:
        self._prototype = Tracker(weights, backend=backend, **kwargs)
        self._targets: dict[Hashable, Tracker] = {}
        self._ids = itertools.count()
        if not is_positive_int(batch_size):
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        #: most search crops per network pass (more targets run in several passes)
        self.batch_size = batch_size
        self._batched: dict[tuple[Hashable, ...], Any] = {}  # target ids of a pass -> their templates, concatenated

    # ------------------------------------------------------------------------------------ targets
    @property
    def targets(self) -> tuple[Hashable, ...]:
        """Ids of the current targets, in the order they were added."""
        return tuple(self._targets)

    def __len__(self) -> int:
        return len(self._targets)

    def __contains__(self, target_id: object) -> bool:
        return target_id in self._targets

    def __iter__(self) -> Iterator[Hashable]:
        return iter(self._targets)

    def tracker(self, target_id: Hashable) -> Tracker:
        """The per-target :class:`~dcffnet.Tracker` state (``box``, ``state``, ``last_cues``).

        Raises:
            KeyError: no target with that id.
        """
        if target_id not in self._targets:
            raise KeyError(f"no target with id {target_id!r}; targets: {list(self._targets)}")
        return self._targets[target_id]

    def add(self, frame: Any, box: "tuple[float, float, float, float] | np.ndarray | list[float]",
            target_id: Hashable | None = None) -> Hashable:
        """Start tracking a target in ``box = (x, y, w, h)`` (frame pixels, 0-based) of ``frame``.

        Args:
            target_id: a hashable id for the target (default: the next free integer).

        Returns:
            The target's id.

        Raises:
            ValueError: ``target_id`` is already in use, or a bad box (see :meth:`Tracker.init`).
            TypeError: a frame of an unsupported type.
        """
        if target_id is None:
            target_id = next(self._ids)
            while target_id in self._targets:
                target_id = next(self._ids)
        try:
            hash(target_id)
        except TypeError as exc:
            raise TypeError(f"target_id must be hashable, got {type(target_id).__name__}") from exc
        if target_id in self._targets:
            raise ValueError(f"target_id {target_id!r} is already tracked; remove() it first or pass another id")
        tracker = copy.copy(self._prototype)  # shares the network and settings, not the target state
        tracker.init(frame, box)
        self._targets[target_id] = tracker
        self._batched.clear()
        return target_id

    def remove(self, target_id: Hashable) -> None:
        """Stop tracking a target.

        Raises:
            KeyError: no target with that id.
        """
        self.tracker(target_id)
        del self._targets[target_id]
        self._batched.clear()

    # ------------------------------------------------------------------------------------- update
    def update(self, frame: Any) -> dict[Hashable, TrackResult]:
        """Locate every target in ``frame``: ``{target_id: TrackResult(box, score, state)}``.

        Raises:
            TypeError / ValueError: a frame of an unsupported type or shape.
        """
        return self._prototype._with_threads(self._update, frame)

    @torch.inference_mode()
    def _update(self, frame: Any) -> dict[Hashable, TrackResult]:
        proto = self._prototype
        image = to_bgr(frame, proto.color)
        results: dict[Hashable, TrackResult] = {}
        tracking = [(i, t) for i, t in self._targets.items() if t.state is not TrackState.LOST]
        for start in range(0, len(tracking), self.batch_size):
            chunk = tracking[start:start + self.batch_size]
            ids = tuple(i for i, _ in chunk)
            if ids not in self._batched:
                templates = [t._template for _, t in chunk]
                self._batched[ids] = type(templates[0]).cat(templates) if len(templates) > 1 else templates[0]
            regions = [t._search_region(t._state) for _, t in chunk]
            crops = np.stack([r.crop(image, t._pad_value) for r, (_, t) in zip(regions, chunk)])
            output = proto._track_crops(proto._prepare(crops), self._batched[ids])
            for k, ((target_id, tracker), region) in enumerate(zip(chunk, regions)):
                one = {name: value[k:k + 1] for name, value in output.items()}
                results[target_id] = tracker._follow(one, region, image)
        for target_id, tracker in self._targets.items():
            if target_id not in results:
                results[target_id] = tracker._redetect(image)
        return {i: results[i] for i in self._targets}
