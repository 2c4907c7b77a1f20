"""Box and flag files: one ``x,y,w,h`` (or one 0/1 flag) per frame."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

__all__ = ["read_box_file", "read_flags"]


def read_box_file(path: str | Path) -> np.ndarray:
    """Read one box per line (``x,y,w,h``; commas, tabs or spaces; ``nan`` or empty fields allowed).

    Returns:
        ``(N, 4)`` float64 array in the file's own pixel convention (no index shift is applied);
        unparsable fields become NaN. Blank lines are skipped.
    """
    rows = []
    for line in Path(path).read_text().splitlines():
        if not line.strip():
            continue
        parts = [p for p in re.split(r"[,\s]+", line.strip()) if p]
        values = []
        for p in parts[:4]:
            try:
                values.append(float(p))
            except ValueError:
                values.append(float("nan"))
        values += [float("nan")] * (4 - len(values))
        rows.append(values)
    return np.array(rows, dtype=np.float64).reshape(-1, 4)


def read_flags(path: str | Path) -> np.ndarray | None:
    """Read a 0/1 label file (one value per line, or comma-separated on one line); ``None`` if absent."""
    path = Path(path)
    if not path.is_file():
        return None
    values = [int(float(v)) for v in re.split(r"[,\s]+", path.read_text().strip()) if v]
    return np.array(values, dtype=np.int64)
