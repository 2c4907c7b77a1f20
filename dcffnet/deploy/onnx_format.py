"""The ONNX export folder's layout: file names, manifest version, and the digest of the weights it was made from."""

from __future__ import annotations

import hashlib
import json

import torch
from torch import nn

__all__ = ["ONNX_FILES", "ONNX_FORMAT", "state_digest"]

#: file names inside an export folder
ONNX_FILES = {"template": "template.onnx", "search": "search.onnx", "manifest": "onnx.json"}
#: version of the ``onnx.json`` layout
ONNX_FORMAT = 1


def state_digest(model: nn.Module) -> str:
    """Hex sha256 of a network's architecture and state (names, dtypes, shapes and values): which
    weights an export was made from."""
    digest = hashlib.sha256()
    config = getattr(model, "config", None)
    if config is not None and hasattr(config, "to_dict"):
        digest.update(json.dumps(config.to_dict(), sort_keys=True).encode())
    for name, tensor in sorted(model.state_dict().items()):
        t = tensor.detach().cpu().contiguous()
        digest.update(f"{name}:{t.dtype}:{tuple(t.shape)}".encode())
        digest.update(t.numpy().tobytes() if t.dtype != torch.bfloat16 else t.float().numpy().tobytes())
    return digest.hexdigest()
