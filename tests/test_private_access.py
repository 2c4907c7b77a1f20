"""Modules outside ``dcffnet/tracking/`` use the trackers through public methods only (issue 24).

The private members of the tracking classes (``Tracker``, ``MultiTracker``, the pipeline, the
network runner, the target record, ...) are collected from ``dcffnet/tracking/`` itself; every
other module of the package, the benchmarks, the examples and the tests are then scanned for an
attribute access of one of those names on anything but ``self`` / ``cls``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TRACKING = ROOT / "dcffnet" / "tracking"
SCANNED = ("dcffnet", "benchmarks", "examples", "tests")
#: the members of 0.4.0's Tracker that other modules used to drive (gone, and must stay unused)
FORMER = {"_net", "_state", "_template", "_search_region", "_pad_value", "_prepare", "_track_crops", "_follow",
          "_redetect", "_to_tensor", "_with_threads", "_size_factor"}


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def tracking_private_names() -> set[str]:
    """Private attributes and methods the classes of ``dcffnet/tracking/`` define."""
    names: set[str] = set(FORMER)
    for path in TRACKING.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                for item in ast.walk(node):
                    if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and _private(item.name):
                        names.add(item.name)
                    elif (isinstance(item, ast.Attribute) and isinstance(item.ctx, ast.Store)
                          and isinstance(item.value, ast.Name) and item.value.id in ("self", "cls", "tracker")
                          and _private(item.attr)):
                        names.add(item.attr)
    return names


def private_accesses(source: str, names: set[str]) -> list[tuple[int, str]]:
    """``(line, text)`` of each ``obj._name`` with ``_name`` in ``names`` and ``obj`` not self/cls."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and node.attr in names:
            if isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"):
                continue
            found.append((node.lineno, ast.unparse(node)))
    return found


def test_the_scan_finds_private_access():
    names = tracking_private_names()
    assert {"_pipeline", "_target"} <= names
    source = "def f(tracker):\n    return tracker._pipeline, self._target\n"
    assert private_accesses(source, names) == [(2, "tracker._pipeline")]


def test_no_module_outside_tracking_touches_tracker_private_members():
    names = tracking_private_names()
    offenders = []
    for top in SCANNED:
        for path in sorted((ROOT / top).rglob("*.py")):
            if TRACKING in path.parents or path == Path(__file__).resolve():
                continue
            for line, text in private_accesses(path.read_text(encoding="utf-8"), names):
                offenders.append(f"{path.relative_to(ROOT)}:{line}: {text}")
    if offenders:
        pytest.fail("private members of dcffnet/tracking used from outside:\n" + "\n".join(offenders))
