"""DCFFNet assembly: the Siamese data path with its two correlation-fusion stages and a head."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, NamedTuple

import torch
from torch import nn

from ..checkpoint import CheckpointInfo, read_checkpoint, resolve_checkpoint, upload_checkpoint, write_checkpoint
from ..devices import resolve_device
from ..errors import CheckpointError
from ..hparams import TrackerHParams
from .backbone import Neck, Stem, make_resnet_stage
from .ban_head import BANHead
from .config import ModelConfig
from .fusion import Correlate, CorrelationFusion
from .heads import CARHead, SiamFCHead
from .mobilenet import mobile_stages
from .nanotrack_v3_backbone import nanotrack_v3_stages
from .shapes import BLOCK2_STRIDE, feature_sizes, response_geometry, template_crop_window
from .registry import config_from_checkpoint, get_config

__all__ = ["DCFFNet", "TemplateFeatures", "create"]


class TemplateFeatures(NamedTuple):
    """Template-branch features cached at ``init``: the kernels of CF stage 1, CF stage 2 and the head.

    A stage's entry is ``None`` when that CF module is disabled. Batch dimension first.
    """

    stage1: torch.Tensor | None
    stage2: torch.Tensor | None
    final: torch.Tensor

    def index_select(self, index: torch.Tensor) -> "TemplateFeatures":
        """The cache of the samples at ``index`` (a 1-D long tensor)."""
        return TemplateFeatures(*(None if t is None else t.index_select(0, index) for t in self))

    def blend(self, other: "TemplateFeatures", weight: float) -> "TemplateFeatures":
        """``(1 - weight) * self + weight * other``, entry by entry (same shapes; ``weight`` in [0, 1])."""
        return TemplateFeatures(*(None if a is None else a * (1.0 - weight) + b * weight for a, b in zip(self, other)))

    @staticmethod
    def cat(items: "list[TemplateFeatures]") -> "TemplateFeatures":
        """Concatenate caches of several templates along the batch dimension."""
        fields = []
        for parts in zip(*items):
            fields.append(None if parts[0] is None else torch.cat(parts, 0))
        return TemplateFeatures(*fields)


class DCFFNet(nn.Module):
    """Staged Depthwise Correlation and Feature Fusion network.

    Input crops are float tensors ``(B, 3, S, S)`` in BGR order with values 0-255 (the network
    normalises them with ``config.pixel_mean`` / ``pixel_std``); S is ``config.template_size`` for
    the template and ``config.search_size`` for the search region.

    Use :meth:`template` once per target and :meth:`track` per frame, or :meth:`forward` for
    training pairs. The head output is ``{"cls": (B,2,R,R), "reg": (B,4,R,R)}`` for the CAR head and
    ``{"response": (B,1,R,R)}`` for the SiamFC head; ``self.geometry`` maps cells to crop pixels.

    Checkpoints follow the Hugging Face convention: :meth:`save_pretrained` / :meth:`from_pretrained`
    / :meth:`push_to_hub`. A loaded network carries its :class:`~dcffnet.checkpoint.CheckpointInfo`
    as ``checkpoint_info`` (with the tuned tracking hyper-parameters), which
    :class:`~dcffnet.Tracker` reads.
    """

    def __init__(self, config: ModelConfig | None = None, architecture: str = "custom") -> None:
        super().__init__()
        self.config = config = config or ModelConfig()
        self.architecture = architecture
        self.checkpoint_info: CheckpointInfo | None = None
        if config.backbone in ("mobilenet", "nanotrack_v3"):
            stages = mobile_stages if config.backbone == "mobilenet" else nanotrack_v3_stages
            self.stem, self.block2, self.block3 = stages()
            stem_out, block3_out = self.stem.out_channels, self.block3.out_channels
        else:
            stem_out, block3_out = config.stem_channels[2], config.block3_planes * 4
            self.stem = Stem(config.stem_channels)
            self.block2 = make_resnet_stage(stem_out, config.block2_planes, config.block2_blocks,
                                            stride=BLOCK2_STRIDE)
            self.block3 = make_resnet_stage(config.block2_planes * 4, config.block3_planes, config.block3_blocks,
                                            dilation=config.block3_dilation)
        self.cf1 = (CorrelationFusion(stem_out, config.template_fusion, config.cf_upsample)
                    if config.uses_first_cf else None)
        self.cf2 = (CorrelationFusion(block3_out, config.template_fusion, config.cf_upsample)
                    if config.uses_second_cf else None)
        self.feature_channels = block3_out
        if config.backbone == "nanotrack_v3":
            # NanoTrack v3 applies no neck: its head sees the last stage (see nanotrack_v3_backbone)
            if config.neck_channels != block3_out:
                raise ValueError(f"backbone 'nanotrack_v3' has no neck: neck_channels must be its width "
                                 f"{block3_out}, got {config.neck_channels}")
            self.neck: nn.Module = nn.Identity()
        else:
            self.neck = Neck(block3_out, config.neck_channels, config.neck_padding)
        t_sizes = feature_sizes(config, config.template_size)
        s_sizes = feature_sizes(config, config.search_size)
        if t_sizes["conv6"] < 1:
            raise ValueError(f"template_size={config.template_size} is too small: the template map vanishes")
        if config.head == "car":
            self.head: nn.Module = CARHead(config.neck_channels, config.head_channels, config.tower_convs,
                                           config.gn_groups)
        elif config.head == "ban":
            if config.template_crop:
                raise ValueError(f"head 'ban' crops its depthwise kernel itself and needs the whole template map: "
                                 f"template_crop must be 0, got {config.template_crop}")
            self.head = BANHead(config.neck_channels, config.head_channels, t_sizes["conv6"], config.tower_convs)
        else:
            self.head = SiamFCHead(config.siamfc_scale_init)
        self.register_buffer("pixel_mean", torch.tensor(config.pixel_mean).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("pixel_std", torch.tensor(config.pixel_std).view(1, 3, 1, 1), persistent=False)
        # BGR 0-255 straight in (dcffnet_mobile, NanoTrack's convention): skip two whole-crop passes
        self._identity_input = (all(m == 0.0 for m in config.pixel_mean) and all(v == 1.0 for v in config.pixel_std))

        self._template_crop = template_crop_window(config)
        self.feature_sizes = {"template": t_sizes, "search": s_sizes}
        self.geometry = response_geometry(config)

    # ----------------------------------------------------------------------------------------
    def _normalise(self, crops: torch.Tensor) -> torch.Tensor:
        if crops.dim() != 4 or crops.shape[1] != 3:
            raise ValueError(f"crops must be (B, 3, H, W) float tensors, got shape {tuple(crops.shape)}")
        if self._identity_input:
            return crops
        return (crops - self.pixel_mean) / self.pixel_std

    def template(self, z: torch.Tensor, correlate: Correlate | None = None) -> TemplateFeatures:
        """Run the template branch on ``(B, 3, T, T)`` crops and return the features to cache.

        ``correlate`` (see :data:`~dcffnet.models.fusion.Correlate`) is used only by
        ``template_fusion="self"``; the ONNX export passes an equivalent without convolutions.
        """
        f = self.stem(self._normalise(z))
        k1 = None
        if self.cf1 is not None:
            k1 = f
            f = self.cf1.template_branch(f, correlate)
        f = self.block3(self.block2(f))
        k2 = None
        if self.cf2 is not None:
            k2 = f
            f = self.cf2.template_branch(f, correlate)
        final = self.neck(f)
        if self._template_crop is not None:
            start, side = self._template_crop
            final = final[:, :, start:start + side, start:start + side].contiguous()
        return TemplateFeatures(k1, k2, final)

    def search_features(self, x: torch.Tensor, template: TemplateFeatures,
                        correlate: Correlate | None = None) -> torch.Tensor:
        """Run the search branch on ``(B, 3, S, S)`` crops, fused with the cached template features
        (kernels in the form ``correlate`` takes; ``None``: the convolutions the network trains
        with, on the template features themselves)."""
        f = self.stem(self._normalise(x))
        if self.cf1 is not None:
            f = self.cf1.fuse(f, template.stage1, correlate)
        f = self.block3(self.block2(f))
        if self.cf2 is not None:
            f = self.cf2.fuse(f, template.stage2, correlate)
        return self.neck(f)

    def track(self, x: torch.Tensor, template: TemplateFeatures,
              correlate: Correlate | None = None) -> dict[str, torch.Tensor]:
        """Head output for search crops ``x`` given the cached ``template`` features (same batch
        size); ``correlate`` as in :meth:`search_features`."""
        return self.head(self.search_features(x, template, correlate), template.final, correlate)

    def forward(self, z: torch.Tensor, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Training entry point: template crops ``z`` and search crops ``x`` -> head output."""
        return self.track(x, self.template(z))

    # ---------------------------------------------------------------------------------- checkpoints
    def _info(self, tracker: "TrackerHParams | dict[str, Any] | None", training: dict[str, Any] | None,
              metrics: dict[str, Any] | None, calibration: Any = None) -> CheckpointInfo:
        if tracker is not None and not isinstance(tracker, TrackerHParams):
            tracker = TrackerHParams.from_dict(tracker)
        config = self.config
        if calibration is not None and not isinstance(calibration, dict):
            calibration = calibration.to_dict()  # a ScoreCalibration
        return CheckpointInfo(
            architecture=self.architecture, model_args=config.to_dict(), tracker=tracker, training=training,
            metrics=metrics, calibration=calibration,
            input={"color": "bgr", "value_range": [0, 255], "template_size": config.template_size,
                   "search_size": config.search_size, "box_format": "xywh, 0-based continuous pixels"},
        )

    def save_pretrained(self, folder: "str | os.PathLike[str]", *,
                        tracker: "TrackerHParams | dict[str, Any] | None" = None,
                        training: dict[str, Any] | None = None, metrics: dict[str, Any] | None = None,
                        calibration: Any = None) -> Path:
        """Write this network to ``folder`` as ``model.safetensors`` + ``config.json`` (files replaced atomically).

        Args:
            folder: destination folder, created if needed.
            tracker: tracking hyper-parameters to store as the checkpoint's defaults.
            training: description of data and recipe (free-form); metrics: measured results.
            calibration: a :class:`~dcffnet.tracking.calibration.ScoreCalibration` (or its dict) for
                the tracker's scores.

        Returns:
            The folder path.
        """
        return write_checkpoint(folder, self.state_dict(), self._info(tracker, training, metrics, calibration))

    def push_to_hub(self, repo_id: str, *, revision: str | None = None,
                    tracker: "TrackerHParams | dict[str, Any] | None" = None,
                    training: dict[str, Any] | None = None, metrics: dict[str, Any] | None = None,
                    calibration: Any = None, private: bool | None = None, token: "str | bool | None" = None,
                    commit_message: str = "Upload dcffnet checkpoint") -> str:
        """Save to a temporary folder and upload it to hub repository ``repo_id``; returns the commit id."""
        with tempfile.TemporaryDirectory() as tmp:
            self.save_pretrained(tmp, tracker=tracker, training=training, metrics=metrics, calibration=calibration)
            return upload_checkpoint(tmp, repo_id, revision=revision, private=private, token=token,
                                     commit_message=commit_message)

    @classmethod
    def from_checkpoint_info(cls, info: CheckpointInfo) -> "DCFFNet":
        """The randomly initialised network ``info`` describes.

        Raises:
            CheckpointError: an architecture name this library does not know, or invalid ``model_args``.
        """
        return cls(config_from_checkpoint(info), architecture=info.architecture)

    def load_state_strict(self, state: dict[str, torch.Tensor], source: str = "the checkpoint") -> None:
        """``load_state_dict`` that names every missing, unexpected, mis-shaped or mis-typed key.

        Raises:
            CheckpointError: the keys, shapes or dtypes of ``state`` differ from this network's.
        """
        expected = self.state_dict()
        missing = sorted(set(expected) - set(state))
        unexpected = sorted(set(state) - set(expected))
        mismatched = sorted(f"{k}: checkpoint {tuple(state[k].shape)} vs model {tuple(expected[k].shape)}"
                            for k in set(state) & set(expected) if state[k].shape != expected[k].shape)
        # load_state_dict would cast silently: a float16 or integer tensor is not these weights
        wrong_dtype = sorted(f"{k}: checkpoint {state[k].dtype} vs model {expected[k].dtype}"
                             for k in set(state) & set(expected) if state[k].dtype != expected[k].dtype)
        if missing or unexpected or mismatched or wrong_dtype:
            def head(items: list[str]) -> str:
                return ", ".join(items[:10]) + (f" ... (+{len(items) - 10} more)" if len(items) > 10 else "")

            parts = [f"{what}: {head(items)}" for what, items in
                     (("missing keys", missing), ("unexpected keys", unexpected), ("shape mismatches", mismatched),
                      ("dtype mismatches", wrong_dtype))
                     if items]
            raise CheckpointError(f"weights in {source} do not match architecture {self.architecture!r} "
                                  f"({'; '.join(parts)})")
        self.load_state_dict(state, strict=True)

    @classmethod
    def from_folder(cls, folder: "str | os.PathLike[str]") -> "DCFFNet":
        """Load a local checkpoint folder strictly (sha256, keys and shapes checked); CPU, eval mode."""
        info, state = read_checkpoint(folder)
        model = cls.from_checkpoint_info(info)
        model.load_state_strict(state, str(Path(folder) / "model.safetensors"))
        model.checkpoint_info = info
        return model.eval()

    @classmethod
    def from_pretrained(cls, name_or_path: "str | os.PathLike[str]", revision: str | None = None,
                        device: "str | torch.device | None" = None,
                        cache_dir: "str | os.PathLike[str] | None" = None,
                        token: "str | bool | None" = None) -> "DCFFNet":
        """Load a checkpoint: a local folder, a bundled name (``"default"``) or a hub repo id
        (``org/name`` or ``org/name@revision``). The network is in eval mode on ``device`` (default
        CPU) and carries ``checkpoint_info``.

        Raises:
            WeightsNotFoundError: the name resolves to nothing (see :func:`dcffnet.checkpoint.resolve_checkpoint`).
            CheckpointError: corrupt file, sha256 mismatch, missing/unexpected keys or shape mismatch.
        """
        folder = resolve_checkpoint(name_or_path, revision=revision, cache_dir=cache_dir, token=token)
        return cls.from_folder(folder).to(resolve_device(device))

    def extra_repr(self) -> str:
        return f"cf={self.config.cf!r}, head={self.config.head!r}, response={self.geometry.size}x{self.geometry.size}"


def create(name: str, **overrides: Any) -> DCFFNet:
    """Build the registered model ``name`` (randomly initialised), e.g. ``create("dcffnet_r50", cf="first")``."""
    return DCFFNet(get_config(name, **overrides), architecture=name)
