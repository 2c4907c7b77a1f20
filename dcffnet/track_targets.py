"""The tracking step of ``dcffnet track``: the targets of a run through the frames of a source, one
:class:`~dcffnet.outputs.FrameRecord` per frame.

One target runs in a :class:`~dcffnet.Tracker` (the single-object path, its default backend);
several run in one :class:`~dcffnet.MultiTracker`, whose ``update`` passes every tracked target's
search crop through the network in batches. Each target starts on the first frame the source
delivers at or after its start frame (:attr:`dcffnet.targets.TargetSpec.frame`).
"""

from __future__ import annotations

import time
from typing import Any, Sequence

from .outputs import FrameRecord, TargetRecord
from .sources import SourceFrame
from .targets import TargetSpec, check_targets

__all__ = ["TargetsTracker"]


class TargetsTracker:
    """Tracks the targets of a run frame by frame.

    Args:
        targets: the targets (ids, start boxes ``(x, y, w, h)`` in pixels, 0-based start frames).
        weights: checkpoint folder, bundled name or hub repo id.
        revision: hub revision of ``weights``.
        preset: tracking hyper-parameter preset (``None``: the checkpoint's own).
        device: ``"cpu"``, ``"cuda"``, ``"cuda:N"`` (``None``: the CPU).

    Attributes:
        targets: the targets, in the order given.
        seconds: time spent in the trackers' ``init`` / ``update`` / ``add`` calls so far (s).
        frames: frames tracked so far (frames with an image).
    """

    def __init__(self, targets: Sequence[TargetSpec], weights: Any = "default", *, revision: str | None = None,
                 preset: str | None = None, device: str | None = None) -> None:
        from .tracking import MultiTracker, Tracker

        self.targets = check_targets(targets)
        self._single: Any = None
        self._multi: Any = None
        if len(self.targets) == 1:
            self._single = Tracker.from_pretrained(weights, revision=revision, device=device, hparams=preset)
            pipeline = self._single.pipeline
        else:
            self._multi = MultiTracker(weights, revision=revision, device=device, hparams=preset)
            pipeline = self._multi.pipeline
        self._pipeline = pipeline
        self._started: set["int | str"] = set()
        self.seconds = 0.0
        self.frames = 0

    @property
    def device(self) -> Any:
        """The device the network runs on."""
        return self._pipeline.runner.device

    @property
    def calibrated(self) -> bool:
        """Whether the checkpoint has a score calibration (``probability`` is then reported)."""
        return self._pipeline.calibration is not None

    @property
    def pending(self) -> tuple[TargetSpec, ...]:
        """The targets not started yet, in the order given."""
        return tuple(t for t in self.targets if t.id not in self._started)

    def step(self, frame: SourceFrame) -> FrameRecord:
        """Track ``frame``: update the started targets, then start those whose start frame has come.

        Returns:
            The frame's record: the started targets in the order given (a target's start frame
            carries its given box, score 1.0); ``missing`` for a frame the source lost.

        Raises:
            ValueError / TypeError: a start box the tracker refuses (outside the frame, too small),
                naming the target when the run has several or it starts after frame 0.
        """
        if frame.image is None:
            return FrameRecord(frame.index, frame.time, (), True)
        t0 = time.perf_counter()
        results: dict["int | str", TargetRecord] = {}
        if self._single is not None:
            spec = self.targets[0]
            if spec.id in self._started:
                results[spec.id] = self._record(spec.id, self._single.update(frame.image), self._single.last_cues)
            elif spec.frame <= frame.index:
                self._start(spec, frame, lambda: self._single.init(frame.image, spec.box))
                results[spec.id] = self._start_record(spec)
        else:
            if self._started:
                for tid, result in self._multi.update(frame.image).items():
                    results[tid] = self._record(tid, result, self._multi.target(tid).last_cues)
            for spec in self.targets:
                if spec.id not in self._started and spec.frame <= frame.index:
                    self._start(spec, frame, lambda: self._multi.add(frame.image, spec.box, target_id=spec.id))
                    results[spec.id] = self._start_record(spec)
        self.seconds += time.perf_counter() - t0
        self.frames += 1
        return FrameRecord(frame.index, frame.time, tuple(results[t.id] for t in self.targets if t.id in results))

    def _start(self, spec: TargetSpec, frame: SourceFrame, start: Any) -> None:
        try:
            start()
        except (TypeError, ValueError) as exc:
            if len(self.targets) == 1 and spec.frame == 0:
                raise
            raise type(exc)(f"target {spec.id!r} (starting at frame {frame.index}): {exc}") from exc
        self._started.add(spec.id)

    def _start_record(self, spec: TargetSpec) -> TargetRecord:
        return TargetRecord(spec.id, spec.box, 1.0, 1.0 if self.calibrated else None, "tracking", True)

    def _record(self, tid: "int | str", result: Any, cues: dict[str, float]) -> TargetRecord:
        """A target's record from its ``TrackResult`` and the cues the pipeline kept for it."""
        raw = float(cues.get("score", result.score))
        return TargetRecord(tid, tuple(float(v) for v in result.box), raw,  # type: ignore[arg-type]
                            float(result.score) if self.calibrated else None, str(result.state.value))
