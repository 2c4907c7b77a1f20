"""Peer specs (``opencv:KIND``, ``nanotrack:VERSION``) -> tracker factories for benchmarks.

* ``opencv:csrt|kcf|mil|nano|vit``: OpenCV's trackers (:class:`~dcffnet.eval.peers.OpenCVTracker`);
  ``opencv:nano`` is the NanoTrack v2 reference.
* ``nanotrack:v2|v3``: NanoTrack in ONNX Runtime with the published procedure and each version's
  published values (:class:`~dcffnet.eval.nanotrack.NanoTrackOnnx`); ``nanotrack:v2-opencv``: v2's
  files with the values, colour order and window of OpenCV's ``TrackerNano``, the adapter's check
  against ``opencv:nano``.

The deep trackers read their model files from the peer-models folder (``--peer-models DIR``; v3's
in ``DIR/nanotrack_v3/``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import cv2

from .nanotrack import NANOTRACK_CONFIGS, NanoTrackNetwork, NanoTrackOnnx
from .peers import PEER_KINDS, OpenCVTracker

__all__ = ["PEER_FAMILIES", "PeerFactory", "peer_factory"]

#: the ``FAMILY`` prefixes of ``FAMILY:KIND`` peer specs
PEER_FAMILIES = ("opencv", "nanotrack")


@dataclass(frozen=True)
class PeerFactory:
    """A peer tracker, ready to be made afresh for every sequence.

    Attributes:
        name: default label (``opencv-nano``, ``nanotrack-v3``).
        make: builds a new tracker (``init(frame, box)`` / ``update(frame) -> (box, score)``).
        fields: named JSON-ready values that say what the tracker is (kind, library version, model
            files; for NanoTrack also its version, tracking values and the files' sha256): the
            fields of the kept-results fingerprint (``TrackerSpec.fingerprinted``).
    """

    name: str
    make: Callable[[], Any]
    fields: dict[str, Any]


def peer_factory(spec: str, models_dir: "str | Path | None" = None, threads: int | None = None) -> PeerFactory:
    """Turn ``opencv:KIND`` or ``nanotrack:VERSION`` into a :class:`PeerFactory`.

    Args:
        spec: ``opencv:csrt|kcf|mil|nano|vit`` or ``nanotrack:v2|v3|v2-opencv``.
        models_dir: the peer-models folder (``--peer-models``) of the deep trackers.
        threads: ONNX Runtime intra-op threads of ``nanotrack:*`` (``None``: its default, all
            cores); OpenCV's trackers follow ``cv2.setNumThreads``.

    Raises:
        ValueError: an unknown family or kind.
        PeerUnavailable: the tracker cannot run here (OpenCV build, missing or wrong model files);
            raised now, before any sequence runs.
    """
    family, _, kind = str(spec).partition(":")
    if family == "opencv":
        OpenCVTracker(kind, models_dir)  # raises ValueError / PeerUnavailable early
        models = sorted(p.name for p in Path(models_dir).glob("*.onnx")) if models_dir else []
        return PeerFactory(f"opencv-{kind}", lambda: OpenCVTracker(kind, models_dir),
                           {"tracker": "opencv", "kind": kind, "opencv": cv2.__version__, "model_files": models})
    if family == "nanotrack":
        if kind not in NANOTRACK_CONFIGS:
            raise ValueError(f"unknown NanoTrack version {kind!r} in {spec!r}; "
                             f"available: {', '.join(NANOTRACK_CONFIGS)}")
        network = NanoTrackNetwork(models_dir, NANOTRACK_CONFIGS[kind], threads)
        return PeerFactory(f"nanotrack-{kind}", lambda: NanoTrackOnnx(network), network.describe())
    raise ValueError(f"unknown peer spec {spec!r}: use opencv:{'|'.join(PEER_KINDS)} or "
                     f"nanotrack:{'|'.join(NANOTRACK_CONFIGS)} (families: {', '.join(PEER_FAMILIES)})")
