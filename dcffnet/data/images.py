"""Readers of still-image datasets (training only): COCO ``instances_*.json`` and the generic
``annotations.json``. Each box becomes a one-frame :class:`~dcffnet.data.Sequence` with
``is_video=False``."""

from __future__ import annotations

import json
import os
from collections.abc import Hashable
from pathlib import Path

import numpy as np

from ..errors import DatasetError
from ..fields import check_path, short_repr
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
    ann = check_path(annotation_file, "annotation_file")
    if not os.path.isfile(ann):  # False, not OSError, for a name too long to look up
        raise FileNotFoundError(f"COCO annotation file not found: {ann}")
    if image_dir is None:
        split = ann.stem.split("_", 1)[-1]
        image_dir = ann.parent.parent / split
    image_dir = check_path(image_dir, "image_dir")
    data = _read_json(ann, {"images": list, "annotations": list})
    files = {}
    for i, img in enumerate(data["images"]):
        if not (isinstance(img, dict) and isinstance(img.get("id"), Hashable)
                and isinstance(img.get("file_name"), str)):
            raise DatasetError(f"{ann}: images[{i}] must be a mapping with an 'id' and a 'file_name' (str), "
                               f"got {short_repr(img)}")
        files[img["id"]] = image_dir / img["file_name"]
    rep = report if report is not None else ReadReport(str(ann))
    for i, obj in enumerate(data["annotations"]):
        if not isinstance(obj, dict):
            rep.skip(f"annotations[{i}]", f"not a mapping: {short_repr(obj)}")
            continue
        if obj.get("iscrowd", 0):
            continue
        name = f"{obj.get('image_id')}/{obj.get('id')}"
        box = _box_or_none(obj.get("bbox"))
        if box is None:
            rep.skip(name, f"bbox {obj.get('bbox')!r} is not [x, y, w, h]")
        elif not isinstance(obj.get("image_id"), Hashable) or obj.get("image_id") not in files:
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


def _read_json(path: Path, lists: dict[str, type]) -> dict:
    """The JSON mapping in ``path``, with a ``list`` under each key of ``lists``.

    Raises:
        DatasetError: unreadable, not UTF-8, not JSON, not a mapping or a key missing or of another
            type, naming the file.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise DatasetError(f"{path}: not a readable JSON file ({short_repr(str(exc))})") from None
    if not isinstance(data, dict):
        raise DatasetError(f"{path}: must hold a JSON mapping, got {type(data).__name__}")
    for key, kind in lists.items():
        if not isinstance(data.get(key), kind):
            raise DatasetError(f"{path}: '{key}' must be a {kind.__name__}, got {short_repr(data.get(key))}")
    return data


def read_annotated_images(root: str | Path, annotation_file: str = "annotations.json",
                          min_size: float = 4.0, *, report: ReadReport | None = None) -> list[Sequence]:
    """Generic still images: ``<root>/annotations.json`` =
    ``{"images": [{"file": rel/path.jpg, "boxes": [[x, y, w, h], ...], "labels": [...]}, ...]}``
    (0-based pixels, paths relative to ``root``); one single-frame sequence per box at least
    ``min_size`` pixels on each side. A box that is not 4 numbers, or an entry without ``file``, is
    skipped and recorded in ``report`` (see :mod:`dcffnet.data.report`; without one, a warning)."""
    root = check_path(root, "root")
    path = root / annotation_file
    if not os.path.isfile(path):  # False, not OSError, for a name too long to look up
        raise FileNotFoundError(f"annotation file not found: {path}")
    data = _read_json(path, {})
    rep = report if report is not None else ReadReport(str(root))
    images = data.get("images", [])
    if not isinstance(images, list):
        raise DatasetError(f"{path}: 'images' must be a list, got {short_repr(images)}")
    for i, image in enumerate(images):
        boxes = image.get("boxes", []) if isinstance(image, dict) else None
        if not isinstance(boxes, list):
            rep.skip(f"{i}", f"image entry {short_repr(image)} is not a mapping with a list of 'boxes'")
            continue
        for j, raw in enumerate(boxes):
            box = _box_or_none(raw)
            if box is None:
                rep.skip(f"{i}/{j}", f"box {raw!r} of image {image.get('file')!r} is not [x, y, w, h]")
            elif not isinstance(image.get("file"), str) or not image.get("file"):
                rep.skip(f"{i}/{j}", "the image entry has no 'file' (a path relative to the root)")
            elif box[2] >= min_size and box[3] >= min_size:
                rep.add(Sequence(f"{i}/{j}", [root / image["file"]], np.array([box]), dataset=root.name,
                                 is_video=False))
    return rep.finish(warn=report is None)
