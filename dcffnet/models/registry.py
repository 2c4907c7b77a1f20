"""Named model configurations: ``register_model``, ``list_models()`` and ``get_config(name)``.

Building a network from a name is :func:`dcffnet.models.create` (in :mod:`dcffnet.models.dcffnet`,
so this module holds data only and the network can check architecture names without a cycle).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

from .config import ModelConfig

__all__ = ["config_from_checkpoint", "register_model", "list_models", "get_config"]

_REGISTRY: dict[str, Callable[[], ModelConfig]] = {}


def register_model(name: str) -> Callable[[Callable[[], ModelConfig]], Callable[[], ModelConfig]]:
    """Decorator registering a function that returns the :class:`ModelConfig` of ``name``."""

    def wrap(fn: Callable[[], ModelConfig]) -> Callable[[], ModelConfig]:
        if name in _REGISTRY:
            raise ValueError(f"model {name!r} is already registered")
        _REGISTRY[name] = fn
        return fn

    return wrap


def list_models() -> list[str]:
    """Names of every registered configuration, sorted."""
    return sorted(_REGISTRY)


def get_config(name: str, **overrides: Any) -> ModelConfig:
    """The :class:`ModelConfig` registered as ``name`` with ``overrides`` applied.

    Raises:
        KeyError: unknown ``name`` (the message lists the known ones).
        TypeError: an override that is not a model argument.
    """
    if name not in _REGISTRY:
        raise KeyError(f"unknown model {name!r}; available: {', '.join(list_models())}")
    base = _REGISTRY[name]()
    known = {f.name for f in dataclasses.fields(ModelConfig)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise TypeError(f"unknown model argument(s) {unknown} for {name!r}; known: {sorted(known)}")
    return dataclasses.replace(base, **overrides)


@register_model("dcffnet_r50")
def _dcffnet_r50() -> ModelConfig:
    """The paper's network: ResNet-50 widths, layer2 x4 and layer3 x6 bottlenecks, 256-wide neck and head."""
    return ModelConfig()


@register_model("dcffnet_small")
def _dcffnet_small() -> ModelConfig:
    """Half width, fewer blocks (layer2 x2, layer3 x3): a CPU config of the same topology."""
    return ModelConfig(stem_channels=(32, 32, 32), block2_planes=64, block2_blocks=2, block3_planes=128,
                       block3_blocks=3, neck_channels=128, head_channels=128, tower_convs=4, gn_groups=32)


@register_model("dcffnet_tiny")
def _dcffnet_tiny() -> ModelConfig:
    """Quarter width, one bottleneck per stage, two-conv towers, paper crop sizes (127/255)."""
    return ModelConfig(stem_channels=(16, 16, 16), block2_planes=32, block2_blocks=1, block3_planes=64,
                       block3_blocks=1, neck_channels=64, head_channels=64, tower_convs=2, gn_groups=16)


@register_model("dcffnet_nano")
def _dcffnet_nano() -> ModelConfig:
    """The smallest config: 95/191 crops, narrow stages, one-conv towers; built for real-time CPU tracking."""
    return ModelConfig(stem_channels=(8, 8, 16), block2_planes=16, block2_blocks=1, block3_planes=32,
                       block3_blocks=1, neck_channels=64, head_channels=64, tower_convs=1, gn_groups=16,
                       template_size=95, search_size=191)


@register_model("dcffnet_mobile")
def _dcffnet_mobile() -> ModelConfig:
    """NanoTrack v2's MobileNetV3 stages (load its pretrained weights with ``backbone_init``) with both
    correlation-fusion modules, a padded 64-wide neck, the central 4x4 template cells as kernel
    (13x13 response, stride 16) and a 3-conv CAR tower; BGR 0-255 input as NanoTrack takes it."""
    return ModelConfig(backbone="mobilenet", neck_channels=64, neck_padding=1, template_crop=4, head_channels=64,
                       tower_convs=3, gn_groups=16, template_size=127, search_size=255,
                       pixel_mean=(0.0, 0.0, 0.0), pixel_std=(1.0, 1.0, 1.0))


@register_model("dcffnet_v3")
def _dcffnet_v3() -> ModelConfig:
    """NanoTrack v3's network (MobileNetV3 backbone with BatchNorm, no neck, its BAN head with
    pixel-wise + depthwise correlation and 6-block separable towers; 15x15 response, stride 16) with
    both correlation-fusion modules; BGR 0-255 input. Import v3's trained tensors with
    :func:`dcffnet.models.import_nanotrack_v3`, which starts the CF modules at zero output."""
    return ModelConfig(backbone="nanotrack_v3", neck_channels=96, head="ban", head_channels=96, tower_convs=6,
                       template_size=127, search_size=255, pixel_mean=(0.0, 0.0, 0.0), pixel_std=(1.0, 1.0, 1.0))


def config_from_checkpoint(info: Any) -> ModelConfig:
    """The :class:`ModelConfig` a checkpoint's :class:`~dcffnet.checkpoint.CheckpointInfo` describes
    (its ``architecture`` must be registered or ``"custom"``; ``model_args`` every field).

    Raises:
        CheckpointError: an architecture name this library does not know, or invalid ``model_args``.
    """
    from ..errors import CheckpointError

    if info.architecture != "custom" and info.architecture not in list_models():
        raise CheckpointError(f"unknown architecture {info.architecture!r} in config.json; known: {list_models()}")
    try:
        return ModelConfig.from_dict(info.model_args)
    except (TypeError, ValueError) as exc:
        raise CheckpointError(f"invalid model_args in config.json: {exc}") from exc
