"""One-pass evaluation (success AUC, precision, normalized precision) and GOT-10k AO / SR.

Conventions (the pysot / got10k / pytracking ones, see docs/evaluation.md):

* IoU of ``(x, y, w, h)`` boxes in continuous coordinates (``x + w``).
* Success at threshold t: IoU **>** t; 21 thresholds ``0, 0.05, ..., 1``; AUC = their mean.
* Precision: centre error ``<=`` t pixels, t = 0..50; the reported value is at 20 px.
* Normalized precision: centre error divided by the ground-truth size per axis, t = 0, 0.01, ... 0.5;
  reported at 0.2.
* Frames without a valid ground truth count as failures (IoU -1, error infinite) and stay in the
  denominator, as pysot and pytracking do. Frame 0 (the initialisation) is included.
"""

from __future__ import annotations

import numpy as np

__all__ = ["iou", "center_error", "normalized_center_error", "success_curve", "precision_curve",
           "normalized_precision_curve", "SUCCESS_THRESHOLDS", "PRECISION_THRESHOLDS", "NORM_PRECISION_THRESHOLDS",
           "ope_scores", "summarize_ope", "got10k_scores", "auroc", "score_separation", "long_term_scores"]

SUCCESS_THRESHOLDS = np.linspace(0, 1, 21)
PRECISION_THRESHOLDS = np.arange(0, 51, dtype=np.float64)
NORM_PRECISION_THRESHOLDS = np.linspace(0, 0.5, 51)


def _as_boxes(boxes: np.ndarray) -> np.ndarray:
    return np.asarray(boxes, dtype=np.float64).reshape(-1, 4)


def _valid(gt: np.ndarray) -> np.ndarray:
    return np.isfinite(gt).all(1) & (gt[:, 2] > 0) & (gt[:, 3] > 0)


def iou(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Per-row IoU of ``(N, 4)`` xywh boxes; -1 where the ground truth is invalid, 0 for invalid predictions."""
    pred, gt = _as_boxes(pred), _as_boxes(gt)
    x1 = np.maximum(pred[:, 0], gt[:, 0])
    y1 = np.maximum(pred[:, 1], gt[:, 1])
    x2 = np.minimum(pred[:, 0] + pred[:, 2], gt[:, 0] + gt[:, 2])
    y2 = np.minimum(pred[:, 1] + pred[:, 3], gt[:, 1] + gt[:, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    union = pred[:, 2] * pred[:, 3] + gt[:, 2] * gt[:, 3] - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(union > 0, inter / union, 0.0)
    out = np.nan_to_num(out, nan=0.0)
    out[~_valid(gt)] = -1.0
    return out


def center_error(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Euclidean distance between box centres in pixels; ``inf`` where the ground truth is invalid."""
    pred, gt = _as_boxes(pred), _as_boxes(gt)
    d = np.hypot(pred[:, 0] + pred[:, 2] / 2 - gt[:, 0] - gt[:, 2] / 2, pred[:, 1] + pred[:, 3] / 2 - gt[:, 1] - gt[:, 3] / 2)
    d = np.nan_to_num(d, nan=np.inf)
    d[~_valid(gt)] = np.inf
    return d


def normalized_center_error(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Centre error with each axis divided by the ground-truth width / height; ``inf`` where invalid."""
    pred, gt = _as_boxes(pred), _as_boxes(gt)
    valid = _valid(gt)
    with np.errstate(invalid="ignore", divide="ignore"):
        dx = (pred[:, 0] + pred[:, 2] / 2 - gt[:, 0] - gt[:, 2] / 2) / gt[:, 2]
        dy = (pred[:, 1] + pred[:, 3] / 2 - gt[:, 1] - gt[:, 3] / 2) / gt[:, 3]
    d = np.nan_to_num(np.hypot(dx, dy), nan=np.inf)
    d[~valid] = np.inf
    return d


def success_curve(ious: np.ndarray) -> np.ndarray:
    """Fraction of frames with IoU > t for each of the 21 thresholds."""
    ious = np.asarray(ious, dtype=np.float64)
    return np.array([(ious > t).mean() for t in SUCCESS_THRESHOLDS])


def precision_curve(errors: np.ndarray) -> np.ndarray:
    """Fraction of frames with centre error <= t for t = 0..50 px."""
    errors = np.asarray(errors, dtype=np.float64)
    return np.array([(errors <= t).mean() for t in PRECISION_THRESHOLDS])


def normalized_precision_curve(errors: np.ndarray) -> np.ndarray:
    """Fraction of frames with normalized centre error <= t for t = 0, 0.01, ..., 0.5."""
    errors = np.asarray(errors, dtype=np.float64)
    return np.array([(errors <= t).mean() for t in NORM_PRECISION_THRESHOLDS])


def ope_scores(pred: np.ndarray, gt: np.ndarray) -> dict[str, object]:
    """One sequence's OPE curves and scores: ``auc``, ``precision`` (20 px), ``norm_precision`` (0.2)."""
    pred, gt = _as_boxes(pred), _as_boxes(gt)
    if len(pred) != len(gt):
        raise ValueError(f"prediction has {len(pred)} boxes, ground truth {len(gt)}")
    succ = success_curve(iou(pred, gt))
    prec = precision_curve(center_error(pred, gt))
    norm = normalized_precision_curve(normalized_center_error(pred, gt))
    return {"success_curve": succ, "precision_curve": prec, "norm_precision_curve": norm,
            "auc": float(succ.mean()), "precision": float(prec[20]), "norm_precision": float(norm[20])}


def summarize_ope(per_sequence: dict[str, dict[str, object]]) -> dict[str, object]:
    """Overall OPE scores: curves averaged over sequences (each sequence weighs the same)."""
    if not per_sequence:
        raise ValueError("no sequences to summarize")
    succ = np.mean([s["success_curve"] for s in per_sequence.values()], axis=0)
    prec = np.mean([s["precision_curve"] for s in per_sequence.values()], axis=0)
    norm = np.mean([s["norm_precision_curve"] for s in per_sequence.values()], axis=0)
    return {"success_curve": succ, "precision_curve": prec, "norm_precision_curve": norm,
            "auc": float(succ.mean()), "precision": float(prec[20]), "norm_precision": float(norm[20])}


def got10k_scores(preds: list[np.ndarray], gts: list[np.ndarray],
                  covers: list[np.ndarray | None] | None = None) -> dict[str, float]:
    """GOT-10k ``ao``, ``sr50``, ``sr75``: IoUs of all sequences concatenated, the first frame of each
    sequence excluded, and frames with ``cover == 0`` or no valid ground truth excluded."""
    values = []
    covers = covers or [None] * len(preds)
    for pred, gt, cover in zip(preds, gts, covers):
        overlaps = iou(pred, gt)[1:]
        keep = overlaps >= 0
        if cover is not None:
            keep &= np.asarray(cover[1:len(overlaps) + 1]) > 0
        values.append(overlaps[keep])
    all_ious = np.concatenate(values) if values else np.zeros(0)
    if not len(all_ious):
        raise ValueError("no valid frames to score")
    return {"ao": float(all_ious.mean()), "sr50": float((all_ious > 0.5).mean()),
            "sr75": float((all_ious > 0.75).mean())}


def auroc(positive: np.ndarray, negative: np.ndarray) -> float:
    """Area under the ROC curve of a score that should be higher on ``positive`` than on ``negative``
    samples (the probability that a random positive outscores a random negative; ties count half).
    NaN when either set is empty."""
    pos = np.asarray(positive, dtype=np.float64).ravel()
    neg = np.asarray(negative, dtype=np.float64).ravel()
    if not len(pos) or not len(neg):
        return float("nan")
    values = np.concatenate([pos, neg])
    order = np.argsort(values, kind="mergesort")
    ranks = np.empty(len(values))
    ranks[order] = np.arange(1, len(values) + 1)
    for v in np.unique(values):  # average ranks of ties
        tied = values == v
        if tied.sum() > 1:
            ranks[tied] = ranks[tied].mean()
    return float((ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def score_separation(pred: list[np.ndarray], gt: list[np.ndarray], scores: list[np.ndarray],
                     on: float = 0.5, off: float = 0.1) -> dict[str, float]:
    """How well a tracker's per-frame confidence tells frames on the target from frames off it.

    Over every frame but the first (the initialisation) with a valid ground truth: the mean score
    where IoU > ``on`` and where IoU < ``off``, the frame counts, and the AUROC of the score for
    telling the two apart.
    """
    on_scores, off_scores = [], []
    for p, g, s in zip(pred, gt, scores):
        overlap = iou(p, g)[1:]
        s = np.asarray(s, dtype=np.float64)[1:]
        valid = overlap >= 0
        on_scores.append(s[valid & (overlap > on)])
        off_scores.append(s[valid & (overlap < off)])
    pos, neg = np.concatenate(on_scores), np.concatenate(off_scores)
    return {"score_on_target": float(pos.mean()) if len(pos) else float("nan"),
            "score_off_target": float(neg.mean()) if len(neg) else float("nan"),
            "frames_on_target": int(len(pos)), "frames_off_target": int(len(neg)),
            "score_auroc": auroc(pos, neg)}


def long_term_scores(pred: list[np.ndarray], gt: list[np.ndarray], scores: list[np.ndarray],
                     thresholds: int = 100) -> dict[str, float | list[float]]:
    """VOT long-term tracking precision, recall and F-score over confidence thresholds.

    A frame counts as "target reported present" when its score is at least the threshold. Per
    sequence (frames after the first): precision(t) is the mean IoU over the frames reported present
    (0 on frames where the target is absent), recall(t) the mean over the frames where the target is
    present of the IoU on those reported present (0 otherwise); both are averaged over the sequences
    (precision over those that report anything at t) and F(t) = 2 P R / (P + R). The reported
    figures are at the threshold with the largest F (as the VOT long-term challenge reports them).

    Returns:
        ``{"f_score", "precision", "recall", "threshold", "thresholds", "precision_curve",
        "recall_curve", "f_curve"}``; NaN figures when no sequence has a present target.
    """
    all_scores = np.concatenate([np.asarray(s, dtype=np.float64)[1:] for s in scores]) if scores else np.array([])
    if not len(all_scores):
        nan = float("nan")
        return {"f_score": nan, "precision": nan, "recall": nan, "threshold": nan, "thresholds": [],
                "precision_curve": [], "recall_curve": [], "f_curve": []}
    taus = np.unique(np.quantile(all_scores, np.linspace(0, 1, thresholds)))
    prec = np.zeros(len(taus))
    prec_n = np.zeros(len(taus))
    rec = np.zeros(len(taus))
    rec_n = 0
    for p, g, s in zip(pred, gt, scores):
        overlap = iou(p, g)[1:]
        present = overlap >= 0
        overlap = np.where(present, overlap, 0.0)
        s = np.asarray(s, dtype=np.float64)[1:]
        for k, tau in enumerate(taus):
            reported = s >= tau
            if reported.any():
                prec[k] += overlap[reported].mean()
                prec_n[k] += 1
            if present.any():
                rec[k] += (overlap * reported)[present].mean()
        rec_n += int(present.any())
    if rec_n == 0:
        nan = float("nan")
        return {"f_score": nan, "precision": nan, "recall": nan, "threshold": nan, "thresholds": taus.tolist(),
                "precision_curve": [], "recall_curve": [], "f_curve": []}
    precision = np.where(prec_n > 0, prec / np.maximum(prec_n, 1), 0.0)
    recall = rec / rec_n
    with np.errstate(invalid="ignore", divide="ignore"):
        f = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    best = int(np.argmax(f))
    return {"f_score": float(f[best]), "precision": float(precision[best]), "recall": float(recall[best]),
            "threshold": float(taus[best]), "thresholds": taus.tolist(), "precision_curve": precision.tolist(),
            "recall_curve": recall.tolist(), "f_curve": f.tolist()}
