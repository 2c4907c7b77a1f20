"""``dcffnet track``, the frame sources and writer, and the example script."""

import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from dcffnet.cli import main, parse_box
from dcffnet.video import FrameSource

ROOT = Path(__file__).resolve().parents[1]


def _synthetic_frames(n=12, size=(160, 120)):
    frames = []
    for i in range(n):
        frame = np.full((size[1], size[0], 3), 90, np.uint8)
        cv2.rectangle(frame, (30 + 3 * i, 40), (60 + 3 * i, 70), (20, 200, 240), -1)
        frames.append(frame)
    return frames


@pytest.fixture
def video_file(tmp_path):
    path = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (160, 120))
    for frame in _synthetic_frames():
        writer.write(frame)
    writer.release()
    return path


@pytest.fixture
def frame_folder(tmp_path):
    folder = tmp_path / "frames"
    folder.mkdir()
    for i, frame in enumerate(_synthetic_frames()):
        cv2.imwrite(str(folder / f"{i:05d}.png"), frame)
    return folder


def test_parse_box():
    assert parse_box("1,2,3.5,4") == (1.0, 2.0, 3.5, 4.0)
    with pytest.raises(Exception, match="x,y,w,h"):
        parse_box("1,2,3")


@pytest.mark.parametrize("source", ["video_file", "frame_folder"])
def test_track_writes_video_and_boxes(source, request, tmp_path, checkpoint_dir, capsys):
    src = request.getfixturevalue(source)
    out_video, out_boxes = tmp_path / "out.mp4", tmp_path / "boxes.txt"
    code = main(["track", str(src), "--box", "30,40,31,31", "--weights", str(checkpoint_dir),
                 "--output", str(out_video), "--boxes", str(out_boxes)])
    assert code == 0
    lines = out_boxes.read_text().splitlines()
    assert len(lines) == 12 and lines[0] == "30.00,40.00,31.00,31.00"
    assert all(len(line.split(",")) == 4 for line in lines)
    assert len(list(FrameSource(out_video))) == 12
    assert "FPS" in capsys.readouterr().err


def test_track_reports_errors_cleanly(tmp_path, checkpoint_dir, frame_folder, capsys):
    assert main(["track", str(tmp_path / "missing.mp4"), "--box", "1,1,5,5", "--weights", str(checkpoint_dir)]) == 2
    assert "not found" in capsys.readouterr().err
    assert main(["track", str(frame_folder), "--box", "500,500,5,5", "--weights", str(checkpoint_dir)]) == 2
    assert "outside" in capsys.readouterr().err
    assert main(["track", str(frame_folder), "--box", "1,1,5,5", "--weights", "nope"]) == 2
    assert "not a checkpoint folder" in capsys.readouterr().err


def test_frame_source_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        FrameSource(tmp_path / "nothing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no images"):
        FrameSource(tmp_path / "empty")
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not a video")
    with pytest.raises(ValueError, match="cannot open"):
        FrameSource(bad)


def test_models_command(capsys):
    assert main(["models"]) == 0
    assert "dcffnet_r50" in capsys.readouterr().out


def test_console_entry_point_runs_as_module():
    result = subprocess.run([sys.executable, "-m", "dcffnet", "--version"], capture_output=True, text=True, check=True)
    assert result.stdout.startswith("dcffnet ")


def test_example_script_tracks_the_demo_clip(tmp_path, checkpoint_dir):
    clip = ROOT / "examples" / "assets" / "vtest_150.mp4"
    assert clip.is_file() and clip.stat().st_size < 3_000_000
    assert len(FrameSource(clip)) == 150
    out = tmp_path / "tracked.mp4"
    result = subprocess.run([sys.executable, str(ROOT / "examples" / "track_video.py"), "--weights", str(checkpoint_dir),
                             "--output", str(out)], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "FPS" in result.stdout
    assert len(list(FrameSource(out))) == 150
