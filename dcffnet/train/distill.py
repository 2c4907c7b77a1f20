"""Optional distillation from a pretrained tracker (NanoTrack v2's or v3's ONNX files, run by ``cv2.dnn``).

With little data, prior knowledge helps more than epochs. Two kinds, usable together:

* **Feature distillation** (:class:`OnnxTeacher`, :func:`distill_loss`): the student's search
  features (the input of conv4, i.e. block3 after the second correlation-fusion) are pooled to the
  teacher's grid, mapped to its width by a 1x1 adapter that lives only in the trainer, and pulled
  towards the teacher backbone's features of the same search crop (MSE between channel-wise
  L2-normalised vectors).
* **Response distillation** (:class:`ResponseTeacher`, :func:`response_distill_loss`): the whole
  teacher tracker (backbone + head) runs on the same template and search crops; its classification
  probabilities and ``(l, t, r, b)`` box distances at the cells that coincide with the student's
  cells become soft targets for the student's ``cls`` and ``reg`` maps.

Nothing of the teacher is part of the exported checkpoint or needed at tracking time.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..geometry import ResponseGeometry
from .losses import balanced_logistic_loss, iou_loss

__all__ = ["OnnxTeacher", "ResponseTeacher", "NANOTRACK_GEOMETRY", "NANOTRACK_V3_GEOMETRY", "TEACHER_GEOMETRIES",
           "teacher_geometry", "FeatureCapture", "distill_loss", "response_distill_loss"]


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


# NanoTrack v2: 127 / 255 crops, stride 16, 16 x 16 response whose cell k lies at crop offset
# 16 * (k - 8) from the search-crop centre (checked on shifted crops: a target moved by +32 px moves
# the peak by two cells; the head's (l, t, r, b) are search-crop pixels from the cell's point).
NANOTRACK_GEOMETRY = ResponseGeometry(template_size=127, search_size=255, stride=16, size=16, kernel_offset=4)
# NanoTrack v3: 15 x 15 response, cell k at crop offset 16 * (k - 7) (its tracker's point grid; the
# head's depthwise branch lines the central 4x4 template cells up with search cells k - 1 .. k + 2).
NANOTRACK_V3_GEOMETRY = ResponseGeometry(template_size=127, search_size=255, stride=16, size=15, kernel_offset=3)
#: the teachers :class:`ResponseTeacher` knows by name
TEACHER_GEOMETRIES = {"nanotrack_v2": NANOTRACK_GEOMETRY, "nanotrack_v3": NANOTRACK_V3_GEOMETRY}


def teacher_geometry(student: ResponseGeometry, teacher: "ResponseGeometry | str | None" = None) -> ResponseGeometry:
    """The response grid of a :class:`ResponseTeacher`.

    Args:
        student: the student network's geometry.
        teacher: a geometry, a name in :data:`TEACHER_GEOMETRIES`, or ``None``: NanoTrack v3's grid
            for a student whose grid is v3's (``dcffnet_v3``), else NanoTrack v2's, so a recipe's
            architecture picks the teacher its head was imported from.

    Raises:
        ValueError: an unknown name.
    """
    if isinstance(teacher, ResponseGeometry):
        return teacher
    if teacher is None:
        return NANOTRACK_V3_GEOMETRY if student == NANOTRACK_V3_GEOMETRY else NANOTRACK_GEOMETRY
    if teacher not in TEACHER_GEOMETRIES:
        raise ValueError(f"teacher must be a ResponseGeometry or one of {sorted(TEACHER_GEOMETRIES)}, got {teacher!r}")
    return TEACHER_GEOMETRIES[teacher]


def _blob(crop: np.ndarray) -> np.ndarray:
    return cv2.dnn.blobFromImage(np.ascontiguousarray(crop), 1.0, (crop.shape[1], crop.shape[0]), (0.0, 0.0, 0.0),
                                 swapRB=False, crop=False)


class ResponseTeacher:
    """A whole Siamese tracker (backbone + head ONNX, NanoTrack's layout) as a source of soft targets.

    Args:
        backbone: ONNX backbone (BGR 0-255 crop -> features) that takes both crop sizes, e.g. v2's
            ``nanotrack_backbone_sim.onnx`` or v3's ``nanotrack_backbone_dyn.onnx``.
        head: ONNX head with inputs ``input1`` (template features) and ``input2`` (search features)
            and outputs ``(cls (1, 2, R, R), reg (1, 4, R, R))``, e.g. ``nanotrack_head_sim.onnx``
            (v2, 16x16) or v3's ``nanotrack_head.onnx`` (15x15).
        student: the student's :class:`ResponseGeometry`; every student cell must coincide with a
            teacher cell (same stride and crop sizes, offsets on the teacher's grid).
        teacher: the teacher's grid, see :func:`teacher_geometry` (default: v3's for a student with
            v3's grid, else v2's :data:`NANOTRACK_GEOMETRY`). A head whose maps are not of that size
            raises ``ValueError`` on the first call.

    Calling it on one ``(template, search)`` pair of uint8 BGR crops returns ``(cls, reg)``:
    ``cls`` (R, R) float32, the teacher's target probability at the student's cells, and ``reg``
    (4, R, R) float32, its ``(l, t, r, b)`` distances in search-crop pixels. The ``cv2.dnn`` networks
    are created lazily in each process (DataLoader workers cannot share them). Do not change
    OpenCV's thread count inside a forked DataLoader worker: ``cv2.setNumThreads`` there waits
    for the parent's thread pool, which the child does not have, and hangs.
    """

    def __init__(self, backbone: str | Path, head: str | Path, student: ResponseGeometry,
                 teacher: "ResponseGeometry | str | None" = None) -> None:
        teacher = teacher_geometry(student, teacher)
        self.teacher = teacher
        self.paths = (Path(backbone), Path(head))
        for name, path in zip(("backbone", "head"), self.paths):
            if not path.is_file():
                raise FileNotFoundError(f"distillation teacher {name} not found: {path}")
        if (student.template_size, student.search_size) != (teacher.template_size, teacher.search_size):
            raise ValueError(f"student crops {student.template_size}/{student.search_size} differ from the teacher's "
                             f"{teacher.template_size}/{teacher.search_size}: response distillation needs the same crops")
        t_off, s_off = teacher.cell_offsets(), student.cell_offsets()
        index = np.array([int(np.argmin(np.abs(t_off - o))) for o in s_off])
        if np.abs(t_off[index] - s_off).max() > 1e-6:
            raise ValueError(f"student cell offsets {s_off.tolist()} are not on the teacher's grid {t_off.tolist()}")
        self.index = index
        self._nets: tuple | None = None

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_nets"] = None
        return state

    def __call__(self, template: np.ndarray, search: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self._nets is None:
            self._nets = tuple(cv2.dnn.readNet(str(p)) for p in self.paths)
        backbone, head = self._nets
        backbone.setInput(_blob(template))
        z = backbone.forward()
        backbone.setInput(_blob(search))
        x = backbone.forward()
        head.setInput(z, "input1")
        head.setInput(x, "input2")
        cls, reg = head.forward(head.getUnconnectedOutLayersNames())
        expected = (self.teacher.size, self.teacher.size)
        if tuple(cls.shape[2:]) != expected or tuple(reg.shape[2:]) != expected:
            raise ValueError(f"the teacher head {self.paths[1]} gives {tuple(cls.shape[2:])} maps, but the teacher "
                             f"grid is {expected[0]}x{expected[1]}: pass the teacher that head belongs to "
                             f"({sorted(TEACHER_GEOMETRIES)})")
        logits = cls[0].astype(np.float64)
        prob = 1.0 / (1.0 + np.exp(logits[0] - logits[1]))  # softmax over (background, target)
        rows = self.index[:, None]
        cols = self.index[None, :]
        return (np.ascontiguousarray(prob[rows, cols], dtype=np.float32),
                np.ascontiguousarray(reg[0][:, rows, cols], dtype=np.float32))


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


def response_distill_loss(output: dict[str, torch.Tensor], teacher_cls: torch.Tensor, teacher_reg: torch.Tensor,
                          positive: float = 0.5) -> dict[str, torch.Tensor]:
    """Soft-target losses from a :class:`ResponseTeacher`.

    Args:
        output: the student's CAR output, ``cls`` (B, 2, R, R) logits and ``reg`` (B, 4, R, R) pixels.
        teacher_cls: (B, R, R) teacher target probabilities; teacher_reg: (B, 4, R, R) teacher distances.
        positive: teacher probability above which a cell counts as "target" (for the class balance of
            the classification term and as the cells where the box term applies).

    Returns:
        ``{"distill_cls", "distill_reg"}``: binary cross-entropy between the student's target
        probability and the teacher's, positives and negatives weighing half each (as
        :func:`balanced_logistic_loss`), and the IoU loss between the student's and teacher's
        boxes over the teacher's positive cells (zero when there are none).
    """
    logits = output["cls"].float()
    margin = logits[:, 1] - logits[:, 0]  # two-way softmax == sigmoid of the logit difference
    cls = balanced_logistic_loss(margin, teacher_cls.float(), threshold=positive)
    pos = teacher_cls > positive
    if pos.any():
        pred = output["reg"].float().permute(0, 2, 3, 1)[pos]
        target = teacher_reg.float().permute(0, 2, 3, 1)[pos]
        reg = iou_loss(pred, target)
    else:
        reg = output["reg"].sum() * 0.0
    return {"distill_cls": cls, "distill_reg": reg}
