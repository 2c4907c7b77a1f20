"""Finished (tracker, sequence) results kept on disk by ``dcffnet eval``, so a rerun resumes.

Each result is ``<keep_dir>/<tracker>/<sequence>.npz`` (boxes, scores, per-frame times, lost
flags), written atomically with the tracker's fingerprint, the fields it was computed from, and a
key of the sequence. A kept result is reused only when both match; otherwise
:func:`load_kept` says why, naming the fingerprint fields that differ (weights, tracking values,
backend, ...).
"""

from __future__ import annotations

import hashlib
import json
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import atomic_path
from .datasets import Sequence
from .records import SequenceResult, jsonable

__all__ = ["fingerprint", "sequence_key", "kept_path", "load_kept", "keep_result"]

_ARRAYS = ("boxes", "scores", "times", "lost")


def fingerprint(*parts: Any) -> str:
    """16 hex characters identifying ``parts`` (JSON-able values, numpy allowed)."""
    return hashlib.sha256(json.dumps(jsonable(list(parts)), sort_keys=True).encode()).hexdigest()[:16]


def sequence_key(seq: Sequence) -> str:
    """A fingerprint of a sequence's name, length and ground truth (rounded to 0.001 px)."""
    return fingerprint(seq.name, len(seq), np.nan_to_num(seq.gt, nan=-1.0).round(3).tolist())


def kept_path(keep_dir: "str | Path", tracker: str, sequence: str) -> Path:
    """Where the result of ``tracker`` on ``sequence`` is kept."""
    return Path(keep_dir) / tracker / f"{sequence}.npz"


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(_flatten(item, f"{prefix}{key}."))
        return out
    return {prefix.rstrip("."): value}


def _short(value: Any) -> str:
    text = json.dumps(jsonable(value))
    return text if len(text) <= 24 else text[:21] + "..."


def _differences(kept: dict[str, Any], now: dict[str, Any]) -> str:
    """``"hparams.lr 0.3 -> 0.5, weights"``: the fields of two fingerprints that differ."""
    old, new = _flatten(jsonable(kept)), _flatten(jsonable(now))
    parts = []
    for key in list(old) + [k for k in new if k not in old]:
        if old.get(key, None) == new.get(key, None):
            continue
        if key not in old or key not in new:
            parts.append(f"{key} {'added' if key not in old else 'removed'}")
        elif isinstance(old[key], str) and len(old[key]) > 24:  # digests: their values say nothing
            parts.append(key)
        else:
            parts.append(f"{key} {_short(old[key])} -> {_short(new[key])}")
    return ", ".join(parts)


def load_kept(path: "str | Path", seq: Sequence, tracker_fingerprint: str,
              fields: dict[str, Any] | None = None) -> tuple[SequenceResult | None, str]:
    """Read back a kept result if it was computed by the same tracker on the same sequence.

    Args:
        tracker_fingerprint: the running tracker's fingerprint.
        fields: what that fingerprint was computed from (named), to say which of them differ.

    Returns:
        ``(result, "")`` when it can be reused; ``(None, "")`` when nothing is kept at ``path``;
        ``(None, reason)`` when a kept file is there but cannot be reused (damaged, an older
        format, another tracker: the fingerprint fields that differ, another sequence).
    """
    path = Path(path)
    if not path.is_file():
        return None, ""
    try:
        with np.load(path, allow_pickle=False) as data:
            stored = {k: data[k] for k in data.files}
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, zlib.error) as exc:
        return None, f"the kept file is damaged ({type(exc).__name__})"
    missing = [k for k in (*_ARRAYS, "fingerprint", "sequence") if k not in stored]
    if missing:
        return None, f"the kept file lacks {', '.join(missing)} (written by an older dcffnet or damaged)"
    if str(stored["fingerprint"]) != tracker_fingerprint:
        try:
            kept_fields = json.loads(str(stored["fields"])) if "fields" in stored else None
        except ValueError:
            kept_fields = None
        if isinstance(kept_fields, dict) and fields:
            diff = _differences(kept_fields, fields)
            if diff:
                return None, f"the tracker differs: {diff}"
        return None, f"the tracker differs (fingerprint {stored['fingerprint']} kept, {tracker_fingerprint} now)"
    if str(stored["sequence"]) != sequence_key(seq):
        return None, "the sequence differs (its frame count or ground truth changed)"
    try:
        result = SequenceResult(*(np.asarray(stored[k]) for k in _ARRAYS), reused=True)
    except ValueError as exc:
        return None, f"the kept file is damaged ({exc})"
    if len(result) != len(seq):
        return None, f"the kept result has {len(result)} frames, the sequence {len(seq)}"
    return result, ""


def keep_result(path: "str | Path", seq: Sequence, result: SequenceResult, tracker_fingerprint: str,
                fields: dict[str, Any] | None = None) -> Path:
    """Write ``result`` of the tracker with ``tracker_fingerprint`` (computed from ``fields``) on
    ``seq`` to ``path`` atomically (folders created). Returns ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        np.savez(tmp, boxes=result.boxes, scores=result.scores, times=result.times,
                 lost=np.asarray(result.lost, dtype=bool), fingerprint=np.array(tracker_fingerprint),
                 sequence=np.array(sequence_key(seq)), fields=np.array(json.dumps(jsonable(fields or {}))))
    return path
