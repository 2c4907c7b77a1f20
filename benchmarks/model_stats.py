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

import torch

from dcffnet.bench import measure  # the measuring code lives in the package (also behind `dcffnet bench`)
from dcffnet.models import list_models


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
