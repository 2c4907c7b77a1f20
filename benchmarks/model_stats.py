"""Parameters, FLOPs and CPU speed of every registered DCFFNet config.

    python benchmarks/model_stats.py                 # params + FLOPs (+ timing) for all configs
    python benchmarks/model_stats.py --no-timing     # params + FLOPs only
    python benchmarks/model_stats.py --models dcffnet_tiny --frames 200
    python benchmarks/model_stats.py --models dcffnet_r50 --cf none first second double
    python benchmarks/model_stats.py --weights default --frames 300   # a checkpoint (here: the bundled one)
    python benchmarks/model_stats.py --weights default --frames 300 --repeats 5   # median of 5 timings

FLOPs are counted by ``torch.utils.flop_counter`` (one multiply-add = 2 FLOPs) for batch 1:
``template`` is the once-per-target branch run at ``init``; ``per frame`` is the search branch with
both correlation-fusion stages and the head. ``model ms`` times ``model.track`` on a fixed crop;
``end-to-end FPS`` times ``Tracker.update`` on a 640x480 frame (crop + network + decode), random
weights (speed does not depend on the weights) unless ``--weights`` names a checkpoint, whose own
architecture, arguments, weights and tracking hyper-parameters are then measured. Threads: ``torch.get_num_threads()``.
With ``--repeats N`` both timings are taken N times in a row; the table shows the median, and a last
column the slowest and fastest end-to-end run (CPU timings on shared machines vary from run to run).
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

from dcffnet import DCFFNet, Tracker, track_frames
from dcffnet.models import create, list_models


def count_flops(fn) -> int:
    with FlopCounterMode(display=False) as counter:
        fn()
    return int(counter.get_total_flops())


def measure(name: str, frames: int, timing: bool, cf: str | None = None,
            weights: str | None = None, repeats: int = 1) -> dict[str, float | str]:
    """One table row for registry config ``name`` (random weights) or, with ``weights``, that checkpoint.

    Timings are medians over ``repeats`` runs: ``model_ms`` (milliseconds per ``model.track``) and
    ``e2e_fps`` (``Tracker.update`` calls per second on a 640x480 frame); ``e2e_fps_min`` /
    ``e2e_fps_max`` are the slowest and fastest of those runs.
    """
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    if weights is not None:
        model = DCFFNet.from_pretrained(weights)
        name = f"{weights} ({model.architecture})"
    else:
        model = create(name, **({} if cf is None else {"cf": cf})).eval()
    g = model.geometry
    z = torch.rand(1, 3, g.template_size, g.template_size) * 255
    x = torch.rand(1, 3, g.search_size, g.search_size) * 255
    with torch.inference_mode():
        template = model.template(z)
        row: dict[str, float | str] = {
            "model": name if cf is None else f"{name} cf={cf}",
            "params_M": sum(p.numel() for p in model.parameters()) / 1e6,
            "template_GFLOPs": count_flops(lambda: model.template(z)) / 1e9,
            "frame_GFLOPs": count_flops(lambda: model.track(x, template)) / 1e9,
            "response": f"{g.size}x{g.size}",
        }
        if timing:
            for _ in range(3):
                model.track(x, template)
            n = max(5, frames // 4)
            model_ms = []
            for _ in range(repeats):
                t0 = time.perf_counter()
                for _ in range(n):
                    model.track(x, template)
                model_ms.append((time.perf_counter() - t0) / n * 1000)
            row["model_ms"] = statistics.median(model_ms)
    if timing:
        rng = np.random.default_rng(0)
        frame = rng.integers(0, 256, (480, 640, 3), dtype=np.uint8)
        tracker = Tracker(model=model)  # a checkpoint's own tracking values travel with its network
        track_frames(tracker, [frame] * 4, (300, 200, 60, 80))  # warm-up
        fps = []
        for _ in range(repeats):
            run = track_frames(tracker, [frame] * (frames + 1), (300, 200, 60, 80))
            fps.append(frames / float(run.times[1:].sum()))
        row["e2e_fps"] = statistics.median(fps)
        row["e2e_fps_min"], row["e2e_fps_max"] = min(fps), max(fps)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="*", default=list_models())
    parser.add_argument("--frames", type=int, default=50, help="tracked frames per config for the FPS figure")
    parser.add_argument("--no-timing", action="store_true")
    parser.add_argument("--weights", default=None,
                        help="measure this checkpoint (folder, bundled name or hub id) instead of --models")
    parser.add_argument("--cf", nargs="*", default=None, choices=["none", "first", "second", "double"],
                        help="measure these correlation-fusion variants of each model (default: as registered)")
    parser.add_argument("--repeats", type=int, default=1,
                        help="time each config this many times in a row and report the median (default 1)")
    args = parser.parse_args()
    if args.repeats < 1:
        parser.error(f"--repeats must be >= 1, got {args.repeats}")
    print(f"# torch {torch.__version__}, {torch.get_num_threads()} threads, {platform.processor() or platform.machine()}")
    header = "| model | params (M) | template GFLOPs | per-frame GFLOPs | response |"
    sep = "|---|---:|---:|---:|---|"
    if not args.no_timing:
        header += " model ms | end-to-end FPS |"
        sep += "---:|---:|"
        if args.repeats > 1:
            header += f" end-to-end FPS range ({args.repeats} runs) |"
            sep += "---|"
    print(header)
    print(sep)
    variants = [(name, cf) for name in args.models for cf in (args.cf or [None])]
    if args.weights is not None:
        variants = [("", None)]
    for name, cf in variants:
        r = measure(name, args.frames, not args.no_timing, cf, args.weights, args.repeats)
        line = (f"| {r['model']} | {r['params_M']:.2f} | {r['template_GFLOPs']:.2f} | {r['frame_GFLOPs']:.2f} "
                f"| {r['response']} |")
        if not args.no_timing:
            line += f" {r['model_ms']:.1f} | {r['e2e_fps']:.1f} |"
            if args.repeats > 1:
                line += f" {r['e2e_fps_min']:.1f}-{r['e2e_fps_max']:.1f} |"
        print(line, flush=True)


if __name__ == "__main__":
    main()
