"""SIGINT / SIGTERM during ``dcffnet track`` (docs/reliability.md): the run stops after the current
frame, the boxes file holds a whole line for every frame reported, the annotated video is closed
and readable, the exit status is 130 / 143 and one line says how many frames were written."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time

import pytest

from dcffnet.cli import main
from dcffnet.interrupts import StopSignals
from dcffnet.video import FrameSource
from track_clips import box_arg, write_clip

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="POSIX signals")

SIGNALS = [signal.SIGINT, signal.SIGTERM]


class _Escaped(Exception):
    """Raised by the guard handler: a signal reached the test instead of the code under test."""


@pytest.fixture
def guarded_signals():
    """SIGINT and SIGTERM raise ``_Escaped`` unless the code under test installs its own handler
    (so a failure cannot kill or interrupt pytest itself); the originals come back afterwards."""

    def escaped(signum, frame):
        raise _Escaped(signal.Signals(signum).name)

    originals = {sig: signal.signal(sig, escaped) for sig in SIGNALS}
    yield escaped
    for sig, handler in originals.items():
        signal.signal(sig, handler)


def _default_signals() -> None:  # in the child, before exec: a runner may have ignored SIGINT
    for sig in SIGNALS:
        signal.signal(sig, signal.SIG_DFL)


def _boxes_lines(text: str) -> list[tuple[float, ...]]:
    assert text.endswith("\n"), "the boxes file ends inside a line"
    rows = [tuple(float(v) for v in line.split(",")) for line in text.splitlines()]
    assert all(len(row) == 4 for row in rows)
    return rows


@pytest.mark.parametrize("sig", SIGNALS, ids=lambda s: signal.Signals(s).name)
def test_a_signal_mid_run_keeps_every_tracked_frame(tmp_path, checkpoint_dir, sig):
    clip, frames = tmp_path / "long clip.avi", 1500
    box = write_clip(clip, frames)
    boxes, video = tmp_path / "boxes.txt", tmp_path / "annotated.avi"
    command = [sys.executable, "-m", "dcffnet", "track", str(clip), "--box", box_arg(box), "--weights",
               str(checkpoint_dir), "--boxes", str(boxes), "--output", str(video), "--no-progress"]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=_default_signals)
    try:
        deadline = time.monotonic() + 120
        while not boxes.exists() or boxes.read_text().count("\n") < 5:  # signal once it is tracking
            assert proc.poll() is None, f"dcffnet track ended before the signal: {proc.communicate()[1]}"
            assert time.monotonic() < deadline, "no boxes were on disk while tracking"
            time.sleep(0.05)
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 128 + sig, err  # 130 for SIGINT, 143 for SIGTERM
    last = err.strip().splitlines()[-1]
    match = re.fullmatch(rf"dcffnet track: interrupted: (\d+) frames written to {re.escape(str(boxes))} and "
                         rf"{re.escape(str(video))} \({signal.Signals(sig).name}\)", last)
    assert match, err
    written = int(match.group(1))
    rows = _boxes_lines(boxes.read_text())
    assert 5 <= written < frames and len(rows) == written
    assert box_arg(rows[0]) == box_arg(box)
    assert len(list(FrameSource(video))) == written  # closed properly: every frame decodes


@pytest.mark.parametrize("sig", SIGNALS, ids=lambda s: signal.Signals(s).name)
def test_a_signal_stops_after_the_current_frame_and_handlers_come_back(tmp_path, monkeypatch, checkpoint_dir,
                                                                        guarded_signals, capsys, sig):
    clip = tmp_path / "clip.avi"
    box = write_clip(clip, 20)
    read = FrameSource.__iter__

    def signal_at_frame_7(self):
        for index, frame in enumerate(read(self)):
            if index == 7:
                os.kill(os.getpid(), sig)
            yield frame

    monkeypatch.setattr(FrameSource, "__iter__", signal_at_frame_7)
    boxes = tmp_path / "boxes.txt"
    code = main(["track", str(clip), "--box", box_arg(box), "--weights", str(checkpoint_dir), "--boxes", str(boxes),
                 "--no-progress"])
    err = capsys.readouterr().err.strip()
    assert code == 128 + sig
    assert err == f"dcffnet track: interrupted: 8 frames written to {boxes} ({signal.Signals(sig).name})"
    assert len(_boxes_lines(boxes.read_text())) == 8  # frames 0-7: the one in flight is finished
    assert all(signal.getsignal(s) is guarded_signals for s in SIGNALS)


def test_a_second_signal_inside_a_step_stops_the_run_there(tmp_path, monkeypatch, checkpoint_dir, guarded_signals,
                                                           capsys):
    clip = tmp_path / "clip.avi"
    box = write_clip(clip, 20)
    read = FrameSource.__iter__

    def two_signals_while_reading_frame_7(self):  # as if decoding frame 7 hung and the user insisted
        for index, frame in enumerate(read(self)):
            if index == 7:
                os.kill(os.getpid(), signal.SIGTERM)
                os.kill(os.getpid(), signal.SIGINT)
            yield frame

    monkeypatch.setattr(FrameSource, "__iter__", two_signals_while_reading_frame_7)
    boxes, video = tmp_path / "boxes.txt", tmp_path / "annotated.avi"
    code = main(["track", str(clip), "--box", box_arg(box), "--weights", str(checkpoint_dir), "--boxes", str(boxes),
                 "--output", str(video), "--no-progress"])
    assert code == 128 + signal.SIGTERM  # the first signal names the stop
    assert capsys.readouterr().err.strip() == f"dcffnet track: interrupted: 7 frames written to {boxes} and {video} (SIGTERM)"
    assert len(_boxes_lines(boxes.read_text())) == 7 and len(list(FrameSource(video))) == 7
    assert all(signal.getsignal(s) is guarded_signals for s in SIGNALS)


def test_a_second_signal_stops_at_once(guarded_signals):
    with StopSignals() as stop:
        os.kill(os.getpid(), signal.SIGTERM)
        assert stop.requested and stop.signum == signal.SIGTERM
        with pytest.raises(KeyboardInterrupt, match="received twice"):
            os.kill(os.getpid(), signal.SIGINT)
    assert signal.getsignal(signal.SIGTERM) is guarded_signals


def test_ignored_signals_stay_ignored_and_other_threads_change_nothing(guarded_signals):
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    with StopSignals():
        assert signal.getsignal(signal.SIGTERM) is signal.SIG_IGN
        assert signal.getsignal(signal.SIGINT) is not guarded_signals
    assert signal.getsignal(signal.SIGINT) is guarded_signals
    seen = []

    def in_a_thread():
        with StopSignals() as stop:
            seen.append((signal.getsignal(signal.SIGINT), stop.requested))

    thread = threading.Thread(target=in_a_thread)
    thread.start()
    thread.join()
    assert seen == [(guarded_signals, False)]
