"""The DistractorMemory component: last frame's other strong peaks are down-weighted."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import dcffnet
from dcffnet.geometry import ResponseGeometry, SearchRegion
from dcffnet.hparams import TrackerHParams
from dcffnet.tracking.components import DISTRACTOR_SIGMA, MAX_DISTRACTORS, DistractorMemory
from dcffnet.tracking.decode import Decoded
from dcffnet.tracking.result import TrackResult
from dcffnet.tracking.target import TargetState
from synthetic_clip import moving_object_clip

GEOMETRY = ResponseGeometry(template_size=127, search_size=255, stride=16, size=15, kernel_offset=3)  # dcffnet_v3


def _target(cx=200.0, cy=150.0, w=20.0, h=20.0) -> TargetState:
    box = np.array([cx, cy, w, h])
    return TargetState(box=box, confident=box.copy(), template=None, pad_value=(0.0, 0.0, 0.0))


def _frame(component: DistractorMemory, target: TargetState, score_map: np.ndarray) -> SearchRegion:
    region = SearchRegion.around(target.box, 0.5, 127, 255)
    component.response_weights(target, region, GEOMETRY)
    decoded = Decoded(np.zeros(4), 0.9, 0.0, {}, score_map)
    component.observe(target, np.zeros((4, 4, 3), np.uint8), decoded, TrackResult((0.0, 0.0, 1.0, 1.0), 0.9))
    return region


def _cell(region: SearchRegion, i: int, j: int) -> tuple[float, float]:
    offsets = GEOMETRY.cell_offsets() / region.scale
    return region.cx + offsets[j], region.cy + offsets[i]


def test_off_by_default_and_values_checked():
    assert not DistractorMemory.enabled(TrackerHParams())
    assert DistractorMemory.enabled(TrackerHParams(distractor_weight=0.4))
    with pytest.raises(ValueError, match="distractor_weight"):
        TrackerHParams(distractor_weight=1.2)


def test_remembers_strong_peaks_away_from_the_target_and_from_each_other():
    component = DistractorMemory(TrackerHParams(distractor_weight=0.5, distractor_above=0.5))
    target = _target()
    component.init(target, np.zeros((4, 4, 3), np.uint8))
    score = np.full((15, 15), 0.1)
    score[7, 7] = 0.95   # the target itself (the crop centre)
    score[7, 12] = 0.8   # a look-alike 5 cells to the right
    score[7, 11] = 0.7   # the same look-alike's shoulder: too close to it to count again
    score[2, 2] = 0.6    # another one
    score[12, 2] = 0.4   # too weak
    region = _frame(component, target, score)
    found = target.memory["distractor_memory"]["distractors"]
    assert found == [_cell(region, 7, 12), _cell(region, 2, 2)]
    assert len(found) <= MAX_DISTRACTORS


def test_next_frame_down_weights_the_remembered_places_only():
    component = DistractorMemory(TrackerHParams(distractor_weight=0.6, distractor_above=0.5))
    target = _target()
    component.init(target, np.zeros((4, 4, 3), np.uint8))
    score = np.full((15, 15), 0.1)
    score[7, 7], score[7, 12] = 0.95, 0.8
    region = _frame(component, target, score)
    weights = component.response_weights(target, region, GEOMETRY)
    assert weights.shape == (15, 15)
    assert weights[7, 12] == pytest.approx(0.4)  # 1 - distractor_weight on the distractor itself
    x, y = _cell(region, 7, 12)
    size = np.sqrt(target.box[2] * target.box[3])
    offsets = GEOMETRY.cell_offsets() / region.scale
    for j in (7, 9, 11):
        d2 = (region.cx + offsets[j] - x) ** 2
        assert weights[7, j] == pytest.approx(1 - 0.6 * np.exp(-d2 / (2 * (DISTRACTOR_SIGMA * size) ** 2)))
    assert weights[7, 7] > 0.97 and weights[0, 0] > 0.999  # far from the look-alike: (nearly) untouched


def test_a_held_frame_forgets_the_distractors():
    component = DistractorMemory(TrackerHParams(distractor_weight=0.6, distractor_above=0.5))
    target = _target()
    component.init(target, np.zeros((4, 4, 3), np.uint8))
    score = np.full((15, 15), 0.1)
    score[7, 7], score[7, 12] = 0.95, 0.8
    _frame(component, target, score)
    assert target.memory["distractor_memory"]["distractors"]
    held = Decoded(np.zeros(4), 0.2, 0.0, {})  # re-detection keeps no score map
    component.observe(target, np.zeros((4, 4, 3), np.uint8), held, TrackResult((0.0, 0.0, 1.0, 1.0), 0.2))
    assert target.memory["distractor_memory"]["distractors"] == []


def test_without_other_peaks_every_box_is_unchanged():
    frames, gt = moving_object_clip(frames=20, size=(320, 240), seed=3)
    base = dcffnet.Tracker(threads=1)
    off = list(base.track(frames, tuple(gt[0])))
    on = dcffnet.Tracker(threads=1)
    on.hparams = dataclasses.replace(on.hparams, distractor_weight=0.9, distractor_above=0.999)
    assert [r.box for r in on.track(frames, tuple(gt[0]))] == [r.box for r in off]
