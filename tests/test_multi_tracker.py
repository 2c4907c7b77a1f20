"""MultiTracker: one batched network pass per frame gives each target what a separate Tracker gives."""

from __future__ import annotations

import copy
import dataclasses

import numpy as np
import pytest
import torch

import dcffnet
from dcffnet.tracking import TrackState
from synthetic_clip import iou, leave_and_return_clip, several_objects_clip

RESPONSIVE = {"lost_threshold": 0.5, "lost_after": 3, "found_threshold": 0.8}


@pytest.fixture(scope="module")
def model():
    return dcffnet.DCFFNet.from_pretrained("default")


@pytest.fixture(scope="module")
def clip():
    return several_objects_clip(objects=4, frames=40)


def test_batched_pass_equals_separate_passes(model, clip):
    """Open loop: the same states in, the same boxes out (float rounding of batched convolutions only)."""
    frames, gt = clip
    multi = dcffnet.MultiTracker(model=model)
    ids = [multi.add(frames[0], tuple(gt[k, 0])) for k in range(len(gt))]
    for frame in frames[1:10]:
        states = {i: copy.deepcopy(multi.target(i)) for i in ids}
        results = multi.update(frame)
        for i in ids:
            single = dcffnet.Tracker(model=model)
            single.init(frames[0], tuple(gt[ids.index(i), 0]))
            single.target.take_position(states[i])  # the state the batched pass started from
            expected = single.update(frame)
            assert np.abs(np.array(results[i].box) - np.array(expected.box)).max() < 1e-3
            assert abs(results[i].score - expected.score) < 1e-4


def test_results_equal_separate_trackers_over_a_clip(model, clip):
    frames, gt = clip
    multi = dcffnet.MultiTracker(model=model)
    separate = {}
    for k in range(len(gt)):
        target = multi.add(frames[0], tuple(gt[k, 0]), target_id=f"obj{k}")
        separate[target] = dcffnet.Tracker(model=model)
        separate[target].init(frames[0], tuple(gt[k, 0]))
    worst = 0.0
    for t, frame in enumerate(frames[1:], 1):
        results = multi.update(frame)
        assert list(results) == ["obj0", "obj1", "obj2", "obj3"]
        for target, tracker in separate.items():
            expected = tracker.update(frame)
            got = results[target]
            worst = max(worst, float(np.abs(np.array(got.box) - np.array(expected.box)).max()))
            assert got.state == expected.state
    assert worst < 0.5, f"boxes differ by up to {worst:.3f} px"
    # and the tracking is real: every target followed
    for k, target in enumerate(separate):
        assert iou(np.array(results[target].box)[None], gt[k, -1][None])[0] > 0.6


def test_targets_added_and_removed_mid_video(model, clip):
    frames, gt = clip
    multi = dcffnet.MultiTracker(model=model)
    a = multi.add(frames[0], tuple(gt[0, 0]))
    late = dcffnet.Tracker(model=model)
    for t, frame in enumerate(frames[1:20], 1):
        if t == 5:
            b = multi.add(frame, tuple(gt[1, 5]))
            late.init(frame, tuple(gt[1, 5]))
            assert multi.targets == (a, b)
            continue  # add() is that target's init on this frame
        results = multi.update(frame)
        if t > 5:
            expected = late.update(frame)
            assert np.abs(np.array(results[b].box) - np.array(expected.box)).max() < 0.5
        if t == 12:
            multi.remove(a)
            assert a not in multi and len(multi) == 1
    assert list(multi.update(frames[20])) == [b]


def test_ids_and_errors(model, clip):
    frames, gt = clip
    multi = dcffnet.MultiTracker(model=model)
    assert multi.update(frames[0]) == {}
    first = multi.add(frames[0], tuple(gt[0, 0]))
    second = multi.add(frames[0], tuple(gt[1, 0]))
    assert (first, second) == (0, 1)
    multi.add(frames[0], tuple(gt[2, 0]), target_id="car")
    with pytest.raises(ValueError, match="target_id 'car' is already tracked"):
        multi.add(frames[0], tuple(gt[2, 0]), target_id="car")
    with pytest.raises(TypeError, match="target_id must be hashable"):
        multi.add(frames[0], tuple(gt[2, 0]), target_id=["list"])
    with pytest.raises(KeyError, match="no target with id 'bus'"):
        multi.remove("bus")
    with pytest.raises(ValueError, match="box"):
        multi.add(frames[0], (10, 10, -5, 5))
    assert len(multi) == 3  # a refused add leaves no half-added target
    assert isinstance(multi.tracker(first).box, tuple)


def test_lost_target_redetects_on_its_own(model):
    """A target that leaves goes lost and is re-acquired while another keeps tracking in the batch."""
    frames, gt, visible = leave_and_return_clip(frames=90, absent=(35, 55))
    hparams = dataclasses.replace(dcffnet.Tracker(model=model).hparams, **RESPONSIVE)
    multi = dcffnet.MultiTracker(model=model, hparams=hparams)
    separate = dcffnet.Tracker(model=model, hparams=hparams)
    target = multi.add(frames[0], tuple(gt[0]))
    static = multi.add(frames[0], (20.0, 20.0, 60.0, 60.0))  # a patch of background, always visible
    separate.init(frames[0], tuple(gt[0]))
    states = []
    for frame in frames[1:]:
        results = multi.update(frame)
        expected = separate.update(frame)
        assert results[target].state == expected.state
        states.append(results[target].state)
        assert np.isfinite(results[static].box).all()
    assert TrackState.LOST in states[35:55]
    assert states[-1] is not TrackState.LOST


def test_passes_of_batch_size_give_the_same_results(model, clip):
    frames, gt = clip
    one_pass = dcffnet.MultiTracker(model=model)
    chunked = dcffnet.MultiTracker(model=model, batch_size=3)  # 4 targets: passes of 3 and 1
    for k in range(len(gt)):
        one_pass.add(frames[0], tuple(gt[k, 0]))
        chunked.add(frames[0], tuple(gt[k, 0]))
    for frame in frames[1:15]:
        a, b = one_pass.update(frame), chunked.update(frame)
        for i in a:
            assert np.abs(np.array(a[i].box) - np.array(b[i].box)).max() < 0.5
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        dcffnet.MultiTracker(model=model, batch_size=0)
