"""The model configuration: every argument that defines a DCFFNet, serialisable to ``config.json``.

A ``config.json`` may come from anyone on a hub, so :class:`ModelConfig` checks every field's
type, finiteness and range (:data:`FIELD_BOUNDS`); what a whole configuration costs in memory
is :mod:`dcffnet.models.memory`'s job.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from ..fields import check_int, check_real, reject_unknown_keys, short_repr

__all__ = ["ModelConfig", "CF_CHOICES", "HEAD_CHOICES", "BACKBONE_CHOICES", "FIELD_BOUNDS"]

CF_CHOICES = ("none", "first", "second", "double")
BACKBONE_CHOICES = ("resnet", "mobilenet", "nanotrack_v3")
HEAD_CHOICES = ("siamfc", "car", "ban")
TEMPLATE_FUSION_CHOICES = ("none", "self")

#: inclusive ``(low, high)`` of every integer field (``stem_channels``: each of the three values);
#: ``cf_upsample`` may also be ``None``
FIELD_BOUNDS: dict[str, tuple[int, int]] = {
    "stem_channels": (1, 4096),
    "block2_planes": (1, 2048),
    "block2_blocks": (1, 64),
    "block3_planes": (1, 2048),
    "block3_blocks": (1, 64),
    "block3_dilation": (1, 16),
    "neck_channels": (1, 4096),
    "neck_padding": (0, 1),
    "template_crop": (0, 1024),
    "cf_upsample": (1, 16),
    "head_channels": (1, 4096),
    "tower_convs": (0, 64),
    "gn_groups": (1, 4096),
    "template_size": (16, 1024),
    "search_size": (17, 2048),
}
#: ``siamfc_scale_init`` and every ``pixel_mean`` value lie within +-this; ``pixel_std`` values in [1e-6, this]
REAL_BOUND = 1e6


@dataclass(frozen=True)
class ModelConfig:
    """Architecture of one DCFFNet variant.

    Sizes are in pixels of the network input crops; channel counts are per layer.

    Attributes:
        backbone: ``resnet`` (the paper's partial ResNet-50: stem, layer2, dilated layer3; sized by
            the fields below) or ``mobilenet`` (NanoTrack v2's MobileNetV3 stages, fixed widths,
            stride 16; see ``dcffnet.models.mobilenet``) or ``nanotrack_v3`` (NanoTrack v3's ten
            MobileNetV3 blocks with BatchNorm, 96 channels, stride 16, no neck: the head sees the last
            stage, so ``neck_channels`` must be 96; see ``dcffnet.models.nanotrack_v3_backbone``).
            The CF modules sit between the stages of each.
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
        head: ``siamfc`` (stage 1, one-channel response), ``car`` (stage 2, cls + reg) or ``ban``
            (NanoTrack v3's head: pixel-wise + depthwise correlation, cls + reg; it crops its own
            depthwise kernel, so ``template_crop`` must be 0; see ``dcffnet.models.ban_head``).
        head_channels / tower_convs / gn_groups: CAR or BAN head width, convs (BAN: separable
            blocks) per tower, GroupNorm groups (CAR only).
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
        """Check every field (type, finiteness, :data:`FIELD_BOUNDS`).

        Raises:
            TypeError: a field of the wrong type, naming it.
            ValueError: a value out of its range or choices, naming the field and what is allowed.
        """
        for name, choices in (("backbone", BACKBONE_CHOICES), ("cf", CF_CHOICES), ("head", HEAD_CHOICES),
                              ("template_fusion", TEMPLATE_FUSION_CHOICES)):
            if not isinstance(getattr(self, name), str) or getattr(self, name) not in choices:
                raise ValueError(f"{name} must be one of {choices}, got {short_repr(getattr(self, name))}")
        # JSON lists become tuples so a round trip compares equal
        object.__setattr__(self, "stem_channels", self._triple("stem_channels", self._int_item))
        object.__setattr__(self, "pixel_mean", self._triple(
            "pixel_mean", lambda v, n: check_real(v, n, -REAL_BOUND, REAL_BOUND)))
        object.__setattr__(self, "pixel_std", self._triple(
            "pixel_std", lambda v, n: check_real(v, n, 1e-6, REAL_BOUND)))
        for name, (low, high) in FIELD_BOUNDS.items():
            if name == "stem_channels" or (name == "cf_upsample" and self.cf_upsample is None):
                continue
            object.__setattr__(self, name, check_int(getattr(self, name), name, low, high))
        object.__setattr__(self, "siamfc_scale_init",
                           check_real(self.siamfc_scale_init, "siamfc_scale_init", -REAL_BOUND, REAL_BOUND))
        if not isinstance(self.extra, dict) or not all(isinstance(k, str) for k in self.extra):
            raise TypeError(f"extra must be a mapping with string keys, got {short_repr(self.extra)}")
        if self.head_channels % self.gn_groups:
            raise ValueError(f"head_channels ({self.head_channels}) must be divisible by gn_groups ({self.gn_groups})")
        if self.search_size <= self.template_size:
            raise ValueError(
                f"need 16 <= template_size < search_size, got template_size={self.template_size}, "
                f"search_size={self.search_size}"
            )

    def _triple(self, name: str, check: Any) -> tuple[Any, Any, Any]:
        """Field ``name`` as a tuple of three values, each passed through ``check(value, label)``."""
        value = getattr(self, name)
        if isinstance(value, (str, bytes, dict)) or not hasattr(value, "__len__") or len(value) != 3:
            raise TypeError(f"{name} must be a list of three values, got {short_repr(value)}")
        return tuple(check(v, f"{name}[{i}]") for i, v in enumerate(value))  # type: ignore[return-value]

    @staticmethod
    def _int_item(value: Any, label: str) -> int:
        low, high = FIELD_BOUNDS["stem_channels"]
        return check_int(value, label, low, high)

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
