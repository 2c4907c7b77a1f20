"""A synthetic tracking clip generated in the test: a textured object moving over a textured
background while it grows, with exact ground truth. No files, no ../shared."""

from __future__ import annotations

import math

import cv2
import numpy as np


def smooth_texture(height: int, width: int, cells: int, rng: np.random.Generator, contrast: float) -> np.ndarray:
    """Blocky colour noise (``cells`` blocks on the short side) blurred a little; uint8 BGR."""
    short = min(height, width)
    gh, gw = max(2, round(cells * height / short)), max(2, round(cells * width / short))
    small = rng.uniform(128 - 127 * contrast, 128 + 127 * contrast, (gh, gw, 3)).astype(np.float32)
    big = cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC)
    return np.clip(big, 0, 255).astype(np.uint8)


def moving_object_clip(frames: int = 60, size: tuple[int, int] = (480, 360), seed: int = 0,
                       start_size: tuple[float, float] = (48.0, 64.0), growth: float = 1.6):
    """Frames (BGR uint8) and ground-truth boxes ``(x, y, w, h)``, 0-based pixels.

    The object (a high-contrast texture with a dark rim, aspect 3:4) follows a smooth loop of
    ~4 px/frame and grows linearly to ``growth`` times its start size; the background is a
    lower-contrast texture of a different scale, so the object is distinct but not on flat gray.
    """
    rng = np.random.default_rng(seed)
    width, height = size
    background = smooth_texture(height, width, 12, rng, contrast=0.5)
    texture = smooth_texture(64, 64, 5, rng, contrast=1.0)
    texture[:3], texture[-3:], texture[:, :3], texture[:, -3:] = 20, 20, 20, 20
    images, boxes = [], []
    for t in range(frames):
        k = 1.0 + (growth - 1.0) * t / max(frames - 1, 1)
        w, h = start_size[0] * k, start_size[1] * k
        cx = width / 2 + 110 * math.sin(2 * math.pi * t / frames)
        cy = height / 2 + 60 * math.sin(4 * math.pi * t / frames)
        x, y = cx - w / 2, cy - h / 2
        frame = background.copy()
        patch = cv2.resize(texture, (round(w), round(h)), interpolation=cv2.INTER_LINEAR)
        x0, y0 = round(x), round(y)
        frame[y0:y0 + patch.shape[0], x0:x0 + patch.shape[1]] = patch
        images.append(frame)
        boxes.append((float(x0), float(y0), float(patch.shape[1]), float(patch.shape[0])))
    return images, np.array(boxes)


def iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise IoU of ``(N, 4)`` xywh boxes."""
    x1 = np.maximum(a[:, 0], b[:, 0])
    y1 = np.maximum(a[:, 1], b[:, 1])
    x2 = np.minimum(a[:, 0] + a[:, 2], b[:, 0] + b[:, 2])
    y2 = np.minimum(a[:, 1] + a[:, 3], b[:, 1] + b[:, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    return inter / (a[:, 2] * a[:, 3] + b[:, 2] * b[:, 3] - inter)


def leave_and_return_clip(frames: int = 90, absent: tuple[int, int] = (35, 55), size: tuple[int, int] = (480, 360),
                          seed: int = 0, obj_size: tuple[float, float] = (48.0, 64.0)):
    """A clip where the object leaves: frames ``[absent[0], absent[1])`` show only the background,
    then the object returns at the far side of the frame and moves on.

    Returns frames, ground truth ``(N, 4)`` (NaN rows while absent) and the visible-mask ``(N,)``.
    """
    rng = np.random.default_rng(seed)
    width, height = size
    background = smooth_texture(height, width, 12, rng, contrast=0.5)
    texture = smooth_texture(64, 64, 5, rng, contrast=1.0)
    texture[:3], texture[-3:], texture[:, :3], texture[:, -3:] = 20, 20, 20, 20
    w, h = obj_size
    patch = cv2.resize(texture, (round(w), round(h)), interpolation=cv2.INTER_LINEAR)
    images, boxes, visible = [], [], []
    for t in range(frames):
        frame = background.copy()
        if absent[0] <= t < absent[1]:
            images.append(frame)
            boxes.append((np.nan,) * 4)
            visible.append(False)
            continue
        if t < absent[0]:  # left part of the frame, drifting right and down a little
            cx, cy = 110 + 2.0 * t, 120 + 1.0 * t
        else:  # back on the right side, drifting left
            cx, cy = width - 90 - 2.0 * (t - absent[1]), height - 110 + 0.5 * (t - absent[1]) * 0.0
        x0, y0 = round(cx - w / 2), round(cy - h / 2)
        frame[y0:y0 + patch.shape[0], x0:x0 + patch.shape[1]] = patch
        images.append(frame)
        boxes.append((float(x0), float(y0), float(patch.shape[1]), float(patch.shape[0])))
        visible.append(True)
    return images, np.array(boxes, dtype=np.float64), np.array(visible)


def several_objects_clip(objects: int = 3, frames: int = 40, size: tuple[int, int] = (640, 480), seed: int = 0):
    """``objects`` distinct textured objects (each its own texture, 40x52 px) moving on separate
    smooth paths over one background. Returns frames and ground truth ``(objects, frames, 4)``."""
    rng = np.random.default_rng(seed)
    width, height = size
    background = smooth_texture(height, width, 12, rng, contrast=0.5)
    patches = []
    for _ in range(objects):
        texture = smooth_texture(52, 40, 5, rng, contrast=1.0)
        texture[:3], texture[-3:], texture[:, :3], texture[:, -3:] = 20, 20, 20, 20
        patches.append(texture)
    cols = int(math.ceil(math.sqrt(objects)))
    rows = int(math.ceil(objects / cols))
    images, boxes = [], np.zeros((objects, frames, 4))
    for t in range(frames):
        frame = background.copy()
        for k, patch in enumerate(patches):
            home_x = (k % cols + 0.5) * width / cols
            home_y = (k // cols + 0.5) * height / rows
            phase = 2 * math.pi * k / objects
            cx = home_x + 0.25 * width / cols * math.sin(2 * math.pi * t / frames + phase)
            cy = home_y + 0.2 * height / rows * math.cos(2 * math.pi * t / frames + phase)
            x0, y0 = round(cx - patch.shape[1] / 2), round(cy - patch.shape[0] / 2)
            frame[y0:y0 + patch.shape[0], x0:x0 + patch.shape[1]] = patch
            boxes[k, t] = (x0, y0, patch.shape[1], patch.shape[0])
        images.append(frame)
    return images, boxes
