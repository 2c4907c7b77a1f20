"""Frame input conversion: every accepted frame type becomes a contiguous HxWx3 uint8 BGR array."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["COLOR_ORDERS", "to_bgr"]

COLOR_ORDERS = ("bgr", "rgb")

_ACCEPTED = (
    "numpy uint8 arrays HxW (grayscale), HxWx1, HxWx3 (BGR, or RGB with color='rgb') or HxWx4 "
    "(alpha dropped), or a PIL.Image"
)


def _from_pil(frame: Any) -> np.ndarray:
    mode = frame.mode
    if mode not in ("RGB", "L"):
        frame = frame.convert("RGB")
    arr = np.asarray(frame)
    if arr.ndim == 2:
        return np.ascontiguousarray(np.repeat(arr[:, :, None], 3, axis=2))
    return np.ascontiguousarray(arr[:, :, ::-1])


def to_bgr(frame: Any, color: str = "bgr", name: str = "frame") -> np.ndarray:
    """Convert ``frame`` to a contiguous ``H x W x 3`` ``uint8`` BGR array.

    Args:
        frame: a numpy array (see below) or a ``PIL.Image`` (always read in its own colour mode,
            whatever ``color`` says).
        color: channel order of 3- and 4-channel numpy input: ``"bgr"`` (OpenCV) or ``"rgb"``.
        name: argument name used in error messages.

    Grayscale ``HxW``/``HxWx1`` is replicated to 3 channels; ``HxWx4`` drops the alpha channel.

    Raises:
        TypeError: not a numpy array or PIL image, or a dtype other than uint8.
        ValueError: an unsupported shape or an empty frame.
    """
    if color not in COLOR_ORDERS:
        raise ValueError(f"color must be one of {COLOR_ORDERS}, got {color!r}")
    if not isinstance(frame, np.ndarray):
        try:
            from PIL import Image
        except ImportError:  # pragma: no cover - PIL is a torchvision dependency
            Image = None
        if Image is not None and isinstance(frame, Image.Image):
            return _from_pil(frame)
        raise TypeError(f"{name} must be one of: {_ACCEPTED}; got {type(frame).__name__}")
    if frame.dtype != np.uint8:
        raise TypeError(f"{name} must have dtype uint8 (0-255), got {frame.dtype} with shape {frame.shape}; "
                        f"accepted: {_ACCEPTED}")
    if frame.ndim == 2:
        frame = frame[:, :, None]
    if frame.ndim != 3 or frame.shape[2] not in (1, 3, 4):
        raise ValueError(f"{name} has shape {frame.shape}; accepted: {_ACCEPTED}")
    if frame.shape[0] == 0 or frame.shape[1] == 0:
        raise ValueError(f"{name} is empty (shape {frame.shape})")
    channels = frame.shape[2]
    if channels == 1:
        return np.ascontiguousarray(np.repeat(frame, 3, axis=2))
    frame = frame[:, :, :3]
    if color == "rgb":
        frame = frame[:, :, ::-1]
    return np.ascontiguousarray(frame)
