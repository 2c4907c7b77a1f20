"""Tracking hyper-parameters and their named presets."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from .fields import reject_unknown_keys

__all__ = ["TrackerHParams", "PRESETS", "get_preset", "resolve_hparams"]


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

    def __post_init__(self) -> None:
        for name in ("lost_after", "redetect_tiles"):
            value = getattr(self, name)
            if isinstance(value, float) and value.is_integer():  # from a tuning grid / JSON
                object.__setattr__(self, name, int(value))
            if not isinstance(getattr(self, name), int) or isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be an integer, got {value!r}")
        if self.lost_after < 1:
            raise ValueError(f"lost_after must be >= 1 frame, got {self.lost_after}")
        if self.redetect_tiles < 0:
            raise ValueError(f"redetect_tiles must be >= 0, got {self.redetect_tiles}")
        if not 0.0 <= self.lost_threshold <= self.found_threshold <= 1.0:
            raise ValueError(f"need 0 <= lost_threshold <= found_threshold <= 1, got {self.lost_threshold} "
                             f"and {self.found_threshold}")
        if self.redetect_growth < 1.0:
            raise ValueError(f"redetect_growth must be >= 1, got {self.redetect_growth}")
        if not 0.0 <= self.window_influence <= 1.0:
            raise ValueError(f"window_influence must be in [0, 1], got {self.window_influence}")
        if not 0.0 <= self.lr <= 1.0:
            raise ValueError(f"lr must be in [0, 1], got {self.lr}")
        if self.penalty_k < 0:
            raise ValueError(f"penalty_k must be >= 0, got {self.penalty_k}")
        if self.context < 0:
            raise ValueError(f"context must be >= 0, got {self.context}")
        if self.min_size <= 0:
            raise ValueError(f"min_size must be > 0 pixels, got {self.min_size}")
        if not 0.0 <= self.size_calibration <= 1.0:
            raise ValueError(f"size_calibration must be in [0, 1], got {self.size_calibration}")
        if not 0.25 <= self.size_scale <= 4.0:
            raise ValueError(f"size_scale must be in [0.25, 4], got {self.size_scale}")

    def to_dict(self) -> dict[str, float]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TrackerHParams":
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
        raise KeyError(f"unknown hyper-parameter preset {name!r}; available: {', '.join(sorted(PRESETS))}")
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
