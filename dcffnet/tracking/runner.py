"""The network runner: one object that runs a tracker's network for any number of targets.

It owns the backend (PyTorch or ONNX Runtime), the thread policy (a fixed count or a
:class:`~dcffnet.tracking.threads.ThreadChooser`), crop preparation and the batched passes. A
:class:`~dcffnet.Tracker` and a :class:`~dcffnet.MultiTracker` each hold one and share it with
nothing else; neither copies a tracker to run a target.
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from ..fields import is_positive_int
from .threads import ThreadChooser, thread_candidates

__all__ = ["NetworkRunner", "BACKENDS"]

#: values of ``Tracker(backend=...)``
BACKENDS = ("auto", "torch", "onnx")


def _auto_backend(model: Any, device: Any) -> tuple[str, str | None]:
    """``("onnx", digest)`` when ``model``'s checkpoint folder holds an ONNX export of exactly these
    weights (``digest``: theirs), the device is the CPU and ONNX Runtime imports; else ``("torch", None)``."""
    source = getattr(getattr(model, "checkpoint_info", None), "source", None)
    if device.type != "cpu" or not source:
        return "torch", None
    from ..deploy.onnx_cache import export_matches
    from ..deploy.onnx_format import state_digest

    digest = state_digest(model)
    if not export_matches(Path(source), digest):
        return "torch", None
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return "torch", None
    return "onnx", digest


class NetworkRunner:
    """Runs a network (``template``/``track``) on one backend with one thread policy.

    Build it with :meth:`for_model`. The per-frame calls are :meth:`prepare` (crops -> network
    input), :meth:`template`, :meth:`track` (timed for the thread chooser) and the template
    batching helpers :meth:`concat` / :meth:`head`; run them inside :meth:`session`, which sets
    the thread count (and PyTorch's inference mode).

    Attributes:
        backend: ``"torch"`` or ``"onnx"``.
        geometry: the network's :class:`~dcffnet.geometry.ResponseGeometry`.
        thread_chooser: with ``threads="auto"`` on the CPU, the
            :class:`~dcffnet.tracking.threads.ThreadChooser` that picks the count; else ``None``.
    """

    def __init__(self, backend: Any, geometry: Any, thread_chooser: ThreadChooser | None,
                 fixed_threads: int | None, model: Any = None, device: Any = None,
                 load_model: "Callable[[], Any] | None" = None) -> None:
        self._backend = backend
        self._model = model
        self._load_model = load_model
        self._device = device
        self.backend: str = backend.name
        self.geometry = geometry
        self.thread_chooser = thread_chooser
        self.fixed_threads = fixed_threads
        if backend.name == "onnx" and thread_chooser is not None:
            # open every candidate's sessions now (about 0.1 s each pair), not inside an update
            for count in thread_chooser.candidates:
                backend.net.threads = count
            backend.net.threads = thread_chooser.current

    @classmethod
    def for_export(cls, folder: "str | Path", geometry: Any, *, threads: "int | str | None" = "auto",
                   load_model: "Callable[[], Any] | None" = None) -> "NetworkRunner":
        """A CPU runner of the ONNX export in ``folder`` (no torch): what ``Tracker()`` builds when
        the checkpoint folder holds an export of its weights. ``geometry``: the network's
        :class:`~dcffnet.geometry.ResponseGeometry`; ``load_model``: builds the PyTorch network
        when :attr:`model` is first asked for."""
        from ..deploy.onnx_runtime import OnnxNetwork
        from .onnx_backend import OnnxBackend

        chooser, fixed = cls._thread_policy(threads, "cpu")
        start = chooser.best if chooser is not None else fixed
        return cls(OnnxBackend(OnnxNetwork(folder, threads=start, device="cpu")), geometry, chooser, fixed,
                   load_model=load_model)

    @staticmethod
    def _thread_policy(threads: "int | str | None", device_type: str) -> tuple[ThreadChooser | None, int | None]:
        """``(chooser, fixed count)`` for a ``threads=`` value (both ``None`` off the CPU)."""
        if threads != "auto" and threads is not None and not is_positive_int(threads):
            raise ValueError(f"threads must be 'auto', None or a positive integer, got {threads!r}")
        if device_type != "cpu":
            return None, None
        if threads == "auto":
            return ThreadChooser(thread_candidates()), None
        return None, threads

    @classmethod
    def for_model(cls, model: Any, *, backend: str = "auto", device: Any = None,
                  threads: "int | str | None" = "auto", fuse: bool = True) -> "NetworkRunner":
        """A runner for ``model`` (a DCFFNet, or any module with ``geometry``, ``template`` and
        ``track``); arguments as :class:`~dcffnet.Tracker`'s. ``device`` is a ``torch.device``."""
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
        chooser, fixed = cls._thread_policy(threads, device.type)
        digest = None  # of the weights, once known (the ONNX export is matched by it)
        if backend == "auto":
            backend, digest = _auto_backend(model, device)
        if backend == "onnx":
            from ..deploy.onnx_cache import onnx_network_for
            from .onnx_backend import OnnxBackend

            start = chooser.best if chooser is not None else fixed
            impl: Any = OnnxBackend(onnx_network_for(model, threads=start, device=device, digest=digest))
        else:
            from .torch_backend import TorchBackend

            impl = TorchBackend(model, device, fuse=fuse)
        return cls(impl, model.geometry, chooser, fixed, model=model, device=device)

    # ------------------------------------------------------------------------------ thread policy
    @property
    def threads(self) -> int | None:
        """Intra-op threads the network runs with now: the fixed count, the chooser's current
        choice, or ``None`` (the runtime's own setting, and on a GPU)."""
        if self.thread_chooser is not None:
            return self.thread_chooser.best
        return self.fixed_threads

    @contextlib.contextmanager
    def session(self) -> Iterator[None]:
        """The context every network call of one ``init`` / ``update`` runs in: the thread count
        in effect (torch's restored after it) and, on PyTorch, inference mode."""
        chooser = self.thread_chooser
        with self._backend.session(chooser.current if chooser is not None else self.fixed_threads):
            yield

    # ------------------------------------------------------------------------------ network calls
    def prepare(self, crops: np.ndarray) -> Any:
        """``(B, H, W, 3)`` uint8 crops (BGR) as the network's input batch."""
        return self._backend.prepare(crops)

    def template(self, crop: np.ndarray) -> Any:
        """Template features of one ``(T, T, 3)`` template crop."""
        return self._backend.template(self._backend.prepare(crop[None]))

    def track(self, batch: Any, template: Any) -> Any:
        """The head output for ``batch`` (prepared crops) against ``template`` (same batch size);
        the call is timed for :attr:`thread_chooser` at the thread count in effect."""
        chooser = self.thread_chooser
        if chooser is None:
            return self._backend.track(batch, template)
        threads = self._backend.active_threads()
        start = time.perf_counter()
        output = self._backend.track(batch, template)
        chooser.record(threads, time.perf_counter() - start, len(batch))
        return output

    def concat(self, templates: list[Any]) -> Any:
        """Several targets' templates as one batch (``None`` when the network's templates cannot
        be batched)."""
        if len(templates) == 1:
            return templates[0]
        return self._backend.concat(templates)

    def repeat(self, template: Any, count: int) -> Any:
        """``template`` repeated ``count`` times as one batch (``None`` when it cannot be batched)."""
        return self._backend.concat([template] * count)

    def blend(self, first: Any, second: Any, weight: float) -> Any:
        """``(1 - weight) * first + weight * second`` of two templates of one target.

        Raises:
            TypeError: the network's template type has no ``blend`` (a custom model).
        """
        blend = getattr(first, "blend", None)
        if not callable(blend):
            raise TypeError(f"templates of type {type(first).__name__} cannot be blended (no blend method)")
        return blend(second, weight)

    def head(self, templates: Any, count: int) -> Any:
        """The first ``count`` templates of a batch."""
        return self._backend.head(templates, count)

    # ------------------------------------------------------------------------------------- access
    @property
    def model(self) -> Any:
        """The PyTorch network the runner computes (for a runner of an export alone, loaded, with
        torch, when first asked for; ``None`` if it has no loader)."""
        if self._model is None and self._load_model is not None:
            self._model = self._load_model()
        return self._model

    @property
    def device(self) -> Any:
        """The ``torch.device`` the network runs on (an export alone runs on the CPU)."""
        if self._device is None:
            import torch

            self._device = torch.device("cpu")
        return self._device

    @property
    def network(self) -> Any:
        """What runs the passes: the (fused) PyTorch module, or the
        :class:`~dcffnet.deploy.onnx_runtime.OnnxNetwork`."""
        return self._backend.net
