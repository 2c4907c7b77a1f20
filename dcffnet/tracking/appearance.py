"""Whether candidate boxes show a target: the score ``update`` would report there, if it stays there.

:func:`appearance_scores` runs the tracker's own search path (region -> crop -> network ->
decode -> calibrated score) once per candidate box, as if the target's last box had been that
candidate, and keeps the score only when the box the tracker finds overlaps the candidate
(IoU >= :data:`MATCH_IOU`): the search region is about twice the box, so a target next to the
candidate is found too, and that is not the candidate. It changes nothing in the target's record.
Re-association uses it to decide whether a detection is a lost target
(:mod:`dcffnet.integrations.supervision`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..fields import short_repr
from ..geometry import SearchRegion, validate_box, xywh_to_cxcywh
from .decode import decode_response
from .pipeline import TrackingPipeline
from .target import TargetState

__all__ = ["MATCH_IOU", "appearance_scores"]

#: least IoU between the box the tracker finds and the candidate for the score to count (the
#: overlap the calibrated score is a probability of)
MATCH_IOU = 0.5


def _candidates(boxes: Any, frame_shape: tuple[int, ...]) -> np.ndarray:
    """``boxes`` as an ``(N, 4)`` array of ``(cx, cy, w, h)`` (frame pixels), each checked."""
    if isinstance(boxes, np.ndarray) and boxes.ndim != 2:
        raise ValueError(f"boxes must be an (N, 4) array of (x, y, w, h) boxes, got shape {boxes.shape}")
    if isinstance(boxes, (str, bytes)):
        raise TypeError(f"boxes must be a sequence of (x, y, w, h) boxes, got {type(boxes).__name__}")
    try:
        rows = list(boxes)
    except TypeError:
        raise TypeError(f"boxes must be a sequence of (x, y, w, h) boxes, got {type(boxes).__name__}") from None
    if rows and isinstance(rows[0], (int, float, np.number)):
        hint = ": pass [box] for one box" if len(rows) == 4 else ""
        raise ValueError(f"boxes must be a sequence of (x, y, w, h) boxes, got {short_repr(boxes)}{hint}")
    return np.array([xywh_to_cxcywh(validate_box(row, f"boxes[{k}]", frame_shape)) for k, row in enumerate(rows)],
                    dtype=np.float64).reshape(-1, 4)


def appearance_scores(pipeline: TrackingPipeline, target: TargetState, image: np.ndarray, boxes: Any) -> np.ndarray:
    """The calibrated score of ``target`` at each candidate box of ``image``.

    For each box, the score :meth:`~dcffnet.tracking.pipeline.TrackingPipeline.track_frame` would
    report on ``image`` had the target's last box been that box (the search region centred on it
    and sized from it, the network against ``target``'s template, the decoder with the tracker's
    priors: size penalty and cosine window, the score calibration), when the box the decoder picks
    overlaps the candidate by IoU >= :data:`MATCH_IOU`; 0.0 when it picks something else in the
    region. With a calibrated checkpoint it estimates the probability that the target is at the
    candidate. ``target`` is not changed; crops run ``pipeline.batch_size`` at a time.

    Args:
        pipeline: the stages and network runner the target was started with.
        target: the target's state record (its template is what is compared).
        image: the frame, ``H x W x 3`` uint8 BGR.
        boxes: ``(N, 4)`` candidate boxes, each ``(x, y, w, h)`` in frame pixels (0-based,
            top-left corner and size; not ``xyxy``).

    Returns:
        ``(N,)`` float64 scores in [0, 1]: 0.0 where the tracker finds the target (or anything
        else) away from the candidate; empty for no boxes.

    Raises:
        TypeError / ValueError: ``boxes`` is not a sequence of boxes, or a box is not finite, has
            ``w <= 0`` or ``h <= 0`` or lies entirely outside the frame (named ``boxes[k]``).
    """
    states = _candidates(boxes, image.shape)
    hp, g = pipeline.hparams, pipeline.geometry
    runner = pipeline.runner
    regions = [SearchRegion.around(s, hp.context, g.template_size, g.search_size) for s in states]
    scores = np.zeros(len(regions), dtype=np.float64)
    step = max(1, pipeline.batch_size)
    for first in range(0, len(regions), step):
        chunk = regions[first:first + step]
        template = target.template if len(chunk) == 1 else runner.repeat(target.template, len(chunk))
        if template is None:  # a network whose templates cannot be batched: one crop per pass
            groups = [([region], target.template) for region in chunk]
        else:
            groups = [(chunk, template)]
        outputs = []
        for regions_of_pass, template_of_pass in groups:
            batch = runner.prepare(np.stack([r.crop(image, target.pad_value) for r in regions_of_pass]))
            output = runner.track(batch, template_of_pass)
            outputs.extend({name: value[k:k + 1] for name, value in output.items()}
                           for k in range(len(regions_of_pass)))
        for k, (region, output) in enumerate(zip(chunk, outputs)):
            state = states[first + k]
            decoded = decode_response(output, g, pipeline.window, (state[2] * region.scale, state[3] * region.scale),
                                      hp, target.size_factor)
            found = np.array(region.to_frame(*decoded.box), dtype=np.float64)
            if _iou(found, state) >= MATCH_IOU:
                scores[first + k] = pipeline.probability(decoded.cues)
    return scores


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    """IoU of two ``(cx, cy, w, h)`` boxes (frame pixels)."""
    ax1, ay1, ax2, ay2 = a[0] - a[2] / 2, a[1] - a[3] / 2, a[0] + a[2] / 2, a[1] + a[3] / 2
    bx1, by1, bx2, by2 = b[0] - b[2] / 2, b[1] - b[3] / 2, b[0] + b[2] / 2, b[1] + b[3] / 2
    inter = max(0.0, min(ax2, bx2) - max(ax1, bx1)) * max(0.0, min(ay2, by2) - max(ay1, by1))
    union = a[2] * a[3] + b[2] * b[3] - inter
    return float(inter / union) if union > 0 else 0.0
