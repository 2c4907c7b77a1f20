"""Several targets in one video: one batched network pass per frame for all of them.

A :class:`MultiTracker` owns one :class:`~dcffnet.tracking.pipeline.TrackingPipeline` (the
stages and the network runner) and one :class:`~dcffnet.tracking.target.TargetState` per target.
:meth:`MultiTracker.update` runs every tracked target's search crop through the network in
batches and decodes each with the same stages a single ``Tracker`` runs, so a target's results
are those of a separate ``Tracker`` (up to the float rounding of batched convolutions). Lost
targets run their own batched re-detection.
"""

from __future__ import annotations

import itertools
from typing import Any, Hashable, Iterator

import numpy as np

from ..frames import to_bgr
from .appearance import appearance_scores
from .build import build_pipeline, check_color
from .result import TrackResult
from .target import TargetState
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

    def __init__(self, weights: Any = "default", *, batch_size: int = 16, backend: str = "torch",
                 color: str = "bgr", **kwargs: Any) -> None:
        self.color = check_color(color)
        self._pipeline = build_pipeline(weights, backend=backend, batch_size=batch_size, **kwargs)
        self._targets: dict[Hashable, TargetState] = {}
        self._ids = itertools.count()

    @property
    def batch_size(self) -> int:
        """Most search crops per network pass (more targets run in several passes)."""
        return self._pipeline.batch_size

    @property
    def pipeline(self) -> Any:
        """The per-frame stages and network runner all targets share."""
        return self._pipeline

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

    def target(self, target_id: Hashable) -> TargetState:
        """The state record of a target.

        Raises:
            KeyError: no target with that id.
            TypeError: ``target_id`` is not hashable.
        """
        _check_hashable(target_id)
        if target_id not in self._targets:
            raise KeyError(f"no target with id {target_id!r}; targets: {list(self._targets)}")
        return self._targets[target_id]

    def tracker(self, target_id: Hashable) -> Tracker:
        """A :class:`~dcffnet.Tracker` over this target's state record and the shared pipeline
        (``box``, ``state``, ``last_cues``). ``init`` on it re-initialises the target here too.

        Raises:
            KeyError: no target with that id.
        """
        return Tracker.attached(self._pipeline, self.target(target_id), self.color)

    def add(self, frame: Any, box: "tuple[float, float, float, float] | np.ndarray | list[float]",
            target_id: Hashable | None = None) -> Hashable:
        """Start tracking a target in ``box = (x, y, w, h)`` (frame pixels, 0-based) of ``frame``.

        Args:
            target_id: a hashable id for the target (default: the next free integer).

        Returns:
            The target's id.

        Raises:
            ValueError: ``target_id`` is already in use or NaN, or a bad box (see :meth:`Tracker.init`).
            TypeError: ``target_id`` not hashable or a ``bool``, or a frame of an unsupported type.
        """
        if target_id is None:
            target_id = next(self._ids)
            while target_id in self._targets:
                target_id = next(self._ids)
        _check_new_id(target_id)
        if target_id in self._targets:
            raise ValueError(f"target_id {target_id!r} is already tracked; remove() it first or pass another id")
        with self._pipeline.runner.session():
            self._targets[target_id] = self._pipeline.start(frame, self.color, box)
        return target_id

    def remove(self, target_id: Hashable) -> None:
        """Stop tracking a target.

        Raises:
            KeyError: no target with that id.
        """
        self.target(target_id)
        del self._targets[target_id]

    def appearance_scores(self, frame: Any, boxes: Any, target_id: Hashable) -> np.ndarray:
        """Whether each candidate box of ``frame`` shows a target: the calibrated score
        :meth:`update` would report for the target on ``frame`` had its last box been that box,
        when the box it finds overlaps the candidate (IoU >= 0.5; else 0.0;
        :func:`~dcffnet.tracking.appearance.appearance_scores`). The target is not changed.

        Args:
            frame: the frame the boxes belong to.
            boxes: ``(N, 4)`` candidate boxes, each ``(x, y, w, h)`` in frame pixels (0-based,
                top-left corner and size; not ``xyxy``).
            target_id: whose template the candidates are compared with.

        Returns:
            ``(N,)`` float64 scores in [0, 1] (with a calibrated checkpoint: the probability that
            the target is at the candidate).

        Raises:
            KeyError: no target with that id.
            TypeError / ValueError: a frame of an unsupported type or shape, or a bad box
                (named ``boxes[k]``).
        """
        target = self.target(target_id)
        image = to_bgr(frame, self.color)
        with self._pipeline.runner.session():
            return appearance_scores(self._pipeline, target, image, boxes)

    # ------------------------------------------------------------------------------------- update
    def update(self, frame: Any) -> dict[Hashable, TrackResult]:
        """Locate every target in ``frame``: ``{target_id: TrackResult(box, score, state)}``.

        Raises:
            TypeError / ValueError: a frame of an unsupported type or shape.
        """
        ids = list(self._targets)
        with self._pipeline.runner.session():
            results = self._pipeline.track_frame(frame, self.color, [self._targets[i] for i in ids])
        return dict(zip(ids, results))


def _check_hashable(target_id: object) -> None:
    """Raise ``TypeError`` naming ``target_id`` when it cannot be a dict key."""
    try:
        hash(target_id)
    except TypeError as exc:
        raise TypeError(f"target_id must be hashable (e.g. an int or a str), got {type(target_id).__name__}") from exc


def _check_new_id(target_id: object) -> None:
    """Refuse ids a target could not be found by again: unhashable ones, NaN (never equal to itself)
    and booleans (``True == 1``: they would share the slot of the ints 1 and 0).

    Raises:
        TypeError: not hashable, or a ``bool``.
        ValueError: not equal to itself (a float NaN, ``numpy.nan``, ``Decimal("NaN")``, ...).
    """
    _check_hashable(target_id)
    if isinstance(target_id, (bool, np.bool_)):
        raise TypeError(f"target_id must be a hashable id such as an int or a str, got {target_id!r} (bool: "
                        f"equal to {int(target_id)}, it would share that id's slot)")
    try:
        equal = bool(target_id == target_id)
    except Exception:  # an id whose == raises or gives no truth value cannot be looked up either
        equal = False
    if not equal:
        raise ValueError(f"target_id {target_id!r} never equals itself (as NaN), so the target could not be "
                         "found again: use an int or a str")
