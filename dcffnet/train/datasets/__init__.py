"""Dataset readers: each turns a standard on-disk layout into a list of :class:`Track`."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from .base import Track, read_box_file
from .images import read_annotated_images, read_coco
from .sequences import read_folder, read_got10k, read_imagenet_vid, read_lasot, read_uav123

__all__ = ["Track", "READERS", "read_dataset", "read_box_file", "read_folder", "read_got10k", "read_lasot",
           "read_uav123", "read_imagenet_vid", "read_coco", "read_annotated_images"]

READERS: dict[str, Callable[..., list[Track]]] = {
    "folder": read_folder,
    "got10k": read_got10k,
    "lasot": read_lasot,
    "uav123": read_uav123,
    "imagenet_vid": read_imagenet_vid,
    "coco": read_coco,
    "images": read_annotated_images,
}


def read_dataset(format: str, root: str | Path, **options: Any) -> list[Track]:
    """Read the dataset at ``root`` in ``format`` (one of ``READERS``); ``options`` go to the reader.

    For ``coco``, ``root`` is the ``instances_*.json`` file.
    """
    if format not in READERS:
        raise ValueError(f"unknown dataset format {format!r}; available: {', '.join(sorted(READERS))}")
    tracks = READERS[format](root, **options)
    if not tracks:
        raise ValueError(f"dataset {root} ({format}) contains no usable tracks")
    return tracks
