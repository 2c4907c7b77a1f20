"""The targets of ``dcffnet track``: where each one is in the frame it starts at, read from repeated
``--box`` options or from a ``--targets`` JSON file, checked strictly before anything is loaded.

A targets file is either a list of entries::

    [{"id": "car", "box": [120, 80, 40, 30], "frame": 0},
     {"id": 7, "box": [300.5, 210, 25, 60], "frame": 12}]

(``id``: a non-negative integer or a non-empty string, unique; ``box``: ``[x, y, w, h]`` in frame
pixels, 0-based; ``frame``: the 0-based index of the frame the box is drawn on, default 0), or a
mapping ``{"car": [120, 80, 40, 30], "bike": [300, 210, 25, 60]}`` of ids to boxes in frame 0.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from .fields import MAX_COUNT, short_repr

__all__ = ["TargetSpec", "TargetsFileError", "parse_targets", "read_targets", "targets_from_boxes", "check_targets",
           "mot_ids"]

_ENTRY_KEYS = ("id", "box", "frame")


class TargetsFileError(ValueError):
    """A targets file (or list of targets) that cannot be used; the message names the file, the
    entry and the field."""


@dataclass(frozen=True)
class TargetSpec:
    """One target of a run.

    Attributes:
        id: its id (an ``int >= 0`` or a non-empty ``str``), unique within the run.
        box: ``(x, y, w, h)`` in frame pixels (0-based) on frame ``frame``.
        frame: 0-based index of the frame the target starts at (the first frame the source
            delivers at or after it, when that one is missing).
    """

    id: "int | str"
    box: tuple[float, float, float, float]
    frame: int = 0


def _check_box(value: Any, where: str) -> tuple[float, float, float, float]:
    """``value`` as a checked ``(x, y, w, h)`` (see :func:`dcffnet.geometry.validate_box`); any
    problem is a :class:`TargetsFileError` naming ``where``."""
    from .geometry import validate_box

    try:
        arr = validate_box(value, where)
    except (TypeError, ValueError) as exc:
        raise TargetsFileError(str(exc)) from None
    return tuple(float(v) for v in arr)  # type: ignore[return-value]


def _check_id(value: Any, where: str) -> "int | str":
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise TargetsFileError(f"{where} must be a non-negative integer or a non-empty string, got "
                               f"{short_repr(value)} ({type(value).__name__})")
    if isinstance(value, int):
        if not 0 <= value <= MAX_COUNT:
            raise TargetsFileError(f"{where} must be an integer in [0, {MAX_COUNT}] or a string, got {value}")
        return value
    if not value.strip():
        raise TargetsFileError(f"{where} must be a non-empty string (not only spaces), got {value!r}")
    if not value.isprintable():
        raise TargetsFileError(f"{where} must hold printable characters only (no line breaks or control "
                               f"characters), got {short_repr(value)}")
    return value


def _check_frame(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TargetsFileError(f"{where} must be a 0-based frame index (an integer >= 0), got {short_repr(value)} "
                               f"({type(value).__name__})")
    if not 0 <= value <= MAX_COUNT:
        raise TargetsFileError(f"{where} must be a 0-based frame index in [0, {MAX_COUNT}], got {value}")
    return value


def check_targets(targets: Sequence[TargetSpec], where: str = "targets") -> list[TargetSpec]:
    """Refuse a list of targets that is empty, holds something other than :class:`TargetSpec`, or
    whose ids repeat or print alike (``1`` and ``"1"``: the video labels and MOT ids would mix them).

    Returns:
        The targets as a list, in the given order.

    Raises:
        TargetsFileError: naming ``where`` and the entry.
    """
    specs = list(targets)
    if not specs:
        raise TargetsFileError(f"{where} holds no target")
    seen: dict[str, int] = {}
    for index, spec in enumerate(specs):
        if not isinstance(spec, TargetSpec):
            raise TargetsFileError(f"{where}[{index}] must be a TargetSpec, got {type(spec).__name__}")
        text = str(spec.id)
        if text in seen:
            first = specs[seen[text]].id
            same = "is used twice" if first == spec.id and type(first) is type(spec.id) else \
                f"prints like the id {first!r} of entry {seen[text]}"
            raise TargetsFileError(f"{where}[{index}]: id {spec.id!r} {same}; every target needs its own id")
        seen[text] = index
    return specs


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``object_pairs_hook`` refusing a key given twice in one JSON object (``json`` keeps the last)."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise TargetsFileError(f"the key {key!r} appears twice in one object")
        out[key] = value
    return out


def parse_targets(data: Any, where: str = "targets") -> list[TargetSpec]:
    """Targets from decoded JSON: a list of ``{"id", "box", "frame"}`` objects or a mapping of ids to
    boxes (see the module's description).

    Args:
        data: the decoded JSON value.
        where: what the messages call the data (a file name).

    Raises:
        TargetsFileError: another shape, a missing or unknown field, a bad id, box or frame, or ids
            that repeat; the message names ``where``, the entry (index and id) and the field.
    """
    specs: list[TargetSpec] = []
    if isinstance(data, dict):
        for key, box in data.items():
            tid = _check_id(key, f"{where}: id {short_repr(key)}")
            specs.append(TargetSpec(tid, _check_box(box, f"{where}: the box of id {key!r}")))
    elif isinstance(data, list):
        for index, entry in enumerate(data):
            name = f"{where}: entry {index}"
            if not isinstance(entry, dict):
                raise TargetsFileError(f"{name} must be an object {{\"id\": ..., \"box\": [x, y, w, h], \"frame\": "
                                       f"N}}, got {short_repr(entry)} ({type(entry).__name__})")
            unknown = [k for k in entry if k not in _ENTRY_KEYS]
            if unknown:
                raise TargetsFileError(f"{name} has unknown field(s) {unknown}; known: {list(_ENTRY_KEYS)}")
            for key in ("id", "box"):
                if key not in entry:
                    raise TargetsFileError(f"{name} has no \"{key}\" field (an entry needs \"id\" and \"box\"; "
                                           "\"frame\" defaults to 0)")
            tid = _check_id(entry["id"], f"{name} \"id\"")
            name = f"{name} (id {tid!r})"
            box = _check_box(entry["box"], f"{name} \"box\"")
            frame = _check_frame(entry.get("frame", 0), f"{name} \"frame\"")
            specs.append(TargetSpec(tid, box, frame))
    else:
        raise TargetsFileError(f"{where} must hold a JSON list of {{\"id\", \"box\", \"frame\"}} objects or an "
                               f"object mapping ids to [x, y, w, h] boxes, got {type(data).__name__}")
    return check_targets(specs, where)


def read_targets(path: "str | os.PathLike[str]") -> list[TargetSpec]:
    """Read and check a targets JSON file (UTF-8; see the module's description).

    Raises:
        FileNotFoundError: no such file.
        TargetsFileError: not UTF-8 JSON (the message gives the line and column), a key repeated
            within an object, ``NaN`` / ``Infinity``, or content :func:`parse_targets` refuses.
    """
    file = Path(path)
    if file.is_dir():
        raise TargetsFileError(f"--targets {str(path)!r} is a folder; give a JSON file")
    if not file.is_file():
        raise FileNotFoundError(f"--targets file not found: {path}")
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise TargetsFileError(f"--targets {str(path)!r} is not UTF-8 text: {exc.reason} at byte {exc.start}") from None

    def no_constant(name: str) -> Any:
        raise TargetsFileError(f"{name} is not a number JSON allows")

    try:
        data = json.loads(text, object_pairs_hook=_unique_pairs, parse_constant=no_constant)
    except json.JSONDecodeError as exc:
        raise TargetsFileError(f"--targets {str(path)!r} is not valid JSON: {exc.msg} at line {exc.lineno} "
                               f"column {exc.colno}") from None
    except TargetsFileError as exc:
        raise TargetsFileError(f"--targets {str(path)!r}: {exc}") from None
    return parse_targets(data, str(path))


def targets_from_boxes(boxes: Sequence[Sequence[float]], option: str = "--box") -> list[TargetSpec]:
    """One target per box, all starting at frame 0, with ids ``1, 2, ...`` in the given order.

    Args:
        boxes: ``(x, y, w, h)`` boxes in frame pixels (0-based).
        option: what the messages call each box (``"--box"``: the first is ``--box 1``).

    Raises:
        TargetsFileError: no box, or a box :func:`dcffnet.geometry.validate_box` refuses.
    """
    if not boxes:
        raise TargetsFileError(f"no {option} given")
    return [TargetSpec(i + 1, _check_box(box, f"{option} {i + 1}" if len(boxes) > 1 else option))
            for i, box in enumerate(boxes)]


def _positive_number(tid: "int | str") -> int | None:
    """``tid`` as a MOT id when it already is one: an int >= 1, or the plain decimal text of one
    (``"7"``, not ``"07"`` or ``"+7"``)."""
    if isinstance(tid, int):
        return tid if tid >= 1 else None
    if tid.isascii() and tid.isdigit() and tid[0] != "0":
        value = int(tid)
        return value if value <= MAX_COUNT else None
    return None


def mot_ids(targets: Sequence[TargetSpec]) -> dict["int | str", int]:
    """The integer id each target has in a MOTChallenge file.

    When every id is a positive integer (or the plain decimal text of one, ``"7"``) those numbers
    are kept; otherwise every target is numbered ``1, 2, ...`` in the order of ``targets`` (the
    JSON-lines output carries both ids).
    """
    numbers = [_positive_number(t.id) for t in targets]
    if all(n is not None for n in numbers) and len(set(numbers)) == len(numbers):
        return {t.id: int(n) for t, n in zip(targets, numbers)}  # type: ignore[arg-type]
    return {t.id: i + 1 for i, t in enumerate(targets)}
