"""Import NanoTrack v3's trained tensors into ``dcffnet_v3``, the CF modules starting at zero output.

NanoTrack v3's checkpoint (``nanotrackv3.pth``'s ``state_dict``, stored as safetensors: 438 tensors)
has three prefixes. ``backbone.features.0-9`` and ``ban_head.*`` are what v3 computes with; they
map one to one, by name, onto ``stem`` / ``block2`` / ``block3`` (see
:mod:`dcffnet.models.nanotrack_v3_backbone`) and ``head`` (:class:`~dcffnet.models.ban_head.BANHead`).
``neck.downsample.*`` (a 96 -> 96 1x1 conv + BN) is never applied by v3: its model builder feeds
the backbone straight to the head, and its ``AdjustLayer`` skips the conv when the widths agree.
The file's copy is untrained (the BN's step counter is 0, its statistics at their initial values),
so the importer checks that and leaves it out rather than insert an untrained layer; a file whose
neck did run in training is refused.

With the CF modules' BatchNorm scale and shift at zero, ``features + BN(response)`` is exactly
``features``, so the imported network computes v3's maps; both parameters still receive gradients
from the first step (``dL/dgamma = sum(g * normalised response)``, ``dL/dbeta = sum(g)``), and once
``gamma`` moves, gradients flow through the correlations into the backbone too (the zero-init of a
residual branch's last BatchNorm, as in ResNet training).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file

from ..errors import CheckpointError
from .dcffnet import DCFFNet, create

__all__ = ["NANOTRACK_V3_PREFIXES", "NANOTRACK_V3_UNAPPLIED", "from_nanotrack_v3_names", "to_nanotrack_v3_names",
           "zero_cf_outputs", "load_nanotrack_v3", "import_nanotrack_v3"]

#: ``(NanoTrack v3 prefix, DCFFNet prefix)``: every tensor of v3 that its network computes with
NANOTRACK_V3_PREFIXES: tuple[tuple[str, str], ...] = (
    *((f"backbone.features.{i}.", f"stem.{i}.") for i in range(4)),
    *((f"backbone.features.{i}.", f"block2.{i - 4}.") for i in range(4, 7)),
    *((f"backbone.features.{i}.", f"block3.{i - 7}.") for i in range(7, 10)),
    ("ban_head.", "head."),
)
#: v3's neck: in the checkpoint, never applied (module docstring); checked to be untrained, then left out
NANOTRACK_V3_UNAPPLIED = ("neck.downsample.0.weight", "neck.downsample.1.weight", "neck.downsample.1.bias",
                          "neck.downsample.1.running_mean", "neck.downsample.1.running_var",
                          "neck.downsample.1.num_batches_tracked")
_NECK_STEPS = "neck.downsample.1.num_batches_tracked"
_CF_MODULES = ("cf1.", "cf2.")


def _rename(key: str, pairs: tuple[tuple[str, str], ...]) -> str | None:
    for old, new in pairs:
        if key.startswith(old):
            return new + key[len(old):]
    return None


def from_nanotrack_v3_names(state: Mapping[str, torch.Tensor]) -> tuple[dict[str, torch.Tensor], list[str]]:
    """v3's tensors under DCFFNet's names, and the v3 keys no prefix of :data:`NANOTRACK_V3_PREFIXES` covers."""
    renamed: dict[str, torch.Tensor] = {}
    unknown: list[str] = []
    for key, value in state.items():
        new = _rename(key, NANOTRACK_V3_PREFIXES)
        if new is None:
            unknown.append(key)
        else:
            renamed[new] = value
    return renamed, sorted(unknown)


def _v3_name(key: str) -> str | None:
    """v3's name of DCFFNet key ``key`` (``None`` for a key outside v3's layout)."""
    return _rename(key, tuple((new, old) for old, new in NANOTRACK_V3_PREFIXES))


def to_nanotrack_v3_names(state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The inverse: a ``dcffnet_v3`` ``state_dict`` under v3's names, without the CF modules' tensors
    (v3 has none). Raises ``ValueError`` naming a key that is neither."""
    out: dict[str, torch.Tensor] = {}
    for key, value in state.items():
        if key.startswith(_CF_MODULES):
            continue
        old = _v3_name(key)
        if old is None:
            raise ValueError(f"{key!r} is not a tensor of NanoTrack v3's layout")
        out[old] = value
    return out


def zero_cf_outputs(model: DCFFNet) -> None:
    """Set the BatchNorm of each correlation-fusion module to output zero (scale and shift 0,
    running statistics reset), so the module passes its input through unchanged while both
    parameters keep receiving gradients (see the module docstring)."""
    for cf in (model.cf1, model.cf2):
        if cf is not None:
            with torch.no_grad():
                torch.nn.init.zeros_(cf.norm.weight)
                torch.nn.init.zeros_(cf.norm.bias)
            cf.norm.reset_running_stats()


def _read(weights: "str | os.PathLike[str] | Mapping[str, torch.Tensor]") -> tuple[dict[str, torch.Tensor], str]:
    if isinstance(weights, Mapping):
        return dict(weights), "the given state dict"
    if not isinstance(weights, (str, os.PathLike)):
        raise TypeError(f"weights must be a path to nanotrack_v3.safetensors or a state dict, "
                        f"got {type(weights).__name__}")
    path = Path(weights)
    if not path.is_file():
        raise FileNotFoundError(f"NanoTrack v3 weights not found: {path}")
    try:
        return load_file(str(path)), str(path)
    except (SafetensorError, OSError) as exc:
        raise CheckpointError(f"{path} is not a readable safetensors file: {exc}") from exc


def _check_neck(state: dict[str, torch.Tensor], source: str) -> list[str]:
    """Pop v3's unapplied neck from ``state`` after checking it never trained; return neck keys that are not v3's."""
    neck = {k: state.pop(k) for k in [k for k in state if k.startswith("neck.")]}
    unknown = sorted(set(neck) - set(NANOTRACK_V3_UNAPPLIED))
    if neck and not unknown:
        steps = neck.get(_NECK_STEPS)
        if steps is None:
            raise CheckpointError(f"the neck in {source} has no {_NECK_STEPS}, so it cannot be shown to be "
                                  "NanoTrack v3's untrained, never-applied neck")
        if steps.numel() != 1 or int(steps) != 0:
            raise CheckpointError(
                f"the neck in {source} ran in training ({_NECK_STEPS} = {steps.tolist()}); NanoTrack v3 never "
                "applies its neck, and this importer maps that neck-less network only")
    return unknown


def load_nanotrack_v3(model: DCFFNet, weights: "str | os.PathLike[str] | Mapping[str, torch.Tensor]") -> int:
    """Copy NanoTrack v3's trained tensors into ``model`` (``backbone="nanotrack_v3"``, ``head="ban"``)
    and set its CF modules to zero output (:func:`zero_cf_outputs`), in place.

    Args:
        model: a network of the ``dcffnet_v3`` layout; any ``cf`` variant.
        weights: ``nanotrack_v3.safetensors`` (v3's ``state_dict``) or that state dict.

    Returns:
        The number of tensors copied (432 for v3's file: all but its unapplied neck's 6).

    Raises:
        FileNotFoundError: no such file. CheckpointError: unreadable file; a v3 tensor missing,
        unexpected, of another shape or dtype (each named, with v3's key); or a trained neck.
        ValueError: ``model`` is not of the v3 layout.
    """
    if (model.config.backbone, model.config.head) != ("nanotrack_v3", "ban"):
        raise ValueError(f"NanoTrack v3's weights fit backbone='nanotrack_v3' with head='ban', not "
                         f"backbone={model.config.backbone!r} with head={model.config.head!r}")
    state, source = _read(weights)
    unexpected = _check_neck(state, source)
    renamed, unknown = from_nanotrack_v3_names(state)
    model_state = model.state_dict()
    v3_names = {_v3_name(k): k for k in model_state if not k.startswith(_CF_MODULES)}
    missing = sorted(set(v3_names) - set(state))
    unexpected += unknown + sorted(set(state) - set(v3_names) - set(unknown))
    common = [(old, state[old], model_state[new]) for old, new in v3_names.items() if old in state]
    mismatched = sorted(f"{old}: file {tuple(v.shape)} vs model {tuple(m.shape)}"
                        for old, v, m in common if v.shape != m.shape)
    wrong_dtype = sorted(f"{old}: file {v.dtype} vs model {m.dtype}" for old, v, m in common if v.dtype != m.dtype)
    if missing or unexpected or mismatched or wrong_dtype:
        def head(items: list[str]) -> str:
            return ", ".join(items[:10]) + (f" ... (+{len(items) - 10} more)" if len(items) > 10 else "")

        parts = [f"{what}: {head(items)}" for what, items in
                 (("missing keys", missing), ("unexpected keys", sorted(unexpected)), ("shape mismatches", mismatched),
                  ("dtype mismatches", wrong_dtype)) if items]
        raise CheckpointError(f"{source} is not NanoTrack v3's state dict ({'; '.join(parts)})")
    zero_cf_outputs(model)
    cf_state = {k: v for k, v in model.state_dict().items() if k.startswith(_CF_MODULES)}
    model.load_state_strict({**renamed, **cf_state}, source)
    return len(renamed)


def import_nanotrack_v3(weights: "str | os.PathLike[str] | Mapping[str, torch.Tensor]", **overrides: object) -> DCFFNet:
    """``dcffnet_v3`` with every trained NanoTrack v3 tensor (:func:`load_nanotrack_v3`), in eval mode on the CPU.

    At this point it computes v3's ``cls`` / ``reg`` maps exactly (the CF modules output zero).
    ``overrides`` are :class:`~dcffnet.models.ModelConfig` fields, e.g. ``cf="first"`` for the
    paper's ablation variants; ones that change v3's layout make the import fail.
    """
    model = create("dcffnet_v3", **overrides)
    load_nanotrack_v3(model, weights)
    return model.eval()
