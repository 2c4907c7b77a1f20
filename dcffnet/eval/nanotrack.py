"""NanoTrack v2 and v3 in ONNX Runtime: the published NanoTracker procedure, as a benchmark peer.

NanoTrack (HonglinChu/SiamTrackers, Apache-2.0) ships as two ONNX graphs: a backbone (BGR 0-255
crop -> features) and a head (template features ``input1``, search features ``input2`` ->
classification logits ``output1`` ``(1, 2, S, S)`` and distances to the box sides ``output2``
``(1, 4, S, S)`` in search-crop pixels). OpenCV's ``cv2.TrackerNano`` runs v2 only (its reshape
assumes 16 x 16 maps); :class:`NanoTrackOnnx` runs either version with the tracking values its
authors published (``configv2.yaml`` / ``configv3.yaml``), re-implemented from the described
procedure (SiamBAN-style):

1. ``init``: template crop of side ``context_size(w, h, 0.5)`` around the target, resized to 127,
   mean-colour padding (the first frame's mean, kept for every later crop); backbone -> template
   features.
2. ``update``: search crop of side ``context_size * 255 / 127`` around the last centre, resized to
   255; backbone, head; softmax target probability per cell; per-cell box from the ``(l, t, r, b)``
   distances around the cell's point, cell ``j`` at ``stride * (j - S // 2)`` crop pixels from the
   crop centre; scale and aspect-ratio change penalty ``exp(-(r_c * s_c - 1) * penalty_k)``;
   cosine window blended with ``window_influence``; the best cell moves the centre, its size is
   blended in with rate ``lr * penalty * score``; the box is clipped to the frame (centre inside,
   sides 10 px to the frame size).

Differences from ``cv2.TrackerNano`` (OpenCV 5): OpenCV uses other tracking values (window 0.455,
penalty_k 0.055, lr 0.37), feeds RGB (``swapRB``) where the published procedure feeds BGR, weights
with the square root of the product of Hann windows (``createHanningWindow``), pads with each
frame's mean, crops on whole pixels (search side ``2 * s_z`` instead of ``s_z * 255 / 127``) and
returns whole-pixel boxes. :data:`NANOTRACK_V2_OPENCV` takes OpenCV's values, colour order and
window into this procedure, to check the adapter against OpenCV.

Per frame only numpy, OpenCV's crop and ONNX Runtime run (no torch). v2's backbone is stored with a
fixed 255 x 255 input; it is opened with free spatial dimensions so that it also takes the 127 x 127
template, which needs the ``onnx`` package (``pip install "dcffnet[onnx]"``). v3's folder carries a
``_dyn`` backbone that needs nothing more.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple, Sequence

import cv2
import numpy as np

from ..checkpoint import sha256_file
from ..deploy.onnx_runtime import import_onnxruntime
from ..fields import is_positive_int
from ..frames import to_bgr
from ..geometry import (ResponseGeometry, SearchRegion, clip_box, context_size, crop_and_resize, hanning_window,
                        validate_box)
from ..tracking.result import TrackResult
from .peers import PeerUnavailable

__all__ = ["NanoTrackConfig", "NANOTRACK_V2", "NANOTRACK_V3", "NANOTRACK_V2_OPENCV", "NANOTRACK_CONFIGS",
           "NanoTrackNetwork", "NanoTrackOnnx", "NanoPeak", "decode_nanotrack"]


@dataclass(frozen=True)
class NanoTrackConfig:
    """One NanoTrack version: where its files are, its map size and its tracking values.

    Attributes:
        version: label (``"v2"``, ``"v3"``); part of the kept-results fingerprint.
        models_subdir: folder under the peer-models folder that holds the files (``""``: the folder itself).
        backbone_files: glob patterns of the backbone file, tried in order (the first that matches
            wins; several matches of one pattern: the first by name).
        head_files: glob patterns of the head file, likewise.
        score_size: side of the head's maps (cells): 16 for v2, 15 for v3.
        window_influence: weight of the cosine window in the blended score, in [0, 1).
        penalty_k: strength of the scale / aspect-ratio change penalty (>= 0).
        lr: rate at which the best cell's size replaces the current size (scaled by its penalised
            score), in [0, 1].
        exemplar_size, instance_size: template and search crop sides (pixels): 127 and 255.
        context: context amount of the template side (:func:`~dcffnet.geometry.context_size`).
        stride: crop pixels between neighbouring cells.
        min_size: smallest box side (frame pixels) after clipping.
        channel_order: colour order fed to the backbone: ``"bgr"`` (the published procedure) or
            ``"rgb"`` (what ``cv2.TrackerNano`` feeds).
        window: the cosine window: ``"product"``, the outer product of two Hann windows (the
            published procedure), or ``"sqrt"``, its square root (OpenCV's
            ``createHanningWindow``, which ``cv2.TrackerNano`` uses: flatter, so it lets the
            target jump further).
    """

    version: str
    models_subdir: str
    backbone_files: tuple[str, ...]
    head_files: tuple[str, ...]
    score_size: int
    window_influence: float
    penalty_k: float
    lr: float
    exemplar_size: int = 127
    instance_size: int = 255
    context: float = 0.5
    stride: int = 16
    min_size: float = 10.0
    channel_order: str = "bgr"
    window: str = "product"

    def __post_init__(self) -> None:
        if not isinstance(self.version, str) or not self.version:
            raise ValueError(f"version must be a non-empty string, got {self.version!r}")
        for name in ("backbone_files", "head_files"):
            patterns = getattr(self, name)
            if not isinstance(patterns, tuple) or not patterns or not all(isinstance(p, str) and p for p in patterns):
                raise ValueError(f"{name} must be a non-empty tuple of glob patterns, got {patterns!r}")
        for name in ("score_size", "exemplar_size", "instance_size", "stride"):
            if not is_positive_int(getattr(self, name)):
                raise ValueError(f"{name} must be a positive integer, got {getattr(self, name)!r}")
        if self.instance_size <= self.exemplar_size:
            raise ValueError(f"instance_size ({self.instance_size}) must exceed exemplar_size ({self.exemplar_size})")
        if (self.instance_size - self.exemplar_size) % (2 * self.stride):
            raise ValueError(f"instance_size - exemplar_size ({self.instance_size - self.exemplar_size}) must be a "
                             f"multiple of 2 * stride ({2 * self.stride}) for the cells to lie on the stride grid")
        if not 0.0 <= self.window_influence < 1.0:
            raise ValueError(f"window_influence must lie in [0, 1), got {self.window_influence!r}")
        if not self.penalty_k >= 0.0:
            raise ValueError(f"penalty_k must be >= 0, got {self.penalty_k!r}")
        if not 0.0 <= self.lr <= 1.0:
            raise ValueError(f"lr must lie in [0, 1], got {self.lr!r}")
        if not self.context > 0.0:
            raise ValueError(f"context must be > 0, got {self.context!r}")
        if not self.min_size > 0.0:
            raise ValueError(f"min_size must be > 0 pixels, got {self.min_size!r}")
        if self.channel_order not in ("bgr", "rgb"):
            raise ValueError(f"channel_order must be 'bgr' or 'rgb', got {self.channel_order!r}")
        if self.window not in ("product", "sqrt"):
            raise ValueError(f"window must be 'product' or 'sqrt', got {self.window!r}")

    @property
    def geometry(self) -> ResponseGeometry:
        """Cell ``j``'s point at ``stride * (j - score_size // 2)`` crop pixels from the search-crop centre."""
        shift = (self.instance_size - self.exemplar_size) // (2 * self.stride)
        return ResponseGeometry(self.exemplar_size, self.instance_size, self.stride, self.score_size,
                                kernel_offset=self.score_size // 2 - shift)

    def cosine_window(self) -> np.ndarray:
        """The ``score_size x score_size`` cosine window (float32, 1 at the centre, 0 at the corners)."""
        window = hanning_window(self.score_size)
        return np.sqrt(window) if self.window == "sqrt" else window

    def replace(self, **changes: Any) -> "NanoTrackConfig":
        """A copy with ``changes`` applied (validated again)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Every field, JSON-ready."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()}


#: NanoTrack v2 with its published values (SiamTrackers ``models/config/configv2.yaml``); the files
#: OpenCV's ``TrackerNano`` also runs, directly in the peer-models folder.
NANOTRACK_V2 = NanoTrackConfig(version="v2", models_subdir="", backbone_files=("nanotrack_backbone*.onnx",),
                               head_files=("nanotrack_head*.onnx",), score_size=16,
                               window_influence=0.490, penalty_k=0.150, lr=0.385)

#: NanoTrack v3 with its published values (``models/config/configv3.yaml``), files in
#: ``nanotrack_v3/`` (the ``_dyn`` backbone preferred: it needs no ``onnx`` package).
NANOTRACK_V3 = NanoTrackConfig(version="v3", models_subdir="nanotrack_v3",
                               backbone_files=("nanotrack_backbone_dyn.onnx", "nanotrack_backbone.onnx"),
                               head_files=("nanotrack_head.onnx",), score_size=15,
                               window_influence=0.455, penalty_k=0.138, lr=0.348)

#: v2's files with the values, colour order and window of OpenCV's ``TrackerNano`` (OpenCV 5): for
#: checking this adapter against OpenCV, not a published setting.
NANOTRACK_V2_OPENCV = NANOTRACK_V2.replace(version="v2-opencv", window_influence=0.455, penalty_k=0.055,
                                           lr=0.37, channel_order="rgb", window="sqrt")

#: the versions ``nanotrack:VERSION`` peer specs name
NANOTRACK_CONFIGS = {"v2": NANOTRACK_V2, "v3": NANOTRACK_V3, "v2-opencv": NANOTRACK_V2_OPENCV}


def _find_file(folder: Path, patterns: Sequence[str], what: str, version: str) -> Path:
    for pattern in patterns:
        matches = sorted(p for p in folder.glob(pattern) if p.is_file())
        if matches:
            return matches[0]
    raise PeerUnavailable(f"nanotrack:{version}: no {what} file matching {' or '.join(patterns)} in {folder}")


def _free_spatial_dims(path: Path) -> bytes:
    """The graph at ``path`` with its input's and output's height and width made symbolic (and the stored
    intermediate shapes dropped), serialised: a fixed-size backbone then takes any crop size."""
    try:
        import onnx
    except ImportError as exc:
        raise PeerUnavailable(f"{path.name} has a fixed input size; running it on the 127-pixel template "
                              "needs the onnx package: pip install \"dcffnet[onnx]\"") from exc
    model = onnx.load(str(path))
    for tensors, prefix in ((model.graph.input, "in"), (model.graph.output, "out")):
        for tensor in tensors:
            dims = tensor.type.tensor_type.shape.dim
            if len(dims) == 4:
                dims[2].dim_param = f"{prefix}_{tensor.name}_height"
                dims[3].dim_param = f"{prefix}_{tensor.name}_width"
    del model.graph.value_info[:]
    return model.SerializeToString()


class NanoTrackNetwork:
    """A NanoTrack version's backbone and head in ONNX Runtime sessions (stateless; trackers share it).

    Args:
        models_dir: the peer-models folder (``--peer-models``); the files are looked up in
            ``models_dir / config.models_subdir``.
        config: the version (:data:`NANOTRACK_V2`, :data:`NANOTRACK_V3`, ...).
        threads: intra-op threads of both sessions (``None``: ONNX Runtime's default, all cores).

    Opening runs the graphs once on blank crops and checks the I/O contract: template features
    must be what the head's ``input1`` takes and the head's maps ``(1, 2, S, S)`` / ``(1, 4, S, S)``
    with ``S = config.score_size``.

    Raises:
        PeerUnavailable: files missing, not loadable, or not of this version's layout.
        ValueError / TypeError: a bad ``config`` or ``threads``.
    """

    def __init__(self, models_dir: "str | Path | None", config: NanoTrackConfig = NANOTRACK_V2,
                 threads: int | None = None) -> None:
        if not isinstance(config, NanoTrackConfig):
            raise TypeError(f"config must be a NanoTrackConfig, got {type(config).__name__}")
        if threads is not None and not is_positive_int(threads):
            raise ValueError(f"threads must be None or a positive integer, got {threads!r}")
        if models_dir is None:
            raise PeerUnavailable(f"nanotrack:{config.version} needs its ONNX model files: pass --peer-models DIR")
        folder = Path(models_dir) / config.models_subdir
        if not folder.is_dir():
            raise PeerUnavailable(f"nanotrack:{config.version}: model folder {folder} does not exist")
        self.config = config
        self._threads = threads
        self.backbone_path = _find_file(folder, config.backbone_files, "backbone", config.version)
        self.head_path = _find_file(folder, config.head_files, "head", config.version)
        ort = import_onnxruntime()
        self.runtime_version = ort.__version__
        options = ort.SessionOptions()
        if threads is not None:
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
        providers = ["CPUExecutionProvider"]
        try:
            backbone = ort.InferenceSession(str(self.backbone_path), options, providers=providers)
            if any(isinstance(d, int) for d in backbone.get_inputs()[0].shape[2:]):
                backbone = ort.InferenceSession(_free_spatial_dims(self.backbone_path), options, providers=providers)
            head = ort.InferenceSession(str(self.head_path), options, providers=providers)
        except PeerUnavailable:
            raise
        except Exception as exc:  # onnxruntime raises its own exception types for unreadable graphs
            raise PeerUnavailable(f"nanotrack:{config.version}: cannot open {self.backbone_path.name} / "
                                  f"{self.head_path.name}: {exc}") from exc
        self._backbone, self._head = backbone, head
        self._backbone_input = backbone.get_inputs()[0].name
        head_inputs = {i.name for i in head.get_inputs()}
        head_outputs = [o.name for o in head.get_outputs()]
        if head_inputs != {"input1", "input2"} or not {"output1", "output2"} <= set(head_outputs):
            raise PeerUnavailable(f"{self.head_path}: expected inputs input1, input2 and outputs output1, output2; "
                                  f"got inputs {sorted(head_inputs)} and outputs {head_outputs}")
        self._check_contract()
        self._digests = {p.name: sha256_file(p) for p in (self.backbone_path, self.head_path)}

    @property
    def threads(self) -> int | None:
        """Intra-op threads the sessions were opened with (``None``: ONNX Runtime's default)."""
        return self._threads

    def _check_contract(self) -> None:
        c = self.config
        try:
            z = self.features(np.zeros((c.exemplar_size, c.exemplar_size, 3), np.uint8))
            x = self.features(np.zeros((c.instance_size, c.instance_size, 3), np.uint8))
            cls, reg = self.head(z, x)
        except Exception as exc:  # shape errors come from onnxruntime as its own exception types
            raise PeerUnavailable(f"nanotrack:{c.version}: {self.backbone_path.name} + {self.head_path.name} "
                                  f"do not run as a template / search pair: {exc}") from exc
        size = c.score_size
        if cls.shape != (1, 2, size, size) or reg.shape != (1, 4, size, size):
            raise PeerUnavailable(f"nanotrack:{c.version}: the head gives maps {cls.shape} and {reg.shape}, "
                                  f"expected (1, 2, {size}, {size}) and (1, 4, {size}, {size}): "
                                  "files of another NanoTrack version?")

    def features(self, crop: np.ndarray) -> np.ndarray:
        """Backbone features ``(1, C, h, w)`` float32 of one square BGR uint8 crop ``(side, side, 3)``."""
        if crop.ndim != 3 or crop.shape[2] != 3 or crop.shape[0] != crop.shape[1]:
            raise ValueError(f"crop must be a square side x side x 3 image, got shape {crop.shape}")
        if self.config.channel_order == "rgb":
            crop = crop[:, :, ::-1]
        blob = np.ascontiguousarray(crop.transpose(2, 0, 1)[None], dtype=np.float32)
        return self._backbone.run(None, {self._backbone_input: blob})[0]

    def head(self, template: np.ndarray, search: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Head maps for template and search features: logits ``(1, 2, S, S)`` (channel 1 = target) and
        distances ``(1, 4, S, S)`` from each cell's point to the box's left, top, right and bottom
        sides (search-crop pixels)."""
        cls, reg = self._head.run(["output1", "output2"], {"input1": template, "input2": search})
        return cls, reg

    def describe(self) -> dict[str, Any]:
        """What this network is, as named JSON-ready fields (the kept-results fingerprint): version,
        tracking values, model file names with their sha256, ONNX Runtime version."""
        return {"tracker": "nanotrack-onnx", "version": self.config.version, "config": self.config.to_dict(),
                "model_files": dict(self._digests), "onnxruntime": self.runtime_version}


class NanoPeak(NamedTuple):
    """The chosen cell of one search crop (crop pixels, relative to the crop centre)."""

    dx: float  #: box centre displacement from the crop centre, x
    dy: float  #: box centre displacement, y
    width: float  #: predicted box width
    height: float  #: predicted box height
    score: float  #: the cell's target probability (softmax), in [0, 1]
    penalty: float  #: the cell's scale / ratio change penalty, in (0, 1]
    cell: tuple[int, int]  #: (row, column) of the cell


def decode_nanotrack(cls: np.ndarray, reg: np.ndarray, target_size: tuple[float, float], config: NanoTrackConfig,
                     window: np.ndarray | None = None) -> NanoPeak:
    """Pick the best cell of one search crop (the NanoTracker rule).

    Args:
        cls: logits ``(1, 2, S, S)`` or ``(2, S, S)`` (channel 1 = target).
        reg: distances ``(1, 4, S, S)`` or ``(4, S, S)`` to the box's left, top, right, bottom sides
            (crop pixels, from each cell's point).
        target_size: current target ``(w, h)`` in crop pixels.
        config: the version (score size, stride, penalty_k, window_influence).
        window: the ``S x S`` cosine window (default :meth:`NanoTrackConfig.cosine_window`).

    Returns:
        The :class:`NanoPeak` maximising ``(1 - wi) * penalty * score + wi * window``.

    Raises:
        ValueError: maps of the wrong shape, a non-positive target size, or a non-finite result
            (e.g. NaN logits or negative predicted sides).
    """
    size = config.score_size
    cls = np.asarray(cls, dtype=np.float64)
    reg = np.asarray(reg, dtype=np.float64)
    if cls.shape not in ((2, size, size), (1, 2, size, size)):
        raise ValueError(f"cls must have shape (1, 2, {size}, {size}) or (2, {size}, {size}), got {cls.shape}")
    if reg.shape not in ((4, size, size), (1, 4, size, size)):
        raise ValueError(f"reg must have shape (1, 4, {size}, {size}) or (4, {size}, {size}), got {reg.shape}")
    cls, reg = cls.reshape(2, size, size), reg.reshape(4, size, size)
    tw, th = (float(v) for v in target_size)
    if not (tw > 0 and th > 0 and np.isfinite(tw) and np.isfinite(th)):
        raise ValueError(f"target_size must be two positive finite crop-pixel sides, got {target_size!r}")
    if window is None:
        window = config.cosine_window()
    dx, dy, w, h = config.geometry.boxes_from_distances(reg)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        score = 1.0 / (1.0 + np.exp(cls[0] - cls[1]))  # softmax over (background, target)
        scale_change = context_size(w, h, config.context) / context_size(tw, th, config.context)
        scale_change = np.maximum(scale_change, 1.0 / scale_change)
        ratio_change = (tw / th) / (w / h)
        ratio_change = np.maximum(ratio_change, 1.0 / ratio_change)
        penalty = np.exp(-(ratio_change * scale_change - 1.0) * config.penalty_k)
        blended = penalty * score * (1.0 - config.window_influence) + window * config.window_influence
    if not np.all(np.isfinite(blended)):
        raise ValueError("the head's maps give non-finite scores (non-positive predicted box sides or "
                         "non-finite logits): not a NanoTrack head's output")
    row, col = np.unravel_index(int(np.argmax(blended)), blended.shape)
    return NanoPeak(float(dx[row, col]), float(dy[row, col]), float(w[row, col]), float(h[row, col]),
                    float(score[row, col]), float(penalty[row, col]), (int(row), int(col)))


@dataclass
class _NanoTarget:
    """One tracked target: centre and size (frame pixels), template features, padding colour."""

    cx: float
    cy: float
    w: float
    h: float
    template: np.ndarray
    pad: tuple[float, ...]


class NanoTrackOnnx:
    """NanoTrack (any version) with ``init(frame, box)`` and ``update(frame) -> TrackResult``.

    Args:
        network: the version's :class:`NanoTrackNetwork` (shared by any number of trackers).

    Frames are BGR ``uint8`` arrays (or anything :func:`~dcffnet.frames.to_bgr` takes); boxes are
    ``(x, y, w, h)`` in 0-based frame pixels. ``update`` returns the box and the chosen cell's target
    probability (the published tracker's ``best_score``) as the score.
    """

    def __init__(self, network: NanoTrackNetwork) -> None:
        if not isinstance(network, NanoTrackNetwork):
            raise TypeError(f"network must be a NanoTrackNetwork, got {type(network).__name__}")
        self.network = network
        self.config = network.config
        self._window = self.config.cosine_window()
        self._target: _NanoTarget | None = None

    @classmethod
    def from_folder(cls, models_dir: "str | Path | None", config: NanoTrackConfig = NANOTRACK_V2,
                    threads: int | None = None) -> "NanoTrackOnnx":
        """A tracker with its own :class:`NanoTrackNetwork` opened from ``models_dir`` (see there)."""
        return cls(NanoTrackNetwork(models_dir, config, threads))

    def init(self, frame: Any, box: Sequence[float]) -> None:
        """Start tracking ``box = (x, y, w, h)`` (frame pixels, 0-based) in ``frame``."""
        image = to_bgr(frame)
        x, y, w, h = validate_box(box, "box", image.shape)
        cx, cy = x + w / 2.0, y + h / 2.0
        pad = tuple(cv2.mean(image)[:3])
        c = self.config
        crop = crop_and_resize(image, (cx, cy), context_size(w, h, c.context), c.exemplar_size, pad)
        self._target = _NanoTarget(cx, cy, w, h, self.network.features(crop), pad)

    def update(self, frame: Any) -> TrackResult:
        """Track one frame: the new box ``(x, y, w, h)`` (frame pixels) and its score in [0, 1]."""
        t = self._target
        if t is None:
            raise RuntimeError("update() called before init()")
        image = to_bgr(frame)
        c = self.config
        region = SearchRegion.around((t.cx, t.cy, t.w, t.h), c.context, c.exemplar_size, c.instance_size)
        search = self.network.features(region.crop(image, t.pad))
        cls, reg = self.network.head(t.template, search)
        s = region.scale
        peak = decode_nanotrack(cls, reg, (t.w * s, t.h * s), c, self._window)
        cx, cy, pw, ph = region.to_frame(peak.dx, peak.dy, peak.width, peak.height)
        rate = peak.penalty * peak.score * c.lr
        w = t.w * (1.0 - rate) + pw * rate
        h = t.h * (1.0 - rate) + ph * rate
        height, width = image.shape[:2]
        t.cx, t.cy, t.w, t.h = clip_box(cx, cy, w, h, width, height, min_size=c.min_size)
        return TrackResult((t.cx - t.w / 2.0, t.cy - t.h / 2.0, t.w, t.h), float(np.clip(peak.score, 0.0, 1.0)))
