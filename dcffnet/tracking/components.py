"""Tracking components: optional per-target modules that join the per-frame stages.

A component keeps its own memory for each target in ``target.memory[component.name]``
(:class:`~dcffnet.tracking.target.TargetState`), reads its values from
:class:`~dcffnet.TrackerHParams` (so they are tuned, stored in ``config.json`` with the checkpoint
and restored with it), and is built by the pipeline only when :meth:`TrackingComponent.enabled`
says its values switch it on. A component that is off is not built at all, so every box is
exactly what the tracker gives without it.

Hooks, in the order the stages call them (all optional; the defaults do nothing):

* :meth:`~TrackingComponent.init`: after the target's template is taken (``init`` frame);
* :meth:`~TrackingComponent.search_centre`: stage 1, may move the centre of the search region;
* :meth:`~TrackingComponent.response_weights`: stage 4, may down-weight cells before the peak is
  chosen;
* :meth:`~TrackingComponent.observe`: after the state update of every frame (tracked or
  re-detected): the component's per-frame step;
* :meth:`~TrackingComponent.report`: last, may change the state the frame's result reports
  (never its box).

To add one: subclass :class:`TrackingComponent`, give it a unique ``name``, add its values to
:class:`~dcffnet.TrackerHParams` (with defaults that switch it off), implement ``enabled`` and the
hooks it needs, and append the class to :data:`COMPONENTS`. docs/architecture.md walks through
:class:`MotionPrior` as the example.
"""

from __future__ import annotations

import abc
import inspect
from typing import Any, ClassVar

import numpy as np

from ..hparams import TrackerHParams
from .decode import Decoded
from .result import TrackResult, TrackState
from .target import TargetState

__all__ = ["TrackingComponent", "MotionPrior", "LostReport", "TemplateUpdate", "DistractorMemory", "COMPONENTS", "build_components"]


class TrackingComponent(abc.ABC):
    """Base class of tracking components (see the module docstring).

    Args:
        hparams: the tracker's values; a component reads its own from them.
    """

    #: key of the component's memory in ``TargetState.memory``; unique among components
    name: ClassVar[str] = ""

    def __init__(self, hparams: TrackerHParams, pipeline: Any = None) -> None:
        self.hparams = hparams
        #: the :class:`~dcffnet.tracking.pipeline.TrackingPipeline` that runs the component
        #: (its public methods: ``take_template``, ``set_template``, ``runner``), or ``None``
        self.pipeline = pipeline

    @classmethod
    @abc.abstractmethod
    def enabled(cls, hparams: TrackerHParams) -> bool:
        """Whether ``hparams`` switch the component on (every component defines it)."""

    def memory(self, target: TargetState) -> Any:
        """This component's memory of ``target`` (``None`` before :meth:`init`)."""
        return target.memory.get(self.name)

    def init(self, target: TargetState, image: np.ndarray) -> None:
        """Start the component's memory of a new ``target`` on its init frame ``image`` (BGR)."""

    def search_centre(self, target: TargetState, centre: tuple[float, float]) -> tuple[float, float]:
        """Stage 1: the centre ``(cx, cy)`` (frame pixels) of this frame's search region."""
        return centre

    def response_weights(self, target: TargetState, region: Any, geometry: Any) -> np.ndarray | None:
        """Stage 4: ``(R, R)`` factors on each cell's penalised score before the peak is chosen in
        ``region`` (a :class:`~dcffnet.geometry.SearchRegion`; ``geometry`` the network's
        :class:`~dcffnet.geometry.ResponseGeometry`), or ``None`` to leave the scores alone."""
        return None

    def observe(self, target: TargetState, image: np.ndarray, decoded: Decoded, result: TrackResult) -> None:
        """The per-frame step, after the state update of a frame (tracked or re-detected)."""

    def report(self, target: TargetState, result: TrackResult) -> TrackResult:
        """The result this frame reports: ``result`` itself, or one with the same box and score
        and another :class:`~dcffnet.tracking.result.TrackState`."""
        return result


class MotionPrior(TrackingComponent):
    """Moves the search centre ahead by the target's recent velocity (frame pixels per frame).

    Memory per target: the last centre and a velocity smoothed over frames
    (``v <- (1 - motion_smoothing) * v + motion_smoothing * (centre - last centre)``). Each frame
    the search region is centred at ``centre + motion_prior * v``. Only confident frames (the
    target in the ``tracking`` state) update the velocity; any other frame resets it to zero, so
    a lost or uncertain target is searched where it was last seen.

    Values in :class:`~dcffnet.TrackerHParams`: ``motion_prior`` (0 = off) and ``motion_smoothing``.
    """

    name = "motion_prior"

    @classmethod
    def enabled(cls, hparams: TrackerHParams) -> bool:
        return hparams.motion_prior > 0.0

    def init(self, target: TargetState, image: np.ndarray) -> None:
        target.memory[self.name] = {"last": (float(target.box[0]), float(target.box[1])), "velocity": (0.0, 0.0)}

    def search_centre(self, target: TargetState, centre: tuple[float, float]) -> tuple[float, float]:
        memory = self.memory(target)
        if memory is None:
            return centre
        vx, vy = memory["velocity"]
        k = self.hparams.motion_prior
        return (centre[0] + k * vx, centre[1] + k * vy)

    def observe(self, target: TargetState, image: np.ndarray, decoded: Decoded, result: TrackResult) -> None:
        memory = self.memory(target)
        if memory is None:
            self.init(target, image)
            return
        cx, cy = float(target.box[0]), float(target.box[1])
        if result.state.value == "tracking":
            a = self.hparams.motion_smoothing
            lx, ly = memory["last"]
            vx, vy = memory["velocity"]
            memory["velocity"] = ((1 - a) * vx + a * (cx - lx), (1 - a) * vy + a * (cy - ly))
        else:
            memory["velocity"] = (0.0, 0.0)
        memory["last"] = (cx, cy)


class LostReport(TrackingComponent):
    """Reports the target lost on a sustained low score, without touching the box.

    Memory per target: frames in a row whose score is below ``report_lost_below`` and whether the
    target is reported lost. Once that count reaches ``report_lost_after`` the frame's result says
    ``lost`` (:attr:`TrackState.LOST`); the first frame whose score reaches ``report_found_above``
    ends it. The box, its search region and every later frame are exactly what the tracker gives
    without the component, so it costs no accuracy: it only decides what ``result.lost`` says.
    A target held by the box-holding lost state (``lost_threshold`` / ``lost_after``) is reported
    lost as before, whatever this component's values.

    The score is the calibrated probability that the box is on the target when the checkpoint has
    a calibration (:mod:`dcffnet.tracking.calibration`), so the thresholds mean the same for every
    calibrated checkpoint.

    Values in :class:`~dcffnet.TrackerHParams`: ``report_lost_below`` (0 = off),
    ``report_lost_after``, ``report_found_above``.
    """

    name = "lost_report"

    @classmethod
    def enabled(cls, hparams: TrackerHParams) -> bool:
        return hparams.report_lost_below > 0.0

    def init(self, target: TargetState, image: np.ndarray) -> None:
        target.memory[self.name] = {"low": 0, "reported": False}

    def report(self, target: TargetState, result: TrackResult) -> TrackResult:
        memory = self.memory(target)
        if memory is None:
            memory = target.memory[self.name] = {"low": 0, "reported": False}
        hp = self.hparams
        if result.lost:  # held by the box-holding lost state: reported lost already
            memory["low"], memory["reported"] = hp.report_lost_after, True
            return result
        if memory["reported"]:
            if result.score >= hp.report_found_above:
                memory["low"], memory["reported"] = 0, False
        else:
            memory["low"] = memory["low"] + 1 if result.score < hp.report_lost_below else 0
            if memory["low"] >= hp.report_lost_after:
                memory["reported"] = True
        if memory["reported"]:
            return TrackResult(result.box, result.score, TrackState.LOST)
        return result


class TemplateUpdate(TrackingComponent):
    """Blends a fresh template, taken on confident frames, into the first one.

    Memory per target: the first template and the frames since the last fresh one. On a
    ``tracking`` frame whose score reaches ``template_update_above``, at most once per
    ``template_update_every`` frames, a template is taken at the new box (as at ``init``) and the
    target's template becomes ``(1 - template_update) * first + template_update * fresh``: the
    first template always keeps its weight, so one bad update cannot replace it. Costs one
    template pass per update.

    Values in :class:`~dcffnet.TrackerHParams`: ``template_update`` (0 = off),
    ``template_update_every``, ``template_update_above``.
    """

    name = "template_update"

    @classmethod
    def enabled(cls, hparams: TrackerHParams) -> bool:
        return hparams.template_update > 0.0

    def init(self, target: TargetState, image: np.ndarray) -> None:
        target.memory[self.name] = {"first": target.template, "since": 0}

    def observe(self, target: TargetState, image: np.ndarray, decoded: Decoded, result: TrackResult) -> None:
        memory = self.memory(target)
        if memory is None:  # switched on after init: the template in use is the first one
            self.init(target, image)
            return
        if self.pipeline is None:
            raise RuntimeError("TemplateUpdate needs the pipeline that runs it (build_components(hparams, pipeline))")
        memory["since"] += 1
        hp = self.hparams
        if (result.state is TrackState.TRACKING and result.score >= hp.template_update_above
                and memory["since"] >= hp.template_update_every):
            fresh = self.pipeline.take_template(image, target)
            self.pipeline.set_template(target, self.pipeline.runner.blend(memory["first"], fresh, hp.template_update))
            memory["since"] = 0


#: most distractors remembered per target
MAX_DISTRACTORS = 3
#: width of a distractor's down-weighting (Gaussian sigma), in units of the target's size sqrt(w * h)
DISTRACTOR_SIGMA = 0.5


class DistractorMemory(TrackingComponent):
    """Remembers where other strong peaks were and down-weights those places next frame.

    A Siamese tracker jumps to a look-alike nearby (another person in a crowd, another bottle on a
    shelf) when the look-alike's peak overtakes the target's. After every tracked frame, the
    component keeps up to :data:`MAX_DISTRACTORS` peaks of the score map (raw score at least
    ``distractor_above``) that lie farther than the target's size ``sqrt(w * h)`` from the new box
    and from each other, as frame positions. On the next frame each cell's penalised score is
    multiplied by ``prod_k (1 - distractor_weight * exp(-d_k^2 / (2 s^2)))``, ``d_k`` the frame
    distance from the cell's point to distractor ``k`` and ``s`` = :data:`DISTRACTOR_SIGMA` times
    the target's size: the look-alike must beat the target by more than before to take the box.
    Positions only (no extra network pass); a frame not tracked (held lost) forgets them.

    Values in :class:`~dcffnet.TrackerHParams`: ``distractor_weight`` (0 = off), ``distractor_above``.
    """

    name = "distractor_memory"

    @classmethod
    def enabled(cls, hparams: TrackerHParams) -> bool:
        return hparams.distractor_weight > 0.0

    def init(self, target: TargetState, image: np.ndarray) -> None:
        target.memory[self.name] = {"distractors": [], "cells": None}

    def response_weights(self, target: TargetState, region: Any, geometry: Any) -> np.ndarray | None:
        memory = self.memory(target)
        if memory is None:
            self.init(target, np.zeros((1, 1, 3), np.uint8))
            memory = self.memory(target)
        offsets = geometry.cell_offsets() / region.scale  # frame pixels from the crop centre
        xs = region.cx + offsets[None, :]
        ys = region.cy + offsets[:, None]
        memory["cells"] = (xs, ys)
        if not memory["distractors"]:
            return None
        size = float(np.sqrt(target.box[2] * target.box[3]))
        two_s2 = 2.0 * (DISTRACTOR_SIGMA * size) ** 2
        weights = np.ones((len(offsets), len(offsets)), dtype=np.float64)
        for x, y in memory["distractors"]:
            weights *= 1.0 - self.hparams.distractor_weight * np.exp(-((xs - x) ** 2 + (ys - y) ** 2) / two_s2)
        return weights

    def observe(self, target: TargetState, image: np.ndarray, decoded: Decoded, result: TrackResult) -> None:
        memory = self.memory(target)
        if memory is None:
            self.init(target, image)
            return
        cells, memory["cells"] = memory["cells"], None
        if decoded.score_map is None or cells is None:  # a held (lost) frame: nothing to compare with
            memory["distractors"] = []
            return
        xs, ys = np.broadcast_arrays(*cells)
        score = decoded.score_map
        size = float(np.sqrt(target.box[2] * target.box[3]))
        found: list[tuple[float, float]] = []
        for k in np.argsort(score, axis=None)[::-1]:
            if score.flat[k] < self.hparams.distractor_above or len(found) == MAX_DISTRACTORS:
                break
            x, y = float(xs.flat[k]), float(ys.flat[k])
            if np.hypot(x - target.box[0], y - target.box[1]) <= size:
                continue
            if any(np.hypot(x - fx, y - fy) <= size for fx, fy in found):
                continue
            found.append((x, y))
        memory["distractors"] = found


#: every component the pipeline knows, in the order their hooks run
COMPONENTS: list[type[TrackingComponent]] = [MotionPrior, LostReport, TemplateUpdate, DistractorMemory]


def build_components(hparams: TrackerHParams, pipeline: Any = None) -> tuple[TrackingComponent, ...]:
    """The components ``hparams`` switch on, built with them (and the ``pipeline`` that runs them).

    Raises:
        TypeError: a class in :data:`COMPONENTS` that does not define ``enabled``.
    """
    for cls in COMPONENTS:
        if inspect.isabstract(cls):
            raise TypeError(f"tracking component {cls.__name__} must define enabled(hparams)")
    return tuple(cls(hparams, pipeline) for cls in COMPONENTS if cls.enabled(hparams))
