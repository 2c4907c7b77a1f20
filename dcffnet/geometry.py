"""Box conventions and the frame -> crop -> cell -> box geometry, in one place.

* frame -> crop: :func:`context_size` (template side with context), :class:`SearchRegion` (the
  search crop around the current target: where it lies in the frame, its scale, cutting it out with
  :func:`crop_and_resize`, and mapping crop-pixel boxes back to frame pixels);
* crop -> cell: :class:`ResponseGeometry` (which crop point each response cell looks at);
* cell -> box: :meth:`ResponseGeometry.boxes_from_distances` (a CAR head's ``(l, t, r, b)`` at
  every cell as a box in crop pixels).

Conventions used everywhere in dcffnet:

* A box is ``(x, y, w, h)`` in 0-based continuous pixel coordinates: ``(x, y)`` is the top-left
  corner, the box covers ``[x, x + w) x [y, y + h)`` and its centre is ``(x + w/2, y + h/2)``.
  Pixel ``i`` covers ``[i, i + 1)``, so its centre is at ``i + 0.5``.
* Crops are square, centred on a point, with side ``size`` in frame pixels, resized to ``out_size``.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Sequence

import cv2
import numpy as np

from .fields import short_repr

__all__ = [
    "MAX_BOX_PIXELS",
    "MIN_BOX_SIDE",
    "validate_box",
    "xywh_to_cxcywh",
    "cxcywh_to_xywh",
    "context_size",
    "crop_and_resize",
    "hanning_window",
    "clip_box",
    "ResponseGeometry",
    "SearchRegion",
]


#: largest coordinate or side :func:`validate_box` accepts (pixels): far beyond any frame, small
#: enough that crop sizes computed from it stay finite
MAX_BOX_PIXELS = 1e7

#: smallest width or height :func:`validate_box` accepts (pixels): far below any target, large
#: enough that the template crop's side (about ``sqrt(w * h)``) cannot underflow to 0 (a
#: ``1e-300``-pixel box made a crop of 0 pixels)
MIN_BOX_SIDE = 1e-3


_BOX_FORM = "(x, y, w, h): 4 numbers in a flat list, tuple or 1-D array"


def _box_values(box: object, name: str) -> np.ndarray:
    """The numbers of ``box`` as a flat float64 array, refusing what only looks like numbers.

    A list or tuple must hold numbers (Python or numpy scalars, 0-d arrays); anything else is read
    as an array (numpy, torch, ...) that must be one-dimensional with an integer or float dtype.
    Booleans, strings, ``None`` and nested sequences are refused, whatever numpy would make of them.
    """
    if isinstance(box, (list, tuple)):
        return np.array([_coordinate(item, name, box) for item in box], dtype=np.float64)
    if isinstance(box, (str, bytes)) or box is None:
        raise TypeError(f"{name} must be {_BOX_FORM}, got {short_repr(box)} ({type(box).__name__})")
    try:
        arr = np.asarray(box)
    except Exception as exc:  # an object numpy cannot read (ragged, or raising in __array__)
        raise TypeError(f"{name} must be {_BOX_FORM}, got {short_repr(box)} ({type(box).__name__})") from exc
    if arr.ndim > 1:
        raise ValueError(f"{name} must be {_BOX_FORM}, got a nested sequence of shape {arr.shape}: "
                         f"{short_repr(box)}")
    if arr.ndim == 0:
        raise TypeError(f"{name} must be {_BOX_FORM}, got {short_repr(box)} ({type(box).__name__})")
    if arr.dtype.kind == "O":
        return np.array([_coordinate(item, name, box) for item in arr], dtype=np.float64)
    if arr.dtype.kind not in ("i", "u", "f"):
        raise TypeError(f"{name} must be {_BOX_FORM}, got an array of dtype {arr.dtype}: {short_repr(box)}")
    return arr.astype(np.float64)


def _coordinate(item: object, name: str, box: object) -> float:
    """One value of ``box`` as a float: a real number that is not a ``bool`` (Python or numpy)."""
    if isinstance(item, (bool, np.bool_)):
        raise TypeError(f"{name} must be {_BOX_FORM}, got a boolean in {short_repr(box)}")
    if isinstance(item, numbers.Real):
        try:
            return float(item)
        except OverflowError:  # an int (or Fraction) beyond float's range, e.g. 10**400
            raise ValueError(f"{name} values must lie within +-{MAX_BOX_PIXELS:.0e} pixels, got {short_repr(box)}") \
                from None
    if isinstance(item, (str, bytes)) or item is None:
        raise TypeError(f"{name} must be {_BOX_FORM}, got {short_repr(item)} ({type(item).__name__}) in "
                        f"{short_repr(box)}")
    try:
        arr = np.asarray(item)
    except Exception:  # a ragged sequence
        arr = None
    if arr is None or arr.ndim > 0:
        raise ValueError(f"{name} must be {_BOX_FORM}, got a nested sequence {short_repr(box)}")
    if arr.dtype.kind not in ("i", "u", "f"):  # booleans, complex numbers, strings, objects
        raise TypeError(f"{name} must be {_BOX_FORM}, got {short_repr(item)} ({type(item).__name__}) in "
                        f"{short_repr(box)}")
    return float(arr)


def validate_box(box: Sequence[float], name: str = "box", frame_shape: tuple[int, ...] | None = None) -> np.ndarray:
    """Check an ``(x, y, w, h)`` box (pixels, 0-based) and return it as a float64 array.

    Raises:
        ValueError: not four values, a nested sequence, a non-finite value, a value beyond
            ``MAX_BOX_PIXELS`` (1e7), ``w`` or ``h`` below ``MIN_BOX_SIDE`` (1e-3; ``<= 0``
            included), or (with ``frame_shape``) a box that does not overlap the frame at all.
        TypeError: not a sequence of numbers (booleans, strings and ``None`` are not numbers).
    """
    arr = _box_values(box, name)
    if arr.shape != (4,):
        raise ValueError(f"{name} must have 4 values (x, y, w, h), got {arr.size}: {short_repr(box)}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite, got {tuple(arr.tolist())}")
    if np.abs(arr).max() > MAX_BOX_PIXELS:
        raise ValueError(f"{name} values must lie within +-{MAX_BOX_PIXELS:.0e} pixels, got {tuple(arr.tolist())}")
    x, y, w, h = arr
    if w <= 0 or h <= 0:
        raise ValueError(f"{name} must have w > 0 and h > 0, got w={w}, h={h}")
    if w < MIN_BOX_SIDE or h < MIN_BOX_SIDE:
        raise ValueError(f"{name} {tuple(arr.tolist())} is too small: w and h must be at least "
                         f"{MIN_BOX_SIDE:g} pixels, got w={w:g}, h={h:g}")
    if frame_shape is not None:
        fh, fw = frame_shape[:2]
        if x >= fw or y >= fh or x + w <= 0 or y + h <= 0:
            raise ValueError(
                f"{name} {tuple(arr.tolist())} lies entirely outside the {fw}x{fh} frame (width x height)"
            )
    return arr


def xywh_to_cxcywh(box: Sequence[float]) -> np.ndarray:
    """``(x, y, w, h)`` -> ``(cx, cy, w, h)`` with ``cx = x + w/2``."""
    x, y, w, h = box
    return np.array([x + w / 2.0, y + h / 2.0, w, h], dtype=np.float64)


def cxcywh_to_xywh(box: Sequence[float]) -> np.ndarray:
    """``(cx, cy, w, h)`` -> ``(x, y, w, h)``."""
    cx, cy, w, h = box
    return np.array([cx - w / 2.0, cy - h / 2.0, w, h], dtype=np.float64)


def context_size(w: "float | np.ndarray", h: "float | np.ndarray", context: float = 0.5) -> "float | np.ndarray":
    """SiamFC template side with context: ``sqrt((w + p)(h + p))``, ``p = context * (w + h)`` (pixels).

    Works element-wise on arrays (the tracker's scale penalty compares every cell's box this way)."""
    p = context * (w + h)
    side = np.sqrt((w + p) * (h + p))
    return float(side) if np.ndim(side) == 0 else side


def crop_and_resize(image: np.ndarray, center: Sequence[float], size: float, out_size: int,
                    pad_value: Sequence[float] | None = None) -> np.ndarray:
    """Square crop of side ``size`` (frame pixels) centred on ``center = (cx, cy)``, resized to ``out_size``.

    Parts outside the image are filled with ``pad_value`` (per channel; default: the image's mean
    colour). Bilinear sampling; output pixel ``u`` samples frame coordinate
    ``cx - size/2 + (u + 0.5) * size / out_size``. The same function serves training and tracking.

    Returns:
        ``out_size x out_size x C`` array with the image's dtype.
    """
    if size <= 0 or not math.isfinite(size):
        raise ValueError(f"size must be a positive finite number of pixels, got {size}")
    if pad_value is None:
        pad_value = cv2.mean(image)[: 1 if image.ndim == 2 else image.shape[2]]
    scale = size / out_size
    cx, cy = center
    # warpAffine works in pixel-index coordinates (pixel centres at integers).
    tx = cx - size / 2.0 + 0.5 * scale - 0.5
    ty = cy - size / 2.0 + 0.5 * scale - 0.5
    matrix = np.array([[scale, 0.0, tx], [0.0, scale, ty]], dtype=np.float64)
    border = tuple(float(v) for v in pad_value)
    return cv2.warpAffine(image, matrix, (out_size, out_size), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=border)


def hanning_window(size: int) -> np.ndarray:
    """``size x size`` outer product of Hanning windows (float32), the cosine window of SiamFC/SiamCAR."""
    w = np.hanning(size)
    return np.outer(w, w).astype(np.float32)


def clip_box(cx: float, cy: float, w: float, h: float, frame_w: int, frame_h: int,
             min_size: float = 1.0) -> tuple[float, float, float, float]:
    """Clip a centre-size box to the frame: centre inside the image, ``min_size <= size <= frame size``."""
    cx = min(max(cx, 0.0), float(frame_w))
    cy = min(max(cy, 0.0), float(frame_h))
    w = min(max(w, min_size), float(frame_w))
    h = min(max(h, min_size), float(frame_h))
    return cx, cy, w, h


@dataclass(frozen=True)
class ResponseGeometry:
    """How response-map cells map to search-crop pixels.

    For a fully convolutional Siamese network whose template map is not cropped, cell ``j`` of the
    response compares the template with the search region shifted by ``stride * j`` feature steps,
    so its image point is ``template_size / 2 + stride * j`` (continuous crop pixels), whatever the
    paddings (the same padding offsets both branches). When the kernel is the template map's
    central part starting at cell ``kernel_offset``, cell ``j`` lines that part up with search cell
    ``j``, i.e. the whole template with cell ``j - kernel_offset``: the point is
    ``template_size / 2 + stride * (j - kernel_offset)``. The search crop's centre is ``search_size / 2``.

    Attributes:
        template_size, search_size: crop sides in pixels.
        stride: total stride of the backbone (pixels per cell).
        size: response map side (cells).
        kernel_offset: first template-map cell of the head's kernel (0 when it is not cropped).
    """

    template_size: int
    search_size: int
    stride: int
    size: int
    kernel_offset: int = 0

    def cell_points(self) -> np.ndarray:
        """Crop-pixel coordinate (continuous) of each cell index along one axis, shape ``(size,)``."""
        cells = np.arange(self.size, dtype=np.float64) - self.kernel_offset
        return self.template_size / 2.0 + self.stride * cells

    def cell_offsets(self) -> np.ndarray:
        """Displacement of each cell's point from the search-crop centre, in crop pixels."""
        return self.cell_points() - self.search_size / 2.0

    def boxes_from_distances(self, ltrb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Per-cell boxes from ``(4, R, R)`` distances ``(l, t, r, b)`` (crop pixels) to the box sides.

        Returns:
            ``(dx, dy, w, h)``, each ``(R, R)``: the box centre's displacement from the search-crop
            centre and its size, in crop pixels.
        """
        l, t, r, b = ltrb
        offsets = self.cell_offsets()
        return offsets[None, :] + (r - l) / 2.0, offsets[:, None] + (b - t) / 2.0, l + r, t + b


@dataclass(frozen=True)
class SearchRegion:
    """The square search crop around a target (SiamFC convention).

    Attributes:
        cx, cy: crop centre in frame pixels (the current target centre).
        side: crop side in frame pixels: ``context_size(w, h, context) * search_size / template_size``.
        out_size: crop side in crop pixels after resizing (the network's search size).
    """

    cx: float
    cy: float
    side: float
    out_size: int

    @classmethod
    def around(cls, state: Sequence[float], context: float, template_size: int, search_size: int) -> "SearchRegion":
        """The search region for target ``state = (cx, cy, w, h)`` (frame pixels)."""
        cx, cy, w, h = state
        return cls(float(cx), float(cy), context_size(w, h, context) * search_size / template_size, int(search_size))

    @property
    def scale(self) -> float:
        """Crop pixels per frame pixel."""
        return self.out_size / self.side

    def crop(self, image: np.ndarray, pad_value: Sequence[float] | None = None) -> np.ndarray:
        """Cut the region out of ``image`` and resize it to ``out_size`` (see :func:`crop_and_resize`)."""
        return crop_and_resize(image, (self.cx, self.cy), self.side, self.out_size, pad_value)

    def to_frame(self, dx: float, dy: float, w: float, h: float) -> tuple[float, float, float, float]:
        """A crop-pixel box (centre displacement from the crop centre, size) as ``(cx, cy, w, h)`` in frame pixels."""
        s = self.scale
        return self.cx + dx / s, self.cy + dy / s, w / s, h / s
