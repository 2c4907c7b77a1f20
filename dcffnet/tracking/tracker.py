"""The single-object tracker: ``Tracker.init(frame, box)`` then ``Tracker.update(frame) -> TrackResult``.

A ``Tracker`` is a front end: it owns one :class:`~dcffnet.tracking.target.TargetState` (the
target's box, lost-state counters, template, memories) and one
:class:`~dcffnet.tracking.pipeline.TrackingPipeline` (the per-frame stages around a
:class:`~dcffnet.tracking.runner.NetworkRunner`). The stages, top to bottom: search region ->
crop -> network -> decode -> score -> state update -> (lost) re-detection; see
:mod:`dcffnet.tracking.pipeline`.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any, Iterable, Iterator

from ..checkpoint import CheckpointInfo
from ..hparams import TrackerHParams, resolve_hparams
from .build import build_pipeline, check_color
from .calibration import ScoreCalibration
from .loop import iter_track
from .pipeline import TrackingPipeline
from .profile import StageTimes
from .result import TrackResult, TrackState
from .runner import BACKENDS, NetworkRunner
from .target import TargetState
from .threads import ThreadChooser

__all__ = ["TrackState", "TrackResult", "Tracker", "BACKENDS"]


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

    def __init__(self, weights: "str | os.PathLike[str] | None" = "default", *, model: Any = None,
                 hparams: "TrackerHParams | str | dict[str, Any] | None" = None,
                 device: Any = None, color: str = "bgr",
                 revision: str | None = None, cache_dir: "str | os.PathLike[str] | None" = None,
                 fuse: bool = True, threads: "int | str | None" = "auto", backend: str = "auto") -> None:
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
        check_color(color)
        pipeline = build_pipeline(weights, model=model, hparams=hparams, device=device, revision=revision,
                                  cache_dir=cache_dir, fuse=fuse, threads=threads, backend=backend)
        self._attach(pipeline, None, color)

    def _attach(self, pipeline: TrackingPipeline, target: TargetState | None, color: str) -> None:
        self._pipeline = pipeline
        self._target = target
        self.color = color
        self.checkpoint_info: "CheckpointInfo | None" = pipeline.checkpoint_info

    @classmethod
    def attached(cls, pipeline: TrackingPipeline, target: TargetState | None = None, color: str = "bgr") -> "Tracker":
        """A tracker over an existing ``pipeline`` (sharing its network runner) and, optionally, an
        existing ``target`` record: what :meth:`dcffnet.MultiTracker.tracker` returns. ``init`` on
        it re-initialises that record in place, so every holder of the record follows the new target."""
        tracker = cls.__new__(cls)
        tracker._attach(pipeline, target, check_color(color))
        return tracker

    @classmethod
    def from_pretrained(cls, name_or_path: "str | os.PathLike[str]", revision: str | None = None,
                        device: Any = None, **kwargs: Any) -> "Tracker":
        """Load a checkpoint (folder, bundled name or hub repo id) and wrap it in a tracker.

        Keyword arguments (``hparams``, ``color``, ``cache_dir``) are passed to :class:`Tracker`.
        """
        return cls(name_or_path, revision=revision, device=device, **kwargs)

    # ------------------------------------------------------------------------------ components
    @property
    def pipeline(self) -> TrackingPipeline:
        """The per-frame stages this tracker runs (shared with nothing else, except the trackers
        :meth:`dcffnet.MultiTracker.tracker` hands out)."""
        return self._pipeline

    @property
    def runner(self) -> NetworkRunner:
        """The network runner (backend, threads, batched passes)."""
        return self._pipeline.runner

    @property
    def target(self) -> TargetState | None:
        """The target's state record (``None`` before :meth:`init`)."""
        return self._target

    @property
    def model(self) -> Any:
        """The network: the PyTorch module this tracker was built from."""
        return self._pipeline.runner.model

    @property
    def device(self) -> Any:
        """The ``torch.device`` the network runs on."""
        return self._pipeline.runner.device

    @property
    def backend(self) -> str:
        """The backend in use, ``"torch"`` or ``"onnx"``."""
        return self._pipeline.runner.backend

    @property
    def thread_chooser(self) -> ThreadChooser | None:
        """With ``threads="auto"`` on the CPU, the chooser that times the network at each candidate
        thread count and picks the fastest; else ``None``."""
        return self._pipeline.runner.thread_chooser

    @thread_chooser.setter
    def thread_chooser(self, chooser: ThreadChooser | None) -> None:
        self._pipeline.runner.thread_chooser = chooser

    @property
    def threads(self) -> int | None:
        """Intra-op threads the network runs with now (torch's, or ONNX Runtime's sessions'):
        the fixed ``threads=`` value, or with ``threads="auto"`` the current choice of
        :attr:`thread_chooser`; ``None``: the runtime's own setting (and on a GPU)."""
        return self._pipeline.runner.threads

    @property
    def hparams(self) -> TrackerHParams:
        """The tracking values. May be replaced at any time (a :class:`TrackerHParams`, a preset
        name or a dict of overrides); the next frame uses them (see
        :attr:`TrackingPipeline.hparams <dcffnet.tracking.pipeline.TrackingPipeline.hparams>`)."""
        return self._pipeline.hparams

    @hparams.setter
    def hparams(self, hparams: "TrackerHParams | str | dict[str, Any]") -> None:
        if hparams is None:
            raise TypeError("hparams must be a TrackerHParams, a preset name or a dict, got None")
        self._pipeline.hparams = resolve_hparams(hparams)

    @property
    def calibration(self) -> ScoreCalibration | None:
        """Maps the decoder's cues to ``TrackResult.score`` (``None``: the raw classification score)."""
        return self._pipeline.calibration

    @calibration.setter
    def calibration(self, calibration: ScoreCalibration | None) -> None:
        if calibration is not None and not callable(calibration):
            raise TypeError(f"calibration must be a ScoreCalibration or None, got {type(calibration).__name__}")
        self._pipeline.calibration = calibration

    @property
    def last_cues(self) -> dict[str, float]:
        """The last frame's calibration cues (``score``, ``peak``, ``psr``), for fitting a calibration."""
        return {} if self._target is None else self._target.last_cues

    # ------------------------------------------------------------------------------------------
    @property
    def is_initialized(self) -> bool:
        """Whether :meth:`init` has been called."""
        return self._target is not None

    @property
    def box(self) -> tuple[float, float, float, float]:
        """The current target box ``(x, y, w, h)`` in frame pixels."""
        if self._target is None:
            raise RuntimeError("the tracker has no target yet: call init(frame, box) first")
        return self._target.xywh

    @property
    def state(self) -> TrackState:
        """The :class:`TrackState` the last result reported (``tracking`` before the first update)."""
        return TrackState.TRACKING if self._target is None else self._target.reported

    def init(self, frame: Any, box: Any) -> None:
        """Start (or restart) tracking the target in ``box = (x, y, w, h)`` (frame pixels, 0-based) of ``frame``.

        Raises:
            TypeError / ValueError: a frame of an unsupported type/shape, or a bad box (non-finite,
                ``w <= 0``, ``h <= 0``, or entirely outside the frame).
        """
        with self._pipeline.runner.session():
            self._target = self._pipeline.start(frame, self.color, box, self._target)

    def update(self, frame: Any) -> TrackResult:
        """Locate the target in ``frame`` and return ``TrackResult(box=(x, y, w, h), score, state)``.

        While tracking, one search crop around the last box. ``state`` is ``lost`` when the
        :class:`~dcffnet.tracking.components.LostReport` component reports it (the score below
        ``hparams.report_lost_below`` for ``report_lost_after`` frames; the box keeps tracking) or
        when the box-holding lost state fires (the score below ``hparams.lost_threshold`` for
        ``hparams.lost_after`` frames): then the box is held at the last confident one and
        re-detection searches a region that grows every frame up to the whole frame
        (``redetect_tiles`` crops per frame in one batch); a candidate scoring at least
        ``found_threshold`` is taken as the target again.

        Raises:
            RuntimeError: :meth:`init` was not called.
            TypeError / ValueError: a frame of an unsupported type or shape.
        """
        if self._target is None:
            raise RuntimeError("update() called before init(): call tracker.init(frame, box) first")
        with self._pipeline.runner.session():
            return self._pipeline.track_frame(frame, self.color, [self._target])[0]

    @contextlib.contextmanager
    def profile(self) -> Iterator[StageTimes]:
        """Time every stage of the ``update`` calls made inside the ``with`` block (milliseconds
        per frame, :class:`~dcffnet.tracking.profile.StageTimes`): the real path, stamped at each
        stage boundary."""
        times = StageTimes()
        previous, self._pipeline.profiler = self._pipeline.profiler, times
        try:
            yield times
        finally:
            self._pipeline.profiler = previous

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

    def _checkpointable(self) -> Any:
        from ..models.dcffnet import DCFFNet

        if not isinstance(self.model, DCFFNet):
            raise TypeError(f"only a DCFFNet can be saved as a dcffnet checkpoint, this tracker wraps "
                            f"{type(self.model).__name__}")
        return self.model
