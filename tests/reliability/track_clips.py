"""Clips on disk for the ``dcffnet track`` reliability tests: the moving object of
``tests/synthetic_clip.py`` shrunk to 160x120 pixels (small frames keep tracking fast)."""

from __future__ import annotations

from pathlib import Path

import cv2

from synthetic_clip import moving_object_clip

SIZE = (160, 120)  # width, height of the written frames (pixels)
_SCALE = 3.0  # moving_object_clip's 480x360 frames -> SIZE


def _frames(count: int):
    """``count`` frames (BGR uint8, SIZE) going back and forth over a 60-frame loop, and the first box (x, y, w, h)."""
    images, boxes = moving_object_clip(frames=60)
    small = [cv2.resize(image, SIZE, interpolation=cv2.INTER_AREA) for image in images]
    loop = list(range(len(small))) + list(range(len(small) - 2, 0, -1))
    return [small[loop[i % len(loop)]] for i in range(count)], tuple(float(v) / _SCALE for v in boxes[0])


def write_clip(path: Path, count: int) -> tuple[float, float, float, float]:
    """Write a ``count``-frame MJPG ``.avi`` at ``path``; return the target's box in frame 0 (pixels)."""
    frames, box = _frames(count)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 30.0, SIZE)
    assert writer.isOpened(), f"cannot write {path}"
    for frame in frames:
        writer.write(frame)
    writer.release()
    return box


def write_frame_folder(folder: Path, count: int) -> tuple[float, float, float, float]:
    """Write ``count`` frames as ``00000.png``... into the existing ``folder``; return the first box (pixels)."""
    frames, box = _frames(count)
    for index, frame in enumerate(frames):
        assert cv2.imwrite(str(folder / f"{index:05d}.png"), frame)
    return box


def box_arg(box: tuple[float, float, float, float]) -> str:
    """``--box`` text for ``box``."""
    return ",".join(f"{v:.2f}" for v in box)
