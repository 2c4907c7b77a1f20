"""FPS cost of each tracking component (issue 25: "a table ... gives each component's out-of-fold
gain and its cost in FPS").

Usage::

    python benchmarks/components.py                      # the bundled example clip, 5 rounds
    python benchmarks/components.py --video my.mp4 --box 10,20,40,60 --rounds 7

Protocol: the frames of the clip are decoded into memory first; for each setting a fresh
``dcffnet.Tracker(weights, threads=1)`` gets the checkpoint's own values with every component
switched off, plus that one component switched on with the values given below (those tried on
val), and tracks the whole clip; only ``init`` / ``update`` calls are timed
(:func:`dcffnet.tracking.loop.track_frames`). The settings run in turn, ``--rounds`` times, so
slow phases of a shared machine hit all of them alike; the table gives each setting's median FPS
and its ratio to the all-off median. Run nothing else while it runs.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
from datetime import date
from pathlib import Path

#: every component off (on top of the checkpoint's own values)
OFF = {"motion_prior": 0.0, "report_lost_below": 0.0, "template_update": 0.0, "distractor_weight": 0.0}
#: one setting per component: the values tried on val (docs/model-card.md)
SETTINGS = {
    "all off": {},
    "LostReport (0.5 / 1 / 0.5)": {"report_lost_below": 0.5, "report_lost_after": 1, "report_found_above": 0.5},
    "MotionPrior (0.5)": {"motion_prior": 0.5},
    "TemplateUpdate (0.05, every 10, above 0.5)": {"template_update": 0.05, "template_update_every": 10,
                                                   "template_update_above": 0.5},
    "DistractorMemory (0.3, above 0.3)": {"distractor_weight": 0.3, "distractor_above": 0.3},
}
EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "assets" / "vtest_150.mp4"
EXAMPLE_BOX = (639.0, 239.0, 46.0, 83.0)  # the pedestrian of examples/track_video.py


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--video", default=str(EXAMPLE), help="video file or folder of frames (default: the example clip)")
    parser.add_argument("--box", default=None, help="x,y,w,h in the first frame (default: the example's pedestrian)")
    parser.add_argument("--weights", default="default", help="checkpoint (default: %(default)s)")
    parser.add_argument("--rounds", type=int, default=5, help="passes over the settings (default: %(default)s)")
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error(f"--rounds must be >= 1, got {args.rounds}")

    import dcffnet
    from dcffnet.track_run import parse_box
    from dcffnet.tracking.loop import track_frames
    from dcffnet.video import FrameSource

    box = EXAMPLE_BOX if args.box is None else parse_box(args.box)
    if args.box is None and Path(args.video) != EXAMPLE:
        parser.error("--box is required with --video")
    frames = list(FrameSource(args.video))
    base = dataclasses.replace(dcffnet.Tracker(args.weights, threads=1).hparams, **OFF)
    fps: dict[str, list[float]] = {name: [] for name in SETTINGS}
    for _ in range(args.rounds):
        for name, values in SETTINGS.items():
            tracker = dcffnet.Tracker(args.weights, threads=1, hparams=dataclasses.replace(base, **values))
            fps[name].append(track_frames(tracker, frames, box).fps)
    reference = statistics.median(fps["all off"])
    print(f"{args.weights}, {len(frames)} frames of {args.video}, threads=1, median of {args.rounds} rounds, "
          f"{date.today().isoformat()}\n")
    print("| setting | FPS | x all off |\n|---|---:|---:|")
    for name, values in fps.items():
        median = statistics.median(values)
        print(f"| {name} | {median:.1f} | {median / reference:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
