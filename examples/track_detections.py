"""Track detections with dcffnet in a supervision pipeline: boxes, labels and a line counter.

Needs ``pip install "dcffnet[supervision]"``. With no arguments it starts one target per
pedestrian of the first frame of the bundled clip (examples/assets/vtest_150.mp4; the three boxes
below stand in for a detector, so nothing is downloaded), tracks them with
:class:`dcffnet.integrations.supervision.SupervisionTracker`, draws them with supervision's
``BoxAnnotator`` and ``LabelAnnotator``, counts crossings of a vertical ``LineZone`` and writes
``out/track_detections.mp4``:

    python examples/track_detections.py
    python examples/track_detections.py --max-frames 30 --output /tmp/tracked.mp4

To put a real detector in front, replace ``first_frame_detections`` with its output, e.g.
``sv.Detections.from_ultralytics(YOLO("yolov8n.pt")(frame)[0])`` (docs/integrations.md).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import supervision as sv

from dcffnet.integrations.supervision import SupervisionTracker

ASSETS = Path(__file__).resolve().parent / "assets"
DEMO_VIDEO = ASSETS / "vtest_150.mp4"
#: the three pedestrians of frame 0 as a detector would report them: x1, y1, x2, y2 (pixels, 0-based)
DEMO_XYXY = np.array([[252.0, 219.0, 283.0, 309.0],
                      [499.0, 156.0, 531.0, 234.0],
                      [639.0, 239.0, 685.0, 322.0]])
#: a vertical counting line (pixels) the walkers on the right cross on their way left
LINE = (sv.Point(450, 100), sv.Point(450, 420))


def first_frame_detections() -> sv.Detections:
    """The stand-in detector output for frame 0: three people, class 0 ``"person"``."""
    count = len(DEMO_XYXY)
    return sv.Detections(xyxy=DEMO_XYXY.copy(), confidence=np.ones(count), class_id=np.zeros(count, dtype=int),
                         data={"class_name": np.array(["person"] * count)})


def labels(tracked: sv.Detections) -> list[str]:
    """``#id score`` per target, ``lost`` added while it is lost."""
    return [f"#{tracker_id} {score:.2f}" + (" lost" if lost else "")
            for tracker_id, score, lost in zip(tracked.tracker_id, tracked.confidence, tracked.data["lost"])]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", default="out/track_detections.mp4", help="annotated video to write")
    parser.add_argument("--max-frames", type=int, default=None, help="stop after this many frames (default: all)")
    parser.add_argument("--weights", default="default", help="checkpoint folder, bundled name or hub repo id")
    parser.add_argument("--device", default=None, help="cpu (default) or cuda")
    args = parser.parse_args(argv)
    if args.max_frames is not None and args.max_frames < 1:
        parser.error(f"--max-frames must be at least 1, got {args.max_frames}")
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)

    tracker = SupervisionTracker(args.weights, device=args.device)
    line = sv.LineZone(start=LINE[0], end=LINE[1])
    by_track = sv.ColorLookup.TRACK  # one colour per target (the default colours by class)
    boxes, names = sv.BoxAnnotator(color_lookup=by_track), sv.LabelAnnotator(color_lookup=by_track)
    line_drawer = sv.LineZoneAnnotator()
    info = sv.VideoInfo.from_video_path(str(DEMO_VIDEO))
    lost_frames: dict[int, int] = {}
    count = 0
    with sv.VideoSink(str(output), info) as sink:
        for frame in sv.get_video_frames_generator(str(DEMO_VIDEO), end=args.max_frames):
            if count == 0:
                tracked = tracker.start(frame, first_frame_detections())
            else:
                tracked = tracker.update(frame)
            line.trigger(tracked)
            for tracker_id, lost in zip(tracked.tracker_id, tracked.data["lost"]):
                lost_frames[int(tracker_id)] = lost_frames.get(int(tracker_id), 0) + int(lost)
            scene = boxes.annotate(frame.copy(), tracked)
            scene = names.annotate(scene, tracked, labels=labels(tracked))
            sink.write_frame(line_drawer.annotate(scene, line_counter=line))
            count += 1

    print(f"tracked {len(tracker)} targets over {count} frames; line crossings: {line.in_count} in, "
          f"{line.out_count} out; frames lost per target: {lost_frames}")
    print(f"wrote {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
