"""Faults with defined outcomes (docs/reliability.md): hostile frames and targets, broken videos in
`dcffnet track`, damaged weights and a misbehaving hub. Each refusal names what is wrong; nothing
is half-loaded."""

from __future__ import annotations

import json
import os
import math

import cv2
import numpy as np
import pytest
from huggingface_hub import hf_hub_download
from safetensors.torch import load_file, save_file

import dcffnet
from dcffnet import CheckpointError, WeightsNotFoundError
from dcffnet.cli import main
from dcffnet.hub import push_to_hub, sha256_file
from dcffnet.video import FrameReadError, FrameSource
from synthetic_clip import moving_object_clip


@pytest.fixture(scope="module")
def tracker():
    return dcffnet.Tracker()


def _inside(box, frame) -> bool:
    x, y, w, h = box
    fh, fw = frame.shape[:2]
    return (all(math.isfinite(v) for v in box) and 0 < w <= fw and 0 < h <= fh
            and 0 <= x + w / 2 <= fw and 0 <= y + h / 2 <= fh)


# ------------------------------------------------------------------------------------ frames
@pytest.mark.parametrize("content", ["black", "white", "constant", "noise"])
def test_degenerate_frames_give_a_box_and_a_low_score(tracker, content):
    frames, gt = moving_object_clip(frames=3)
    tracker.init(frames[0], gt[0])
    rng = np.random.default_rng(0)
    frame = {"black": np.zeros_like(frames[0]), "white": np.full_like(frames[0], 255),
             "constant": np.full_like(frames[0], 97), "noise": rng.integers(0, 256, frames[0].shape, dtype=np.uint8)}[content]
    scores = []
    for _ in range(5):
        box, score = tracker.update(frame)
        assert _inside(box, frame) and 0.0 <= score <= 1.0
        scores.append(score)
    assert max(scores) < 0.5  # nothing there: the calibrated score says so


def test_one_pixel_target_and_one_pixel_frame(tracker):
    frames, _ = moving_object_clip(frames=3)
    tracker.init(frames[0], (100.0, 100.0, 1.0, 1.0))
    box, score = tracker.update(frames[1])
    assert _inside(box, frames[1]) and box[2] >= tracker.hparams.min_size - 1e-9
    tiny = np.full((1, 1, 3), 128, np.uint8)
    tracker.init(tiny, (0.0, 0.0, 1.0, 1.0))
    box, score = tracker.update(tiny)
    assert _inside(box, tiny) and 0.0 <= score <= 1.0


def test_target_leaves_the_frame_and_comes_back(tracker):
    frames, gt = moving_object_clip(frames=40)
    tracker.init(frames[0], gt[0])
    blank = np.full_like(frames[0], 110)
    for _ in range(10):  # gone: the box stays inside the frame
        box, _ = tracker.update(blank)
        assert _inside(box, blank)
    for frame in frames[:5]:  # and back
        box, _ = tracker.update(frame)
        assert _inside(box, frame)


def test_absurdly_large_boxes_are_refused_naming_the_box(tracker):
    """Found by the long property profile: a 1.5e154-pixel side overflowed the crop size."""
    frame = np.full((1, 1, 3), 217, np.uint8)
    with pytest.raises(ValueError, match=r"box values must lie within \+-1e\+07 pixels"):
        tracker.init(frame, (0.0, 0.0, 1.0, 1.5482003035190317e154))
    tracker.init(frame, (0.0, 0.0, 1.0, 1e6))  # huge but finite crop sizes: accepted, clipped
    box, score = tracker.update(frame)
    assert _inside(box, frame)


def test_a_refused_init_keeps_the_previous_target(tracker):
    frames, gt = moving_object_clip(frames=60)
    tracker.init(frames[0], gt[0])
    tracker.update(frames[1])
    before = tracker.box
    for bad in [(float("nan"), 0, 10, 10), (5000, 5000, 10, 10), (0, 0, -1, 4)]:
        with pytest.raises(ValueError, match="box"):
            tracker.init(frames[2], bad)
    with pytest.raises(TypeError, match="frame"):
        tracker.init(frames[2].astype(np.float32), gt[2])
    assert tracker.box == before
    box, _ = tracker.update(frames[2])
    assert np.abs(np.array(box[:2]) - gt[2, :2]).max() < 10


# ------------------------------------------------------------------------------------ videos
def _avi(path, frames=30):
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 30, (96, 72))
    for i in range(frames):
        img = np.full((72, 96, 3), 100, np.uint8)
        img[20:36, 10 + i:30 + i] = (30, 200, 250)
        writer.write(img)
    writer.release()
    return path


@pytest.mark.parametrize("damage", ["truncated", "zeroed"])
def test_track_stops_at_a_broken_frame_and_keeps_the_boxes(tmp_path, capsys, damage):
    data = bytearray(_avi(tmp_path / "clip.avi").read_bytes())
    if damage == "truncated":
        data = data[: len(data) // 2]
    else:
        middle = len(data) // 2
        data[middle:middle + 2000] = bytes(2000)
    (tmp_path / "broken.avi").write_bytes(bytes(data))
    with pytest.raises(FrameReadError) as info:
        list(FrameSource(tmp_path / "broken.avi"))
    index = info.value.index
    assert 0 < index < 30
    boxes = tmp_path / "boxes.txt"
    code = main(["track", str(tmp_path / "broken.avi"), "--box", "10,20,20,16", "--boxes", str(boxes),
                 "--output", str(tmp_path / "out.mp4"), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2
    assert f"frame {index} of" in err and "announces 30 frames" in err and f"frames 0-{index - 1}" in err
    assert len(boxes.read_text().splitlines()) == index  # the boxes tracked so far are kept


def test_an_intact_video_reads_to_its_end(tmp_path):
    assert len(list(FrameSource(_avi(tmp_path / "clip.avi")))) == 30


def test_an_unreadable_image_in_a_folder_names_its_frame(tmp_path):
    for i in range(3):
        cv2.imwrite(str(tmp_path / f"{i:04d}.jpg"), np.full((40, 40, 3), 100, np.uint8))
    (tmp_path / "0001.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(FrameReadError, match=r"frame 1 \(.*0001.jpg\) cannot be read") as info:
        list(FrameSource(tmp_path))
    assert info.value.index == 1


# ----------------------------------------------------------------------------------- weights
def _weights_rewritten(folder, mutate):
    state = load_file(str(folder / "model.safetensors"))
    mutate(state)
    save_file(state, str(folder / "model.safetensors"))
    config = json.loads((folder / "config.json").read_text())
    config["weights_sha256"] = sha256_file(folder / "model.safetensors")
    (folder / "config.json").write_text(json.dumps(config))


def test_wrong_dtype_is_refused_naming_the_key(checkpoint_dir):
    _weights_rewritten(checkpoint_dir, lambda s: s.update({"neck.conv6.0.weight": s["neck.conv6.0.weight"].half()}))
    with pytest.raises(CheckpointError, match=r"dtype mismatches: neck.conv6.0.weight: checkpoint torch.float16"):
        dcffnet.Tracker(str(checkpoint_dir))


def test_truncated_weights_are_refused(checkpoint_dir):
    path = checkpoint_dir / "model.safetensors"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(CheckpointError, match="sha256"):
        dcffnet.Tracker(str(checkpoint_dir))


def test_config_from_a_newer_format_is_refused(checkpoint_dir):
    config = json.loads((checkpoint_dir / "config.json").read_text())
    config["format"] = 99
    (checkpoint_dir / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match="format 99 is newer than this dcffnet understands.*upgrade"):
        dcffnet.Tracker(str(checkpoint_dir))


def test_a_failed_load_leaves_the_working_tracker_alone(tracker, checkpoint_dir):
    frames, gt = moving_object_clip(frames=60)
    tracker.init(frames[0], gt[0])
    tracker.update(frames[1])
    (checkpoint_dir / "model.safetensors").write_bytes(b"\0" * 64)
    with pytest.raises(CheckpointError):
        tracker = dcffnet.Tracker(str(checkpoint_dir))  # the name is not rebound: nothing half-loaded
    box, score = tracker.update(frames[2])
    assert np.abs(np.array(box[:2]) - gt[2, :2]).max() < 10


# ------------------------------------------------------------------------------------- hub
@pytest.fixture
def published(local_hub, tiny_model, tmp_path):
    push_to_hub(tiny_model, "org/tiny")
    return local_hub


@pytest.mark.parametrize("fault", ["500", "timeout", "reset", "truncate"])
def test_a_misbehaving_hub_is_a_clear_error(published, fault, monkeypatch):
    import huggingface_hub.file_download as file_download

    monkeypatch.setenv("DCFFNET_HUB_TIMEOUT", "0.5")
    # huggingface_hub retries a timed-out metadata request once with a long (60 s) timeout; shorten
    # that wait so the test does not sit through it (the library's own constant, not a mock)
    if hasattr(file_download, "_ETAG_RETRY_TIMEOUT"):
        monkeypatch.setattr(file_download, "_ETAG_RETRY_TIMEOUT", 1.0)
    published.state.fault = fault
    published.state.fault_delay = 3.0
    with pytest.raises((WeightsNotFoundError, CheckpointError)) as info:
        dcffnet.Tracker("org/tiny")
    message = str(info.value)
    assert "org/tiny" in message or "model.safetensors" in message or "config.json" in message, message


def test_a_slow_hub_still_delivers(published, monkeypatch):
    """An answer later than DCFFNET_HUB_TIMEOUT: huggingface_hub asks again with a longer timeout."""
    monkeypatch.setenv("DCFFNET_HUB_TIMEOUT", "0.3")
    published.state.fault = "timeout"
    published.state.fault_delay = 0.6
    assert dcffnet.Tracker("org/tiny").model.architecture == "dcffnet_tiny"


def test_a_cached_checkpoint_loads_while_the_hub_is_down(published, monkeypatch):
    dcffnet.Tracker("org/tiny")  # downloads into the cache
    monkeypatch.setenv("DCFFNET_HUB_TIMEOUT", "0.5")
    published.state.fault = "reset"
    with pytest.warns(UserWarning, match="the hub failed .*using the cached config.json of 'org/tiny'"):
        assert dcffnet.Tracker("org/tiny").model.architecture == "dcffnet_tiny"


def test_offline_with_a_partial_cache_names_the_missing_file(published, monkeypatch):
    # only the config reached the cache
    hf_hub_download("org/tiny", "config.json", cache_dir=os.environ["HF_HUB_CACHE"], endpoint=os.environ["HF_ENDPOINT"])
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(WeightsNotFoundError, match="model.safetensors of 'org/tiny'.*not in the local cache"):
        dcffnet.Tracker("org/tiny")


def test_hub_timeout_setting_is_checked(monkeypatch):
    from dcffnet.checkpoint import hub_timeout

    monkeypatch.setenv("DCFFNET_HUB_TIMEOUT", "soon")
    with pytest.raises(ValueError, match="DCFFNET_HUB_TIMEOUT must be a number"):
        hub_timeout()
    monkeypatch.setenv("DCFFNET_HUB_TIMEOUT", "2.5")
    assert hub_timeout() == 2.5


# ------------------------------------------------------------------------------- datasets
def test_box_files_with_wrong_line_counts_or_garbage_are_cut_and_flagged(tmp_path):
    from dcffnet.data import read_dataset

    for name, lines in (("short", 3), ("long", 9)):
        folder = tmp_path / name / "img"
        folder.mkdir(parents=True)
        for i in range(6):
            cv2.imwrite(str(folder / f"{i:04d}.jpg"), np.full((40, 40, 3), 90, np.uint8))
        rows = [f"{5 + i},5,10,10" for i in range(lines)]
        rows[1] = "garbage,line"
        (tmp_path / name / "groundtruth.txt").write_text("\n".join(rows) + "\n")
    (tmp_path / "long" / "img" / "0005.jpg").unlink()  # a missing frame: 5 frames, 9 boxes
    with pytest.warns(UserWarning) as record:
        seqs = {s.name: s for s in read_dataset("folder", tmp_path)}
    messages = " ".join(str(w.message) for w in record)
    assert "6 frames but 3 boxes; using the first 3" in messages
    assert "5 frames but 9 boxes; using the first 5" in messages
    assert (len(seqs["short"]), len(seqs["long"])) == (3, 5)
    assert 1 not in seqs["short"].valid and 1 not in seqs["long"].valid  # the garbage row is not a box
