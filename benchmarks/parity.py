"""Do the backends give the same boxes? ONNX Runtime against PyTorch, and PyTorch against itself at
another thread count, on the pedestrian clip of ``examples/track_video.py``.

    python benchmarks/parity.py                         # bundled default, 150 frames
    python benchmarks/parity.py --weights CKPT --video V.mp4 --box x,y,w,h

*Open loop*: both trackers start every frame from the same state (the reference's), so any
difference is the network's float rounding. *Closed loop*: each tracker runs on its own; rounding
then feeds back through the next crop (``cv2.warpAffine`` samples at 1/32 px) and trajectories can
drift apart. Prints the mean and largest box difference (pixels, largest of the four coordinates)
and the largest score difference.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import dcffnet
from dcffnet.bench import read_video_frames

ASSET = Path(__file__).resolve().parents[1] / "examples" / "assets" / "vtest_150.mp4"
ASSET_BOX = "639,239,46,83"


def open_loop(reference: "dcffnet.Tracker", other: "dcffnet.Tracker", frames: list[np.ndarray],
              box: tuple[float, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame box and score differences when ``other`` is given ``reference``'s state each frame."""
    reference.init(frames[0], box)
    other.init(frames[0], box)
    box_diff, score_diff = [], []
    for frame in frames[1:]:
        other.target.take_position(reference.target)
        a, b = reference.update(frame), other.update(frame)
        box_diff.append(np.abs(np.subtract(a.box, b.box)).max())
        score_diff.append(abs(a.score - b.score))
    return np.array(box_diff), np.array(score_diff)


def closed_loop(reference: "dcffnet.Tracker", other: "dcffnet.Tracker", frames: list[np.ndarray],
                box: tuple[float, ...]) -> np.ndarray:
    """Per-frame box differences of two independent runs."""
    a = np.array([r.box for r in reference.track(frames, box)])
    b = np.array([r.box for r in other.track(frames, box)])
    return np.abs(a - b).max(axis=1)[1:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--weights", default="default")
    parser.add_argument("--video", default=str(ASSET))
    parser.add_argument("--box", default=ASSET_BOX, help="x,y,w,h of the target in the first frame")
    parser.add_argument("--frames", type=int, default=150)
    args = parser.parse_args()
    frames = read_video_frames(args.video, args.frames)
    box = tuple(float(v) for v in args.box.split(","))
    model = dcffnet.DCFFNet.from_pretrained(args.weights)
    pairs = {
        "ONNX Runtime vs PyTorch (1 thread each)": (dict(backend="torch", threads=1), dict(backend="onnx", threads=1)),
        "ONNX Runtime 2 threads vs 1": (dict(backend="onnx", threads=1), dict(backend="onnx", threads=2)),
        "PyTorch 2 threads vs 1": (dict(backend="torch", threads=1), dict(backend="torch", threads=2)),
    }
    print(f"# {args.weights}, {len(frames)} frames of {Path(args.video).name}")
    print("\n| pair | open loop: mean / max box diff (px) | max score diff | closed loop: mean / max box diff (px) |")
    print("|---|---:|---:|---:|")
    for name, (ka, kb) in pairs.items():
        a, b = dcffnet.Tracker(model=model, **ka), dcffnet.Tracker(model=model, **kb)
        boxes, scores = open_loop(a, b, frames, box)
        drift = closed_loop(a, b, frames, box)
        print(f"| {name} | {boxes.mean():.4f} / {boxes.max():.4f} | {scores.max():.1e} | "
              f"{drift.mean():.3f} / {drift.max():.3f} |", flush=True)


if __name__ == "__main__":
    main()
