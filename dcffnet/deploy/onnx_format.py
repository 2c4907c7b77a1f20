"""The ONNX export folder's layout: file names, manifest version and its reader
(:func:`read_manifest`), and the digest of the weights it was made from."""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..checkpoint import read_json_file
from ..errors import CheckpointError
from ..fields import short_repr

if TYPE_CHECKING:
    from torch import nn

__all__ = ["ONNX_FILES", "ONNX_FORMAT", "OUTPUT_NAMES", "read_manifest", "check_graph_signature", "state_digest",
           "file_state_digest"]

#: file names inside an export folder
ONNX_FILES = {"template": "template.onnx", "search": "search.onnx", "manifest": "onnx.json"}
#: version of the ``onnx.json`` layout
ONNX_FORMAT = 1
#: outputs a search graph may have (CAR head: ``cls`` and ``reg``; SiamFC head: ``response``)
OUTPUT_NAMES = ("cls", "reg", "response")
_MAX_DIM = 65536  # largest side, channel count or batch of a tensor named in onnx.json
_HEX64 = re.compile(r"[0-9a-fA-F]{64}")


def read_manifest(folder: "str | os.PathLike[str]") -> dict[str, Any]:
    """The ``onnx.json`` of an export folder, checked (an export may come from anyone on a hub).

    Checked: ``format`` (an integer this library reads), ``template`` and ``search`` (each a
    ``file`` that is a plain file name present in ``folder``, and ``inputs`` / ``outputs`` mapping
    tensor names to shapes of positive integers), the template's outputs being the search graph's
    kernel inputs, the search outputs among :data:`OUTPUT_NAMES`, and ``sha256`` (file name -> 64 hex
    digits). Other keys (``opset``, ``input``, notes) are kept as they are.

    Returns:
        The manifest dict.

    Raises:
        CheckpointError: ``onnx.json`` missing, unreadable, not UTF-8 JSON, from a newer format, or
            malformed; a graph file missing or named outside ``folder``. The message names the file
            and the field.
    """
    folder = Path(folder)
    path = folder / ONNX_FILES["manifest"]
    if not path.is_file():
        raise CheckpointError(f"{folder} has no {ONNX_FILES['manifest']}: not an ONNX export "
                              "(write one with `dcffnet export CHECKPOINT --onnx OUT`)")
    manifest = read_json_file(path)
    if not isinstance(manifest, dict):
        raise CheckpointError(f"{path} must hold a JSON object, got {short_repr(manifest)}")
    fmt = manifest.get("format")
    if isinstance(fmt, bool) or not isinstance(fmt, int) or not 1 <= fmt <= ONNX_FORMAT:
        raise CheckpointError(f"{path}: export format {short_repr(fmt)} is not one this dcffnet reads "
                              f"({ONNX_FORMAT}); upgrade dcffnet")
    shapes = {part: _graph_entry(folder, path, manifest, part) for part in ("template", "search")}
    template_in, template_out = shapes["template"]
    search_in, search_out = shapes["search"]
    if list(template_in) != ["template"] or len(template_in["template"]) != 4:
        raise CheckpointError(f"{path}: template.inputs must be {{'template': [1, 3, T, T]}}, got {short_repr(template_in)}")
    if next(iter(search_in), None) != "search" or len(search_in["search"]) != 4:
        raise CheckpointError(f"{path}: search.inputs must start with 'search': [1, 3, S, S], got {short_repr(search_in)}")
    kernels = {name: shape for name, shape in search_in.items() if name != "search"}
    if list(kernels.items()) != list(template_out.items()) or not kernels:
        raise CheckpointError(f"{path}: template.outputs {short_repr(list(template_out))} must be the search "
                              f"graph's kernel inputs {short_repr(list(kernels))}, with the same shapes")
    if not search_out or not set(search_out) <= set(OUTPUT_NAMES):
        raise CheckpointError(f"{path}: search.outputs must be some of {list(OUTPUT_NAMES)}, got {short_repr(list(search_out))}")
    for key, ok, what in (("opset", lambda v: isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 1000,
                           "an integer in [1, 1000]"),
                          ("library_version", lambda v: isinstance(v, str) and 0 < len(v) <= 200, "a short string"),
                          ("state_sha256", lambda v: isinstance(v, str) and _HEX64.fullmatch(v) is not None,
                           "64 hex digits"),
                          ("input", lambda v: isinstance(v, dict), "a mapping")):
        if key in manifest and not ok(manifest[key]):
            raise CheckpointError(f"{path}: {key} must be {what}, got {short_repr(manifest[key])}")
    digests = manifest.get("sha256", {})
    if not isinstance(digests, dict) or not all(isinstance(k, str) and isinstance(v, str) and _HEX64.fullmatch(v)
                                                for k, v in digests.items()):
        raise CheckpointError(f"{path}: sha256 must map file names to 64 hex digits, got {short_repr(digests)}")
    return manifest


def check_graph_signature(folder: "str | os.PathLike[str]", manifest: dict[str, Any], sessions: dict[str, Any]) -> None:
    """Check that the graphs' inputs and outputs (names and shapes) are the ones :func:`read_manifest`
    returned for them (``sessions``: ``{"template": session, "search": session}``, objects with
    ONNX Runtime's ``get_inputs()`` / ``get_outputs()``).

    Raises:
        CheckpointError: a name or shape differs, naming the graph file and both signatures.
    """
    path = Path(folder) / ONNX_FILES["manifest"]
    for part, session in sessions.items():
        for kind, actual in (("inputs", session.get_inputs()), ("outputs", session.get_outputs())):
            graph = {arg.name: list(arg.shape) for arg in actual}
            if graph != manifest[part][kind]:
                raise CheckpointError(f"{path}: {part}.{kind} {short_repr(manifest[part][kind], 200)} do not match "
                                      f"those of {manifest[part]['file']} {short_repr(graph, 200)}")


def _graph_entry(folder: Path, path: Path, manifest: dict[str, Any],
                 part: str) -> tuple[dict[str, list[int]], dict[str, list[int]]]:
    """``(inputs, outputs)`` of ``manifest[part]``, after checking that its ``file`` is a plain file
    name present in ``folder`` and that every shape is a list of positive integers."""
    entry = manifest.get(part)
    if not isinstance(entry, dict):
        raise CheckpointError(f"{path}: {part} must be a mapping with file, inputs and outputs, got {short_repr(entry)}")
    name = entry.get("file")
    if (not isinstance(name, str) or name in ("", ".", "..") or len(name) > 255 or "/" in name or "\\" in name
            or "\x00" in name or Path(name).is_absolute() or os.path.splitdrive(name)[0]):
        raise CheckpointError(f"{path}: {part}.file must be a file name inside the export folder {folder}, "
                              f"got {short_repr(name)}")
    try:
        present = (folder / name).is_file()
    except OSError:  # a name the file system refuses
        present = False
    if not present:
        raise CheckpointError(f"{path}: {part}.file {name!r} is missing from the ONNX export folder {folder}")
    tensors = []
    for key in ("inputs", "outputs"):
        value = entry.get(key)
        if not isinstance(value, dict) or not 1 <= len(value) <= 16 or not all(
                isinstance(k, str) and isinstance(shape, list) and 1 <= len(shape) <= 8
                and all(isinstance(d, int) and not isinstance(d, bool) and 1 <= d <= _MAX_DIM for d in shape)
                for k, shape in value.items()):
            raise CheckpointError(f"{path}: {part}.{key} must map 1 to 16 tensor names to shapes (lists of 1 to 8 "
                                  f"integers in [1, {_MAX_DIM}]), got {short_repr(value)}")
        tensors.append(value)
    return tensors[0], tensors[1]


def state_digest(model: "nn.Module") -> str:
    """Hex sha256 of a network's architecture and state (names, dtypes, shapes and values): which
    weights an export was made from."""
    import torch

    digest = hashlib.sha256()
    config = getattr(model, "config", None)
    if config is not None and hasattr(config, "to_dict"):
        digest.update(json.dumps(config.to_dict(), sort_keys=True).encode())
    for name, tensor in sorted(model.state_dict().items()):
        t = tensor.detach().cpu().contiguous()
        digest.update(f"{name}:{t.dtype}:{tuple(t.shape)}".encode())
        digest.update(t.numpy().tobytes() if t.dtype != torch.bfloat16 else t.float().numpy().tobytes())
    return digest.hexdigest()


#: numpy dtypes a safetensors file may hold, by the name torch gives them in :func:`state_digest`
_TORCH_DTYPE_NAMES = {"float32": "torch.float32", "float64": "torch.float64", "float16": "torch.float16",
                      "int64": "torch.int64", "int32": "torch.int32", "int16": "torch.int16", "int8": "torch.int8",
                      "uint8": "torch.uint8", "bool": "torch.bool"}


def file_state_digest(config: Any, weights: "str | os.PathLike[str]") -> str | None:
    """:func:`state_digest` of the network a checkpoint builds, computed from its files without
    torch: ``config`` (its :class:`~dcffnet.models.config.ModelConfig`) and ``weights`` (its
    ``model.safetensors``, read with numpy). Equal to ``state_digest`` of the loaded network, whose
    tensors a strict load gives the file's dtypes. ``None`` when the file holds a dtype numpy
    cannot read (bfloat16): then only the loaded network's digest says.

    Raises:
        CheckpointError: an unreadable safetensors file.
    """
    from safetensors import safe_open

    digest = hashlib.sha256()
    digest.update(json.dumps(config.to_dict(), sort_keys=True).encode())
    try:
        with safe_open(str(weights), framework="numpy") as f:
            for name in sorted(f.keys()):
                array = np.asarray(f.get_tensor(name), order="C")  # (ascontiguousarray makes 0-d arrays 1-d)
                dtype = _TORCH_DTYPE_NAMES.get(array.dtype.name)
                if dtype is None:
                    return None
                digest.update(f"{name}:{dtype}:{tuple(array.shape)}".encode())
                digest.update(array.tobytes())
    except (TypeError, ValueError) as exc:  # numpy cannot hold the dtype (bfloat16)
        if "bf16" in str(exc).lower() or "bfloat16" in str(exc).lower():
            return None
        raise CheckpointError(f"{weights} is not a readable safetensors file: {exc}") from exc
    except Exception as exc:  # safetensors' own error types for corrupt headers/data
        raise CheckpointError(f"{weights} is not a readable safetensors file: {exc}") from exc
    return digest.hexdigest()
