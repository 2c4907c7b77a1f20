"""dcffnet.integrations.supervision: sv.Detections in, sv.Detections out, on frames of the bundled clip.

The three pedestrians of frame 0 of examples/assets/vtest_150.mp4 stand in for a detector.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

sv = pytest.importorskip("supervision")

import dcffnet  # noqa: E402
from dcffnet.integrations.matching import greedy_match, iou_matrix  # noqa: E402
from dcffnet.integrations.supervision import NO_CLASS, SupervisionTracker, xywh_to_xyxy, xyxy_to_xywh  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CLIP = ROOT / "examples" / "assets" / "vtest_150.mp4"
PEOPLE = np.array([[252.0, 219.0, 283.0, 309.0], [499.0, 156.0, 531.0, 234.0], [639.0, 239.0, 685.0, 322.0]])
#: the third walker goes lost within 3 covered frames and is never re-found on its own
RESPONSIVE = {"lost_threshold": 0.5, "lost_after": 3, "found_threshold": 1.0}
GRASS = [100.0, 450.0, 140.0, 530.0]  # a patch of lawn, xyxy: no walker there
FRAMES = 16


def people(class_id=(0, 0, 0), names=True) -> "sv.Detections":
    data = {"class_name": np.array(["person"] * 3)} if names else {}
    return sv.Detections(xyxy=PEOPLE.copy(), class_id=None if class_id is None else np.array(class_id), data=data)


@pytest.fixture(scope="module")
def frames():
    return list(sv.get_video_frames_generator(str(CLIP), end=FRAMES))


@pytest.fixture(scope="module")
def multi():
    """One loaded network for every tracker of this file (ONNX Runtime, one thread: quick on a busy CPU)."""
    return dcffnet.MultiTracker(backend="onnx", threads=1)


@pytest.fixture(scope="module")
def make(multi):
    """``make(hparams=None, **kwargs)``: a SupervisionTracker over the shared network, emptied, with
    the checkpoint's tracking values and ``hparams`` overrides."""
    base = multi.pipeline.hparams

    def build(hparams: dict | None = None, **kwargs) -> SupervisionTracker:
        multi.pipeline.hparams = dataclasses.replace(base, **(hparams or {}))
        for target in list(multi.targets):
            multi.remove(target)
        return SupervisionTracker(tracker=multi, **kwargs)

    return build


@pytest.fixture(scope="module")
def clean_run(frames, make):
    """The three walkers tracked over the clean frames: each frame's sv.Detections."""
    tracker = make()
    outputs = [tracker.start(frames[0], people())]
    outputs += [tracker.update(frame) for frame in frames[1:]]
    return outputs


def test_round_trip_fields(clean_run):
    first = clean_run[0]
    np.testing.assert_array_equal(first.xyxy, PEOPLE)
    np.testing.assert_array_equal(first.confidence, [1.0, 1.0, 1.0])
    for tracked in clean_run:
        assert isinstance(tracked, sv.Detections) and len(tracked) == 3
        assert tracked.tracker_id.tolist() == [1, 2, 3]
        assert tracked.class_id.tolist() == [0, 0, 0]
        assert tracked.data["class_name"].tolist() == ["person"] * 3
        assert tracked.data["lost"].dtype == bool and not tracked.data["lost"].any()
        assert set(tracked.data["state"].tolist()) <= {"tracking", "uncertain"}
        assert np.all((tracked.confidence >= 0) & (tracked.confidence <= 1))
        assert np.all(tracked.xyxy[:, 2:] > tracked.xyxy[:, :2])
    # the walkers move: the third one goes left by more than its width in 15 frames
    assert clean_run[-1].xyxy[2, 0] < PEOPLE[2, 0] - 60


def test_annotators_and_line_zone_take_the_detections_unchanged(frames, clean_run):
    line = sv.LineZone(start=sv.Point(560, 100), end=sv.Point(560, 420))
    crossed = []
    for frame, tracked in zip(frames, clean_run):
        scene = sv.BoxAnnotator().annotate(frame.copy(), tracked)
        scene = sv.LabelAnnotator().annotate(scene, tracked)
        assert scene.shape == frame.shape and not np.array_equal(scene, frame)
        crossed_in, crossed_out = line.trigger(tracked)
        crossed += tracked.tracker_id[crossed_in | crossed_out].tolist()
    assert crossed == [3]  # only the third walker crosses x = 560 (going left)
    assert line.in_count + line.out_count == 1


def test_class_filter_and_detections_without_classes(frames, make):
    tracker = make()
    started = tracker.start(frames[0], people(class_id=(0, 2, 0)), classes=[0])
    assert started.tracker_id.tolist() == [1, 2] and started.class_id.tolist() == [0, 0]
    np.testing.assert_array_equal(started.xyxy, PEOPLE[[0, 2]])
    with pytest.raises(ValueError, match="no detection has a class_id in"):
        tracker.start(frames[0], people(class_id=(0, 2, 0)), classes=[7])
    with pytest.raises(ValueError, match="no class_id"):
        tracker.start(frames[0], people(class_id=None), classes=[0])
    more = tracker.start(frames[0], people(class_id=None, names=False)[:1])
    assert more.tracker_id.tolist() == [3] and more.class_id.tolist() == [NO_CLASS]
    assert more.data["class_name"].tolist() == [""]  # another target has a name: the field stays
    # a detection of another class does not match a tracked target, even on top of it
    tracked = tracker.reassociate(frames[0], people(class_id=(5, 5, 5))[2:], add_new=True)
    assert tracker.added == (4,) and tracked.class_id.tolist() == [0, 0, NO_CLASS, 5]


def test_reassociate_reseeds_lost_target_by_appearance_and_adds_new(frames, clean_run, make):
    tracker = make(hparams=RESPONSIVE)
    tracker.start(frames[0], people())
    states = []
    for k in range(1, FRAMES):
        frame = frames[k].copy()
        if k <= 8:
            frame[200:380, 560:720] = 128  # the third walker walks behind a grey board
        states.append(tracker.update(frame).data["state"][2])
    assert "lost" in states[:8] and states[-1] == "lost"
    last = frames[FRAMES - 1]
    tracker.include_lost = False
    before = tracker.update(last)
    assert before.tracker_id.tolist() == [1, 2]  # lost: left out
    tracker.include_lost = True
    held = tracker.last_result(3).box
    truth = clean_run[-1].xyxy[2]
    assert iou_matrix(np.array([xywh_to_xyxy(held)]), truth[None])[0, 0] == 0  # moved away from the held box
    detections = sv.Detections(xyxy=np.vstack([clean_run[-1].xyxy, [GRASS]]), class_id=np.zeros(4, dtype=int))
    tracked = tracker.reassociate(last, detections, iou_threshold=0.3, min_score=0.5)
    assert tracker.reseeded == (3,) and tracker.added == (4,)
    assert tracked.tracker_id.tolist() == [1, 2, 3, 4]
    np.testing.assert_allclose(tracked.xyxy[2], truth)
    np.testing.assert_allclose(tracked.xyxy[3], GRASS)
    assert tracked.data["lost"].tolist() == [False] * 4 and tracked.confidence[2] == 1.0
    # the walkers 1 and 2 keep their detections (not added again) and their tracked boxes
    np.testing.assert_array_equal(tracked.xyxy[:2], before.xyxy[:2])
    np.testing.assert_array_equal(tracked.confidence[:2], before.confidence)
    tracker.remove(4)
    again = tracker.reassociate(last, sv.Detections(xyxy=np.array([GRASS]), class_id=np.array([0])))
    assert tracker.added == (5,) and again.tracker_id.tolist() == [1, 2, 3, 5]  # 4 is never reused
    tracker.reset()
    assert len(tracker) == 0 and tracker.start(last, people()).tracker_id.tolist() == [6, 7, 8]


def test_reassociate_reseeds_lost_target_by_overlap(frames, make):
    tracker = make(hparams={**RESPONSIVE, "lost_after": 1})
    tracker.start(frames[0], people())
    covered = frames[1].copy()
    covered[200:380, 560:720] = 128
    assert tracker.update(covered).data["lost"].tolist() == [False, False, True]
    near = sv.Detections(xyxy=np.array([[634.0, 240.0, 680.0, 324.0]]))  # the walker one frame on
    tracker.reassociate(frames[2], near, iou_threshold=0.5, min_score=1.0)  # appearance cannot qualify
    assert tracker.reseeded == (3,) and tracker.added == ()
    assert tracker.update(frames[3]).data["state"][2] != "lost"


def test_reassociate_leaves_a_lost_target_alone_without_evidence(frames, make):
    tracker = make(hparams={**RESPONSIVE, "lost_after": 1})
    tracker.start(frames[0], people())
    covered = frames[1].copy()
    covered[200:380, 560:720] = 128
    tracker.update(covered)
    grass = sv.Detections(xyxy=np.array([GRASS]))
    tracked = tracker.reassociate(frames[2], grass, add_new=False)
    assert tracker.reseeded == () and tracker.added == () and tracked.data["lost"].tolist() == [False, False, True]
    assert tracker.reassociate(frames[2], sv.Detections.empty()).tracker_id.tolist() == [1, 2, 3]


def test_bad_input(frames, multi, make):
    tracker = make()
    frame = frames[0]
    with pytest.raises(TypeError, match="detections must be a supervision.Detections"):
        tracker.start(frame, PEOPLE)
    with pytest.raises(ValueError, match="detections is empty"):
        tracker.start(frame, sv.Detections.empty())
    with pytest.raises(ValueError, match="lies entirely outside"):
        tracker.start(frame[:100, :100], people())  # a frame of another size than the detections'
    with pytest.raises(ValueError, match="shape"):
        tracker.start(np.zeros((576, 768, 5), np.uint8), people())
    with pytest.raises(TypeError, match="frame"):
        tracker.start(frame.astype(np.float32), people())
    bad = people()
    bad.xyxy[1] = [300.0, 200.0, 290.0, 260.0]
    with pytest.raises(ValueError, match=r"detections.xyxy\[1\].*x2 > x1"):
        tracker.start(frame, bad)
    bad.xyxy[1] = [np.nan, 200.0, 290.0, 260.0]
    with pytest.raises(ValueError, match=r"detections.xyxy\[1\] must be finite"):
        tracker.start(frame, bad)
    with pytest.raises(ValueError, match=r"detections.class_id\[2\] must be an integer"):
        tracker.start(frame, people(class_id=(0, 1, np.nan)))
    assert len(tracker) == 0  # a refused start adds nothing
    with pytest.raises(TypeError, match="classes"):
        tracker.start(frame, people(), classes=["person"])
    with pytest.raises(ValueError, match="classes is empty"):
        tracker.start(frame, people(), classes=[])
    tracker.start(frame, people())
    with pytest.raises(ValueError, match="iou_threshold"):
        tracker.reassociate(frame, people(), iou_threshold=0)
    with pytest.raises(ValueError, match="min_score"):
        tracker.reassociate(frame, people(), min_score=1.5)
    with pytest.raises(KeyError, match="no target with tracker_id 9"):
        tracker.remove(9)
    with pytest.raises(TypeError, match="include_lost"):
        SupervisionTracker(tracker=multi, include_lost="yes")
    with pytest.raises(TypeError, match="either tracker= or"):
        SupervisionTracker("default", tracker=multi)
    with pytest.raises(ValueError, match="must have no targets"):
        SupervisionTracker(tracker=multi)
    multi.remove(1)  # behind the SupervisionTracker's back
    with pytest.raises(RuntimeError, match="through the SupervisionTracker"):
        tracker.update(frame)


def test_appearance_scores_of_the_multi_tracker(frames, multi, make):
    """The public score of candidate boxes: high on the target, 0.0 off it; the target is unchanged."""
    tracker = make()
    tracker.start(frames[0], people())
    for frame in frames[1:FRAMES]:
        tracker.update(frame)
    own = xyxy_to_xywh(tracker.update(frames[FRAMES - 1]).xyxy[2])
    before = multi.target(3).xywh
    x, y, w, h = own
    scores = multi.appearance_scores(frames[FRAMES - 1], [own, (x + 60, y, w, h), xyxy_to_xywh(GRASS)], 3)
    assert scores.shape == (3,) and scores[0] > 0.5 and scores[1] == 0.0 and scores[2] == 0.0
    assert multi.target(3).xywh == before
    assert multi.appearance_scores(frames[0], [], 3).shape == (0,)
    with pytest.raises(ValueError, match=r"pass \[box\]"):
        multi.appearance_scores(frames[0], own, 3)
    with pytest.raises(ValueError, match=r"boxes\[0\]"):
        multi.appearance_scores(frames[0], [(0, 0, -1, 5)], 3)
    with pytest.raises(KeyError):
        multi.appearance_scores(frames[0], [own], 99)


def test_matching_helpers():
    a = np.array([[0, 0, 10, 10], [20, 20, 30, 30]], float)
    b = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [100, 100, 110, 110]], float)
    np.testing.assert_allclose(iou_matrix(a, b), [[1.0, 1 / 3, 0.0], [0.0, 0.0, 0.0]])
    values = np.array([[0.9, 0.8], [0.85, 0.1]])
    assert greedy_match(values, values > 0.5) == [(0, 0)]
    assert greedy_match(values, np.ones((2, 2), bool)) == [(0, 0), (1, 1)]
    with pytest.raises(ValueError, match="one shape"):
        greedy_match(values, np.ones((3, 2), bool))


def test_importing_dcffnet_never_imports_supervision_and_a_missing_one_says_how_to_install():
    child = (
        "import json, sys\n"
        "import dcffnet, dcffnet.integrations.supervision as integration\n"
        "out = {'imported': 'supervision' in sys.modules}\n"
        "sys.modules['supervision'] = None\n"
        "try:\n"
        "    integration.SupervisionTracker()\n"
        "except ImportError as exc:\n"
        "    out['error'] = str(exc)\n"
        "print(json.dumps(out))\n"
    )
    done = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["imported"] is False
    assert 'pip install "dcffnet[supervision]"' in out["error"]


def test_example_script_runs(tmp_path):
    output = tmp_path / "tracked.mp4"
    command = [sys.executable, "examples/track_detections.py", "--max-frames", "6", "--output", str(output)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert "tracked 3 targets over 6 frames" in done.stdout
    assert output.stat().st_size > 0
    assert len(list(sv.get_video_frames_generator(str(output)))) == 6
