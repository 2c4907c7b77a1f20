"""The partial ResNet-50 backbone of DCFFNet: stem (conv1-conv3), block2, block3, conv4-conv6.

The correlation-fusion modules sit between these parts; they are applied by
:class:`dcffnet.models.dcffnet.DCFFNet`, which owns the order of the data path.

Layer geometry (chosen to reproduce the paper's 87x87 and 44x44 search maps, see docs/architecture.md):

=========  ==================================  ==============  ==============
layer      operation                           127 template    255 search
=========  ==================================  ==============  ==============
conv1      7x7, stride 3, padding 6 + BN/ReLU  45x45           87x87
conv2      3x3, stride 1, padding 1 + BN/ReLU  45x45           87x87
conv3      3x3, stride 1, padding 1 + BN/ReLU  45x45           87x87
block2     ResNet layer2 (stride 2)            23x23           44x44
block3     ResNet layer3 (stride 1, dilated)   23x23           44x44
conv4      1x1 + BN/ReLU (channel reduction)   23x23           44x44
conv5      3x3, no padding + BN/ReLU           21x21           42x42
conv6      3x3, no padding + BN                19x19           40x40
=========  ==================================  ==============  ==============
"""

from __future__ import annotations

import torch
from torch import nn
from torchvision.models.resnet import Bottleneck

from .shapes import BLOCK2_STRIDE, STEM_STRIDE, backbone_stride, feature_sizes

__all__ = ["Stem", "make_resnet_stage", "Neck", "STEM_STRIDE", "BLOCK2_STRIDE", "feature_sizes", "backbone_stride"]



def _conv_bn(cin: int, cout: int, kernel: int, stride: int = 1, padding: int = 0, relu: bool = True) -> nn.Sequential:
    layers: list[nn.Module] = [
        nn.Conv2d(cin, cout, kernel, stride=stride, padding=padding, bias=False),
        nn.BatchNorm2d(cout),
    ]
    if relu:
        layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


class Stem(nn.Module):
    """conv1 (7x7/3, from ResNet-50's conv1), conv2 and conv3 (3x3/1): the paper's first three conv layers."""

    def __init__(self, channels: tuple[int, int, int]) -> None:
        super().__init__()
        c1, c2, c3 = channels
        self.conv1 = _conv_bn(3, c1, 7, stride=STEM_STRIDE, padding=6)
        self.conv2 = _conv_bn(c1, c2, 3, padding=1)
        self.conv3 = _conv_bn(c2, c3, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv3(self.conv2(self.conv1(x)))


def make_resnet_stage(inplanes: int, planes: int, blocks: int, stride: int = 1, dilation: int = 1) -> nn.Sequential:
    """A ResNet-50 stage of torchvision ``Bottleneck`` blocks (output ``4 * planes`` channels).

    With ``dilation > 1`` the stage keeps its resolution (``stride`` must be 1): the first block uses
    dilation 1 and the rest ``dilation``, as torchvision's ``replace_stride_with_dilation`` and
    SiamRPN++ do.
    """
    if dilation > 1 and stride != 1:
        raise ValueError("a dilated stage must have stride 1")
    expansion = Bottleneck.expansion
    downsample = None
    if stride != 1 or inplanes != planes * expansion:
        downsample = nn.Sequential(
            nn.Conv2d(inplanes, planes * expansion, 1, stride=stride, bias=False),
            nn.BatchNorm2d(planes * expansion),
        )
    layers = [Bottleneck(inplanes, planes, stride=stride, downsample=downsample, dilation=1)]
    for _ in range(1, blocks):
        layers.append(Bottleneck(planes * expansion, planes, dilation=dilation))
    return nn.Sequential(*layers)


class Neck(nn.Module):
    """conv4 (1x1 channel reduction), conv5 and conv6 (3x3; without padding each shrinks the map by 2).

    conv5 and conv6 are "the last two layers" that stage 2 fine-tunes.
    """

    def __init__(self, in_channels: int, channels: int, padding: int = 0) -> None:
        super().__init__()
        self.conv4 = _conv_bn(in_channels, channels, 1)
        self.conv5 = _conv_bn(channels, channels, 3, padding=padding)
        self.conv6 = _conv_bn(channels, channels, 3, padding=padding, relu=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv6(self.conv5(self.conv4(x)))
