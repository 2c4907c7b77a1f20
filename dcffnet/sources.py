"""Where ``dcffnet track`` reads frames from: :func:`open_source` turns what the user typed (a video
file, a folder of images, a camera index, a stream URL or a GStreamer pipeline) into a source whose
:meth:`frames` yields :class:`SourceFrame` items.

A :class:`SourceFrame` with ``image=None`` marks a frame the source should have delivered but could
not (a stream gap); writers mark such frames as missing. Indices are 0-based and increase by one per
frame of the source; frames skipped on purpose (``realtime`` mode) leave gaps in the indices.
"""

from __future__ import annotations

import os
from typing import Iterator, NamedTuple, Protocol

import numpy as np

__all__ = ["SourceFrame", "Source", "open_source"]


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


def open_source(spec: "str | int | os.PathLike[str]") -> Source:
    """Open a video file or image folder (a :class:`dcffnet.video.FrameSource`).

    Raises:
        FileNotFoundError: ``spec`` names no file or folder.
        ValueError: a file OpenCV cannot open, or a folder without images.
    """
    from .video import FrameSource

    return FrameSource(spec)
