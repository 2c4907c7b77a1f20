"""Decode a video file once into a folder of JPEG frames, so training can read any frame at random
and every later evaluation reads the same pixels.

The cache lives in ``$DCFFNET_FRAME_CACHE`` (default ``~/.cache/dcffnet/frames``); one folder per
video, keyed by the video's absolute path, size and modification time, so an edited video is
decoded again. A folder is complete only once its ``frames.json`` exists: decoding writes into a
temporary folder and renames it, so an interrupted decode or two processes decoding the same video
(DDP ranks) never leave a half-written cache behind.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import cv2

from ..fields import check_path
from ..frames import opencv_name

__all__ = ["frame_cache_root", "decode_video", "JPEG_QUALITY"]

JPEG_QUALITY = 95
_MARKER = "frames.json"


def frame_cache_root() -> Path:
    """The frame cache folder: ``$DCFFNET_FRAME_CACHE`` or ``~/.cache/dcffnet/frames``."""
    env = os.environ.get("DCFFNET_FRAME_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "dcffnet" / "frames"


def _cache_key(video: Path) -> str:
    stat = video.stat()
    digest = hashlib.sha1(f"{video.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode()).hexdigest()[:16]
    return f"{video.parent.name}-{video.stem}-{digest}"


def _frame_names(count: int) -> list[str]:
    return [f"{i:08d}.jpg" for i in range(1, count + 1)]


def decode_video(video: str | Path, cache_root: str | Path | None = None) -> list[Path]:
    """Frames of ``video`` as JPEG files (quality 95, BGR as ``cv2.VideoCapture`` decodes them), in order.

    Decodes on the first call and reuses the cached frames afterwards.

    Args:
        video: a video file OpenCV can read.
        cache_root: where to keep the frames (default :func:`frame_cache_root`).

    Returns:
        One path per decoded frame, ``00000001.jpg`` first.

    Raises:
        FileNotFoundError: ``video`` does not exist.
        ValueError: OpenCV cannot open it or it yields no frame.
    """
    video = check_path(video, "video")
    if not os.path.isfile(video):  # False, not OSError, for a name too long to look up
        raise FileNotFoundError(f"video not found: {video}")
    root = Path(cache_root) if cache_root is not None else frame_cache_root()
    folder = root / _cache_key(video)
    marker = folder / _MARKER
    if marker.is_file():
        count = int(json.loads(marker.read_text())["frames"])
        return [folder / name for name in _frame_names(count)]
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=folder.name + ".", dir=root))
    try:
        cap = cv2.VideoCapture(opencv_name(video, "video"))
        if not cap.isOpened():
            raise ValueError(f"cannot open video {video} (unsupported or corrupt file)")
        count = 0
        try:
            while True:
                ok, frame = cap.read()
                if not ok:
                    break
                count += 1
                if not cv2.imwrite(str(tmp / f"{count:08d}.jpg"), frame, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY]):
                    raise OSError(f"cannot write frame {count} of {video} to {tmp}")
        finally:
            cap.release()
        if count == 0:
            raise ValueError(f"video {video} yielded no frames")
        (tmp / _MARKER).write_text(json.dumps({"source": str(video.resolve()), "frames": count,
                                               "jpeg_quality": JPEG_QUALITY}))
        try:
            os.rename(tmp, folder)
        except OSError:
            if not marker.is_file():  # neither ours nor another process's decode landed
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return [folder / name for name in _frame_names(count)]
