"""The checkpoint format and its transport: ``config.json`` + ``model.safetensors`` folders, local,
bundled or on the Hugging Face hub.

A checkpoint is a folder with two files:

* ``model.safetensors``: the network's ``state_dict``;
* ``config.json``: the fields of :class:`CheckpointInfo`: ``format``, ``library_version``,
  ``architecture``, ``model_args`` (every ``ModelConfig`` field), ``input`` (colour order, value
  range, crop sizes), ``tracker`` (the tuned tracking hyper-parameters), ``training``, ``metrics``
  and ``weights_sha256``.

This module knows nothing about the network: it reads and writes folders, checks the format
version and the sha256, and resolves names (a local folder, a bundled name, or a hub repo id
``org/name[@revision]`` downloaded with ``huggingface_hub``: its cache, revision pinning,
``HF_HUB_OFFLINE``, ``HF_ENDPOINT`` and token handling). Building the network from a checkpoint is
:meth:`dcffnet.models.DCFFNet.from_pretrained`; :mod:`dcffnet.hub` has the functional API.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from .errors import CheckpointError, WeightsNotFoundError
from .hparams import TrackerHParams
from .version import __version__

__all__ = [
    "CONFIG_NAME",
    "WEIGHTS_NAME",
    "FORMAT_VERSION",
    "CheckpointInfo",
    "sha256_file",
    "bundled_checkpoints",
    "resolve_checkpoint",
    "read_checkpoint",
    "write_checkpoint",
    "upload_checkpoint",
]

CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"
FORMAT_VERSION = 1
BUNDLED_DIR = Path(__file__).parent / "weights"
_REPO_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*")


@dataclass
class CheckpointInfo:
    """Everything ``config.json`` says about a checkpoint, typed.

    Attributes:
        architecture: registered config name (``"dcffnet_mobile"``) or ``"custom"``.
        model_args: every ``ModelConfig`` field, enough to rebuild the network.
        tracker: the tracking hyper-parameters tuned for these weights (``None``: library defaults).
            Every loader attaches them to the network (``model.checkpoint_info``), so a
            :class:`~dcffnet.Tracker` built on that network uses them without being told.
        training: data, recipe and training videos the weights have seen (free-form, see the model card).
        metrics: measured results (free-form).
        calibration: the score calibration fitted for these weights (see
            :class:`~dcffnet.tracking.calibration.ScoreCalibration`; ``None``: raw scores).
        input: colour order, value range and crop sizes the network expects.
        library_version, format: who wrote it, in which format version.
        weights_sha256: hex sha256 of ``model.safetensors`` (checked on load).
        source: the folder it was read from (not written to ``config.json``).
    """

    architecture: str = "custom"
    model_args: dict[str, Any] = field(default_factory=dict)
    tracker: TrackerHParams | None = None
    training: dict[str, Any] | None = None
    metrics: dict[str, Any] | None = None
    calibration: dict[str, Any] | None = None
    input: dict[str, Any] | None = None
    library_version: str = __version__
    format: int = FORMAT_VERSION
    weights_sha256: str | None = None
    source: str | None = None

    @property
    def training_sequences(self) -> list[str]:
        """The training videos (``dataset/source/sequence``) listed in ``training``, or ``[]``."""
        return list((self.training or {}).get("sequences") or [])

    def to_dict(self) -> dict[str, Any]:
        """The ``config.json`` layout (without ``source``)."""
        return {
            "format": self.format,
            "library": "dcffnet",
            "library_version": self.library_version,
            "architecture": self.architecture,
            "model_args": self.model_args,
            "input": self.input,
            "tracker": None if self.tracker is None else self.tracker.to_dict(),
            "training": self.training,
            "metrics": self.metrics,
            "calibration": self.calibration,
            "weights_sha256": self.weights_sha256,
        }

    @classmethod
    def from_dict(cls, data: Any, source: str | None = None) -> "CheckpointInfo":
        """Parse a ``config.json`` dict.

        Raises:
            CheckpointError: not a dcffnet config (no ``model_args``), a format newer than this
                library reads, or invalid ``tracker`` values.
        """
        if not isinstance(data, dict) or "model_args" not in data:
            raise CheckpointError("config.json has no 'model_args': not a dcffnet checkpoint")
        fmt = data.get("format", FORMAT_VERSION)
        if not isinstance(fmt, int) or fmt > FORMAT_VERSION:
            raise CheckpointError(
                f"checkpoint format {fmt!r} is newer than this dcffnet understands ({FORMAT_VERSION}); upgrade dcffnet"
            )
        if not isinstance(data["model_args"], dict):
            raise CheckpointError(f"model_args in config.json must be a mapping, got {type(data['model_args']).__name__}")
        tracker = data.get("tracker")
        try:
            hparams = None if tracker is None else TrackerHParams.from_dict(tracker)
        except (TypeError, ValueError) as exc:
            raise CheckpointError(f"invalid tracker hyper-parameters in config.json: {exc}") from exc
        return cls(architecture=str(data.get("architecture", "custom")), model_args=dict(data["model_args"]),
                   tracker=hparams, training=data.get("training"), metrics=data.get("metrics"),
                   calibration=data.get("calibration"),
                   input=data.get("input"), library_version=str(data.get("library_version", "unknown")),
                   format=fmt, weights_sha256=data.get("weights_sha256"), source=source)

    def replace(self, **changes: Any) -> "CheckpointInfo":
        """A copy with ``changes`` applied."""
        return dataclasses.replace(self, **changes)


# ---------------------------------------------------------------------------------------------- files
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


def _replace_file(tmp: str, path: Path) -> None:
    """Move a finished temporary file into place with the permissions a plain ``open`` would give
    (``mkstemp`` creates files readable by the owner only)."""
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(tmp, 0o666 & ~mask)
    os.replace(tmp, path)


def _atomic_write_json(path: Path, data: dict[str, Any]) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
    with os.fdopen(fd, "w") as fh:
        json.dump(data, fh, indent=2, sort_keys=False)
        fh.write("\n")
    _replace_file(tmp, path)


def write_checkpoint(folder: "str | os.PathLike[str]", state: dict[str, torch.Tensor], info: CheckpointInfo) -> Path:
    """Write ``state`` and ``info`` as a checkpoint folder (created if needed; each file replaced
    atomically, the weights first, so a reader never sees a config without its weights).

    ``info.weights_sha256`` is set from the written file. Returns the folder.
    """
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().to("cpu").contiguous() for k, v in state.items()}
    fd, tmp = tempfile.mkstemp(dir=out, prefix=".tmp-", suffix=".safetensors")
    os.close(fd)
    try:
        save_file(tensors, tmp, metadata={"format": "pt", "library": "dcffnet"})
        _replace_file(tmp, out / WEIGHTS_NAME)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    info.weights_sha256 = sha256_file(out / WEIGHTS_NAME)
    _atomic_write_json(out / CONFIG_NAME, info.to_dict())
    return out


def read_checkpoint(folder: "str | os.PathLike[str]") -> tuple[CheckpointInfo, dict[str, torch.Tensor]]:
    """Read a checkpoint folder: its :class:`CheckpointInfo` and its tensors (CPU).

    Raises:
        CheckpointError: a missing file, invalid JSON, a newer format, a sha256 mismatch or an
            unreadable safetensors file.
    """
    folder = Path(folder)
    config_path, weights_path = folder / CONFIG_NAME, folder / WEIGHTS_NAME
    for path in (config_path, weights_path):
        if not path.is_file():
            raise CheckpointError(f"checkpoint folder {folder} has no {path.name}")
    try:
        data = json.loads(config_path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{config_path} is not valid JSON: {exc}") from exc
    info = CheckpointInfo.from_dict(data, source=str(folder))
    if info.weights_sha256:
        actual = sha256_file(weights_path)
        if actual != info.weights_sha256:
            raise CheckpointError(
                f"sha256 of {weights_path} is {actual}, but config.json expects {info.weights_sha256}: "
                "the file is corrupt or does not belong to this config"
            )
    try:
        state = load_file(str(weights_path), device="cpu")
    except Exception as exc:  # safetensors raises its own error types for corrupt headers/data
        raise CheckpointError(f"{weights_path} is not a readable safetensors file: {exc}") from exc
    return info, state


# ---------------------------------------------------------------------------------------------- names
def _hub_offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().upper() in ("1", "ON", "YES", "TRUE")


def hub_timeout() -> float:
    """Seconds to wait for the hub to answer a file's metadata request: ``$DCFFNET_HUB_TIMEOUT``
    (default 10)."""
    raw = os.environ.get("DCFFNET_HUB_TIMEOUT", "10")
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"DCFFNET_HUB_TIMEOUT must be a number of seconds, got {raw!r}") from None
    if not value > 0:
        raise ValueError(f"DCFFNET_HUB_TIMEOUT must be > 0 seconds, got {raw!r}")
    return value


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

    endpoint = os.environ.get("HF_ENDPOINT") or None
    offline = _hub_offline()
    # read now, not when huggingface_hub was imported, so a changed HF_HUB_CACHE takes effect
    cache_dir = cache_dir or os.environ.get("HF_HUB_CACHE") or None
    paths = []

    def fetch(filename: str, local_only: bool) -> Path:
        return Path(hf_hub_download(
            repo_id, filename, revision=revision, cache_dir=cache_dir, token=token, endpoint=endpoint,
            local_files_only=local_only, library_name="dcffnet", library_version=__version__,
            etag_timeout=hub_timeout(),
        ))

    def cached_or_raise(filename: str, failure: str, exc: Exception) -> Path:
        """After a server error or a broken connection: the cached copy, if there is one."""
        try:
            path = fetch(filename, local_only=True)
        except LocalEntryNotFoundError:
            raise WeightsNotFoundError(
                f"downloading {filename} of {repo_id!r} from {endpoint or 'the hub'} failed ({failure}) and no "
                "copy is cached; nothing was loaded"
            ) from exc
        warnings.warn(f"the hub failed ({failure}); using the cached {filename} of {repo_id!r}", stacklevel=4)
        return path

    for filename in (CONFIG_NAME, WEIGHTS_NAME):
        try:
            paths.append(fetch(filename, local_only=offline))
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
        except HfHubHTTPError as exc:  # 5xx and other HTTP errors
            paths.append(cached_or_raise(filename, str(exc).splitlines()[0], exc))
        except Exception as exc:  # the HTTP stack's own errors: timeouts, resets, short reads
            paths.append(cached_or_raise(filename, f"{type(exc).__name__}: {exc}", exc))
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


def resolve_checkpoint(name_or_path: "str | os.PathLike[str]", revision: str | None = None,
                       cache_dir: "str | os.PathLike[str] | None" = None,
                       token: "str | bool | None" = None) -> Path:
    """The local folder of a checkpoint, downloading it from the hub when needed.

    ``name_or_path`` is tried as: a local folder; a bundled name (see :func:`bundled_checkpoints`);
    a hub repo id ``org/name`` (``org/name@rev`` pins a revision, as does ``revision``).

    Raises:
        WeightsNotFoundError: unknown name, hub repo/revision not found, offline with an empty
            cache, or ``"default"`` asked for when no default checkpoint is bundled.
        CheckpointError: the hub repo has no checkpoint files.
    """
    name = os.fspath(name_or_path)
    path = Path(name).expanduser()
    bundled = bundled_checkpoints()
    if path.is_dir():
        return path
    if name in bundled:
        return bundled[name]
    if name == "default":
        raise WeightsNotFoundError(
            f"no default checkpoint is bundled in this installation of dcffnet ({BUNDLED_DIR / 'default'} is "
            "missing; reinstall the package to restore it). Pass weights explicitly: "
            "dcffnet.Tracker.from_pretrained('path/to/checkpoint_folder') or a hub repo id ('org/name'), "
            "or wrap your own network with dcffnet.Tracker(model=...)"
        )
    repo_id, revision = _split_revision(name, revision)
    if not _REPO_ID.fullmatch(repo_id) or repo_id.startswith((".", "~")):
        raise WeightsNotFoundError(
            f"{name!r} is not a checkpoint folder, not a bundled name "
            f"(available: {sorted(bundled) or 'none'}) and not a hub repo id of the form 'org/name'"
        )
    return _download_from_hub(repo_id, revision, cache_dir, token)


def upload_checkpoint(folder: "str | os.PathLike[str]", repo_id: str, *, revision: str | None = None,
                      private: bool | None = None, token: "str | bool | None" = None,
                      commit_message: str = "Upload dcffnet checkpoint") -> str:
    """Upload a checkpoint folder (``config.json``, ``model.safetensors``, and ``README.md`` and the
    ONNX export ``onnx.json`` / ``template.onnx`` / ``search.onnx`` if present) to hub repository
    ``repo_id``, creating it if needed (``HF_ENDPOINT`` and the usual token sources).

    Returns:
        The commit id (40 hex characters) of the upload.
    """
    from huggingface_hub import HfApi

    endpoint = os.environ.get("HF_ENDPOINT") or None
    api = HfApi(endpoint=endpoint, token=token, library_name="dcffnet")
    api.create_repo(repo_id, private=private, exist_ok=True)
    info = api.upload_folder(repo_id=repo_id, folder_path=str(folder), revision=revision,
                             commit_message=commit_message, allow_patterns=[CONFIG_NAME, WEIGHTS_NAME, "README.md", "onnx.json",
                                                             "template.onnx", "search.onnx"])
    return info.oid
