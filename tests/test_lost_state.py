"""The lost state and re-detection of the bundled tracker on generated clips (no files needed)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import dcffnet
from dcffnet.tracking import TrackState
from synthetic_clip import iou, leave_and_return_clip, moving_object_clip


# The responsive profile of docs/api.md: declares the target lost 3 frames after the score falls
# below 0.5 (the bundled defaults, chosen on validation AUC, wait 15 frames below 0.15).
RESPONSIVE = {"lost_threshold": 0.5, "lost_after": 3, "found_threshold": 0.8,
              "report_lost_below": 0.0}  # the box-holding lost state alone (no LostReport)


@pytest.fixture(scope="module")
def tracker():
    t = dcffnet.Tracker()
    if t.calibration is None:
        pytest.skip("the bundled checkpoint carries no score calibration")
    t.hparams = dataclasses.replace(t.hparams, **RESPONSIVE)
    return t


def test_target_leaves_and_comes_back_elsewhere(tracker):
    frames, gt, visible = leave_and_return_clip(frames=90, absent=(35, 55))
    results = list(tracker.track(frames, gt[0]))
    lost = np.array([r.lost for r in results])
    boxes = np.array([r.box for r in results])
    # lost within a few frames of the disappearance, and it stays lost while the target is away
    first_lost = int(np.argmax(lost[35:])) + 35
    assert lost[35:].any() and first_lost <= 35 + 5, f"lost only from frame {first_lost}"
    assert lost[first_lost:55].all()
    # while absent, the box is held where the target was last seen: not glued to the background
    held = boxes[first_lost:55]
    assert np.ptp(held, axis=0).max() < 1e-6
    assert iou(held[:1], gt[34:35])[0] > 0.3
    # back on the target within a few frames of its return, far from where it left
    back = iou(boxes[55:], gt[55:])
    assert (back > 0.5).any()
    recovered = int(np.argmax(back > 0.5)) + 55
    assert recovered <= 55 + 8, f"re-acquired only at frame {recovered}"
    assert (back[recovered - 55:] > 0.5).mean() > 0.9
    assert [r.state for r in results[recovered:]].count(TrackState.LOST) == 0


def test_no_false_lost_when_nothing_leaves(tracker):
    frames, gt = moving_object_clip(frames=60)
    results = list(tracker.track(frames, gt[0]))
    assert not any(r.lost for r in results)
    assert np.mean([r.score for r in results[1:]]) > 0.8
    assert all(0.0 <= r.score <= 1.0 for r in results)


def test_redetection_off_keeps_the_box_held(tracker):
    frames, gt, _ = leave_and_return_clip(frames=70, absent=(35, 55))
    t = dcffnet.Tracker(hparams=dataclasses.replace(tracker.hparams, redetect_tiles=0))
    results = list(t.track(frames, gt[0]))
    lost_boxes = np.array([r.box for r in results if r.lost])
    assert len(lost_boxes) > 10 and np.ptp(lost_boxes, axis=0).max() < 1e-6


def test_default_values_declare_the_target_lost_later():
    frames, gt, _ = leave_and_return_clip(frames=90, absent=(35, 75))
    t = dcffnet.Tracker("fast")  # 0.4.0's default: the stored lost-state values (the default's is off)
    assert (t.hparams.lost_threshold, t.hparams.lost_after) == (0.15, 15)
    results = list(t.track(frames, gt[0]))
    assert not any(r.lost for r in results[:35 + 15])  # never before lost_after frames of absence
