"""Reading data from disk, one stack for training, evaluation and the command line.

* ``sequence``: :class:`Sequence`, the one record every reader returns;
* ``readers``: video datasets and benchmarks (folder / video files, OTB, VOT, LaSOT, GOT-10k,
  UAV123, ImageNet VID), boxes converted to 0-based pixels once;
* ``images``: still-image sets (COCO, generic ``annotations.json``) for training;
* ``formats``: the one registry of format names (``DATASET_FORMATS``) that training, ``dcffnet
  eval`` / ``tune`` / ``calibrate`` and the command line's ``--format`` read;
* ``boxes``: box and flag files; ``frames``: a sequence's frames, as image files or a video file
  (decoded once into a local frame cache, see ``video_cache``), in natural order;
* ``folders``: finding sequence folders below a root, through symbolic links, without looping;
* ``report``: :class:`ReadReport`, what a reader read and what it skipped, and why
  (:func:`read_dataset_report`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from ..errors import DatasetError
from .boxes import read_box_file, read_flags
from .formats import DATASET_FORMATS, DatasetFormat, format_names, get_format
from .frames import (IMAGE_SUFFIXES, VIDEO_SUFFIXES, keep_names, list_images, natural_key, read_frame,
                     sequence_frames, sequence_names)
from .images import read_annotated_images, read_coco
from .readers import (polygon_to_box, read_folder, read_got10k, read_imagenet_vid, read_lasot, read_otb,
                      read_uav123, read_vot)
from .report import ReadReport, Skipped
from .sequence import Sequence
from .video_cache import decode_video, frame_cache_root

__all__ = ["Sequence", "DatasetFormat", "DATASET_FORMATS", "format_names", "get_format", "READERS", "read_dataset",
           "read_folder", "read_otb", "read_vot", "read_lasot", "read_got10k", "read_uav123", "read_imagenet_vid",
           "read_coco", "read_annotated_images", "polygon_to_box",
           "read_box_file", "read_flags", "read_frame", "IMAGE_SUFFIXES", "VIDEO_SUFFIXES", "list_images", "sequence_frames",
           "sequence_names", "keep_names", "decode_video", "frame_cache_root", "natural_key", "read_dataset_report",
           "ReadReport", "Skipped", "DatasetError"]

#: every format name (aliases included) -> its reader, from the one registry in :mod:`.formats`
READERS: dict[str, Callable[..., list[Sequence]]] = {name: get_format(name).read for name in format_names()}


def read_dataset(format: str, root: str | Path, **options: Any) -> list[Sequence]:
    """Read the dataset at ``root`` in ``format`` (a name in :data:`DATASET_FORMATS`, see
    :func:`format_names`); ``options`` go to the reader.

    For ``coco``, ``root`` is the ``instances_*.json`` file.

    Raises:
        ValueError: an unknown format, or a dataset without any usable sequence.
        FileNotFoundError: ``root`` does not exist.
    """
    seqs = get_format(format).read(root, **options)
    if not seqs:
        raise ValueError(f"dataset {root} ({format}) contains no usable sequences")
    return seqs


def read_dataset_report(format: str, root: str | Path, *, strict: bool = False, benchmark: bool = False,
                        **options: Any) -> ReadReport:
    """Read the dataset at ``root`` in ``format`` and say what was read and what was skipped, and why.

    Args:
        format: a name in :data:`DATASET_FORMATS` (see :func:`format_names`).
        root: the dataset folder (for ``coco``, the ``instances_*.json`` file).
        strict: fail on the first sequence that cannot be read (or, with ``benchmark``, that has no
            valid first box) instead of skipping it; folders reached twice through links and UAV123's
            split sequences are still only reported.
        benchmark: read for evaluation: ``format`` must be a benchmark format and every sequence
            needs a valid box in its first frame (one without is skipped, or refused when ``strict``).
        options: passed to the reader (``split_file=``, ``subset=``, ...).

    Returns:
        A :class:`ReadReport`: ``sequences`` (what to train or evaluate on), ``skipped`` (name and
        reason of each one left out), ``found`` and ``summary()`` (one paragraph to print).

    Raises:
        ValueError: an unknown format (or a training-only one with ``benchmark``).
        FileNotFoundError: ``root`` does not exist.
        DatasetError: ``strict`` and a sequence cannot be used (``error.sequence``, ``error.reason``),
            or no usable sequence at all (the message carries the summary).
    """
    reader = get_format(format, benchmark_only=benchmark).read
    report = ReadReport(str(root), format, strict)
    reader(root, report=report, **options)
    if benchmark:
        report.require_first_box()
    if not report.sequences:
        raise DatasetError(f"{report.summary()}: no usable sequences")
    return report
