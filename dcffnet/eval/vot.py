"""The VOT2018 supervised (reset) protocol: failures, re-initialisation, accuracy, robustness, EAO.

Definitions follow vot-toolkit 0.7.4 (``vot.analysis.supervised``) and pysot's AR benchmark:

* a failure is a frame whose overlap with the ground truth is 0; the tracker is re-initialised
  ``skip`` (5) frames later (on the next frame with a valid ground truth);
* accuracy: mean overlap over tracked frames, without the ``burnin`` (10) frames that start at each
  (re-)initialisation; failure frames are left out;
* robustness: failures per 100 frames (pysot's reported R: failures / frames * 100); the raw count
  is kept too;
* EAO: every run is cut into fragments from an initialisation to its failure (a failed fragment is
  padded with zeros up to the longest fragment) or to the end (not padded); the EAO curve at length
  L is the mean over fragments of their mean overlap on frames 1..L (the init frame excluded), and
  the score averages the curve over L in ``[low, high]`` (VOT2018: 100-356).

Overlaps are polygon overlaps bounded to the image when polygons are given (VOT ground truth).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from .datasets import Sequence

__all__ = ["INIT", "SKIP", "FAIL", "region_overlap", "SupervisedRun", "run_supervised", "accuracy_robustness",
           "eao_curve", "eao_score"]

INIT, SKIP, FAIL = "init", "skip", "fail"


def _polygon_area(pts: np.ndarray) -> float:
    if len(pts) < 3:
        return 0.0
    x, y = pts[:, 0], pts[:, 1]
    return 0.5 * abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))


def _clip(poly: np.ndarray, x1: float, y1: float, x2: float, y2: float) -> np.ndarray:
    """Sutherland-Hodgman clipping of a polygon by an axis-aligned rectangle."""
    def clip_edge(points, inside, intersect):
        out = []
        for i in range(len(points)):
            cur, prev = points[i], points[i - 1]
            if inside(cur):
                if not inside(prev):
                    out.append(intersect(prev, cur))
                out.append(cur)
            elif inside(prev):
                out.append(intersect(prev, cur))
        return out

    def ix(x):
        return lambda p, q: (x, p[1] + (q[1] - p[1]) * (x - p[0]) / (q[0] - p[0]))

    def iy(y):
        return lambda p, q: (p[0] + (q[0] - p[0]) * (y - p[1]) / (q[1] - p[1]), y)

    pts = [tuple(p) for p in poly]
    for inside, intersect in ((lambda p: p[0] >= x1, ix(x1)), (lambda p: p[0] <= x2, ix(x2)),
                              (lambda p: p[1] >= y1, iy(y1)), (lambda p: p[1] <= y2, iy(y2))):
        if not pts:
            break
        pts = clip_edge(pts, inside, intersect)
    return np.array(pts, dtype=np.float64).reshape(-1, 2)


def _rect_polygon(box: np.ndarray) -> np.ndarray:
    x, y, w, h = box
    return np.array([[x, y], [x + w, y], [x + w, y + h], [x, y + h]], dtype=np.float64)


def region_overlap(box: np.ndarray, gt: np.ndarray, bounds: tuple[int, int] | None = None) -> float:
    """IoU of a predicted ``(x, y, w, h)`` box with a ground-truth box or polygon (``2k`` values),
    both clipped to the image ``bounds = (width, height)`` when given (the VOT convention)."""
    gt = np.asarray(gt, dtype=np.float64)
    gt = gt[np.isfinite(gt)]
    gt_poly = _rect_polygon(gt) if len(gt) == 4 else gt.reshape(-1, 2)
    pred_poly = _rect_polygon(np.asarray(box, dtype=np.float64))
    if bounds is not None:
        w, h = bounds
        gt_poly = _clip(gt_poly, 0, 0, w, h)
        pred_poly = _clip(pred_poly, 0, 0, w, h)
    if len(pred_poly) < 3 or len(gt_poly) < 3:
        return 0.0
    px1, py1 = pred_poly.min(0)
    px2, py2 = pred_poly.max(0)
    inter = _polygon_area(_clip(gt_poly, px1, py1, px2, py2))  # pred is an axis-aligned rectangle
    union = _polygon_area(pred_poly) + _polygon_area(gt_poly) - inter
    return float(inter / union) if union > 0 else 0.0


@dataclass
class SupervisedRun:
    """One sequence under the reset protocol: per frame a box, ``INIT``, ``SKIP`` or ``FAIL``; the overlaps
    (NaN on special frames) and the tracker's time per frame."""

    name: str
    entries: list[Any] = field(default_factory=list)
    overlaps: np.ndarray | None = None
    times: list[float] = field(default_factory=list)


def run_supervised(make_tracker: Callable[[], Any], sequence: Sequence, read_frame: Callable[[Any], np.ndarray],
                   skip: int = 5, bounds: tuple[int, int] | None = None) -> SupervisedRun:
    """Run a tracker (``init(frame, box)``, ``update(frame) -> (box, score)``) with resets.

    ``read_frame(path)`` loads a frame; ``bounds`` (width, height) bounds overlaps to the image.
    """
    tracker = make_tracker()
    run = SupervisedRun(sequence.name)
    regions = sequence.polygons if sequence.polygons is not None else sequence.gt
    n = len(sequence)
    overlaps = np.full(n, np.nan)
    frame_idx = 0
    initialise = True
    while frame_idx < n:
        if initialise:
            if not np.isfinite(sequence.gt[frame_idx]).all():
                run.entries.append(SKIP)
                frame_idx += 1
                continue
            image = read_frame(sequence.frames[frame_idx])
            t0 = time.perf_counter()
            tracker.init(image, sequence.gt[frame_idx])
            run.times.append(time.perf_counter() - t0)
            run.entries.append(INIT)
            initialise = False
            frame_idx += 1
            continue
        image = read_frame(sequence.frames[frame_idx])
        t0 = time.perf_counter()
        box, _ = tracker.update(image)
        run.times.append(time.perf_counter() - t0)
        box = np.asarray(box, dtype=np.float64)
        if np.isfinite(sequence.gt[frame_idx]).all():
            ov = region_overlap(box, regions[frame_idx], bounds or (image.shape[1], image.shape[0]))
            if ov <= 0.0:
                run.entries.append(FAIL)
                skipped = min(skip - 1, n - frame_idx - 1)
                run.entries.extend([SKIP] * skipped)
                frame_idx += skipped + 1
                initialise = True
                continue
            overlaps[frame_idx] = ov
        run.entries.append(box)
        frame_idx += 1
    run.overlaps = overlaps
    return run


def _special_index(entries: list[Any], kind: str) -> list[int]:
    return [i for i, e in enumerate(entries) if isinstance(e, str) and e == kind]


def accuracy_robustness(runs: list[SupervisedRun], burnin: int = 10) -> dict[str, float]:
    """Overall accuracy (frame-weighted mean overlap outside burn-in), failures and robustness
    (failures per 100 frames)."""
    values, failures, frames = [], 0, 0
    for run in runs:
        mask = np.isfinite(run.overlaps)
        for i in _special_index(run.entries, INIT):
            mask[i:i + burnin] = False
        values.append(run.overlaps[mask])
        failures += len(_special_index(run.entries, FAIL))
        frames += len(run.entries)
    all_values = np.concatenate(values) if values else np.zeros(0)
    return {"accuracy": float(all_values.mean()) if len(all_values) else 0.0, "failures": failures,
            "robustness": 100.0 * failures / max(frames, 1)}


def eao_curve(runs: list[SupervisedRun]) -> np.ndarray:
    """Expected average overlap for every fragment length (index L: mean of frames 1..L)."""
    fragments, failed = [], []
    for run in runs:
        overlaps = np.nan_to_num(run.overlaps, nan=0.0)
        inits, fails = _special_index(run.entries, INIT), _special_index(run.entries, FAIL)
        for k, start in enumerate(inits):
            if k < len(fails):
                fragments.append(overlaps[start:fails[k]])
                failed.append(True)
            else:
                fragments.append(overlaps[start:])
                failed.append(False)
    if not fragments:
        raise ValueError("no fragments: no run was initialised")
    longest = max(len(f) for f in fragments)
    values = np.zeros((len(fragments), longest))
    mask = np.zeros((len(fragments), longest))
    for i, (frag, fail) in enumerate(zip(fragments, failed)):
        values[i, :len(frag)] = frag
        mask[i, :] = 1.0 if fail else 0.0
        if not fail:
            mask[i, :len(frag)] = 1.0
    averaged = values.copy()
    for j in range(1, longest):
        averaged[:, j] = values[:, 1:j + 1].mean(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (averaged * mask).sum(0) / mask.sum(0)


def eao_score(runs: list[SupervisedRun], low: int = 100, high: int = 356) -> float:
    """EAO: the mean of :func:`eao_curve` over lengths ``low..high`` (VOT2018: 100-356); NaN when no
    fragment reaches ``low``."""
    curve = eao_curve(runs)
    if len(curve) <= low:
        return float("nan")
    return float(np.nanmean(curve[low:high + 1]))
