"""ONNX graphs for a network in memory: its checkpoint folder's export when that was made from the
same weights, else one exported on demand into a cache folder (``Tracker(backend="onnx")``)."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from ..errors import CheckpointError
from .onnx_format import ONNX_FILES, read_manifest, state_digest
from .onnx_runtime import OnnxNetwork, import_onnxruntime

__all__ = ["onnx_cache_dir", "export_matches", "onnx_network_for"]


def onnx_cache_dir() -> Path:
    """Where exports made on demand are kept: ``$DCFFNET_ONNX_CACHE`` or ``~/.cache/dcffnet/onnx``."""
    return Path(os.environ.get("DCFFNET_ONNX_CACHE") or Path.home() / ".cache" / "dcffnet" / "onnx")


def export_matches(folder: Path, digest: str) -> bool:
    """Whether ``folder`` holds an export made from weights with this :func:`state_digest`."""
    if not (folder / ONNX_FILES["manifest"]).is_file():
        return False
    try:
        return read_manifest(folder).get("state_sha256") == digest
    except CheckpointError:  # a malformed export is not this one
        return False


def onnx_network_for(model: Any, threads: int | None = 1, device: Any = "cpu",
                     digest: str | None = None) -> "OnnxNetwork":
    """An :class:`OnnxNetwork` computing ``model`` (a DCFFNet): the export in its checkpoint folder
    when that was made from these exact weights, else one from the cache, exported there first if
    missing (atomically: a half-written export is never used). ``digest``: the weights'
    :func:`state_digest` if the caller has it already."""
    import_onnxruntime()
    digest = digest or state_digest(model)
    info = getattr(model, "checkpoint_info", None)
    source = getattr(info, "source", None)
    if source and export_matches(Path(source), digest):
        return OnnxNetwork(source, threads=threads, device=device)
    cached = onnx_cache_dir() / digest[:32]
    if not export_matches(cached, digest):
        from .onnx_export import export_onnx

        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".export-", dir=cached.parent))
        try:
            export_onnx(model, tmp)
            if cached.exists():
                shutil.rmtree(cached)
            os.replace(tmp, cached)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
    return OnnxNetwork(cached, threads=threads, device=device)
