"""Training configuration: explicit dataclasses, loaded from YAML recipes with ``--set key=value`` overrides."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args, get_origin, get_type_hints

import yaml

from ..fields import reject_unknown_keys

__all__ = ["DatasetSpec", "DataConfig", "AugmentConfig", "OptimConfig", "LossConfig", "DistillConfig", "TrainConfig",
           "load_recipe", "apply_overrides", "recipe_path", "list_recipes", "RECIPES_DIR"]

RECIPES_DIR = Path(__file__).parent / "recipes"


@dataclass
class DatasetSpec:
    """One dataset of the training mixture.

    Attributes:
        format: reader name: ``folder``, ``got10k``, ``lasot``, ``uav123``, ``imagenet_vid``, ``coco``, ``images``.
        root: dataset root (for ``coco`` the ``instances_*.json`` file); relative paths are taken
            from ``DataConfig.data_root``. Environment variables are expanded.
        weight: sampling weight in the mixture (probability proportional to it).
        frame_range: largest frame gap between template and search frames of a video pair.
        options: extra reader keyword arguments (e.g. ``split_file``, ``image_dir``, ``subset``).
    """

    format: str
    root: str
    weight: float = 1.0
    frame_range: int = 100
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class DataConfig:
    """Data pipeline.

    Attributes:
        datasets: the mixture.
        data_root: base folder for relative dataset roots (default: the working directory).
        samples_per_epoch: template/search pairs per epoch (over all processes).
        val_fraction: share of each dataset's tracks held out for validation (paper: 10%).
        val_samples: pairs scored for the validation loss at the end of each epoch (0 = none).
        num_workers: DataLoader worker processes per training process.
        exclude: track-name substrings to leave out (e.g. evaluation sequences).
    """

    datasets: list[DatasetSpec] = field(default_factory=list)
    data_root: str = "."
    samples_per_epoch: int = 10000
    val_fraction: float = 0.1
    val_samples: int = 0
    num_workers: int = 2
    exclude: list[str] = field(default_factory=list)


@dataclass
class AugmentConfig:
    """Pair augmentation (crop pixels refer to the network's template/search crops).

    Attributes:
        template_shift / template_scale: jitter of the template crop centre (pixels) and size (fraction).
        search_shift / search_scale: displacement of the target from the search-crop centre (pixels,
            uniform in [-shift, shift]) and log-uniform size jitter (fraction).
        flip: probability of mirroring a pair; gray: probability of a grayscale pair.
        color: strength of brightness/contrast jitter (0 = off); blur: probability of Gaussian blur.
        rotation: largest in-plane rotation of the search crop in degrees (0 = off).
        search_aspect: largest log aspect-ratio stretch of the search crop (0 = off): width times
            ``e^(a/2)``, height times ``e^(-a/2)`` with ``a`` uniform in ``[-search_aspect, search_aspect]``;
            the target's shape then differs from the template's, so the regression must read it.
        negative: probability of a negative pair (search region from another object).
    """

    template_shift: float = 4.0
    template_scale: float = 0.05
    search_shift: float = 48.0
    search_scale: float = 0.18
    flip: float = 0.5
    gray: float = 0.1
    color: float = 0.0
    blur: float = 0.0
    rotation: float = 0.0
    search_aspect: float = 0.0
    negative: float = 0.0


@dataclass
class OptimConfig:
    """SGD and a step learning-rate schedule (epochs where the lr is multiplied by ``gamma``)."""

    lr: float = 0.01
    momentum: float = 0.9
    weight_decay: float = 5e-4
    milestones: list[int] = field(default_factory=list)
    gamma: float = 0.1
    warmup_epochs: int = 0
    grad_clip: float = 10.0


@dataclass
class LossConfig:
    """Targets and loss weights.

    Attributes:
        r_pos: stage 1 positive radius around the target centre, in search-crop pixels (SiamFC: 16).
        cls_positive: stage 2 positives: ``inside`` (the cell's point lies inside the GT box, as the
            paper says) or ``central`` (SiamCAR's central region, ``central_fraction`` of w and h).
        central_fraction: half-extent of the central region as a fraction of the box size.
        reg_weight: weight of the IoU loss (paper: 1).
    """

    r_pos: float = 16.0
    cls_positive: str = "inside"
    central_fraction: float = 0.2
    reg_weight: float = 1.0


@dataclass
class DistillConfig:
    """Optional distillation from a pretrained tracker (see :mod:`dcffnet.train.distill`).

    Attributes:
        teacher: ONNX backbone run with ``cv2.dnn`` on the crops (BGR 0-255), e.g. NanoTrack v2's
            ``nanotrack_backbone_sim.onnx``; empty = no distillation.
        weight: weight of the feature-distillation term (search features vs the teacher backbone's);
            0 turns that term off.
        head: the teacher's ONNX head (e.g. ``nanotrack_head_sim.onnx``); with ``teacher`` it turns
            on response distillation (stage 2, CAR head): the teacher's classification and box maps
            on the same crop pair are soft targets for the student's.
        cls_weight, reg_weight: weights of the response-distillation classification and box terms.
    """

    teacher: str = ""
    weight: float = 1.0
    head: str = ""
    cls_weight: float = 1.0
    reg_weight: float = 1.0


@dataclass
class TrainConfig:
    """One training stage.

    Attributes:
        stage: 1 (SiamFC pre-training from scratch) or 2 (CAR fine-tuning from ``init_from``).
        architecture: registered model name; ``model``: overrides of its :class:`ModelConfig` fields.
        init_from: stage 2: the stage-1 checkpoint folder (or name / hub id) to start from.
        backbone_init: for ``backbone: mobilenet`` models: NanoTrack v2's backbone ONNX file whose
            pretrained weights initialise the backbone (then stage 2 may start without ``init_from``;
            the correlation-fusion outputs start at zero so the pretrained features pass unchanged).
        trainable: module-name prefixes that train in stage 2 (the rest is frozen, BN statistics too).
        epochs, batch_size: per the paper, batch is per process.
        seed: seeds the model init and every sample (sample ``i`` of epoch ``e`` depends only on them).
        device: ``None`` = CUDA when available, else CPU. amp: mixed precision on CUDA.
        log_every: steps between metric lines.
    """

    stage: int = 1
    architecture: str = "dcffnet_r50"
    model: dict[str, Any] = field(default_factory=dict)
    init_from: str | None = None
    backbone_init: str | None = None
    trainable: list[str] = field(default_factory=lambda: ["neck.conv5", "neck.conv6", "head"])
    epochs: int = 1
    batch_size: int = 32
    seed: int = 0
    device: str | None = None
    amp: bool = True
    log_every: int = 20
    data: DataConfig = field(default_factory=DataConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    distill: DistillConfig = field(default_factory=DistillConfig)
    description: str = ""

    def __post_init__(self) -> None:
        if self.stage not in (1, 2):
            raise ValueError(f"stage must be 1 or 2, got {self.stage!r}")
        if self.stage == 2 and not self.init_from and not self.backbone_init:
            raise ValueError("stage 2 needs init_from (the stage-1 checkpoint folder) or backbone_init")
        if self.epochs < 1 or self.batch_size < 1:
            raise ValueError(f"epochs and batch_size must be >= 1, got {self.epochs}, {self.batch_size}")
        if self.loss.cls_positive not in ("inside", "central"):
            raise ValueError(f"loss.cls_positive must be 'inside' or 'central', got {self.loss.cls_positive!r}")
        if not self.data.datasets:
            raise ValueError("data.datasets is empty: a recipe needs at least one dataset")
        if self.distill.head and not self.distill.teacher:
            raise ValueError("distill.head needs distill.teacher (the teacher's backbone ONNX file)")
        if self.distill.head and self.stage != 2:
            raise ValueError("distill.head (response distillation) needs stage 2: the student's CAR head")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _build(cls: type, data: Any, where: str) -> Any:
    """Recursively build dataclass ``cls`` from plain YAML data, rejecting unknown keys."""
    if not dataclasses.is_dataclass(cls):
        return data
    if not isinstance(data, dict):
        raise ValueError(f"{where or 'recipe'} must be a mapping, got {type(data).__name__}")
    hints = get_type_hints(cls)
    reject_unknown_keys(cls, data, f"key(s) in {where or 'recipe'}:")
    kwargs = {}
    for key, value in data.items():
        hint = hints[key]
        if get_origin(hint) is list and get_args(hint) and dataclasses.is_dataclass(get_args(hint)[0]):
            kwargs[key] = [_build(get_args(hint)[0], v, f"{where}.{key}[{i}]".lstrip(".")) for i, v in enumerate(value)]
        elif dataclasses.is_dataclass(hint):
            kwargs[key] = _build(hint, value, f"{where}.{key}".lstrip("."))
        else:
            kwargs[key] = value
    return cls(**kwargs)


def apply_overrides(data: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Apply ``key.sub=value`` strings (values parsed as YAML) to a nested recipe dict, in place."""
    for item in overrides:
        if "=" not in item:
            raise ValueError(f"--set expects key=value, got {item!r}")
        key, raw = item.split("=", 1)
        node = data
        parts = key.strip().split(".")
        for part in parts[:-1]:
            if isinstance(node, list):
                node = node[int(part)]
            else:
                node = node.setdefault(part, {})
        value = yaml.safe_load(raw)
        if isinstance(node, list):
            node[int(parts[-1])] = value
        else:
            node[parts[-1]] = value
    return data


def recipe_path(name_or_path: str | os.PathLike[str]) -> Path:
    """A recipe file: the path itself, or a recipe shipped with dcffnet (``cpu-stage1.yaml``)."""
    path = Path(name_or_path)
    if path.is_file():
        return path
    for candidate in (RECIPES_DIR / path.name, RECIPES_DIR / f"{path.name}.yaml"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"recipe {name_or_path!s} not found (shipped recipes: {', '.join(list_recipes())})")


def list_recipes() -> list[str]:
    """File names of the recipes shipped in ``dcffnet/train/recipes``."""
    return sorted(p.name for p in RECIPES_DIR.glob("*.yaml"))


def load_recipe(name_or_path: str | os.PathLike[str], overrides: list[str] | None = None) -> TrainConfig:
    """Load a YAML recipe (a path or a shipped name) with optional ``key=value`` overrides."""
    path = recipe_path(name_or_path)
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ValueError(f"recipe {path} is not valid YAML: {exc}") from exc
    apply_overrides(data, list(overrides or []))
    return _build(TrainConfig, data, "")
