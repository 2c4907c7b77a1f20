"""NanoTrack v3's tracking head: pixel-wise and depthwise correlation, separable towers, cls + box.

For each of the two outputs (classification, box) the head correlates template and search maps
twice and concatenates the results:

* **pixel-wise**: both maps through their own 1x1 conv + BN; every template cell's feature vector
  is dotted with every search cell's (one matrix product), giving one map per template cell
  (``h*w`` channels, 64 for an 8x8 template); a channel attention (global mean, 1x1, ReLU, 1x1,
  sigmoid) scales them, then a 2x2 depthwise conv, BN, ReLU6, 1x1 conv, BN (16x16 -> 15x15).
* **depthwise**: the central 4x4 template cells and the search map through their own 1x1 conv +
  BN, then a depthwise correlation with one cell of zero padding (16x16 (*) 4x4 -> 15x15), not
  divided by the kernel area.

A 1x1 conv mixes the concatenation back to the head width, a tower of ``tower_blocks`` x (3x3
depthwise conv, BN, ReLU6, 1x1 conv, BN) follows, and a 1x1 conv gives ``cls`` (2 logits:
background, target) or ``reg`` (``exp`` of 4 values: distances ``(l, t, r, b)`` from the cell's
point to the box sides, search-crop pixels). Attribute names follow NanoTrack v3's checkpoint
(``ban_head.*``) so its tensors load by name.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .fusion import Correlate, banded_correlation, depthwise_xcorr, toeplitz_bands
from .shapes import BAN_KERNEL_CROP, BAN_PADDING, ban_response_geometry, check_ban_template_side

__all__ = ["BANHead", "BAN_KERNEL_CROP", "kernel_from_bands", "ban_response_geometry"]



def kernel_from_bands(bands: torch.Tensor) -> torch.Tensor:
    """The ``(B, C, h, w)`` kernel that :func:`~dcffnet.models.fusion.toeplitz_bands` laid out as
    ``bands`` ``(B, C, h, W, W - w + 1)``: its first column (output position 0) holds
    ``kernel[..., i] / (h*w)`` at rows ``i < w``."""
    if bands.dim() != 5:
        raise ValueError(f"bands must be 5-D (B, C, h, W, W'), got shape {tuple(bands.shape)}")
    h, width, out_w = bands.shape[2], bands.shape[3], bands.shape[4]
    w = width - out_w + 1
    return bands[:, :, :, :w, 0] * float(h * w)


def _conv_bn(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 1), nn.BatchNorm2d(cout))


class ChannelAttention(nn.Module):
    """``x * sigmoid(fc2(relu(fc1(mean(x)))))`` with 1x1 convolutions (per channel)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.fc1 = nn.Conv2d(channels, channels, 1)
        self.fc2 = nn.Conv2d(channels, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(self.fc2(torch.relu(self.fc1(x.mean((2, 3), keepdim=True)))))


class PixelwiseCorrelation(nn.Module):
    """Template cells dotted with search cells (``cells = h*w`` maps), channel attention, 2x2 dw + 1x1 convs."""

    def __init__(self, in_channels: int, channels: int, cells: int) -> None:
        super().__init__()
        self.cells = cells
        self.conv_kernel = _conv_bn(in_channels, channels)
        self.conv_search = _conv_bn(in_channels, channels)
        self.CA_layer = ChannelAttention(cells)  # the name in NanoTrack v3's checkpoint
        self.conv = nn.Sequential(nn.Conv2d(cells, cells, 2, groups=cells, bias=False), nn.BatchNorm2d(cells),
                                  nn.ReLU6(inplace=True), nn.Conv2d(cells, cells, 1), nn.BatchNorm2d(cells))

    def forward(self, template: torch.Tensor, search: torch.Tensor) -> torch.Tensor:
        kernel = self.conv_kernel(template)
        if kernel.shape[2] * kernel.shape[3] != self.cells:
            raise ValueError(f"template map {tuple(template.shape[2:])} does not have the {self.cells} cells "
                             "this head was built for")
        features = self.conv_search(search)
        b, c, h, w = features.shape
        corr = kernel.flatten(2).transpose(1, 2) @ features.flatten(2)  # (B, cells, H*W)
        return self.conv(self.CA_layer(corr.reshape(b, self.cells, h, w)))


class DepthwiseCorrelation(nn.Module):
    """Depthwise correlation of 1x1-conv + BN maps, one cell of zero padding, not divided by the kernel area."""

    def __init__(self, in_channels: int, channels: int) -> None:
        super().__init__()
        self.conv_kernel = _conv_bn(in_channels, channels)
        self.conv_search = _conv_bn(in_channels, channels)

    def forward(self, kernel: torch.Tensor, search: torch.Tensor, banded: bool = False) -> torch.Tensor:
        """``banded``: correlate with a matrix product (:func:`~dcffnet.models.fusion.banded_correlation`)
        instead of a convolution whose weights are computed, as exported graphs must."""
        k = self.conv_kernel(kernel)
        s = F.pad(self.conv_search(search), (BAN_PADDING,) * 4)
        if banded:
            return banded_correlation(s, toeplitz_bands(k, s.shape[3])) * float(k.shape[2] * k.shape[3])
        return depthwise_xcorr(s, k)


def _separable_tower(channels: int, blocks: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    for _ in range(blocks):
        layers += [nn.Conv2d(channels, channels, 3, padding=1, groups=channels, bias=False), nn.BatchNorm2d(channels),
                   nn.ReLU6(inplace=True), nn.Conv2d(channels, channels, 1, bias=False), nn.BatchNorm2d(channels)]
    return nn.Sequential(*layers)


class BANHead(nn.Module):
    """NanoTrack v3's head (module docstring): ``{"cls": (B, 2, R, R), "reg": (B, 4, R, R)}``.

    Args:
        in_channels: width of the feature maps it is given (96 for NanoTrack v3).
        channels: width of the correlations, the concatenation's mix and the towers.
        template_side: side (cells) of the template map; the pixel-wise branch has one map per cell.
        tower_blocks: separable blocks per tower (6 in NanoTrack v3).
    """

    def __init__(self, in_channels: int, channels: int, template_side: int, tower_blocks: int = 6) -> None:
        super().__init__()
        check_ban_template_side(template_side)
        self.crop_start = (template_side - BAN_KERNEL_CROP) // 2
        cells = template_side * template_side
        self.corr_pw_cls = PixelwiseCorrelation(in_channels, channels, cells)
        self.corr_pw_reg = PixelwiseCorrelation(in_channels, channels, cells)
        self.corr_dw_cls = DepthwiseCorrelation(in_channels, channels)
        self.corr_dw_reg = DepthwiseCorrelation(in_channels, channels)
        self.down_cls = nn.Sequential(nn.Conv2d(cells + channels, channels, 1))
        self.down_reg = nn.Sequential(nn.Conv2d(cells + channels, channels, 1))
        self.cls_tower = _separable_tower(channels, tower_blocks)
        self.bbox_tower = _separable_tower(channels, tower_blocks)
        self.cls_logits = nn.Sequential(nn.Conv2d(channels, 2, 1))
        self.bbox_pred = nn.Sequential(nn.Conv2d(channels, 4, 1))

    def forward(self, search: torch.Tensor, template: torch.Tensor,
                correlate: Correlate | None = None) -> dict[str, torch.Tensor]:
        """Head maps for search features ``(B, C, H, W)`` and template features ``(B, C, h, w)``.

        ``correlate``: ``None`` (train and track in PyTorch) or
        :func:`~dcffnet.models.fusion.banded_correlation`, with which the ONNX export hands over
        every kernel as :func:`~dcffnet.models.fusion.toeplitz_bands` of the template features;
        this head takes the features back out of them (:func:`kernel_from_bands`) and correlates
        without computed convolution weights.
        """
        banded = correlate is banded_correlation
        if correlate is not None and not banded:
            raise ValueError("BANHead takes correlate=None or dcffnet.models.fusion.banded_correlation")
        if banded:
            template = kernel_from_bands(template)
        start, end = self.crop_start, self.crop_start + BAN_KERNEL_CROP
        kernel = template[:, :, start:end, start:end]
        x_cls = self.down_cls(torch.cat((self.corr_pw_cls(template, search),
                                         self.corr_dw_cls(kernel, search, banded)), 1))
        x_reg = self.down_reg(torch.cat((self.corr_pw_reg(template, search),
                                         self.corr_dw_reg(kernel, search, banded)), 1))
        cls = self.cls_logits(self.cls_tower(x_cls))
        reg = torch.exp(self.bbox_pred(self.bbox_tower(x_reg)).clamp(max=20.0))
        return {"cls": cls, "reg": reg}
