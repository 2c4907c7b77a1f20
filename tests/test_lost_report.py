"""The LostReport component: reports ``lost`` on a sustained low score and never moves a box."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import dcffnet
from dcffnet.hparams import TrackerHParams
from dcffnet.tracking import TrackState
from dcffnet.tracking.components import LostReport
from dcffnet.tracking.result import TrackResult
from dcffnet.tracking.target import TargetState
from synthetic_clip import leave_and_return_clip, moving_object_clip

REPORT = {"report_lost_below": 0.5, "report_lost_after": 3, "report_found_above": 0.5}


def _target() -> TargetState:
    box = np.array([50.0, 50.0, 20.0, 20.0])
    return TargetState(box=box, confident=box.copy(), template=None, pad_value=(0.0, 0.0, 0.0))


def _states(component: LostReport, scores: list[float]) -> list[str]:
    target = _target()
    component.init(target, np.zeros((4, 4, 3), np.uint8))
    return [component.report(target, TrackResult((0.0, 0.0, 1.0, 1.0), s)).state.value for s in scores]


def test_reported_after_the_set_number_of_low_frames_and_found_on_the_first_high_one():
    component = LostReport(TrackerHParams(report_lost_below=0.4, report_lost_after=3, report_found_above=0.7))
    states = _states(component, [0.9, 0.3, 0.3, 0.3, 0.3, 0.5, 0.69, 0.7, 0.3, 0.5, 0.3])
    assert states == ["tracking", "tracking", "tracking", "lost", "lost", "lost", "lost", "tracking",
                      "tracking", "tracking", "tracking"]


def test_a_high_frame_restarts_the_count():
    component = LostReport(TrackerHParams(report_lost_below=0.4, report_lost_after=2, report_found_above=0.4))
    assert _states(component, [0.1, 0.5, 0.1, 0.5, 0.1, 0.1]) == ["tracking"] * 5 + ["lost"]


def test_a_held_lost_result_stays_lost_and_keeps_its_box():
    component = LostReport(TrackerHParams(report_lost_below=0.4))
    target = _target()
    held = TrackResult((1.0, 2.0, 3.0, 4.0), 0.9, TrackState.LOST)
    assert component.report(target, held) is held
    # re-acquired by re-detection with a score above report_found_above: found again
    assert component.report(target, TrackResult((1.0, 2.0, 3.0, 4.0), 0.9)).state is TrackState.TRACKING


def test_values_are_checked():
    with pytest.raises(ValueError, match="report_lost_below"):
        TrackerHParams(report_lost_below=0.6, report_found_above=0.5)
    with pytest.raises(ValueError, match="report_lost_after"):
        TrackerHParams(report_lost_after=0)
    assert not LostReport.enabled(TrackerHParams())
    assert LostReport.enabled(TrackerHParams(report_lost_below=0.1))


@pytest.fixture(scope="module")
def calibrated():
    t = dcffnet.Tracker()
    if t.calibration is None:
        pytest.skip("the bundled checkpoint carries no score calibration")
    return t


def test_reports_a_disappearance_without_changing_a_single_box(calibrated):
    frames, gt, _ = leave_and_return_clip(frames=80, absent=(35, 55))
    off = dataclasses.replace(calibrated.hparams, lost_threshold=0.0, report_lost_below=0.0)
    on = dataclasses.replace(off, **REPORT)
    plain = dcffnet.Tracker(hparams=off)
    reporting = dcffnet.Tracker(hparams=on)
    a = list(plain.track(frames, gt[0]))
    b = list(reporting.track(frames, gt[0]))
    assert [r.box for r in a] == [r.box for r in b]
    assert [r.score for r in a] == [r.score for r in b]
    assert not any(r.lost for r in a)
    lost = np.array([r.lost for r in b])
    assert lost[35:35 + 5].any(), "not reported lost within 5 frames of the disappearance"
    assert not lost[:35].any()
    assert reporting.state is b[-1].state


def test_no_report_when_nothing_leaves(calibrated):
    frames, gt = moving_object_clip(frames=60)
    hp = dataclasses.replace(calibrated.hparams, **REPORT)
    assert not any(r.lost for r in dcffnet.Tracker(hparams=hp).track(frames, gt[0]))
