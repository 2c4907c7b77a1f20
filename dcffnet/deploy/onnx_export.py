"""ONNX export of a DCFFNet as two static-shape graphs: the template branch and the search branch + head.

``template.onnx``: ``template`` ``(1, 3, T, T)`` float BGR 0-255 -> one kernel input of the search
graph per correlation (``kernel_stage1`` / ``kernel_stage2`` for the CF modules that exist,
``kernel_head``), each already laid out as the banded matrices of
:func:`~dcffnet.models.fusion.toeplitz_bands`.

``search.onnx``: ``search`` ``(1, 3, S, S)`` plus those kernels -> ``cls`` ``(1, 2, R, R)`` and
``reg`` ``(1, 4, R, R)`` (CAR head; a SiamFC head gives ``response`` ``(1, 1, R, R)``).

Every depthwise correlation is written as the search map's row windows (one Gather with constant
indices) times banded matrices (:func:`~dcffnet.models.fusion.banded_correlation`): Gather,
Reshape and one MatMul with both operands computed at run time, which ONNX Runtime, OpenCV's DNN
module and TensorRT accept (a convolution whose weights are a graph input is not accepted
everywhere). BatchNorm layers are folded first.

The export folder is also a normal checkpoint (``config.json`` + ``model.safetensors``, so the
tuned tracking values and the calibration travel with it) plus ``onnx.json`` describing the graphs.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import warnings
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..atomic import atomic_write_json
from ..checkpoint import sha256_file
from ..fields import check_int, check_path, short_repr
from ..models.dcffnet import DCFFNet, TemplateFeatures
from ..models.fuse import fuse_batchnorm
from ..models.fusion import banded_correlation, toeplitz_bands
from ..version import __version__
from .onnx_format import ONNX_FILES, ONNX_FORMAT, state_digest
from .onnx_runtime import OnnxNetwork

__all__ = ["export_onnx", "kernel_names", "check_export_target", "OPSETS"]

#: ONNX opsets the export supports: 11 is the first in which the correlations' slices and gathers
#: export, 20 the last that torch's TorchScript exporter supports
OPSETS = (11, 20)

_STAGES = ("stage1", "stage2", "final")
_KERNEL_NAMES = {"stage1": "kernel_stage1", "stage2": "kernel_stage2", "final": "kernel_head"}


def _search_widths(model: DCFFNet) -> dict[str, int]:
    """Width of the search map each correlation sees (CF 1: stem output, CF 2: block 3, head: neck)."""
    sizes = model.feature_sizes["search"]
    return {"stage1": sizes["stem"], "stage2": sizes["block3"], "final": sizes["conv6"]}


def kernel_names(model: DCFFNet) -> list[str]:
    """Names of the kernel inputs of ``model``'s search graph, in order."""
    present = {"stage1": model.cf1 is not None, "stage2": model.cf2 is not None, "final": True}
    return [_KERNEL_NAMES[s] for s in _STAGES if present[s]]


def _self_correlation(search: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """Depthwise correlation without convolutions, kernels banded on the fly (template self-fusion)."""
    return banded_correlation(search, toeplitz_bands(kernel, search.shape[3]))


class TemplateGraph(nn.Module):
    """The template branch as exported: crop -> banded kernels of every correlation."""

    def __init__(self, model: DCFFNet) -> None:
        super().__init__()
        self.model = model
        self.widths = _search_widths(model)

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, ...]:
        features = self.model.template(z, correlate=_self_correlation)
        return tuple(toeplitz_bands(getattr(features, s), self.widths[s]) for s in _STAGES
                     if getattr(features, s) is not None)


class SearchGraph(nn.Module):
    """The search branch and head as exported: crop + banded kernels -> head maps."""

    def __init__(self, model: DCFFNet) -> None:
        super().__init__()
        self.model = model
        self.present = {"stage1": model.cf1 is not None, "stage2": model.cf2 is not None, "final": True}

    def forward(self, x: torch.Tensor, *kernels: torch.Tensor) -> tuple[torch.Tensor, ...]:
        it = iter(kernels)
        template = TemplateFeatures(*(next(it) if self.present[s] else None for s in _STAGES))
        out = self.model.track(x, template, correlate=banded_correlation)
        return tuple(out[k] for k in ("cls", "reg", "response") if k in out)


def check_export_target(folder: "str | os.PathLike[str]", opset: int) -> Path:
    """Check an export's arguments before anything is computed: ``opset`` in :data:`OPSETS` and
    ``folder`` a folder that can be created and written to (probed by creating it and a temporary
    file in it; folders the probe created are removed again, so a refused export leaves nothing).

    Returns:
        The folder.

    Raises:
        TypeError: ``opset`` is not an integer, or ``folder`` not a path.
        ValueError: ``opset`` out of range, or ``folder`` cannot be created or written (naming it and why).
    """
    check_int(opset, "opset", *OPSETS)
    out = check_path(folder, "the ONNX export folder")
    # os.path.exists: False, not an error, for a name too long to look up or holding a NUL
    missing = [p for p in (out, *out.parents) if not os.path.exists(p)]
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except (OSError, ValueError) as exc:  # ValueError: a NUL in the name
        reason = getattr(exc, "strerror", None) or exc
        raise ValueError(f"cannot write the ONNX export to {short_repr(str(out), 400)}: {reason}; "
                         "pass a folder that can be created and written to") from None
    finally:
        for created in missing:  # deepest first
            with contextlib.suppress(OSError, ValueError):
                created.rmdir()
    return out


def export_onnx(model: DCFFNet, folder: "str | os.PathLike[str]", *, opset: int = 17,
                check: bool = True) -> Path:
    """Write ``model`` to ``folder`` as ``template.onnx`` + ``search.onnx`` + ``onnx.json``, next
    to its checkpoint files (``config.json`` + ``model.safetensors``).

    Args:
        model: the network (its ``checkpoint_info`` tracking values and calibration are kept).
        folder: output folder, created if needed; existing export files are replaced.
        opset: ONNX opset of the graphs, in :data:`OPSETS`.
        check: run the graphs once with ONNX Runtime (when installed) and compare them with the
            PyTorch network (raises ``RuntimeError`` beyond 1e-3 relative error).

    Returns:
        The folder. Needs the ``onnx`` package (``pip install "dcffnet[onnx]"``).

    Raises:
        TypeError / ValueError: not a DCFFNet, an opset outside :data:`OPSETS`, or a folder that
            cannot be written (see :func:`check_export_target`).
    """
    if not isinstance(model, DCFFNet):
        raise TypeError(f"model must be a DCFFNet, got {type(model).__name__}")
    check_export_target(folder, opset)
    try:
        import onnx  # noqa: F401  (torch.onnx needs it)
    except ImportError as exc:
        raise ImportError('ONNX export needs the onnx package: pip install "dcffnet[onnx]"') from exc
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    info = model.checkpoint_info
    model.save_pretrained(folder, tracker=None if info is None else info.tracker,
                          training=None if info is None else info.training,
                          metrics=None if info is None else info.metrics,
                          calibration=None if info is None else info.calibration)
    fused = fuse_batchnorm(model).cpu().eval()
    g = model.geometry
    z = torch.rand(1, 3, g.template_size, g.template_size) * 255
    x = torch.rand(1, 3, g.search_size, g.search_size) * 255
    # eval() on the wrappers too: the exporter restores each wrapper's mode, recursively, afterwards
    template_graph, search_graph = TemplateGraph(fused).eval(), SearchGraph(fused).eval()
    names = kernel_names(model)
    with torch.no_grad():
        kernels = template_graph(z)
        outputs = search_graph(x, *kernels)
        output_names = [k for k in ("cls", "reg", "response") if k in fused.track(x, fused.template(z))]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer notes about Python ints in shapes (all static here)
        torch.onnx.export(template_graph, (z,), str(folder / ONNX_FILES["template"]), input_names=["template"],
                          output_names=names, opset_version=opset, dynamo=False)
        torch.onnx.export(search_graph, (x, *kernels), str(folder / ONNX_FILES["search"]),
                          input_names=["search", *names], output_names=output_names, opset_version=opset,
                          dynamo=False)
    manifest: dict[str, Any] = {
        "format": ONNX_FORMAT,
        "library_version": __version__,
        "opset": opset,
        "state_sha256": state_digest(model),
        "template": {"file": ONNX_FILES["template"], "inputs": {"template": [1, 3, g.template_size, g.template_size]},
                     "outputs": {n: list(k.shape) for n, k in zip(names, kernels)}},
        "search": {"file": ONNX_FILES["search"],
                   "inputs": {"search": [1, 3, g.search_size, g.search_size],
                              **{n: list(k.shape) for n, k in zip(names, kernels)}},
                   "outputs": {n: list(o.shape) for n, o in zip(output_names, outputs)}},
        "input": {"color": "bgr", "value_range": [0, 255], "layout": "NCHW float32"},
        "sha256": {f: sha256_file(folder / f) for f in (ONNX_FILES["template"], ONNX_FILES["search"])},
    }
    atomic_write_json(folder / ONNX_FILES["manifest"], manifest)
    if check:
        _check_parity(folder, fused, z, x)
    return folder


def _check_parity(folder: Path, fused: DCFFNet, z: torch.Tensor, x: torch.Tensor) -> None:
    try:
        net = OnnxNetwork(folder)
    except ImportError:  # no onnxruntime: nothing to compare with
        return
    with torch.no_grad():
        expected = fused.track(x, fused.template(z))
    got = net.track(x, net.template(z))
    for key, ref in expected.items():
        err = float((torch.from_numpy(got[key]) - ref).abs().max() / ref.abs().max().clamp(min=1e-6))
        if err > 1e-3:
            raise RuntimeError(f"exported {key} differs from the PyTorch network by {err:.2e} (relative)")
