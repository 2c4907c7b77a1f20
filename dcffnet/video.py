"""Frame sources (a video file or a folder of images) and the annotated-video writer."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator, Sequence

import cv2
import numpy as np

from .data.frames import IMAGE_SUFFIXES, list_images

__all__ = ["IMAGE_SUFFIXES", "FrameReadError", "FrameSource", "AnnotatedVideoWriter", "draw_box", "write_boxes"]


class FrameReadError(ValueError):
    """A frame of a video or image folder could not be read; ``index`` is its 0-based number."""

    def __init__(self, message: str, index: int) -> None:
        super().__init__(message)
        self.index = index


class FrameSource:
    """Frames of a video file or of a folder of images (sorted by file name), as BGR uint8 arrays.

    Attributes:
        path: the source.
        fps: the video's frame rate (30.0 for image folders or when the container does not say).
        frame_count: number of frames (an estimate for some video containers).
    """

    def __init__(self, path: "str | os.PathLike[str]") -> None:
        self.path = Path(path)
        self._files: list[Path] | None = None
        if self.path.is_dir():
            self._files = list_images(self.path)
            if not self._files:
                raise ValueError(f"folder {self.path} contains no images ({', '.join(IMAGE_SUFFIXES)})")
            self.fps = 30.0
            self.frame_count = len(self._files)
        elif self.path.is_file():
            cap = cv2.VideoCapture(str(self.path))
            if not cap.isOpened():
                raise ValueError(f"cannot open video {self.path} (unsupported or corrupt file)")
            fps = cap.get(cv2.CAP_PROP_FPS)
            self.fps = float(fps) if fps and fps > 0 else 30.0
            self.frame_count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
            cap.release()
        else:
            raise FileNotFoundError(f"video or image folder not found: {self.path}")

    def __len__(self) -> int:
        return self.frame_count

    def __iter__(self) -> Iterator[np.ndarray]:
        """Frames in order.

        Raises:
            FrameReadError: an image that cannot be read, or a video whose decoding stops before
                the number of frames its container announces (a truncated or corrupt file); the
                frames before it have been yielded.
        """
        if self._files is not None:
            for index, file in enumerate(self._files):
                frame = cv2.imread(str(file), cv2.IMREAD_COLOR)
                if frame is None:
                    raise FrameReadError(f"frame {index} ({file}) cannot be read (corrupt or not an image)", index)
                yield frame
            return
        cap = cv2.VideoCapture(str(self.path))
        index = 0
        try:
            while True:
                ok, frame = cap.read()
                if not ok or frame is None:
                    # the container's count can be an estimate: a shortfall of a frame or two at
                    # the end (or 0.5 %) is an ordinary end of stream, more is a broken file
                    if index < self.frame_count - max(1, self.frame_count // 200):
                        raise FrameReadError(
                            f"frame {index} of {self.path} could not be decoded, but the video announces "
                            f"{self.frame_count} frames: the file is truncated or corrupt from there on", index)
                    break
                index += 1
                yield frame
        finally:
            cap.release()


def draw_box(frame: np.ndarray, box: Sequence[float], label: str | None = None,
             color: tuple[int, int, int] = (0, 255, 0)) -> np.ndarray:
    """Draw ``box = (x, y, w, h)`` (pixels) and an optional label on a copy of a BGR frame."""
    out = frame.copy()
    x, y, w, h = (int(round(v)) for v in box)
    cv2.rectangle(out, (x, y), (x + w, y + h), color, 2)
    if label:
        cv2.putText(out, label, (x, max(12, y - 5)), cv2.FONT_HERSHEY_SIMPLEX, 0.5, color, 1, cv2.LINE_AA)
    return out


class AnnotatedVideoWriter:
    """Writes frames with their box to a video file (``.mp4`` -> mp4v, ``.avi`` -> MJPG)."""

    def __init__(self, path: "str | os.PathLike[str]", fps: float, frame_size: tuple[int, int]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fourcc = "MJPG" if self.path.suffix.lower() == ".avi" else "mp4v"
        self._writer = cv2.VideoWriter(str(self.path), cv2.VideoWriter_fourcc(*fourcc), fps, frame_size)
        if not self._writer.isOpened():
            raise ValueError(f"cannot write video {self.path} (use a .mp4 or .avi file name)")
        self.frame_size = frame_size

    def write(self, frame: np.ndarray, box: Sequence[float], score: float | None = None) -> None:
        """Append ``frame`` (BGR) with ``box`` drawn on it; frames of another size are resized."""
        label = None if score is None else f"{score:.2f}"
        annotated = draw_box(frame, box, label)
        if (annotated.shape[1], annotated.shape[0]) != self.frame_size:
            annotated = cv2.resize(annotated, self.frame_size)
        self._writer.write(annotated)

    def close(self) -> None:
        self._writer.release()

    def __enter__(self) -> "AnnotatedVideoWriter":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def write_boxes(path: "str | os.PathLike[str]", boxes: Sequence[Sequence[float]]) -> None:
    """Write one ``x,y,w,h`` line per frame (pixels, 0-based, 2 decimals)."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(",".join(f"{v:.2f}" for v in box) + "\n" for box in boxes))
