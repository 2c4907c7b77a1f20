"""Template/search pair sampling from a weighted mixture of datasets.

Sample ``i`` of epoch ``e`` is drawn from ``numpy.random.default_rng([seed, e, i, attempt])``: the
data of a run depends only on the seed, which makes runs reproducible, resumable and identical
whatever the number of DataLoader workers or DDP processes.
"""

from __future__ import annotations

import os
import zlib
from pathlib import Path
from typing import Callable

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset

from .augment import photometric, search_crop, template_crop
from .config import AugmentConfig, DataConfig, DatasetSpec
from ..data import Sequence, read_dataset

__all__ = ["PairDataset", "load_mixture", "split_tracks"]

MAX_ATTEMPTS = 20


def split_tracks(tracks: list[Sequence], val_fraction: float) -> tuple[list[Sequence], list[Sequence]]:
    """Deterministic train/validation split by a hash of each track's qualified name
    (``dataset/name``; sequence-level, never a frame; still images by their image)."""
    if val_fraction <= 0:
        return tracks, []
    train, val = [], []
    for track in tracks:
        name = track.qualified_name
        key = name.rsplit("/", 1)[0] if not track.is_video else name
        (val if (zlib.crc32(key.encode()) % 1000) < val_fraction * 1000 else train).append(track)
    return train, val


def load_mixture(config: DataConfig) -> tuple[list[tuple[DatasetSpec, list[Sequence], list[Sequence]]], int]:
    """Read every dataset of ``config`` and split it; returns ``[(spec, train, val)]`` and the number
    of tracks removed by ``exclude``."""
    mixture, excluded = [], 0
    for spec in config.datasets:
        root = Path(os.path.expandvars(spec.root))
        if not root.is_absolute():
            root = Path(config.data_root) / root
        tracks = read_dataset(spec.format, root, **spec.options)
        kept = [t for t in tracks if not any(x in t.qualified_name for x in config.exclude)]
        excluded += len(tracks) - len(kept)
        kept = [t for t in kept if len(t.valid)]
        train, val = split_tracks(kept, config.val_fraction)
        mixture.append((spec, train, val))
    return mixture, excluded


class PairDataset(Dataset):
    """``samples`` random template/search pairs per epoch from weighted datasets.

    Each item is a dict of tensors: ``template`` (3, T, T) and ``search`` (3, S, S) uint8 BGR crops,
    ``box`` (4,) the target ``x1, y1, x2, y2`` in search-crop pixels, ``negative`` (bool: the search
    crop shows another object), ``skipped`` (unreadable images passed over for this item) and, with a
    ``teacher``, ``teacher``: its features of the search crop; with a ``response_teacher``,
    ``teacher_cls`` (R, R) and ``teacher_reg`` (4, R, R): its response on the final crop pair.
    """

    def __init__(self, datasets: list[tuple[DatasetSpec, list[Sequence]]], samples: int, template_size: int,
                 search_size: int, augment: AugmentConfig, seed: int = 0,
                 teacher: Callable[[np.ndarray], np.ndarray] | None = None,
                 response_teacher: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]] | None = None
                 ) -> None:
        self.datasets = [(spec, tracks) for spec, tracks in datasets if tracks]
        if not self.datasets:
            raise ValueError("no tracks to sample from")
        weights = np.array([spec.weight for spec, _ in self.datasets], dtype=np.float64)
        if (weights < 0).any() or weights.sum() <= 0:
            raise ValueError(f"dataset weights must be >= 0 with a positive sum, got {weights.tolist()}")
        self.probs = weights / weights.sum()
        self.samples = int(samples)
        self.template_size, self.search_size = template_size, search_size
        self.augment = augment
        self.seed = seed
        self.teacher = teacher
        self.response_teacher = response_teacher
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Select the epoch whose samples ``__getitem__`` returns."""
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return self.samples

    def _pick(self, rng: np.random.Generator) -> tuple[DatasetSpec, Sequence]:
        spec, tracks = self.datasets[int(rng.choice(len(self.datasets), p=self.probs))]
        return spec, tracks[int(rng.integers(len(tracks)))]

    def _frames(self, spec: DatasetSpec, track: Sequence, rng: np.random.Generator) -> tuple[int, int]:
        valid = track.valid
        t = int(valid[rng.integers(len(valid))])
        if not track.is_video:
            return t, t
        near = valid[np.abs(valid - t) <= spec.frame_range]
        return t, int(near[rng.integers(len(near))])

    @staticmethod
    def _read(path: Path) -> np.ndarray | None:
        try:
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        except cv2.error:
            return None
        return image

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        skipped = 0
        for attempt in range(MAX_ATTEMPTS):
            rng = np.random.default_rng([self.seed, self.epoch, int(index), attempt])
            spec, track = self._pick(rng)
            t_idx, s_idx = self._frames(spec, track, rng)
            negative = rng.random() < self.augment.negative
            s_track = track
            if negative:
                s_spec, s_track = self._pick(rng)
                s_idx = int(s_track.valid[rng.integers(len(s_track.valid))])
            t_img = self._read(track.frames[t_idx])
            s_img = t_img if (s_track is track and s_idx == t_idx) else self._read(s_track.frames[s_idx])
            if t_img is None or s_img is None:
                skipped += 1
                continue
            z = template_crop(t_img, track.boxes[t_idx], self.template_size, self.augment, rng)
            x, box = search_crop(s_img, s_track.boxes[s_idx], self.template_size, self.search_size,
                                 self.augment, rng)
            z, x, box = photometric(z, x, box, self.augment, rng)
            item = {
                "template": torch.from_numpy(np.ascontiguousarray(z)).permute(2, 0, 1),
                "search": torch.from_numpy(np.ascontiguousarray(x)).permute(2, 0, 1),
                "box": torch.tensor(box, dtype=torch.float32),
                "negative": torch.tensor(bool(negative)),
                "skipped": torch.tensor(skipped),
            }
            if self.teacher is not None:
                item["teacher"] = torch.from_numpy(self.teacher(np.ascontiguousarray(x)))
            if self.response_teacher is not None:
                cls, reg = self.response_teacher(np.ascontiguousarray(z), np.ascontiguousarray(x))
                item["teacher_cls"], item["teacher_reg"] = torch.from_numpy(cls), torch.from_numpy(reg)
            return item
        raise RuntimeError(f"{MAX_ATTEMPTS} unreadable images in a row while sampling item {index}: check the data")
