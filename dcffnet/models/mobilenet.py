"""A MobileNetV3-style backbone with NanoTrack v2's stage layout, and its weight import from ONNX.

NanoTrack v2 (Apache-2.0, HonglinChu/SiamTrackers) tracks with the first nine feature blocks of a
MobileNetV3: stride 16, 48 output channels (127 -> 8x8, 255 -> 16x16). Its backbone ships as an
ONNX graph with BatchNorm already folded into the convolutions, so every convolution here has a
bias and no BatchNorm. DCFFNet's correlation-fusion modules sit between these stages:

==========  ===================  =======  =======  ============  ============
part        NanoTrack blocks     stride   width    127 template  255 search
==========  ===================  =======  =======  ============  ============
``stem``    features.0 - 3       8        24       16x16         32x32
(CF 1)
``block2``  features.4 - 6       16       40       8x8           16x16
``block3``  features.7 - 8       16       48       8x8           16x16
(CF 2)
==========  ===================  =======  =======  ============  ============

Input: BGR 0-255, no normalisation (NanoTrack's convention).
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from .shapes import MOBILE_STRIDE, MOBILE_STRIDES, NANOTRACK_BLOCKS, STEM_CHANNELS, BlockSpec, mobile_feature_sizes

__all__ = ["BlockSpec", "NANOTRACK_BLOCKS", "MobileStage", "mobile_stages", "mobile_feature_sizes",
           "load_nanotrack_backbone", "MOBILE_STRIDES", "MOBILE_STRIDE"]


def _act(kind: str) -> nn.Module:
    return nn.ReLU(inplace=True) if kind == "relu" else nn.Hardswish(inplace=True)


class SqueezeExcite(nn.Module):
    """``x * hardsigmoid(fc2(relu(fc1(mean(x)))))`` per channel."""

    def __init__(self, channels: int, hidden: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(channels, hidden)
        self.fc2 = nn.Linear(hidden, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = x.mean((2, 3))
        s = nn.functional.hardsigmoid(self.fc2(torch.relu(self.fc1(s))))
        return x * s[:, :, None, None]


class InvertedResidual(nn.Module):
    """MobileNetV3 block: [1x1 expand, act], depthwise kxk (stride), [SE], act, 1x1 project, [+ input]."""

    def __init__(self, spec: BlockSpec) -> None:
        super().__init__()
        mid = spec.expand or spec.cin
        self.expand = nn.Sequential(nn.Conv2d(spec.cin, mid, 1), _act(spec.act)) if spec.expand else None
        self.depthwise = nn.Conv2d(mid, mid, spec.kernel, spec.stride, spec.kernel // 2, groups=mid)
        self.se = SqueezeExcite(mid, spec.se) if spec.se else None
        self.act = _act(spec.act)
        self.se_before_act = spec.se_before_act
        self.project = nn.Conv2d(mid, spec.cout, 1)
        self.residual = spec.stride == 1 and spec.cin == spec.cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x if self.expand is None else self.expand(x)
        y = self.depthwise(y)
        if self.se is not None and self.se_before_act:
            y = self.act(self.se(y))
        else:
            y = self.act(y)
            if self.se is not None:
                y = self.se(y)
        y = self.project(y)
        return x + y if self.residual else y


class MobileStage(nn.Sequential):
    """A run of blocks (and, for the stem, the first 3x3 stride-2 conv + hard-swish)."""

    out_channels: int


def mobile_stages() -> tuple[MobileStage, MobileStage, MobileStage]:
    """``(stem, block2, block3)`` of the NanoTrack layout (table in the module docstring), randomly initialised."""
    blocks = [InvertedResidual(s) for s in NANOTRACK_BLOCKS]
    stem = MobileStage(nn.Sequential(nn.Conv2d(3, STEM_CHANNELS, 3, 2, 1), nn.Hardswish(inplace=True)), *blocks[:3])
    block2 = MobileStage(*blocks[3:6])
    block3 = MobileStage(*blocks[6:])
    stem.out_channels = NANOTRACK_BLOCKS[2].cout
    block2.out_channels = NANOTRACK_BLOCKS[5].cout
    block3.out_channels = NANOTRACK_BLOCKS[7].cout
    return stem, block2, block3


def _weighted_layers(stages: tuple[nn.Module, ...]) -> list[nn.Module]:
    return [m for stage in stages for m in stage.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]


def load_nanotrack_backbone(stages: tuple[nn.Module, nn.Module, nn.Module], onnx_file: str | Path) -> int:
    """Copy the weights of NanoTrack v2's backbone ONNX graph (``nanotrack_backbone_sim.onnx``)
    into ``(stem, block2, block3)`` built by :func:`mobile_stages`.

    The graph's Conv and Gemm nodes are matched in order to this module's convolutions and linear
    layers; every shape must agree. Needs the ``onnx`` package (``pip install "dcffnet[convert]"``).

    Returns:
        The number of tensors copied.

    Raises:
        FileNotFoundError: no such file. ImportError: ``onnx`` is not installed.
        ValueError: the graph does not have this layout (count or shape mismatch, named).
    """
    path = Path(onnx_file)
    if not path.is_file():
        raise FileNotFoundError(f"NanoTrack backbone ONNX file not found: {path}")
    try:
        import onnx
        from onnx import numpy_helper
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError('reading ONNX weights needs the onnx package: pip install "dcffnet[convert]"') from exc
    graph = onnx.load(str(path)).graph
    inits = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    found = []
    for node in graph.node:
        if node.op_type in ("Conv", "Gemm"):
            weights = [inits[name] for name in node.input[1:] if name in inits]
            if node.op_type == "Gemm":
                trans_b = next((a.i for a in node.attribute if a.name == "transB"), 0)
                if not trans_b:
                    weights[0] = weights[0].T
            found.append((node.name or node.output[0], weights))
    layers = _weighted_layers(stages)
    if len(found) != len(layers):
        raise ValueError(f"{path}: {len(found)} Conv/Gemm nodes, but the NanoTrack layout has {len(layers)} "
                         "weighted layers: not NanoTrack v2's backbone")
    copied = 0
    with torch.no_grad():
        for layer, (name, weights) in zip(layers, found):
            params = [layer.weight, layer.bias]
            if len(weights) != 2:
                raise ValueError(f"{path}: node {name} has {len(weights)} weight tensors, expected weight and bias")
            for param, value in zip(params, weights):
                if tuple(param.shape) != tuple(value.shape):
                    raise ValueError(f"{path}: node {name} has shape {tuple(value.shape)}, "
                                     f"this layer expects {tuple(param.shape)}")
                param.copy_(torch.from_numpy(value.copy()))
                copied += 1
    return copied
