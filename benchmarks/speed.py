"""End-to-end tracking speed side by side with NanoTrack: ``dcffnet bench`` on the example clip.

    python benchmarks/speed.py --peer-models MODELS/                 # every section
    python benchmarks/speed.py --peer-models MODELS/ --sections speed multi
    python benchmarks/speed.py --weights path/to/ckpt --frames 149 --repeats 3

The same as ``dcffnet bench`` (see :mod:`dcffnet.bench` for the sections and what is timed), with
the pedestrian of ``examples/assets/vtest_150.mp4`` (768x576) as the default clip instead of a
generated one, so figures in docs/performance.md come from real frames.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from dcffnet.bench import add_arguments, run

ASSET = Path(__file__).resolve().parents[1] / "examples" / "assets" / "vtest_150.mp4"
ASSET_BOX = "639,239,46,83"  # the pedestrian of examples/track_video.py in frame 0 (x, y, w, h)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    parser.set_defaults(video=str(ASSET), box=ASSET_BOX)
    run(parser.parse_args())


if __name__ == "__main__":
    main()
