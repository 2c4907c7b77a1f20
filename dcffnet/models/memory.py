"""What a model configuration costs before it is built: parameters and activations
(:func:`memory_estimate`), and the checks that keep a configuration from a file within
:data:`MODEL_MEMORY_CAP_MB` and buildable (:func:`check_buildable`).

A ``config.json`` may come from anyone on a hub; every field is bounded
(:data:`~dcffnet.models.config.FIELD_BOUNDS`), but bounded fields still combine into networks of
many gigabytes, so :meth:`dcffnet.checkpoint.CheckpointInfo.from_dict` refuses any configuration
whose estimate is over the cap before a tensor is allocated.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .config import ModelConfig
from .shapes import NANOTRACK_BLOCKS, STEM_CHANNELS, feature_sizes, template_crop_window

__all__ = ["MODEL_MEMORY_CAP_MB", "MemoryEstimate", "memory_estimate", "check_geometry", "check_buildable"]

#: the largest :func:`memory_estimate` (float32 parameters and buffers plus the activations of one
#: template crop and of the search crops one frame batches) a configuration from a file may need, in MiB
MODEL_MEMORY_CAP_MB = 2048


@dataclass(frozen=True)
class MemoryEstimate:
    """What building and running a network needs, counted in float32 values (4 bytes each).

    Attributes:
        parameters: entries of the ``state_dict`` (parameters and buffers), exact.
        activations: the outputs of every layer for one template crop plus ``search_crops`` search
            crops (all of them, as if none were freed: an upper bound of what one forward pass holds).
    """

    parameters: int
    activations: int

    @property
    def megabytes(self) -> float:
        """``4 * (parameters + activations)`` bytes in MiB."""
        return 4.0 * (self.parameters + self.activations) / 2**20


def check_buildable(config: ModelConfig, search_crops: int = 1) -> MemoryEstimate:
    """:func:`check_geometry`, then the memory cap with ``search_crops`` search crops per frame.

    Returns:
        The estimate.

    Raises:
        ValueError: the geometry check fails, or the estimate is over :data:`MODEL_MEMORY_CAP_MB`.
    """
    check_geometry(config)
    estimate = memory_estimate(config, search_crops)
    if estimate.megabytes > MODEL_MEMORY_CAP_MB:
        raise ValueError(
            f"this configuration needs about {estimate.megabytes:.0f} MiB with {search_crops} search crop(s) "
            f"({estimate.parameters} parameters, {estimate.activations} activations, float32), over the "
            f"{MODEL_MEMORY_CAP_MB} MiB a dcffnet model may use: lower the channel counts, block counts, crop "
            "sizes or redetect_tiles"
        )
    return estimate


def check_geometry(config: ModelConfig) -> None:
    """Refuse a configuration whose template map vanishes, or whose ``template_crop`` does not fit
    that map with an even margin (``ValueError`` naming the field; see
    :func:`~dcffnet.models.shapes.template_crop_window`)."""
    template_crop_window(config)


def memory_estimate(config: ModelConfig, search_crops: int = 1) -> MemoryEstimate:
    """Parameters (exact) and activations (one template crop plus ``search_crops`` search crops)
    of the network this configuration builds, computed from the fields alone (nothing is
    allocated)."""
    template = feature_sizes(config, config.template_size)
    search = feature_sizes(config, config.search_size)
    kernel = config.template_crop or template["conv6"]
    response = max(search["conv6"] - kernel + 1, 1)
    params, stem_out, block3_out = _backbone_parameters(config)
    params += _neck_parameters(block3_out, config.neck_channels)
    params += _batchnorm(stem_out) * config.uses_first_cf + _batchnorm(block3_out) * config.uses_second_cf
    params += (_car_parameters(config.neck_channels, config.head_channels, config.tower_convs)
               if config.head == "car" else 2)
    acts = _branch_activations(config, config.template_size, template, template, stem_out, block3_out,
                               fused=config.template_fusion == "self")
    per_search = _branch_activations(config, config.search_size, search, template, stem_out, block3_out, fused=True)
    head_width = (2 + 2 * config.tower_convs) * config.head_channels + 6 if config.head == "car" else 1
    per_search += (config.neck_channels + head_width) * response ** 2
    return MemoryEstimate(parameters=params, activations=acts + search_crops * per_search)


def _backbone_parameters(config: ModelConfig) -> tuple[int, int, int]:
    """``(state_dict entries, stem output channels, block3 output channels)`` of the backbone."""
    if config.backbone == "mobilenet":
        params = 3 * STEM_CHANNELS * 9 + STEM_CHANNELS
        for spec in NANOTRACK_BLOCKS:
            mid = spec.expand or spec.cin
            params += (spec.cin * mid + mid) if spec.expand else 0
            params += mid * spec.kernel ** 2 + mid + mid * spec.cout + spec.cout
            params += (2 * mid * spec.se + spec.se + mid) if spec.se else 0
        return params, NANOTRACK_BLOCKS[2].cout, NANOTRACK_BLOCKS[7].cout
    c1, c2, c3 = config.stem_channels
    params = 3 * c1 * 49 + c1 * c2 * 9 + c2 * c3 * 9 + _batchnorm(c1) + _batchnorm(c2) + _batchnorm(c3)
    params += _stage_parameters(c3, config.block2_planes, config.block2_blocks)
    params += _stage_parameters(4 * config.block2_planes, config.block3_planes, config.block3_blocks)
    return params, c3, 4 * config.block3_planes


def _branch_activations(config: ModelConfig, crop: int, sizes: dict[str, int], kernels: dict[str, int],
                        stem_out: int, block3_out: int, fused: bool) -> int:
    """Backbone, CF (where ``fused``) and neck outputs for one ``crop``-pixel input whose maps
    have ``sizes``, its CF kernels (the template's maps) ``kernels``."""
    stem, block = sizes["stem"], sizes["block3"]
    acts = 3 * crop ** 2
    if config.backbone == "mobilenet":
        side = math.ceil(crop / 2)
        acts += STEM_CHANNELS * side ** 2
        for spec in NANOTRACK_BLOCKS:
            out = math.ceil(side / spec.stride)
            mid = spec.expand or spec.cin
            acts += mid * side ** 2 * bool(spec.expand) + 2 * mid * out ** 2 + spec.cout * out ** 2
            side = out
    else:
        c1, c2, c3 = config.stem_channels
        p2, p3 = config.block2_planes, config.block3_planes
        acts += (c1 + c2 + c3) * stem ** 2
        acts += p2 * stem ** 2 + (10 * p2 + 6 * p2 * (config.block2_blocks - 1)) * block ** 2
        acts += (10 * p3 + 6 * p3 * (config.block3_blocks - 1)) * block ** 2
    for used, channels, side, kernel in ((config.uses_first_cf, stem_out, stem, kernels["stem"]),
                                         (config.uses_second_cf, block3_out, block, kernels["block3"])):
        if used and fused:
            reply = max(side - kernel + 1, 1)
            factor = config.cf_upsample or max(1, math.ceil(side / reply))
            acts += channels * ((factor * reply) ** 2 + reply ** 2 + 2 * side ** 2)
    acts += config.neck_channels * (sizes["conv4"] ** 2 + sizes["conv5"] ** 2 + sizes["conv6"] ** 2)
    return int(acts)


def _batchnorm(channels: int) -> int:
    """``state_dict`` entries of a ``BatchNorm2d``: weight, bias, running mean and variance, step count."""
    return 4 * channels + 1


def _stage_parameters(inplanes: int, planes: int, blocks: int) -> int:
    """``state_dict`` entries of a ResNet stage of ``blocks`` torchvision bottlenecks."""
    width = 4 * planes

    def bottleneck(cin: int) -> int:
        return cin * planes + 9 * planes * planes + planes * width + 2 * _batchnorm(planes) + _batchnorm(width)

    # the first block gets a 1x1 downsample where the widths differ (always, as it strides or widens)
    first = bottleneck(inplanes) + (inplanes * width + _batchnorm(width) if inplanes != width else 0)
    return first + (blocks - 1) * bottleneck(width)


def _neck_parameters(inplanes: int, channels: int) -> int:
    return inplanes * channels + 2 * 9 * channels * channels + 3 * _batchnorm(channels)


def _car_parameters(inplanes: int, channels: int, tower_convs: int) -> int:
    tower = tower_convs * (9 * channels * channels + channels + 2 * channels)  # conv + GroupNorm
    return inplanes * channels + channels + 2 * tower + 9 * channels * 6 + 6
