"""Readers of still-image datasets (training only): COCO ``instances_*.json`` and the generic
``annotations.json``. Each box becomes a one-frame :class:`~dcffnet.data.Sequence` with
``is_video=False``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .sequence import Sequence

__all__ = ["read_coco", "read_annotated_images"]


def read_coco(annotation_file: str | Path, image_dir: str | Path | None = None, min_size: float = 4.0) -> list[Sequence]:
    """COCO detection annotations: one single-frame sequence per non-crowd object at least ``min_size``
    pixels on each side. ``image_dir`` defaults to ``<root>/<split>`` next to ``annotations/``
    (``instances_train2017.json`` -> ``train2017/``)."""
    ann = Path(annotation_file)
    if not ann.is_file():
        raise FileNotFoundError(f"COCO annotation file not found: {ann}")
    if image_dir is None:
        split = ann.stem.split("_", 1)[-1]
        image_dir = ann.parent.parent / split
    image_dir = Path(image_dir)
    data = json.loads(ann.read_text())
    files = {img["id"]: image_dir / img["file_name"] for img in data["images"]}
    tracks = []
    for obj in data["annotations"]:
        if obj.get("iscrowd", 0):
            continue
        x, y, w, h = obj["bbox"]
        if w < min_size or h < min_size or obj["image_id"] not in files:
            continue
        tracks.append(Sequence(f"{obj['image_id']}/{obj['id']}", [files[obj["image_id"]]],
                               np.array([[x, y, w, h]]), dataset="coco", is_video=False))
    return tracks


def read_annotated_images(root: str | Path, annotation_file: str = "annotations.json",
                          min_size: float = 4.0) -> list[Sequence]:
    """Generic still images: ``<root>/annotations.json`` =
    ``{"images": [{"file": rel/path.jpg, "boxes": [[x, y, w, h], ...], "labels": [...]}, ...]}``
    (0-based pixels, paths relative to ``root``); one single-frame sequence per box."""
    root = Path(root)
    path = root / annotation_file
    if not path.is_file():
        raise FileNotFoundError(f"annotation file not found: {path}")
    data = json.loads(path.read_text())
    tracks = []
    for i, image in enumerate(data.get("images", [])):
        for j, box in enumerate(image.get("boxes", [])):
            if len(box) != 4 or box[2] < min_size or box[3] < min_size:
                continue
            tracks.append(Sequence(f"{i}/{j}", [root / image["file"]], np.array([box]), dataset=root.name,
                                   is_video=False))
    return tracks
