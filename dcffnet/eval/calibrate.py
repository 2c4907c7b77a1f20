"""Fitting and measuring the score calibration (``dcffnet calibrate``) on a validation split.

:func:`collect_cues` tracks every sequence (plain tracking: no lost state, raw scores) and records
per frame the decoder's cues and whether the box overlaps the ground truth by more than 0.5 IoU
(frames where the target is absent count as not overlapping). :func:`calibrate` fits a
:class:`~dcffnet.tracking.calibration.ScoreCalibration` on all of it and reports the expected
calibration error in-sample and held out (grouped folds, or two folds by sequence), the reliability table
and the AUROC of the calibrated score for IoU > 0.5 against IoU < 0.1.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import atomic_path
from ..data import Sequence, read_frame
from ..tracking import Tracker, iter_track
from ..tracking.calibration import (ScoreCalibration, expected_calibration_error, fit_calibration,
                                    reliability_table)
from .metrics import auroc, iou

__all__ = ["CueSet", "collect_cues", "calibrate", "plot_reliability"]


@dataclasses.dataclass
class CueSet:
    """Per-frame calibration data: ``cues`` ``(N, 3)`` (score, peak, psr), ``overlap`` ``(N,)`` IoU
    with the ground truth (0 where the target is absent), ``sequence`` ``(N,)`` index of the sequence."""

    cues: np.ndarray
    overlap: np.ndarray
    sequence: np.ndarray
    names: list[str]

    @property
    def labels(self) -> np.ndarray:
        """1 where the box overlaps the target by more than 0.5 IoU."""
        return (self.overlap > 0.5).astype(np.float64)


def collect_cues(model: Any, sequences: list[Sequence], device: str | None = None, progress: bool = False) -> CueSet:
    """Track ``sequences`` with ``model`` (its own tuned values, lost state off, raw scores) and
    collect every frame's cues after the first."""
    from tqdm import tqdm

    cues, overlap, index = [], [], []
    for k, seq in enumerate(tqdm(sequences, disable=not progress, unit="seq")):
        tracker = Tracker(model=model, device=device)
        tracker.hparams = dataclasses.replace(tracker.hparams, lost_threshold=0.0)
        tracker.calibration = None
        frames = (read_frame(path) for path in seq.frames)
        for step in iter_track(tracker, frames, seq.init_box):
            if step.index == 0:
                continue
            c = tracker.last_cues
            cues.append((c["score"], c["peak"], c["psr"]))
            gt = seq.gt[step.index]
            overlap.append(float(iou(np.array([step.box]), gt[None])[0]) if np.isfinite(gt).all() else 0.0)
            index.append(k)
    return CueSet(np.array(cues, dtype=np.float64).reshape(-1, 3), np.array(overlap), np.array(index),
                  [s.name for s in sequences])


def _separation(probs: np.ndarray, overlap: np.ndarray) -> dict[str, float]:
    on, off = probs[overlap > 0.5], probs[overlap < 0.1]
    return {"auroc": auroc(on, off), "mean_on": float(on.mean()) if len(on) else float("nan"),
            "mean_off": float(off.mean()) if len(off) else float("nan"), "frames_on": int(len(on)),
            "frames_off": int(len(off))}


def calibrate(data: CueSet, fitted_on: str = "", folds: np.ndarray | None = None) -> tuple[ScoreCalibration, dict[str, Any]]:
    """Fit the calibration on all of ``data`` and measure it.

    Args:
        data: the cues of :func:`collect_cues`.
        fitted_on: what the calibration was fitted on (stored with it).
        folds: fold index of each of ``data.names`` (e.g. :func:`dcffnet.eval.folds.group_folds`):
            the held-out figures fit on the other folds and score each fold; ``None``: two folds
            by sequence (even-indexed sequences fitted, odd scored, and the reverse).

    Returns:
        ``(calibration, report)``; ``report`` has ``ece`` (in-sample), ``ece_cv`` and ``auroc_cv``
        (held out, pooled over the folds), ``cv_folds`` (how many), ``ece_raw`` (the raw score
        taken as a probability), ``reliability`` (table rows), ``raw`` and ``calibrated``
        separation figures (AUROC for IoU > 0.5 vs < 0.1, mean scores), and the counts.
    """
    labels = data.labels
    calibration = fit_calibration(data.cues, labels, fitted_on=fitted_on)
    probs = np.asarray(calibration(data.cues))
    held_out = np.empty_like(probs)
    if folds is None:
        frame_folds = data.sequence % 2
    else:
        folds = np.asarray(folds)
        if folds.shape != (len(data.names),):
            raise ValueError(f"folds must give one fold per sequence ({len(data.names)}), got shape {folds.shape}")
        frame_folds = folds[data.sequence]
    for fold in np.unique(frame_folds):
        train, test = frame_folds != fold, frame_folds == fold
        if labels[train].min() == labels[train].max() or not test.any():
            held_out[test] = probs[test]
            continue
        held_out[test] = fit_calibration(data.cues[train], labels[train])(data.cues[test])
    held_sep = _separation(held_out, data.overlap)
    report = {
        "frames": int(len(labels)), "sequences": len(data.names), "positives": int(labels.sum()),
        "ece": expected_calibration_error(probs, labels), "ece_cv": expected_calibration_error(held_out, labels),
        "auroc_cv": held_sep["auroc"], "cv_folds": int(len(np.unique(frame_folds))),
        "ece_raw": expected_calibration_error(data.cues[:, 0], labels),
        "reliability": reliability_table(probs, labels), "reliability_raw": reliability_table(data.cues[:, 0], labels),
        "raw": _separation(data.cues[:, 0], data.overlap), "calibrated": _separation(probs, data.overlap),
    }
    return calibration, report


def plot_reliability(report: dict[str, Any], path: str | Path, title: str = "") -> Path:
    """Reliability diagram (observed frequency of IoU > 0.5 against the predicted probability, raw
    and calibrated) as a PNG; needs matplotlib."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 5), dpi=100)
    ax.plot([0, 1], [0, 1], color="0.6", linestyle="--", linewidth=1, label="perfect")
    for key, label in (("reliability_raw", f"raw score (ECE {report['ece_raw']:.3f})"),
                       ("reliability", f"calibrated (ECE {report['ece']:.3f}, cross-val {report['ece_cv']:.3f})")):
        rows = report[key]
        ax.plot([r["confidence"] for r in rows], [r["accuracy"] for r in rows], marker="o", linewidth=2, label=label)
    ax.set_xlabel("predicted P(IoU > 0.5)")
    ax.set_ylabel("observed frequency")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=8)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:  # the temporary name keeps the suffix: the format follows it
        fig.savefig(tmp)
    plt.close(fig)
    return path
