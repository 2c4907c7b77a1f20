"""Optional feature distillation from a pretrained tracking backbone (e.g. NanoTrack's, run by ``cv2.dnn``).

With little data, prior knowledge helps more than epochs: the student's search features (the input
of conv4, i.e. block3 after the second correlation-fusion) are pooled to the teacher's grid, mapped
to its width by a 1x1 adapter that lives only in the trainer, and pulled towards the teacher's
features of the same search crop (MSE between channel-wise L2-normalised vectors). The adapter is
not part of the exported checkpoint; the teacher is never needed at tracking time.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["OnnxTeacher", "FeatureCapture", "distill_loss"]


class OnnxTeacher:
    """An ONNX backbone run with ``cv2.dnn`` on BGR 0-255 crops (NanoTrack's convention).

    The network is created lazily in each process (DataLoader workers cannot share it).
    """

    def __init__(self, path: str | Path, scale: float = 1.0, mean: tuple[float, float, float] = (0.0, 0.0, 0.0)) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"distillation teacher not found: {self.path}")
        self.scale, self.mean = scale, mean
        self._net = None

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_net"] = None
        return state

    def __call__(self, crop: np.ndarray) -> np.ndarray:
        """Features ``(C, h, w)`` float32 of one ``H x W x 3`` uint8 BGR crop."""
        if self._net is None:
            self._net = cv2.dnn.readNet(str(self.path))
        blob = cv2.dnn.blobFromImage(np.ascontiguousarray(crop), self.scale, (crop.shape[1], crop.shape[0]),
                                     self.mean, swapRB=False, crop=False)
        self._net.setInput(blob)
        return np.ascontiguousarray(self._net.forward()[0], dtype=np.float32)


class FeatureCapture:
    """Keeps the output of the last call of a module (for the search branch, the second call per forward)."""

    def __init__(self, module: nn.Module) -> None:
        self.output: torch.Tensor | None = None
        self._handle = module.register_forward_hook(self._hook)

    def _hook(self, module: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
        self.output = inputs[0]

    def remove(self) -> None:
        self._handle.remove()


def distill_loss(student: torch.Tensor, teacher: torch.Tensor, adapter: nn.Module) -> torch.Tensor:
    """MSE between L2-normalised ``adapter(pool(student))`` and ``teacher`` vectors at every grid cell."""
    pooled = F.adaptive_avg_pool2d(student, teacher.shape[-2:])
    s = F.normalize(adapter(pooled), dim=1)
    t = F.normalize(teacher.float(), dim=1)
    return ((s - t) ** 2).sum(1).mean()
