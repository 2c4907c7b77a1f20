"""Box overlap and one-to-one matching for re-associating tracked targets with detections.

Plain numpy on the small matrices a frame's targets and detections make (tens by tens): the
greedy matcher takes the best remaining pair first, which needs no solver dependency.
"""

from __future__ import annotations

import numpy as np

__all__ = ["iou_matrix", "greedy_match"]


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Intersection over union of every box of ``a`` with every box of ``b``.

    Args:
        a: ``(N, 4)`` boxes ``(x1, y1, x2, y2)`` (xyxy, frame pixels, 0-based; not xywh).
        b: ``(M, 4)`` boxes, the same format.

    Returns:
        ``(N, M)`` float64 IoU values in [0, 1] (0 for boxes without area).

    Raises:
        ValueError: an argument is not an ``(K, 4)`` array.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    for name, boxes in (("a", a), ("b", b)):
        if boxes.ndim != 2 or boxes.shape[1] != 4:
            raise ValueError(f"{name} must be an (K, 4) array of xyxy boxes, got shape {boxes.shape}")
    x1 = np.maximum(a[:, None, 0], b[None, :, 0])
    y1 = np.maximum(a[:, None, 1], b[None, :, 1])
    x2 = np.minimum(a[:, None, 2], b[None, :, 2])
    y2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x2 - x1, 0.0, None) * np.clip(y2 - y1, 0.0, None)
    area_a = np.clip(a[:, 2] - a[:, 0], 0.0, None) * np.clip(a[:, 3] - a[:, 1], 0.0, None)
    area_b = np.clip(b[:, 2] - b[:, 0], 0.0, None) * np.clip(b[:, 3] - b[:, 1], 0.0, None)
    union = area_a[:, None] + area_b[None, :] - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(union > 0, inter / np.where(union > 0, union, 1.0), 0.0)


def greedy_match(values: np.ndarray, allowed: np.ndarray) -> list[tuple[int, int]]:
    """One-to-one pairs ``(row, column)``, best value first.

    Every allowed pair is considered in order of decreasing ``values`` (ties: lower row, then
    lower column, first); a pair is taken when neither its row nor its column is taken yet.

    Args:
        values: ``(N, M)`` pair values (higher is better).
        allowed: ``(N, M)`` booleans: which pairs may be matched at all.

    Returns:
        The matched pairs, in the order they were taken.

    Raises:
        ValueError: the two arrays do not have the same 2-D shape.
    """
    values = np.asarray(values, dtype=np.float64)
    allowed = np.asarray(allowed, dtype=bool)
    if values.ndim != 2 or values.shape != allowed.shape:
        raise ValueError(f"values and allowed must be 2-D arrays of one shape, got {values.shape} and {allowed.shape}")
    rows, cols = np.nonzero(allowed)
    order = np.lexsort((cols, rows, -values[rows, cols]))
    used_rows: set[int] = set()
    used_cols: set[int] = set()
    pairs = []
    for k in order:
        r, c = int(rows[k]), int(cols[k])
        if r not in used_rows and c not in used_cols:
            pairs.append((r, c))
            used_rows.add(r)
            used_cols.add(c)
    return pairs
