"""Readers of still-image datasets (training only): COCO ``instances_*.json`` and the generic
``annotations.json``. Each box becomes a one-frame :class:`~dcffnet.data.Sequence` with
``is_video=False``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .report import ReadReport
from .sequence import Sequence

__all__ = ["read_coco", "read_annotated_images"]


def read_coco(annotation_file: str | Path, image_dir: str | Path | None = None, min_size: float = 4.0, *,
              report: ReadReport | None = None) -> list[Sequence]:
    """COCO detection annotations: one single-frame sequence per non-crowd object at least ``min_size``
    pixels on each side. ``image_dir`` defaults to ``<root>/<split>`` next to ``annotations/``
    (``instances_train2017.json`` -> ``train2017/``). An object whose box is not 4 numbers or whose
    image is not listed is skipped and recorded in ``report`` (see :mod:`dcffnet.data.report`;
    without one, a warning says so); crowd and small objects are left out as asked, unreported."""
    ann = Path(annotation_file)
    if not ann.is_file():
        raise FileNotFoundError(f"COCO annotation file not found: {ann}")
    if image_dir is None:
        split = ann.stem.split("_", 1)[-1]
        image_dir = ann.parent.parent / split
    image_dir = Path(image_dir)
    data = json.loads(ann.read_text())
    files = {img["id"]: image_dir / img["file_name"] for img in data["images"]}
    rep = report if report is not None else ReadReport(str(ann))
    for obj in data["annotations"]:
        if obj.get("iscrowd", 0):
            continue
        name = f"{obj.get('image_id')}/{obj.get('id')}"
        box = _box_or_none(obj.get("bbox"))
        if box is None:
            rep.skip(name, f"bbox {obj.get('bbox')!r} is not [x, y, w, h]")
        elif obj.get("image_id") not in files:
            rep.skip(name, f"image_id {obj.get('image_id')!r} is not in the file's images")
        elif box[2] >= min_size and box[3] >= min_size:
            rep.add(Sequence(name, [files[obj["image_id"]]], np.array([box]), dataset="coco", is_video=False))
    return rep.finish(warn=report is None)


def _box_or_none(box: object) -> list[float] | None:
    """``box`` as 4 finite floats, or ``None`` when it is not that."""
    if not isinstance(box, (list, tuple)) or len(box) != 4:
        return None
    try:
        values = [float(v) for v in box]
    except (TypeError, ValueError):
        return None
    return values if np.isfinite(values).all() else None


def read_annotated_images(root: str | Path, annotation_file: str = "annotations.json",
                          min_size: float = 4.0, *, report: ReadReport | None = None) -> list[Sequence]:
    """Generic still images: ``<root>/annotations.json`` =
    ``{"images": [{"file": rel/path.jpg, "boxes": [[x, y, w, h], ...], "labels": [...]}, ...]}``
    (0-based pixels, paths relative to ``root``); one single-frame sequence per box at least
    ``min_size`` pixels on each side. A box that is not 4 numbers, or an entry without ``file``, is
    skipped and recorded in ``report`` (see :mod:`dcffnet.data.report`; without one, a warning)."""
    root = Path(root)
    path = root / annotation_file
    if not path.is_file():
        raise FileNotFoundError(f"annotation file not found: {path}")
    data = json.loads(path.read_text())
    rep = report if report is not None else ReadReport(str(root))
    for i, image in enumerate(data.get("images", [])):
        for j, raw in enumerate(image.get("boxes", [])):
            box = _box_or_none(raw)
            if box is None:
                rep.skip(f"{i}/{j}", f"box {raw!r} of image {image.get('file')!r} is not [x, y, w, h]")
            elif not image.get("file"):
                rep.skip(f"{i}/{j}", "the image entry has no 'file'")
            elif box[2] >= min_size and box[3] >= min_size:
                rep.add(Sequence(f"{i}/{j}", [root / image["file"]], np.array([box]), dataset=root.name,
                                 is_video=False))
    return rep.finish(warn=report is None)
