"""``dcffnet track`` end to end on a live stream (issue 27, part 1): the real command in a child
process reads an MJPEG-over-HTTP stream from a server on 127.0.0.1 (``stream_server.py``, the bundled
example clip with each frame's number stamped into its corner) through OpenCV's FFmpeg and the
bundled weights, and writes its boxes (txt, MOTChallenge csv, JSON lines) and annotated video.

Covered: every frame of a short stream tracked; a server that goes away for two seconds and comes
back (exit 0, the gap in the summary, its frames marked missing in every boxes format, boxes after
it); ``--realtime`` with a fast server (dropped frames counted, indices skipping them); Ctrl-C while
frames flow and while the stream is stalled (exit 130, complete outputs); a stream that never comes
back (a clear error naming the stream and where the frames are, the files holding them).

The annotated videos are ``.avi`` (MJPG), so the stamps survive and say which served frame each
video frame is. Several runs of one scenario (one per boxes format) run side by side, each against
its own server. Waits are bounded so that a hang fails the test instead of stalling the run; no
test asserts how long anything takes.
"""

from __future__ import annotations

import json
import math
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import pytest

from stream_server import MjpegServer, read_stamp

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="POSIX signals")

ROOT = Path(__file__).resolve().parents[1]
BOX = "290,220,40,80"  # a pedestrian in frame 0 of examples/assets/vtest_150.mp4
BOX_LINE = "290.00,220.00,40.00,80.00"
LIVENESS = 60.0  # seconds: the longest a run (or a wait for its first lines) may take before it counts as a hang
SUMMARY = re.compile(r"Tracked (\d+) frames in [\d.]+ s: .* FPS tracker only \(device [^)]+\); (\d+) frames dropped "
                     r"\(--realtime\), (\d+) frames missing in (\d+) stream gaps?")


def _default_signals() -> None:  # in the child, before exec: a runner may have ignored SIGINT
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_DFL)


@dataclass
class Run:
    """One ``dcffnet track`` child process reading ``server``'s stream."""

    server: MjpegServer
    proc: subprocess.Popen
    boxes: Path
    video: Path | None
    code: int | None = None
    err: str = ""

    def lines(self) -> int:
        """Complete lines in the boxes file so far."""
        return self.boxes.read_text(encoding="utf-8").count("\n") if self.boxes.exists() else 0

    def wait_for_lines(self, count: int) -> None:
        deadline = time.monotonic() + LIVENESS
        while self.lines() < count:
            if self.proc.poll() is not None:
                raise AssertionError(f"dcffnet track ended before writing {count} lines: {self.proc.communicate()[1]}")
            if time.monotonic() > deadline:
                raise AssertionError(f"waited {LIVENESS} s for {count} lines in {self.boxes}")
            time.sleep(0.02)

    def finish(self) -> int:
        """Wait (bounded) for the process to end; its exit status (stderr in :attr:`err`)."""
        try:
            _, self.err = self.proc.communicate(timeout=LIVENESS)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, self.err = self.proc.communicate()
            raise AssertionError(f"dcffnet track did not end within {LIVENESS} s: {self.err}") from None
        self.code = self.proc.returncode
        return self.code

    def summary(self) -> tuple[int, int, int, int]:
        """``(tracked, dropped, missing, gaps)`` from the summary line on stderr."""
        match = SUMMARY.search(self.err)
        assert match, f"no summary line on stderr: {self.err}"
        return tuple(int(g) for g in match.groups())  # type: ignore[return-value]

    @property
    def last_line(self) -> str:
        return self.err.strip().splitlines()[-1]


@pytest.fixture
def track(tmp_path):
    """``track(server, boxes_name, *options, video=None)`` starts ``dcffnet track server.url --box BOX
    --boxes tmp/boxes_name [--output tmp/video] *options``; every server and process is closed or
    killed at the end of the test."""
    runs: list[Run] = []

    def start(server: MjpegServer, boxes_name: str, *options: str, video: str | None = None) -> Run:
        boxes = tmp_path / boxes_name
        command = [sys.executable, "-m", "dcffnet", "track", server.url, "--box", BOX, "--boxes", str(boxes),
                   "--no-progress", *options]
        video_path = None
        if video is not None:
            video_path = tmp_path / video
            command += ["--output", str(video_path)]
        proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                preexec_fn=_default_signals)
        run = Run(server, proc, boxes, video_path)
        runs.append(run)
        return run

    yield start
    for run in runs:
        if run.proc.poll() is None:
            run.proc.kill()
            run.proc.communicate()
        run.server.close()


# ---- reading the outputs -------------------------------------------------------------------------

def _txt(path: Path) -> list[tuple[float, float, float, float]]:
    text = path.read_text(encoding="utf-8")
    assert text.endswith("\n"), "the txt file ends inside a line"
    rows = [tuple(float(v) for v in line.split(",")) for line in text.splitlines()]
    assert all(len(row) == 4 for row in rows)
    return rows  # type: ignore[return-value]


def _nan_rows(rows) -> list[int]:
    for row in rows:  # a row is all nan or all numbers
        assert all(math.isnan(v) for v in row) or all(math.isfinite(v) for v in row), row
    return [k for k, row in enumerate(rows) if math.isnan(row[0])]


def _jsonl(path: Path) -> list[dict]:
    text = path.read_text(encoding="utf-8")
    assert text.endswith("\n"), "the jsonl file ends inside a line"
    return [json.loads(line) for line in text.splitlines()]  # every line parses


def _csv(path: Path) -> list[list[str]]:
    text = path.read_text(encoding="utf-8")
    assert text == "" or text.endswith("\n")
    rows = [line.split(",") for line in text.splitlines()]
    assert all(len(row) == 10 and row[1] == "1" and row[7:] == ["-1", "-1", "-1"] for row in rows), rows[:3]
    return rows


def _video_stamps(path: Path) -> list[int]:
    """The frame number stamped into each frame of the annotated video (it opens with cv2)."""
    cap = cv2.VideoCapture(str(path))
    assert cap.isOpened(), f"{path} does not open"
    stamps = []
    try:
        while True:
            ok, image = cap.read()
            if not ok:
                break
            stamps.append(read_stamp(image))
    finally:
        cap.release()
    return stamps


def _first_connection(sent: list[int]) -> list[int]:
    """The frames the server sent before its outage: the run 0, 1, 2, ... at the start of ``sent``."""
    k = 0
    while k < len(sent) and sent[k] == k:
        k += 1
    return sent[:k]


# ---- the scenarios -------------------------------------------------------------------------------

def test_every_frame_of_a_short_stream_is_tracked(track):
    frames = 40
    txt = track(MjpegServer(fps=30, max_frames=frames), "boxes.txt", "--max-frames", str(frames))
    jsonl = track(MjpegServer(fps=30, max_frames=frames), "boxes.jsonl", "--max-frames", str(frames),
                  video="annotated.avi")
    for run in (txt, jsonl):
        assert run.finish() == 0, run.err
        assert run.summary() == (frames, 0, 0, 0)
        assert run.server.sent == list(range(frames))
    rows = _txt(txt.boxes)
    assert len(rows) == frames and _nan_rows(rows) == []  # one line per served frame, every one a box
    assert txt.boxes.read_text().splitlines()[0] == BOX_LINE
    lines = _jsonl(jsonl.boxes)
    assert [line["frame"] for line in lines] == list(range(frames))
    assert all("missing" not in line and len(line["targets"]) == 1 for line in lines)
    first = lines[0]["targets"][0]
    assert first["start"] is True and first["box"] == [290.0, 220.0, 40.0, 80.0] and first["id"] == 1
    times = [line["time"] for line in lines]
    assert times == sorted(times)
    assert _video_stamps(jsonl.video) == list(range(frames))  # frame k of the video is served frame k


def test_a_two_second_outage_is_bridged_and_its_frames_marked_missing(track):
    # 20 frames/s; the server goes away when frame 10 is due and listens again 2 s later. The run stops
    # after 180 frames of the source (missing ones included): the gap (reopen attempts 0.5, 1.5, 3.5,
    # 7.5 s after the drop) leaves at most about 150 missing, so boxes come after it.
    frames = 180

    def server() -> MjpegServer:
        return MjpegServer(fps=20, max_frames=600, outage_at=10, outage_seconds=2.0)

    runs = {fmt: track(server(), f"boxes.{fmt}", "--max-frames", str(frames),
                       video="annotated.avi" if fmt == "jsonl" else None) for fmt in ("txt", "jsonl", "csv")}
    for fmt, run in runs.items():
        assert run.finish() == 0, f"{fmt}: {run.err}"
        tracked, dropped, missing, gaps = run.summary()  # the summary reports the gap
        assert (dropped, gaps) == (0, 1) and missing >= 1 and tracked + missing == frames, run.err
        assert run.server.outage_done.is_set() and run.server.connections == 2

    run = runs["txt"]
    before = len(_first_connection(run.server.sent))
    missing = run.summary()[2]
    rows = _txt(run.boxes)
    assert len(rows) == frames  # line k is frame k, missing ones included
    assert _nan_rows(rows) == list(range(before, before + missing))
    assert run.boxes.read_text().splitlines()[0] == BOX_LINE
    assert len(rows) - before - missing >= 1  # boxes resume after the gap

    run = runs["jsonl"]
    sent = run.server.sent
    before = len(_first_connection(sent))
    missing = run.summary()[2]
    lines = _jsonl(run.boxes)
    assert [line["frame"] for line in lines] == list(range(frames))
    gap = [line for line in lines if line.get("missing")]
    assert [line["frame"] for line in gap] == list(range(before, before + missing))
    assert all(set(line) == {"frame", "time", "missing"} and line["missing"] is True for line in gap)
    seen = [line for line in lines if not line.get("missing")]
    assert all(len(line["targets"]) == 1 and len(line["targets"][0]["box"]) == 4 for line in seen)
    times = [line["time"] for line in lines]
    assert times == sorted(times)
    after = lines[before + missing:]
    assert after and all("targets" in line for line in after)  # boxes resume after the gap
    stamps = _video_stamps(run.video)  # the video holds the frames seen, none for the gap
    assert len(stamps) == len(seen) and stamps == sent[:len(seen)]
    assert stamps[:before] == list(range(before))
    resumed = stamps[before:]
    assert resumed == list(range(resumed[0], resumed[0] + len(resumed)))  # every frame after the reconnect
    assert resumed[0] > before  # what the server sent meanwhile was lost

    run = runs["csv"]
    before = len(_first_connection(run.server.sent))
    missing = run.summary()[2]
    # 1-based frame numbers, one target: a row for each frame where it is not reported lost (the
    # start frame always), none for the frames the gap lost
    numbers = [int(row[0]) for row in _csv(run.boxes)]
    assert numbers[0] == 1 and numbers == sorted(set(numbers)) and numbers[-1] <= frames
    assert not set(range(before + 1, before + missing + 1)) & set(numbers)


def test_realtime_drops_are_counted_and_skipped_in_the_outputs(track):
    # the server sends as fast as it can encode; the tracker takes the newest frame each time
    frames = 40
    options = ("--realtime", "--reconnect", "0", "--max-frames", str(frames))
    jsonl = track(MjpegServer(fps=200, max_frames=4000), "boxes.jsonl", *options, video="annotated.avi")
    txt = track(MjpegServer(fps=200, max_frames=4000), "boxes.txt", *options)
    for run in (jsonl, txt):
        assert run.finish() == 0, run.err
        tracked, dropped, missing, gaps = run.summary()
        assert tracked == frames and missing == 0 and gaps == 0
        assert dropped > 0, run.err  # counted in the summary

    dropped = jsonl.summary()[1]
    lines = _jsonl(jsonl.boxes)
    indices = [line["frame"] for line in lines]
    assert len(lines) == frames and indices == sorted(set(indices))  # frame 0 itself may have been dropped
    assert all("missing" not in line for line in lines)
    assert indices[-1] + 1 - frames == dropped  # frame jumps over exactly the dropped frames
    assert _video_stamps(jsonl.video) == indices  # an index is the served frame's number

    dropped = txt.summary()[1]
    rows = _txt(txt.boxes)
    nan = _nan_rows(rows)
    assert len(nan) == dropped and len(rows) == frames + dropped  # line k is still frame k
    assert not math.isnan(rows[-1][0])  # the last line is the last frame tracked


def test_ctrl_c_mid_stream_ends_with_everything_written(track):
    runs = {fmt: track(MjpegServer(fps=30, max_frames=4000), f"boxes.{fmt}", video=f"annotated-{fmt}.avi")
            for fmt in ("txt", "jsonl")}
    for run in runs.values():
        run.wait_for_lines(8)
    for run in runs.values():
        run.proc.send_signal(signal.SIGINT)
    for fmt, run in runs.items():
        assert run.finish() == 130, run.err  # ends within the bounded wait: no thread keeps it alive
        match = re.fullmatch(rf"dcffnet track: interrupted: (\d+) frames written to {re.escape(str(run.boxes))} and "
                             rf"{re.escape(str(run.video))} \(SIGINT\)", run.last_line)
        assert match, run.err
        written = int(match.group(1))
        assert written >= 8
        if fmt == "txt":
            rows = _txt(run.boxes)  # one complete line per frame tracked
            assert len(rows) == written and _nan_rows(rows) == []
        else:
            lines = _jsonl(run.boxes)  # every line parses
            assert [line["frame"] for line in lines] == list(range(written))
        assert _video_stamps(run.video) == list(range(written))  # closed properly: every frame decodes


def test_ctrl_c_while_the_stream_is_stalled_stops_without_waiting_for_a_frame(track):
    # the connection stays open but no frame comes: the first Ctrl-C must not wait for one
    run = track(MjpegServer(fps=30, max_frames=4000), "boxes.jsonl", video="annotated.avi")
    run.wait_for_lines(8)
    run.server.stall()
    deadline = time.monotonic() + LIVENESS  # wait until the frames sent before the stall are written
    while True:
        count = run.lines()
        time.sleep(0.5)
        if run.lines() == count or time.monotonic() > deadline:
            break
    run.proc.send_signal(signal.SIGINT)
    # without waiting for a frame that does not come: not for the 10 s read timeout, nor the reopen
    # attempts after it, which would end the run with the stream error instead
    assert run.finish() == 130, run.err
    match = re.fullmatch(rf"dcffnet track: interrupted: (\d+) frames written to {re.escape(str(run.boxes))} and "
                         rf"{re.escape(str(run.video))} \(SIGINT\)", run.last_line)
    assert match, run.err
    written = int(match.group(1))
    assert written == count  # every frame that came was tracked and kept
    lines = _jsonl(run.boxes)
    assert [line["frame"] for line in lines] == list(range(written))
    assert _video_stamps(run.video) == list(range(written))


def test_a_stream_that_never_comes_back_is_a_clear_error_after_the_frames_tracked(track):
    run = track(MjpegServer(fps=30, max_frames=4000), "boxes.jsonl", "--reconnect", "1", video="annotated.avi")
    run.wait_for_lines(8)
    run.server.close()  # stopped for good: connections closed, nobody listens any more
    assert run.finish() == 2, run.err
    last = run.last_line
    assert last.startswith("dcffnet track: error: live source "), run.err  # (FFmpeg's own log lines above it)
    match = re.search(r"dropped after (\d+) frames", last)
    assert match and run.server.url in last and "1 reopen attempt failed" in last, last
    read = int(match.group(1))
    assert f"the boxes of frames 0-{read - 1} are in {run.boxes}" in last, last
    assert f"the annotated video of those frames is in {run.video}" in last, last
    lines = _jsonl(run.boxes)
    assert [line["frame"] for line in lines] == list(range(read))  # every frame read was tracked and kept
    assert _video_stamps(run.video) == list(range(read))
