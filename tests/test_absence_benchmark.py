"""The pure parts of benchmarks/absence.py (window, cover, measures) on generated arrays; no data files."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from dcffnet.tracking import TrackState

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "absence.py"


@pytest.fixture(scope="module")
def absence():
    spec = importlib.util.spec_from_file_location("absence_benchmark", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---- window


def test_window_starts_at_a_third_or_frame_20(absence):
    assert absence.choose_window(np.ones(300, bool)) == (100, "")
    assert absence.choose_window(np.ones(90, bool))[0] == 30  # 90 // 3
    assert absence.choose_window(np.ones(70, bool))[0] == 23  # 70 // 3
    assert absence.choose_window(np.ones(57, bool))[0] is None  # 20 + 30 + 15 > 57


def test_window_skips_absent_frames_and_needs_15_visible_after(absence):
    visible = np.ones(300, bool)
    visible[110] = False
    assert absence.choose_window(visible)[0] == 111
    visible = np.ones(200, bool)  # first candidate 66; 66..95 visible; after: 96..199 minus absences
    visible[100:190] = False      # only 10 + 4 = 14 visible after any window ending at or after 95
    start, reason = absence.choose_window(visible)
    assert start is None and "15 frames" in reason


def test_window_shortest_fitting_sequence(absence):
    # n frames: the window starts at max(20, n // 3) and needs 30 + 15 frames from there
    assert absence.choose_window(np.ones(66, bool))[0] is None  # 22 + 45 = 67 > 66
    assert absence.choose_window(np.ones(67, bool))[0] == 22
    visible = np.ones(67, bool)
    visible[-1] = False  # 14 visible frames after the window
    assert absence.choose_window(visible)[0] is None


# ---- cover


def test_covered_rect_expands_rounds_outwards_and_clips(absence):
    assert absence.covered_rect((10, 20, 10, 20), 100, 100) == (9, 18, 21, 42)
    assert absence.covered_rect((10.5, 20.5, 10, 20), 100, 100) == (9, 18, 22, 43)
    assert absence.covered_rect((-5, 90, 20, 20), 100, 100) == (0, 88, 17, 100)


def test_background_offset_nearest_first_in_fixed_order(absence):
    # 10 wide, 20 high: horizontal offsets (15) are nearer than vertical ones (30); left first
    assert absence.background_offset((40, 40, 50, 60), 100, 100) == (-15, 0)
    # at the left edge, right is next
    assert absence.background_offset((0, 40, 10, 60), 100, 100) == (15, 0)
    # horizontally no room (frame 30 wide): up, then down
    assert absence.background_offset((10, 40, 20, 60), 30, 100) == (0, -30)
    assert absence.background_offset((10, 0, 20, 20), 30, 100) == (0, 30)
    # too big for any position: None
    assert absence.background_offset((10, 10, 90, 90), 100, 100) is None
    assert absence.background_offset((5, 5, 5, 9), 100, 100) is None  # empty


def test_cover_copies_background_and_leaves_the_rest(absence):
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 256, (100, 120, 3), dtype=np.uint8)
    covered, how = absence.cover_with_background(frame, (50, 40, 10, 20))
    x0, y0, x1, y1 = absence.covered_rect((50, 40, 10, 20), 120, 100)
    dx, dy = absence.background_offset((x0, y0, x1, y1), 120, 100)
    assert how == "patch" and (dx, dy) == (-18, 0)  # 1.5 x 12 px wide
    assert np.array_equal(covered[y0:y1, x0:x1], frame[y0 + dy:y1 + dy, x0 + dx:x1 + dx])
    outside = np.ones(frame.shape[:2], bool)
    outside[y0:y1, x0:x1] = False
    assert np.array_equal(covered[outside], frame[outside])
    assert covered is not frame and not np.array_equal(covered, frame)


def test_cover_falls_back_to_the_mean_colour(absence):
    frame = np.zeros((40, 40, 3), np.uint8)
    frame[:, :20] = (10, 20, 30)
    frame[:, 20:] = (30, 40, 51)
    covered, how = absence.cover_with_background(frame, (5, 5, 30, 30))
    assert how == "mean"
    assert (covered[3:38, 2:38] == np.array([20, 30, 40], np.uint8)).all()  # 40.5 rounds to even
    grey, how = absence.cover_with_background(np.full((40, 40), 7, np.uint8), (5, 5, 30, 30))
    assert how == "mean" and (grey == 7).all()
    _, how = absence.cover_with_background(frame, (100, 100, 5, 5))
    assert how == "none"


# ---- measures


def _run(n: int, lost_frames: range, on_target: np.ndarray) -> tuple[list, np.ndarray, np.ndarray]:
    gt = np.tile([[10.0, 10.0, 20.0, 20.0]], (n, 1))
    boxes = np.where(on_target[:, None], gt, gt + [40, 40, 0, 0])
    states = [TrackState.LOST if i in lost_frames else TrackState.TRACKING for i in range(n)]
    return states, boxes, gt


def test_measures_flagged_and_back(absence):
    n, s = 120, 40
    on = np.ones(n, bool)
    on[s:s + 33] = False  # off target until 2 frames after the return
    states, boxes, gt = _run(n, range(s + 3, s + 31), on)
    m = absence.absence_measures(states, boxes, absence.hide_window(gt, s), s)
    assert m["frames_to_lost"] == 3 and m["lost_within_5"]
    assert m["frames_to_recover"] == 3 and m["back_within_10"]  # frame s+30 lost, s+31/32 off target
    assert m["state_before"] == "tracking" and m["iou_before"] == pytest.approx(1.0)


def test_measures_late_and_never(absence):
    n, s = 120, 40
    on = np.ones(n, bool)
    on[s:] = False
    states, boxes, gt = _run(n, range(s + 5, n), on)
    m = absence.absence_measures([st.value for st in states], boxes, gt, s)  # plain strings work too
    assert m["frames_to_lost"] == 5 and not m["lost_within_5"]
    assert m["frames_to_recover"] is None and not m["back_within_10"]
    on[s + 40:] = True  # on target from frame s+40, but still lost: not back
    states, boxes, gt = _run(n, range(s + 5, s + 45), on)
    m = absence.absence_measures(states, boxes, gt, s)
    assert m["frames_to_recover"] == 15 and not m["back_within_10"]
    states, boxes, gt = _run(n, range(0), np.ones(n, bool))
    m = absence.absence_measures(states, boxes, gt, s)
    assert m["frames_to_lost"] is None and not m["lost_within_5"] and m["frames_to_recover"] == 0


def test_measures_need_a_valid_ground_truth_after_the_return(absence):
    n, s = 100, 30
    states, boxes, gt = _run(n, range(0), np.ones(n, bool))
    gt[s + 30:s + 35] = np.nan  # absent: IoU -1, not on target
    m = absence.absence_measures(states, boxes, gt, s)
    assert m["frames_to_recover"] == 5


def test_measures_reject_bad_input(absence):
    states, boxes, gt = _run(50, range(0), np.ones(50, bool))
    with pytest.raises(ValueError, match="one entry per frame"):
        absence.absence_measures(states[:-1], boxes, gt, 10)
    with pytest.raises(ValueError, match="does not fit"):
        absence.absence_measures(states, boxes, gt, 30)
    with pytest.raises(ValueError, match="does not fit"):
        absence.absence_measures(states, boxes, gt, 0)


def test_summary_and_table(absence):
    rows = [{"name": f"s{i}", "frames": 100, "start": 33, "frames_to_lost": 2 if i < 4 else None,
             "lost_within_5": i < 4, "frames_to_recover": 1 if i < 3 else None, "back_within_10": i < 3,
             "state_before": "tracking", "iou_before": 0.8, "mean_fill_frames": 0} for i in range(5)]
    summary = absence.summarize(rows)
    assert summary["lost_within_5_percent"] == 80.0 and summary["lost_within_5_met"]
    assert summary["back_within_10_percent"] == 60.0 and not summary["back_within_10_met"]
    text = absence.markdown_table(rows, [{"name": "short", "reason": "too short"}], summary)
    assert "| s0 | 100 | 33..62 | tracking, 0.80 | 2 | yes | 1 | yes |" in text
    assert "skipped short: too short" in text and "80.0 %" in text and "60.0 %" in text
    assert not absence.summarize([])["lost_within_5_met"]
    rows[0]["state_before"] = "lost"     # flagged and back, but lost before: left out of the on-target figures
    rows[4]["iou_before"] = 0.3          # neither: left out too
    summary = absence.summarize(rows)
    assert summary["on_target_before"] == 3
    assert summary["lost_within_5_on_target_percent"] == 100.0
    assert summary["back_within_10_on_target_percent"] == pytest.approx(200 / 3)
    assert "Of the 3 sequences on target" in absence.markdown_table(rows, [], summary)


def test_parse_overrides(absence):
    assert absence.parse_overrides(["lost_threshold=0.5", "lost_after=3"]) == {"lost_threshold": 0.5, "lost_after": 3}
    for bad, message in (("nope=1", "FIELD=VALUE"), ("lost_after", "FIELD=VALUE"), ("lr=abc", "not a number"),
                         ("lost_after=2.5", "integer")):
        with pytest.raises(ValueError, match=message):
            absence.parse_overrides([bad])
