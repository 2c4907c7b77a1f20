"""Checkpoints: ``save_pretrained`` / ``load_pretrained`` / ``push_to_hub`` and the ``config.json`` format.

A checkpoint is a folder with two files:

* ``model.safetensors``: the network's ``state_dict``;
* ``config.json``: ``format``, ``architecture``, ``model_args`` (every :class:`ModelConfig` field),
  ``input`` (colour order, value range, crop sizes), ``tracker`` (hyper-parameters), ``training``,
  ``metrics``, ``library_version`` and ``weights_sha256``.

``load_pretrained(name_or_path)`` resolves, in order: a local folder, a bundled name, a hub repo id
(``org/name`` or ``org/name@revision``) downloaded with ``huggingface_hub`` (its cache, revision
pinning, ``HF_HUB_OFFLINE``, ``HF_ENDPOINT`` and token handling).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from .errors import CheckpointError, WeightsNotFoundError
from .hparams import TrackerHParams
from .models.config import ModelConfig
from .models.dcffnet import DCFFNet
from .models.registry import list_models

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

CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"
FORMAT_VERSION = 1
BUNDLED_DIR = Path(__file__).parent / "weights"
_REPO_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*")


def sha256_file(path: "str | os.PathLike[str]") -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def bundled_checkpoints() -> dict[str, Path]:
    """Checkpoints shipped inside the package: ``{name: folder}``."""
    if not BUNDLED_DIR.is_dir():
        return {}
    return {p.name: p for p in sorted(BUNDLED_DIR.iterdir()) if (p / CONFIG_NAME).is_file()}


# ---------------------------------------------------------------------------------------------- save
def _config_dict(model: DCFFNet, tracker: "TrackerHParams | dict[str, Any] | None",
                 training: dict[str, Any] | None, metrics: dict[str, Any] | None) -> dict[str, Any]:
    from . import __version__

    if isinstance(tracker, TrackerHParams):
        tracker = tracker.to_dict()
    elif tracker is not None:
        tracker = TrackerHParams.from_dict(tracker).to_dict()
    config: ModelConfig = model.config
    return {
        "format": FORMAT_VERSION,
        "library": "dcffnet",
        "library_version": __version__,
        "architecture": getattr(model, "architecture", "custom"),
        "model_args": config.to_dict(),
        "input": {
            "color": "bgr",
            "value_range": [0, 255],
            "template_size": config.template_size,
            "search_size": config.search_size,
            "box_format": "xywh, 0-based continuous pixels",
        },
        "tracker": tracker,
        "training": training,
        "metrics": metrics,
    }


def _atomic_write_json(path: Path, data: dict[str, Any]) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
    with os.fdopen(fd, "w") as fh:
        json.dump(data, fh, indent=2, sort_keys=False)
        fh.write("\n")
    os.replace(tmp, path)


def save_pretrained(model: DCFFNet, folder: "str | os.PathLike[str]", *,
                    tracker: "TrackerHParams | dict[str, Any] | None" = None,
                    training: dict[str, Any] | None = None, metrics: dict[str, Any] | None = None) -> Path:
    """Write ``model`` to ``folder`` as ``model.safetensors`` + ``config.json`` (files replaced atomically).

    Args:
        model: the network (its ``config`` and ``architecture`` go into ``config.json``).
        folder: destination folder, created if needed.
        tracker: tracking hyper-parameters to store as this checkpoint's defaults.
        training: free-form description of data and recipe; metrics: measured results.

    Returns:
        The folder path.
    """
    if not isinstance(model, DCFFNet):
        raise TypeError(f"model must be a dcffnet DCFFNet, got {type(model).__name__}")
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    fd, tmp = tempfile.mkstemp(dir=out, prefix=".tmp-", suffix=".safetensors")
    os.close(fd)
    save_file(state, tmp, metadata={"format": "pt", "library": "dcffnet"})
    os.replace(tmp, out / WEIGHTS_NAME)
    config = _config_dict(model, tracker, training, metrics)
    config["weights_sha256"] = sha256_file(out / WEIGHTS_NAME)
    _atomic_write_json(out / CONFIG_NAME, config)
    return out


# ---------------------------------------------------------------------------------------------- load
def model_from_config(config: dict[str, Any]) -> DCFFNet:
    """Build the (randomly initialised) network a ``config.json`` dict describes."""
    if not isinstance(config, dict) or "model_args" not in config:
        raise CheckpointError("config.json has no 'model_args': not a dcffnet checkpoint")
    if config.get("format", FORMAT_VERSION) > FORMAT_VERSION:
        raise CheckpointError(
            f"checkpoint format {config['format']} is newer than this dcffnet understands ({FORMAT_VERSION}); "
            "upgrade dcffnet"
        )
    architecture = config.get("architecture", "custom")
    if architecture != "custom" and architecture not in list_models():
        raise CheckpointError(f"unknown architecture {architecture!r} in config.json; known: {list_models()}")
    try:
        model_config = ModelConfig.from_dict(config["model_args"])
    except (TypeError, ValueError) as exc:
        raise CheckpointError(f"invalid model_args in config.json: {exc}") from exc
    return DCFFNet(model_config, architecture=architecture)


def _load_state_strict(model: DCFFNet, weights_path: Path) -> None:
    try:
        state = load_file(str(weights_path), device="cpu")
    except Exception as exc:  # safetensors raises its own error types for corrupt headers/data
        raise CheckpointError(f"{weights_path} is not a readable safetensors file: {exc}") from exc
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    mismatched = sorted(
        f"{k}: checkpoint {tuple(state[k].shape)} vs model {tuple(expected[k].shape)}"
        for k in set(state) & set(expected)
        if state[k].shape != expected[k].shape
    )
    if missing or unexpected or mismatched:
        def head(items: list[str]) -> str:
            return ", ".join(items[:10]) + (f" ... (+{len(items) - 10} more)" if len(items) > 10 else "")

        parts = []
        if missing:
            parts.append(f"missing keys: {head(missing)}")
        if unexpected:
            parts.append(f"unexpected keys: {head(unexpected)}")
        if mismatched:
            parts.append(f"shape mismatches: {head(mismatched)}")
        raise CheckpointError(
            f"weights in {weights_path} do not match architecture {model.architecture!r} "
            f"({'; '.join(parts)})"
        )
    model.load_state_dict(state, strict=True)


def _load_folder(folder: Path) -> tuple[DCFFNet, dict[str, Any]]:
    config_path, weights_path = folder / CONFIG_NAME, folder / WEIGHTS_NAME
    for path in (config_path, weights_path):
        if not path.is_file():
            raise CheckpointError(f"checkpoint folder {folder} has no {path.name}")
    try:
        config = json.loads(config_path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{config_path} is not valid JSON: {exc}") from exc
    expected_sha = config.get("weights_sha256") if isinstance(config, dict) else None
    if expected_sha:
        actual = sha256_file(weights_path)
        if actual != expected_sha:
            raise CheckpointError(
                f"sha256 of {weights_path} is {actual}, but config.json expects {expected_sha}: "
                "the file is corrupt or does not belong to this config"
            )
    model = model_from_config(config)
    _load_state_strict(model, weights_path)
    config["source"] = str(folder)
    return model, config


def _hub_offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().upper() in ("1", "ON", "YES", "TRUE")


def _download_from_hub(repo_id: str, revision: str | None, cache_dir: "str | os.PathLike[str] | None",
                       token: "str | bool | None") -> Path:
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import (
        EntryNotFoundError,
        HfHubHTTPError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    from . import __version__

    endpoint = os.environ.get("HF_ENDPOINT") or None
    offline = _hub_offline()
    paths = []
    for filename in (CONFIG_NAME, WEIGHTS_NAME):
        try:
            paths.append(Path(hf_hub_download(
                repo_id, filename, revision=revision, cache_dir=cache_dir, token=token, endpoint=endpoint,
                local_files_only=offline, library_name="dcffnet", library_version=__version__,
            )))
        except RepositoryNotFoundError as exc:
            raise WeightsNotFoundError(
                f"hub repository {repo_id!r} was not found (or is private without a token) at "
                f"{endpoint or 'the default endpoint'}"
            ) from exc
        except RevisionNotFoundError as exc:
            raise WeightsNotFoundError(f"revision {revision!r} does not exist in hub repository {repo_id!r}") from exc
        except LocalEntryNotFoundError as exc:
            why = "HF_HUB_OFFLINE is set" if offline else "the hub could not be reached"
            raise WeightsNotFoundError(
                f"{filename} of {repo_id!r} (revision {revision or 'main'}) is not in the local cache and {why}; "
                "download it once while online, or pass a local checkpoint folder"
            ) from exc
        except EntryNotFoundError as exc:
            raise CheckpointError(f"hub repository {repo_id!r} has no {filename}: not a dcffnet checkpoint") from exc
        except HfHubHTTPError as exc:
            raise WeightsNotFoundError(f"downloading {filename} of {repo_id!r} failed: {exc}") from exc
    if paths[0].parent != paths[1].parent:
        raise CheckpointError(f"{CONFIG_NAME} and {WEIGHTS_NAME} of {repo_id!r} resolved to different snapshots")
    return paths[0].parent


def _split_revision(name: str, revision: str | None) -> tuple[str, str | None]:
    if "@" in name:
        name, _, embedded = name.partition("@")
        if revision is not None and revision != embedded:
            raise ValueError(f"conflicting revisions: {embedded!r} in the name and revision={revision!r}")
        revision = embedded
    return name, revision


def load_pretrained(name_or_path: "str | os.PathLike[str]", revision: str | None = None,
                    device: "str | torch.device | None" = None, cache_dir: "str | os.PathLike[str] | None" = None,
                    token: "str | bool | None" = None) -> tuple[DCFFNet, dict[str, Any]]:
    """Load a checkpoint and return ``(model, config)``; the model is in eval mode on ``device`` (default CPU).

    ``name_or_path`` is tried as: a local folder; a bundled name (see :func:`bundled_checkpoints`);
    a hub repo id ``org/name`` (``org/name@rev`` pins a revision, as does ``revision``).

    Raises:
        WeightsNotFoundError: unknown name, hub repo/revision not found, offline with an empty cache,
            or ``"default"`` asked for before a default checkpoint is bundled.
        CheckpointError: corrupt file, sha256 mismatch, missing/unexpected keys or shape mismatch.
    """
    name = os.fspath(name_or_path)
    path = Path(name).expanduser()
    bundled = bundled_checkpoints()
    if path.is_dir():
        folder = path
    elif name in bundled:
        folder = bundled[name]
    elif name == "default":
        raise WeightsNotFoundError(
            f"no default checkpoint is bundled in this installation of dcffnet ({BUNDLED_DIR / 'default'} is "
            "missing; reinstall the package to restore it). Pass weights explicitly: "
            "dcffnet.Tracker.from_pretrained('path/to/checkpoint_folder') or a hub repo id ('org/name'), "
            "or wrap your own network with dcffnet.Tracker(model=...)"
        )
    else:
        repo_id, revision = _split_revision(name, revision)
        if not _REPO_ID.fullmatch(repo_id) or repo_id.startswith((".", "~")):
            raise WeightsNotFoundError(
                f"{name!r} is not a checkpoint folder, not a bundled name "
                f"(available: {sorted(bundled) or 'none'}) and not a hub repo id of the form 'org/name'"
            )
        folder = _download_from_hub(repo_id, revision, cache_dir, token)
    model, config = _load_folder(folder)
    from .tracker import resolve_device

    return model.to(resolve_device(device)).eval(), config


def load_model(name_or_path: "str | os.PathLike[str]", revision: str | None = None,
               device: "str | torch.device | None" = None, **kwargs: Any) -> DCFFNet:
    """Like :func:`load_pretrained` but returns only the network."""
    return load_pretrained(name_or_path, revision=revision, device=device, **kwargs)[0]


# ---------------------------------------------------------------------------------------------- push
def push_to_hub(model_or_folder: "DCFFNet | str | os.PathLike[str]", repo_id: str, *, revision: str | None = None,
                tracker: "TrackerHParams | dict[str, Any] | None" = None, training: dict[str, Any] | None = None,
                metrics: dict[str, Any] | None = None, private: bool | None = None,
                token: "str | bool | None" = None, commit_message: str = "Upload dcffnet checkpoint") -> str:
    """Upload a checkpoint (a model, written with :func:`save_pretrained` first, or an existing folder).

    Creates the repository if needed. Uses ``HF_ENDPOINT`` and the usual token sources.

    Returns:
        The commit id (40 hex characters) of the upload.
    """
    from huggingface_hub import HfApi

    endpoint = os.environ.get("HF_ENDPOINT") or None
    api = HfApi(endpoint=endpoint, token=token, library_name="dcffnet")
    api.create_repo(repo_id, private=private, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        if isinstance(model_or_folder, DCFFNet):
            folder = save_pretrained(model_or_folder, tmp, tracker=tracker, training=training, metrics=metrics)
        else:
            folder = Path(model_or_folder)
            _load_folder(folder)  # refuse to publish a broken checkpoint
        info = api.upload_folder(repo_id=repo_id, folder_path=str(folder), revision=revision,
                                 commit_message=commit_message,
                                 allow_patterns=[CONFIG_NAME, WEIGHTS_NAME, "README.md"])
    return info.oid
