"""The tracking pipeline: named stages over per-target state records, components, bounded
re-detection, copies of a tracker mid-video, values changed while tracking."""

from __future__ import annotations

import copy
import dataclasses
import pickle

import numpy as np
import pytest

import dcffnet
from dcffnet.geometry import ResponseGeometry
from dcffnet.tracking import components as components_module
from dcffnet.tracking.components import MotionPrior, TrackingComponent
from dcffnet.tracking.profile import STAGES
from dcffnet.tracking.redetect import MAX_GRID_CENTRES, redetection_centres
from dcffnet.tracking.result import TrackState
from synthetic_clip import iou, leave_and_return_clip, moving_object_clip

RESPONSIVE = {"lost_threshold": 0.5, "lost_after": 3, "found_threshold": 0.8}
BACKENDS = ("onnx", "torch")


@pytest.fixture(scope="module")
def clip():
    return moving_object_clip(frames=30, size=(320, 240), seed=5)


def boxes_of(tracker: dcffnet.Tracker, frames, box) -> np.ndarray:
    return np.array([[*r.box, r.score] for r in tracker.track(frames, tuple(box))])


class CountingComponent(TrackingComponent):
    """Always on, changes nothing: counts its hook calls in its per-target memory."""

    name = "counting"

    @classmethod
    def enabled(cls, hparams):
        return True

    def init(self, target, image):
        target.memory[self.name] = {"init": 1, "search_centre": 0, "observe": 0}

    def search_centre(self, target, centre):
        target.memory[self.name]["search_centre"] += 1
        return centre

    def observe(self, target, image, decoded, result):
        target.memory[self.name]["observe"] += 1


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_component_that_changes_nothing_leaves_every_box_bit_identical(backend, clip, monkeypatch):
    frames, gt = clip
    plain = boxes_of(dcffnet.Tracker(backend=backend, threads=1), frames, gt[0])
    monkeypatch.setattr(components_module, "COMPONENTS", [MotionPrior, CountingComponent])
    tracker = dcffnet.Tracker(backend=backend, threads=1)
    assert [type(c) for c in tracker.pipeline.components] == [CountingComponent]  # MotionPrior is off
    with_component = boxes_of(tracker, frames, gt[0])
    np.testing.assert_array_equal(with_component, plain)
    memory = tracker.target.memory["counting"]
    assert memory == {"init": 1, "search_centre": len(frames) - 1, "observe": len(frames) - 1}


def test_switched_off_components_are_not_built(clip):
    tracker = dcffnet.Tracker(threads=1, hparams="default")  # the preset: every component off
    assert tracker.hparams.motion_prior == 0.0 and tracker.pipeline.components == ()
    assert [type(c).__name__ for c in dcffnet.Tracker(threads=1).pipeline.components] == ["LostReport"]
    tracker.hparams = {"motion_prior": 1.0}
    assert [type(c) for c in tracker.pipeline.components] == [MotionPrior]
    tracker.hparams = {"motion_prior": 0.0}
    assert tracker.pipeline.components == ()


def test_motion_prior_moves_the_search_centre_by_the_smoothed_velocity(clip):
    frames, gt = clip
    tracker = dcffnet.Tracker(threads=1, hparams={"motion_prior": 1.0, "motion_smoothing": 0.5})
    results = boxes_of(tracker, frames, gt[0])
    assert iou(results[:, :4], gt).mean() > 0.6  # still tracks
    memory = tracker.target.memory["motion_prior"]
    vx, vy = memory["velocity"]
    assert np.hypot(vx, vy) > 0.5  # the object moves ~4 px per frame
    target = tracker.target
    region = tracker.pipeline.search_region(target)
    assert (region.cx, region.cy) == pytest.approx((target.box[0] + vx, target.box[1] + vy))


def test_every_stage_is_timed_on_the_real_path(clip):
    frames, gt = clip
    tracker = dcffnet.Tracker(threads=1)
    tracker.init(frames[0], tuple(gt[0]))
    reference = copy.deepcopy(tracker)
    with tracker.profile() as times:
        profiled = [tracker.update(f) for f in frames[1:6]]
    assert set(STAGES) <= set(times.samples) and all(len(times.samples[s]) == 5 for s in STAGES)
    assert all(v >= 0 for v in times.medians().values())
    assert profiled == [reference.update(f) for f in frames[1:6]]  # profiling changes nothing
    tracker.update(frames[6])
    assert len(times.samples["network"]) == 5  # detached after the block


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
def test_a_tracker_copied_mid_video_continues_identically(backend, how, clip):
    frames, gt = clip
    tracker = dcffnet.Tracker(backend=backend, threads=1)
    tracker.init(frames[0], tuple(gt[0]))
    for frame in frames[1:10]:
        tracker.update(frame)
    clone = copy.deepcopy(tracker) if how == "deepcopy" else pickle.loads(pickle.dumps(tracker))
    assert clone.target is not tracker.target and clone.backend == tracker.backend
    for frame in frames[10:]:
        assert clone.update(frame) == tracker.update(frame)


def test_tracking_values_changed_while_lost_take_effect_without_error():
    """Issue 26.16: ``redetect_tiles`` changed while lost (its template copies were made for the
    old count) and other values changed between frames."""
    frames, gt, visible = leave_and_return_clip(frames=70, absent=(20, 45))
    tracker = dcffnet.Tracker(threads=1, hparams=RESPONSIVE)
    tracker.init(frames[0], tuple(gt[0]))
    states = []
    for t, frame in enumerate(frames[1:], start=1):
        if t == 28:
            tracker.hparams = dataclasses.replace(tracker.hparams, redetect_tiles=3)
        if t == 33:
            tracker.hparams = dataclasses.replace(tracker.hparams, redetect_tiles=12, redetect_growth=2.0)
        if t == 38:
            tracker.hparams = dataclasses.replace(tracker.hparams, context=0.6, lost_after=5)
        states.append(tracker.update(frame).state)
    assert TrackState.LOST in states[20:45]
    assert states[-1] is TrackState.TRACKING


def test_a_target_lost_for_days_is_found_when_it_returns():
    """Issue 26.4: every quantity that grows while lost is bounded; after 10^5 lost frames (the
    counter set as a day-long absence leaves it, then real empty frames) the target is found."""
    frames, gt, visible = leave_and_return_clip(frames=80, absent=(15, 50), size=(320, 240))
    tracker = dcffnet.Tracker(threads=1, hparams=RESPONSIVE)
    tracker.init(frames[0], tuple(gt[0]))
    results = []
    for t, frame in enumerate(frames[1:], start=1):
        if t == 25:
            assert tracker.target.mode is TrackState.LOST
            tracker.target.lost_frames = 10**5
        results.append(tracker.update(frame))
    assert all(np.isfinite(r.box).all() for r in results)
    returned = [iou(np.array([r.box]), gt[t:t + 1])[0] for t, r in enumerate(results, start=1) if visible[t]]
    assert max(returned[-20:]) > 0.5 and results[-1].state is TrackState.TRACKING


@pytest.mark.parametrize("lost_frames", [1, 10, 1_766, 10**5, 10**9])
@pytest.mark.parametrize("growth", [1.0, 1.5, 4.0])
def test_redetection_work_per_frame_is_bounded(lost_frames, growth):
    """Issues 26.4 and 26.5: at most ``tiles`` centres per frame, a grid of at most
    MAX_GRID_CENTRES whatever the target size, no overflow however long the target is lost, and
    the sweep covers the whole frame."""
    geometry = ResponseGeometry(template_size=127, search_size=255, stride=16, size=13, kernel_offset=2)
    cache: dict = {}
    for box in ([960.0, 540.0, 3.0, 3.0], [20.0, 20.0, 2.0, 4.0], [500.0, 300.0, 200.0, 150.0]):
        confident = np.array(box)
        centres = redetection_centres(confident, lost_frames, 1920, 1080, geometry, 0.5, 9, growth, cache)
        assert 1 <= len(centres) <= 9
        assert len(cache["grid"]) <= MAX_GRID_CENTRES
        assert all(np.isfinite(c).all() for c in centres)
    if growth > 1.0 and lost_frames >= 1_766:
        # a tiny target: the grid, swept 9 crops a frame, reaches the far corner of the frame
        tiny: dict = {}
        redetection_centres(np.array([960.0, 540.0, 3.0, 3.0]), lost_frames, 1920, 1080, geometry, 0.5, 9, growth,
                            tiny)
        points = tiny["grid"]
        assert points[:, 0].min() < 100 and points[:, 0].max() > 1820
        assert points[:, 1].min() < 100 and points[:, 1].max() > 980


def test_multitracker_handle_reinit_restarts_the_target_in_place(clip):
    """Issue 26.14: ``init`` on a handle from ``MultiTracker.tracker(id)`` re-initialises that
    target inside the MultiTracker (it used to start a detached copy)."""
    frames, gt = clip
    multi = dcffnet.MultiTracker(threads=1)
    first = multi.add(frames[0], tuple(gt[0]))
    other = multi.add(frames[0], (10.0, 10.0, 50.0, 50.0))
    for frame in frames[1:5]:
        multi.update(frame)
    handle = multi.tracker(first)
    handle.init(frames[5], tuple(gt[5]))
    assert multi.target(first) is handle.target
    np.testing.assert_allclose(multi.tracker(first).box, gt[5])
    single = dcffnet.Tracker(threads=1)
    single.init(frames[5], tuple(gt[5]))
    for frame in frames[6:12]:
        results = multi.update(frame)
        expected = single.update(frame)
        np.testing.assert_allclose(results[first].box, expected.box, atol=0.05)  # batched pass: float rounding
        assert results[first].box == handle.box
    assert set(multi.targets) == {first, other}


def test_a_component_class_without_enabled_is_refused(monkeypatch):
    class Forgetful(TrackingComponent):
        name = "forgetful"

    monkeypatch.setattr(components_module, "COMPONENTS", [MotionPrior, Forgetful])
    with pytest.raises(TypeError, match="Forgetful must define enabled"):
        components_module.build_components(dcffnet.TrackerHParams())
