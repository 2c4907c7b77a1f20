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
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .atomic import atomic_path, atomic_write_json
from .errors import CheckpointError, WeightsNotFoundError
from .fields import short_repr
from .hparams import TrackerHParams
from .version import __version__

if TYPE_CHECKING:
    import torch

__all__ = [
    "CONFIG_NAME",
    "WEIGHTS_NAME",
    "FORMAT_VERSION",
    "CheckpointInfo",
    "sha256_file",
    "read_json_file",
    "read_checkpoint_info",
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
#: largest ``config.json`` / ``onnx.json`` read (the bundled ``config.json`` is about 15 KB)
MAX_JSON_BYTES = 16 * 2**20
# one part of a hub repo id, as the hub accepts it: 1-96 of [A-Za-z0-9_.-], starting and ending
# with a letter, digit or underscore, no "--" or ".." (and the name not ending in ".git")
_REPO_PART = re.compile(r"(?!.*(--|\.\.))[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,94}[A-Za-z0-9_])?", re.ASCII)
_PATH_SUFFIXES = (".json", ".safetensors", ".onnx", ".pt", ".pth", ".bin")


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
        """Parse a ``config.json`` dict, checking every field: ``model_args`` against
        :class:`~dcffnet.models.ModelConfig` (types, ranges, memory cap), ``tracker`` against
        :class:`~dcffnet.TrackerHParams`, ``calibration`` against
        :class:`~dcffnet.tracking.calibration.ScoreCalibration`, the free-form sections' types, and
        the network's geometry and the memory of tracking with ``redetect_tiles`` search crops per
        lost frame (:func:`dcffnet.models.memory.check_buildable`, under
        :data:`~dcffnet.models.memory.MODEL_MEMORY_CAP_MB`).

        Raises:
            CheckpointError: not a dcffnet config (no ``model_args``), a format newer than this
                library reads, or an invalid field; the message names the file (``source``'s
                ``config.json``), the field and what is allowed.
        """
        from .models.config import ModelConfig  # the models import this module
        from .models.memory import check_buildable
        from .tracking.calibration import ScoreCalibration

        where = str(Path(source) / CONFIG_NAME) if source is not None else CONFIG_NAME
        if not isinstance(data, dict) or "model_args" not in data:
            raise CheckpointError(f"{where} has no 'model_args': not a dcffnet checkpoint")
        fmt = data.get("format", FORMAT_VERSION)
        if isinstance(fmt, bool) or not isinstance(fmt, int) or fmt < 1:
            raise CheckpointError(f"{where}: format must be an integer >= 1, got {short_repr(fmt)}")
        if fmt > FORMAT_VERSION:
            raise CheckpointError(
                f"{where}: checkpoint format {fmt!r} is newer than this dcffnet understands ({FORMAT_VERSION}); "
                "upgrade dcffnet"
            )
        for key, default in (("architecture", "custom"), ("library_version", "unknown")):
            value = data.get(key, default)
            if not isinstance(value, str) or not 0 < len(value) <= 200:
                raise CheckpointError(f"{where}: {key} must be a string of 1 to 200 characters, got {short_repr(value)}")
        for key in ("training", "metrics", "input", "calibration"):
            if data.get(key) is not None and not isinstance(data[key], dict):
                raise CheckpointError(f"{where}: {key} must be a mapping or null, got {short_repr(data[key])}")
        sequences = (data.get("training") or {}).get("sequences")
        if sequences is not None and (not isinstance(sequences, list) or not all(isinstance(q, str) for q in sequences)):
            raise CheckpointError(f"{where}: training.sequences must be a list of strings, got {short_repr(sequences)}")
        sha = data.get("weights_sha256")
        if sha is not None and not (isinstance(sha, str) and re.fullmatch(r"[0-9a-fA-F]{64}", sha)):
            raise CheckpointError(f"{where}: weights_sha256 must be 64 hex digits or null, got {short_repr(sha)}")
        if not isinstance(data["model_args"], dict):
            raise CheckpointError(f"{where}: model_args must be a mapping, got {short_repr(data['model_args'])}")
        try:
            config = ModelConfig.from_dict(data["model_args"])
        except (TypeError, ValueError) as exc:
            raise CheckpointError(f"{where}: invalid model_args: {exc}") from exc
        tracker = data.get("tracker")
        try:
            hparams = None if tracker is None else TrackerHParams.from_dict(tracker)
        except (TypeError, ValueError) as exc:
            raise CheckpointError(f"{where}: invalid tracker hyper-parameters: {exc}") from exc
        try:
            if data.get("calibration") is not None:
                ScoreCalibration.from_dict(data["calibration"])
        except (TypeError, ValueError) as exc:
            raise CheckpointError(f"{where}: invalid calibration: {exc}") from exc
        tiles = max(1, (hparams or TrackerHParams()).redetect_tiles)  # search crops of one lost frame
        try:
            check_buildable(config, search_crops=tiles)
        except ValueError as exc:
            raise CheckpointError(f"{where}: model_args with tracker.redetect_tiles={tiles}: {exc}") from exc
        return cls(architecture=data.get("architecture", "custom"), model_args=dict(data["model_args"]),
                   tracker=hparams, training=data.get("training"), metrics=data.get("metrics"),
                   calibration=data.get("calibration"), input=data.get("input"),
                   library_version=data.get("library_version", "unknown"), format=fmt,
                   weights_sha256=None if sha is None else sha.lower(), source=source)

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


def read_json_file(path: Path, max_bytes: int = MAX_JSON_BYTES) -> Any:
    """The JSON value in ``path``, a file of a checkpoint or export folder that anyone may have written.

    Raises:
        CheckpointError: the file is missing, larger than ``max_bytes``, not UTF-8, not JSON, or
            nested too deeply to parse; the message names the file.
    """
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise CheckpointError(f"{path} is {size} bytes, more than the {max_bytes} a dcffnet JSON file may have")
        return json.loads(path.read_bytes().decode("utf-8"))
    except OSError as exc:
        raise CheckpointError(f"{path} cannot be read: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise CheckpointError(f"{path} is not valid JSON: not UTF-8 text ({exc})") from exc
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, an integer of too many digits, deep nesting
        raise CheckpointError(f"{path} is not valid JSON: {short_repr(str(exc), 200)}") from exc


def bundled_checkpoints() -> dict[str, Path]:
    """Checkpoints shipped inside the package: ``{name: folder}``."""
    if not BUNDLED_DIR.is_dir():
        return {}
    return {p.name: p for p in sorted(BUNDLED_DIR.iterdir()) if (p / CONFIG_NAME).is_file()}


def write_checkpoint(folder: "str | os.PathLike[str]", state: dict[str, torch.Tensor], info: CheckpointInfo) -> Path:
    """Write ``state`` and ``info`` as a checkpoint folder (created if needed; each file replaced
    atomically, the weights first, so a reader never sees a config without its weights).

    ``info.weights_sha256`` is set from the written file. Returns the folder.
    """
    from safetensors.torch import save_file

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().to("cpu").contiguous() for k, v in state.items()}
    with atomic_path(out / WEIGHTS_NAME) as tmp:
        save_file(tensors, str(tmp), metadata={"format": "pt", "library": "dcffnet"})
    info.weights_sha256 = sha256_file(out / WEIGHTS_NAME)
    atomic_write_json(out / CONFIG_NAME, info.to_dict())
    return out


def read_checkpoint_info(folder: "str | os.PathLike[str]") -> CheckpointInfo:
    """Read a checkpoint folder's :class:`CheckpointInfo` and check its weights file's sha256,
    without reading the tensors (no torch).

    Raises:
        CheckpointError: a missing file, invalid JSON, a newer format or a sha256 mismatch.
    """
    folder = Path(folder)
    config_path, weights_path = folder / CONFIG_NAME, folder / WEIGHTS_NAME
    for path in (config_path, weights_path):
        if not path.is_file():
            raise CheckpointError(f"checkpoint folder {folder} has no {path.name}")
    info = CheckpointInfo.from_dict(read_json_file(config_path), source=str(folder))
    if info.weights_sha256:
        actual = sha256_file(weights_path)
        if actual != info.weights_sha256:
            raise CheckpointError(
                f"sha256 of {weights_path} is {actual}, but config.json expects {info.weights_sha256}: "
                "the file is corrupt or does not belong to this config"
            )
    return info


def read_checkpoint(folder: "str | os.PathLike[str]") -> tuple[CheckpointInfo, dict[str, torch.Tensor]]:
    """Read a checkpoint folder: its :class:`CheckpointInfo` and its tensors (CPU).

    Raises:
        CheckpointError: a missing file, invalid JSON, a newer format, a sha256 mismatch or an
            unreadable safetensors file.
    """
    from safetensors.torch import load_file

    info = read_checkpoint_info(folder)
    weights_path = Path(folder) / WEIGHTS_NAME
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
        HFValidationError,
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
        except HFValidationError as exc:  # a repo id or revision huggingface_hub refuses before asking
            raise WeightsNotFoundError(f"huggingface_hub refuses repo id {repo_id!r} / revision {revision!r}: {exc}") from exc
        except HfHubHTTPError as exc:  # 5xx and other HTTP errors
            paths.append(cached_or_raise(filename, str(exc).splitlines()[0], exc))
        except Exception as exc:  # the HTTP stack's own errors: timeouts, resets, short reads
            paths.append(cached_or_raise(filename, f"{type(exc).__name__}: {exc}", exc))
    if paths[0].parent != paths[1].parent:
        raise CheckpointError(f"{CONFIG_NAME} and {WEIGHTS_NAME} of {repo_id!r} resolved to different snapshots")
    return paths[0].parent


def _split_revision(name: str, revision: str | None) -> tuple[str, str | None]:
    if revision is not None and (not isinstance(revision, str) or not revision.strip()):
        raise ValueError(f"revision must be a branch, tag or commit name (a non-empty string), got {short_repr(revision)}")
    if "@" in name:
        name, _, embedded = name.partition("@")
        if not embedded.strip():
            raise ValueError(f"nothing follows '@' in {name + '@'!r}: write 'org/name@REVISION' (a branch, tag or commit)")
        if revision is not None and revision != embedded:
            raise ValueError(f"conflicting revisions: {embedded!r} in the name and revision={revision!r}")
        revision = embedded
    return name, revision


def _repo_id_problem(repo_id: str) -> str | None:
    """Why ``repo_id`` is not a hub repo id the hub would accept (``None``: it is one)."""
    parts = repo_id.split("/")
    if len(parts) != 2:
        return "a hub repo id has the form 'org/name'"
    for part in parts:
        if not _REPO_PART.fullmatch(part):
            return (f"{part!r} is not a valid hub name (1-96 letters, digits, '_', '-', '.'; no '--' or '..'; "
                    "not starting or ending with '-' or '.')")
    if parts[1].endswith(".git"):
        return "a hub repo name cannot end in '.git'"
    return None


def _kind(path: Path) -> str | None:
    """``"dir"``, ``"file"``, ``"other"`` or ``None`` (nothing there, or a name the file system refuses)."""
    try:
        return "dir" if path.is_dir() else "file" if path.is_file() else "other" if path.exists() else None
    except OSError:  # a name too long, a loop of links
        return None


def _looks_like_path(name: str, path: Path) -> bool:
    """Whether ``name`` can only mean a local path: it starts with ``.``, ``/`` or ``~``, has a
    backslash, more than one ``/`` before any ``@``, a file suffix, an existing first folder
    (``runs/exp1`` where ``runs/`` exists), or names an existing file."""
    head = name.partition("@")[0]
    return (name.startswith((".", "/", "~")) or "\\" in name or head.count("/") > 1 or head.endswith("/")
            or path.suffix.lower() in _PATH_SUFFIXES or _kind(path) is not None or (
                head.count("/") == 1 and _kind(Path(head.split("/")[0])) == "dir"))


def _missing_folder(name: str, path: Path) -> WeightsNotFoundError:
    """The error for a path-like ``name`` that is no checkpoint folder, saying what is there instead."""
    where = path.absolute()
    if _kind(path) == "file":
        parent = f"; its folder {where.parent} is one" if path.name in (CONFIG_NAME, WEIGHTS_NAME) else ""
        return WeightsNotFoundError(f"{name!r} is not a checkpoint folder: {where} is a file (pass the folder "
                                    f"that holds {CONFIG_NAME} and {WEIGHTS_NAME}{parent})")
    hint = ""
    for parent in where.parents:
        if _kind(parent) == "dir":
            try:
                entries = sorted(p.name for p in parent.iterdir() if p.is_dir())
            except OSError:
                break
            listing = ", ".join(entries[:10]) + (" ..." if len(entries) > 10 else "")
            hint = f"; the nearest existing folder is {parent}, holding: {listing or 'no folders'}"
            break
    return WeightsNotFoundError(f"{name!r} is not a checkpoint folder: no folder {where} exists{hint}")


def resolve_checkpoint(name_or_path: "str | os.PathLike[str]", revision: str | None = None,
                       cache_dir: "str | os.PathLike[str] | None" = None,
                       token: "str | bool | None" = None) -> Path:
    """The local folder of a checkpoint, downloading it from the hub when needed.

    ``name_or_path`` is tried as: a local folder; a bundled name (see :func:`bundled_checkpoints`);
    a hub repo id ``org/name`` (``org/name@rev`` pins a revision, as does ``revision``). A path
    object, or a string that can only be a path (``./runs/x``, ``/abs``, ``~/x``, ``a/b/c``, a
    file name, ``runs/x`` where ``runs/`` exists), is never sent to the hub: when it is no folder
    the error says so at once.

    Raises:
        TypeError: ``name_or_path`` is not a ``str`` or ``os.PathLike`` (e.g. ``123``).
        ValueError: an empty name, or an empty or conflicting revision.
        WeightsNotFoundError: no such folder, unknown name, invalid repo id, hub repo/revision not
            found, offline with an empty cache, or ``"default"`` asked for when no default
            checkpoint is bundled; hub failures say what was tried.
        CheckpointError: the hub repo has no checkpoint files.
    """
    bundled = bundled_checkpoints()
    forms = (f"a checkpoint folder, a bundled name ({', '.join(sorted(bundled)) or 'none installed'}) or a hub "
             "repo id 'org/name[@revision]'")
    if isinstance(name_or_path, (bytes, bytearray)) or not isinstance(name_or_path, (str, os.PathLike)):
        raise TypeError(f"weights must be {forms} (a str or os.PathLike), got {short_repr(name_or_path)} "
                        f"({type(name_or_path).__name__})")
    name = os.fspath(name_or_path)
    if not isinstance(name, str):
        raise TypeError(f"weights must be {forms} (a str path), got the bytes path {short_repr(name)}")
    if not name.strip() or "\x00" in name:
        raise ValueError(f"weights must be {forms}, got {short_repr(name)}")
    try:
        path = Path(name).expanduser()
    except RuntimeError:  # "~someone" for a user who does not exist
        path = Path(name)
    if _kind(path) == "dir":
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
    if not isinstance(name_or_path, str) or _looks_like_path(name, path):
        raise _missing_folder(name, path)
    repo_id, revision = _split_revision(name, revision)
    problem = _repo_id_problem(repo_id)
    if problem:
        raise WeightsNotFoundError(
            f"{name!r} is not a checkpoint folder (no folder {path.absolute()} exists), not a bundled name "
            f"(available: {sorted(bundled) or 'none'}) and not a hub repo id: {problem}"
        )
    try:
        return _download_from_hub(repo_id, revision, cache_dir, token)
    except WeightsNotFoundError as exc:
        raise WeightsNotFoundError(
            f"{exc} (tried: a local folder {path.absolute()} (none exists), a bundled name (none is called "
            f"{name!r}), then hub repo {repo_id!r} at {os.environ.get('HF_ENDPOINT') or 'https://huggingface.co'})"
        ) from exc


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
