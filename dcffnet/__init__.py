"""dcffnet: DCFFNet single-object visual tracking (Staged Depthwise Correlation and Feature Fusion).

Quick start::

    import dcffnet
    tracker = dcffnet.Tracker.from_pretrained("path/or/org-name")
    tracker.init(frame, (x, y, w, h))      # BGR uint8 frame, 0-based pixel box
    box, score = tracker.update(next_frame)
"""

from . import models
from .checkpoint import CheckpointInfo
from .errors import CheckpointError, WeightsNotFoundError
from .hparams import PRESETS, TrackerHParams, get_preset
from .hub import load_model, load_pretrained, push_to_hub, save_pretrained
from .models import DCFFNet
from .tracking import MultiTracker, Tracker, TrackResult, track_frames
from .version import __version__

__all__ = [
    "__version__",
    "models",
    "DCFFNet",
    "CheckpointInfo",
    "Tracker",
    "MultiTracker",
    "TrackResult",
    "track_frames",
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
