"""The registry of dataset formats: one entry per format, read by training (``read_dataset``),
``dcffnet eval`` / ``tune`` / ``calibrate`` (``load_benchmark``) and the command line's ``--format``.

A format is *a benchmark* when every sequence it yields is a video whose first frame has a valid
box, so a tracker can be initialised and scored on it; the still-image sets (``coco``, ``images``)
and ImageNet VID (tracks may start unannotated, and the reader needs a ``subset``) are read for
training only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .images import read_annotated_images, read_coco
from .readers import read_folder, read_got10k, read_imagenet_vid, read_lasot, read_otb, read_uav123, read_vot
from .sequence import Sequence

__all__ = ["DatasetFormat", "DATASET_FORMATS", "get_format", "format_names"]


@dataclass(frozen=True)
class DatasetFormat:
    """One dataset layout: its ``name``, other accepted names (``aliases``), the ``read(root, **options)``
    function returning :class:`Sequence` objects (boxes ``(x, y, w, h)`` in 0-based pixels, NaN rows
    where the target is absent), a one-line ``description`` and whether it is a ``benchmark``
    (see the module docstring)."""

    name: str
    read: Callable[..., list[Sequence]]
    description: str
    benchmark: bool
    aliases: tuple[str, ...] = ()


DATASET_FORMATS: tuple[DatasetFormat, ...] = (
    DatasetFormat("folder", read_folder, "<seq>/ with frames or a video and groundtruth.txt", benchmark=True),
    DatasetFormat("otb", read_otb, "OTB-2013/2015", benchmark=True),
    DatasetFormat("vot", read_vot, "VOT short-term (polygons)", benchmark=True),
    DatasetFormat("lasot", read_lasot, "LaSOT", benchmark=True),
    DatasetFormat("got10k", read_got10k, "a GOT-10k split folder", benchmark=True),
    DatasetFormat("uav", read_uav123, "UAV123", benchmark=True, aliases=("uav123",)),
    DatasetFormat("imagenet_vid", read_imagenet_vid, "ImageNet VID snippets (training only)", benchmark=False),
    DatasetFormat("coco", read_coco, "a COCO instances_*.json, one still image per object (training only)",
                  benchmark=False),
    DatasetFormat("images", read_annotated_images, "still images with annotations.json (training only)",
                  benchmark=False),
)


def _by_name() -> dict[str, DatasetFormat]:
    return {name: fmt for fmt in DATASET_FORMATS for name in (fmt.name, *fmt.aliases)}


def format_names(benchmark_only: bool = False) -> list[str]:
    """Every accepted format name, aliases included, in registry order (``benchmark_only``: the
    formats ``dcffnet eval`` / ``tune`` / ``calibrate`` accept)."""
    return [name for fmt in DATASET_FORMATS if fmt.benchmark or not benchmark_only
            for name in (fmt.name, *fmt.aliases)]


def get_format(name: str, benchmark_only: bool = False) -> DatasetFormat:
    """The :class:`DatasetFormat` called ``name`` (or with ``name`` as an alias).

    Raises:
        ValueError: an unknown name, or (``benchmark_only``) a training-only format; the message
            lists the accepted names.
    """
    fmt = _by_name().get(name)
    if fmt is None or (benchmark_only and not fmt.benchmark):
        kind = "benchmark format" if benchmark_only else "dataset format"
        extra = " (it is read for training only)" if fmt is not None else ""
        raise ValueError(f"unknown {kind} {name!r}{extra}; available: {', '.join(format_names(benchmark_only))}")
    return fmt
