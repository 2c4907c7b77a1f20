"""Benchmark readers: OTB100, VOT (polygons -> axis-aligned, area-preserving), LaSOT, GOT-10k val,
UAV123 and the generic folder format. Every reader returns :class:`Sequence` objects whose ground
truth is ``(x, y, w, h)`` in 0-based continuous pixels, NaN rows where the target is absent or
unannotated."""

from __future__ import annotations

import json
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..data import list_images, read_box_file, read_flags, sequence_frames, sequence_names

__all__ = ["Sequence", "FORMATS", "load_benchmark", "polygon_to_box", "read_otb", "read_vot", "read_lasot",
           "read_got10k", "read_uav123", "read_folder", "ping_pong"]


@dataclass
class Sequence:
    """One benchmark sequence.

    Attributes:
        name: sequence name (result files are named after it).
        frames: image files in order.
        gt: ``(N, 4)`` ground truth ``(x, y, w, h)``, 0-based pixels; NaN rows = no valid box.
        polygons: VOT only: the original ``(N, 2k)`` polygons (0-based) for region overlaps.
        cover: GOT-10k only: visible ratio class per frame (0 = fully occluded).
    """

    name: str
    frames: list[Path]
    gt: np.ndarray
    polygons: np.ndarray | None = None
    cover: np.ndarray | None = None
    attributes: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.gt = np.asarray(self.gt, dtype=np.float64).reshape(-1, 4)
        n = min(len(self.frames), len(self.gt))
        if n == 0:
            raise ValueError(f"sequence {self.name} has no frames or no ground truth")
        self.frames, self.gt = list(self.frames[:n]), self.gt[:n].copy()
        bad = ~np.isfinite(self.gt).all(1) | (self.gt[:, 2] <= 0) | (self.gt[:, 3] <= 0)
        self.gt[bad] = np.nan

    def __len__(self) -> int:
        return len(self.frames)

    @property
    def init_box(self) -> np.ndarray:
        """Ground truth of frame 0 (OPE initialises there)."""
        if not np.isfinite(self.gt[0]).all():
            raise ValueError(f"sequence {self.name}: no valid box in the first frame")
        return self.gt[0]


def polygon_to_box(polygon: np.ndarray) -> np.ndarray:
    """Axis-aligned box with the polygon's centre and area (VOT convention, as pysot and pytracking's
    ``preserve_area``): the bounding box scaled by ``sqrt(area(polygon) / area(bbox))``."""
    pts = np.asarray(polygon, dtype=np.float64).reshape(-1, 2)
    if len(pts) < 3:
        x, y, w, h = np.asarray(polygon, dtype=np.float64).reshape(4)
        return np.array([x, y, w, h])
    x1, y1 = pts.min(0)
    x2, y2 = pts.max(0)
    cx, cy = pts.mean(0)
    xs, ys = pts[:, 0], pts[:, 1]
    area = 0.5 * abs(np.dot(xs, np.roll(ys, -1)) - np.dot(ys, np.roll(xs, -1)))
    bbox_area = (x2 - x1) * (y2 - y1)
    s = np.sqrt(area / bbox_area) if bbox_area > 0 else 1.0
    w, h = s * (x2 - x1), s * (y2 - y1)
    return np.array([cx - w / 2, cy - h / 2, w, h])


# OTB-100 sequences whose annotation does not start at the first image (the OTB toolkit's start and
# end frames, 1-based image numbers). Sequences with more images than boxes are cut to the boxes.
_OTB_RANGES = {"David": (300, 770), "Tiger1": (6, 354), "BlurCar1": (247, 988), "BlurCar3": (3, 359),
               "BlurCar4": (18, 397)}


def read_otb(root: str | Path) -> list[Sequence]:
    """OTB-2013/2015 layout: ``<Seq>/img/*.jpg`` and ``groundtruth_rect.txt`` (1-based pixels);
    two-target sequences have ``groundtruth_rect.1.txt``/``.2.txt`` and become ``Seq-1``/``Seq-2``.
    Known odd frame ranges (David from 300, Tiger1 from 6, BlurCar1/3/4, ...) are applied."""
    root = Path(root)
    seqs = []
    for folder in sorted(p for p in root.iterdir() if (p / "img").is_dir()):
        files = sorted(folder.glob("groundtruth_rect*.txt"))
        if not files:
            continue
        frames = list_images(folder / "img")
        if folder.name in _OTB_RANGES:
            first, last = _OTB_RANGES[folder.name]
            frames = [f for f in frames if first <= int(re.sub(r"\D", "", f.stem) or 0) <= last]
        for file in files:
            suffix = re.findall(r"groundtruth_rect\.(\d+)\.txt", file.name)
            name = f"{folder.name}-{suffix[0]}" if suffix else folder.name
            gt = read_box_file(file)
            gt[:, :2] -= 1.0  # 1-based -> 0-based
            seqs.append(Sequence(name, frames, gt))
    return seqs


def read_vot(root: str | Path) -> list[Sequence]:
    """VOT short-term layout: ``list.txt``, ``<seq>/groundtruth.txt`` with polygons (or rectangles),
    frames in ``<seq>/color/`` or beside the file. Polygons are kept for overlaps; ``gt`` holds the
    area-preserving axis-aligned boxes."""
    root = Path(root)
    names = sequence_names(root)
    seqs = []
    for name in names:
        folder = root / name
        frames_dir = folder / "color" if (folder / "color").is_dir() else folder
        rows = [[float(v) for v in re.split(r"[,\s]+", line.strip()) if v]
                for line in (folder / "groundtruth.txt").read_text().splitlines() if line.strip()]
        width = max(len(r) for r in rows)
        polygons = np.array([r + [np.nan] * (width - len(r)) for r in rows])
        gt = np.array([polygon_to_box(p[np.isfinite(p)]) if np.isfinite(p).sum() >= 4 else [np.nan] * 4
                       for p in polygons])
        seqs.append(Sequence(name, list_images(frames_dir), gt, polygons=polygons))
    return seqs


def read_lasot(root: str | Path, split_file: str | Path | None = None) -> list[Sequence]:
    """LaSOT: ``<class>/<class>-<n>/img`` + ``groundtruth.txt`` (1-based). ``split_file`` (e.g.
    ``testing_set.txt``) selects sequences. Fully occluded / out-of-view frames are marked absent."""
    root = Path(root)
    keep = None
    if split_file is not None:
        keep = set(Path(split_file).read_text().split())
    seqs = []
    for folder in sorted(p.parent for p in root.glob("*/*/groundtruth.txt")):
        if keep is not None and folder.name not in keep:
            continue
        gt = read_box_file(folder / "groundtruth.txt")
        gt[:, :2] -= 1.0
        for flag_file in ("full_occlusion.txt", "out_of_view.txt"):
            flags = read_flags(folder / flag_file)
            if flags is not None:
                gt[np.flatnonzero(flags[: len(gt)] == 1)] = np.nan
        seqs.append(Sequence(folder.name, list_images(folder / "img"), gt))
    return seqs


def read_got10k(root: str | Path) -> list[Sequence]:
    """GOT-10k val (or train) split folder: ``list.txt``, ``<seq>/*.jpg``, ``groundtruth.txt``
    (0-based), ``absence.label``, ``cover.label`` (kept in ``Sequence.cover`` for AO/SR)."""
    root = Path(root)
    names = sequence_names(root)
    seqs = []
    for name in names:
        folder = root / name
        gt = read_box_file(folder / "groundtruth.txt")
        absence = read_flags(folder / "absence.label")
        if absence is not None:
            gt[np.flatnonzero(absence[: len(gt)] == 1)] = np.nan
        seqs.append(Sequence(name, list_images(folder), gt, cover=read_flags(folder / "cover.label")))
    return seqs


def read_uav123(root: str | Path, subset: str = "UAV123") -> list[Sequence]:
    """UAV123: ``data_seq/<subset>/<seq>`` and ``anno/<subset>/<seq>.txt`` (1-based, NaN = absent).
    Split sequences whose frame ranges live only in the official toolkit's config are skipped."""
    root = Path(root)
    seqs, skipped = [], []
    for anno in sorted((root / "anno" / subset).glob("*.txt")):
        folder = root / "data_seq" / subset / anno.stem
        if not folder.is_dir():
            skipped.append(anno.stem)
            continue
        gt = read_box_file(anno)
        gt[:, :2] -= 1.0
        seqs.append(Sequence(anno.stem, list_images(folder), gt))
    if skipped:
        warnings.warn(f"UAV123: skipped {len(skipped)} split sequences without their own frame folder")
    return seqs


def read_folder(root: str | Path) -> list[Sequence]:
    """Generic folder format: ``<seq>/groundtruth.txt`` (``x,y,w,h`` per frame, ``nan`` rows where
    the target is absent), the frames in ``<seq>/img/``, beside the file, or as a video file
    (``<seq>/video.mp4``, decoded once into the frame cache, see :func:`dcffnet.data.sequence_frames`),
    and an optional ``meta.json`` whose ``box_convention`` says ``1-based`` (OTB/UAV123 convention,
    converted) or 0-based (default)."""
    root = Path(root)
    seqs = []
    for folder in sorted(p for p in root.iterdir() if (p / "groundtruth.txt").is_file()):
        gt = read_box_file(folder / "groundtruth.txt")
        meta_file = folder / "meta.json"
        meta = json.loads(meta_file.read_text()) if meta_file.is_file() else {}
        if "1-based" in str(meta.get("box_convention", "")).lower():
            gt[:, :2] -= 1.0
        frames = sequence_frames(folder)
        if len(frames) != len(gt):
            warnings.warn(f"{folder}: {len(frames)} frames but {len(gt)} boxes; using the first {min(len(frames), len(gt))}")
        seqs.append(Sequence(folder.name, frames, gt, attributes=meta))
    return seqs


FORMATS = {"otb": read_otb, "vot": read_vot, "lasot": read_lasot, "got10k": read_got10k, "uav": read_uav123,
           "folder": read_folder}


def load_benchmark(path: str | Path, format: str = "folder") -> list[Sequence]:
    """Read the benchmark at ``path`` in ``format`` (``otb``, ``vot``, ``lasot``, ``got10k``, ``uav``, ``folder``)."""
    path = Path(path)
    if not path.is_dir():
        raise FileNotFoundError(f"benchmark folder not found: {path}")
    if format not in FORMATS:
        raise ValueError(f"unknown benchmark format {format!r}; available: {', '.join(FORMATS)}")
    seqs = FORMATS[format](path)
    if not seqs:
        raise ValueError(f"no sequences found in {path} as format {format!r}")
    return seqs


def ping_pong(seq: Sequence, cycles: int) -> Sequence:
    """``seq`` played forward, backward, forward, ... ``cycles`` times there and back (frames
    ``0..n-1, n-2..0, 1..n-1, ...``), with its ground truth reindexed the same way.

    A tuning aid for short clips: a tracker whose box size drifts is back at the first frame's
    target after each round trip and is scored against it, so drift that a 60-frame clip would hide
    costs AUC, as it does on long benchmark sequences. ``cycles=0`` returns ``seq`` unchanged.
    """
    if not isinstance(cycles, int) or cycles < 0:
        raise ValueError(f"cycles must be a non-negative int, got {cycles!r}")
    n = len(seq)
    if cycles == 0 or n < 2:
        return seq
    there_and_back = list(range(1, n)) + list(range(n - 2, -1, -1))
    order = [0] + there_and_back * cycles
    return Sequence(seq.name, [seq.frames[i] for i in order], seq.gt[order],
                    polygons=None if seq.polygons is None else seq.polygons[order],
                    cover=None if seq.cover is None else seq.cover[order], attributes=dict(seq.attributes))
