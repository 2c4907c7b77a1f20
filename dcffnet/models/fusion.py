"""Cross-correlation operators and the correlation-fusion (CF) module.

All correlations are batch-safe: sample ``i`` of the search batch is only ever correlated with
sample ``i`` of the template batch (grouped convolution over a ``(1, B*C, H, W)`` view).
"""

from __future__ import annotations

import math
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["depthwise_xcorr", "depthwise_correlation", "toeplitz_bands", "banded_correlation", "xcorr",
           "Correlate", "CorrelationFusion", "resize_and_center_crop"]

#: ``correlate(search, kernel) -> response``: the depthwise correlation divided by the kernel area.
#: :func:`depthwise_correlation` is the one the network trains with; :func:`banded_correlation`
#: (with kernels prepared by :func:`toeplitz_bands`) computes the same with a gather and one matrix
#: product, for ONNX graphs whose runtimes want constant convolution weights.
Correlate = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def _check_pair(search: torch.Tensor, kernel: torch.Tensor) -> None:
    if search.dim() != 4 or kernel.dim() != 4:
        raise ValueError(
            f"search and kernel must be 4-D (B, C, H, W); got {tuple(search.shape)} and {tuple(kernel.shape)}"
        )
    if search.shape[:2] != kernel.shape[:2]:
        raise ValueError(
            "search and kernel must agree in batch size and channels; "
            f"got search {tuple(search.shape)} and kernel {tuple(kernel.shape)}"
        )
    if kernel.shape[2] > search.shape[2] or kernel.shape[3] > search.shape[3]:
        raise ValueError(
            f"kernel {tuple(kernel.shape[2:])} is larger than search map {tuple(search.shape[2:])}"
        )


def depthwise_xcorr(search: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """Depthwise (channel-by-channel) cross-correlation, as in SiamRPN++.

    Args:
        search: ``(B, C, H, W)`` search feature map.
        kernel: ``(B, C, h, w)`` template feature map used as a per-sample, per-channel kernel.

    Returns:
        ``(B, C, H - h + 1, W - w + 1)``: ``out[b, c] = sum_{u,v} search[b, c, y+u, x+v] * kernel[b, c, u, v]``.
    """
    _check_pair(search, kernel)
    b, c, h, w = search.shape
    out = F.conv2d(search.reshape(1, b * c, h, w), kernel.reshape(b * c, 1, *kernel.shape[2:]), groups=b * c)
    return out.reshape(b, c, out.shape[2], out.shape[3])


def depthwise_correlation(search: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """:func:`depthwise_xcorr` divided by the kernel area ``h*w`` (so its scale does not depend on
    the template size): the correlation the CF modules and the CAR head use."""
    return depthwise_xcorr(search, kernel) / float(kernel.shape[2] * kernel.shape[3])


def toeplitz_bands(kernel: torch.Tensor, search_width: int) -> torch.Tensor:
    """Kernels of :func:`banded_correlation`: each kernel row as a banded (Toeplitz) matrix.

    Args:
        kernel: ``(B, C, h, w)`` template features.
        search_width: width ``W`` of the search maps they will be correlated with.

    Returns:
        ``(B, C, h, W, W - w + 1)`` with ``bands[b, c, u, i, x] = kernel[b, c, u, i - x] / (h*w)``
        where ``0 <= i - x < w``, else 0. Built with one gather (constant indices) and a multiply.
    """
    if kernel.dim() != 4:
        raise ValueError(f"kernel must be 4-D (B, C, h, w), got shape {tuple(kernel.shape)}")
    b, c, h, w = kernel.shape
    if search_width < w:
        raise ValueError(f"search_width={search_width} is smaller than the kernel width {w}")
    out_w = search_width - w + 1
    offset = torch.arange(search_width).view(-1, 1) - torch.arange(out_w).view(1, -1)  # i - x
    inside = (offset >= 0) & (offset < w)
    index = torch.where(inside, offset, torch.zeros_like(offset)).reshape(-1).to(kernel.device)
    scaled = kernel / float(h * w)
    bands = scaled.index_select(3, index).reshape(b, c, h, search_width, out_w)
    return bands * inside.to(kernel.dtype).to(kernel.device)


def banded_correlation(search: torch.Tensor, bands: torch.Tensor) -> torch.Tensor:
    """:func:`depthwise_correlation` as one matrix product with banded matrices (no convolution).

    The ``h`` row windows of the search map are gathered side by side, ``rows[b, c, y] =
    concat_u search[b, c, y + u, :]`` (``(B, C, H - h + 1, h * W)``, one Gather with constant
    indices), and multiplied by the ``h`` banded matrices stacked the same way:
    ``out[b, c] = rows[b, c] @ bands[b, c].reshape(h * W, W - w + 1)``. With ``bands =
    toeplitz_bands(kernel, W)`` this equals ``depthwise_correlation(search, kernel)`` up to float
    rounding. Gather, Reshape and MatMul are operations that ONNX runtimes and TensorRT take with
    both operands computed at run time.

    Args:
        search: ``(B, C, H, W)``; bands: ``(B, C, h, W, W - w + 1)``.
    """
    if search.dim() != 4 or bands.dim() != 5 or search.shape[:2] != bands.shape[:2] or bands.shape[3] != search.shape[3]:
        raise ValueError(f"search (B, C, H, W) and bands (B, C, h, W, W') must agree; got "
                         f"{tuple(search.shape)} and {tuple(bands.shape)}")
    b, c, height, width = search.shape
    h, out_w = bands.shape[2], bands.shape[4]
    if h > height:
        raise ValueError(f"bands of {h} rows are taller than the search map ({height} rows)")
    rows = height - h + 1
    index = (torch.arange(rows).view(-1, 1) + torch.arange(h).view(1, -1)).reshape(-1).to(search.device)
    windows = search.index_select(2, index).reshape(b, c, rows, h * width)
    return windows @ bands.reshape(b, c, h * width, out_w)


def xcorr(search: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """Plain SiamFC cross-correlation: the depthwise correlation summed over channels.

    Returns ``(B, 1, H - h + 1, W - w + 1)``.
    """
    _check_pair(search, kernel)
    b, c, h, w = search.shape
    out = F.conv2d(search.reshape(1, b * c, h, w), kernel, groups=b)
    return out.reshape(b, 1, out.shape[2], out.shape[3])


def resize_and_center_crop(response: torch.Tensor, size: tuple[int, int], upsample: int | None) -> torch.Tensor:
    """Bilinearly upsample ``response`` by an integer factor and centre-crop it to ``size``.

    ``upsample=None`` picks the smallest integer factor that makes the map at least ``size``
    (``ceil(size / response)``), the paper's "upsample, then crop to the search size". If the
    upsampled map is still smaller than ``size`` it is zero-padded symmetrically.
    """
    th, tw = size
    rh, rw = response.shape[2:]
    if upsample is None:
        factor = max(1, math.ceil(th / rh), math.ceil(tw / rw))
    else:
        factor = int(upsample)
    if factor != 1:
        response = F.interpolate(response, size=(rh * factor, rw * factor), mode="bilinear", align_corners=False)
    rh, rw = response.shape[2:]
    if rh < th or rw < tw:
        ph, pw = max(0, th - rh), max(0, tw - rw)
        response = F.pad(response, (pw // 2, pw - pw // 2, ph // 2, ph - ph // 2))
        rh, rw = response.shape[2:]
    top, left = (rh - th) // 2, (rw - tw) // 2
    return response[:, :, top : top + th, left : left + tw]


class CorrelationFusion(nn.Module):
    """Depthwise correlation of search and template features, resized and added to the search map.

    ``fused_search = search + BN(resize_crop(depthwise_xcorr(search, template) / (h*w)))``.
    The response is divided by the kernel area so its scale does not depend on the template size,
    and a BatchNorm (an affine map at inference) learns how strongly it is mixed in.

    Args:
        channels: number of feature channels C at this stage.
        template_fusion: ``"none"`` (template branch passes through unchanged, the default) or
            ``"self"`` (the template is fused with its own correlation response the same way).
        upsample: integer upsampling factor of the response, or ``None`` for ``ceil(search / response)``.
    """

    def __init__(self, channels: int, template_fusion: str = "none", upsample: int | None = None) -> None:
        super().__init__()
        if template_fusion not in ("none", "self"):
            raise ValueError(f"template_fusion must be 'none' or 'self', got {template_fusion!r}")
        self.template_fusion = template_fusion
        self.upsample = upsample
        self.norm = nn.BatchNorm2d(channels)

    def fuse(self, features: torch.Tensor, template: torch.Tensor,
             correlate: Correlate | None = None) -> torch.Tensor:
        """Fuse ``features`` (B, C, H, W) with their correlation against ``template`` (B, C, h, w)
        (or whatever kernel form ``correlate`` takes, see :data:`Correlate`; ``None``:
        :func:`depthwise_correlation`)."""
        response = (correlate or depthwise_correlation)(features, template)
        response = resize_and_center_crop(response, features.shape[2:], self.upsample)
        return features + self.norm(response)

    def template_branch(self, template: torch.Tensor, correlate: Correlate | None = None) -> torch.Tensor:
        """What the template branch passes on (itself, or itself fused with its self-correlation)."""
        if self.template_fusion == "self":
            return self.fuse(template, template, correlate)
        return template
