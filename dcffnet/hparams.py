"""Tracking hyper-parameters and their named presets."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from .fields import check_int, check_real, reject_unknown_keys, short_repr

__all__ = ["TrackerHParams", "HPARAM_BOUNDS", "REDETECT_TILES_MAX", "PRESETS", "get_preset", "resolve_hparams"]

#: most search crops a lost frame may batch (each costs one search crop's activations)
REDETECT_TILES_MAX = 64
#: ``(low, high, kind)`` of every field: ``kind`` ``"int"`` (an integer in [low, high]), ``"real"``
#: (a finite number in [low, high]) or ``"open"`` (in (low, high])
HPARAM_BOUNDS: dict[str, tuple[float, float, str]] = {
    "penalty_k": (0.0, 100.0, "real"),
    "window_influence": (0.0, 1.0, "real"),
    "lr": (0.0, 1.0, "real"),
    "context": (0.0, 10.0, "real"),
    "min_size": (0.0, 10000.0, "open"),
    "size_calibration": (0.0, 1.0, "real"),
    "size_scale": (0.25, 4.0, "real"),
    "lost_threshold": (0.0, 1.0, "real"),
    "lost_after": (1, 1_000_000, "int"),
    "found_threshold": (0.0, 1.0, "real"),
    "redetect_tiles": (0, REDETECT_TILES_MAX, "int"),
    "redetect_growth": (1.0, 10.0, "real"),
    "motion_prior": (0.0, 2.0, "real"),
    "motion_smoothing": (0.0, 1.0, "open"),
    "report_lost_below": (0.0, 1.0, "real"),
    "report_lost_after": (1, 1_000_000, "int"),
    "report_found_above": (0.0, 1.0, "real"),
    "template_update": (0.0, 1.0, "real"),
    "template_update_every": (1, 1_000_000, "int"),
    "template_update_above": (0.0, 1.0, "real"),
    "distractor_weight": (0.0, 1.0, "real"),
    "distractor_above": (0.0, 1.0, "real"),
}


@dataclass(frozen=True)
class TrackerHParams:
    """Post-processing hyper-parameters of the SiamCAR-style inference loop.

    Attributes:
        penalty_k: strength of the scale / aspect-ratio change penalty ``exp(-(r_c*s_c - 1) * penalty_k)``.
        window_influence: weight of the cosine window in ``(1 - wi) * penalty * score + wi * window``.
        lr: size smoothing; the size moves by ``lr * penalty * score`` of the way to the prediction.
        context: context amount around the target (0.5: ``p = (w + h) / 2``).
        min_size: smallest box side in frame pixels after clipping.
        size_calibration: how much of the regression's size bias, measured once at ``init`` on the
            first frame (true box / predicted box, per axis), to divide out of every later size
            prediction: 0 = off (SiamCAR), 1 = all of it; the correction is ``bias ** size_calibration``.
            A small network trained on little data regresses towards the mean box shape; this keeps
            that per-target bias from turning into drift. CAR head only.
        size_scale: constant factor on every regressed width and height (after ``size_calibration``):
            the regression's average bias while tracking, tuned on held-out videos. A network that
            over-estimates the size by a few percent in every frame drifts to a much larger box, because
            a too-large box gives a too-large search crop, in which the target looks small and the
            regression (pulled towards the size it saw in training) over-estimates it again. 1 = off.
            CAR head only.
        lost_threshold: a frame whose score (the calibrated probability that the box is on the
            target, see :mod:`dcffnet.tracking.calibration`) is below this is *uncertain*: the box
            still moves but keeps its size.
        lost_after: this many uncertain frames in a row make the target *lost*: the box goes back to
            the last confident one and stays there, and re-detection starts.
        found_threshold: while lost, a re-detection candidate whose score reaches this is taken as
            the target again (higher than ``lost_threshold``: the hysteresis that keeps the state
            from flickering).
        redetect_tiles: search crops (one batched forward pass) per frame while lost; 0 turns
            re-detection off (the tracker then only searches around the last confident box).
        redetect_growth: the searched region grows by this factor per lost frame, from the normal
            search region up to the whole frame, which is then swept tile by tile.
        motion_prior: the :class:`~dcffnet.tracking.components.MotionPrior` component: the search
            region is centred this fraction of the target's smoothed velocity ahead of the last
            box (0 = off: the component is not built).
        motion_smoothing: weight of the newest displacement in that velocity (in (0, 1]).
        report_lost_below: the :class:`~dcffnet.tracking.components.LostReport` component (0 = off):
            the target is *reported* lost (``result.lost``) once the score stays below this for
            ``report_lost_after`` frames in a row. Reporting changes no box: the tracker keeps
            searching around its last box, so this decision costs no accuracy and can be far more
            responsive than ``lost_threshold`` (which also holds the box and starts re-detection).
        report_lost_after: frames in a row below ``report_lost_below`` that report the target lost.
        report_found_above: a reported-lost target is reported found again on the first frame whose
            score reaches this (>= ``report_lost_below``: the hysteresis that keeps the flag from
            flickering).
        template_update: the :class:`~dcffnet.tracking.components.TemplateUpdate` component (0 =
            off): the template becomes ``(1 - template_update) * first + template_update * fresh``,
            ``fresh`` taken at the box of a confident frame, the first template always kept.
        template_update_every: at most one fresh template per this many frames.
        template_update_above: a fresh template is taken only on a ``tracking`` frame whose score
            reaches this.
        distractor_weight: the :class:`~dcffnet.tracking.components.DistractorMemory` component (0 =
            off): how much the places of last frame's other strong peaks are down-weighted (a cell
            on one is scored ``1 - distractor_weight`` of its value).
        distractor_above: a peak away from the target counts as a distractor when its raw score
            reaches this.
    """

    penalty_k: float = 0.04
    window_influence: float = 0.3
    lr: float = 0.33
    context: float = 0.5
    min_size: float = 2.0
    size_calibration: float = 0.0
    size_scale: float = 1.0
    lost_threshold: float = 0.15
    lost_after: int = 15
    found_threshold: float = 0.6
    redetect_tiles: int = 9
    redetect_growth: float = 1.5
    motion_prior: float = 0.0
    motion_smoothing: float = 0.5
    report_lost_below: float = 0.0
    report_lost_after: int = 3
    report_found_above: float = 0.5
    template_update: float = 0.0
    template_update_every: int = 10
    template_update_above: float = 0.7
    distractor_weight: float = 0.0
    distractor_above: float = 0.5

    def __post_init__(self) -> None:
        """Check every field against :data:`HPARAM_BOUNDS` (type, finiteness, range).

        Raises:
            TypeError: a field that is not a number (or not an integer where one is needed).
            ValueError: NaN, infinite or out of range, naming the field and its range.
        """
        for name, (low, high, kind) in HPARAM_BOUNDS.items():
            value = getattr(self, name)
            if kind == "int":
                checked: float = check_int(value, name, int(low), int(high))  # 9.0 from a tuning grid / JSON
            else:
                checked = check_real(value, name, low, high, low_open=kind == "open")
            object.__setattr__(self, name, checked)
        if self.lost_threshold > self.found_threshold:
            raise ValueError(f"need 0 <= lost_threshold <= found_threshold <= 1, got {self.lost_threshold} "
                             f"and {self.found_threshold}")
        if self.report_lost_below > self.report_found_above:
            raise ValueError(f"need 0 <= report_lost_below <= report_found_above <= 1, got {self.report_lost_below} "
                             f"and {self.report_found_above}")

    def to_dict(self) -> dict[str, float]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TrackerHParams":
        """The hyper-parameters in ``data`` (missing fields: the defaults).

        Raises:
            TypeError: ``data`` is not a mapping, or a value of the wrong type.
            ValueError: an unknown key, or a value out of its range (see :data:`HPARAM_BOUNDS`).
        """
        if not isinstance(data, dict):
            raise TypeError(f"tracker hyper-parameters must be a mapping of field to value, got {short_repr(data)}")
        reject_unknown_keys(cls, data, "tracker hyper-parameter(s)")
        return cls(**data)


# SiamCAR's published per-benchmark values (lr, penalty_k, window_influence), a starting point until
# DCFFNet's own are tuned; "default" is the LaSOT set, the most generic of the four.
PRESETS: dict[str, TrackerHParams] = {
    "default": TrackerHParams(penalty_k=0.04, window_influence=0.3, lr=0.33),
    "otb": TrackerHParams(penalty_k=0.2, window_influence=0.45, lr=0.35),
    "uav": TrackerHParams(penalty_k=0.2, window_influence=0.3, lr=0.4),
    "lasot": TrackerHParams(penalty_k=0.04, window_influence=0.3, lr=0.33),
    "got10k": TrackerHParams(penalty_k=0.06, window_influence=0.1, lr=0.7),
}


def get_preset(name: str) -> TrackerHParams:
    """The preset called ``name`` (``default``, ``otb``, ``uav``, ``lasot``, ``got10k``)."""
    if name not in PRESETS:
        from .errors import UnknownPresetError

        raise UnknownPresetError(f"unknown hyper-parameter preset {name!r}; available: {', '.join(sorted(PRESETS))}")
    return PRESETS[name]


def resolve_hparams(hparams: "TrackerHParams | str | dict[str, Any] | None",
                    checkpoint_defaults: "TrackerHParams | dict[str, Any] | None" = None) -> TrackerHParams:
    """Turn the ``hparams`` argument into a :class:`TrackerHParams`.

    ``None`` uses the checkpoint's own tuned values (``checkpoint_defaults``) when it has them, else
    the ``default`` preset; a string names a preset; a dict gives fields on top of the ``default`` preset.
    """
    if hparams is None:
        if isinstance(checkpoint_defaults, TrackerHParams):
            return checkpoint_defaults
        if checkpoint_defaults:
            return TrackerHParams.from_dict(checkpoint_defaults)
        return PRESETS["default"]
    if isinstance(hparams, TrackerHParams):
        return hparams
    if isinstance(hparams, str):
        return get_preset(hparams)
    if isinstance(hparams, dict):
        return TrackerHParams.from_dict({**PRESETS["default"].to_dict(), **hparams})
    raise TypeError(f"hparams must be a TrackerHParams, a preset name, a dict or None; got {type(hparams).__name__}")
