"""Frame sources (a video file or a folder of images), the checks of output paths, and the
annotated video of ``dcffnet track`` (each target in its own colour). The boxes files are written
by :mod:`dcffnet.outputs` (``BoxesWriter`` and ``write_boxes`` are importable from here too)."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path
from typing import Iterator, Mapping, Sequence

import cv2
import numpy as np

from .data.frames import IMAGE_SUFFIXES, list_images
from .frames import opencv_name
from .outputs import BoxesWriter, TargetRecord, write_boxes

from .source_frame import SourceFrame

__all__ = ["IMAGE_SUFFIXES", "VIDEO_SUFFIXES", "PALETTE", "FrameReadError", "OutputPathError", "FrameSource",
           "AnnotatedVideoWriter", "BoxesWriter", "check_outputs", "draw_box", "draw_targets", "video_fourcc",
           "write_boxes"]

# annotated-video suffixes and their codec (OpenCV's FFmpeg backend writes mp4v into these containers)
VIDEO_SUFFIXES = {".mp4": "mp4v", ".m4v": "mp4v", ".mov": "mp4v", ".mkv": "mp4v", ".avi": "MJPG"}


class FrameReadError(ValueError):
    """A frame of a video or image folder could not be read; ``index`` is its 0-based number."""

    def __init__(self, message: str, index: int) -> None:
        super().__init__(message)
        self.index = index


class OutputPathError(ValueError):
    """An output path cannot be used: it is (after following links) an input file or another output,
    a folder, its folder does not exist, or it cannot be written. ``path`` is the path as given."""

    def __init__(self, message: str, path: "str | os.PathLike[str]") -> None:
        super().__init__(message)
        self.path = path


class FrameSource:
    """Frames of a video file or of a folder of images (in natural order of their names, ``2.jpg``
    before ``10.jpg``: :func:`dcffnet.data.list_images`), as BGR uint8 arrays.

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
            opencv_name(self.path, "video")  # OpenCV crashes on a name that is not UTF-8
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

    @property
    def input_files(self) -> tuple[Path, ...]:
        """The files frames are read from: the video file, or every image of the folder in order."""
        return (self.path,) if self._files is None else tuple(self._files)

    def __iter__(self) -> Iterator[np.ndarray]:
        """Frames in order.

        Raises:
            FrameReadError: an image that cannot be read, or a video whose decoding stops before
                the number of frames its container announces (a truncated or corrupt file); the
                frames before it have been yielded.
        """
        if self._files is not None:
            from .data.frames import read_frame

            for index, file in enumerate(self._files):
                try:
                    frame = read_frame(file)
                except ValueError as exc:
                    raise FrameReadError(f"frame {index} ({file}) cannot be read: {exc}", index) from exc
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


    def frames(self) -> Iterator[SourceFrame]:
        """The frames as :class:`dcffnet.source_frame.SourceFrame` items (``time = index / fps``);
        raises as :meth:`__iter__` does."""
        for index, image in enumerate(self):
            yield SourceFrame(index, index / self.fps, image)

    def close(self) -> None:
        """Nothing to release (each iteration opens and closes its own reader); for the
        :class:`dcffnet.sources.Source` protocol."""


def draw_box(frame: np.ndarray, box: Sequence[float], label: str | None = None,
             color: tuple[int, int, int] = (0, 255, 0)) -> np.ndarray:
    """Draw ``box = (x, y, w, h)`` (pixels) and an optional label on a copy of a BGR frame."""
    out = frame.copy()
    x, y, w, h = (int(round(v)) for v in box)
    cv2.rectangle(out, (x, y), (x + w, y + h), color, 2)
    if label:
        cv2.putText(out, label, (x, max(12, y - 5)), cv2.FONT_HERSHEY_SIMPLEX, 0.5, color, 1, cv2.LINE_AA)
    return out


#: target colours (BGR) in the order targets are first seen: well apart in hue, bright enough for
#: black label text; the first is the green a single target has always had
PALETTE: tuple[tuple[int, int, int], ...] = (
    (0, 255, 0), (255, 0, 255), (0, 165, 255), (255, 255, 0), (0, 0, 255),
    (0, 255, 255), (255, 80, 0), (180, 105, 255), (160, 160, 0), (255, 255, 255),
)

_FONT, _FONT_SCALE = cv2.FONT_HERSHEY_SIMPLEX, 0.5


def _dashed_rectangle(image: np.ndarray, top_left: tuple[int, int], bottom_right: tuple[int, int],
                      color: tuple[int, int, int], thickness: int = 2, dash: int = 8) -> None:
    """Draw a rectangle of ``dash``-pixel dashes and gaps on ``image`` in place."""
    (x0, y0), (x1, y1) = top_left, bottom_right
    for (ax, ay), (bx, by) in (((x0, y0), (x1, y0)), ((x1, y0), (x1, y1)), ((x1, y1), (x0, y1)), ((x0, y1), (x0, y0))):
        length = max(abs(bx - ax), abs(by - ay))
        for start in range(0, max(length, 1), 2 * dash):
            end = min(start + dash, length)
            t0, t1 = start / max(length, 1), end / max(length, 1)
            cv2.line(image, (round(ax + (bx - ax) * t0), round(ay + (by - ay) * t0)),
                     (round(ax + (bx - ax) * t1), round(ay + (by - ay) * t1)), color, thickness)


def _label(image: np.ndarray, text: str, x: int, y: int, color: tuple[int, int, int]) -> None:
    """Black ``text`` on a ``color`` patch above ``(x, y)`` (below it when the frame's top is too
    close), kept inside the frame where it fits."""
    (tw, th), base = cv2.getTextSize(text, _FONT, _FONT_SCALE, 1)
    height = th + base + 4
    top = y - height if y - height >= 0 else y
    left = min(max(0, x), max(0, image.shape[1] - tw - 4))
    cv2.rectangle(image, (left, top), (left + tw + 4, top + height), color, -1)
    cv2.putText(image, text, (left + 2, top + th + 2), _FONT, _FONT_SCALE, (0, 0, 0), 1, cv2.LINE_AA)


def draw_targets(frame: np.ndarray, targets: Sequence[TargetRecord], colors: Mapping["int | str", tuple[int, int, int]],
                 labels: bool = True, show_score: bool = False) -> np.ndarray:
    """Draw every target on a copy of a BGR frame.

    A tracked target is a solid 2-pixel box, an uncertain one a 1-pixel box, a lost one a dashed
    box (at the last confident place). With ``labels`` each box carries a patch in its colour with
    its id, ``show_score`` adds the score it reports (the calibrated probability, else the raw
    score; 2 decimals) and a lost target says ``lost``.

    Args:
        frame: BGR ``uint8`` image.
        targets: the frame's targets (:class:`dcffnet.outputs.TargetRecord`; boxes ``(x, y, w, h)``,
            pixels).
        colors: the BGR colour of each target id.
    """
    out = frame.copy()
    for target in targets:
        color = colors[target.id]
        x, y, w, h = (int(round(v)) for v in target.box)
        if target.lost:
            _dashed_rectangle(out, (x, y), (x + w, y + h), color, 2)
        else:
            cv2.rectangle(out, (x, y), (x + w, y + h), color, 1 if target.state == "uncertain" else 2)
        if labels:
            text = str(target.id)
            if show_score:
                text += f" {target.confidence:.2f}"
            if target.lost:
                text += " lost"
            _label(out, text, x, y, color)
    return out


def video_fourcc(path: "str | os.PathLike[str]", name: str = "annotated video") -> str:
    """The codec of an annotated video at ``path`` (by suffix, see ``VIDEO_SUFFIXES``); ``name`` is used in the message.

    Raises:
        OutputPathError: a suffix the writer has no codec for.
    """
    fourcc = VIDEO_SUFFIXES.get(Path(path).suffix.lower())
    if fourcc is None:
        raise OutputPathError(f"{name} {str(path)!r} must end in one of {', '.join(VIDEO_SUFFIXES)}", path)
    return fourcc


class AnnotatedVideoWriter:
    """Writes frames with their boxes to a video file (``.avi`` -> MJPG, ``.mp4``/``.m4v``/``.mov``/``.mkv`` -> mp4v).

    Attributes:
        count: frames written so far.
        colors: the BGR colour of each target id written by :meth:`write_targets` so far.
    """

    def __init__(self, path: "str | os.PathLike[str]", fps: float, frame_size: tuple[int, int]) -> None:
        self.path = Path(path)
        fourcc = video_fourcc(self.path)
        if not self.path.parent.is_dir():
            raise OutputPathError(f"cannot write video {self.path}: folder {self.path.parent} does not exist", path)
        self._writer = cv2.VideoWriter(str(self.path), cv2.VideoWriter_fourcc(*fourcc), fps, frame_size)
        if not self._writer.isOpened():
            raise OutputPathError(f"cannot write video {self.path}: OpenCV could not open a {fourcc} writer for it", path)
        self.frame_size = frame_size
        self.count = 0
        self.colors: dict[int | str, tuple[int, int, int]] = {}

    def write(self, frame: np.ndarray, box: Sequence[float], score: float | None = None) -> None:
        """Append ``frame`` (BGR) with ``box`` (x, y, w, h, pixels) drawn on it; frames of another size are resized."""
        label = None if score is None else f"{score:.2f}"
        self._append(draw_box(frame, box, label))

    def write_targets(self, frame: np.ndarray, targets: Sequence[TargetRecord], labels: bool = True,
                      show_score: bool = False) -> None:
        """Append ``frame`` (BGR) with its targets drawn (:func:`draw_targets`). Each id keeps the
        colour it got when first written: :data:`PALETTE` in order (cycling after 10 ids)."""
        for target in targets:
            if target.id not in self.colors:
                self.colors[target.id] = PALETTE[len(self.colors) % len(PALETTE)]
        self._append(draw_targets(frame, targets, self.colors, labels, show_score))

    def _append(self, annotated: np.ndarray) -> None:
        if (annotated.shape[1], annotated.shape[0]) != self.frame_size:
            annotated = cv2.resize(annotated, self.frame_size)
        self._writer.write(annotated)
        self.count += 1

    def close(self) -> None:
        """Finish the file (an mp4 is unreadable until this runs); safe to call twice."""
        self._writer.release()

    def __enter__(self) -> "AnnotatedVideoWriter":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _same_file(a: os.stat_result, b: os.stat_result) -> bool:
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def _stat_or_none(path: Path) -> os.stat_result | None:
    """``os.stat`` following links, or ``None`` when there is nothing to stat (the reason is reported later)."""
    try:
        return os.stat(path)
    except OSError:
        return None


def _check_writable(name: str, path: "str | os.PathLike[str]", real: Path) -> None:
    """Refuse an output that is a folder, a link loop, in a missing folder, or not writable; creates nothing that stays."""
    try:
        info = os.stat(real)
    except FileNotFoundError:
        info = None
    except OSError as exc:  # a link loop, a path through a file, a name too long
        raise OutputPathError(f"{name} {str(path)!r} cannot be written: {exc.strerror}", path) from exc
    if info is not None:
        if stat.S_ISDIR(info.st_mode):
            raise OutputPathError(f"{name} {str(path)!r} is a folder; give a file name", path)
        if stat.S_ISREG(info.st_mode):
            try:  # opened for appending and closed: the content and modification time stay as they are
                os.close(os.open(real, os.O_WRONLY | os.O_APPEND))
            except OSError as exc:
                raise OutputPathError(f"{name} {str(path)!r} cannot be written: {exc.strerror}", path) from exc
        elif not os.access(real, os.W_OK):  # a device or a pipe: opening it could block or have effects
            raise OutputPathError(f"{name} {str(path)!r} cannot be written: permission denied", path)
        return
    folder = real.parent
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        raise OutputPathError(f"{name} {str(path)!r}: folder {folder} {what}", path)
    try:  # a real write test (os.access says yes to root on a read-only mount); removed at once
        handle, probe = tempfile.mkstemp(prefix=".dcffnet-write-check-", dir=folder)
    except OSError as exc:
        raise OutputPathError(f"{name} {str(path)!r} cannot be written: folder {folder} is not writable "
                              f"({exc.strerror})", path) from exc
    os.close(handle)
    os.unlink(probe)


def check_outputs(inputs: Sequence["str | os.PathLike[str]"],
                  outputs: Mapping[str, "str | os.PathLike[str] | None"]) -> None:
    """Refuse, before anything is read or written, outputs that would destroy an input or each other,
    or that cannot be written.

    Args:
        inputs: the files being read (e.g. ``FrameSource.input_files``).
        outputs: ``{name: path}`` of the outputs (``None``: not written); ``name`` (e.g.
            ``"--boxes"``) is used in the messages. Relative paths are taken from the current folder.

    Raises:
        OutputPathError: an empty path; an output that is, after following symbolic links (or as a
            hard link), one of ``inputs`` or the same file as another output; an output that is a
            folder or a link loop; a folder that does not exist (none is created); a file or folder
            that cannot be written. The check leaves no file behind and changes none.
    """
    given = {name: path for name, path in outputs.items() if path is not None}
    for name, path in given.items():
        if not os.fspath(path):
            raise OutputPathError(f"{name} is an empty path", path)
        try:
            opencv_name(path, name)
        except ValueError as exc:
            raise OutputPathError(str(exc), path) from exc
    real = {name: Path(os.path.realpath(path)) for name, path in given.items()}
    existing = {name: info for name, info in ((n, _stat_or_none(p)) for n, p in real.items()) if info is not None}
    if existing:
        for source in inputs:
            source_stat = _stat_or_none(Path(source))  # None: an input that cannot be read, reported when read
            for name, info in existing.items():
                if source_stat is not None and _same_file(info, source_stat):
                    raise OutputPathError(f"{name} {str(given[name])!r} is the input file {source}: "
                                          "writing it would destroy the source while it is read", given[name])
    for name, path in given.items():
        _check_writable(name, path, real[name])
    names = list(given)
    for i, first in enumerate(names):
        for second in names[i + 1:]:
            same = real[first] == real[second] or (
                first in existing and second in existing and _same_file(existing[first], existing[second]))
            if same:
                raise OutputPathError(f"{first} {str(given[first])!r} and {second} {str(given[second])!r} are the "
                                      "same file: give each its own name", given[second])
