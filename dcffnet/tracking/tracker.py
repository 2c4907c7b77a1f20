"""The single-object tracker: ``Tracker.init(frame, box)`` then ``Tracker.update(frame) -> TrackResult``.

Data path per frame, top to bottom: frame -> search region around the last box
(:class:`~dcffnet.geometry.SearchRegion`, mean-colour padding) -> search branch (with the template
features cached at ``init``) -> head -> :func:`~dcffnet.tracking.decode.decode_response`
(penalties, cosine window, peak, regression) -> box in frame pixels -> clip.
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path
from typing import Any, Iterable, Iterator

import cv2
import numpy as np
import torch
from torch import nn

from ..devices import resolve_device
from ..fields import is_positive_int
from ..frames import COLOR_ORDERS, to_bgr
from ..geometry import SearchRegion, clip_box, context_size, crop_and_resize, hanning_window, validate_box, xywh_to_cxcywh
from ..hparams import TrackerHParams, resolve_hparams
from ..checkpoint import CheckpointInfo
from ..models.dcffnet import DCFFNet
from ..models.fuse import fuse_batchnorm
from .calibration import ScoreCalibration
from .decode import Decoded, HeadOutput, decode_peak, decode_response
from .loop import iter_track
from .result import TrackResult, TrackState
from .threads import ThreadChooser, thread_candidates

__all__ = ["TrackState", "TrackResult", "Tracker", "BACKENDS"]

#: values of ``Tracker(backend=...)``
BACKENDS = ("auto", "torch", "onnx")


def _auto_backend(model: nn.Module, device: torch.device) -> tuple[str, str | None]:
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


class Tracker:
    """Single-object tracker around a DCFFNet (or any model with ``geometry``, ``template``, ``track``).

    Args:
        weights: checkpoint to load when ``model`` is not given: a local folder, a bundled name
            (``"default"``) or a hub repo id (``"org/name"``, optionally ``"org/name@revision"``).
        model: an already-built network to wrap instead of loading ``weights``.
        hparams: a :class:`TrackerHParams`, a preset name (``"otb"``, ``"lasot"``, ...), a dict of
            overrides, or ``None`` for the values tuned for the weights (``model.checkpoint_info.tracker``,
            set by every checkpoint loader; else the ``default`` preset).
        device: ``"cpu"`` (default), ``"cuda"``, ``"cuda:1"`` or a ``torch.device``.
        color: channel order of numpy frames, ``"bgr"`` (OpenCV, default) or ``"rgb"``.
        revision: hub revision (branch, tag or commit) when ``weights`` is a repo id.
        cache_dir: hub cache folder (default: huggingface_hub's).
        fuse: (PyTorch backend) fold BatchNorm into the convolutions of a private inference copy in
            channels-last memory format (same results up to float rounding, ~1.3x faster on CPU).
        threads: intra-op threads of the network on the CPU (torch's, set for each ``init`` /
            ``update`` call and restored after it, or ONNX Runtime's). ``"auto"`` (default): chosen
            while tracking by a :class:`~dcffnet.tracking.threads.ThreadChooser`, which times the
            network at 1, 2, 4 and all cores (those the machine has) for a few frames every 200
            and runs the rest at the fastest: more threads on an idle machine, one beside busy
            processes (docs/performance.md). An integer: always that many (bit-reproducible runs
            with the PyTorch backend); ``None``: the runtime's own setting.
        backend: ``"onnx"`` runs the network's ONNX export (:func:`~dcffnet.deploy.export_onnx`)
            in ONNX Runtime: about 1.8x faster per frame than PyTorch on a CPU, boxes equal within
            float rounding (docs/performance.md). The graphs come from the checkpoint folder when
            it holds an export made from these weights (the bundled default does, as does every
            ``dcffnet export`` folder), else they are exported once into ``~/.cache/dcffnet/onnx``
            (needs the ``onnx`` package: ``pip install "dcffnet[onnx]"``). ``"torch"`` runs the
            network in PyTorch (any device; what training and custom models use). ``"auto"``
            (default): ``"onnx"`` on the CPU when the checkpoint folder holds such an export and
            ONNX Runtime imports, else ``"torch"``. The backend in use is ``self.backend``.

    Boxes are ``(x, y, w, h)`` floats in 0-based continuous frame pixels.
    """

    def __init__(self, weights: "str | os.PathLike[str] | None" = "default", *, model: nn.Module | None = None,
                 hparams: "TrackerHParams | str | dict[str, Any] | None" = None,
                 device: "str | torch.device | None" = None, color: str = "bgr",
                 revision: str | None = None, cache_dir: "str | os.PathLike[str] | None" = None,
                 fuse: bool = True, threads: "int | str | None" = "auto", backend: str = "auto") -> None:
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
        if color not in COLOR_ORDERS:
            raise ValueError(f"color must be one of {COLOR_ORDERS}, got {color!r}")
        self.device = resolve_device(device)
        self.color = color
        if model is None:
            if weights is None:
                raise ValueError("pass weights (a folder, bundled name or hub repo id) or model=")
            model = DCFFNet.from_pretrained(weights, revision=revision, cache_dir=cache_dir)
        elif not all(hasattr(model, attr) for attr in ("geometry", "template", "track")):
            raise TypeError("model must provide .geometry, .template(z) and .track(x, template) (e.g. a DCFFNet)")
        info = getattr(model, "checkpoint_info", None)
        self.checkpoint_info: "CheckpointInfo | None" = info
        self.model = model.to(self.device).eval()
        self._net: Any = self.model
        digest = None  # of the weights, once known (the ONNX export is matched by it)
        if backend == "auto":
            backend, digest = _auto_backend(self.model, self.device)
        #: the backend in use, ``"torch"`` or ``"onnx"``
        self.backend = backend
        if threads != "auto" and threads is not None and not is_positive_int(threads):
            raise ValueError(f"threads must be 'auto', None or a positive integer, got {threads!r}")
        #: times the network at each candidate thread count and picks the fastest (``threads="auto"``
        #: on the CPU), else ``None``
        self.thread_chooser: ThreadChooser | None = None
        self._fixed_threads: int | None = None
        if self.device.type == "cpu":
            if threads == "auto":
                self.thread_chooser = ThreadChooser(thread_candidates())
            else:
                self._fixed_threads = threads
        self._memory_format = torch.contiguous_format
        self._prepare = self._crops_to_tensor
        if fuse and backend == "torch":  # the ONNX graphs are folded at export
            # channels-last: PyTorch still runs the batch-1 17x17 head convolutions on its native
            # (im2col) kernel, whose channels-last variant is about twice as fast there (measured
            # 265 -> 140 us per 64->64 3x3 conv; whole network 6.45 -> 5.62 ms per frame, dcffnet_nano)
            self._memory_format = torch.channels_last
            self._net = fuse_batchnorm(self.model).to(memory_format=self._memory_format)
        if backend == "onnx":
            from ..deploy.onnx_cache import onnx_network_for

            self._net = onnx_network_for(self.model, threads=self.threads, device=self.device, digest=digest)
            self._prepare = self._net.prepare  # numpy in, numpy out: no torch on the per-frame path
            if self.thread_chooser is not None:
                # open every candidate's sessions now (about 0.1 s each pair), not inside an update
                for count in self.thread_chooser.candidates:
                    self._net.threads = count
                self._net.threads = self.thread_chooser.current
        self.hparams = resolve_hparams(hparams, None if info is None else info.tracker)
        geometry = self.model.geometry
        self._geometry = geometry
        self._window = hanning_window(geometry.size).astype(np.float64)
        calibration = getattr(info, "calibration", None)
        #: maps the decoder's cues to ``TrackResult.score`` (``None``: the raw classification score)
        self.calibration: ScoreCalibration | None = (
            ScoreCalibration.from_dict(calibration) if isinstance(calibration, dict) else calibration)
        #: the last frame's calibration cues (``score``, ``peak``, ``psr``), for fitting a calibration
        self.last_cues: dict[str, float] = {}
        self._template: Any = None
        self._tile_template: Any = None
        self._state: np.ndarray | None = None  # (cx, cy, w, h) in frame pixels
        self._confident: np.ndarray | None = None  # the last state whose score passed lost_threshold
        self._mode = TrackState.TRACKING
        self._misses = 0  # consecutive frames below lost_threshold
        self._lost_frames = 0
        self._pad_value: tuple[float, ...] | None = None
        self._size_factor = (1.0, 1.0)  # calibration x size_scale, fixed at init

    @classmethod
    def from_pretrained(cls, name_or_path: "str | os.PathLike[str]", revision: str | None = None,
                        device: "str | torch.device | None" = None, **kwargs: Any) -> "Tracker":
        """Load a checkpoint (folder, bundled name or hub repo id) and wrap it in a tracker.

        Keyword arguments (``hparams``, ``color``, ``cache_dir``) are passed to :class:`Tracker`.
        """
        return cls(name_or_path, revision=revision, device=device, **kwargs)

    # ------------------------------------------------------------------------------------------
    @property
    def is_initialized(self) -> bool:
        """Whether :meth:`init` has been called."""
        return self._state is not None

    @property
    def box(self) -> tuple[float, float, float, float]:
        """The current target box ``(x, y, w, h)`` in frame pixels."""
        if self._state is None:
            raise RuntimeError("the tracker has no target yet: call init(frame, box) first")
        cx, cy, w, h = self._state
        return (float(cx - w / 2), float(cy - h / 2), float(w), float(h))

    @property
    def threads(self) -> int | None:
        """Intra-op threads the network runs with now (torch's, or ONNX Runtime's sessions'):
        the fixed ``threads=`` value, or with ``threads="auto"`` the current choice of
        :attr:`thread_chooser`; ``None``: the runtime's own setting (and on a GPU)."""
        if self.thread_chooser is not None:
            return self.thread_chooser.best
        return self._fixed_threads

    def _to_tensor(self, crop: np.ndarray) -> Any:
        """One ``(H, W, 3)`` crop as the network's ``(1, 3, H, W)`` float input (see :meth:`_crops_to_tensor`)."""
        return self._prepare(crop[None])

    def _crops_to_tensor(self, crops: np.ndarray) -> torch.Tensor:
        """``(B, H, W, 3)`` uint8 crops as a ``(B, 3, H, W)`` float tensor on the device in the
        network's memory format. Converted to float in numpy first: the NHWC float array viewed
        as NCHW *is* channels-last, so the torch backend needs no further copy."""
        tensor = torch.from_numpy(crops.astype(np.float32)).permute(0, 3, 1, 2)
        return tensor.to(self.device, non_blocking=True).contiguous(memory_format=self._memory_format)

    def _with_threads(self, fn: Any, *args: Any) -> Any:
        """``fn(*args)`` with the network's threads set for the call (torch's restored after it)."""
        chooser = self.thread_chooser
        threads = chooser.current if chooser is not None else self._fixed_threads
        if threads is None:
            return fn(*args)
        if self.backend == "onnx":
            self._net.threads = threads
            return fn(*args)
        previous = torch.get_num_threads()
        if previous == threads:
            return fn(*args)
        torch.set_num_threads(threads)
        try:
            return fn(*args)
        finally:
            torch.set_num_threads(previous)

    def _track_crops(self, batch: Any, template: Any) -> Any:
        """The network's head output for ``batch`` (prepared crops) against ``template``; the
        call is timed for :attr:`thread_chooser` at the thread count in effect."""
        chooser = self.thread_chooser
        if chooser is None:
            return self._net.track(batch, template)
        threads = self._net.threads if self.backend == "onnx" else torch.get_num_threads()
        start = time.perf_counter()
        output = self._net.track(batch, template)
        chooser.record(threads, time.perf_counter() - start, len(batch))
        return output

    def init(self, frame: Any, box: "tuple[float, float, float, float] | np.ndarray | list[float]") -> None:
        """Start (or restart) tracking the target in ``box = (x, y, w, h)`` (frame pixels, 0-based) of ``frame``.

        Raises:
            TypeError / ValueError: a frame of an unsupported type/shape, or a bad box (non-finite,
                ``w <= 0``, ``h <= 0``, or entirely outside the frame).
        """
        self._with_threads(self._init, frame, box)

    @torch.inference_mode()
    def _init(self, frame: Any, box: "tuple[float, float, float, float] | np.ndarray | list[float]") -> None:
        """The body of :meth:`init`."""
        image = to_bgr(frame, self.color)
        arr = validate_box(box, "box", image.shape)
        state = xywh_to_cxcywh(arr)
        self._pad_value = tuple(cv2.mean(image)[:3])
        side = context_size(state[2], state[3], self.hparams.context)
        crop = crop_and_resize(image, state[:2], side, self._geometry.template_size, self._pad_value)
        self._template = self._net.template(self._to_tensor(crop))
        tiles = max(1, self.hparams.redetect_tiles)
        batched = callable(getattr(type(self._template), "cat", None))  # TemplateFeatures, OnnxTemplate
        self._tile_template = type(self._template).cat([self._template] * tiles) if batched else None
        self._state = state
        self._confident = state.copy()
        self._mode, self._misses, self._lost_frames = TrackState.TRACKING, 0, 0
        bias = self._measure_size_bias(image, state) if self.hparams.size_calibration > 0 else (1.0, 1.0)
        scale = self.hparams.size_scale
        self._size_factor = (bias[0] * scale, bias[1] * scale)

    def _measure_size_bias(self, image: np.ndarray, state: np.ndarray) -> tuple[float, float]:
        """Per-axis ``(true / predicted) ** size_calibration`` of the regressed size on the init frame.

        The search crop is centred on the known box, so what the head predicts there is its bias for
        this target; factors are clipped to [1/4, 4] so a failed prediction cannot explode the box.
        """
        w, h = state[2], state[3]
        output, region = self._search(image, state)
        if "reg" not in output:
            return (1.0, 1.0)
        scale = region.scale
        (_, _, pw, ph), _, _, _ = decode_response(output, self._geometry, self._window, (w * scale, h * scale),
                                                  self.hparams)
        k = self.hparams.size_calibration
        fw = float(np.clip(w * scale / max(pw, 1e-6), 0.25, 4.0)) ** k
        fh = float(np.clip(h * scale / max(ph, 1e-6), 0.25, 4.0)) ** k
        return (fw, fh)

    def _search_region(self, state: np.ndarray) -> SearchRegion:
        """The search region around ``state = (cx, cy, w, h)`` (frame pixels)."""
        g = self._geometry
        return SearchRegion.around(state, self.hparams.context, g.template_size, g.search_size)

    def _search(self, image: np.ndarray, state: np.ndarray) -> tuple[HeadOutput, SearchRegion]:
        """Head output on the search region around ``state = (cx, cy, w, h)`` (frame pixels), and that region."""
        region = self._search_region(state)
        return self._track_crops(self._to_tensor(region.crop(image, self._pad_value)), self._template), region

    @property
    def state(self) -> TrackState:
        """The current :class:`TrackState`."""
        return self._mode

    def _probability(self, cues: dict[str, float]) -> float:
        return float(self.calibration(cues)) if self.calibration is not None else float(cues["score"])

    def update(self, frame: Any) -> TrackResult:
        """Locate the target in ``frame`` and return ``TrackResult(box=(x, y, w, h), score, state)``.

        While tracking, one search crop around the last box. Once the target is lost (the score
        below ``hparams.lost_threshold`` for ``hparams.lost_after`` frames) the box is held at the
        last confident one and re-detection searches a region that grows every frame up to the
        whole frame (``redetect_tiles`` crops per frame in one batch); a candidate scoring at least
        ``found_threshold`` is taken as the target again.

        Raises:
            RuntimeError: :meth:`init` was not called.
            TypeError / ValueError: a frame of an unsupported type or shape.
        """
        return self._with_threads(self._update, frame)

    @torch.inference_mode()
    def _update(self, frame: Any) -> TrackResult:
        """The body of :meth:`update`."""
        if self._state is None:
            raise RuntimeError("update() called before init(): call tracker.init(frame, box) first")
        image = to_bgr(frame, self.color)
        if self._mode is TrackState.LOST:
            return self._redetect(image)
        output, region = self._search(image, self._state)
        return self._follow(output, region, image)

    def _follow(self, output: HeadOutput, region: SearchRegion, image: np.ndarray) -> TrackResult:
        """One tracking frame after the network: decode ``output`` (batch 1, the head maps of the
        search crop ``region``), move the state, update the lost-state counters."""
        w, h = self._state[2], self._state[3]
        scale = region.scale
        decoded = decode_response(output, self._geometry, self._window, (w * scale, h * scale), self.hparams,
                                  self._size_factor)
        self.last_cues = decoded.cues
        score = self._probability(decoded.cues)
        confident = score >= self.hparams.lost_threshold
        (dx, dy, pw, ph), lr = decoded.box, decoded.size_lr if confident else 0.0
        cx, cy, pw, ph = region.to_frame(dx, dy, pw, ph)
        w = w * (1.0 - lr) + pw * lr
        h = h * (1.0 - lr) + ph * lr
        cx, cy, w, h = clip_box(cx, cy, w, h, image.shape[1], image.shape[0], self.hparams.min_size)
        self._state = np.array([cx, cy, w, h], dtype=np.float64)
        if confident:
            self._mode, self._misses = TrackState.TRACKING, 0
            self._confident = self._state.copy()
        else:
            self._misses += 1
            self._mode = TrackState.UNCERTAIN
            if self._misses >= self.hparams.lost_after:
                self._mode, self._lost_frames = TrackState.LOST, 0
                self._state = self._confident.copy()  # not glued to whatever the last frames found
        return TrackResult(self.box, score, self._mode)

    def _redetection_centres(self, frame_w: int, frame_h: int) -> list[tuple[float, float]]:
        """This lost frame's search-crop centres (frame pixels): a grid around the last confident
        centre, spaced so the crops' response regions tile the plane, over a region that grows by
        ``redetect_growth`` per lost frame and is clipped to the frame; nearest first, swept
        ``redetect_tiles`` at a time."""
        g = self._geometry
        region = SearchRegion.around(self._confident, self.hparams.context, g.template_size, g.search_size)
        offsets = g.cell_offsets()
        span = float(offsets.max() - offsets.min() + g.stride) / region.scale  # frame px one crop's cells cover
        # crops half a span apart: every point lies in the inner half of some crop's response, where
        # a target is seen whole (at the border of the response region it is partly cut off)
        reach = span / 2
        cx, cy = float(self._confident[0]), float(self._confident[1])
        radius = reach / 2 * self.hparams.redetect_growth ** self._lost_frames
        radius = min(radius, math.hypot(frame_w, frame_h))
        steps = int(math.ceil(radius / reach))
        grid = [(cx + i * reach, cy + j * reach) for i in range(-steps, steps + 1) for j in range(-steps, steps + 1)]
        grid = [(x, y) for x, y in grid if -reach / 2 < x < frame_w + reach / 2 and -reach / 2 < y < frame_h + reach / 2]
        grid.sort(key=lambda c: (c[0] - cx) ** 2 + (c[1] - cy) ** 2)
        n = self.hparams.redetect_tiles
        if len(grid) <= n:
            return grid
        start = (self._lost_frames * n) % len(grid)
        return [grid[(start + k) % len(grid)] for k in range(n)]

    def _redetect(self, image: np.ndarray) -> TrackResult:
        """One lost frame: search this frame's tiles in one batch; re-acquire on a confident peak."""
        self._lost_frames += 1
        held = self._confident
        if self.hparams.redetect_tiles == 0 or self._tile_template is None:
            centres = [(float(held[0]), float(held[1]))]
        else:
            centres = self._redetection_centres(image.shape[1], image.shape[0])
        g = self._geometry
        regions = [SearchRegion.around((x, y, held[2], held[3]), self.hparams.context, g.template_size, g.search_size)
                   for x, y in centres]
        crops = np.stack([r.crop(image, self._pad_value) for r in regions])
        batch = self._prepare(crops)
        template = (self._template if self._tile_template is None  # custom models: one crop, see above
                    else self._tile_template.index_select(torch.arange(len(regions), device=self.device)))
        output = self._track_crops(batch, template)
        best: tuple[float, Decoded, SearchRegion] | None = None
        for k, region in enumerate(regions):
            scale = region.scale
            decoded = decode_peak(output, k, g, (held[2] * scale, held[3] * scale), self._size_factor)
            p = self._probability(decoded.cues)
            if best is None or p > best[0]:
                best = (p, decoded, region)
        score, decoded, region = best
        self.last_cues = decoded.cues
        if score >= self.hparams.found_threshold:
            cx, cy, _, _ = region.to_frame(*decoded.box)
            cx, cy, w, h = clip_box(cx, cy, held[2], held[3], image.shape[1], image.shape[0], self.hparams.min_size)
            self._state = np.array([cx, cy, w, h], dtype=np.float64)
            self._confident = self._state.copy()
            self._mode, self._misses = TrackState.TRACKING, 0
        return TrackResult(self.box, score, self._mode)

    def track(self, frames: Iterable[Any], box: "tuple[float, float, float, float]") -> Iterator[TrackResult]:
        """Track through ``frames`` (:func:`~dcffnet.tracking.loop.iter_track`): ``init`` on the first
        with ``box`` (yielded back with score 1.0), then ``update``."""
        for step in iter_track(self, frames, box):
            yield TrackResult(step.box, step.score, step.state)

    # ------------------------------------------------------------------------------------------
    def save_pretrained(self, folder: "str | os.PathLike[str]", **metadata: Any) -> None:
        """Write the network and this tracker's hyper-parameters as a checkpoint folder
        (see :meth:`DCFFNet.save_pretrained`; ``metadata``: ``training=``, ``metrics=``)."""
        self._checkpointable().save_pretrained(folder, tracker=self.hparams, calibration=self.calibration, **metadata)

    def push_to_hub(self, repo_id: str, **kwargs: Any) -> str:
        """Upload this tracker's network and hyper-parameters to the hub (see :meth:`DCFFNet.push_to_hub`);
        returns the commit id."""
        return self._checkpointable().push_to_hub(repo_id, tracker=self.hparams, calibration=self.calibration, **kwargs)

    def _checkpointable(self) -> DCFFNet:
        if not isinstance(self.model, DCFFNet):
            raise TypeError(f"only a DCFFNet can be saved as a dcffnet checkpoint, this tracker wraps "
                            f"{type(self.model).__name__}")
        return self.model
