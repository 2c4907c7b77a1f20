"""Functional checkpoint API: ``save_pretrained`` / ``load_pretrained`` / ``load_model`` / ``push_to_hub``.

Thin functions over :class:`~dcffnet.models.DCFFNet`'s methods (``save_pretrained``,
``from_pretrained``, ``push_to_hub``) and the folder format in :mod:`dcffnet.checkpoint`.

Loading a network has one way: :meth:`DCFFNet.from_pretrained(name_or_path, revision=None,
device=None, cache_dir=None, token=None) <dcffnet.models.DCFFNet.from_pretrained>`. Names resolve,
in order, to a local folder, a bundled name, or a hub repo id (``org/name`` or ``org/name@revision``)
downloaded with ``huggingface_hub``. :func:`load_model` and :func:`load_pretrained` are aliases of
it kept for existing code (the latter also returns ``config.json`` as a dict); a
:class:`~dcffnet.Tracker` loads its network the same way.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from .checkpoint import (
    CONFIG_NAME,
    FORMAT_VERSION,
    WEIGHTS_NAME,
    CheckpointInfo,
    bundled_checkpoints,
    sha256_file,
    upload_checkpoint,
)
from .hparams import TrackerHParams
from .models.dcffnet import DCFFNet

__all__ = [
    "CONFIG_NAME",
    "WEIGHTS_NAME",
    "FORMAT_VERSION",
    "save_pretrained",
    "load_pretrained",
    "load_model",
    "push_to_hub",
    "bundled_checkpoints",
    "sha256_file",
    "model_from_config",
]


def save_pretrained(model: DCFFNet, folder: "str | os.PathLike[str]", *,
                    tracker: "TrackerHParams | dict[str, Any] | None" = None,
                    training: dict[str, Any] | None = None, metrics: dict[str, Any] | None = None) -> Path:
    """Write ``model`` to ``folder`` as ``model.safetensors`` + ``config.json`` (see :meth:`DCFFNet.save_pretrained`).

    Raises:
        TypeError: ``model`` is not a :class:`DCFFNet`.
    """
    if not isinstance(model, DCFFNet):
        raise TypeError(f"model must be a dcffnet DCFFNet, got {type(model).__name__}")
    return model.save_pretrained(folder, tracker=tracker, training=training, metrics=metrics)


def model_from_config(config: dict[str, Any]) -> DCFFNet:
    """Build the (randomly initialised) network a ``config.json`` dict describes.

    Raises:
        CheckpointError: not a dcffnet config, a newer format, an unknown architecture or bad ``model_args``.
    """
    return DCFFNet.from_checkpoint_info(CheckpointInfo.from_dict(config))


def load_pretrained(name_or_path: "str | os.PathLike[str]", revision: str | None = None,
                    device: "str | torch.device | None" = None, cache_dir: "str | os.PathLike[str] | None" = None,
                    token: "str | bool | None" = None) -> tuple[DCFFNet, dict[str, Any]]:
    """Alias of :meth:`DCFFNet.from_pretrained` that also returns the config: ``(model, config)``,
    the network (eval mode, on ``device``, default CPU, carrying ``model.checkpoint_info``) and its
    ``config.json`` as a dict with ``source`` (the folder it was read from) added.

    Raises:
        WeightsNotFoundError: unknown name, hub repo/revision not found, offline with an empty cache,
            or ``"default"`` asked for before a default checkpoint is bundled.
        CheckpointError: corrupt file, sha256 mismatch, missing/unexpected keys or shape mismatch.
    """
    model = DCFFNet.from_pretrained(name_or_path, revision=revision, device=device, cache_dir=cache_dir, token=token)
    info = model.checkpoint_info
    return model, {**info.to_dict(), "source": info.source}


def load_model(name_or_path: "str | os.PathLike[str]", revision: str | None = None,
               device: "str | torch.device | None" = None, **kwargs: Any) -> DCFFNet:
    """Alias of :meth:`DCFFNet.from_pretrained` (``kwargs``: its ``cache_dir`` and ``token``): the network only."""
    return DCFFNet.from_pretrained(name_or_path, revision=revision, device=device, **kwargs)


def push_to_hub(model_or_folder: "DCFFNet | str | os.PathLike[str]", repo_id: str, *, revision: str | None = None,
                tracker: "TrackerHParams | dict[str, Any] | None" = None, training: dict[str, Any] | None = None,
                metrics: dict[str, Any] | None = None, private: bool | None = None,
                token: "str | bool | None" = None, commit_message: str = "Upload dcffnet checkpoint") -> str:
    """Upload a checkpoint: a model (saved to a temporary folder first) or an existing folder, which
    must load (a broken checkpoint is refused before anything is sent).

    Creates the repository if needed. Uses ``HF_ENDPOINT`` and the usual token sources.

    Returns:
        The commit id (40 hex characters) of the upload.
    """
    if isinstance(model_or_folder, DCFFNet):
        return model_or_folder.push_to_hub(repo_id, revision=revision, tracker=tracker, training=training,
                                           metrics=metrics, private=private, token=token,
                                           commit_message=commit_message)
    folder = Path(model_or_folder)
    DCFFNet.from_folder(folder)  # refuse to publish a broken checkpoint
    return upload_checkpoint(folder, repo_id, revision=revision, private=private, token=token,
                             commit_message=commit_message)
