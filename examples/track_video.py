"""Track one object through a video with dcffnet and write an annotated copy.

With no arguments it tracks a pedestrian in the bundled 150-frame OpenCV sample clip
(examples/assets/vtest_150.mp4) with the default weights and writes ``tracked.mp4``:

    python examples/track_video.py
    python examples/track_video.py --video my.mp4 --box 120,80,40,60 --weights path/to/checkpoint
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dcffnet.cli import parse_box, run_track

ASSETS = Path(__file__).resolve().parent / "assets"
DEMO_VIDEO = ASSETS / "vtest_150.mp4"
DEMO_BOX = (639.0, 239.0, 46.0, 83.0)  # x, y, w, h of the pedestrian in frame 0 (see assets/ATTRIBUTION.md)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--video", default=str(DEMO_VIDEO), help="video file or folder of frames")
    parser.add_argument("--box", type=parse_box, default=None, help="x,y,w,h in the first frame (pixels, 0-based)")
    parser.add_argument("--weights", default="default", help="checkpoint folder, bundled name or hub repo id")
    parser.add_argument("--output", default="tracked.mp4", help="annotated video to write")
    parser.add_argument("--boxes", default=None, help="also write x,y,w,h per frame to this file")
    parser.add_argument("--device", default=None, help="cpu (default) or cuda")
    args = parser.parse_args(argv)

    box = args.box
    if box is None:
        if Path(args.video).resolve() != DEMO_VIDEO:
            parser.error("--box is required for your own video")
        box = DEMO_BOX
    stats = run_track(args.video, box, args.weights, device=args.device, output=args.output, boxes_path=args.boxes)
    print(f"wrote {args.output}; {stats['fps']:.1f} FPS end to end, {stats['tracker_fps']:.1f} FPS tracker only")
    return 0


if __name__ == "__main__":
    sys.exit(main())
