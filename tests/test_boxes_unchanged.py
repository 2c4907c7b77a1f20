"""Tracking is bit-identical to dcffnet 0.4.0 on a real clip (ONNX backend, 0.4.0's default
checkpoint, bundled since as ``fast``): the stages, state records and components of the tracking
pipeline changed how the code is organised, not one box. The reference boxes in ``tests/data/vtest_150_boxes_0.4.0.csv`` were recorded with
0.4.0; a change that is meant to move boxes must re-record them and say so in the CHANGELOG."""

from __future__ import annotations

import csv
from pathlib import Path

import cv2
import pytest

import dcffnet

ROOT = Path(__file__).resolve().parents[1]
CLIP = ROOT / "examples" / "assets" / "vtest_150.mp4"
REFERENCE = Path(__file__).parent / "data" / "vtest_150_boxes_0.4.0.csv"
RUNS = {"stored": None, "responsive": {"lost_threshold": 0.5, "lost_after": 3, "found_threshold": 0.8}}


def read_reference() -> dict[str, list[list[str]]]:
    rows: dict[str, list[list[str]]] = {name: [] for name in RUNS}
    with REFERENCE.open() as fh:
        for row in csv.reader(line for line in fh if not line.startswith("#")):
            if row[0] != "run":
                rows[row[0]].append(row[1:])
    return rows


@pytest.mark.parametrize("run", sorted(RUNS))
def test_boxes_equal_0_4_0_exactly(run):
    cap = cv2.VideoCapture(str(CLIP))
    frames = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame)
    expected = read_reference()[run]
    assert len(frames) == 150 and len(expected) == 149
    tracker = dcffnet.Tracker("fast", backend="onnx", threads=1, hparams=RUNS[run])
    tracker.init(frames[0], (290.0, 220.0, 40.0, 80.0))
    for index, frame in enumerate(frames[1:], start=1):
        result = tracker.update(frame)
        got = [str(index), *(repr(v) for v in result.box), repr(result.score), result.state.value]
        assert got == expected[index - 1], f"frame {index} of run {run!r}"
