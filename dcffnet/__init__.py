"""dcffnet: DCFFNet single-object visual tracking (Staged Depthwise Correlation and Feature Fusion).

Quick start::

    import dcffnet
    tracker = dcffnet.Tracker.from_pretrained("path/or/org-name")
    tracker.init(frame, (x, y, w, h))      # BGR uint8 frame, 0-based pixel box
    box, score = tracker.update(next_frame)

``import dcffnet`` does not import torch: the ONNX Runtime path (the bundled default on a CPU)
runs without it; ``dcffnet.models``, ``dcffnet.DCFFNet`` and the hub functions import it when
first used.
"""

from .checkpoint import CheckpointInfo
from .errors import CheckpointError, WeightsNotFoundError
from .hparams import PRESETS, TrackerHParams, get_preset
from .lazy import lazy_exports
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

__getattr__, __dir__ = lazy_exports(__name__, {
    "models": "", "DCFFNet": ".models",
    "load_model": ".hub", "load_pretrained": ".hub", "save_pretrained": ".hub", "push_to_hub": ".hub",
})
