"""Readers of video datasets and benchmarks, shared by training and evaluation.

Every reader returns :class:`~dcffnet.data.Sequence` records whose boxes are ``(x, y, w, h)`` in
0-based continuous pixels (1-based layouts are converted here, once), with NaN rows where the
target is absent, fully occluded, out of view or unannotated. Training (``dcffnet train``'s
``data.datasets``) and evaluation (``dcffnet eval --format``) call the same functions, so the same
sequence gives the same boxes in both.

Layouts: the generic folder format (frames or ``video.mp4`` + ``groundtruth.txt``), OTB, VOT,
LaSOT, GOT-10k, UAV123 and ImageNet VID.
"""

from __future__ import annotations

import json
import re
import warnings
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

import numpy as np

from .boxes import read_box_file, read_flags
from .frames import keep_names, list_images, sequence_frames, sequence_names
from .sequence import Sequence

__all__ = ["read_folder", "read_otb", "read_vot", "read_lasot", "read_got10k", "read_uav123", "read_imagenet_vid",
           "polygon_to_box"]


def _require_dir(root: str | Path, what: str) -> Path:
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"{what} root not found: {root}")
    return root


def _box_folders(root: Path, pattern: str, split_file: str | Path | None) -> list[Path]:
    """The folders holding a ``groundtruth.txt`` matched by ``pattern`` below ``root``, sorted, kept
    to the names ``split_file`` lists (all when it is ``None``)."""
    folders = sorted(p.parent for p in root.glob(pattern))
    keep = keep_names((f.name for f in folders), split_file)
    return [f for f in folders if keep is None or f.name in keep]


def _mark_absent(boxes: np.ndarray, folder: Path, labels: tuple[str, ...]) -> np.ndarray:
    """NaN the rows flagged 1 in any of the per-frame label files ``labels`` present in ``folder``."""
    for label in labels:
        flags = read_flags(folder / label)
        if flags is not None:
            boxes[np.flatnonzero(flags[: len(boxes)] == 1)] = np.nan
    return boxes


def read_folder(root: str | Path, split_file: str | Path | None = None) -> list[Sequence]:
    """Generic folder-of-sequences: every folder below ``root`` holding ``groundtruth.txt`` (one
    ``x,y,w,h`` per frame, ``nan`` rows where the target is absent), with its frames in ``img/``,
    beside the file, or as a video file (``video.mp4``, decoded once into the frame cache, see
    :func:`dcffnet.data.sequence_frames`). Honoured when present: ``meta.json`` (kept in
    ``attributes``; ``"box_convention": "1-based"`` converts the boxes) and ``absence.label``
    (1 = absent). Names are paths relative to ``root`` (``Bolt``, ``otb/Bolt``); ``split_file``
    lists the sequence folder names to keep."""
    root = _require_dir(root, "dataset")
    seqs = []
    for folder in _box_folders(root, "**/groundtruth.txt", split_file):
        boxes = read_box_file(folder / "groundtruth.txt")
        frames = sequence_frames(folder)
        if not frames or not len(boxes):
            continue
        meta_file = folder / "meta.json"
        meta = json.loads(meta_file.read_text()) if meta_file.is_file() else {}
        if "1-based" in str(meta.get("box_convention", "")).lower():
            boxes[:, :2] -= 1.0
        _mark_absent(boxes, folder, ("absence.label",))
        seqs.append(Sequence.shortest(folder.relative_to(root).as_posix(), frames, boxes, where=str(folder),
                                      dataset=root.name, attributes=meta))
    return seqs


# OTB-100 sequences whose annotation does not start at the first image (the OTB toolkit's start and
# end frames, 1-based image numbers). Sequences with more images than boxes are cut to the boxes.
_OTB_RANGES = {"David": (300, 770), "Tiger1": (6, 354), "BlurCar1": (247, 988), "BlurCar3": (3, 359),
               "BlurCar4": (18, 397)}


def read_otb(root: str | Path) -> list[Sequence]:
    """OTB-2013/2015 layout: ``<Seq>/img/*.jpg`` and ``groundtruth_rect.txt`` (1-based pixels);
    two-target sequences have ``groundtruth_rect.1.txt``/``.2.txt`` and become ``Seq-1``/``Seq-2``.
    Known odd frame ranges (David from 300, Tiger1 from 6, BlurCar1/3/4, ...) are applied."""
    root = _require_dir(root, "OTB")
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
            boxes = read_box_file(file)
            boxes[:, :2] -= 1.0  # 1-based -> 0-based
            seqs.append(Sequence.shortest(name, frames, boxes, where=str(file), dataset="otb"))
    return seqs


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


def read_vot(root: str | Path) -> list[Sequence]:
    """VOT short-term layout: ``list.txt``, ``<seq>/groundtruth.txt`` with polygons (or rectangles),
    frames in ``<seq>/color/`` or beside the file. Polygons are kept for overlaps; ``boxes`` holds
    the area-preserving axis-aligned boxes."""
    root = _require_dir(root, "VOT")
    seqs = []
    for name in sequence_names(root):
        folder = root / name
        frames_dir = folder / "color" if (folder / "color").is_dir() else folder
        rows = [[float(v) for v in re.split(r"[,\s]+", line.strip()) if v]
                for line in (folder / "groundtruth.txt").read_text().splitlines() if line.strip()]
        width = max(len(r) for r in rows)
        polygons = np.array([r + [np.nan] * (width - len(r)) for r in rows])
        boxes = np.array([polygon_to_box(p[np.isfinite(p)]) if np.isfinite(p).sum() >= 4 else [np.nan] * 4
                          for p in polygons])
        seqs.append(Sequence.shortest(name, list_images(frames_dir), boxes, where=str(folder), dataset="vot",
                                      polygons=polygons))
    return seqs


def read_lasot(root: str | Path, split_file: str | Path | None = None) -> list[Sequence]:
    """LaSOT: ``<class>/<class>-<n>/img/*.jpg`` with ``groundtruth.txt`` (1-based pixels, converted),
    ``full_occlusion.txt`` and ``out_of_view.txt`` (comma-separated flags, 1 = absent). ``split_file``
    (e.g. the official training or testing list) selects sequences by name such as ``airplane-1``."""
    root = _require_dir(root, "LaSOT")
    seqs = []
    for folder in _box_folders(root, "*/*/groundtruth.txt", split_file):
        boxes = read_box_file(folder / "groundtruth.txt")
        boxes[:, :2] -= 1.0  # 1-based -> 0-based
        _mark_absent(boxes, folder, ("full_occlusion.txt", "out_of_view.txt"))
        frames = list_images(folder / "img")
        if frames and len(boxes):
            seqs.append(Sequence.shortest(folder.name, frames, boxes, where=str(folder), dataset="lasot"))
    return seqs


def read_got10k(root: str | Path, split_file: str | Path | None = None) -> list[Sequence]:
    """GOT-10k split folder (``train/`` or ``val/``): ``<seq>/00000001.jpg ...``, ``groundtruth.txt``
    (0-based), ``absence.label`` (1 = absent, made NaN) and ``cover.label`` (kept in
    ``Sequence.cover``: 0 = fully occluded, excluded from :attr:`Sequence.valid`, scored by AO/SR).
    Uses ``list.txt`` when present, else every sequence folder."""
    root = _require_dir(root, "GOT-10k")
    names = sequence_names(root)
    keep = keep_names(names, split_file)
    seqs = []
    for name in names:
        if keep is not None and name not in keep:
            continue
        folder = root / name
        boxes = _mark_absent(read_box_file(folder / "groundtruth.txt"), folder, ("absence.label",))
        frames = list_images(folder)
        if frames and len(boxes):
            seqs.append(Sequence.shortest(name, frames, boxes, where=str(folder), dataset="got10k",
                                          cover=read_flags(folder / "cover.label")))
    return seqs


def read_uav123(root: str | Path, split_file: str | Path | None = None, subset: str = "UAV123") -> list[Sequence]:
    """UAV123: ``data_seq/<subset>/<seq>/*.jpg`` and ``anno/<subset>/<seq>.txt`` (1-based pixels,
    converted; NaN rows = absent).

    Annotation files of split sequences (``bird1_1.txt`` ...) whose frame ranges live only in the
    official toolkit's configuration are skipped with a warning.
    """
    root = Path(root)
    anno_dir, data_dir = root / "anno" / subset, root / "data_seq" / subset
    if not anno_dir.is_dir() or not data_dir.is_dir():
        raise FileNotFoundError(f"UAV123 layout not found under {root} (anno/{subset}, data_seq/{subset})")
    files = sorted(anno_dir.glob("*.txt"))
    keep = keep_names((f.stem for f in files), split_file)
    seqs, skipped = [], []
    for anno in files:
        if keep is not None and anno.stem not in keep:
            continue
        folder = data_dir / anno.stem
        if not folder.is_dir():
            skipped.append(anno.stem)
            continue
        frames, boxes = list_images(folder), read_box_file(anno)
        boxes[:, :2] -= 1.0  # 1-based -> 0-based
        if frames and len(boxes):
            seqs.append(Sequence.shortest(anno.stem, frames, boxes, where=str(anno), dataset="uav123"))
    if skipped:
        warnings.warn(f"UAV123: skipped {len(skipped)} split sequences without their own frame folder "
                      f"(e.g. {skipped[0]})")
    return seqs


def read_imagenet_vid(root: str | Path, subset: str = "train", split_file: str | Path | None = None) -> list[Sequence]:
    """ImageNet VID (ILSVRC2015): ``Annotations/VID/<subset>/**/<snippet>/*.xml`` and
    ``Data/VID/<subset>/**/<snippet>/*.JPEG``. One sequence per (snippet, ``trackid``), named
    ``<snippet path>/<trackid>``; frames where the object is not annotated get NaN boxes. Boxes are
    ``(xmin, ymin, xmax - xmin, ymax - ymin)``."""
    root = Path(root)
    ann_root, data_root = root / "Annotations" / "VID" / subset, root / "Data" / "VID" / subset
    if not ann_root.is_dir():
        raise FileNotFoundError(f"ImageNet VID annotations not found: {ann_root}")
    snippets = sorted({p.parent for p in ann_root.rglob("*.xml")})
    keep = keep_names((s.name for s in snippets), split_file)
    seqs = []
    for snippet in snippets:
        if keep is not None and snippet.name not in keep:
            continue
        xmls = sorted(snippet.glob("*.xml"))
        rel = snippet.relative_to(ann_root)
        frames = [data_root / rel / (x.stem + ".JPEG") for x in xmls]
        per_track: dict[str, np.ndarray] = defaultdict(lambda: np.full((len(xmls), 4), np.nan))
        for i, xml in enumerate(xmls):
            for obj in ET.parse(xml).getroot().iter("object"):
                tid = obj.findtext("trackid", "0")
                bb = obj.find("bndbox")
                if bb is None:
                    continue
                x1, y1, x2, y2 = (float(bb.findtext(k)) for k in ("xmin", "ymin", "xmax", "ymax"))
                per_track[tid][i] = (x1, y1, x2 - x1, y2 - y1)
        for tid, boxes in sorted(per_track.items(), key=lambda kv: int(re.sub(r"\D", "", kv[0]) or 0)):
            seqs.append(Sequence(f"{rel.as_posix()}/{tid}", frames, boxes, dataset="vid"))
    return seqs
