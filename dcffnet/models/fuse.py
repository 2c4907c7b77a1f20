"""Inference-time folding of BatchNorm layers into the convolutions before them."""

from __future__ import annotations

import copy

from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval
from torchvision.models.resnet import Bottleneck

__all__ = ["fuse_batchnorm"]


def fuse_batchnorm(model: nn.Module) -> nn.Module:
    """A deep copy of ``model`` in eval mode with every Conv2d -> BatchNorm2d pair folded into one conv.

    Covers ``nn.Sequential`` pairs (stem, neck, downsample branches) and torchvision ``Bottleneck``
    blocks; BatchNorm layers without a preceding conv (the correlation-fusion responses) stay. The
    result computes the same function in eval mode with fewer operations; train and save the
    original, not the copy.
    """
    fused = copy.deepcopy(model).eval()
    for module in list(fused.modules()):
        if isinstance(module, Bottleneck):
            for conv_name, bn_name in (("conv1", "bn1"), ("conv2", "bn2"), ("conv3", "bn3")):
                conv, bn = getattr(module, conv_name), getattr(module, bn_name)
                if isinstance(conv, nn.Conv2d) and isinstance(bn, nn.BatchNorm2d):
                    setattr(module, conv_name, fuse_conv_bn_eval(conv, bn))
                    setattr(module, bn_name, nn.Identity())
        elif isinstance(module, nn.Sequential):
            names = list(module._modules)
            for first, second in zip(names, names[1:]):
                conv, bn = module._modules[first], module._modules[second]
                if isinstance(conv, nn.Conv2d) and isinstance(bn, nn.BatchNorm2d):
                    module._modules[first] = fuse_conv_bn_eval(conv, bn)
                    module._modules[second] = nn.Identity()
    return fused
