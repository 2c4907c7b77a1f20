"""Tracking heads: the SiamFC head (stage 1) and the SiamCAR head without centerness (stage 2)."""

from __future__ import annotations

import math

import torch
from torch import nn

from .fusion import Correlate, depthwise_correlation, xcorr

__all__ = ["SiamFCHead", "CARHead"]


class SiamFCHead(nn.Module):
    """``response = scale * xcorr(x, z) / (C*h*w) + bias``: one-channel logits, shape ``(B, 1, R, R)``."""

    def __init__(self, scale_init: float = 10.0) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.tensor(float(scale_init)))
        self.bias = nn.Parameter(torch.zeros(()))

    def forward(self, search: torch.Tensor, template: torch.Tensor,
                correlate: Correlate | None = None) -> dict[str, torch.Tensor]:
        """``correlate``: ``None`` for the plain cross-correlation, else a depthwise one (see
        :data:`~dcffnet.models.fusion.Correlate`) whose channel mean is taken (the same value)."""
        if correlate is None:
            area = float(template.shape[1] * template.shape[2] * template.shape[3])
            response = xcorr(search, template) / area
        else:
            response = correlate(search, template).mean(dim=1, keepdim=True)
        return {"response": response * self.scale + self.bias}


class CARHead(nn.Module):
    """SiamCAR classification/regression head, without the centerness branch (as the paper does).

    ``M = adjust(depthwise_xcorr(x, z) / (h*w))``; two towers of ``tower_convs`` x (3x3 conv, GroupNorm, ReLU);
    ``cls``: 2 logits per location (background, target); ``reg``: distances (l, t, r, b) from the
    location to the box sides in search-crop pixels, made positive with ``exp``.
    """

    def __init__(self, in_channels: int, channels: int, tower_convs: int = 4, gn_groups: int = 32,
                 prior_prob: float = 0.01, reg_init: float = 32.0) -> None:
        super().__init__()
        self.adjust = nn.Conv2d(in_channels, channels, 1)

        def tower() -> nn.Sequential:
            layers: list[nn.Module] = []
            for _ in range(tower_convs):
                layers += [nn.Conv2d(channels, channels, 3, padding=1), nn.GroupNorm(gn_groups, channels), nn.ReLU(inplace=True)]
            return nn.Sequential(*layers)

        self.cls_tower = tower()
        self.reg_tower = tower()
        self.cls_logits = nn.Conv2d(channels, 2, 3, padding=1)
        self.reg_pred = nn.Conv2d(channels, 4, 3, padding=1)
        for module in [self.adjust, self.cls_logits, self.reg_pred, *self.cls_tower, *self.reg_tower]:
            if isinstance(module, nn.Conv2d):
                nn.init.normal_(module.weight, std=0.01)
                nn.init.zeros_(module.bias)
        # Focal-loss style prior on the target logit; regression starts at reg_init pixels.
        with torch.no_grad():
            self.cls_logits.bias[1] = -math.log((1 - prior_prob) / prior_prob)
            self.reg_pred.bias.fill_(math.log(reg_init))

    def forward(self, search: torch.Tensor, template: torch.Tensor,
                correlate: Correlate | None = None) -> dict[str, torch.Tensor]:
        m = self.adjust((correlate or depthwise_correlation)(search, template))
        cls = self.cls_logits(self.cls_tower(m))
        reg = torch.exp(self.reg_pred(self.reg_tower(m)).clamp(max=20.0))
        return {"cls": cls, "reg": reg}
