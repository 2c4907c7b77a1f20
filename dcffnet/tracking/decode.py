"""From one head output to one box: scale/aspect penalty, cosine window, peak, regressed size.

The geometry (which crop point each cell looks at, distances -> boxes) is
:class:`dcffnet.geometry.ResponseGeometry`'s; this module only scores and selects.
"""

from __future__ import annotations

from typing import Mapping, NamedTuple

import numpy as np

from ..geometry import ResponseGeometry, context_size
from ..hparams import TrackerHParams
from .calibration import peak_to_sidelobe

__all__ = ["Decoded", "HeadOutput", "decode_response", "decode_peak", "head_map", "score_map"]


class Decoded(NamedTuple):
    """One head output decoded to one box.

    Attributes:
        box: ``(dx, dy, w, h)``: the centre's displacement from the crop centre and the size, in
            search-crop pixels.
        score: the classification score at the chosen cell.
        size_lr: how far the size moves towards ``box``'s (``lr * penalty * score``; 0 for a peak
            decoded without the tracker's priors).
        cues: ``{"score", "peak", "psr"}`` for :class:`~dcffnet.tracking.calibration.ScoreCalibration`.
        score_map: the ``(R, R)`` target probability the cell was chosen from (``None`` where not kept).
    """

    box: np.ndarray
    score: float
    size_lr: float
    cues: dict[str, float]
    score_map: np.ndarray | None = None


#: a head output: map name -> batch-first torch tensor (PyTorch backend) or numpy array (ONNX Runtime)
HeadOutput = Mapping[str, "torch.Tensor | np.ndarray"]


def head_map(output: HeadOutput, name: str, index: int) -> np.ndarray:
    """Sample ``index`` of the head map ``name`` as a float32 numpy array (channels first)."""
    value = output[name][index]
    if not isinstance(value, np.ndarray) and hasattr(value, "detach"):  # a torch tensor (PyTorch backend)
        return value.detach().float().cpu().numpy()
    return np.asarray(value, dtype=np.float32)


def score_map(output: HeadOutput, index: int = 0) -> np.ndarray:
    """The ``(R, R)`` target probability of sample ``index`` of a head output (CAR: softmax of
    ``cls`` over its two channels; SiamFC: sigmoid of ``response``)."""
    if "cls" in output:
        background, target = head_map(output, "cls", index)
        logit = target - background  # two-class softmax = sigmoid of the logit difference
    else:
        logit = head_map(output, "response", index)[0]
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-logit))


def decode_peak(output: HeadOutput, index: int, geometry: ResponseGeometry,
                prev_size: tuple[float, float], size_bias: tuple[float, float] = (1.0, 1.0)) -> Decoded:
    """The best cell of sample ``index`` without penalties or cosine window (re-detection: where
    the target is, nothing is known). SiamFC heads keep ``prev_size`` (crop pixels)."""
    score = score_map(output, index)
    i, j = np.unravel_index(int(np.argmax(score)), score.shape)
    peak = float(score[i, j])
    if "reg" in output:
        dx, dy, w, h = geometry.boxes_from_distances(head_map(output, "reg", index))
        box = np.array([dx[i, j], dy[i, j], w[i, j] * size_bias[0], h[i, j] * size_bias[1]], dtype=np.float64)
    else:
        offsets = geometry.cell_offsets()
        box = np.array([offsets[j], offsets[i], prev_size[0], prev_size[1]], dtype=np.float64)
    return Decoded(box, peak, 0.0, {"score": peak, "peak": peak, "psr": peak_to_sidelobe(score)})


def _change(r: np.ndarray) -> np.ndarray:
    return np.maximum(r, 1.0 / r)


def decode_response(output: HeadOutput, geometry: ResponseGeometry, window: np.ndarray,
                    prev_size: tuple[float, float], hparams: TrackerHParams,
                    size_bias: tuple[float, float] = (1.0, 1.0), weights: np.ndarray | None = None) -> Decoded:
    """Pick the target in one head output (the tracker's priors: scale/aspect penalty, cosine window)
    and return its box in search-crop pixels.

    Args:
        output: head output for one sample (batch dimension 1): CAR (``cls``, ``reg``) or SiamFC (``response``).
        geometry: the network's response geometry (cell -> crop point).
        window: cosine window of the response size.
        prev_size: previous target ``(w, h)`` in crop pixels.
        hparams: penalty, window influence, size learning rate and context amount.
        size_bias: ``(fw, fh)`` factors that multiply the regressed width and height (CAR head) before
            the penalty; ``(1, 1)`` leaves them as predicted.
        weights: ``(R, R)`` factors on each cell's penalised score before the peak is chosen
            (tracking components, e.g. distractor memory); ``None``: all 1.

    Returns:
        A :class:`Decoded`: box ``(dx, dy, w, h)`` with the centre displacement from the crop
        centre and the predicted size (crop pixels), the classification score at the chosen cell,
        the size learning rate ``lr * penalty * score`` to apply, and the calibration cues.
    """
    prev_w, prev_h = prev_size
    score = score_map(output)
    if "cls" in output:
        pred_dx, pred_dy, pred_w, pred_h = geometry.boxes_from_distances(head_map(output, "reg", 0))
        pred_w, pred_h = pred_w * size_bias[0], pred_h * size_bias[1]
        prev_side = context_size(prev_w, prev_h, hparams.context)
        s_c = _change(context_size(pred_w, pred_h, hparams.context) / prev_side)
        r_c = _change((prev_w / prev_h) / (pred_w / pred_h))
        penalty = np.exp(-(r_c * s_c - 1.0) * hparams.penalty_k)
    else:  # SiamFC head: position only, the size is kept
        offsets = geometry.cell_offsets()
        pred_w = np.full_like(score, prev_w)
        pred_h = np.full_like(score, prev_h)
        pred_dx = np.broadcast_to(offsets[None, :], score.shape)
        pred_dy = np.broadcast_to(offsets[:, None], score.shape)
        penalty = np.ones_like(score)
    pscore = penalty * score * (1.0 - hparams.window_influence) + window * hparams.window_influence
    if weights is not None:
        pscore = pscore * weights
    i, j = np.unravel_index(int(np.argmax(pscore)), pscore.shape)
    best_score = float(score[i, j])
    lr = float(penalty[i, j] * best_score * hparams.lr)
    box = np.array([pred_dx[i, j], pred_dy[i, j], pred_w[i, j], pred_h[i, j]], dtype=np.float64)
    cues = {"score": best_score, "peak": float(score.max()), "psr": peak_to_sidelobe(score)}
    return Decoded(box, best_score, lr, cues, score)
