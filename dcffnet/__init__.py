"""dcffnet: DCFFNet single-object visual tracking (Staged Depthwise Correlation and Feature Fusion).

Quick start::

    import dcffnet
    tracker = dcffnet.Tracker.from_pretrained("path/or/org-name")
    tracker.init(frame, (x, y, w, h))      # BGR uint8 frame, 0-based pixel box
    box, score = tracker.update(next_frame)
"""

__version__ = "0.2.0"

from . import models
from .errors import CheckpointError, WeightsNotFoundError
from .hparams import PRESETS, TrackerHParams, get_preset
from .hub import load_model, load_pretrained, push_to_hub, save_pretrained
from .tracker import Tracker, TrackResult

__all__ = [
    "__version__",
    "models",
    "Tracker",
    "TrackResult",
    "TrackerHParams",
    "PRESETS",
    "get_preset",
    "load_model",
    "load_pretrained",
    "save_pretrained",
    "push_to_hub",
    "CheckpointError",
    "WeightsNotFoundError",
]
