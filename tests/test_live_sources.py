"""Live sources (issue 27): ``open_source`` for cameras, stream URLs and GStreamer pipelines, and
:class:`dcffnet.live.LiveSource` reading a real MJPEG-over-HTTP stream from a server on 127.0.0.1
(``stream_server.py``, serving the bundled example clip with each frame's number stamped in), through
OpenCV's FFmpeg backend: every frame, realtime dropping, an outage and reconnection, giving up,
closing, Ctrl-C. Waits are bounded so that a hang fails the test instead of stalling the run."""

from __future__ import annotations

import json
import math
import os
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from dcffnet.live import LiveSource, SourceOpenError, StreamError, hide_password
from dcffnet.sources import ACCEPTED_FORMS, URL_SCHEMES, open_source, source_kind
from dcffnet.video import FrameSource
from stream_server import CLIP, STAMP_ROWS, MjpegServer, clip_frames, read_stamp

ROOT = Path(__file__).resolve().parents[1]
LIVENESS = 30.0  # seconds: the longest any wait below may take before it counts as a hang


def _content_mean(image: np.ndarray) -> float:
    """Mean pixel value below the stamp, where the served frame equals the file's (up to JPEG)."""
    return float(image[STAMP_ROWS:].mean())


def _wait_for(condition, what: str) -> None:
    deadline = time.monotonic() + LIVENESS
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {LIVENESS} s for {what}")
        time.sleep(0.01)


@pytest.fixture(scope="module")
def clip() -> list[np.ndarray]:
    return clip_frames(CLIP)


# ---- open_source: forms ------------------------------------------------------------------------

@pytest.mark.parametrize("spec, kind", [
    (0, "camera"), ("0", "camera"), ("12", "camera"), (Path("0"), "path"), ("./0", "path"),
    ("rtsp://cam.local:554/stream1", "url"), ("RTSPS://cam/s", "url"), ("http://127.0.0.1/x.mjpg", "url"),
    ("https://host/live/index.m3u8", "url"), ("udp://@:5000", "url"), ("tcp://127.0.0.1:9000", "url"),
    ("videotestsrc ! videoconvert ! appsink", "gstreamer"), ("v4l2src device=/dev/video0 ! appsink", "gstreamer"),
    ("clip.mp4", "path"), ("frames/", "path"),
])
def test_source_kind(spec, kind):
    assert source_kind(spec) == kind


def test_files_and_folders_are_frame_sources_that_ignore_the_live_options(tmp_path, clip):
    source = open_source(CLIP, realtime=True, reconnect=0, backoff=2.0, queue_size=1, timeout=1.0)
    assert isinstance(source, FrameSource) and source.frame_count == 150
    for k in range(3):
        cv2.imwrite(str(tmp_path / f"{k}.png"), clip[k])
    folder = open_source(str(tmp_path), realtime=True)
    assert isinstance(folder, FrameSource)
    assert [f.index for f in folder.frames()] == [0, 1, 2]  # nothing dropped: realtime does not apply


def test_anything_else_is_file_not_found_listing_the_accepted_forms(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        open_source(str(tmp_path / "missing.mp4"))
    assert "missing.mp4" in str(info.value) and ACCEPTED_FORMS in str(info.value)
    for scheme in URL_SCHEMES:
        assert f"{scheme}://" in ACCEPTED_FORMS


@pytest.mark.parametrize("spec, error, words", [
    ("ftp://host/video.mp4", ValueError, "scheme ftp://"),
    (-1, ValueError, "camera index must be >= 0"),
    (True, TypeError, "source must be"),
    (b"0", TypeError, "source must be"),
    (1.0, TypeError, "source must be"),
])
def test_bad_specs_are_refused(spec, error, words):
    with pytest.raises(error, match=words):
        open_source(spec)


@pytest.mark.parametrize("options, error, words", [
    ({"realtime": 1}, TypeError, "realtime must be True or False"),
    ({"reconnect": -1}, ValueError, "reconnect must be >= 0"),
    ({"reconnect": 2.0}, TypeError, "reconnect must be an int"),
    ({"backoff": 0}, ValueError, "backoff must be a finite number of seconds > 0"),
    ({"backoff": math.inf}, ValueError, "backoff must be a finite"),
    ({"backoff": "1"}, TypeError, "backoff must be a number of seconds"),
    ({"queue_size": 0}, ValueError, "queue_size must be >= 1"),
    ({"queue_size": True}, TypeError, "queue_size must be an int"),
    ({"timeout": -1.0}, ValueError, "timeout must be a finite number of seconds > 0"),
    ({"timeout": math.nan}, ValueError, "timeout must be a finite"),
])
def test_bad_options_are_refused_naming_them(options, error, words):
    with pytest.raises(error, match=words):
        open_source(CLIP, **options)  # checked for file sources too: a typo is never ignored
    with pytest.raises(error, match=words):
        LiveSource("http://127.0.0.1:9/none.mjpg", api=cv2.CAP_FFMPEG, **options)


def test_a_camera_that_does_not_exist_is_a_clear_error_not_a_hang():
    index = 57
    if os.path.exists(f"/dev/video{index}"):
        pytest.skip(f"this machine has a camera {index}")
    outcome: list[BaseException] = []

    def attempt() -> None:
        try:
            open_source(str(index), timeout=2.0).close()
        except BaseException as exc:  # noqa: BLE001 - inspected below
            outcome.append(exc)

    thread = threading.Thread(target=attempt, daemon=True)
    thread.start()
    thread.join(LIVENESS)
    assert not thread.is_alive(), "opening a missing camera hung"
    assert len(outcome) == 1 and isinstance(outcome[0], SourceOpenError)
    assert f"camera {index} cannot be opened" in str(outcome[0])


def test_a_stream_that_cannot_be_opened_names_it_without_its_password():
    with pytest.raises(SourceOpenError) as info:  # nothing listens on port 9 of this machine
        open_source("rtsp://user:secret@127.0.0.1:9/stream", timeout=2.0)
    assert "rtsp://user:***@127.0.0.1:9/stream" in str(info.value) and "secret" not in str(info.value)
    assert hide_password("http://a:b@host/x") == "http://a:***@host/x" and hide_password(3) == 3


def test_a_gstreamer_pipeline_opens_with_gstreamer_or_says_it_is_missing():
    pipeline = "videotestsrc ! video/x-raw,width=160,height=120 ! videoconvert ! appsink"
    if not cv2.videoio_registry.hasBackend(cv2.CAP_GSTREAMER):
        with pytest.raises(SourceOpenError, match="built without GStreamer"):
            open_source(pipeline)
        return
    with open_source(pipeline, timeout=5.0) as source:
        first = next(iter(source.frames()))
    assert first.index == 0 and first.image.shape == (120, 160, 3)


# ---- reading a served stream -------------------------------------------------------------------

def test_every_frame_arrives_in_order_in_default_mode(clip):
    with MjpegServer(fps=40, max_frames=60) as server:
        source = open_source(server.url, reconnect=0, queue_size=4, timeout=5.0)
        assert isinstance(source, LiveSource) and source.frame_count == 0 and source.fps > 0
        got = []
        with pytest.raises(StreamError) as info:  # the stream ends; reconnect=0: no reopening
            for frame in source.frames():
                got.append(frame)
                if frame.index < 10:
                    time.sleep(0.05)  # slower than the stream: the reader waits, nothing is lost
    assert [f.index for f in got] == list(range(60))
    assert [read_stamp(f.image) for f in got] == list(range(60))
    assert all(f.image.shape == clip[0].shape and f.image.dtype == np.uint8 for f in got)
    for k in (0, 17, 59):
        assert abs(_content_mean(got[k].image) - _content_mean(clip[k])) < 2.0
    times = [f.time for f in got]
    assert times == sorted(times) and times[0] >= 0
    assert source.frames_read == 60 and source.dropped == 0
    error = info.value
    assert source.error is error and error.frames_read == 60
    assert "reconnect=0" in str(error) and "after 60 frames" in str(error)
    assert len(error.gaps) == 1 and not error.gaps[0].recovered and error.gaps[0].first_index == 60
    with pytest.raises(RuntimeError, match="only once"):
        source.frames()


def test_realtime_mode_keeps_only_the_newest_frame_and_counts_the_dropped():
    with MjpegServer(fps=40, max_frames=80) as server:
        source = open_source(server.url, realtime=True, reconnect=0, timeout=5.0)
        got = []
        read_before: int | None = None
        with pytest.raises(StreamError):
            for frame in source.frames():
                if read_before is not None:
                    # every frame older than the newest read before the pause was dropped
                    assert frame.index >= read_before - 1
                got.append(frame)
                read_before = source.frames_read
                time.sleep(0.15)  # a slow tracker: about six frames arrive meanwhile
    indices = [f.index for f in got]
    assert indices == sorted(set(indices)) and indices[-1] == 79
    assert [read_stamp(f.image) for f in got] == indices  # indices are the stream's frame numbers
    assert source.dropped > 0 and max(b - a for a, b in zip(indices, indices[1:])) > 1
    assert source.frames_read == 80 == len(got) + source.dropped


def test_an_outage_is_bridged_recorded_and_its_frames_marked_missing():
    with MjpegServer(fps=30, max_frames=150, outage_at=30, outage_seconds=2.0) as server:
        source = open_source(server.url, reconnect=6, backoff=0.1, timeout=5.0)
        got = []
        for frame in source.frames():
            got.append(frame)
            if frame.image is not None and read_stamp(frame.image) == 149:
                break  # the last frame of the stream
        assert server.outage_done.is_set() and server.connections == 2
    assert [f.index for f in got] == list(range(len(got)))  # frames and placeholders, none left out
    [gap] = source.gaps
    assert gap.recovered and 1 <= gap.attempts <= 6 and "read failed" in gap.reason
    missing = [f for f in got if f.image is None]
    assert gap.missed >= 1 and [f.index for f in missing] == list(range(gap.first_index, gap.first_index + gap.missed))
    assert all(gap.start < f.time < gap.start + gap.seconds for f in missing)
    before, after = got[:gap.first_index], got[gap.first_index + gap.missed:]
    assert [read_stamp(f.image) for f in before] == list(range(len(before)))
    stamps_after = [read_stamp(f.image) for f in after]
    assert stamps_after == list(range(stamps_after[0], 150))  # from the reconnect to the end, every frame
    assert stamps_after[0] > len(before)  # what the server sent while we were away is lost
    assert source.frames_read == len(before) + len(after) and source.error is None


def test_when_every_reopen_fails_the_frames_come_first_then_a_clear_error():
    with MjpegServer(fps=40, max_frames=12) as server:  # after 12 frames it answers 404
        source = open_source(server.url, reconnect=2, backoff=0.05, timeout=5.0)
        got = []
        with pytest.raises(StreamError) as info:
            for frame in source.frames():
                got.append(frame)
    assert [read_stamp(f.image) for f in got] == list(range(12))
    error = info.value
    assert error.frames_read == 12 and "2 reopen attempts failed" in str(error) and server.url in str(error)
    [gap] = error.gaps
    assert not gap.recovered and gap.attempts == 2 and gap.missed == 0 and gap.first_index == 12
    _wait_for(lambda: not source.running, "the reader thread to end")


def test_no_frame_within_the_timeout_counts_as_a_drop():
    with MjpegServer(fps=40, max_frames=400) as server:
        source = open_source(server.url, reconnect=1, backoff=0.05, timeout=0.5)
        frames = source.frames()
        next(frames)
        server.stall()  # the connection stays open, nothing more comes; a reopen gets no frame either
        with pytest.raises(StreamError) as info:
            for _ in frames:
                pass
    [gap] = info.value.gaps
    assert gap.reason.startswith("no frame for") and gap.attempts == 1 and not gap.recovered


def test_close_from_another_thread_ends_a_blocked_consumer_promptly():
    with MjpegServer(fps=40, max_frames=400) as server:
        source = open_source(server.url, timeout=1.0)
        got = []
        started = threading.Event()

        def consume() -> None:
            for frame in source.frames():
                got.append(frame)
                started.set()

        consumer = threading.Thread(target=consume, daemon=True)
        consumer.start()
        assert started.wait(LIVENESS)
        server.stall()  # the consumer now waits for a frame that does not come
        time.sleep(0.2)
        source.close()
        consumer.join(LIVENESS)
        assert not consumer.is_alive(), "close() did not end the iteration"
        _wait_for(lambda: not source.running, "the reader thread to end")
        source.close()  # twice is fine
    assert got and source.error is None


def test_close_while_the_reader_waits_for_room_returns_promptly():
    with MjpegServer(fps=40, max_frames=400) as server:
        source = open_source(server.url, queue_size=2, timeout=5.0)
        source.frames()  # not iterated: the buffer fills and the reader waits
        _wait_for(lambda: source.frames_read == 2, "two frames to be read")
        time.sleep(0.2)
        assert source.frames_read == 2 and source.running  # every-frame mode: it waits, drops nothing
        source.close()
        _wait_for(lambda: not source.running, "the reader thread to end")
        assert source.dropped == 0


def test_a_video_file_over_http_is_read_to_its_end_without_reconnecting(clip):
    with MjpegServer() as server:
        with open_source(server.file_url, timeout=5.0) as source:
            got = list(source.frames())
    assert len(got) == 150 and source.error is None and source.gaps == []
    for k in (0, 75, 149):
        assert abs(float(got[k].image.mean()) - float(clip[k].mean())) < 1.0  # the same decoder, the same frames


def test_a_video_file_over_http_that_breaks_off_is_not_restarted_from_its_first_frame():
    with MjpegServer() as server:
        source = open_source(server.file_url + "?cut=0.5", reconnect=3, timeout=5.0)
        got = []
        with pytest.raises(StreamError, match="not reopened") as info:
            for frame in source.frames():
                got.append(frame)
    assert 0 < len(got) < 150 and [f.index for f in got] == list(range(len(got)))
    [gap] = info.value.gaps
    assert gap.attempts == 0 and not gap.recovered and "finite stream (150 frames announced)" in gap.reason


CHILD = r"""
import json, sys, time
from dcffnet.sources import open_source
source = open_source(sys.argv[1], timeout=2.0)
try:
    for frame in source.frames():
        if frame.index == 0:
            print("reading", flush=True)
        time.sleep(0.01)
except KeyboardInterrupt:
    print("interrupted", flush=True)
finally:
    source.close()
deadline = time.monotonic() + 20
while source.running and time.monotonic() < deadline:
    time.sleep(0.01)
print(json.dumps({"frames_read": source.frames_read, "running": source.running, "torch": "torch" in sys.modules}))
"""


def test_ctrl_c_in_the_consumer_ends_cleanly_without_torch():
    with MjpegServer(fps=40, max_frames=2000) as server:
        child = subprocess.Popen([sys.executable, "-c", CHILD, server.url], cwd=ROOT, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
        try:
            ready, _, _ = select.select([child.stdout], [], [], LIVENESS)
            assert ready, "the child did not start reading"
            assert child.stdout.readline().strip() == "reading"
            time.sleep(0.3)
            child.send_signal(signal.SIGINT)
            out, err = child.communicate(timeout=LIVENESS)
        finally:
            if child.poll() is None:
                child.kill()
                child.communicate()
    assert child.returncode == 0, err
    lines = out.strip().splitlines()
    assert lines[0] == "interrupted"
    report = json.loads(lines[-1])
    assert report["frames_read"] > 0 and report["running"] is False and report["torch"] is False
