"""Training targets on the response grid, from target boxes in search-crop pixels."""

from __future__ import annotations

import torch

from ..geometry import ResponseGeometry

__all__ = ["cell_points", "siamfc_labels", "car_targets"]


def cell_points(geometry: ResponseGeometry, device: torch.device | str = "cpu") -> tuple[torch.Tensor, torch.Tensor]:
    """``(px, py)``: crop-pixel coordinates of every cell, each ``(R, R)`` (x varies along columns)."""
    p = torch.as_tensor(geometry.cell_points(), dtype=torch.float32, device=device)
    return p.view(1, -1).expand(len(p), -1), p.view(-1, 1).expand(-1, len(p))


def siamfc_labels(boxes: torch.Tensor, negative: torch.Tensor, geometry: ResponseGeometry,
                  r_pos: float) -> torch.Tensor:
    """Stage 1 labels ``(B, 1, R, R)``: 1 where the cell's point is within ``r_pos`` crop pixels of the
    target centre, else 0; all 0 for negative pairs. ``boxes`` is ``(B, 4)`` ``x1, y1, x2, y2``."""
    px, py = cell_points(geometry, boxes.device)
    cx = (boxes[:, 0] + boxes[:, 2]).view(-1, 1, 1) / 2
    cy = (boxes[:, 1] + boxes[:, 3]).view(-1, 1, 1) / 2
    dist = torch.sqrt((px - cx) ** 2 + (py - cy) ** 2)
    labels = (dist <= r_pos).float()
    labels[negative.bool()] = 0.0
    return labels.unsqueeze(1)


def car_targets(boxes: torch.Tensor, negative: torch.Tensor, geometry: ResponseGeometry,
                positive: str = "inside", central_fraction: float = 0.2) -> tuple[torch.Tensor, torch.Tensor]:
    """Stage 2 targets.

    Returns:
        ``labels (B, R, R)`` (1 = positive, 0 = negative) and ``reg (B, 4, R, R)``: distances
        ``l, t, r, b`` from each cell's point to the box sides, in crop pixels (paper eq. 3).
        Positives are cells whose point lies inside the box (``positive="inside"``, the paper) or
        within ``central_fraction`` of the box size from its centre (``"central"``, SiamCAR-like).
    """
    px, py = cell_points(geometry, boxes.device)
    x1, y1, x2, y2 = (boxes[:, i].view(-1, 1, 1) for i in range(4))
    reg = torch.stack([px - x1, py - y1, x2 - px, y2 - py], dim=1)
    if positive == "inside":
        labels = (reg.min(dim=1).values > 0).float()
    elif positive == "central":
        cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
        hw, hh = (x2 - x1) * central_fraction, (y2 - y1) * central_fraction
        labels = (((px - cx).abs() <= hw) & ((py - cy).abs() <= hh)).float()
    else:
        raise ValueError(f"positive must be 'inside' or 'central', got {positive!r}")
    labels[negative.bool()] = 0.0
    return labels, reg
