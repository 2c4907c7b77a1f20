"""Where a sequence's frames are: image files in a folder, or one video file beside its box file."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

import cv2
import numpy as np

from .video_cache import decode_video

__all__ = ["IMAGE_SUFFIXES", "VIDEO_SUFFIXES", "list_images", "find_video", "read_frame", "sequence_frames", "sequence_names",
           "keep_names"]

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")
VIDEO_SUFFIXES = (".mp4", ".avi", ".mkv", ".mov", ".webm", ".m4v")


def list_images(folder: str | Path) -> list[Path]:
    """Image files of ``folder`` (any of ``IMAGE_SUFFIXES``, case-insensitive), sorted by name."""
    return sorted(p for p in Path(folder).iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


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
    """Sequence folder names of ``root``: from ``list.txt`` when present, else every folder holding ``marker``."""
    root = Path(root)
    listed = root / "list.txt"
    if listed.is_file():
        return listed.read_text().split()
    return sorted(p.name for p in root.iterdir() if (p / marker).is_file())


def keep_names(names: Iterable[str], split_file: str | Path | None) -> set[str] | None:
    """Names listed in ``split_file`` (one per line) or ``None`` for all."""
    if split_file is None:
        return None
    wanted = {line.strip() for line in Path(split_file).read_text().splitlines() if line.strip()}
    return wanted & set(names)


def read_frame(path: str | Path) -> np.ndarray:
    """Read one frame file as a BGR ``uint8`` array.

    Raises:
        ValueError: the file is missing or not a readable image (the message names it).
    """
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError(f"cannot read frame {path}")
    return image
