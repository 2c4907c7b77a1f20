"""The common record every dataset reader produces: a :class:`Track` (frames + boxes of one object)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ...data import IMAGE_SUFFIXES, keep_names, list_images, read_box_file, read_flags, sequence_names

__all__ = ["Track", "read_box_file", "read_flags", "list_images", "sequence_names", "keep_names", "IMAGE_SUFFIXES"]


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
