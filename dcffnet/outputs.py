"""The boxes files of ``dcffnet track``, written frame by frame (docs/cli-outputs.md).

* ``txt``: one ``x,y,w,h`` line per frame (one target; ``nan,nan,nan,nan`` for a frame without a
  box, so line ``k`` is always frame ``k``): :class:`BoxesWriter`;
* ``mot`` (``csv``): MOTChallenge rows ``frame,id,x,y,w,h,conf,-1,-1,-1`` with 1-based frames:
  :class:`MOTWriter`;
* ``jsonl``: one JSON object per frame with every target's box, score, probability and state:
  :class:`JSONLinesWriter`.

Every writer writes a frame's lines in one piece and flushes them to the operating system at once,
so after an interrupt, an exception or a kill the file holds complete lines for every frame
recorded so far. The per-frame input of the writers is a :class:`FrameRecord`.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import IO, Mapping, NamedTuple, Sequence

__all__ = ["BOXES_FORMATS", "FORMAT_SUFFIXES", "BoxesFormatError", "TargetRecord", "FrameRecord", "BoxesWriter",
           "MOTWriter", "JSONLinesWriter", "boxes_format", "open_boxes_writer", "write_boxes"]

#: the values of ``--boxes-format`` (``csv`` is another name of ``mot``)
BOXES_FORMATS = ("txt", "csv", "mot", "jsonl")
#: the format a ``--boxes`` file gets from its suffix when ``--boxes-format`` is not given
FORMAT_SUFFIXES = {".txt": "txt", ".csv": "mot", ".jsonl": "jsonl", ".ndjson": "jsonl"}


class BoxesFormatError(ValueError):
    """``--boxes`` / ``--boxes-format`` cannot be used: an unknown format or suffix, or ``txt`` for
    several targets."""


class TargetRecord(NamedTuple):
    """One target in one frame.

    Attributes:
        id: the target's id.
        box: ``(x, y, w, h)`` in frame pixels (0-based).
        score: the network's raw classification score at the chosen cell, in [0, 1] (1.0 on the
            target's start frame, whose box was given).
        probability: the calibrated ``P(IoU > 0.5)`` from the checkpoint's calibration (1.0 on the
            start frame); ``None`` when the checkpoint has no calibration.
        state: ``"tracking"``, ``"uncertain"`` or ``"lost"`` (``TrackState`` values).
        start: whether this is the target's start frame.
    """

    id: "int | str"
    box: tuple[float, float, float, float]
    score: float
    probability: float | None
    state: str = "tracking"
    start: bool = False

    @property
    def confidence(self) -> float:
        """What the tracker reports (``TrackResult.score``): the probability, or the raw score
        without a calibration."""
        return self.score if self.probability is None else self.probability

    @property
    def lost(self) -> bool:
        return self.state == "lost"


class FrameRecord(NamedTuple):
    """One frame of the source.

    Attributes:
        index: 0-based frame index in the source (indices skipped by a real-time source were
            dropped on purpose and get no record).
        time: seconds since the source was opened (files: ``index / fps``).
        targets: the targets started by this frame, in the order they were given.
        missing: the source lost this frame (a stream gap): nothing was tracked.
    """

    index: int
    time: float
    targets: tuple[TargetRecord, ...] = ()
    missing: bool = False


def boxes_format(path: "str | os.PathLike[str]", fmt: str | None = None, targets: int = 1) -> str:
    """The format of the boxes file ``path``: ``"txt"``, ``"mot"`` or ``"jsonl"``.

    Args:
        path: the ``--boxes`` file.
        fmt: ``--boxes-format`` (one of :data:`BOXES_FORMATS`), or ``None`` to go by the suffix
            (:data:`FORMAT_SUFFIXES`, any case).
        targets: how many targets the run has (``txt`` holds one).

    Raises:
        BoxesFormatError: an unknown ``fmt``, a suffix that names no format (without ``fmt``), or
            ``txt`` with more than one target.
    """
    if fmt is not None:
        if fmt not in BOXES_FORMATS:
            raise BoxesFormatError(f"--boxes-format must be one of {', '.join(BOXES_FORMATS)}, got {fmt!r}")
        chosen = "mot" if fmt == "csv" else fmt
    else:
        suffix = Path(path).suffix.lower()
        if suffix not in FORMAT_SUFFIXES:
            hint = " (a .json file would not be one JSON document: name it .jsonl)" if suffix == ".json" else ""
            told = f"its suffix {suffix!r}" if suffix else "a name without a suffix"
            raise BoxesFormatError(
                f"--boxes {os.fspath(path)!r}: the format cannot be told from {told}{hint}; name it .txt (x,y,w,h), "
                ".csv (MOTChallenge) or .jsonl (JSON lines), or pass --boxes-format txt|csv|mot|jsonl")
        chosen = FORMAT_SUFFIXES[suffix]
    if chosen == "txt" and targets > 1:
        raise BoxesFormatError(f"--boxes {os.fspath(path)!r}: the txt format (x,y,w,h per line) holds one target, "
                               f"this run has {targets}; write a .csv (MOTChallenge) or .jsonl file, or pass "
                               "--boxes-format mot|jsonl")
    return chosen


def _number(value: float, digits: int) -> str:
    return f"{float(value):.{digits}f}"


class _LineFile:
    """A text file written a frame's lines at a time, each piece flushed at once."""

    def __init__(self, path: "str | os.PathLike[str]") -> None:
        self.path = Path(path)
        self._file: IO[str] = open(self.path, "w", encoding="utf-8", newline="\n")
        self.count = 0

    def _put(self, text: str) -> None:
        if text:
            self._file.write(text)
            self._file.flush()

    def close(self) -> None:
        """Close the file; safe to call twice."""
        self._file.close()

    def __enter__(self) -> "_LineFile":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class BoxesWriter(_LineFile):
    """Writes one ``x,y,w,h`` line per frame (pixels, 0-based, 2 decimals) as frames are tracked.

    Each line is written whole and flushed to the operating system at once, so whatever happens to
    the process later (an interrupt, an exception, a kill), the file holds one complete line for
    every frame written so far. The file is created (or emptied) when the writer is made. A frame
    with no box (missing from a stream, dropped by a real-time source, before the target starts)
    is the line ``nan,nan,nan,nan``, so line ``k`` (0-based) is always frame ``k``.

    Attributes:
        path: the file.
        count: lines (frames) written so far.
    """

    def write(self, box: Sequence[float]) -> None:
        """Append the line of one frame's ``box = (x, y, w, h)`` (pixels) and flush it."""
        values = [float(v) for v in box]
        if len(values) != 4:
            raise ValueError(f"box must be 4 values (x, y, w, h), got {len(values)}: {values}")
        self._put(",".join(_number(v, 2) for v in values) + "\n")
        self.count += 1

    def write_missing(self, frames: int = 1) -> None:
        """Append ``frames`` lines ``nan,nan,nan,nan``: frames without a box."""
        self._put("nan,nan,nan,nan\n" * frames)
        self.count += frames

    def record(self, frame: FrameRecord) -> None:
        """Append ``frame``'s line, after a ``nan`` line for each index skipped since the last one.

        Raises:
            ValueError: ``frame`` holds more than one target, or an index already written.
        """
        if frame.index < self.count:
            raise ValueError(f"frame {frame.index} comes after frame {self.count - 1} in the boxes file")
        if len(frame.targets) > 1:
            raise ValueError(f"the txt boxes format holds one target, frame {frame.index} has {len(frame.targets)}")
        if frame.index > self.count:
            self.write_missing(frame.index - self.count)
        if frame.missing or not frame.targets:
            self.write_missing()
        else:
            self.write(frame.targets[0].box)


class MOTWriter(_LineFile):
    """Writes MOTChallenge rows ``frame,id,bb_left,bb_top,bb_width,bb_height,conf,-1,-1,-1``.

    ``frame`` is the 1-based frame number (source index + 1), ``id`` the target's integer MOT id
    (:func:`dcffnet.targets.mot_ids`), the box in pixels (2 decimals), ``conf`` the calibrated
    probability (the raw score for a checkpoint without calibration; 4 decimals). Lost targets
    and missing frames get no row, as MOT trackers omit targets they do not see.

    Attributes:
        path: the file.
        count: frames recorded so far (with or without rows).
        rows: rows written so far.
    """

    def __init__(self, path: "str | os.PathLike[str]", ids: Mapping["int | str", int]) -> None:
        super().__init__(path)
        self.ids = dict(ids)
        self.rows = 0

    def record(self, frame: FrameRecord) -> None:
        """Append the rows of ``frame``'s visible targets (one write, flushed).

        Raises:
            KeyError: a target without a MOT id.
        """
        lines = []
        if not frame.missing:
            for target in frame.targets:
                if target.lost:
                    continue
                x, y, w, h = (_number(v, 2) for v in target.box)
                lines.append(f"{frame.index + 1},{self.ids[target.id]},{x},{y},{w},{h},"
                             f"{_number(target.confidence, 4)},-1,-1,-1\n")
        self._put("".join(lines))
        self.rows += len(lines)
        self.count += 1


def _json_number(value: float | None, digits: int) -> float | None:
    return None if value is None or not math.isfinite(value) else round(float(value), digits)


class JSONLinesWriter(_LineFile):
    """Writes one JSON object per frame (JSON lines)::

        {"frame": 12, "time": 0.48, "targets": [{"id": "car", "mot_id": 1, "box": [x, y, w, h],
         "score": 0.71, "probability": 0.83, "state": "tracking"}]}
        {"frame": 13, "time": 0.52, "missing": true}

    ``frame`` is the 0-based source index, ``time`` seconds since the source opened; ``score`` the
    raw network score, ``probability`` the calibrated one (``null`` without a calibration; both
    1.0 on a target's start frame, marked ``"start": true``), ``state`` tracking, uncertain or
    lost. A frame the source lost is ``{"frame", "time", "missing": true}``; frames a real-time
    source dropped have no line.

    Attributes:
        path: the file.
        count: lines (frames) written so far.
    """

    def __init__(self, path: "str | os.PathLike[str]", ids: Mapping["int | str", int]) -> None:
        super().__init__(path)
        self.ids = dict(ids)

    def record(self, frame: FrameRecord) -> None:
        """Append ``frame``'s line (one write, flushed)."""
        line: dict[str, object] = {"frame": frame.index, "time": _json_number(frame.time, 4)}
        if frame.missing:
            line["missing"] = True
        else:
            targets = []
            for target in frame.targets:
                item: dict[str, object] = {
                    "id": target.id, "mot_id": self.ids[target.id],
                    "box": [_json_number(v, 3) for v in target.box],
                    "score": _json_number(target.score, 5), "probability": _json_number(target.probability, 5),
                    "state": str(target.state)}
                if target.start:
                    item["start"] = True
                targets.append(item)
            line["targets"] = targets
        self._put(json.dumps(line, ensure_ascii=False, allow_nan=False, separators=(", ", ": ")) + "\n")
        self.count += 1


def open_boxes_writer(path: "str | os.PathLike[str]", fmt: str, ids: Mapping["int | str", int]
                      ) -> "BoxesWriter | MOTWriter | JSONLinesWriter":
    """A writer of format ``fmt`` (``"txt"``, ``"mot"``/``"csv"`` or ``"jsonl"``) creating ``path``;
    ``ids`` maps target ids to MOT ids (:func:`dcffnet.targets.mot_ids`).

    Raises:
        BoxesFormatError: an unknown ``fmt``.
    """
    if fmt == "txt":
        return BoxesWriter(path)
    if fmt in ("mot", "csv"):
        return MOTWriter(path, ids)
    if fmt == "jsonl":
        return JSONLinesWriter(path, ids)
    raise BoxesFormatError(f"boxes format must be one of {', '.join(BOXES_FORMATS)}, got {fmt!r}")


def write_boxes(path: "str | os.PathLike[str]", boxes: Sequence[Sequence[float]]) -> None:
    """Write one ``x,y,w,h`` line per frame (pixels, 0-based, 2 decimals); the folder must exist."""
    with BoxesWriter(path) as writer:
        for box in boxes:
            writer.write(box)
