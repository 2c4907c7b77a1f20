"""What every frame source yields (:class:`SourceFrame`) and offers (:class:`Source`): the types
shared by the file reader (:class:`dcffnet.video.FrameSource`), the live reader
(:class:`dcffnet.live.LiveSource`) and their dispatcher :func:`dcffnet.sources.open_source`."""

from __future__ import annotations

from typing import Iterator, NamedTuple, Protocol

import numpy as np

__all__ = ["SourceFrame", "Source"]


class SourceFrame(NamedTuple):
    """One frame of a source.

    Attributes:
        index: 0-based frame number in the source.
        time: seconds since the source was opened (file sources: ``index / fps``).
        image: the BGR uint8 frame, or ``None`` for a frame the source lost (a stream gap).
    """

    index: int
    time: float
    image: np.ndarray | None


class Source(Protocol):
    """What :func:`open_source` returns."""

    fps: float
    frame_count: int  # 0 when unknown (live sources)

    def frames(self) -> Iterator[SourceFrame]:
        """The frames in order (see :class:`SourceFrame`)."""
        ...

    def close(self) -> None:
        """Stop reading (threads, captures); safe to call twice."""
        ...
