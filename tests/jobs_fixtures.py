"""Helpers of the batch-job tests: three short benchmark sequences cut from the real clip
examples/assets/vtest_150.mp4, a track-many manifest over them, and small task functions that a pool
worker or a Ray worker imports from this folder."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import cv2

from dcffnet.tracking.threads import thread_candidates

ROOT = Path(__file__).resolve().parents[1]
CLIP = ROOT / "examples" / "assets" / "vtest_150.mp4"
REFERENCE = Path(__file__).parent / "data" / "vtest_150_boxes_0.4.0.csv"
#: frames per sequence and the clip frame each sequence starts at
LENGTH = 20
STARTS = (0, 20, 40)


def reference_boxes() -> dict[int, list[float]]:
    """``{frame: [x, y, w, h]}`` of the person tracked in the clip (0.4.0's recorded boxes; frame 0
    is the box they started from)."""
    boxes = {0: [290.0, 220.0, 40.0, 80.0]}
    with REFERENCE.open() as fh:
        for row in csv.reader(line for line in fh if not line.startswith("#")):
            if row[0] == "stored":
                boxes[int(row[1])] = [float(v) for v in row[2:6]]
    return boxes


def make_sequences(root: Path) -> Path:
    """Write ``root/val/seq{0,1,2}`` in the ``folder`` benchmark layout (``img/*.jpg`` and
    ``groundtruth.txt``), 20 frames each from the clip; returns ``root/val``."""
    cap = cv2.VideoCapture(str(CLIP))
    frames = []
    while len(frames) < max(STARTS) + LENGTH:
        ok, frame = cap.read()
        assert ok, f"cannot read {CLIP}"
        frames.append(frame)
    cap.release()
    gt = reference_boxes()
    val = root / "val"
    for k, start in enumerate(STARTS):
        img = val / f"seq{k}" / "img"
        img.mkdir(parents=True)
        for i in range(LENGTH):
            cv2.imwrite(str(img / f"{i + 1:08d}.jpg"), frames[start + i])
        lines = [",".join(f"{v:.3f}" for v in gt[start + i]) for i in range(LENGTH)]
        (val / f"seq{k}" / "groundtruth.txt").write_text("\n".join(lines) + "\n")
    return val


def write_manifest(path: Path, val: Path, out: str, extra: list[dict] | None = None) -> Path:
    """A track-many manifest at ``path``: one entry per sequence of ``val`` (relative paths, boxes
    to ``OUT/seqK.txt``), then the ``extra`` entries."""
    gt = reference_boxes()
    rows = [{"source": os.path.relpath(val / f"seq{k}" / "img", path.parent), "box": gt[start],
             "boxes": f"{out}/seq{k}.txt"} for k, start in enumerate(STARTS)]
    rows += extra or []
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


# ---------------------------------------------------------------------------------- task functions
def where_am_i() -> dict:
    """The cores, thread budget and ``threads="auto"`` candidates of the process running the task."""
    cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return {"pid": os.getpid(), "cores": cores, "budget": os.environ.get("DCFFNET_MAX_THREADS"),
            "candidates": list(thread_candidates())}


def fail_first_time(marker: str, value: int) -> int:
    """Fails (``RuntimeError``) the first time it runs for ``marker`` (a file it creates), then
    returns ``value``: a task that a retry makes finish, in any process."""
    path = Path(marker)
    if not path.exists():
        path.write_text("failed once\n")
        raise RuntimeError(f"first attempt fails on purpose ({path.name})")
    return value


def always_fails(what: str) -> None:
    """Fails every time, saying ``what``."""
    raise ValueError(f"no such thing: {what}")


def double(value: int) -> int:
    """``2 * value``."""
    return 2 * value
