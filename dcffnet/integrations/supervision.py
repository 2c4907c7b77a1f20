"""Roboflow ``supervision`` pipelines (``pip install "dcffnet[supervision]"``): detections in, detections out.

Start one dcffnet target per detection of any detector that produces ``sv.Detections``, get every
frame's targets back as ``sv.Detections`` (``tracker_id``, calibrated ``confidence``, the lost
state in ``data``), and hand them to supervision's annotators and zones unchanged::

    import supervision as sv
    from dcffnet.integrations.supervision import SupervisionTracker

    tracker = SupervisionTracker()
    tracked = tracker.start(frame0, sv.Detections.from_ultralytics(model(frame0)[0]))
    for frame in frames:
        tracked = tracker.update(frame)                  # sv.Detections
        frame = sv.BoxAnnotator().annotate(frame, tracked)

Every few frames :meth:`SupervisionTracker.reassociate` takes fresh detections: lost targets are
re-seeded from their best detection (by overlap and appearance score) and detections no target
covers become new targets. See docs/integrations.md.

supervision boxes are ``xyxy`` ``(x1, y1, x2, y2)``; dcffnet's are ``(x, y, w, h)``: both in frame
pixels, 0-based. ``import dcffnet`` never imports supervision; this module imports it when a
:class:`SupervisionTracker` is made.
"""

from __future__ import annotations

import importlib
import itertools
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable, Sequence

import numpy as np

from ..frames import to_bgr
from ..geometry import validate_box
from ..tracking import MultiTracker, TrackResult, TrackState
from .matching import greedy_match, iou_matrix

if TYPE_CHECKING:
    import supervision as sv

__all__ = ["SupervisionTracker", "NO_CLASS", "import_supervision", "xyxy_to_xywh", "xywh_to_xyxy"]

#: ``class_id`` of a target seeded from a detection without one
NO_CLASS = -1

_INSTALL = 'pip install "dcffnet[supervision]"'


def import_supervision() -> Any:
    """The ``supervision`` module.

    Raises:
        ImportError: supervision is not installed (the message says how to install it).
    """
    try:
        return importlib.import_module("supervision")
    except ImportError as exc:
        raise ImportError(f"dcffnet.integrations.supervision needs the supervision package: {_INSTALL}") from exc


def xyxy_to_xywh(xyxy: Sequence[float]) -> tuple[float, float, float, float]:
    """``(x1, y1, x2, y2)`` -> ``(x, y, w, h)`` (frame pixels, 0-based)."""
    x1, y1, x2, y2 = (float(v) for v in xyxy)
    return (x1, y1, x2 - x1, y2 - y1)


def xywh_to_xyxy(xywh: Sequence[float]) -> tuple[float, float, float, float]:
    """``(x, y, w, h)`` -> ``(x1, y1, x2, y2)`` (frame pixels, 0-based)."""
    x, y, w, h = (float(v) for v in xywh)
    return (x, y, x + w, y + h)


@dataclass(frozen=True)
class _Seed:
    """What a target keeps of the detection it was started from."""

    class_id: int
    class_name: str | None


@dataclass(frozen=True)
class _Batch:
    """Checked detections of one call: xyxy and xywh boxes (frame pixels) and their classes."""

    xyxy: np.ndarray
    seeds: list[_Seed]

    def __len__(self) -> int:
        return len(self.seeds)

    def xywh(self, k: int) -> tuple[float, float, float, float]:
        return xyxy_to_xywh(self.xyxy[k])


class SupervisionTracker:
    """A :class:`~dcffnet.MultiTracker` that takes and returns ``supervision.Detections``.

    Args:
        weights: checkpoint folder, bundled name or hub id (default ``"default"``); not with ``tracker``.
        tracker: an existing, empty :class:`~dcffnet.MultiTracker` to use (sharing its loaded
            network); this object then adds and removes its targets, nothing else should.
        include_lost: whether lost targets appear in the returned detections (default ``True``,
            flagged by ``data["lost"]``, with their last box and score). ``False``
            leaves them out while they are lost; they are still tracked and come back when found.
        **kwargs: every other :class:`~dcffnet.MultiTracker` argument (``device``, ``backend``,
            ``batch_size``, ``hparams``, ``color``, ``threads``, ...); not with ``tracker``.

    Each target gets an integer ``tracker_id`` (1, 2, 3, ... in the order targets are started;
    never reused, not even after :meth:`remove` or :meth:`reset`); it is also the target's id in
    :attr:`multi`. The returned ``sv.Detections`` hold, per target:

    * ``xyxy``: the box ``(x1, y1, x2, y2)``, float64 frame pixels, 0-based;
    * ``confidence``: the calibrated score in [0, 1] (:attr:`dcffnet.TrackResult.score`; 1.0 on
      the frame a target is started or re-seeded);
    * ``tracker_id``: the target's id;
    * ``class_id``: the seeding detection's class (:data:`NO_CLASS`, -1, when it had none);
    * ``data["lost"]``: bool, whether the target is reported lost;
    * ``data["state"]``: str, ``"tracking"``, ``"uncertain"`` or ``"lost"`` (:class:`~dcffnet.tracking.TrackState`);
    * ``data["class_name"]``: the seeding detection's ``data["class_name"]`` (``""`` for a target
      seeded without one); present only when some target has one.
    """

    def __init__(self, weights: "str | os.PathLike[str] | None" = None, *, tracker: MultiTracker | None = None,
                 include_lost: bool = True, **kwargs: Any) -> None:
        self._sv = import_supervision()
        if not isinstance(include_lost, bool):
            raise TypeError(f"include_lost must be True or False, got {include_lost!r}")
        if tracker is not None:
            if not isinstance(tracker, MultiTracker):
                raise TypeError(f"tracker must be a dcffnet.MultiTracker, got {type(tracker).__name__}")
            if weights is not None or kwargs:
                given = (["weights"] if weights is not None else []) + sorted(kwargs)
                raise TypeError(f"pass either tracker= or the arguments to build one, not both (got {given})")
            if len(tracker):
                raise ValueError(f"tracker must have no targets yet, it has {list(tracker.targets)}")
            self._multi = tracker
        else:
            self._multi = MultiTracker("default" if weights is None else weights, **kwargs)
        self.include_lost = include_lost
        self._ids = itertools.count(1)
        self._seeds: dict[int, _Seed] = {}
        self._last: dict[int, TrackResult] = {}
        #: tracker ids the last :meth:`reassociate` call re-seeded (ascending)
        self.reseeded: tuple[int, ...] = ()
        #: tracker ids the last :meth:`reassociate` call started
        self.added: tuple[int, ...] = ()

    # ------------------------------------------------------------------------------ targets
    @property
    def multi(self) -> MultiTracker:
        """The :class:`~dcffnet.MultiTracker` that tracks the targets (ids are the tracker ids)."""
        return self._multi

    @property
    def tracker_ids(self) -> tuple[int, ...]:
        """The current targets' tracker ids, in the order they were started."""
        return tuple(self._seeds)

    def __len__(self) -> int:
        return len(self._seeds)

    def last_result(self, tracker_id: int) -> TrackResult:
        """The target's latest :class:`~dcffnet.TrackResult` (box ``(x, y, w, h)``, score, state).

        Raises:
            KeyError: no target with that tracker id.
        """
        self._known(tracker_id)
        return self._last[tracker_id]

    def remove(self, tracker_id: int) -> None:
        """Stop tracking a target (its id is not handed out again).

        Raises:
            KeyError: no target with that tracker id.
        """
        self._known(tracker_id)
        self._multi.remove(tracker_id)
        del self._seeds[tracker_id], self._last[tracker_id]

    def reset(self) -> None:
        """Stop tracking every target (ids keep counting: none is handed out again)."""
        for tracker_id in list(self._seeds):
            self.remove(tracker_id)

    def _known(self, tracker_id: object) -> None:
        if isinstance(tracker_id, (bool, np.bool_)) or not isinstance(tracker_id, (int, np.integer)):
            raise TypeError(f"tracker_id must be an int, got {tracker_id!r}")
        if int(tracker_id) not in self._seeds:
            raise KeyError(f"no target with tracker_id {tracker_id!r}; targets: {list(self._seeds)}")

    def _check_in_sync(self) -> None:
        """Refuse to go on when the MultiTracker's targets were changed behind this object's back."""
        if list(self._multi.targets) != list(self._seeds):
            raise RuntimeError(f"the MultiTracker's targets {list(self._multi.targets)} are not the ones this "
                               f"SupervisionTracker started {list(self._seeds)}: add and remove targets through "
                               "the SupervisionTracker only")

    # ---------------------------------------------------------------------------------- start
    def start(self, frame: Any, detections: "sv.Detections", classes: Iterable[int] | None = None) -> "sv.Detections":
        """Start one target per detection of ``frame`` (the first frame, or any later one: the
        targets are added to those already tracked).

        Args:
            frame: the frame the detections were made on (``H x W x 3`` uint8, BGR unless the
                tracker was made with ``color="rgb"``, or a PIL image).
            detections: ``sv.Detections`` with ``xyxy`` boxes ``(x1, y1, x2, y2)`` in frame
                pixels; their ``class_id`` and ``data["class_name"]`` are kept with each target
                (``confidence``, ``tracker_id`` and masks are not used: filter the detections first,
                e.g. ``detections[detections.confidence > 0.5]``).
            classes: start only detections whose ``class_id`` is one of these (``None``: all).

        Returns:
            The new targets on this frame (their boxes, confidence 1.0, new tracker ids).

        Raises:
            TypeError: ``detections`` is not an ``sv.Detections``, ``classes`` not integers, or an
                unsupported frame.
            ValueError: no detection to start (empty, or none of ``classes``), a box that is not
                finite, has ``x2 <= x1`` / ``y2 <= y1`` or lies outside the frame (named
                ``detections.xyxy[k]``), ``classes`` given for detections without ``class_id``,
                or an unsupported frame shape.
        """
        self._check_in_sync()
        batch = self._checked(frame, detections, classes)
        if not len(batch):
            what = "detections is empty" if len(detections) == 0 else f"no detection has a class_id in {classes}"
            raise ValueError(f"{what}: nothing to start")
        new = self._add(frame, batch, range(len(batch)))
        return self._as_detections(new)

    def _add(self, frame: Any, batch: _Batch, rows: Iterable[int]) -> list[int]:
        """Add a target for each of ``rows`` of ``batch``; all or none (a failure removes the
        targets this call added)."""
        new: list[int] = []
        try:
            for k in rows:
                tracker_id = next(self._ids)
                self._multi.add(frame, batch.xywh(k), target_id=tracker_id)
                new.append(tracker_id)
                self._seeds[tracker_id] = batch.seeds[k]
                self._last[tracker_id] = TrackResult(batch.xywh(k), 1.0, TrackState.TRACKING)
        except BaseException:
            for tracker_id in new:
                self._multi.remove(tracker_id)
                del self._seeds[tracker_id], self._last[tracker_id]
            raise
        return new

    # --------------------------------------------------------------------------------- update
    def update(self, frame: Any) -> "sv.Detections":
        """Track every target into ``frame`` and return them as ``sv.Detections`` (see the class
        docstring for the fields; lost targets only with ``include_lost``).

        Raises:
            TypeError / ValueError: a frame of an unsupported type or shape.
            RuntimeError: the MultiTracker's targets were changed other than through this object.
        """
        self._check_in_sync()
        self._last.update(self._multi.update(frame))
        return self._as_detections(list(self._seeds))

    # ---------------------------------------------------------------------------- reassociate
    def reassociate(self, frame: Any, detections: "sv.Detections", *, iou_threshold: float = 0.3,
                    min_score: float = 0.5, classes: Iterable[int] | None = None,
                    reseed_below: float | None = None, add_new: bool = True) -> "sv.Detections":
        """Re-associate the targets with fresh detections of ``frame`` (call it every few frames,
        after :meth:`update` on the same frame).

        1. Targets not lost keep the detections they overlap (IoU of the boxes at least
           ``iou_threshold``; pairs taken greedily, highest IoU first). With ``reseed_below``, a
           matched target whose last score is below it is re-seeded on its detection (a drifting
           target).
        2. Each lost target is compared with the remaining detections: by the IoU of its last box
           and by its appearance score (:meth:`dcffnet.MultiTracker.appearance_scores`: the score
           the tracker would report had the target been at the detection). A pair qualifies when
           the IoU is at least ``iou_threshold`` or the appearance score at least ``min_score``;
           qualifying pairs are taken greedily by IoU + appearance score, and each matched target
           is re-seeded on its detection (a new template from this frame, state ``tracking``).
        3. With ``add_new``, each detection still unmatched starts a new target (a new tracker id).

        A target and a detection are compared only when their classes agree (or either has none).

        Args:
            frame: the frame the detections were made on.
            detections: ``sv.Detections`` (``xyxy`` frame pixels); may be empty (a detector that
                found nothing: nothing changes).
            iou_threshold: least IoU in (0, 1] that counts as overlapping.
            min_score: least appearance score in [0, 1] that matches a lost target without overlap.
            classes: use only detections whose ``class_id`` is one of these (``None``: all).
            reseed_below: re-seed matched targets whose score is below this (``None``: never).
            add_new: start targets for unmatched detections (``False``: leave them).

        Returns:
            Every target on this frame (as :meth:`update` returns them; re-seeded and new targets
            with their detection's box and confidence 1.0). :attr:`reseeded` and :attr:`added`
            then hold the tracker ids this call re-seeded and started.

        Raises:
            TypeError: ``detections`` is not an ``sv.Detections``, ``classes`` not integers, or an
                unsupported frame.
            ValueError: a threshold out of range, a bad box (``detections.xyxy[k]``), ``classes``
                for detections without ``class_id``, or an unsupported frame shape.
            RuntimeError: the MultiTracker's targets were changed other than through this object.
        """
        _check_fraction(iou_threshold, "iou_threshold", allow_zero=False)
        _check_fraction(min_score, "min_score", allow_zero=True)
        if reseed_below is not None:
            _check_fraction(reseed_below, "reseed_below", allow_zero=True)
        if not isinstance(add_new, bool):
            raise TypeError(f"add_new must be True or False, got {add_new!r}")
        self._check_in_sync()
        batch = self._checked(frame, detections, classes)
        free = set(range(len(batch)))
        reseeded: list[int] = []
        ids = list(self._seeds)
        held = np.array([xywh_to_xyxy(self._last[t].box) for t in ids], dtype=np.float64).reshape(-1, 4)
        overlap = iou_matrix(held, batch.xyxy)
        compatible = np.array([[_same_class(self._seeds[t], seed) for seed in batch.seeds] for t in ids],
                              dtype=bool).reshape(len(ids), len(batch))
        lost = np.array([self._last[t].lost for t in ids], dtype=bool)

        active = np.flatnonzero(~lost)
        for r, d in greedy_match(overlap[active], compatible[active] & (overlap[active] >= iou_threshold)):
            tracker_id = ids[active[r]]
            free.discard(d)
            if reseed_below is not None and self._last[tracker_id].score < reseed_below:
                self._reseed(frame, tracker_id, batch, d)
                reseeded.append(tracker_id)

        missing = np.flatnonzero(lost)
        if len(missing) and free:
            columns = sorted(free)
            appearance = np.zeros((len(missing), len(columns)), dtype=np.float64)
            allowed = compatible[np.ix_(missing, columns)]
            for r, row in enumerate(missing):
                candidates = [c for c, ok in zip(columns, allowed[r]) if ok]
                if candidates:
                    scores = self._multi.appearance_scores(frame, [batch.xywh(c) for c in candidates], ids[row])
                    appearance[r, [columns.index(c) for c in candidates]] = scores
            near = overlap[np.ix_(missing, columns)]
            allowed &= (near >= iou_threshold) | (appearance >= min_score)
            for r, c in greedy_match(near + appearance, allowed):
                tracker_id, d = ids[missing[r]], columns[c]
                free.discard(d)
                self._reseed(frame, tracker_id, batch, d)
                reseeded.append(tracker_id)

        added = self._add(frame, batch, sorted(free)) if add_new else []
        self.reseeded, self.added = tuple(sorted(reseeded)), tuple(added)
        return self._as_detections(list(self._seeds))

    def _reseed(self, frame: Any, tracker_id: int, batch: _Batch, row: int) -> None:
        """Re-initialise a target on detection ``row`` (its template from this frame)."""
        box = batch.xywh(row)
        self._multi.tracker(tracker_id).init(frame, box)
        self._last[tracker_id] = TrackResult(box, 1.0, TrackState.TRACKING)

    # --------------------------------------------------------------------------- conversions
    def _checked(self, frame: Any, detections: Any, classes: Iterable[int] | None) -> _Batch:
        """Check ``detections`` (and the frame) and keep those of ``classes``."""
        sv = self._sv
        if not isinstance(detections, sv.Detections):
            raise TypeError(f"detections must be a supervision.Detections (xyxy boxes), got "
                            f"{type(detections).__name__}; wrap boxes as "
                            "sv.Detections(xyxy=np.array([[x1, y1, x2, y2], ...]))")
        image = to_bgr(frame, self._multi.color, "frame")
        xyxy = np.asarray(detections.xyxy, dtype=np.float64).reshape(-1, 4)
        class_id = detections.class_id
        names = detections.data.get("class_name")
        if class_id is not None:
            for k, value in enumerate(class_id):
                if not _is_integer(value):
                    raise ValueError(f"detections.class_id[{k}] must be an integer class id, got {value!r}")
        keep = np.ones(len(xyxy), dtype=bool)
        if classes is not None:
            wanted = _check_classes(classes)
            if class_id is None:
                raise ValueError(f"classes={sorted(wanted)} filters by class_id, but the detections have no class_id")
            keep = np.array([int(c) in wanted for c in class_id], dtype=bool)
        rows = np.flatnonzero(keep)
        for k in rows:
            x1, y1, x2, y2 = xyxy[k]
            if not np.all(np.isfinite(xyxy[k])):
                raise ValueError(f"detections.xyxy[{k}] must be finite, got {tuple(xyxy[k].tolist())}")
            if x2 <= x1 or y2 <= y1:
                raise ValueError(f"detections.xyxy[{k}] must be (x1, y1, x2, y2) with x2 > x1 and y2 > y1, "
                                 f"got {tuple(xyxy[k].tolist())}")
            validate_box(xyxy_to_xywh(xyxy[k]), f"detections.xyxy[{k}] (as x, y, w, h)", image.shape)
        seeds = [_Seed(NO_CLASS if class_id is None else int(class_id[k]),
                       None if names is None else str(names[k])) for k in rows]
        return _Batch(xyxy[rows], seeds)

    def _as_detections(self, ids: Sequence[int]) -> "sv.Detections":
        """``sv.Detections`` of the targets ``ids`` from their latest results."""
        if not self.include_lost:
            ids = [t for t in ids if not self._last[t].lost]
        results = [self._last[t] for t in ids]
        seeds = [self._seeds[t] for t in ids]
        data: dict[str, np.ndarray] = {
            "lost": np.array([r.lost for r in results], dtype=bool),
            "state": np.array([r.state.value for r in results], dtype=str),
        }
        if any(s.class_name is not None for s in self._seeds.values()):
            data["class_name"] = np.array(["" if s.class_name is None else s.class_name for s in seeds], dtype=str)
        return self._sv.Detections(
            xyxy=np.array([xywh_to_xyxy(r.box) for r in results], dtype=np.float64).reshape(-1, 4),
            confidence=np.array([r.score for r in results], dtype=np.float64),
            class_id=np.array([s.class_id for s in seeds], dtype=np.int64),
            tracker_id=np.array(ids, dtype=np.int64),
            data=data,
        )


def _same_class(target: _Seed, detection: _Seed) -> bool:
    """Whether a target and a detection may be matched: the same class, or either has none."""
    return NO_CLASS in (target.class_id, detection.class_id) or target.class_id == detection.class_id


def _is_integer(value: Any) -> bool:
    """Whether ``value`` is a whole number (an int, or a float without a fraction)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return False
    return bool(np.isfinite(number)) and number == int(number)


def _check_classes(classes: Iterable[int]) -> set[int]:
    """``classes`` as a set of ints.

    Raises:
        TypeError: not an iterable of integers.
        ValueError: empty.
    """
    if isinstance(classes, (str, bytes)) or not isinstance(classes, Iterable):
        raise TypeError(f"classes must be a list of integer class ids, got {classes!r}")
    wanted = set()
    for c in classes:
        if isinstance(c, (bool, np.bool_)) or not isinstance(c, (int, np.integer)):
            raise TypeError(f"classes must be a list of integer class ids, got {c!r} in it")
        wanted.add(int(c))
    if not wanted:
        raise ValueError("classes is empty: pass None to keep every class")
    return wanted


def _check_fraction(value: Any, name: str, allow_zero: bool) -> None:
    """Refuse a threshold that is not a number in [0, 1] ((0, 1] without ``allow_zero``)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, got {value!r}")
    low_ok = value >= 0 if allow_zero else value > 0
    if not (low_ok and value <= 1):
        raise ValueError(f"{name} must lie in {'[0' if allow_zero else '(0'}, 1], got {value!r}")
