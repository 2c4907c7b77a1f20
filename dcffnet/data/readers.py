"""Readers of video datasets and benchmarks, shared by training and evaluation.

Every reader returns :class:`~dcffnet.data.Sequence` records whose boxes are ``(x, y, w, h)`` in
0-based continuous pixels (1-based layouts are converted here, once), with NaN rows where the
target is absent, fully occluded, out of view or unannotated. Training (``dcffnet train``'s
``data.datasets``) and evaluation (``dcffnet eval --format``) call the same functions, so the same
sequence gives the same boxes in both.

Layouts: the generic folder format (frames or ``video.mp4`` + ``groundtruth.txt``), OTB, VOT,
LaSOT, GOT-10k, UAV123 and ImageNet VID.

Every reader takes ``report=`` (:class:`~dcffnet.data.report.ReadReport`): a sequence that cannot be
read (empty ground truth, no frames, unreadable files, a split file naming a missing sequence, a
broken link) is recorded there by name with its reason and reading goes on, or, with a strict
report, reading stops with :class:`~dcffnet.errors.DatasetError`. Without ``report=`` the reader
warns with the summary instead. Sequence folders reached through symbolic links are read (see
:mod:`dcffnet.data.folders`); frames are listed in natural order (:func:`dcffnet.data.natural_key`).
"""


from __future__ import annotations

import json
import os
import re
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path
from typing import Callable

import numpy as np

from ..fields import check_path
from .boxes import polygon_to_box, read_box_file, read_flags
from .folders import FolderScan, find_folders, listed_folders
from .frames import keep_names, list_images, natural_key, sequence_frames
from .report import ReadReport
from .sequence import Sequence

__all__ = ["read_folder", "read_otb", "read_vot", "read_lasot", "read_got10k", "read_uav123", "read_imagenet_vid",
           "polygon_to_box"]

#: what reading one sequence may raise when its files are bad (reported, then reading goes on)
_READ_ERRORS = (OSError, ValueError, ET.ParseError)


def _require_dir(root: str | Path, what: str) -> Path:
    """``root`` as a ``Path`` to an existing folder.

    Raises:
        TypeError / ValueError: ``root`` is not a path (:func:`dcffnet.fields.check_path`).
        FileNotFoundError: no such folder (also for a name the system cannot look up: too long, a NUL).
    """
    root = check_path(root, "root")
    if not os.path.isdir(root):  # False, not OSError, for a name too long to look up
        raise FileNotFoundError(f"{what} root not found: {root}")
    return root


def _start(report: ReadReport | None, root: str | Path) -> ReadReport:
    """The report to record into: the caller's, or a fresh one (the reader then warns at the end)."""
    return report if report is not None else ReadReport(str(root))


def _collect(report: ReadReport, name: str, read: Callable[[], list[Sequence]]) -> None:
    """Record the sequences ``read()`` returns, or skip ``name`` with the reason it failed."""
    try:
        seqs = read()
    except _READ_ERRORS as err:
        report.skip(name, str(err) or type(err).__name__)
        return
    for seq in seqs:
        report.add(seq)


def _note_scan(report: ReadReport, scan: FolderScan) -> None:
    """Record what the folder walk could not reach or met twice."""
    for name, first in scan.duplicates:
        report.skip(name, f"the same folder as {first!r}, reached again through a symbolic link: read once",
                    fatal=False)
    for name, reason in scan.unreachable:
        report.skip(name, reason)


def _keep(report: ReadReport, names: list[str], split_file: str | Path | None) -> set[str] | None:
    """The names ``split_file`` keeps (``None``: all); names it lists that are not there are skipped."""
    keep = keep_names(names, split_file)
    if keep is not None:
        wanted = {line.strip() for line in Path(split_file).read_text().splitlines() if line.strip()}
        for name in sorted(wanted - keep, key=natural_key):
            report.skip(name, f"listed in {split_file} but not found under {report.root}")
    return keep


def _require_content(frames: list[Path], boxes: np.ndarray, gt_file: Path, frames_where: str) -> None:
    if not len(boxes):
        raise ValueError(f"ground truth {gt_file} holds no boxes")
    if not frames:
        raise ValueError(f"no frames ({frames_where})")


def _mark_absent(boxes: np.ndarray, folder: Path, labels: tuple[str, ...]) -> np.ndarray:
    """NaN the rows flagged 1 in any of the per-frame label files ``labels`` present in ``folder``."""
    for label in labels:
        flags = read_flags(folder / label)
        if flags is not None:
            boxes[np.flatnonzero(flags[: len(boxes)] == 1)] = np.nan
    return boxes


def _marked(marker: str) -> Callable[[set[str], set[str]], bool]:
    return lambda files, dirs: marker in files


def read_folder(root: str | Path, split_file: str | Path | None = None, *,
                report: ReadReport | None = None) -> list[Sequence]:
    """Generic folder-of-sequences: every folder below ``root`` holding ``groundtruth.txt`` (one
    ``x,y,w,h`` per frame, ``nan`` rows where the target is absent; polygon lines become their
    bounding box), with its frames in ``img/``, beside the file, or as a video file (``video.mp4``,
    decoded once into the frame cache, see :func:`dcffnet.data.sequence_frames`). Folders reached
    through symbolic links count. Honoured when present: ``meta.json`` (kept in ``attributes``;
    ``"box_convention": "1-based"`` converts the boxes) and ``absence.label`` (1 = absent). Names are
    paths relative to ``root`` (``Bolt``, ``otb/Bolt``); ``split_file`` lists the sequence folder
    names to keep. ``report``: see the module docstring."""
    root = _require_dir(root, "dataset")
    rep = _start(report, root)
    scan = find_folders(root, _marked("groundtruth.txt"))
    _note_scan(rep, scan)
    keep = _keep(rep, [folder.name for _, folder in scan.folders], split_file)
    for name, folder in scan.folders:
        if keep is None or folder.name in keep:
            _collect(rep, name, lambda name=name, folder=folder: [_folder_sequence(root, name, folder)])
    return rep.finish(warn=report is None)


def _folder_sequence(root: Path, name: str, folder: Path) -> Sequence:
    boxes = read_box_file(folder / "groundtruth.txt")
    if not len(boxes):
        raise ValueError(f"ground truth {folder / 'groundtruth.txt'} holds no boxes")
    frames = sequence_frames(folder)
    _require_content(frames, boxes, folder / "groundtruth.txt",
                     "no images in img/ or beside groundtruth.txt, and no video file")
    meta_file = folder / "meta.json"
    meta = json.loads(meta_file.read_text()) if meta_file.is_file() else {}
    if "1-based" in str(meta.get("box_convention", "")).lower():
        boxes[:, :2] -= 1.0
    _mark_absent(boxes, folder, ("absence.label",))
    return Sequence.shortest(name, frames, boxes, where=str(folder), dataset=root.name, attributes=meta)


# OTB-100 sequences whose annotation does not start at the first image (the OTB toolkit's start and
# end frames, 1-based image numbers). Sequences with more images than boxes are cut to the boxes.
_OTB_RANGES = {"David": (300, 770), "Tiger1": (6, 354), "BlurCar1": (247, 988), "BlurCar3": (3, 359),
               "BlurCar4": (18, 397)}
_OTB_GT = re.compile(r"groundtruth_rect(?:\.(\d+))?\.txt$")


def read_otb(root: str | Path, *, report: ReadReport | None = None) -> list[Sequence]:
    """OTB-2013/2015 layout: ``<Seq>/img/*.jpg`` and ``groundtruth_rect.txt`` (1-based pixels);
    two-target sequences have ``groundtruth_rect.1.txt``/``.2.txt`` and become ``Seq-1``/``Seq-2``.
    Known odd frame ranges (David from 300, Tiger1 from 6, BlurCar1/3/4, ...) are applied. A folder
    with ``img/`` but no ground truth, or a ground truth but no ``img/``, is reported."""
    root = _require_dir(root, "OTB")
    rep = _start(report, root)
    scan = find_folders(root, lambda files, dirs: "img" in dirs or any(_OTB_GT.match(f) for f in files), depth=1)
    _note_scan(rep, scan)
    for name, folder in scan.folders:
        files = sorted((p for p in folder.iterdir() if _OTB_GT.match(p.name)), key=lambda p: natural_key(p.name))
        if not files:
            rep.skip(name, f"{folder / 'img'} holds frames but there is no groundtruth_rect*.txt")
            continue
        for file in files:
            suffix = _OTB_GT.match(file.name).group(1)
            _collect(rep, f"{name}-{suffix}" if suffix else name,
                     lambda name=name, folder=folder, file=file, suffix=suffix:
                         [_otb_sequence(name, folder, file, suffix)])
    return rep.finish(warn=report is None)


def _otb_sequence(name: str, folder: Path, file: Path, suffix: str | None) -> Sequence:
    boxes = read_box_file(file)
    boxes[:, :2] -= 1.0  # 1-based -> 0-based
    frames = list_images(folder / "img") if (folder / "img").is_dir() else []
    if name in _OTB_RANGES:
        first, last = _OTB_RANGES[name]
        frames = [f for f in frames if first <= int(re.sub(r"\D", "", f.stem) or 0) <= last]
    _require_content(frames, boxes, file, f"no images in {folder / 'img'}")
    return Sequence.shortest(f"{name}-{suffix}" if suffix else name, frames, boxes, where=str(file), dataset="otb")


def read_vot(root: str | Path, *, report: ReadReport | None = None) -> list[Sequence]:
    """VOT short-term layout: ``list.txt``, ``<seq>/groundtruth.txt`` with polygons (or rectangles),
    frames in ``<seq>/color/`` or beside the file. Polygons are kept for overlaps; ``boxes`` holds
    the area-preserving axis-aligned boxes. Names in ``list.txt`` without their folder are reported."""
    root = _require_dir(root, "VOT")
    rep = _start(report, root)
    scan = listed_folders(root, "groundtruth.txt")
    _note_scan(rep, scan)
    for name, folder in scan.folders:
        _collect(rep, name, lambda name=name, folder=folder: [_vot_sequence(name, folder)])
    return rep.finish(warn=report is None)


def _vot_sequence(name: str, folder: Path) -> Sequence:
    gt_file = folder / "groundtruth.txt"
    lines = gt_file.read_text().splitlines()
    while lines and not lines[-1].strip():  # line i is frame i: only trailing blank lines are dropped
        lines.pop()
    rows = [[float(v) for v in re.split(r"[,\s]+", line.strip()) if v] for line in lines]
    frames_dir = folder / "color" if (folder / "color").is_dir() else folder
    frames = list_images(frames_dir)
    _require_content(frames, np.zeros((len(rows), 4)), gt_file, f"no images in {frames_dir}")
    width = max(4, max(len(r) for r in rows))
    polygons = np.array([r + [np.nan] * (width - len(r)) for r in rows])
    boxes = np.array([polygon_to_box(p[np.isfinite(p)]) if np.isfinite(p).sum() >= 4 else [np.nan] * 4
                      for p in polygons])
    return Sequence.shortest(name, frames, boxes, where=str(folder), dataset="vot", polygons=polygons)


def read_lasot(root: str | Path, split_file: str | Path | None = None, *,
               report: ReadReport | None = None) -> list[Sequence]:
    """LaSOT: ``<class>/<class>-<n>/img/*.jpg`` with ``groundtruth.txt`` (1-based pixels, converted),
    ``full_occlusion.txt`` and ``out_of_view.txt`` (comma-separated flags, 1 = absent). ``split_file``
    (e.g. the official training or testing list) selects sequences by name such as ``airplane-1``;
    the names it lists that are not there are reported."""
    root = _require_dir(root, "LaSOT")
    rep = _start(report, root)
    scan = find_folders(root, _marked("groundtruth.txt"), depth=2)
    _note_scan(rep, scan)
    keep = _keep(rep, [folder.name for _, folder in scan.folders], split_file)
    for _, folder in scan.folders:
        if keep is None or folder.name in keep:
            _collect(rep, folder.name, lambda folder=folder: [_lasot_sequence(folder)])
    return rep.finish(warn=report is None)


def _lasot_sequence(folder: Path) -> Sequence:
    boxes = read_box_file(folder / "groundtruth.txt")
    boxes[:, :2] -= 1.0  # 1-based -> 0-based
    _mark_absent(boxes, folder, ("full_occlusion.txt", "out_of_view.txt"))
    frames = list_images(folder / "img") if (folder / "img").is_dir() else []
    _require_content(frames, boxes, folder / "groundtruth.txt", f"no images in {folder / 'img'}")
    return Sequence.shortest(folder.name, frames, boxes, where=str(folder), dataset="lasot")


def read_got10k(root: str | Path, split_file: str | Path | None = None, *,
                report: ReadReport | None = None) -> list[Sequence]:
    """GOT-10k split folder (``train/`` or ``val/``): ``<seq>/00000001.jpg ...``, ``groundtruth.txt``
    (0-based), ``absence.label`` (1 = absent, made NaN) and ``cover.label`` (kept in
    ``Sequence.cover``: 0 = fully occluded, excluded from :attr:`Sequence.valid`, scored by AO/SR).
    Uses ``list.txt`` when present, else every sequence folder; listed names that are missing are
    reported."""
    root = _require_dir(root, "GOT-10k")
    rep = _start(report, root)
    scan = listed_folders(root, "groundtruth.txt")
    _note_scan(rep, scan)
    keep = _keep(rep, [name for name, _ in scan.folders], split_file)
    for name, folder in scan.folders:
        if keep is None or name in keep:
            _collect(rep, name, lambda name=name, folder=folder: [_got10k_sequence(name, folder)])
    return rep.finish(warn=report is None)


def _got10k_sequence(name: str, folder: Path) -> Sequence:
    boxes = _mark_absent(read_box_file(folder / "groundtruth.txt"), folder, ("absence.label",))
    frames = list_images(folder)
    _require_content(frames, boxes, folder / "groundtruth.txt", f"no images in {folder}")
    return Sequence.shortest(name, frames, boxes, where=str(folder), dataset="got10k",
                             cover=read_flags(folder / "cover.label"))


def read_uav123(root: str | Path, split_file: str | Path | None = None, subset: str = "UAV123", *,
                report: ReadReport | None = None) -> list[Sequence]:
    """UAV123: ``data_seq/<subset>/<seq>/*.jpg`` and ``anno/<subset>/<seq>.txt`` (1-based pixels,
    converted; NaN rows = absent).

    Annotation files of split sequences (``bird1_1.txt`` ...) whose frame ranges live only in the
    official toolkit's configuration are skipped and reported (not an error when reading strictly:
    a documented limit of this reader); any other annotation file without its frame folder is.
    """
    root = check_path(root, "root")
    anno_dir, data_dir = root / "anno" / subset, root / "data_seq" / subset
    if not os.path.isdir(anno_dir) or not os.path.isdir(data_dir):
        raise FileNotFoundError(f"UAV123 layout not found under {root} (anno/{subset}, data_seq/{subset})")
    rep = _start(report, root)
    files = sorted(anno_dir.glob("*.txt"))
    keep = _keep(rep, [f.stem for f in files], split_file)
    for anno in files:
        if keep is not None and anno.stem not in keep:
            continue
        folder = data_dir / anno.stem
        whole = re.fullmatch(r"(.+)_\d+", anno.stem)
        if not folder.is_dir() and whole:
            rep.skip(anno.stem, f"one of the split sequences of {whole.group(1)} (no frame folder of its own): "
                                "their frame ranges live only in the UAV123 toolkit's configuration", fatal=False)
            continue
        _collect(rep, anno.stem, lambda anno=anno, folder=folder: [_uav_sequence(anno, folder)])
    return rep.finish(warn=report is None)


def _uav_sequence(anno: Path, folder: Path) -> Sequence:
    boxes = read_box_file(anno)
    boxes[:, :2] -= 1.0  # 1-based -> 0-based
    frames = list_images(folder) if folder.is_dir() else []
    _require_content(frames, boxes, anno, f"no images in {folder}")
    return Sequence.shortest(anno.stem, frames, boxes, where=str(anno), dataset="uav123")


def read_imagenet_vid(root: str | Path, subset: str = "train", split_file: str | Path | None = None, *,
                      report: ReadReport | None = None) -> list[Sequence]:
    """ImageNet VID (ILSVRC2015): ``Annotations/VID/<subset>/**/<snippet>/*.xml`` and
    ``Data/VID/<subset>/**/<snippet>/*.JPEG``. One sequence per (snippet, ``trackid``), named
    ``<snippet path>/<trackid>``; frames where the object is not annotated get NaN boxes. Boxes are
    ``(xmin, ymin, xmax - xmin, ymax - ymin)``. A snippet with an unreadable XML file is reported."""
    root = check_path(root, "root")
    ann_root, data_root = root / "Annotations" / "VID" / subset, root / "Data" / "VID" / subset
    if not os.path.isdir(ann_root):
        raise FileNotFoundError(f"ImageNet VID annotations not found: {ann_root}")
    rep = _start(report, root)
    scan = find_folders(ann_root, lambda files, dirs: any(f.lower().endswith(".xml") for f in files))
    _note_scan(rep, scan)
    keep = _keep(rep, [folder.name for _, folder in scan.folders], split_file)
    for name, snippet in scan.folders:
        if keep is None or snippet.name in keep:
            _collect(rep, name, lambda name=name, snippet=snippet: _vid_tracks(name, snippet, data_root / name))
    return rep.finish(warn=report is None)


def _vid_tracks(name: str, snippet: Path, data_dir: Path) -> list[Sequence]:
    xmls = sorted(snippet.glob("*.xml"), key=lambda p: natural_key(p.name))
    frames = [data_dir / (x.stem + ".JPEG") for x in xmls]
    per_track: dict[str, np.ndarray] = defaultdict(lambda: np.full((len(xmls), 4), np.nan))
    for i, xml in enumerate(xmls):
        for obj in ET.parse(xml).getroot().iter("object"):
            tid = obj.findtext("trackid", "0")
            bb = obj.find("bndbox")
            if bb is None:
                continue
            x1, y1, x2, y2 = (float(bb.findtext(k, "nan")) for k in ("xmin", "ymin", "xmax", "ymax"))
            per_track[tid][i] = (x1, y1, x2 - x1, y2 - y1)
    return [Sequence(f"{name}/{tid}", frames, boxes, dataset="vid")
            for tid, boxes in sorted(per_track.items(), key=lambda kv: int(re.sub(r"\D", "", kv[0]) or 0))]
