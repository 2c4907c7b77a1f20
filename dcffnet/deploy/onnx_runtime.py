"""Run an exported DCFFNet (:func:`~dcffnet.deploy.export_onnx`) with ONNX Runtime.

:class:`OnnxNetwork` has the network interface the :class:`~dcffnet.Tracker` drives
(``template(z)`` once, ``track(x, template)`` per frame, torch tensors in and out), so
``Tracker(backend="onnx")`` runs the same tracking code on either backend.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from ..checkpoint import sha256_file
from ..errors import CheckpointError
from ..fields import is_positive_int
from .onnx_format import check_graph_signature, read_manifest

__all__ = ["OnnxNetwork", "OnnxTemplate"]


class OnnxTemplate(NamedTuple):
    """Template kernels of one or more targets (numpy arrays, batch first), as the search graph takes them."""

    kernels: tuple[np.ndarray, ...]

    def index_select(self, index: Any) -> "OnnxTemplate":
        """The kernels of the targets at ``index`` (1-D integers: a numpy array, a sequence or a torch tensor)."""
        idx = np.asarray(index.cpu() if hasattr(index, "cpu") else index)
        return OnnxTemplate(tuple(k[idx] for k in self.kernels))

    def blend(self, other: "OnnxTemplate", weight: float) -> "OnnxTemplate":
        """``(1 - weight) * self + weight * other``, kernel by kernel (same shapes; ``weight`` in [0, 1])."""
        return OnnxTemplate(tuple((a * (1.0 - weight) + b * weight).astype(a.dtype, copy=False)
                                  for a, b in zip(self.kernels, other.kernels)))

    @staticmethod
    def cat(items: "list[OnnxTemplate]") -> "OnnxTemplate":
        """Kernels of several templates, concatenated along the batch dimension."""
        return OnnxTemplate(tuple(np.concatenate(parts, 0) for parts in zip(*(t.kernels for t in items))))

    @property
    def targets(self) -> int:
        """Number of targets (the batch size of the kernels)."""
        return int(self.kernels[0].shape[0])


def import_onnxruntime() -> Any:
    try:
        import onnxruntime
    except ImportError as exc:
        raise ImportError('the ONNX backend needs onnxruntime (a dcffnet dependency): pip install onnxruntime') from exc
    return onnxruntime


class OnnxNetwork:
    """The two exported graphs in ONNX Runtime sessions.

    Args:
        folder: an export folder (``onnx.json``, ``template.onnx``, ``search.onnx``).
        threads: intra-op threads of the sessions (``None``: ONNX Runtime's default, all cores);
            :attr:`threads` changes it later.
        device: ``"cpu"`` or ``"cuda[:N]"`` (needs the ``onnxruntime-gpu`` build).

    Raises:
        CheckpointError: a missing, newer or malformed ``onnx.json`` (see
            :func:`~dcffnet.deploy.onnx_format.read_manifest`), a missing graph file or a sha256 mismatch.
        ImportError: onnxruntime is not installed.
    """

    def __init__(self, folder: "str | os.PathLike[str]", threads: int | None = 1,
                 device: Any = "cpu") -> None:
        ort = import_onnxruntime()
        self.folder = folder = Path(folder)
        self.manifest = manifest = read_manifest(folder)
        for part in ("template", "search"):
            file = folder / manifest[part]["file"]
            if not file.is_file():
                raise CheckpointError(f"{file} is missing from the ONNX export")
            expected = manifest.get("sha256", {}).get(manifest[part]["file"])
            if expected is not None and sha256_file(file) != expected:
                raise CheckpointError(f"{file}: sha256 does not match onnx.json (corrupt or modified file)")
        device_type, _, index = str(device).partition(":")
        if device_type not in ("cpu", "cuda") or (index and not index.isdigit()):
            raise ValueError(f"device must be 'cpu', 'cuda' or 'cuda:N' (or a torch.device), got {device!r}")
        providers: list[Any] = ["CPUExecutionProvider"]
        if device_type == "cuda":
            if "CUDAExecutionProvider" not in ort.get_available_providers():
                raise RuntimeError("device='cuda' with the ONNX backend needs onnxruntime-gpu "
                                   "(CUDAExecutionProvider is not available)")
            providers = [("CUDAExecutionProvider", {"device_id": int(index or 0)}), "CPUExecutionProvider"]
        #: ``"cpu"`` or ``"cuda[:N]"``
        self.device = str(device)
        self._ort = ort
        self._providers = providers
        self._sessions: dict[int | None, tuple[Any, Any]] = {}
        self.threads = threads
        check_graph_signature(folder, manifest, {"template": self.template_session, "search": self.search_session})
        self.kernel_names = list(manifest["template"]["outputs"])
        self.output_names = list(manifest["search"]["outputs"])
        self.template_shape = tuple(manifest["template"]["inputs"]["template"])
        self.search_shape = tuple(manifest["search"]["inputs"]["search"])

    def __getstate__(self) -> dict[str, Any]:
        """Pickled (and deep-copied) without its sessions, which are reopened on unpickling."""
        state = self.__dict__.copy()
        for name in ("_ort", "_sessions", "template_session", "search_session"):
            state.pop(name, None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._ort = import_onnxruntime()
        self._sessions = {}
        self.threads = state["_threads"]

    @property
    def threads(self) -> int | None:
        """Intra-op threads of the sessions the next call runs in (``None``: ONNX Runtime's default).
        Setting another count opens (once) a pair of sessions with that many threads."""
        return self._threads

    @threads.setter
    def threads(self, threads: int | None) -> None:
        if threads is not None and not is_positive_int(threads):
            raise ValueError(f"threads must be None or a positive integer, got {threads!r}")
        if threads not in self._sessions:
            options = self._ort.SessionOptions()
            if threads is not None:
                options.intra_op_num_threads = threads
                options.inter_op_num_threads = 1
            options.graph_optimization_level = self._ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            self._sessions[threads] = tuple(
                self._ort.InferenceSession(str(self.folder / self.manifest[part]["file"]), options,
                                           providers=self._providers) for part in ("template", "search"))
        self._threads = threads
        self.template_session, self.search_session = self._sessions[threads]

    @staticmethod
    def prepare(crops: np.ndarray) -> np.ndarray:
        """``(B, H, W, 3)`` uint8 crops (BGR) as the graphs' ``(B, 3, H, W)`` float32 input."""
        return np.ascontiguousarray(crops.transpose(0, 3, 1, 2), dtype=np.float32)

    @staticmethod
    def _numpy(crops: Any, shape: tuple[int, ...], name: str) -> np.ndarray:
        if not isinstance(crops, np.ndarray) and hasattr(crops, "detach"):  # a torch tensor
            crops = crops.detach().float().cpu().numpy()
        if crops.ndim != 4 or tuple(crops.shape[1:]) != shape[1:]:
            raise ValueError(f"{name} crops must be (B, {', '.join(map(str, shape[1:]))}), got {tuple(crops.shape)}")
        return np.ascontiguousarray(crops, dtype=np.float32)

    def template(self, z: Any) -> OnnxTemplate:
        """Kernels for template crops ``z`` ``(B, 3, T, T)`` (float BGR 0-255, numpy or torch)."""
        arr = self._numpy(z, self.template_shape, "template")
        parts = [self.template_session.run(self.kernel_names, {"template": arr[i:i + 1]}) for i in range(len(arr))]
        return OnnxTemplate(tuple(np.concatenate(k, 0) for k in zip(*parts)))

    def track(self, x: Any, template: OnnxTemplate) -> dict[str, np.ndarray]:
        """Head maps (numpy, batch first) for search crops ``x`` ``(B, 3, S, S)`` (float BGR 0-255,
        numpy or torch) against ``template`` (same batch size; the graphs have batch 1, so a
        batch runs sample by sample)."""
        arr = self._numpy(x, self.search_shape, "search")
        if template.targets != len(arr):
            raise ValueError(f"{len(arr)} search crops for {template.targets} templates")
        outs = []
        for i in range(len(arr)):
            feed = {"search": arr[i:i + 1], **{n: k[i:i + 1] for n, k in zip(self.kernel_names, template.kernels)}}
            outs.append(self.search_session.run(self.output_names, feed))
        if len(outs) == 1:
            return dict(zip(self.output_names, outs[0]))
        return {n: np.concatenate(o, 0) for n, o in zip(self.output_names, zip(*outs))}
