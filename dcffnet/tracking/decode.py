"""From one head output to one box: scale/aspect penalty, cosine window, peak, regressed size.

The geometry (which crop point each cell looks at, distances -> boxes) is
:class:`dcffnet.geometry.ResponseGeometry`'s; this module only scores and selects.
"""

from __future__ import annotations

import numpy as np
import torch

from ..geometry import ResponseGeometry, context_size
from ..hparams import TrackerHParams

__all__ = ["decode_response"]


def _change(r: np.ndarray) -> np.ndarray:
    return np.maximum(r, 1.0 / r)


def decode_response(output: dict[str, torch.Tensor], geometry: ResponseGeometry, window: np.ndarray,
                    prev_size: tuple[float, float], hparams: TrackerHParams,
                    size_bias: tuple[float, float] = (1.0, 1.0)) -> tuple[np.ndarray, float, float]:
    """Pick the target in one head output and return its box in search-crop pixels.

    Args:
        output: head output for one sample (batch dimension 1): CAR (``cls``, ``reg``) or SiamFC (``response``).
        geometry: the network's response geometry (cell -> crop point).
        window: cosine window of the response size.
        prev_size: previous target ``(w, h)`` in crop pixels.
        hparams: penalty, window influence, size learning rate and context amount.
        size_bias: ``(fw, fh)`` factors that multiply the regressed width and height (CAR head) before
            the penalty; ``(1, 1)`` leaves them as predicted.

    Returns:
        ``(box, score, size_lr)``: box ``(dx, dy, w, h)`` with the centre displacement from the crop
        centre and the predicted size (crop pixels), the classification score at the chosen cell,
        and the size learning rate ``lr * penalty * score`` to apply.
    """
    prev_w, prev_h = prev_size
    if "cls" in output:
        score = torch.softmax(output["cls"][0].float(), dim=0)[1].cpu().numpy()
        pred_dx, pred_dy, pred_w, pred_h = geometry.boxes_from_distances(output["reg"][0].float().cpu().numpy())
        pred_w, pred_h = pred_w * size_bias[0], pred_h * size_bias[1]
        prev_side = context_size(prev_w, prev_h, hparams.context)
        s_c = _change(context_size(pred_w, pred_h, hparams.context) / prev_side)
        r_c = _change((prev_w / prev_h) / (pred_w / pred_h))
        penalty = np.exp(-(r_c * s_c - 1.0) * hparams.penalty_k)
    else:  # SiamFC head: position only, the size is kept
        score = torch.sigmoid(output["response"][0, 0].float()).cpu().numpy()
        offsets = geometry.cell_offsets()
        pred_w = np.full_like(score, prev_w)
        pred_h = np.full_like(score, prev_h)
        pred_dx = np.broadcast_to(offsets[None, :], score.shape)
        pred_dy = np.broadcast_to(offsets[:, None], score.shape)
        penalty = np.ones_like(score)
    pscore = penalty * score * (1.0 - hparams.window_influence) + window * hparams.window_influence
    i, j = np.unravel_index(int(np.argmax(pscore)), pscore.shape)
    best_score = float(score[i, j])
    lr = float(penalty[i, j] * best_score * hparams.lr)
    box = np.array([pred_dx[i, j], pred_dy[i, j], pred_w[i, j], pred_h[i, j]], dtype=np.float64)
    return box, best_score, lr
