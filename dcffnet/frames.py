"""Frame input conversion: every accepted frame type becomes a contiguous HxWx3 uint8 BGR array.

Bit depth, one rule for frames passed to the tracker and frame files read from disk
(:func:`dcffnet.data.read_frame`), see :func:`to_uint8`: 8-bit images are used as they are, 16-bit
unsigned images keep their high byte (``value >> 8``: the full 16-bit range onto 0-255, the same for
every frame, nothing clipped), anything else (float, signed or 32-bit integers) is refused with a
message, never clipped.

File names handed to OpenCV go through :func:`opencv_name` (OpenCV crashes on a name that is not UTF-8).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from .fields import short_repr

__all__ = ["COLOR_ORDERS", "to_bgr", "to_uint8", "window_to_uint8", "opencv_name"]

COLOR_ORDERS = ("bgr", "rgb")

_ACCEPTED = (
    "numpy uint8 (or uint16, see dcffnet.frames.to_uint8) arrays HxW (grayscale), HxWx1, HxWx3 (BGR, or RGB "
    "with color='rgb') or HxWx4 (alpha dropped), or a PIL.Image"
)
_HOW_TO_CONVERT = ("convert it to uint8 with a window fixed for the whole sequence, e.g. "
                   "dcffnet.frames.window_to_uint8(frame, low, high)")


def to_uint8(image: np.ndarray, name: str = "frame") -> np.ndarray:
    """The bit-depth rule: ``image`` as ``uint8`` (same shape), for the tracker.

    * ``uint8``: returned as it is (the same object);
    * ``uint16`` (any byte order): its high byte, ``image >> 8``, i.e. the full 16-bit range mapped
      linearly onto 0-255 (:func:`window_to_uint8` with ``low=0, high=65536``). A fixed rule, not a
      stretch of each frame's own min/max: the same raw value gives the same grey level in every
      frame, so the template stays comparable with later frames (a per-frame stretch changes the
      brightness of everything whenever a hotter or colder object enters), and nothing is clipped.
      It is OpenCV's own 8-bit decoding of 16-bit PNG/TIFF files. Data that uses only part of the
      range (10- to 14-bit sensors, thermal cameras) comes out dark (14-bit: 0-63): for more
      contrast convert it yourself with a window chosen once for the sequence (:func:`window_to_uint8`);
    * anything else (float, signed or wider integers, bool) has no range the rule could assume
      (depth in metres, temperature in kelvin, 0-1 intensities ...) and is refused.

    Raises:
        TypeError: a dtype other than uint8 or uint16 (the message names ``name``, the dtype and how
            to convert it).
    """
    dtype = image.dtype
    if dtype == np.uint8:
        return image
    if dtype.kind == "u" and dtype.itemsize == 2:
        return (image >> 8).astype(np.uint8)
    raise TypeError(f"{name} has dtype {dtype} (shape {image.shape}), which has no fixed range to scale "
                    f"from: only uint8 (0-255) and uint16 (scaled by its high byte) images are accepted; "
                    f"{_HOW_TO_CONVERT}")


def window_to_uint8(image: np.ndarray, low: float, high: float) -> np.ndarray:
    """Map the pixel values ``[low, high)`` of ``image`` linearly onto 0-255 (256 equal bins):
    ``floor((v - low) * 256 / (high - low))``; values below ``low`` become 0, values at or above
    ``high`` 255 (an explicit window: choose it once per sequence, e.g. from the first frame's
    percentiles, so that frames stay comparable).

    Args:
        image: any real-valued array (e.g. 14-bit thermal counts in uint16, float depth in metres).
        low, high: the window, in the image's own units; ``low < high``, both finite.

    Returns:
        ``uint8`` array of ``image``'s shape.

    Raises:
        ValueError: ``low >= high``, a non-finite bound, or non-finite pixels (fill them first).
    """
    low, high = float(low), float(high)
    if not (np.isfinite(low) and np.isfinite(high) and low < high):
        raise ValueError(f"window must be finite with low < high, got low={low}, high={high}")
    values = np.asarray(image, dtype=np.float64)
    finite = np.isfinite(values)
    if not finite.all():
        raise ValueError(f"image has {int((~finite).sum())} non-finite pixels (NaN or inf): fill them before "
                         "mapping it to uint8")
    return np.clip(np.floor((values - low) * (256.0 / (high - low))), 0, 255).astype(np.uint8)


def _from_pil(frame: Any, name: str) -> np.ndarray:
    mode = frame.mode
    if mode.startswith("I;16"):  # 16-bit greyscale, any byte order (to_uint8 refuses signed samples)
        arr = to_uint8(np.asarray(frame), name)
    elif mode in ("I", "F") or mode.startswith("I;"):
        raise TypeError(f"{name} is a PIL image of mode {mode!r} (32-bit integer, float or signed samples): "
                        f"no fixed range to scale it from; {_HOW_TO_CONVERT} on np.asarray({name})")
    else:
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
    Bit depth follows :func:`to_uint8`: uint8 passes unchanged, uint16 arrays and PIL ``I;16``
    images keep their high byte; float, signed and 32-bit images (PIL ``I``, ``F``) are refused.

    Raises:
        TypeError: not a numpy array or PIL image, or a dtype (PIL mode) other than 8- or 16-bit unsigned.
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
            return _from_pil(frame, name)
        raise TypeError(f"{name} must be one of: {_ACCEPTED}; got {type(frame).__name__}")
    frame = to_uint8(frame, name)
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


def opencv_name(path: "str | os.PathLike[str]", what: str) -> str:
    """``path`` as the ``str`` OpenCV's functions take (``imread``, ``imwrite``, ``VideoCapture``).

    A file name holding bytes that are not UTF-8 reaches Python as a string with lone surrogates
    (``os.fsdecode``); OpenCV's bindings cannot encode it and crash the process (a segmentation
    fault, seen with OpenCV 5.1), so such a name is refused here, before OpenCV sees it.

    Raises:
        ValueError: the name is not valid UTF-8, naming the file (``what``: e.g. ``"frame"``).
    """
    name = os.fspath(path)
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"{what} {ascii(name)}: its name is not valid UTF-8 "
                         f"({short_repr(os.fsencode(name))}), which OpenCV cannot open; rename the file") from None
    return name
