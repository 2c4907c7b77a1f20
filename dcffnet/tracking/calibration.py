"""A score that is a probability: logistic calibration of cheap response-map cues.

Per frame the decoder reports three cues of the classification map (all unitless):

* ``score``: the classification score at the chosen cell (after penalties and window);
* ``peak``: the largest classification score anywhere in the map;
* ``psr``: the peak-to-sidelobe ratio of the map, ``(peak - mean) / std`` over the cells outside a
  3x3 neighbourhood of the peak (a flat map, where many places look alike, has a low PSR).

:class:`ScoreCalibration` maps them to ``P(IoU with the true box > 0.5)`` with a logistic
regression on ``(logit(score), logit(peak), psr)`` fitted by :func:`fit_calibration` on a
validation split (every frame after the first, labelled by whether the box overlaps the true one by
more than 0.5; frames where the target is absent count as misses). The fitted weights are stored in
the checkpoint (``config.json`` ``calibration``) and used by :class:`~dcffnet.Tracker` for
``TrackResult.score``; :func:`expected_calibration_error` and :func:`reliability_table` measure the
result.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..fields import check_real, short_repr

__all__ = ["CUES", "ScoreCalibration", "cue_vector", "fit_calibration", "expected_calibration_error",
           "reliability_table", "peak_to_sidelobe"]

CUES = ("score", "peak", "psr")
_EPS = 1e-6


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=np.float64), _EPS, 1.0 - _EPS)
    return np.log(p / (1.0 - p))


def peak_to_sidelobe(score_map: np.ndarray, exclude: int = 1) -> float:
    """``(max - mean) / std`` of ``score_map`` outside the ``(2 * exclude + 1)``-cell square around its
    maximum (0 when the sidelobe is constant)."""
    m = np.asarray(score_map, dtype=np.float64)
    i, j = np.unravel_index(int(np.argmax(m)), m.shape)
    mask = np.ones(m.shape, dtype=bool)
    mask[max(0, i - exclude):i + exclude + 1, max(0, j - exclude):j + exclude + 1] = False
    side = m[mask]
    if side.size < 2:
        return 0.0
    std = float(side.std())
    return float((m[i, j] - side.mean()) / std) if std > 1e-12 else 0.0


def cue_vector(cues: dict[str, float] | np.ndarray) -> np.ndarray:
    """The regression's inputs ``(logit(score), logit(peak), psr)`` from a cue dict or an ``(N, 3)``
    array of ``(score, peak, psr)`` rows; returns ``(3,)`` or ``(N, 3)``."""
    if isinstance(cues, dict):
        raw = np.array([[cues[k] for k in CUES]], dtype=np.float64)
        single = True
    else:
        raw = np.asarray(cues, dtype=np.float64).reshape(-1, len(CUES))
        single = False
    x = np.stack([_logit(raw[:, 0]), _logit(raw[:, 1]), raw[:, 2]], axis=1)
    return x[0] if single else x


@dataclass(frozen=True)
class ScoreCalibration:
    """``P(IoU > 0.5) = sigmoid(weights . (logit(score), logit(peak), psr) + bias)``.

    Attributes:
        weights: three coefficients, in the order of :data:`CUES`.
        bias: intercept.
        fitted_on: what it was fitted on (free text, e.g. ``"val: 21 sequences, 5888 frames"``).
    """

    weights: tuple[float, float, float]
    bias: float
    fitted_on: str = ""

    def __post_init__(self) -> None:
        if len(self.weights) != len(CUES) or not all(np.isfinite(self.weights)) or not np.isfinite(self.bias):
            raise ValueError(f"calibration needs {len(CUES)} finite weights and a finite bias, "
                             f"got weights={self.weights!r}, bias={self.bias!r}")

    def __call__(self, cues: dict[str, float] | np.ndarray) -> "float | np.ndarray":
        """The probability for one cue dict (a float) or ``(N, 3)`` cue rows (an array)."""
        x = cue_vector(cues)
        z = x @ np.asarray(self.weights) + self.bias
        p = 1.0 / (1.0 + np.exp(-np.clip(z, -50.0, 50.0)))
        return float(p) if np.ndim(p) == 0 else p

    def to_dict(self) -> dict[str, Any]:
        return {"cues": list(CUES), "weights": [float(w) for w in self.weights], "bias": float(self.bias),
                "fitted_on": self.fitted_on}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ScoreCalibration":
        """Parse :meth:`to_dict`'s output.

        Raises:
            TypeError: not a mapping, or a value of the wrong type (naming it).
            ValueError: other cues than :data:`CUES`, a missing key, or weights and bias that are
                not finite numbers within +-1e100 (so the weighted sum of the cues cannot overflow
                to an infinity, or a NaN).
        """
        if not isinstance(data, dict):
            raise TypeError(f"calibration must be a mapping with keys cues, weights, bias; got {short_repr(data)}")
        cues = data.get("cues")
        if not isinstance(cues, (list, tuple)) or list(cues) != list(CUES):
            raise ValueError(f"calibration cues must be {list(CUES)}, got {short_repr(cues)}")
        for key in ("weights", "bias"):
            if key not in data:
                raise ValueError(f"calibration has no {key!r}")
        weights = data["weights"]
        if not isinstance(weights, (list, tuple)) or len(weights) != len(CUES):
            raise TypeError(f"calibration weights must be a list of {len(CUES)} numbers, got {short_repr(weights)}")
        fitted_on = data.get("fitted_on", "")
        if not isinstance(fitted_on, str):
            raise TypeError(f"calibration fitted_on must be a string, got {short_repr(fitted_on)}")
        return cls(tuple(check_real(w, f"calibration weights[{i}]", -1e100, 1e100) for i, w in enumerate(weights)),
                   check_real(data["bias"], "calibration bias", -1e100, 1e100), fitted_on)


def fit_calibration(cues: np.ndarray, labels: np.ndarray, l2: float = 1e-3, iterations: int = 50,
                    fitted_on: str = "") -> ScoreCalibration:
    """Logistic regression (Newton's method, small L2 penalty on the weights) of ``labels`` on the cues.

    Args:
        cues: ``(N, 3)`` rows of ``(score, peak, psr)``.
        labels: ``(N,)`` 1 where the box overlapped the true box by more than 0.5, else 0.

    Raises:
        ValueError: shapes disagree, or the labels are all 0 or all 1 (nothing to calibrate against).
    """
    x = cue_vector(cues)
    y = np.asarray(labels, dtype=np.float64).ravel()
    if len(x) != len(y) or len(y) == 0:
        raise ValueError(f"cues and labels must have the same positive length, got {len(x)} and {len(y)}")
    if y.min() == y.max():
        raise ValueError("labels are all the same: calibration needs frames on and off the target")
    mean, std = x.mean(0), x.std(0) + 1e-9
    xs = np.concatenate([(x - mean) / std, np.ones((len(x), 1))], axis=1)
    w = np.zeros(xs.shape[1])
    reg = np.full(xs.shape[1], l2 * len(y))
    reg[-1] = 0.0
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-np.clip(xs @ w, -50, 50)))
        grad = xs.T @ (p - y) + reg * w
        hess = (xs * (p * (1 - p))[:, None]).T @ xs + np.diag(reg + 1e-9)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-9:
            break
    weights = w[:-1] / std
    bias = w[-1] - float((w[:-1] * mean / std).sum())
    return ScoreCalibration(tuple(float(v) for v in weights), float(bias), fitted_on)


def reliability_table(probs: np.ndarray, labels: np.ndarray, bins: int = 10) -> list[dict[str, float]]:
    """Per equal-width probability bin: ``count``, mean predicted probability ``confidence`` and
    observed frequency ``accuracy`` (empty bins are left out)."""
    p = np.asarray(probs, dtype=np.float64).ravel()
    y = np.asarray(labels, dtype=np.float64).ravel()
    edges = np.linspace(0.0, 1.0, bins + 1)
    index = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
    rows = []
    for b in range(bins):
        sel = index == b
        if sel.any():
            rows.append({"low": float(edges[b]), "high": float(edges[b + 1]), "count": int(sel.sum()),
                         "confidence": float(p[sel].mean()), "accuracy": float(y[sel].mean())})
    return rows


def expected_calibration_error(probs: np.ndarray, labels: np.ndarray, bins: int = 10) -> float:
    """ECE: the count-weighted mean of ``|accuracy - confidence|`` over :func:`reliability_table`'s bins."""
    rows = reliability_table(probs, labels, bins)
    total = sum(r["count"] for r in rows)
    return float(sum(r["count"] * abs(r["accuracy"] - r["confidence"]) for r in rows) / max(total, 1))
