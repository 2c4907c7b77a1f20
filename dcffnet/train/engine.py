"""The training loop: model set-up per stage, DDP, AMP, per-epoch atomic checkpoints, exact resume.

Output folder layout (``--out DIR``)::

    DIR/recipe.yaml        the resolved recipe
    DIR/train_state.pt     model + optimizer + scheduler + epoch + RNG states (atomic, every epoch)
    DIR/metrics.jsonl      one JSON object per logged step and per epoch
    DIR/checkpoint/        config.json + model.safetensors, loadable by Tracker.from_pretrained
"""

from __future__ import annotations

import dataclasses
import json
import os
import random
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
import yaml
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler, SequentialSampler

from ..atomic import atomic_path, atomic_write_text
from ..models import DCFFNet, create
from ..models.config import ModelConfig
from ..models.mobilenet import load_nanotrack_backbone
from ..models.nanotrack_v3_import import load_nanotrack_v3, zero_cf_outputs
from ..models.registry import get_config
from .config import TrainConfig
from .distill import FeatureCapture, OnnxTeacher, ResponseTeacher, distill_loss, response_distill_loss
from .losses import balanced_logistic_loss, car_loss
from .sampling import PairDataset, load_mixture
from .targets import car_targets, siamfc_labels

__all__ = ["build_model", "freeze_for_stage2", "portable_recipe", "train", "Trainer"]


# ------------------------------------------------------------------------------------------- model
def _init_pretrained_backbone(model: DCFFNet, source: str) -> DCFFNet:
    """Start from NanoTrack's trained weights with the CF modules at zero output (the pretrained
    features pass unchanged): v2's backbone graph (``backbone: mobilenet``, an ``.onnx`` file) or
    v3's whole network (``backbone: nanotrack_v3``, its ``.safetensors`` state dict)."""
    if model.config.backbone == "nanotrack_v3":
        load_nanotrack_v3(model, source)
        return model
    if model.config.backbone != "mobilenet":
        raise ValueError(f"backbone_init needs a backbone: mobilenet or nanotrack_v3 architecture, "
                         f"not {model.architecture!r}")
    load_nanotrack_backbone((model.stem, model.block2, model.block3), source)
    zero_cf_outputs(model)
    return model


def _stage2_head(config: TrainConfig) -> str:
    """The head a stage-2 model gets: the recipe's or the architecture's own, unless that is the
    SiamFC head of stage 1 (then CAR): ``dcffnet_v3`` keeps its BAN head."""
    head = config.model.get("head") or get_config(config.architecture).head
    return "car" if head == "siamfc" else head


def _build(config: TrainConfig) -> tuple[DCFFNet, dict[str, Any]]:
    """The model of :func:`build_model` and the ``training`` record of the checkpoint it starts from
    (empty without ``init_from``), whose data lists the new checkpoint inherits."""
    if config.stage == 1 or not config.init_from:
        head = "siamfc" if config.stage == 1 else _stage2_head(config)
        model = create(config.architecture, **{**config.model, "head": head})
        return (_init_pretrained_backbone(model, config.backbone_init) if config.backbone_init else model), {}
    source = DCFFNet.from_pretrained(config.init_from)
    args = {**source.config.to_dict(), **config.model, "head": _stage2_head(config)}
    model = DCFFNet(ModelConfig.from_dict(args), architecture=source.architecture)
    backbone = {k: v for k, v in source.state_dict().items() if not k.startswith("head.")}
    missing, unexpected = model.load_state_dict(backbone, strict=False)
    missing = [k for k in missing if not k.startswith("head.")]
    if missing or unexpected:
        raise ValueError(f"stage-1 checkpoint {config.init_from} does not fit: missing {missing[:5]}, "
                         f"unexpected {unexpected[:5]}")
    return model, dict(source.checkpoint_info.training or {})


def build_model(config: TrainConfig) -> DCFFNet:
    """Stage 1: a fresh network with the SiamFC head. Stage 2: the stage-1 backbone from
    ``init_from`` with a new CAR head (every non-head weight must come from the checkpoint).
    With ``backbone_init`` (and no ``init_from``) either stage starts from NanoTrack's backbone."""
    return _build(config)[0]


def portable_recipe(config: TrainConfig) -> dict[str, Any]:
    """The recipe as stored in a checkpoint: local paths reduced to their last component (the data
    folder's name, the ONNX file's name), so a published ``config.json`` names no machine's folders."""
    recipe = config.to_dict()
    recipe["data"]["data_root"] = Path(config.data.data_root).resolve().name
    if config.backbone_init:
        recipe["backbone_init"] = Path(config.backbone_init).name
    for key in ("teacher", "head"):
        if getattr(config.distill, key):
            recipe["distill"][key] = Path(getattr(config.distill, key)).name
    return recipe


def freeze_for_stage2(model: DCFFNet, trainable: list[str]) -> list[str]:
    """Freeze every parameter outside the ``trainable`` prefixes; return the trainable names."""
    names = []
    for name, param in model.named_parameters():
        keep = any(name == p or name.startswith(p + ".") for p in trainable)
        param.requires_grad_(keep)
        if keep:
            names.append(name)
    if not names:
        raise ValueError(f"no parameter matches the trainable prefixes {trainable}")
    return names


def _set_frozen_bn_eval(model: torch.nn.Module) -> None:
    """Keep BatchNorm layers without trainable parameters in eval mode (running statistics frozen too)."""
    for module in model.modules():
        if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
            if not any(p.requires_grad for p in module.parameters(recurse=False)):
                module.eval()


# ------------------------------------------------------------------------------------------- utils
def _atomic_torch_save(obj: Any, path: Path) -> None:
    with atomic_path(path) as tmp:
        torch.save(obj, tmp)


def _rng_state() -> dict[str, Any]:
    state = {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    np.random.set_state(state["numpy"])
    random.setstate(state["python"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _lr_factor(config: TrainConfig, epoch: int) -> float:
    factor = config.optim.gamma ** sum(1 for m in config.optim.milestones if epoch >= m)
    if config.optim.warmup_epochs and epoch < config.optim.warmup_epochs:
        factor *= (epoch + 1) / (config.optim.warmup_epochs + 1)
    return factor


def _collate(items: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    return {k: torch.stack([it[k] for it in items]) for k in items[0]}


# ------------------------------------------------------------------------------------------- trainer
class Trainer:
    """Runs one stage. Use :func:`train` unless you need the pieces."""

    def __init__(self, config: TrainConfig, out_dir: str | os.PathLike[str], resume: bool = False,
                 progress: bool = True) -> None:
        self.config = config
        self.out = Path(out_dir)
        self.resume = resume
        self.progress = progress
        self.training_sequences: list[str] = []
        self.training_image_sets: list[str] = []
        self.distributed = int(os.environ.get("WORLD_SIZE", "1")) > 1
        if self.distributed and not dist.is_initialized():
            backend = "nccl" if torch.cuda.is_available() and config.device != "cpu" else "gloo"
            dist.init_process_group(backend)
        self.rank = dist.get_rank() if self.distributed else 0
        self.world = dist.get_world_size() if self.distributed else 1
        if config.device:
            self.device = torch.device(config.device)
        elif torch.cuda.is_available():
            self.device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        else:
            self.device = torch.device("cpu")
        if self.device.type == "cuda":
            torch.cuda.set_device(self.device)
        self.use_amp = bool(config.amp and self.device.type == "cuda")
        self.adapter: torch.nn.Module | None = None
        self.capture: FeatureCapture | None = None
        self._source_training: dict[str, Any] = {}

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def _log(self, record: dict[str, Any]) -> None:
        if self.is_main:
            with open(self.out / "metrics.jsonl", "a") as fh:
                fh.write(json.dumps(record) + "\n")
                fh.flush()

    def _loss(self, model: torch.nn.Module, batch: dict[str, torch.Tensor], geometry) -> dict[str, torch.Tensor]:
        """The task loss plus whichever distillation terms the batch carries targets for."""
        losses, out = self._task_loss(model, batch, geometry)
        distill = self.config.distill
        if self.adapter is not None and "teacher" in batch and self.capture.output is not None:
            term = distill_loss(self.capture.output.float(), batch["teacher"].to(self.device), self.adapter)
            losses = {**losses, "distill": term, "loss": losses["loss"] + distill.weight * term}
        if "teacher_cls" in batch:
            terms = response_distill_loss(out, batch["teacher_cls"].to(self.device), batch["teacher_reg"].to(self.device))
            total = losses["loss"] + distill.cls_weight * terms["distill_cls"] + distill.reg_weight * terms["distill_reg"]
            losses = {**losses, **terms, "loss": total}
        return losses

    def _task_loss(self, model: torch.nn.Module, batch: dict[str, torch.Tensor],
                   geometry) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
        """Stage 1's SiamFC loss or stage 2's CAR loss, and the network output they were computed from."""
        z = batch["template"].to(self.device, non_blocking=True).float()
        x = batch["search"].to(self.device, non_blocking=True).float()
        boxes = batch["box"].to(self.device)
        negative = batch["negative"].to(self.device)
        with torch.autocast(self.device.type, enabled=self.use_amp):
            out = model(z, x)
        if self.config.stage == 1:
            labels = siamfc_labels(boxes, negative, geometry, self.config.loss.r_pos)
            loss = balanced_logistic_loss(out["response"].float(), labels)
            return {"loss": loss}, out
        labels, reg = car_targets(boxes, negative, geometry, self.config.loss.cls_positive,
                                  self.config.loss.central_fraction)
        return car_loss(out, labels, reg, self.config.loss.reg_weight), out

    def run(self) -> Path:
        """Train every remaining epoch; returns the exported checkpoint folder (``out/checkpoint``).

        The steps, in order: :meth:`_prepare_output`, :meth:`_build_model` (network, frozen parts,
        teachers), :meth:`_build_optimizer`, :meth:`_resume`, :meth:`_build_data`, then per epoch
        :meth:`_train_epoch` and :meth:`_finish_epoch` (validation, train state, checkpoint, log).
        """
        config = self.config
        self._prepare_output()
        torch.manual_seed(config.seed)
        np.random.seed(config.seed)
        random.seed(config.seed)
        model, trainable, teachers = self._build_model()
        optimizer, scheduler, scaler = self._build_optimizer(trainable)
        start_epoch = self._resume(model, optimizer, scheduler, scaler)
        net: torch.nn.Module = model
        if self.distributed:
            net = DistributedDataParallel(model, device_ids=[self.device.index] if self.device.type == "cuda" else None)
        train_set, val_set, loader = self._build_data(model, teachers, log_start=start_epoch == 0)
        started = time.time()
        for epoch in range(start_epoch, config.epochs):
            record = self._train_epoch(epoch, net, model, train_set, loader, optimizer, scaler, trainable)
            self._finish_epoch(epoch, model, val_set, record, optimizer, scheduler, scaler, time.time() - started)
        if self.distributed:
            dist.barrier()
        return self.out / "checkpoint"

    @property
    def _state_path(self) -> Path:
        return self.out / "train_state.pt"

    def _prepare_output(self) -> None:
        """Create the run folder and write ``recipe.yaml``; refuse to overwrite a run without ``resume``."""
        self.out.mkdir(parents=True, exist_ok=True)
        if self.is_main:
            if not self.resume and (self.out / "metrics.jsonl").exists():
                raise FileExistsError(f"{self.out} already holds a run: pass --resume to continue it or choose --out")
            atomic_write_text(self.out / "recipe.yaml", yaml.safe_dump(self.config.to_dict(), sort_keys=False))

    def _build_model(self) -> tuple[DCFFNet, list[torch.nn.Parameter], dict[str, Any]]:
        """The network on the device, its trainable parameters (stage 2: only ``trainable`` modules)
        and the distillation teachers (``{"features": OnnxTeacher, "response": ResponseTeacher}``,
        either may be absent). Also records the stage-1 checkpoint's training lists."""
        config = self.config
        model, source_training = _build(config)
        model = model.to(self.device)
        self._source_training = source_training
        trainable = list(model.parameters())
        if config.stage == 2:
            names = set(freeze_for_stage2(model, config.trainable))
            trainable = [p for n, p in model.named_parameters() if n in names]
        teachers: dict[str, Any] = {}
        if config.distill.head:
            teachers["response"] = ResponseTeacher(config.distill.teacher, config.distill.head, model.geometry)
        if config.distill.teacher and config.distill.weight > 0:
            teacher = OnnxTeacher(config.distill.teacher)
            probe = teacher(np.zeros((model.config.search_size, model.config.search_size, 3), np.uint8))
            self.adapter = torch.nn.Conv2d(model.feature_channels, probe.shape[0], 1).to(self.device)
            self.capture = FeatureCapture(model.neck.conv4)
            trainable = trainable + list(self.adapter.parameters())
            if self.distributed:
                self.adapter = DistributedDataParallel(
                    self.adapter, device_ids=[self.device.index] if self.device.type == "cuda" else None)
            teachers["features"] = teacher
        return model, trainable, teachers

    def _build_optimizer(self, trainable: list[torch.nn.Parameter]) -> tuple[Any, Any, Any]:
        """SGD with momentum, the warm-up / step schedule of :func:`_lr_factor`, and the AMP scaler."""
        optim = self.config.optim
        optimizer = torch.optim.SGD(trainable, lr=optim.lr, momentum=optim.momentum, weight_decay=optim.weight_decay)
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda e: _lr_factor(self.config, e))
        scaler = torch.amp.GradScaler(self.device.type, enabled=self.use_amp)
        return optimizer, scheduler, scaler

    def _resume(self, model: DCFFNet, optimizer: Any, scheduler: Any, scaler: Any) -> int:
        """With ``resume`` and a saved train state, restore everything and return the next epoch (else 0)."""
        if not self.resume:
            return 0
        if not self._state_path.exists():
            self._trim_log(0)  # killed inside the first epoch: start again from the beginning
            return 0
        try:
            state = torch.load(self._state_path, map_location="cpu", weights_only=False)
        except Exception as exc:  # written atomically, so this is damage from outside (disk, copy)
            raise RuntimeError(f"cannot resume: {self._state_path} is unreadable ({type(exc).__name__}: {exc}); "
                               "delete it to restart the run from the beginning") from exc
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        scaler.load_state_dict(state["scaler"])
        if self.adapter is not None:
            getattr(self.adapter, "module", self.adapter).load_state_dict(state["adapter"])
        _set_rng_state(state["rng"])
        self._trim_log(state["epoch"] + 1)
        return state["epoch"] + 1

    def _trim_log(self, next_epoch: int) -> None:
        """Drop the step lines of the epoch a kill cut short (they are logged again), so the log of a
        resumed run reads like an uninterrupted one's."""
        path = self.out / "metrics.jsonl"
        if not self.is_main or not path.exists():
            return
        kept = []
        for line in path.read_text().splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:  # a line cut by the kill
                continue
            if record.get("event") not in ("step", "epoch") or int(record.get("epoch", 0)) < next_epoch:
                kept.append(line)
        atomic_write_text(path, "".join(line + "\n" for line in kept))

    def _build_data(self, model: DCFFNet, teachers: dict[str, Any],
                    log_start: bool) -> tuple[PairDataset, PairDataset | None, DataLoader]:
        """Read the mixture, record the training lists, and build the pair datasets and the loader."""
        config = self.config
        mixture, excluded = load_mixture(config.data)
        # What the weights have seen: this stage's data and, after init_from, the earlier stage's.
        self.training_sequences = sorted({t.qualified_name for _, tr, _ in mixture for t in tr if t.is_video}
                                         | set(self._source_training.get("sequences") or []))
        self.training_image_sets = sorted({s.root for s, tr, _ in mixture if any(not t.is_video for t in tr)}
                                          | set(self._source_training.get("image_sets") or []))
        train_set = PairDataset([(s, tr) for s, tr, _ in mixture], config.data.samples_per_epoch,
                                model.config.template_size, model.config.search_size, config.augment, config.seed,
                                teacher=teachers.get("features"), response_teacher=teachers.get("response"))
        val_tracks = [(s, va) for s, _, va in mixture if va]
        val_set = None
        if config.data.val_samples > 0 and val_tracks:
            no_aug = dataclasses.replace(config.augment, flip=0.0, gray=0.0, color=0.0, blur=0.0, negative=0.0)
            val_set = PairDataset(val_tracks, config.data.val_samples, model.config.template_size,
                                  model.config.search_size, no_aug, config.seed + 1)
        sampler = (DistributedSampler(train_set, num_replicas=self.world, rank=self.rank, shuffle=False)
                   if self.distributed else SequentialSampler(train_set))
        loader = DataLoader(train_set, batch_size=config.batch_size, sampler=sampler, drop_last=True,
                            num_workers=config.data.num_workers, collate_fn=_collate,
                            pin_memory=self.device.type == "cuda", persistent_workers=False)
        if self.is_main and log_start:
            self._log({"event": "start", "stage": config.stage, "architecture": config.architecture,
                       "train_tracks": {s.root: len(tr) for s, tr, _ in mixture},
                       "val_tracks": {s.root: len(va) for s, _, va in mixture},
                       "excluded_tracks": excluded, "world_size": self.world, "device": str(self.device)})
        return train_set, val_set, loader

    def _train_epoch(self, epoch: int, net: torch.nn.Module, model: DCFFNet, train_set: PairDataset,
                     loader: DataLoader, optimizer: Any, scaler: Any,
                     trainable: list[torch.nn.Parameter]) -> dict[str, Any]:
        """One pass over the epoch's pairs; returns the epoch record (mean losses, throughput, skips)."""
        from tqdm import tqdm

        config = self.config
        train_set.set_epoch(epoch)
        net.train()
        if config.stage == 2:
            _set_frozen_bn_eval(model)
        totals: dict[str, float] = {}
        steps, skipped, pairs = 0, 0, 0
        t0 = time.time()
        bar = tqdm(loader, desc=f"epoch {epoch + 1}/{config.epochs}", disable=not (self.progress and self.is_main),
                   unit="batch", leave=False)
        for batch in bar:
            losses = self._loss(net, batch, model.geometry)
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(losses["loss"]).backward()
            if config.optim.grad_clip > 0:
                scaler.unscale_(optimizer)
                torch.nn.utils.clip_grad_norm_(trainable, config.optim.grad_clip)
            scaler.step(optimizer)
            scaler.update()
            steps += 1
            pairs += batch["template"].shape[0] * self.world
            skipped += int(batch["skipped"].sum())
            for k, v in losses.items():
                totals[k] = totals.get(k, 0.0) + float(v.detach())
            bar.set_postfix(loss=f"{totals['loss'] / steps:.4f}")
            if config.log_every and steps % config.log_every == 0:
                self._log({"event": "step", "epoch": epoch, "step": steps, "lr": optimizer.param_groups[0]["lr"],
                           **{k: float(v.detach()) for k, v in losses.items()}})
        if self.distributed:
            counts = torch.tensor([float(skipped)], device=self.device)
            dist.all_reduce(counts)
            skipped = int(counts.item())
        return {"event": "epoch", "epoch": epoch, "lr": optimizer.param_groups[0]["lr"],
                **{k: v / max(steps, 1) for k, v in totals.items()}, "steps": steps,
                "pairs_per_s": pairs / max(time.time() - t0, 1e-9), "skipped_images": skipped,
                "seconds": time.time() - t0}

    def _finish_epoch(self, epoch: int, model: DCFFNet, val_set: PairDataset | None, record: dict[str, Any],
                      optimizer: Any, scheduler: Any, scaler: Any, seconds: float) -> None:
        """Validation loss, learning-rate step, then (main process) the train state for ``--resume``,
        the exported checkpoint and the log line; all processes meet at a barrier."""
        if val_set is not None and self.is_main:
            record["val_loss"] = self._validate(model, val_set, model.geometry)
        scheduler.step()
        if self.is_main:
            _atomic_torch_save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                                "scheduler": scheduler.state_dict(), "scaler": scaler.state_dict(),
                                "epoch": epoch, "rng": _rng_state(), "config": self.config.to_dict(),
                                "adapter": None if self.adapter is None
                                else getattr(self.adapter, "module", self.adapter).state_dict()},
                               self._state_path)
            self._export(model, epoch, seconds)
            self._log(record)
        if self.distributed:
            dist.barrier()

    @torch.no_grad()
    def _validate(self, model: DCFFNet, val_set: PairDataset, geometry) -> float:
        model.eval()
        loader = DataLoader(val_set, batch_size=self.config.batch_size, collate_fn=_collate, num_workers=0)
        total, n = 0.0, 0
        for batch in loader:
            total += float(self._loss(model, batch, geometry)["loss"]) * batch["template"].shape[0]
            n += batch["template"].shape[0]
        model.train()
        return total / max(n, 1)

    def _export(self, model: DCFFNet, epoch: int, seconds: float) -> None:
        config = self.config
        training = {
            "stage": config.stage,
            "epochs_completed": epoch + 1,
            "epochs": config.epochs,
            "recipe": portable_recipe(config),
            "datasets": [d.root for d in config.data.datasets],
            # Every video the weights have seen (dataset/source/sequence), so evaluations can flag overlap.
            "sequences": self.training_sequences,
            "image_sets": self.training_image_sets,
            "wall_time_s": round(seconds, 1),
            "init_from": config.init_from,
            "backbone_init": Path(config.backbone_init).name if config.backbone_init else None,
        }
        model.save_pretrained(self.out / "checkpoint", training=training)


def train(config: TrainConfig, out_dir: str | os.PathLike[str], resume: bool = False, progress: bool = True) -> Path:
    """Run one training stage; returns the exported checkpoint folder (``out_dir/checkpoint``)."""
    trainer = Trainer(config, out_dir, resume=resume, progress=progress)
    try:
        return trainer.run()
    finally:
        if trainer.distributed and dist.is_initialized():
            dist.destroy_process_group()
