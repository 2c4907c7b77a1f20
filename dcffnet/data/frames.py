"""Where a sequence's frames are: image files in a folder, or one video file beside its box file."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Iterable

import cv2
import numpy as np

from ..fields import check_path
from ..frames import opencv_name, to_uint8
from .folders import listed_folders
from .video_cache import decode_video

__all__ = ["IMAGE_SUFFIXES", "VIDEO_SUFFIXES", "natural_key", "list_images", "find_video", "read_frame",
           "sequence_frames", "sequence_names", "keep_names"]

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")
VIDEO_SUFFIXES = (".mp4", ".avi", ".mkv", ".mov", ".webm", ".m4v")


_DIGITS = re.compile(r"([0-9]+)")


def natural_key(name: str) -> tuple[tuple[str | int, ...], str]:
    """Sort key of a file name in natural (numeric-aware) order: runs of digits compare as numbers,
    so ``2.jpg`` < ``10.jpg`` < ``100.jpg`` and ``img9`` < ``img10``; zero-padded names keep their
    text order. Ties (``1.jpg`` / ``01.jpg``) fall back to the text, so the order is total."""
    parts = _DIGITS.split(name)  # text at even positions, digit runs at odd ones
    return tuple(int(p) if i % 2 else p for i, p in enumerate(parts)), name


def list_images(folder: str | Path) -> list[Path]:
    """Image files of ``folder`` (any of ``IMAGE_SUFFIXES``, case-insensitive), in natural order of
    their names (:func:`natural_key`: ``0.jpg, 1.jpg, 2.jpg, 10.jpg``, not ``0, 1, 10, 2``)."""
    images = [p for p in Path(folder).iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES]
    return sorted(images, key=lambda p: natural_key(p.name))


def find_video(folder: str | Path) -> Path | None:
    """The sequence's video file: ``video.<ext>`` if present, else the only video file in ``folder``."""
    folder = Path(folder)
    videos = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES)
    named = [p for p in videos if p.stem == "video"]
    if named:
        return named[0]
    return videos[0] if len(videos) == 1 else None


def sequence_frames(folder: str | Path, frames_subdir: str = "img", cache_root: str | Path | None = None
                    ) -> list[Path]:
    """Frame files of the sequence stored in ``folder``, in order.

    Looked for in this order: ``folder/frames_subdir/`` images, images beside the box file, a video
    file (``video.mp4`` or the folder's only video), which is decoded once into the frame cache
    (:func:`dcffnet.data.decode_video`) so that every later read is a plain image file.

    Returns:
        Frame paths; an empty list when the folder holds no frames at all.
    """
    folder = Path(folder)
    sub = folder / frames_subdir
    if frames_subdir and sub.is_dir():
        return list_images(sub)
    images = list_images(folder)
    if images:
        return images
    video = find_video(folder)
    if video is not None:
        return decode_video(video, cache_root)
    return []


def sequence_names(root: str | Path, marker: str = "groundtruth.txt") -> list[str]:
    """Sequence folder names of ``root``: from ``list.txt`` when present, else every folder directly
    below ``root`` holding ``marker`` (linked folders included, see :func:`dcffnet.data.folders.find_folders`)."""
    return [name for name, _ in listed_folders(root, marker).folders]


def keep_names(names: Iterable[str], split_file: str | Path | None) -> set[str] | None:
    """Names listed in ``split_file`` (one per line) or ``None`` for all."""
    if split_file is None:
        return None
    wanted = {line.strip() for line in Path(split_file).read_text().splitlines() if line.strip()}
    return wanted & set(names)


def read_frame(path: str | Path) -> np.ndarray:
    """Read one frame file as a BGR ``uint8`` array (``H x W x 3``; grey images replicated, alpha dropped).

    Bit depth follows :func:`dcffnet.frames.to_uint8`: 8-bit files as decoded, 16-bit PNG/TIFF files
    by their high byte (the full 16-bit range onto 0-255, as OpenCV decodes them to 8 bits), float
    files (32-bit TIFF, ...) refused.

    Raises:
        TypeError: ``path`` is not a ``str`` or ``os.PathLike``.
        ValueError: the file is missing, not a readable image, of a bit depth that is refused, or
            named in a way OpenCV cannot open (:func:`opencv_name`); the message names the file.
    """
    name = opencv_name(check_path(path, "path"), "frame")
    image = cv2.imread(name, cv2.IMREAD_COLOR | cv2.IMREAD_ANYDEPTH)
    if image is None:
        # OpenCV decodes single-channel float TIFFs only unchanged: read again to say why
        unchanged = cv2.imread(name, cv2.IMREAD_UNCHANGED) if os.path.isfile(name) else None
        if unchanged is not None:
            _to_uint8_or_refuse(unchanged, path)
        raise ValueError(f"cannot read frame {path}")
    return _to_uint8_or_refuse(image, path)



def _to_uint8_or_refuse(image: np.ndarray, path: str | Path) -> np.ndarray:
    try:
        return to_uint8(image, name=f"frame {path}")
    except TypeError as err:
        raise ValueError(str(err)) from err
