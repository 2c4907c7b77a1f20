"""got10k toolkit adapter (``pip install "dcffnet[got10k]"``).

    from got10k.experiments import ExperimentOTB
    from dcffnet.integrations.got10k import GOT10kTracker
    ExperimentOTB("data/OTB", version=2015).run(GOT10kTracker("path/to/checkpoint"))

got10k passes PIL RGB images and expects ``update`` to return a numpy ``[x, y, w, h]`` box.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from got10k.trackers import Tracker as _Got10kBase

from ..tracking import Tracker

__all__ = ["GOT10kTracker"]


class GOT10kTracker(_Got10kBase):
    """A dcffnet :class:`~dcffnet.Tracker` behind got10k's ``init(image, box)`` / ``update(image) -> box``.

    Args:
        weights: checkpoint folder, bundled name or hub id (ignored when ``tracker`` is given).
        name: the tracker name in got10k's reports.
        tracker: an existing dcffnet tracker to wrap.
        **kwargs: passed to :class:`dcffnet.Tracker` (``hparams``, ``device``, ...).
    """

    def __init__(self, weights: str = "default", name: str = "dcffnet", tracker: Tracker | None = None,
                 **kwargs: Any) -> None:
        super().__init__(name=name, is_deterministic=True)
        self.tracker = tracker if tracker is not None else Tracker(weights, color="rgb", **kwargs)

    def init(self, image: Any, box: Any) -> None:
        self.tracker.init(image, box)

    def update(self, image: Any) -> np.ndarray:
        return np.asarray(self.tracker.update(image).box, dtype=np.float64)
