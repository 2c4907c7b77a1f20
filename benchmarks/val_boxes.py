"""Record every box a tracker produces on a dataset, or compare against a recording.

Used to show that a refactoring leaves tracking bit-identical (issue: tracker stages):

    python benchmarks/val_boxes.py DATA_ROOT --out boxes-before.npz
    python benchmarks/val_boxes.py DATA_ROOT --compare boxes-before.npz

Each sequence is tracked once from its first ground-truth box with ``dcffnet.Tracker``
(``--weights``, the given backend, 1 thread so the run is reproducible); boxes, scores and states are
stored per sequence. ``--compare`` prints the largest difference per sequence and exits 1 when any
value differs.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np


def record(root: str, backend: str, fmt: str, weights: str = "default") -> dict[str, np.ndarray]:
    import dcffnet
    from dcffnet.data import read_dataset
    from dcffnet.data.frames import read_frame

    tracker = dcffnet.Tracker(weights, backend=backend, threads=1)
    out: dict[str, np.ndarray] = {}
    for seq in read_dataset(fmt, root):
        first = np.asarray(seq.boxes[0])
        rows = []
        for index, path in enumerate(seq.frames):
            frame = read_frame(path)
            if index == 0:
                tracker.init(frame, tuple(first))
                rows.append([*first, 1.0, 0.0])
            else:
                result = tracker.update(frame)
                rows.append([*result.box, result.score, float(list(type(result.state)).index(result.state))])
        out[seq.name] = np.asarray(rows, dtype=np.float64)
        print(f"{seq.name}: {len(rows)} frames", file=sys.stderr)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("root")
    parser.add_argument("--format", default="folder")
    parser.add_argument("--backend", default="onnx")
    parser.add_argument("--weights", default="default", help="checkpoint (0.4.0's default is bundled as 'fast')")
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--out")
    group.add_argument("--compare")
    args = parser.parse_args()
    boxes = record(args.root, args.backend, args.format, args.weights)
    if args.out:
        np.savez(args.out, **boxes)
        return 0
    reference = np.load(args.compare)
    differ = 0
    for name in sorted(set(reference.files) | set(boxes)):
        if name not in boxes or name not in reference.files:
            print(f"{name}: only in {'the recording' if name in reference.files else 'this run'}")
            differ += 1
            continue
        a, b = reference[name], boxes[name]
        same = a.shape == b.shape and np.array_equal(a, b, equal_nan=True)
        diff = float(np.nanmax(np.abs(a - b))) if a.shape == b.shape else float("inf")
        print(f"{name}: {'identical' if same else f'DIFFERS (max {diff:.3g})'} ({len(b)} frames)")
        differ += not same
    print(f"{len(boxes) - differ} of {len(set(reference.files) | set(boxes))} sequences bit-identical")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
