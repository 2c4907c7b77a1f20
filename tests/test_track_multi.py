"""``dcffnet track`` with several targets and its output formats, on real frames: the pedestrians of
``examples/assets/vtest_150.mp4`` (768x576) with the bundled weights, a few frames per run."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from dcffnet.cli import main
from dcffnet.sources import SourceFrame
from dcffnet.video import PALETTE, FrameSource
from test_outputs import read_mot

ROOT = Path(__file__).resolve().parents[1]
CLIP = ROOT / "examples" / "assets" / "vtest_150.mp4"
WALKER = (639.0, 239.0, 46.0, 83.0)  # examples/assets/ATTRIBUTION.md
LEFT = (252.0, 220.0, 32.0, 88.0)  # the man on the lawn
TOP = (500.0, 157.0, 30.0, 76.0)  # the man on the path


def _arg(box):
    return ",".join(f"{v:g}" for v in box)


def _track(argv, capsys):
    code = main(["track", str(CLIP), "--no-progress", *argv])
    return code, capsys.readouterr().err


def _edge_colour(image, box):
    """The colour of a box's left edge (median over its middle part, 3 pixels wide)."""
    x, y, w, h = (int(round(v)) for v in box)
    edge = image[y + 10:y + h - 10, x - 1:x + 2].reshape(-1, 3).astype(float)
    colour = np.median(edge, axis=0)
    return int(np.argmin([np.abs(colour - np.array(c)).sum() for c in PALETTE]))


@pytest.fixture(scope="module")
def clip_frames():
    cap = cv2.VideoCapture(str(CLIP))
    frames = []
    while len(frames) < 10:
        ok, frame = cap.read()
        assert ok
        frames.append(frame)
    cap.release()
    return frames


def test_repeated_boxes_write_a_mot_file_and_a_video_with_a_colour_each(tmp_path, capsys):
    boxes, video = tmp_path / "tracks.csv", tmp_path / "tracks.avi"
    code, err = _track(["--box", _arg(WALKER), "--box", _arg(LEFT), "--max-frames", "8", "--boxes", str(boxes),
                        "--output", str(video), "--show-score"], capsys)
    assert code == 0, err
    assert re.search(r"Tracked 2 targets through 8 frames in .* FPS", err)
    rows = read_mot(boxes)
    assert len(rows) == 16 and sorted(set(rows[:, 0])) == list(range(1, 9))  # 1-based frames
    for frame in range(1, 9):
        assert sorted(rows[rows[:, 0] == frame][:, 1]) == [1, 2]  # ids in --box order
    np.testing.assert_allclose(rows[:2, 2:6], [WALKER, LEFT])
    assert (rows[:2, 6] == 1).all() and (rows[2:, 6] > 0.5).all()  # conf: calibrated, confident on people
    first = FrameSource(video)
    images = list(first)
    assert len(images) == 8
    assert _edge_colour(images[0], WALKER) == 0 and _edge_colour(images[0], LEFT) == 1


def test_one_box_writes_todays_txt_file(tmp_path, capsys, clip_frames):
    import dcffnet
    from dcffnet.tracking.loop import track_frames

    boxes = tmp_path / "boxes.txt"
    code, err = _track(["--box", _arg(WALKER), "--max-frames", "10", "--boxes", str(boxes)], capsys)
    assert code == 0, err
    assert re.search(r"^Tracked 10 frames in .* FPS overall, .* FPS tracker only \(device cpu\)$", err.strip())
    lines = boxes.read_text().splitlines()
    assert len(lines) == 10 and lines[0] == "639.00,239.00,46.00,83.00"
    assert all(re.fullmatch(r"-?\d+\.\d\d(,-?\d+\.\d\d){3}", line) for line in lines)
    run = track_frames(dcffnet.Tracker("default"), clip_frames, WALKER)  # the Tracker path, as before
    got = np.array([[float(v) for v in line.split(",")] for line in lines])
    np.testing.assert_allclose(got, run.boxes, atol=0.011)


def test_targets_file_starts_a_target_at_its_frame(tmp_path, capsys):
    targets = tmp_path / "targets.json"
    targets.write_text(json.dumps([{"id": "walker", "box": list(WALKER)},
                                   {"id": "top", "box": list(TOP), "frame": 3}]))
    boxes = tmp_path / "tracks.jsonl"
    code, err = _track(["--targets", str(targets), "--max-frames", "6", "--boxes", str(boxes), "--reconnect", "2"],
                       capsys)
    assert code == 0, err
    assert "note: --reconnect applies to live sources only" in err  # said, not silently ignored
    lines = [json.loads(line) for line in boxes.read_text().splitlines()]
    assert [line["frame"] for line in lines] == list(range(6))
    assert [[t["id"] for t in line["targets"]] for line in lines] == [["walker"]] * 3 + [["walker", "top"]] * 3
    start = lines[3]["targets"][1]
    assert start["box"] == list(TOP) and start["start"] is True and start["mot_id"] == 2
    assert lines[0]["time"] == 0.0 and lines[5]["time"] == pytest.approx(5 / FrameSource(CLIP).fps, abs=1e-4)
    for line in lines[1:]:
        for target in line["targets"]:
            if not target.get("start"):
                assert 0 <= target["score"] <= 1 and 0 <= target["probability"] <= 1
                assert target["state"] in ("tracking", "uncertain", "lost") and len(target["box"]) == 4


def test_a_target_starting_after_max_frames_is_refused_before_loading(tmp_path, capsys):
    targets = tmp_path / "targets.json"
    targets.write_text(json.dumps([{"id": 1, "box": list(WALKER), "frame": 20}]))
    code, err = _track(["--targets", str(targets), "--max-frames", "5", "--weights", "not-there"], capsys)
    assert code == 2 and "target 1 starts at frame 20, but --max-frames 5 stops before it" in err


@pytest.mark.parametrize("argv, message", [
    (["--box", _arg(WALKER), "--box", _arg(LEFT), "--boxes", "{tmp}/b.txt"], "the txt format .* holds one target"),
    (["--box", _arg(WALKER), "--boxes", "{tmp}/b.dat"], r"--boxes '.*b.dat': the format cannot be told"),
    (["--box", _arg(WALKER), "--boxes-format", "jsonl"], "--boxes-format needs --boxes"),
    (["--box", _arg(WALKER), "--targets", "{tmp}/t.json"], "not both"),
    ([], r"needs the targets: --box x,y,w,h \(repeatable\) or --targets FILE"),
    (["--box", _arg(WALKER), "--show-score", "--no-labels"], "give one of them"),
    (["--box", _arg(WALKER), "--box", "1,1,-5,5"], "--box 2 must have w > 0"),
    (["--targets", "{tmp}/t.json"], r"entry 0 \(id 'a'\) \"frame\" must be a 0-based frame index"),
    (["--targets", "{tmp}/missing.json"], "--targets file not found"),
])
def test_bad_targets_and_formats_are_one_line_errors_before_loading(tmp_path, capsys, monkeypatch, argv, message):
    import dcffnet.tracking

    def refuse(*args, **kwargs):
        raise AssertionError("the weights were loaded before the arguments were checked")

    monkeypatch.setattr(dcffnet.tracking.Tracker, "from_pretrained", classmethod(refuse))
    monkeypatch.setattr(dcffnet.tracking.MultiTracker, "__init__", refuse)
    (tmp_path / "t.json").write_text('[{"id": "a", "box": [1, 2, 3, 4], "frame": "3"}]')
    code, err = _track([a.replace("{tmp}", str(tmp_path)) for a in argv], capsys)
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("dcffnet track: error: "), err
    assert re.search(message, lines[0]), lines[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.json"]  # nothing written


class _GappySource:
    """A live-like source over the clip's first 10 frames: frame 3 lost (``image=None``), frame 5
    dropped (its index never yielded), as :mod:`dcffnet.sources` describes."""

    fps = 25.0
    frame_count = 0

    def __init__(self, frames):
        self._frames = frames
        self.dropped = 1
        self.gaps = ["one gap"]
        self.closed = False

    def frames(self):
        for index, image in enumerate(self._frames):
            if index == 5:
                continue
            yield SourceFrame(index, index / self.fps, None if index == 3 else image)

    def close(self):
        self.closed = True


@pytest.fixture
def gappy(monkeypatch, clip_frames):
    import dcffnet.sources

    made = []

    def open_gappy(spec, **options):
        assert options == {}
        made.append(_GappySource(clip_frames))
        return made[-1]

    monkeypatch.setattr(dcffnet.sources, "open_source", open_gappy)
    return made


def test_missing_and_dropped_frames_keep_txt_lines_in_step(tmp_path, capsys, gappy):
    boxes, video = tmp_path / "boxes.txt", tmp_path / "video.avi"
    code, err = _track(["--box", _arg(WALKER), "--boxes", str(boxes), "--output", str(video)], capsys)
    assert code == 0, err
    assert "1 frames dropped (--realtime), 1 frames missing in 1 stream gap" in err and gappy[0].closed
    table = np.loadtxt(boxes, delimiter=",", ndmin=2)
    assert table.shape == (10, 4)
    assert np.isnan(table[[3, 5]]).all() and np.isfinite(np.delete(table, [3, 5], axis=0)).all()
    assert len(list(FrameSource(video))) == 8  # the frames seen: none for the lost or dropped frame


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_missing_and_dropped_frames_in_mot_and_jsonl(tmp_path, capsys, gappy, suffix):
    boxes = tmp_path / f"tracks{suffix}"
    code, err = _track(["--box", _arg(WALKER), "--box", _arg(TOP), "--boxes", str(boxes)], capsys)
    assert code == 0, err
    if suffix == ".csv":
        rows = read_mot(boxes)
        assert sorted(set(rows[:, 0].astype(int))) == [1, 2, 3, 5, 7, 8, 9, 10]  # no rows for frames 4 and 6
        assert all(sorted(rows[rows[:, 0] == f][:, 1]) == [1, 2] for f in set(rows[:, 0]))
    else:
        lines = [json.loads(line) for line in boxes.read_text().splitlines()]
        assert [line["frame"] for line in lines] == [0, 1, 2, 3, 4, 6, 7, 8, 9]
        assert lines[3] == {"frame": 3, "time": 0.12, "missing": True}
        assert all(len(line["targets"]) == 2 for line in lines if line["frame"] != 3)


def test_a_target_the_source_never_reaches_is_reported(tmp_path, capsys, gappy):
    targets = tmp_path / "targets.json"
    targets.write_text(json.dumps([{"id": "walker", "box": list(WALKER)},
                                   {"id": "late", "box": list(TOP), "frame": 50}]))
    boxes = tmp_path / "tracks.jsonl"
    code, err = _track(["--targets", str(targets), "--boxes", str(boxes)], capsys)
    assert code == 0, err
    assert "never started (the source ended before their start frame): target 'late' (frame 50)" in err
    lines = [json.loads(line) for line in boxes.read_text().splitlines()]
    assert {t["id"] for line in lines for t in line.get("targets", [])} == {"walker"}


def _default_signals():
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_DFL)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="POSIX signals")
def test_ctrl_c_leaves_valid_jsonl_and_video(tmp_path):
    boxes, video = tmp_path / "tracks.jsonl", tmp_path / "tracks.avi"
    command = [sys.executable, "-m", "dcffnet", "track", str(CLIP), "--box", _arg(WALKER), "--box", _arg(LEFT),
               "--boxes", str(boxes), "--output", str(video), "--no-progress"]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=_default_signals, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    try:
        deadline = time.monotonic() + 120
        while not boxes.exists() or boxes.read_text().count("\n") < 3:
            assert proc.poll() is None, f"dcffnet track ended before the signal: {proc.communicate()[1]}"
            assert time.monotonic() < deadline, "no boxes were on disk while tracking"
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    match = re.fullmatch(rf"dcffnet track: interrupted: (\d+) frames written to {re.escape(str(boxes))} and "
                         rf"{re.escape(str(video))} \(SIGINT\)", err.strip().splitlines()[-1])
    assert match, err
    written = int(match.group(1))
    text = boxes.read_text()
    assert text.endswith("\n") and 3 <= written < 150
    lines = [json.loads(line) for line in text.splitlines()]
    assert [line["frame"] for line in lines] == list(range(written))
    assert len(list(FrameSource(video))) == written
