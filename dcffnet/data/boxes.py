"""Box and flag files: one ``x,y,w,h`` (or one 0/1 flag) per frame; polygons to boxes."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

__all__ = ["read_box_file", "read_flags", "polygon_to_box"]


def polygon_to_box(polygon: np.ndarray, preserve_area: bool = True) -> np.ndarray:
    """Axis-aligned ``(x, y, w, h)`` box of a polygon ``(x1, y1, x2, y2, ...)`` (pixels); 4 values
    are already a box and are returned as they are.

    Args:
        preserve_area: ``True`` (the VOT reader's boxes, as pysot and pytracking's ``preserve_area``):
            the polygon's centre, the bounding box scaled by ``sqrt(area(polygon) / area(bbox))``;
            ``False``: the plain bounding box of the points (what the VOT toolkit converts a polygon
            to, and what box files with polygon lines give).
    """
    pts = np.asarray(polygon, dtype=np.float64).reshape(-1, 2)
    if len(pts) < 3:
        x, y, w, h = np.asarray(polygon, dtype=np.float64).reshape(4)
        return np.array([x, y, w, h])
    x1, y1 = pts.min(0)
    x2, y2 = pts.max(0)
    if not preserve_area:
        return np.array([x1, y1, x2 - x1, y2 - y1])
    cx, cy = pts.mean(0)
    xs, ys = pts[:, 0], pts[:, 1]
    area = 0.5 * abs(np.dot(xs, np.roll(ys, -1)) - np.dot(ys, np.roll(xs, -1)))
    bbox_area = (x2 - x1) * (y2 - y1)
    s = np.sqrt(area / bbox_area) if bbox_area > 0 else 1.0
    w, h = s * (x2 - x1), s * (y2 - y1)
    return np.array([cx - w / 2, cy - h / 2, w, h])


def _field(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return float("nan")


def read_box_file(path: str | Path) -> np.ndarray:
    """Read one box per line (``x,y,w,h``; commas, tabs or spaces; ``nan`` or empty fields allowed).

    Line ``i`` is frame ``i``: an empty line is a frame without a box (a NaN row); only the blank
    lines at the end of the file are ignored. A line of 6, 8 or more values (an even count,
    ``x1,y1,x2,y2,...``: VOT-style polygons) becomes the polygon's axis-aligned bounding box
    (:func:`polygon_to_box` with ``preserve_area=False``), NaN if any of its values is not a
    number. Other lines use their first 4 values.

    Returns:
        ``(N, 4)`` float64 array in the file's own pixel convention (no index shift is applied);
        unparsable fields become NaN.
    """
    lines = Path(path).read_text().splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    rows = []
    for line in lines:
        values = [_field(p) for p in re.split(r"[,\s]+", line.strip()) if p]
        if len(values) >= 6 and len(values) % 2 == 0:
            polygon = np.array(values)
            rows.append(polygon_to_box(polygon, preserve_area=False) if np.isfinite(polygon).all()
                        else [float("nan")] * 4)
            continue
        values = values[:4]
        rows.append(values + [float("nan")] * (4 - len(values)))
    return np.array(rows, dtype=np.float64).reshape(-1, 4)


def read_flags(path: str | Path) -> np.ndarray | None:
    """Read a 0/1 label file (one value per line, or comma-separated on one line); ``None`` if absent."""
    path = Path(path)
    if not path.is_file():
        return None
    values = [int(float(v)) for v in re.split(r"[,\s]+", path.read_text().strip()) if v]
    return np.array(values, dtype=np.int64)
