"""Map sides, strides and the response geometry of a DCFFNet, from its configuration alone.

Pure arithmetic (no torch): what the network modules build, what the memory estimate counts and
what a tracker running an ONNX export needs (:func:`response_geometry`) come from here, so a CPU
user of the ONNX backend never imports torch.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, NamedTuple

from ..geometry import ResponseGeometry

if TYPE_CHECKING:
    from .config import ModelConfig

__all__ = ["BlockSpec", "NANOTRACK_BLOCKS", "STEM_CHANNELS", "STEM_STRIDE", "BLOCK2_STRIDE", "MOBILE_STRIDES",
           "MOBILE_STRIDE", "NANOTRACK_V3_STRIDE", "BAN_KERNEL_CROP", "BAN_PADDING", "conv_out", "mobile_feature_sizes", "feature_sizes",
           "backbone_stride", "ban_response_geometry", "template_crop_window", "response_geometry"]


class BlockSpec(NamedTuple):
    """One inverted-residual block: ``cin -> expand -> cout`` with a ``kernel`` x ``kernel`` depthwise conv."""

    cin: int
    expand: int        # 0: no 1x1 expansion (the depthwise conv runs on ``cin`` channels)
    cout: int
    kernel: int
    stride: int
    se: int            # squeeze-excite bottleneck width; 0: no SE
    act: str           # "relu" or "hswish"
    se_before_act: bool


# features.1 ... features.8 of NanoTrack v2's backbone (read off its ONNX graph).
NANOTRACK_BLOCKS: tuple[BlockSpec, ...] = (
    BlockSpec(16, 0, 16, 3, 2, 8, "relu", False),
    BlockSpec(16, 72, 24, 3, 2, 0, "relu", False),
    BlockSpec(24, 88, 24, 3, 1, 0, "relu", False),
    BlockSpec(24, 96, 40, 5, 2, 24, "hswish", True),
    BlockSpec(40, 240, 40, 5, 1, 64, "hswish", True),
    BlockSpec(40, 240, 40, 5, 1, 64, "hswish", True),
    BlockSpec(40, 120, 48, 5, 1, 32, "hswish", True),
    BlockSpec(48, 144, 48, 5, 1, 40, "hswish", True),
)
STEM_CHANNELS = 16

#: stride of the ResNet stem and of its block2 (``backbone="resnet"``)
STEM_STRIDE = 3
BLOCK2_STRIDE = 2
#: strides of (stem, block2, block3) of the MobileNet-style backbones relative to their inputs
#: (every stride-2 conv pads ``k // 2``)
MOBILE_STRIDES = (8, 2, 1)
MOBILE_STRIDE = math.prod(MOBILE_STRIDES)
#: NanoTrack v3's strides are v2's
NANOTRACK_V3_STRIDE = MOBILE_STRIDE
#: side (cells) of the central template part the BAN head's depthwise branch correlates with, and its zero padding
BAN_KERNEL_CROP = 4
BAN_PADDING = 1


def conv_out(n: int, kernel: int, stride: int = 1, padding: int = 0) -> int:
    """Output side of a convolution over an ``n``-cell side."""
    return (n + 2 * padding - kernel) // stride + 1


def mobile_feature_sizes(input_size: int) -> dict[str, int]:
    """Side of the stem / block2 / block3 outputs of the MobileNet-style backbones for a square
    input of ``input_size`` pixels."""
    stem = input_size
    for _ in range(int(math.log2(MOBILE_STRIDES[0]))):
        stem = math.ceil(stem / 2)
    block2 = math.ceil(stem / MOBILE_STRIDES[1])
    return {"stem": stem, "block2": block2, "block3": math.ceil(block2 / MOBILE_STRIDES[2])}


def feature_sizes(config: "ModelConfig", input_size: int) -> dict[str, int]:
    """Side length (cells) of every backbone output for a square input of ``input_size`` pixels
    (``stem`` is the map CF module 1 sees, ``block3`` the one CF module 2 sees, ``conv6`` the one
    the head sees; ``nanotrack_v3`` has no neck, so its ``conv4``-``conv6`` are ``block3``)."""
    sizes: dict[str, int] = {}
    if config.backbone in ("mobilenet", "nanotrack_v3"):
        sizes.update(mobile_feature_sizes(input_size))
        n = sizes["block3"]
        if config.backbone == "nanotrack_v3":
            sizes.update(conv4=n, conv5=n, conv6=n)
            return sizes
    else:
        n = conv_out(input_size, 7, STEM_STRIDE, 6)
        sizes["conv1"] = sizes["conv2"] = sizes["conv3"] = sizes["stem"] = n
        n = conv_out(n, 3, BLOCK2_STRIDE, 1)
        sizes["block2"] = sizes["block3"] = n
    sizes["conv4"] = n
    shrink = 2 - 2 * config.neck_padding
    sizes["conv5"] = n - shrink
    sizes["conv6"] = n - 2 * shrink
    return sizes


def backbone_stride(config: "ModelConfig") -> int:
    """Total stride (input pixels per feature cell) at the head's input."""
    if config.backbone in ("mobilenet", "nanotrack_v3"):
        return MOBILE_STRIDE
    return STEM_STRIDE * BLOCK2_STRIDE


def ban_response_geometry(template_side: int, search_side: int) -> tuple[int, int]:
    """``(size, kernel_offset)`` of the BAN head's response (see :class:`~dcffnet.geometry.ResponseGeometry`)
    for template / search maps of the given sides (cells).

    Both branches give ``search_side - 1`` cells. The depthwise branch lines the kernel (template
    cells ``c0 .. c0 + 3``, ``c0 = (template_side - 4) / 2``) up with search cell ``j - 1`` (one cell
    of padding), i.e. the whole template with search cell ``j - c0 - 1``; the pixel-wise branch's
    2x2 conv centres cell ``j`` between search cells ``j`` and ``j + 1``, the same point.

    Raises:
        ValueError: a template map smaller than the kernel crop, or one that cannot be centre-cropped
        to it; a search map not larger than the template map.
    """
    check_ban_template_side(template_side)
    if search_side <= template_side:
        raise ValueError(f"the search map ({search_side} cells) must be larger than the template map ({template_side})")
    return search_side - 1, (template_side - BAN_KERNEL_CROP) // 2 + BAN_PADDING


def check_ban_template_side(side: int) -> None:
    """Refuse a template map the BAN head cannot centre-crop to its kernel (``ValueError``)."""
    if side < BAN_KERNEL_CROP or (side - BAN_KERNEL_CROP) % 2:
        raise ValueError(f"the BAN head needs a template map of at least {BAN_KERNEL_CROP} cells that differs "
                         f"from {BAN_KERNEL_CROP} by an even number, got {side}")


def template_crop_window(config: "ModelConfig") -> tuple[int, int] | None:
    """``(first cell, side)`` of the centre part of the template map the head correlates with
    (``config.template_crop``), or ``None`` for the whole map.

    Raises:
        ValueError: the template map vanishes, or ``template_crop`` does not fit it with an even margin.
    """
    kernel = feature_sizes(config, config.template_size)["conv6"]
    if kernel < 1:
        raise ValueError(f"template_size={config.template_size} is too small: the template map vanishes")
    if not config.template_crop:
        return None
    if config.template_crop > kernel or (kernel - config.template_crop) % 2:
        raise ValueError(f"template_crop={config.template_crop} must be <= the template map side ({kernel}) "
                         "and differ from it by an even number of cells")
    return (kernel - config.template_crop) // 2, config.template_crop


def response_geometry(config: "ModelConfig") -> ResponseGeometry:
    """How the head's response cells of a network built from ``config`` map to search-crop pixels.

    Raises:
        ValueError: a configuration whose maps do not fit (see :func:`template_crop_window`,
            :func:`ban_response_geometry`).
    """
    t_side = feature_sizes(config, config.template_size)["conv6"]
    s_side = feature_sizes(config, config.search_size)["conv6"]
    window = template_crop_window(config)
    crop_start, kernel = window if window is not None else (0, t_side)
    size, kernel_offset = s_side - kernel + 1, crop_start
    if config.head == "ban":
        size, kernel_offset = ban_response_geometry(t_side, s_side)
    return ResponseGeometry(template_size=config.template_size, search_size=config.search_size,
                            stride=backbone_stride(config), size=size, kernel_offset=kernel_offset)
