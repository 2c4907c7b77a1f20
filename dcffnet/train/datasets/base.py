"""The common record every dataset reader produces: a :class:`Track` (frames + boxes of one object)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import numpy as np

__all__ = ["Track", "read_box_file", "read_flags", "list_images", "sequence_names", "keep_names", "IMAGE_SUFFIXES"]

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".JPEG", ".JPG", ".PNG")


@dataclass
class Track:
    """One object through a sequence of frames.

    Attributes:
        name: ``dataset/sequence[/object]``.
        frames: image files, one per frame.
        boxes: ``(N, 4)`` float array of ``(x, y, w, h)`` (pixels, 0-based); a row of NaN marks a
            frame where the target is absent, fully occluded or unannotated.
        is_video: ``False`` for a still image (template and search are cut from the same frame).
    """

    name: str
    frames: list[Path]
    boxes: np.ndarray
    is_video: bool = True

    def __post_init__(self) -> None:
        self.boxes = np.asarray(self.boxes, dtype=np.float64).reshape(-1, 4)
        if len(self.frames) != len(self.boxes):
            raise ValueError(f"track {self.name}: {len(self.frames)} frames but {len(self.boxes)} boxes")
        bad = ~np.isfinite(self.boxes).all(1) | (self.boxes[:, 2] <= 0) | (self.boxes[:, 3] <= 0)
        self.boxes[bad] = np.nan

    @property
    def valid(self) -> np.ndarray:
        """Indices of frames with a usable box."""
        return np.flatnonzero(np.isfinite(self.boxes[:, 0]))


def read_box_file(path: Path) -> np.ndarray:
    """Read one box per line (``x,y,w,h``; commas, tabs or spaces; ``nan`` or empty fields allowed)."""
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


def read_flags(path: Path) -> np.ndarray | None:
    """Read a 0/1 label file (one value per line, or comma-separated on one line); ``None`` if absent."""
    if not path.is_file():
        return None
    values = [int(float(v)) for v in re.split(r"[,\s]+", path.read_text().strip()) if v]
    return np.array(values, dtype=np.int64)


def list_images(folder: Path) -> list[Path]:
    """Image files of ``folder``, sorted by name."""
    return sorted(p for p in folder.iterdir() if p.suffix in IMAGE_SUFFIXES)


def sequence_names(root: Path, marker: str = "groundtruth.txt") -> list[str]:
    """Sequence folder names of ``root``: from ``list.txt`` when present, else every folder holding ``marker``."""
    listed = root / "list.txt"
    if listed.is_file():
        return listed.read_text().split()
    return sorted(p.name for p in root.iterdir() if (p / marker).is_file())


def keep_names(names: Iterable[str], split_file: str | Path | None) -> set[str] | None:
    """Names listed in ``split_file`` (one per line) or ``None`` for all."""
    if split_file is None:
        return None
    wanted = {line.strip() for line in Path(split_file).read_text().splitlines() if line.strip()}
    return wanted & set(names)
