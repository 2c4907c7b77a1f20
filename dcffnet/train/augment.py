"""Pair crops with SiamFC context and the paper's augmentations (shift, scale, flip, grayscale; colour,
blur and rotation optional). Crops are cut with :func:`dcffnet.geometry.crop_and_resize`, the same
function the tracker uses."""

from __future__ import annotations

import math

import cv2
import numpy as np

from ..geometry import context_size, crop_and_resize
from .config import AugmentConfig

__all__ = ["template_crop", "search_crop", "photometric"]


def template_crop(image: np.ndarray, box: np.ndarray, size: int, aug: AugmentConfig, rng: np.random.Generator,
                  context: float = 0.5) -> np.ndarray:
    """Template crop (``size`` px) around ``box = (x, y, w, h)`` with small centre/scale jitter."""
    x, y, w, h = box
    s_z = context_size(w, h, context) * (1.0 + rng.uniform(-aug.template_scale, aug.template_scale))
    per_px = s_z / size
    cx = x + w / 2 + rng.uniform(-aug.template_shift, aug.template_shift) * per_px
    cy = y + h / 2 + rng.uniform(-aug.template_shift, aug.template_shift) * per_px
    return crop_and_resize(image, (cx, cy), s_z, size, cv2.mean(image)[:3])


def search_crop(image: np.ndarray, box: np.ndarray, template_size: int, size: int, aug: AugmentConfig,
                rng: np.random.Generator, context: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Search crop (``size`` px) with the target displaced from the centre and rescaled.

    Returns:
        ``(crop, box_xyxy)``: the crop and the target box ``(x1, y1, x2, y2)`` in crop pixels.
    """
    x, y, w, h = box
    s_x = context_size(w, h, context) * size / template_size
    s_x *= math.exp(rng.uniform(-aug.search_scale, aug.search_scale))
    scale = size / s_x  # crop pixels per frame pixel
    dx, dy = rng.uniform(-aug.search_shift, aug.search_shift, size=2)
    cx, cy = x + w / 2 - dx / scale, y + h / 2 - dy / scale
    crop = crop_and_resize(image, (cx, cy), s_x, size, cv2.mean(image)[:3])
    tcx, tcy = size / 2 + dx, size / 2 + dy
    tw, th = w * scale, h * scale
    if aug.search_aspect > 0:
        # stretch about the crop centre: width by e^(a/2), height by e^(-a/2), a ~ U(-search_aspect, search_aspect)
        a = rng.uniform(-aug.search_aspect, aug.search_aspect)
        sx, sy, c = math.exp(a / 2), math.exp(-a / 2), size / 2
        ci = c - 0.5  # the same centre in warpAffine's pixel-index coordinates
        matrix = np.array([[sx, 0.0, (1 - sx) * ci], [0.0, sy, (1 - sy) * ci]])
        crop = cv2.warpAffine(crop, matrix, (size, size), borderMode=cv2.BORDER_REPLICATE)
        tcx, tcy = c + sx * (tcx - c), c + sy * (tcy - c)
        tw, th = tw * sx, th * sy
    if aug.rotation > 0:
        angle = rng.uniform(-aug.rotation, aug.rotation)
        matrix = cv2.getRotationMatrix2D((size / 2 - 0.5, size / 2 - 0.5), angle, 1.0)
        crop = cv2.warpAffine(crop, matrix, (size, size), borderMode=cv2.BORDER_REPLICATE)
        corners = np.array([[tcx - tw / 2, tcy - th / 2], [tcx + tw / 2, tcy - th / 2],
                            [tcx + tw / 2, tcy + th / 2], [tcx - tw / 2, tcy + th / 2]])
        rotated = (corners - 0.5) @ matrix[:, :2].T + matrix[:, 2] + 0.5
        # the axis-aligned box of the rotated box, shrunk towards its centre by half the excess area
        x1, y1 = rotated.min(0)
        x2, y2 = rotated.max(0)
        ccx, ccy = (x1 + x2) / 2, (y1 + y2) / 2
        k = math.sqrt(tw * th / max((x2 - x1) * (y2 - y1), 1e-6))
        bw, bh = (x2 - x1) * (1 + k) / 2, (y2 - y1) * (1 + k) / 2
        return crop, np.array([ccx - bw / 2, ccy - bh / 2, ccx + bw / 2, ccy + bh / 2])
    return crop, np.array([tcx - tw / 2, tcy - th / 2, tcx + tw / 2, tcy + th / 2])


def photometric(template: np.ndarray, search: np.ndarray, box: np.ndarray, aug: AugmentConfig,
                rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pair-consistent flip and grayscale; per-crop colour jitter and blur. Returns new arrays."""
    if rng.random() < aug.flip:
        size = search.shape[1]
        template, search = template[:, ::-1], search[:, ::-1]
        box = np.array([size - box[2], box[1], size - box[0], box[3]])
    if rng.random() < aug.gray:
        template = cv2.cvtColor(cv2.cvtColor(np.ascontiguousarray(template), cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
        search = cv2.cvtColor(cv2.cvtColor(np.ascontiguousarray(search), cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
    out = []
    for crop in (template, search):
        crop = np.ascontiguousarray(crop)
        if aug.color > 0:
            alpha = 1.0 + rng.uniform(-aug.color, aug.color)
            beta = 255.0 * rng.uniform(-aug.color, aug.color) / 2
            crop = cv2.convertScaleAbs(crop, alpha=alpha, beta=beta)
        if aug.blur > 0 and rng.random() < aug.blur:
            sigma = rng.uniform(0.5, 1.5)
            crop = cv2.GaussianBlur(crop, (0, 0), sigma)
        out.append(crop)
    return out[0], out[1], box
