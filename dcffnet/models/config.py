"""The model configuration: every argument that defines a DCFFNet, serialisable to ``config.json``."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from ..fields import reject_unknown_keys

__all__ = ["ModelConfig", "CF_CHOICES", "HEAD_CHOICES", "BACKBONE_CHOICES"]

CF_CHOICES = ("none", "first", "second", "double")
BACKBONE_CHOICES = ("resnet", "mobilenet")
HEAD_CHOICES = ("siamfc", "car")


@dataclass(frozen=True)
class ModelConfig:
    """Architecture of one DCFFNet variant.

    Sizes are in pixels of the network input crops; channel counts are per layer.

    Attributes:
        backbone: ``resnet`` (the paper's partial ResNet-50: stem, layer2, dilated layer3; sized by
            the fields below) or ``mobilenet`` (NanoTrack v2's MobileNetV3 stages, fixed widths,
            stride 16; see ``dcffnet.models.mobilenet``). The CF modules sit between the stages of either.
        stem_channels: output channels of conv1, conv2, conv3 (conv1 is 7x7 stride 3, the others 3x3).
        block2_planes / block2_blocks: ResNet ``layer2`` bottleneck width and depth (output 4x planes, stride 2).
        block3_planes / block3_blocks / block3_dilation: ResNet ``layer3`` (stride 1, dilated).
        neck_channels: conv4-conv6 width (the feature width both heads see).
        neck_padding: padding of the 3x3 conv5/conv6 (0: each shrinks the map by 2; 1: sizes kept).
        template_crop: side (cells) of the central part of the template's neck map used as the head's
            kernel (as SiamRPN++ crops 15x15 to 7x7); 0 = the whole map.
        cf: which correlation-fusion modules exist: ``none`` | ``first`` | ``second`` | ``double``.
        template_fusion: ``none`` (template passes through) or ``self`` (see ``CorrelationFusion``).
        cf_upsample: integer upsampling factor of CF responses, ``None`` = smallest that covers the map.
        head: ``siamfc`` (stage 1, one-channel response) or ``car`` (stage 2, cls + reg).
        head_channels / tower_convs / gn_groups: CAR head width, convs per tower, GroupNorm groups.
        siamfc_scale_init: initial value of the SiamFC head's learnable output scale.
        template_size / search_size: input crop sides in pixels (127 / 255 in the paper).
        pixel_mean / pixel_std: per-channel normalisation applied inside the network to BGR 0-255 input.
    """

    backbone: str = "resnet"
    stem_channels: tuple[int, int, int] = (64, 64, 64)
    block2_planes: int = 128
    block2_blocks: int = 4
    block3_planes: int = 256
    block3_blocks: int = 6
    block3_dilation: int = 2
    neck_channels: int = 256
    neck_padding: int = 0
    template_crop: int = 0
    cf: str = "double"
    template_fusion: str = "none"
    cf_upsample: int | None = None
    head: str = "car"
    head_channels: int = 256
    tower_convs: int = 4
    gn_groups: int = 32
    siamfc_scale_init: float = 10.0
    template_size: int = 127
    search_size: int = 255
    pixel_mean: tuple[float, float, float] = (103.53, 116.28, 123.675)
    pixel_std: tuple[float, float, float] = (57.375, 57.12, 58.395)
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Normalise JSON lists back to tuples so a round trip compares equal.
        for name in ("stem_channels", "pixel_mean", "pixel_std"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        if self.backbone not in BACKBONE_CHOICES:
            raise ValueError(f"backbone must be one of {BACKBONE_CHOICES}, got {self.backbone!r}")
        if self.neck_padding not in (0, 1):
            raise ValueError(f"neck_padding must be 0 or 1, got {self.neck_padding!r}")
        if self.template_crop < 0:
            raise ValueError(f"template_crop must be >= 0 cells, got {self.template_crop!r}")
        if self.cf not in CF_CHOICES:
            raise ValueError(f"cf must be one of {CF_CHOICES}, got {self.cf!r}")
        if self.head not in HEAD_CHOICES:
            raise ValueError(f"head must be one of {HEAD_CHOICES}, got {self.head!r}")
        if self.template_fusion not in ("none", "self"):
            raise ValueError(f"template_fusion must be 'none' or 'self', got {self.template_fusion!r}")
        if len(self.stem_channels) != 3 or min(self.stem_channels) < 1:
            raise ValueError(f"stem_channels must be three positive ints, got {self.stem_channels!r}")
        for name in ("block2_planes", "block2_blocks", "block3_planes", "block3_blocks", "block3_dilation",
                     "neck_channels", "head_channels", "gn_groups"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)!r}")
        if self.tower_convs < 0:
            raise ValueError(f"tower_convs must be >= 0, got {self.tower_convs!r}")
        if self.head_channels % self.gn_groups:
            raise ValueError(f"head_channels ({self.head_channels}) must be divisible by gn_groups ({self.gn_groups})")
        if self.template_size < 16 or self.search_size <= self.template_size:
            raise ValueError(
                f"need 16 <= template_size < search_size, got template_size={self.template_size}, "
                f"search_size={self.search_size}"
            )
        if len(self.pixel_mean) != 3 or len(self.pixel_std) != 3 or min(self.pixel_std) <= 0:
            raise ValueError("pixel_mean and pixel_std must have 3 values, pixel_std positive")

    @property
    def uses_first_cf(self) -> bool:
        return self.cf in ("first", "double")

    @property
    def uses_second_cf(self) -> bool:
        return self.cf in ("second", "double")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict of every field (tuples become lists)."""
        out = dataclasses.asdict(self)
        for key, value in out.items():
            if isinstance(value, tuple):
                out[key] = list(value)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ModelConfig":
        """Inverse of :meth:`to_dict`; unknown keys raise ``ValueError`` naming them."""
        reject_unknown_keys(cls, data, "model argument(s)")
        return cls(**data)
