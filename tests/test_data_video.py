"""Sequences stored as a video file + groundtruth.txt: one reader stack for training and evaluation."""

from __future__ import annotations

import json
import os

import cv2
import numpy as np
import pytest

from dcffnet.data import decode_video, read_box_file, read_dataset, sequence_frames
from dcffnet.eval.datasets import load_benchmark

W, H, N = 96, 72, 12


def _frames():
    """N frames: a bright square moving right over a smooth gradient (survives lossy codecs)."""
    base = np.zeros((H, W, 3), np.uint8)
    base[..., 0] = np.linspace(30, 90, W, dtype=np.uint8)[None, :]
    base[..., 1] = np.linspace(40, 120, H, dtype=np.uint8)[:, None]
    frames, boxes = [], []
    for i in range(N):
        f = base.copy()
        x, y = 10 + 4 * i, 20
        f[y:y + 24, x:x + 20] = (230, 220, 210)
        frames.append(f)
        boxes.append((x, y, 20, 24))
    return frames, np.array(boxes, dtype=np.float64)


def write_video_sequence(folder, absent=(5, 6), name="video.avi"):
    """A sequence folder in the video layout: ``video.*`` + ``groundtruth.txt`` with ``nan`` rows."""
    folder.mkdir(parents=True, exist_ok=True)
    frames, boxes = _frames()
    writer = cv2.VideoWriter(str(folder / name), cv2.VideoWriter_fourcc(*"MJPG"), 10, (W, H))
    assert writer.isOpened()
    for f in frames:
        writer.write(f)
    writer.release()
    lines = ["nan,nan,nan,nan" if i in absent else ",".join(f"{v:.2f}" for v in b) for i, b in enumerate(boxes)]
    (folder / "groundtruth.txt").write_text("\n".join(lines) + "\n")
    boxes[list(absent)] = np.nan
    return folder, frames, boxes


def test_decode_video_once_then_reuse(tmp_path):
    folder, frames, _ = write_video_sequence(tmp_path / "seq")
    files = decode_video(folder / "video.avi", tmp_path / "cache")
    assert len(files) == N and all(f.is_file() for f in files)
    decoded = cv2.imread(str(files[3]))
    assert decoded.shape == (H, W, 3)
    assert np.abs(decoded.astype(int) - frames[3].astype(int)).mean() < 6  # two lossy codecs, same picture
    stamp = files[0].stat().st_mtime_ns
    again = decode_video(folder / "video.avi", tmp_path / "cache")
    assert again == files and files[0].stat().st_mtime_ns == stamp  # no second decode
    assert len(list((tmp_path / "cache").iterdir())) == 1  # no temporary folder left behind


def test_changed_video_is_decoded_again(tmp_path):
    folder, _, _ = write_video_sequence(tmp_path / "seq")
    first = decode_video(folder / "video.avi", tmp_path / "cache")
    os.utime(folder / "video.avi", ns=(1, 1))
    second = decode_video(folder / "video.avi", tmp_path / "cache")
    assert first[0].parent != second[0].parent and len(second) == N


def test_unreadable_video_is_a_clear_error(tmp_path):
    bad = tmp_path / "video.mp4"
    bad.write_bytes(b"not a video")
    with pytest.raises(ValueError, match="video"):
        decode_video(bad, tmp_path / "cache")
    with pytest.raises(FileNotFoundError):
        decode_video(tmp_path / "missing.mp4", tmp_path / "cache")
    assert not any((tmp_path / "cache").glob("*/frames.json"))


def test_sequence_frames_prefers_image_folders(tmp_path):
    folder, frames, _ = write_video_sequence(tmp_path / "seq")
    assert len(sequence_frames(folder, cache_root=tmp_path / "cache")) == N
    (folder / "img").mkdir()
    for i, f in enumerate(frames[:3]):
        cv2.imwrite(str(folder / "img" / f"{i:04d}.png"), f)
    assert [p.name for p in sequence_frames(folder)] == ["0000.png", "0001.png", "0002.png"]


@pytest.mark.parametrize("convention, shift", [("x,y,w,h; 0-based pixels", 0.0), ("1-based", 1.0)])
def test_training_and_evaluation_read_the_same_sequence(tmp_path, convention, shift):
    """The training mixture (``load_mixture``, as ``dcffnet train`` reads a recipe) and the benchmark
    loader (as ``dcffnet eval`` reads a folder) give the same frames and the same 0-based boxes."""
    from dcffnet.train.config import DataConfig, DatasetSpec
    from dcffnet.train.sampling import load_mixture

    root = tmp_path / "bench"
    _, _, boxes = write_video_sequence(root / "walk")
    (root / "walk" / "meta.json").write_text(json.dumps({"box_convention": convention}))
    config = DataConfig(datasets=[DatasetSpec("folder", "bench")], data_root=str(tmp_path), val_fraction=0.0)
    [(_, [track], _)], _ = load_mixture(config)
    [seq] = load_benchmark(root, "folder")
    assert track.qualified_name == "bench/walk" and seq.name == "walk"
    np.testing.assert_array_equal(track.boxes, seq.gt)
    expected = np.asarray(boxes, dtype=np.float64)
    expected[:, :2] -= shift
    np.testing.assert_allclose(seq.gt, expected)
    assert track.frames == seq.frames and len(seq.frames) == N
    assert list(track.valid) == [i for i in range(N) if i not in (5, 6)]
    assert np.isnan(read_box_file(root / "walk" / "groundtruth.txt")[5]).all()


def test_video_sequence_trains(tmp_path):
    """The pair sampler reads decoded frames like any image files."""
    import dataclasses

    from dcffnet.train.config import AugmentConfig, DatasetSpec
    from dcffnet.train.sampling import PairDataset

    write_video_sequence(tmp_path / "bench" / "walk")
    tracks = read_dataset("folder", tmp_path / "bench")
    ds = PairDataset([(DatasetSpec("folder", "bench", frame_range=3), tracks)], 4, 31, 63,
                     dataclasses.replace(AugmentConfig(), search_shift=0.0, search_scale=0.0, flip=0.0))
    item = ds[0]
    assert item["search"].shape == (3, 63, 63) and int(item["skipped"]) == 0
