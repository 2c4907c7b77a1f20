"""A TraX server for the VOT toolkit (``pip install "dcffnet[vot]"``).

Register it in the workspace's ``trackers.ini``::

    [dcffnet]
    label = dcffnet
    protocol = traxpython
    command = from dcffnet.integrations.trax_server import serve; serve("/abs/path/to/checkpoint")

or run ``python -m dcffnet.integrations.trax_server --weights PATH`` with ``protocol = trax``.
The toolkit sends image file paths (read with OpenCV as BGR) and rectangle or polygon regions
(polygons become area-preserving axis-aligned boxes); every ``initialize`` request re-initialises.
"""

from __future__ import annotations

import argparse
from typing import Any

import cv2
import numpy as np

from ..eval.datasets import polygon_to_box
from ..tracking import Tracker

__all__ = ["serve", "region_to_box"]


def region_to_box(region: Any) -> np.ndarray:
    """A TraX rectangle or polygon as an ``(x, y, w, h)`` box."""
    if hasattr(region, "bounds") and region.type == "rectangle":
        return np.asarray(region.bounds(), dtype=np.float64)
    points = np.array([region.get(i) for i in range(region.size())], dtype=np.float64)
    return polygon_to_box(points.reshape(-1))


def serve(weights: str = "default", hparams: Any = None, device: str | None = None, log: bool = False) -> None:
    """Answer TraX requests on stdin/stdout until the client quits."""
    import trax
    from trax.image import Image
    from trax.region import Rectangle, Region

    tracker = Tracker(weights, hparams=hparams, device=device)
    with trax.Server([Region.RECTANGLE, Region.POLYGON], [Image.PATH], tracker_name="dcffnet", log=log) as server:
        while True:
            request = server.wait()
            if request.type in (trax.TraxStatus.QUIT, trax.TraxStatus.ERROR):
                break
            image = request.image["color"] if isinstance(request.image, dict) else request.image[0]
            frame = cv2.imread(image.path(), cv2.IMREAD_COLOR)
            if frame is None:
                raise ValueError(f"cannot read frame {image.path()}")
            if request.type == trax.TraxStatus.INITIALIZE:
                box = region_to_box(request.objects[0][0])
                tracker.init(frame, box)
                result, score = tuple(float(v) for v in box), 1.0
            else:
                result, score = tracker.update(frame)
            server.status([(Rectangle.create(*result), {"confidence": float(score)})])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="dcffnet TraX server for the VOT toolkit")
    parser.add_argument("--weights", default="default")
    parser.add_argument("--preset", default=None)
    parser.add_argument("--device", default=None)
    args = parser.parse_args(argv)
    serve(args.weights, args.preset, args.device)


if __name__ == "__main__":
    main()
