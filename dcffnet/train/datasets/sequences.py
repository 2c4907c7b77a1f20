"""Readers for video datasets: the generic folder format, GOT-10k, LaSOT, UAV123, ImageNet VID."""

from __future__ import annotations

import re
import warnings
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

import numpy as np

from ...data import keep_names, list_images, read_box_file, read_flags, sequence_frames, sequence_names
from .base import Track

__all__ = ["read_folder", "read_got10k", "read_lasot", "read_uav123", "read_imagenet_vid"]


def _track_from_folder(seq: Path, name: str, frames_subdir: str = "img") -> Track | None:
    frames = sequence_frames(seq, frames_subdir)
    boxes = read_box_file(seq / "groundtruth.txt")
    if not frames or not len(boxes):
        return None
    n = min(len(frames), len(boxes))
    if len(frames) != len(boxes):
        warnings.warn(f"{seq}: {len(frames)} frames but {len(boxes)} boxes; using the first {n}")
    boxes = boxes[:n].copy()
    for label, absent_value in (("absence.label", 1), ("full_occlusion.txt", 1), ("out_of_view.txt", 1)):
        flags = read_flags(seq / label)
        if flags is not None:
            boxes[np.flatnonzero(flags[:n] == absent_value)] = np.nan
    cover = read_flags(seq / "cover.label")
    if cover is not None:
        boxes[np.flatnonzero(cover[:n] == 0)] = np.nan
    return Track(name, frames[:n], boxes)


def read_folder(root: str | Path, split_file: str | Path | None = None) -> list[Track]:
    """Generic folder-of-sequences: every folder below ``root`` holding ``groundtruth.txt`` (one
    ``x,y,w,h`` per frame, 0-based pixels, ``nan`` when absent) and its frames in ``img/``, beside
    the file, or as a video file (``video.mp4``, decoded once into the frame cache, see
    :func:`dcffnet.data.sequence_frames`). Optional ``absence.label`` (1 = absent) is honoured.
    ``split_file`` lists the sequence folder names to keep."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"dataset root not found: {root}")
    tracks = []
    seq_dirs = sorted(p.parent for p in root.rglob("groundtruth.txt"))
    keep = keep_names((s.name for s in seq_dirs), split_file)
    for seq in seq_dirs:
        if keep is not None and seq.name not in keep:
            continue
        track = _track_from_folder(seq, f"{root.name}/{seq.relative_to(root).as_posix()}")
        if track is not None:
            tracks.append(track)
    return tracks


def read_got10k(root: str | Path, split_file: str | Path | None = None) -> list[Track]:
    """GOT-10k split folder (``train/`` or ``val/``): ``<seq>/00000001.jpg ...``, ``groundtruth.txt``,
    ``absence.label`` (1 = absent) and ``cover.label`` (0 = fully occluded) mark unusable frames.
    Uses ``list.txt`` when present, else every sequence folder."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"GOT-10k root not found: {root}")
    names = sequence_names(root)
    keep = keep_names(names, split_file)
    tracks = []
    for name in names:
        if keep is not None and name not in keep:
            continue
        track = _track_from_folder(root / name, f"got10k/{name}", "")
        if track is not None:
            tracks.append(track)
    return tracks


def read_lasot(root: str | Path, split_file: str | Path | None = None) -> list[Track]:
    """LaSOT: ``<class>/<class>-<n>/img/*.jpg`` with ``groundtruth.txt``, ``full_occlusion.txt`` and
    ``out_of_view.txt`` (comma-separated flags, 1 = unusable). ``split_file`` (e.g. the official
    training list) selects sequences by name such as ``airplane-1``."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"LaSOT root not found: {root}")
    seqs = sorted(p.parent for p in root.glob("*/*/groundtruth.txt"))
    keep = keep_names((s.name for s in seqs), split_file)
    tracks = []
    for seq in seqs:
        if keep is not None and seq.name not in keep:
            continue
        track = _track_from_folder(seq, f"lasot/{seq.name}")
        if track is not None:
            tracks.append(track)
    return tracks


def read_uav123(root: str | Path, split_file: str | Path | None = None, subset: str = "UAV123") -> list[Track]:
    """UAV123: ``data_seq/<subset>/<seq>/*.jpg`` and ``anno/<subset>/<seq>.txt`` (NaN rows = absent).

    Annotation files of split sequences (``bird1_1.txt`` ...) whose frame ranges live only in the
    official toolkit's configuration are skipped with a warning.
    """
    root = Path(root)
    anno_dir, data_dir = root / "anno" / subset, root / "data_seq" / subset
    if not anno_dir.is_dir() or not data_dir.is_dir():
        raise FileNotFoundError(f"UAV123 layout not found under {root} (anno/{subset}, data_seq/{subset})")
    files = sorted(anno_dir.glob("*.txt"))
    keep = keep_names((f.stem for f in files), split_file)
    tracks, skipped = [], []
    for anno in files:
        if keep is not None and anno.stem not in keep:
            continue
        folder = data_dir / anno.stem
        if not folder.is_dir():
            skipped.append(anno.stem)
            continue
        frames, boxes = list_images(folder), read_box_file(anno)
        n = min(len(frames), len(boxes))
        if n:
            tracks.append(Track(f"uav123/{anno.stem}", frames[:n], boxes[:n]))
    if skipped:
        warnings.warn(f"UAV123: skipped {len(skipped)} split sequences without their own frame folder "
                      f"(e.g. {skipped[0]})")
    return tracks


def read_imagenet_vid(root: str | Path, subset: str = "train", split_file: str | Path | None = None) -> list[Track]:
    """ImageNet VID (ILSVRC2015): ``Annotations/VID/<subset>/**/<snippet>/*.xml`` and
    ``Data/VID/<subset>/**/<snippet>/*.JPEG``. One track per (snippet, ``trackid``); frames where the
    object is not annotated get NaN boxes. Boxes are ``(xmin, ymin, xmax - xmin, ymax - ymin)``."""
    root = Path(root)
    ann_root, data_root = root / "Annotations" / "VID" / subset, root / "Data" / "VID" / subset
    if not ann_root.is_dir():
        raise FileNotFoundError(f"ImageNet VID annotations not found: {ann_root}")
    snippets = sorted({p.parent for p in ann_root.rglob("*.xml")})
    keep = keep_names((s.name for s in snippets), split_file)
    tracks = []
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
            tracks.append(Track(f"vid/{rel.as_posix()}/{tid}", frames, boxes))
    return tracks
