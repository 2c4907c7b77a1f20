"""Reading data from disk, one stack for training, evaluation and the command line.

* ``sequence``: :class:`Sequence`, the one record every reader returns;
* ``readers``: video datasets and benchmarks (folder / video files, OTB, VOT, LaSOT, GOT-10k,
  UAV123, ImageNet VID), boxes converted to 0-based pixels once;
* ``images``: still-image sets (COCO, generic ``annotations.json``) for training;
* ``boxes``: box and flag files; ``frames``: a sequence's frames, as image files or a video file
  (decoded once into a local frame cache, see ``video_cache``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from .boxes import read_box_file, read_flags
from .frames import (IMAGE_SUFFIXES, VIDEO_SUFFIXES, keep_names, list_images, read_frame, sequence_frames,
                     sequence_names)
from .images import read_annotated_images, read_coco
from .readers import (polygon_to_box, read_folder, read_got10k, read_imagenet_vid, read_lasot, read_otb,
                      read_uav123, read_vot)
from .sequence import Sequence
from .video_cache import decode_video, frame_cache_root

__all__ = ["Sequence", "READERS", "read_dataset", "read_folder", "read_otb", "read_vot", "read_lasot", "read_got10k",
           "read_uav123", "read_imagenet_vid", "read_coco", "read_annotated_images", "polygon_to_box",
           "read_box_file", "read_flags", "read_frame", "IMAGE_SUFFIXES", "VIDEO_SUFFIXES", "list_images", "sequence_frames",
           "sequence_names", "keep_names", "decode_video", "frame_cache_root"]

READERS: dict[str, Callable[..., list[Sequence]]] = {
    "folder": read_folder,
    "otb": read_otb,
    "vot": read_vot,
    "lasot": read_lasot,
    "got10k": read_got10k,
    "uav123": read_uav123,
    "uav": read_uav123,
    "imagenet_vid": read_imagenet_vid,
    "coco": read_coco,
    "images": read_annotated_images,
}


def read_dataset(format: str, root: str | Path, **options: Any) -> list[Sequence]:
    """Read the dataset at ``root`` in ``format`` (one of ``READERS``); ``options`` go to the reader.

    For ``coco``, ``root`` is the ``instances_*.json`` file.

    Raises:
        ValueError: an unknown format, or a dataset without any usable sequence.
        FileNotFoundError: ``root`` does not exist.
    """
    if format not in READERS:
        raise ValueError(f"unknown dataset format {format!r}; available: {', '.join(sorted(READERS))}")
    seqs = READERS[format](root, **options)
    if not seqs:
        raise ValueError(f"dataset {root} ({format}) contains no usable sequences")
    return seqs
