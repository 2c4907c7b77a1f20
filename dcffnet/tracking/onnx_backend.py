"""The ONNX Runtime backend of :class:`~dcffnet.tracking.runner.NetworkRunner`: a network's
exported graphs (:class:`~dcffnet.deploy.onnx_runtime.OnnxNetwork`), numpy in and out; no torch
on this path."""

from __future__ import annotations

import contextlib
from typing import Iterator

import numpy as np

from ..deploy.onnx_runtime import OnnxNetwork, OnnxTemplate

__all__ = ["OnnxBackend"]


class OnnxBackend:
    """Runs an :class:`OnnxNetwork` (the template and search graphs in ONNX Runtime sessions)."""

    name = "onnx"

    def __init__(self, network: OnnxNetwork) -> None:
        self.net = network

    def prepare(self, crops: np.ndarray) -> np.ndarray:
        """``(B, H, W, 3)`` uint8 crops as the graphs' ``(B, 3, H, W)`` float32 input."""
        return self.net.prepare(crops)

    def template(self, batch: np.ndarray) -> OnnxTemplate:
        """Template kernels of prepared template crops."""
        return self.net.template(batch)

    def track(self, batch: np.ndarray, template: OnnxTemplate) -> dict[str, np.ndarray]:
        """Head maps (numpy, batch first) of prepared search crops against ``template``."""
        return self.net.track(batch, template)

    @staticmethod
    def concat(templates: list[OnnxTemplate]) -> OnnxTemplate:
        """Several targets' kernels as one batch."""
        return OnnxTemplate.cat(templates)

    @staticmethod
    def head(templates: OnnxTemplate, count: int) -> OnnxTemplate:
        """The first ``count`` templates of a batch."""
        return OnnxTemplate(tuple(k[np.arange(count)] for k in templates.kernels))

    def active_threads(self) -> int | None:
        """The intra-op threads of the sessions a call made now runs in."""
        return self.net.threads

    @contextlib.contextmanager
    def session(self, threads: int | None) -> Iterator[None]:
        """Run the enclosed calls in the sessions with ``threads`` intra-op threads (``None``:
        leave the sessions as they are)."""
        if threads is not None:
            self.net.threads = threads
        yield
