"""NanoTrack v3's MobileNetV3 backbone with its BatchNorm layers, as DCFFNet's three stages.

NanoTrack v3 (Apache-2.0, HonglinChu/SiamTrackers) tracks with ten feature blocks of a MobileNetV3:
v2's nine (see :mod:`dcffnet.models.mobilenet`) plus ``features.9`` (48 -> 288 -> 96 channels),
stride 16, 96 output channels (127 -> 8x8, 255 -> 16x16). Its checkpoint keeps the BatchNorm
layers apart from the convolutions (no conv biases), so they can be trained; the modules here
are laid out like that checkpoint (``conv.<index>`` inside each block) so its tensors load by
name (:mod:`dcffnet.models.nanotrack_v3_import`). The correlation-fusion modules sit between
the stages, where ``dcffnet_mobile`` has them:

==========  ===================  =======  =======  ============  ============
part        NanoTrack blocks     stride   width    127 template  255 search
==========  ===================  =======  =======  ============  ============
``stem``    features.0 - 3       8        24       16x16         32x32
(CF 1)
``block2``  features.4 - 6       16       40       8x8           16x16
``block3``  features.7 - 9       16       96       8x8           16x16
(CF 2)
==========  ===================  =======  =======  ============  ============

v3 has no working neck (its checkpoint's ``neck.*`` layer is never applied), so the head sees
``block3``'s map. Input: BGR 0-255, no normalisation (NanoTrack's convention).
"""

from __future__ import annotations

import torch
from torch import nn

from .mobilenet import NANOTRACK_BLOCKS, BlockSpec, MobileStage
from .shapes import NANOTRACK_V3_STRIDE, mobile_feature_sizes

__all__ = ["NANOTRACK_V3_BLOCKS", "NANOTRACK_V3_STRIDE", "nanotrack_v3_stages", "nanotrack_v3_feature_sizes"]

# features.1 ... features.9 (read off v3's ONNX graph and checkpoint): v2's eight blocks and a ninth.
NANOTRACK_V3_BLOCKS: tuple[BlockSpec, ...] = (*NANOTRACK_BLOCKS, BlockSpec(48, 288, 96, 5, 1, 72, "hswish", True))
STEM_CHANNELS = 16
#: stem (3 stride-2 convs) x block2 (one) = 16 input pixels per cell, as NanoTrack v2
_STAGE_BLOCKS = ((0, 3), (3, 6), (6, 9))  # NANOTRACK_V3_BLOCKS indices of stem (after features.0), block2, block3


def _act(kind: str) -> nn.Module:
    return nn.ReLU(inplace=True) if kind == "relu" else nn.Hardswish(inplace=True)


class SqueezeExcite(nn.Module):
    """``x * fc(mean(x))`` with ``fc`` = Linear, ReLU, Linear, hard-sigmoid (per channel); the
    ``fc.0`` / ``fc.2`` layout of v3's checkpoint (v2's graph-imported blocks name them ``fc1`` / ``fc2``)."""

    def __init__(self, channels: int, hidden: int) -> None:
        super().__init__()
        self.fc = nn.Sequential(nn.Linear(channels, hidden), nn.ReLU(inplace=True), nn.Linear(hidden, channels),
                                nn.Hardsigmoid())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.fc(x.mean((2, 3)))[:, :, None, None]


class InvertedResidualBN(nn.Module):
    """MobileNetV3 block with BatchNorm after every convolution, as one ``conv`` sequence.

    Without expansion: depthwise kxk (stride), BN, act, [SE], 1x1 project, BN. With expansion:
    1x1 expand, BN, act, depthwise kxk (stride), BN, [SE], act, 1x1 project, BN. A block whose
    stride is 1 and whose widths agree adds its input.
    """

    def __init__(self, spec: BlockSpec) -> None:
        super().__init__()
        mid = spec.expand or spec.cin
        depthwise = nn.Conv2d(mid, mid, spec.kernel, spec.stride, spec.kernel // 2, groups=mid, bias=False)
        se: nn.Module = SqueezeExcite(mid, spec.se) if spec.se else nn.Identity()
        project = [nn.Conv2d(mid, spec.cout, 1, bias=False), nn.BatchNorm2d(spec.cout)]
        if spec.expand:
            inner = [se, _act(spec.act)] if spec.se_before_act else [_act(spec.act), se]
            layers = [nn.Conv2d(spec.cin, mid, 1, bias=False), nn.BatchNorm2d(mid), _act(spec.act),
                      depthwise, nn.BatchNorm2d(mid), *inner, *project]
        else:
            if spec.se_before_act:
                raise ValueError("a block without expansion applies its activation before squeeze-excite")
            layers = [depthwise, nn.BatchNorm2d(mid), _act(spec.act), se, *project]
        self.conv = nn.Sequential(*layers)
        self.residual = spec.stride == 1 and spec.cin == spec.cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv(x)
        return x + y if self.residual else y


def nanotrack_v3_stages() -> tuple[MobileStage, MobileStage, MobileStage]:
    """``(stem, block2, block3)`` of NanoTrack v3's layout (table in the module docstring), randomly initialised.

    ``stem[0]`` is ``features.0`` (3x3 stride-2 conv, BN, hard-swish); ``stem[i]`` for ``i = 1..3``
    and ``block2[i]`` / ``block3[i]`` are ``features.1 ... features.9`` in order.
    """
    blocks = [InvertedResidualBN(s) for s in NANOTRACK_V3_BLOCKS]
    first = nn.Sequential(nn.Conv2d(3, STEM_CHANNELS, 3, 2, 1, bias=False), nn.BatchNorm2d(STEM_CHANNELS),
                          nn.Hardswish(inplace=True))
    (s0, s1), (b0, b1), (c0, c1) = _STAGE_BLOCKS
    stem = MobileStage(first, *blocks[s0:s1])
    block2 = MobileStage(*blocks[b0:b1])
    block3 = MobileStage(*blocks[c0:c1])
    for stage, last in ((stem, s1 - 1), (block2, b1 - 1), (block3, c1 - 1)):
        stage.out_channels = NANOTRACK_V3_BLOCKS[last].cout
    return stem, block2, block3


def nanotrack_v3_feature_sizes(input_size: int) -> dict[str, int]:
    """Side (cells) of every map for a square input of ``input_size`` pixels, under the keys of
    :func:`dcffnet.models.backbone.feature_sizes`: ``stem`` (what CF 1 sees), ``block2``,
    ``block3`` (what CF 2 sees), and ``conv4``-``conv6``, which for this neck-less layout are
    ``block3``'s map (what the head sees). The strides are v2's, so the sides are too."""
    sizes = mobile_feature_sizes(input_size)
    sizes.update(conv4=sizes["block3"], conv5=sizes["block3"], conv6=sizes["block3"])
    return sizes
