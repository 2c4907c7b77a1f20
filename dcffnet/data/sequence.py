"""The one record every reader produces: a :class:`Sequence` (the frames and boxes of one target)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["Sequence"]


@dataclass
class Sequence:
    """One target through a sequence of frames: a benchmark sequence, a training video or a still image.

    Attributes:
        name: the sequence's name within its dataset (``Bolt``, ``otb/Bolt``, ``airplane-1``); result
            files are named after it.
        frames: image files in order (a video file's frames come from the frame cache).
        boxes: ``(N, 4)`` float ``(x, y, w, h)`` in 0-based continuous pixels; a NaN row marks a frame
            where the target is absent, fully occluded or unannotated (rows with ``w <= 0`` or
            ``h <= 0`` become NaN too).
        dataset: the dataset it was read from (``videos``, ``got10k``, ``lasot``, ...);
            :attr:`qualified_name` is ``dataset/name``.
        is_video: ``False`` for a still image (template and search are cut from the same frame).
        polygons: VOT only: the original ``(N, 2k)`` polygons (0-based) for region overlaps.
        cover: GOT-10k only: visible-ratio class per frame (0 = fully occluded).
        attributes: anything else the dataset says about the sequence (e.g. ``meta.json``).

    Raises:
        ValueError: no frames, or a different number of frames and boxes (use :meth:`shortest`
            for benchmark layouts that store more images than boxes).
    """

    name: str
    frames: list[Path]
    boxes: np.ndarray
    dataset: str = ""
    is_video: bool = True
    polygons: np.ndarray | None = None
    cover: np.ndarray | None = None
    attributes: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.frames = list(self.frames)
        self.boxes = np.array(self.boxes, dtype=np.float64).reshape(-1, 4)
        if not self.frames:
            raise ValueError(f"sequence {self.name} has no frames")
        if len(self.frames) != len(self.boxes):
            raise ValueError(f"sequence {self.name}: {len(self.frames)} frames but {len(self.boxes)} boxes")
        bad = ~np.isfinite(self.boxes).all(1) | (self.boxes[:, 2] <= 0) | (self.boxes[:, 3] <= 0)
        self.boxes[bad] = np.nan

    @classmethod
    def shortest(cls, name: str, frames: list[Path], boxes: np.ndarray, *, where: str | None = None,
                 **fields: Any) -> "Sequence":
        """A sequence cut to the shorter of ``frames`` and ``boxes`` (and ``polygons`` / ``cover``),
        warning (naming ``where``) when they differ."""
        boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
        n = min(len(frames), len(boxes))
        if len(frames) != len(boxes):
            warnings.warn(f"{where or name}: {len(frames)} frames but {len(boxes)} boxes; using the first {n}")
        for key in ("polygons", "cover"):
            if fields.get(key) is not None:
                fields[key] = fields[key][:n]
        return cls(name, list(frames)[:n], boxes[:n], **fields)

    def __len__(self) -> int:
        return len(self.frames)

    @property
    def gt(self) -> np.ndarray:
        """The ground truth, i.e. :attr:`boxes` (the benchmark name for the same array)."""
        return self.boxes

    @property
    def qualified_name(self) -> str:
        """``dataset/name`` (just ``name`` without a dataset): unique across a training mixture."""
        return f"{self.dataset}/{self.name}" if self.dataset else self.name

    @property
    def valid(self) -> np.ndarray:
        """Indices of frames with a usable box: finite and, where ``cover`` exists, not fully occluded."""
        ok = np.isfinite(self.boxes[:, 0])
        if self.cover is not None:
            ok &= np.asarray(self.cover[: len(ok)]) != 0
        return np.flatnonzero(ok)

    @property
    def init_box(self) -> np.ndarray:
        """The box of frame 0 (one-pass evaluation initialises there).

        Raises:
            ValueError: frame 0 has no valid box.
        """
        if not np.isfinite(self.boxes[0]).all():
            raise ValueError(f"sequence {self.name}: no valid box in the first frame")
        return self.boxes[0]

    def reindexed(self, order: list[int]) -> "Sequence":
        """The same sequence with its frames (and boxes, polygons, cover) in ``order``."""
        return Sequence(self.name, [self.frames[i] for i in order], self.boxes[order], dataset=self.dataset,
                        is_video=self.is_video, polygons=None if self.polygons is None else self.polygons[order],
                        cover=None if self.cover is None else self.cover[order], attributes=dict(self.attributes))
