"""The manifest of ``dcffnet track-many``: one JSON object per line (JSON Lines), one video per line.

Each line::

    {"source": "clips/a.mp4", "box": [290, 220, 40, 80], "boxes": "out/a.csv", "output": "out/a.mp4"}
    {"source": "clips/b", "targets": "clips/b.json", "boxes": "out/b.jsonl", "max_frames": 300}

* ``source`` (required): a video file or a folder of frames (a ``scheme://`` URL, a GStreamer
  pipeline or a camera index is passed on as written);
* ``box`` (``[x, y, w, h]``, pixels, 0-based, on the first frame) or ``targets`` (a targets JSON
  file, as ``dcffnet track --targets`` reads): exactly one of them;
* ``boxes`` (the boxes file) and / or ``output`` (an annotated video): at least one;
* optional ``boxes_format`` (as ``dcffnet track --boxes-format``: ``txt``, ``csv``/``mot``,
  ``jsonl``; default: by the suffix), ``max_frames`` (a positive integer), ``name`` (the entry's name in progress lines; default: the stem of its boxes or
  output file, or that path when two stems collide).

Relative paths are relative to the manifest's folder. Blank lines are allowed; anything else that is
not an entry (bad JSON, an unknown key, a missing or wrong value, a targets file that cannot be read,
a boxes format or video suffix that cannot be written, an output used twice) is refused with its
line number before any video is read.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..fields import MAX_COUNT, check_path, short_repr
from ..outputs import BOXES_FORMATS, boxes_format
from ..targets import read_targets

__all__ = ["ManifestEntry", "ManifestError", "read_manifest", "MANIFEST_KEYS"]

#: every key an entry may have
MANIFEST_KEYS = ("source", "box", "targets", "boxes", "output", "boxes_format", "max_frames", "name")


class ManifestError(ValueError):
    """A manifest that cannot be used; the message names the file and the line."""


@dataclass(frozen=True)
class ManifestEntry:
    """One video of a manifest, its paths resolved.

    Attributes:
        line: 1-based line number in the manifest.
        name: unique within the manifest.
        source: video file or folder of frames (or a URL, as written).
        box: ``(x, y, w, h)`` on the first frame (pixels, 0-based), or ``None`` with ``targets``.
        targets: a targets JSON file, or ``None`` with ``box``.
        boxes: boxes file to write, or ``None``.
        output: annotated video to write, or ``None``.
        boxes_format: the boxes file's format (``None``: from its suffix).
        max_frames: stop after this many frames (``None``: the whole source).
        targets_digest: with ``targets``, a digest of the targets read from it (so that a done
            record of other targets under the same file name is not reused).
    """

    line: int
    name: str
    source: str
    box: tuple[float, float, float, float] | None
    targets: str | None
    boxes: str | None
    output: str | None
    boxes_format: str | None = None
    max_frames: int | None = None
    targets_digest: str | None = None

    @property
    def outputs(self) -> list[str]:
        """The files this entry writes (boxes first)."""
        return [p for p in (self.boxes, self.output) if p is not None]

    def key(self) -> dict[str, Any]:
        """What the entry's results depend on (its name and line number left out), JSON-able."""
        return {"source": self.source, "box": list(self.box) if self.box is not None else None,
                "targets": self.targets, "targets_digest": self.targets_digest, "boxes": self.boxes,
                "output": self.output,
                "boxes_format": self.boxes_format, "max_frames": self.max_frames}


def _where(path: Path, line: int) -> str:
    return f"{path}, line {line}"


def _live(text: str) -> bool:
    """Whether a source names no file: a URL, a GStreamer pipeline or a camera index."""
    return "://" in text or " ! " in text or text.isdigit()


def _resolve(value: Any, key: str, folder: Path, where: str, *, source: bool = False) -> str:
    """A path value of an entry, made absolute against the manifest's folder (a ``source`` that
    names a URL, pipeline or camera index, and no file beside the manifest, is kept as written)."""
    try:
        path = check_path(value, key)
    except (TypeError, ValueError) as exc:
        raise ManifestError(f"{where}: {exc}") from None
    path = path.expanduser()
    resolved = path if path.is_absolute() else (folder / path).resolve()
    if source and _live(str(value)) and not resolved.exists():
        return str(value)
    return str(resolved)


def _box(value: Any, where: str) -> tuple[float, float, float, float]:
    if not isinstance(value, list) or len(value) != 4:
        raise ManifestError(f"{where}: box must be [x, y, w, h] (four numbers, pixels), got {short_repr(value)}")
    numbers = []
    for v in value:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise ManifestError(f"{where}: box must be [x, y, w, h] (four finite numbers, pixels), "
                                f"got {short_repr(value)}")
        numbers.append(float(v))
    if numbers[2] <= 0 or numbers[3] <= 0:
        raise ManifestError(f"{where}: box width and height must be > 0, got {short_repr(value)}")
    return tuple(numbers)  # type: ignore[return-value]


def _entry(data: Any, line: int, path: Path) -> dict[str, Any]:
    """The checked fields of one line (paths resolved, ``name`` possibly None)."""
    where = _where(path, line)
    if not isinstance(data, dict):
        raise ManifestError(f"{where}: an entry must be a JSON object {{\"source\": ..., ...}}, "
                            f"got {type(data).__name__}")
    unknown = sorted(set(data) - set(MANIFEST_KEYS))
    if unknown:
        raise ManifestError(f"{where}: unknown key(s) {unknown}; known: {list(MANIFEST_KEYS)}")
    if "source" not in data:
        raise ManifestError(f"{where}: 'source' is missing (a video file or a folder of frames)")
    folder = path.parent
    fields: dict[str, Any] = {"line": line, "source": _resolve(data["source"], "source", folder, where, source=True)}
    if ("box" in data) == ("targets" in data):
        raise ManifestError(f"{where}: give exactly one of 'box' ([x, y, w, h]) and 'targets' (a targets JSON file)")
    fields["box"] = _box(data["box"], where) if "box" in data else None
    fields["targets"] = _resolve(data["targets"], "targets", folder, where) if "targets" in data else None
    count = 1
    fields["targets_digest"] = None
    if fields["targets"] is not None:
        try:
            targets = read_targets(fields["targets"])
        except (OSError, ValueError) as exc:
            raise ManifestError(f"{where}: {exc}") from None
        count = len(targets)
        listed = [[t.id, list(t.box), t.frame] for t in targets]
        fields["targets_digest"] = hashlib.sha256(json.dumps(listed).encode()).hexdigest()[:16]
    if "boxes" not in data and "output" not in data:
        raise ManifestError(f"{where}: give 'boxes' (a boxes file) and/or 'output' (an annotated video): "
                            "an entry that writes nothing is not a job")
    fields["boxes"] = _resolve(data["boxes"], "boxes", folder, where) if "boxes" in data else None
    fields["output"] = _resolve(data["output"], "output", folder, where) if "output" in data else None
    fmt = data.get("boxes_format")
    if fmt is not None and fmt not in BOXES_FORMATS:
        raise ManifestError(f"{where}: boxes_format must be one of {list(BOXES_FORMATS)}, got {short_repr(fmt)}")
    if fmt is not None and "boxes" not in data:
        raise ManifestError(f"{where}: boxes_format is given without 'boxes'")
    fields["boxes_format"] = fmt
    if fields["boxes"] is not None:
        try:
            boxes_format(fields["boxes"], fmt, count)
        except ValueError as exc:
            raise ManifestError(f"{where}: {exc}") from None
    if fields["output"] is not None:
        from ..video import video_fourcc

        try:
            video_fourcc(fields["output"], "output")
        except ValueError as exc:
            raise ManifestError(f"{where}: {exc}") from None
    frames = data.get("max_frames")
    if frames is not None and (isinstance(frames, bool) or not isinstance(frames, int) or not 1 <= frames <= MAX_COUNT):
        raise ManifestError(f"{where}: max_frames must be a positive integer, got {short_repr(frames)}")
    fields["max_frames"] = frames
    name = data.get("name")
    if name is not None and (not isinstance(name, str) or not name.strip()):
        raise ManifestError(f"{where}: name must be a non-empty string, got {short_repr(name)}")
    fields["name"] = name
    if fields["source"] in (fields["boxes"], fields["output"]):
        raise ManifestError(f"{where}: an output is the source itself ({fields['source']})")
    return fields


def read_manifest(path: "str | Path") -> list[ManifestEntry]:
    """Read and check every entry of the manifest at ``path`` (see the module docstring).

    Returns:
        The entries in file order.

    Raises:
        FileNotFoundError: ``path`` is not a file.
        ManifestError: a line that is not a valid entry, two entries writing the same file or with
            the same name, or no entry at all; the message names the line(s).
    """
    path = check_path(path, "manifest")
    if not path.is_file():
        raise FileNotFoundError(f"manifest not found: {path}")
    path = path.resolve()
    rows = []
    with path.open(encoding="utf-8") as fh:
        for line, text in enumerate(fh, start=1):
            if not text.strip():
                continue
            try:
                data = json.loads(text)
            except json.JSONDecodeError as exc:
                raise ManifestError(f"{_where(path, line)}: not a JSON object ({exc.msg}, column {exc.colno})") from None
            rows.append(_entry(data, line, path))
    if not rows:
        raise ManifestError(f"{path}: no entries (one JSON object per line)")
    written: dict[str, int] = {}
    for row in rows:
        for key in ("boxes", "output"):
            target = row[key]
            if target is None:
                continue
            if target in written:
                raise ManifestError(f"{_where(path, row['line'])}: {key} {target} is written by line "
                                    f"{written[target]} too")
            written[target] = row["line"]
    stems: dict[str, int] = {}
    for row in rows:
        stem = Path(row["boxes"] or row["output"]).stem
        stems[stem] = stems.get(stem, 0) + 1
    names: dict[str, int] = {}
    entries = []
    for row in rows:
        first = row["boxes"] or row["output"]
        name = row.pop("name") or (Path(first).stem if stems[Path(first).stem] == 1 else first)
        if name in names:
            raise ManifestError(f"{_where(path, row['line'])}: name {name!r} is used by line {names[name]} too")
        names[name] = row["line"]
        entries.append(ManifestEntry(name=name, **row))
    return entries
