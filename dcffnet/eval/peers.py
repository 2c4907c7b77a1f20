"""OpenCV's trackers behind dcffnet's ``init`` / ``update`` contract, for side-by-side benchmarks.

``opencv:csrt`` and ``opencv:kcf`` need OpenCV's contrib build (``pip install "dcffnet[contrib]"``,
i.e. ``opencv-contrib-python-headless``); ``opencv:mil``, ``opencv:nano`` (NanoTrack v2, two ONNX
files; the v2 reference) and ``opencv:vit`` (VitTrack, one ONNX file) are in the main build, the
deep ones with their model files from a folder (``--peer-models DIR``). NanoTrack through ONNX
Runtime (v2 and v3) is :mod:`dcffnet.eval.nanotrack`; :mod:`dcffnet.eval.peer_specs` turns every
peer spec (``opencv:KIND``, ``nanotrack:VERSION``) into a tracker factory.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ..frames import to_bgr
from ..geometry import validate_box
from ..tracking import TrackResult

__all__ = ["PEER_KINDS", "PeerUnavailable", "OpenCVTracker"]

PEER_KINDS = ("csrt", "kcf", "mil", "nano", "vit")


class PeerUnavailable(RuntimeError):
    """This OpenCV build, runtime or model folder cannot provide the requested peer tracker."""


def _factory(names: list[str]) -> Any:
    for name in names:
        obj = cv2
        for part in name.split("."):
            obj = getattr(obj, part, None)
            if obj is None:
                break
        if obj is not None:
            return obj
    return None


def _find(models_dir: Path | None, pattern: str, kind: str) -> str:
    if models_dir is None:
        raise PeerUnavailable(f"opencv:{kind} needs its ONNX model files: pass --peer-models DIR")
    matches = sorted(Path(models_dir).glob(pattern))
    if not matches:
        raise PeerUnavailable(f"opencv:{kind}: no file matching {pattern} in {models_dir}")
    return str(matches[0])


class OpenCVTracker:
    """An OpenCV tracker with ``init(frame, box)`` and ``update(frame) -> TrackResult``.

    Args:
        kind: ``csrt``, ``kcf``, ``mil``, ``nano`` or ``vit``.
        models_dir: folder with the NanoTrack / VitTrack ONNX files (``nanotrack_backbone*.onnx``,
            ``nanotrack_head*.onnx``, ``vitTracker*.onnx``).

    Raises:
        PeerUnavailable: the OpenCV build lacks the tracker (CSRT/KCF without contrib) or model files are missing.
    """

    def __init__(self, kind: str, models_dir: str | Path | None = None) -> None:
        if kind not in PEER_KINDS:
            raise ValueError(f"unknown OpenCV tracker {kind!r}; available: {', '.join(PEER_KINDS)}")
        self.kind = kind
        self.models_dir = Path(models_dir) if models_dir else None
        self._make()  # fail early with a clear message
        self._tracker: Any = None
        self._box: tuple[float, float, float, float] | None = None

    def _make(self) -> Any:
        kind = self.kind
        if kind in ("csrt", "kcf"):
            name = kind.upper()
            create = _factory([f"Tracker{name}_create", f"Tracker{name}.create", f"legacy.Tracker{name}_create"])
            if create is None:
                raise PeerUnavailable(f"opencv:{kind} needs OpenCV's contrib build: pip install \"dcffnet[contrib]\" "
                                      "(opencv-contrib-python-headless)")
            return create()
        if kind == "mil":
            return _factory(["TrackerMIL_create", "TrackerMIL.create"])()
        if kind == "nano":
            params = cv2.TrackerNano_Params()
            params.backbone = _find(self.models_dir, "nanotrack_backbone*.onnx", kind)
            params.neckhead = _find(self.models_dir, "nanotrack_head*.onnx", kind)
            return _factory(["TrackerNano_create", "TrackerNano.create"])(params)
        params = cv2.TrackerVit_Params()
        params.net = _find(self.models_dir, "vitTracker*.onnx", kind)
        return _factory(["TrackerVit_create", "TrackerVit.create"])(params)

    def init(self, frame: Any, box: Any) -> None:
        """Start tracking ``box = (x, y, w, h)`` (pixels) in a BGR frame."""
        image = to_bgr(frame)
        arr = validate_box(box, "box", image.shape)
        self._tracker = self._make()
        rect = tuple(int(round(v)) for v in arr)
        self._tracker.init(image, (rect[0], rect[1], max(rect[2], 1), max(rect[3], 1)))
        self._box = tuple(float(v) for v in arr)

    def update(self, frame: Any) -> TrackResult:
        """Track one frame; a lost target keeps the last box with score 0."""
        if self._tracker is None:
            raise RuntimeError("update() called before init()")
        ok, rect = self._tracker.update(to_bgr(frame))
        score = 1.0 if ok else 0.0
        # OpenCV 5 gives every tracker getTrackingScore(); only the deep ones fill it (CSRT returns -1).
        if self.kind in ("nano", "vit") and hasattr(self._tracker, "getTrackingScore"):
            score = float(self._tracker.getTrackingScore()) if ok else 0.0
        if ok and rect[2] > 0 and rect[3] > 0:
            self._box = tuple(float(v) for v in rect)
        return TrackResult(self._box, float(np.clip(score, 0.0, 1.0)))
