"""The per-frame tracking path as named stages over :class:`~dcffnet.tracking.target.TargetState`
records, shared by :class:`~dcffnet.Tracker` (one target) and :class:`~dcffnet.MultiTracker` (many).

Read top to bottom, a frame goes through:

1. ``region``: :meth:`TrackingPipeline.search_region`, the search region around the last box
   (components may move its centre: :meth:`TrackingComponent.search_centre`);
2. ``crop``: :meth:`TrackingPipeline.crops`, each target's region cut out and resized (padded
   with the target's mean colour);
3. ``prepare`` + ``network``: the :class:`~dcffnet.tracking.runner.NetworkRunner` turns the
   crops into the network's input and runs one batched pass against the targets' templates;
4. ``decode``: :meth:`TrackingPipeline.decode`, head maps -> the chosen cell's box (penalties,
   cosine window, regression; :func:`~dcffnet.tracking.decode.decode_response`);
5. ``score``: :meth:`TrackingPipeline.score`, the calibrated probability of being on target;
6. ``state``: :meth:`TrackingPipeline.update_state`, the box moves, the lost-state counters
   advance; then every component's per-frame step (:meth:`TrackingComponent.observe`);
7. lost targets skip 1-6: :meth:`TrackingPipeline.redetect` searches a growing grid of crops
   (:mod:`dcffnet.tracking.redetect`) and re-acquires a confident peak.

:meth:`TrackingPipeline.start` is the ``init`` path (template, padding colour, size calibration,
components' memory).
"""

from __future__ import annotations

from typing import Any, Sequence

import cv2
import numpy as np

from ..frames import to_bgr
from ..geometry import SearchRegion, clip_box, context_size, crop_and_resize, hanning_window, validate_box, xywh_to_cxcywh
from ..hparams import TrackerHParams
from .calibration import ScoreCalibration
from .components import TrackingComponent, build_components
from .decode import Decoded, HeadOutput, decode_peak, decode_response
from .profile import StageTimes
from .redetect import redetection_centres
from .result import TrackResult, TrackState
from .runner import NetworkRunner
from .target import TargetState

__all__ = ["TrackingPipeline"]


class TrackingPipeline:
    """The stages of :mod:`this module <dcffnet.tracking.pipeline>` around one network runner.

    Args:
        runner: runs the network (backend, threads, batched passes).
        hparams: the tracking values (penalties, lost state, re-detection, components).
        calibration: maps the decoder's cues to the reported score (``None``: the raw score).
        batch_size: most search crops per network pass (several targets).
        checkpoint_info: where the network came from (:class:`~dcffnet.CheckpointInfo`), if known.
    """

    def __init__(self, runner: NetworkRunner, hparams: TrackerHParams, calibration: ScoreCalibration | None = None,
                 batch_size: int = 1, checkpoint_info: Any = None) -> None:
        self.runner = runner
        self.geometry = runner.geometry
        self.window = hanning_window(self.geometry.size).astype(np.float64)
        self.calibration = calibration
        self.batch_size = batch_size
        self.checkpoint_info = checkpoint_info
        #: while set (:meth:`dcffnet.Tracker.profile`), every stage of every frame is timed into it
        self.profiler: StageTimes | None = None
        self._batched: dict[tuple[tuple[int, int], ...], Any] = {}  # targets of a pass -> their templates, batched
        self.hparams = hparams

    @property
    def hparams(self) -> TrackerHParams:
        """The tracking values. Setting them (also after ``init``) takes effect from the next
        frame: components are rebuilt for the new values (a newly enabled component starts its
        memory of each target on the next frame) and re-detection templates are re-made for a
        new ``redetect_tiles``."""
        return self._hparams

    @hparams.setter
    def hparams(self, hparams: TrackerHParams) -> None:
        if not isinstance(hparams, TrackerHParams):
            raise TypeError(f"hparams must be a TrackerHParams, got {type(hparams).__name__}")
        self._hparams = hparams
        #: the tracking components ``hparams`` switch on (:mod:`dcffnet.tracking.components`)
        self.components: tuple[TrackingComponent, ...] = build_components(hparams, self)

    def _stamp(self, stage: str) -> None:
        if self.profiler is not None:
            self.profiler.stamp(stage)

    # ------------------------------------------------------------------------------------- init
    def start(self, frame: Any, color: str, box: Any, target: TargetState | None = None) -> TargetState:
        """The ``init`` path: a new :class:`TargetState` for the target in ``box = (x, y, w, h)``
        (frame pixels, 0-based) of ``frame``, or ``target`` re-initialised in place.

        Raises:
            TypeError / ValueError: a frame of an unsupported type/shape, or a bad box.
        """
        image = to_bgr(frame, color)
        state = xywh_to_cxcywh(validate_box(box, "box", image.shape))
        hp, g = self.hparams, self.geometry
        pad_value = tuple(cv2.mean(image)[:3])
        side = context_size(state[2], state[3], hp.context)
        template = self.runner.template(crop_and_resize(image, state[:2], side, g.template_size, pad_value))
        if target is None:
            target = TargetState(box=state, confident=state.copy(), template=template, pad_value=pad_value)
        else:
            target.restart(state, template, pad_value, (1.0, 1.0))
        bias = self._size_bias(image, target) if hp.size_calibration > 0 else (1.0, 1.0)
        target.size_factor = (bias[0] * hp.size_scale, bias[1] * hp.size_scale)
        for component in self.components:
            component.init(target, image)
        return target

    def take_template(self, image: np.ndarray, target: TargetState) -> Any:
        """Template features of ``target``'s current box in ``image`` (BGR), cropped as at ``init``
        (the same context, padded with the target's colour)."""
        side = context_size(target.box[2], target.box[3], self.hparams.context)
        crop = crop_and_resize(image, target.box[:2], side, self.geometry.template_size, target.pad_value)
        return self.runner.template(crop)

    @staticmethod
    def set_template(target: TargetState, template: Any) -> None:
        """Give ``target`` a new template (every cache of the old one is invalidated)."""
        target.template, target.tile_template, target.tile_count = template, None, 0
        target.version += 1

    def _size_bias(self, image: np.ndarray, target: TargetState) -> tuple[float, float]:
        """Per-axis ``(true / predicted) ** size_calibration`` of the regressed size on the init frame.

        The search crop is centred on the known box, so what the head predicts there is its bias for
        this target; factors are clipped to [1/4, 4] so a failed prediction cannot explode the box.
        """
        w, h = target.box[2], target.box[3]
        # centred on the given box itself (no component moves the init frame's crop)
        region = SearchRegion.around(target.box, self.hparams.context, self.geometry.template_size,
                                     self.geometry.search_size)
        output = self.runner.track(self.runner.prepare(region.crop(image, target.pad_value)[None]), target.template)
        if "reg" not in output:
            return (1.0, 1.0)
        scale = region.scale
        _, _, pw, ph = decode_response(output, self.geometry, self.window, (w * scale, h * scale), self.hparams).box
        k = self.hparams.size_calibration
        fw = float(np.clip(w * scale / max(pw, 1e-6), 0.25, 4.0)) ** k
        fh = float(np.clip(h * scale / max(ph, 1e-6), 0.25, 4.0)) ** k
        return (fw, fh)

    # -------------------------------------------------------------------------------- per frame
    def track_frame(self, frame: Any, color: str, targets: Sequence[TargetState]) -> list[TrackResult]:
        """Every stage for one frame and ``targets``: tracked targets in batches of
        :attr:`batch_size` crops per pass, then lost ones through re-detection. Returns one
        :class:`TrackResult` per target, in order.

        Raises:
            TypeError / ValueError: a frame of an unsupported type or shape.
        """
        if self.profiler is not None:
            self.profiler.start()
        image = to_bgr(frame, color)
        self._stamp("frame")
        results: dict[int, TrackResult] = {}
        tracking = [k for k, t in enumerate(targets) if t.mode is not TrackState.LOST]
        for first in range(0, len(tracking), self.batch_size):
            chunk = [targets[k] for k in tracking[first:first + self.batch_size]]
            regions = [self.search_region(t) for t in chunk]
            self._stamp("region")
            crops = self.crops(image, chunk, regions)
            self._stamp("crop")
            batch = self.runner.prepare(crops)
            self._stamp("prepare")
            output = self.runner.track(batch, self.templates(chunk))
            self._stamp("network")
            for k, (target, region) in enumerate(zip(chunk, regions)):
                one = output if len(chunk) == 1 else {name: value[k:k + 1] for name, value in output.items()}
                decoded = self.decode(one, target, region)
                self._stamp("decode")
                score = self.score(decoded, target)
                self._stamp("score")
                result = self.update_state(target, decoded, region, score, image)
                for component in self.components:
                    component.observe(target, image, decoded, result)
                for component in self.components:
                    result = component.report(target, result)
                target.reported = result.state
                self._stamp("state")
                results[tracking[first + k]] = result
        for k, target in enumerate(targets):
            if k not in results:
                results[k] = self.redetect(image, target)
                self._stamp("redetect")
        return [results[k] for k in range(len(targets))]

    def search_region(self, target: TargetState) -> SearchRegion:
        """Stage 1: the search region of ``target`` this frame (around its box; components may
        move the centre)."""
        g, box = self.geometry, target.box
        if self.components:
            centre = (float(box[0]), float(box[1]))
            for component in self.components:
                centre = component.search_centre(target, centre)
            box = (centre[0], centre[1], box[2], box[3])
        return SearchRegion.around(box, self.hparams.context, g.template_size, g.search_size)

    @staticmethod
    def crops(image: np.ndarray, targets: Sequence[TargetState], regions: Sequence[SearchRegion]) -> np.ndarray:
        """Stage 2: the ``(B, S, S, 3)`` search crops (each padded with its target's colour)."""
        return np.stack([r.crop(image, t.pad_value) for r, t in zip(regions, targets)])

    def templates(self, targets: Sequence[TargetState]) -> Any:
        """The templates of ``targets`` as one batch (kept while the same targets, with the same
        templates, run together)."""
        if len(targets) == 1:
            return targets[0].template
        key = tuple(t.cache_key for t in targets)
        if key not in self._batched:
            if len(self._batched) >= 16:
                self._batched.clear()
            self._batched[key] = self.runner.concat([t.template for t in targets])
        return self._batched[key]

    def decode(self, output: HeadOutput, target: TargetState, region: SearchRegion) -> Decoded:
        """Stage 4: one target's head output (batch 1) -> the chosen box in crop pixels."""
        scale = region.scale
        weights = None
        for component in self.components:
            factors = component.response_weights(target, region, self.geometry)
            if factors is not None:
                weights = factors if weights is None else weights * factors
        return decode_response(output, self.geometry, self.window, (target.box[2] * scale, target.box[3] * scale),
                               self.hparams, target.size_factor, weights)

    def score(self, decoded: Decoded, target: TargetState) -> float:
        """Stage 5: the reported score of ``decoded`` (calibrated when the checkpoint has a
        calibration); the cues are kept in ``target.last_cues``."""
        target.last_cues = decoded.cues
        return self.probability(decoded.cues)

    def probability(self, cues: dict[str, float]) -> float:
        """The calibrated score of a set of cues (the raw score without a calibration)."""
        return float(self.calibration(cues)) if self.calibration is not None else float(cues["score"])

    def update_state(self, target: TargetState, decoded: Decoded, region: SearchRegion, score: float,
                     image: np.ndarray) -> TrackResult:
        """Stage 6: move ``target`` to ``decoded`` (its size smoothed, only on confident frames)
        and advance the lost-state counters."""
        hp = self.hparams
        w, h = target.box[2], target.box[3]
        confident = score >= hp.lost_threshold
        (dx, dy, pw, ph), lr = decoded.box, decoded.size_lr if confident else 0.0
        cx, cy, pw, ph = region.to_frame(dx, dy, pw, ph)
        w = w * (1.0 - lr) + pw * lr
        h = h * (1.0 - lr) + ph * lr
        cx, cy, w, h = clip_box(cx, cy, w, h, image.shape[1], image.shape[0], hp.min_size)
        target.box = np.array([cx, cy, w, h], dtype=np.float64)
        if confident:
            target.mode, target.misses = TrackState.TRACKING, 0
            target.confident = target.box.copy()
        else:
            target.misses = min(target.misses + 1, hp.lost_after)
            target.mode = TrackState.UNCERTAIN
            if target.misses >= hp.lost_after:
                target.mode, target.lost_frames = TrackState.LOST, 0
                target.box = target.confident.copy()  # not glued to whatever the last frames found
        return TrackResult(target.xywh, score, target.mode)

    # ----------------------------------------------------------------------------- re-detection
    def _tiles(self, target: TargetState) -> Any:
        """``target``'s template repeated for this frame's re-detection crops (``None`` when the
        network's templates cannot be batched)."""
        count = max(1, self.hparams.redetect_tiles)
        if target.tile_count != count:
            target.tile_template, target.tile_count = self.runner.repeat(target.template, count), count
        return target.tile_template

    def grid_search(self, image: np.ndarray, target: TargetState, centre: np.ndarray
                    ) -> tuple[float, Decoded, SearchRegion]:
        """This frame's re-detection crops around ``centre = (cx, cy, w, h)`` (frame pixels; the
        grid grows with ``target.lost_frames``, see :mod:`dcffnet.tracking.redetect`) in one
        batch: the best peak as ``(score, decoded, region)``, its box in that region's crop pixels."""
        hp, g = self.hparams, self.geometry
        tiles = self._tiles(target)
        if hp.redetect_tiles == 0 or tiles is None:
            centres = [(float(centre[0]), float(centre[1]))]
        else:
            centres = redetection_centres(centre, target.lost_frames, image.shape[1], image.shape[0], g, hp.context,
                                          hp.redetect_tiles, hp.redetect_growth, target.redetect_grid)
        regions = [SearchRegion.around((x, y, centre[2], centre[3]), hp.context, g.template_size, g.search_size)
                   for x, y in centres]
        batch = self.runner.prepare(np.stack([r.crop(image, target.pad_value) for r in regions]))
        template = target.template if tiles is None else self.runner.head(tiles, len(regions))
        output = self.runner.track(batch, template)
        found = []
        for k, region in enumerate(regions):
            scale = region.scale
            decoded = decode_peak(output, k, g, (centre[2] * scale, centre[3] * scale), target.size_factor)
            found.append((self.probability(decoded.cues), k, decoded, region))
        score, _, decoded, region = max(found, key=lambda item: (item[0], -item[1]))  # first of equals
        return score, decoded, region

    def _move_to(self, target: TargetState, image: np.ndarray, region: SearchRegion, decoded: Decoded,
                 size: np.ndarray) -> None:
        """Re-acquire ``target`` at ``decoded`` (in ``region``'s crop), keeping the size ``(w, h)``."""
        cx, cy, _, _ = region.to_frame(*decoded.box)
        cx, cy, w, h = clip_box(cx, cy, size[0], size[1], image.shape[1], image.shape[0], self.hparams.min_size)
        target.box = np.array([cx, cy, w, h], dtype=np.float64)
        target.confident = target.box.copy()
        target.mode, target.misses, target.lost_frames = TrackState.TRACKING, 0, 0
        target.redetect_grid.clear()

    def redetect(self, image: np.ndarray, target: TargetState) -> TrackResult:
        """Stage 7, one lost (held) frame: search this frame's grid crops in one batch; re-acquire
        on a peak whose score reaches ``found_threshold``."""
        target.lost_frames += 1
        held = target.confident
        score, decoded, region = self.grid_search(image, target, held)
        target.last_cues = decoded.cues
        if score >= self.hparams.found_threshold:
            self._move_to(target, image, region, decoded, held[2:])
        result = TrackResult(target.xywh, score, target.mode)
        for component in self.components:
            component.observe(target, image, decoded, result)
        for component in self.components:
            result = component.report(target, result)
        target.reported = result.state
        return result
