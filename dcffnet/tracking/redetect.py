"""Where a lost target is searched for: the re-detection grid of search-crop centres.

While lost, every frame searches ``redetect_tiles`` crops (one batched pass) on a grid around the
last confident centre. The grid's crops lie half a response span apart (every point falls in the
inner half of some crop's response, where a target is seen whole); the searched radius grows by
``redetect_growth`` per lost frame up to the frame's diagonal, and the grid is then swept
``redetect_tiles`` crops at a time, nearest first.

Work per lost frame is bounded whatever the target size and however long it stays lost:

* the radius stops growing once it covers the frame (no ``growth ** frames`` overflow: a
  tracker can stay lost for days);
* the grid holds at most :data:`MAX_GRID_CENTRES` centres: for a target so small that a grid at
  its own spacing would need more (a few-pixel target on a 1080p frame needs about a million),
  the spacing widens until the grid fits, so the frame is still covered in a bounded sweep;
* the grid is built in numpy once per radius (cached with the target) and only
  ``redetect_tiles`` centres are read from it per frame, so a lost frame costs
  ``redetect_tiles`` crops and one batched pass, like ``redetect_tiles`` normal updates.
"""

from __future__ import annotations

import math

import numpy as np

from ..geometry import ResponseGeometry, SearchRegion

__all__ = ["MAX_GRID_CENTRES", "redetection_centres"]

#: most centres in one re-detection grid (see the module docstring)
MAX_GRID_CENTRES = 16384


def _grid(cx: float, cy: float, reach: float, steps: int, frame_w: int, frame_h: int) -> np.ndarray:
    """Centres ``(cx + i * reach, cy + j * reach)`` for ``|i|, |j| <= steps`` that lie within half
    a step of the frame, sorted by distance to ``(cx, cy)`` (ties in ``i``-major order)."""
    k = np.arange(-steps, steps + 1, dtype=np.float64)
    xs = cx + k * reach
    ys = cy + k * reach
    gx = np.repeat(xs, len(ys))
    gy = np.tile(ys, len(xs))
    inside = (-reach / 2 < gx) & (gx < frame_w + reach / 2) & (-reach / 2 < gy) & (gy < frame_h + reach / 2)
    gx, gy = gx[inside], gy[inside]
    order = np.argsort((gx - cx) ** 2 + (gy - cy) ** 2, kind="stable")
    return np.stack([gx[order], gy[order]], axis=1)


def redetection_centres(confident: np.ndarray, lost_frames: int, frame_w: int, frame_h: int,
                        geometry: ResponseGeometry, context: float, tiles: int, growth: float,
                        cache: dict | None = None) -> list[tuple[float, float]]:
    """This lost frame's search-crop centres (frame pixels): at most ``tiles`` of them.

    Args:
        confident: the last confident box ``(cx, cy, w, h)`` (frame pixels).
        lost_frames: frames since the target was lost (1 on the first lost frame).
        frame_w, frame_h: frame size in pixels.
        geometry: the network's response geometry.
        context: the tracker's context amount.
        tiles: crops per lost frame (``redetect_tiles``).
        growth: radius growth per lost frame (``redetect_growth``, >= 1).
        cache: a dict kept with the target: the last grid is reused while its inputs are unchanged.
    """
    region = SearchRegion.around(confident, context, geometry.template_size, geometry.search_size)
    offsets = geometry.cell_offsets()
    span = float(offsets.max() - offsets.min() + geometry.stride) / region.scale  # frame px one crop's cells cover
    reach = span / 2
    cx, cy = float(confident[0]), float(confident[1])
    diagonal = math.hypot(frame_w, frame_h)
    start = reach / 2
    exponent = lost_frames
    if growth > 1.0 and start < diagonal:
        # beyond this many frames the radius is past the diagonal (and clipped to it): stop the
        # power there, so it never overflows however long the target stays lost
        exponent = min(lost_frames, math.ceil(math.log(diagonal / start) / math.log(growth)) + 2)
    elif growth > 1.0:
        exponent = 0
    radius = min(start * growth ** exponent, diagonal)
    steps = int(math.ceil(radius / reach))
    if (2 * steps + 1) ** 2 > MAX_GRID_CENTRES:  # a tiny target on a large frame: widen the spacing
        steps = (math.isqrt(MAX_GRID_CENTRES) - 1) // 2
        reach = radius / steps
    key = (cx, cy, reach, steps, frame_w, frame_h)
    if cache is not None and cache.get("key") == key:
        grid = cache["grid"]
    else:
        grid = _grid(cx, cy, reach, steps, frame_w, frame_h)
        if cache is not None:
            cache["key"], cache["grid"] = key, grid
    count = len(grid)
    if count <= tiles:
        return [(float(x), float(y)) for x, y in grid]
    first = (lost_frames % count) * tiles % count
    return [(float(grid[(first + k) % count, 0]), float(grid[(first + k) % count, 1])) for k in range(tiles)]
