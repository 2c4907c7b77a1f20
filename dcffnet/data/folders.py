"""Finding the sequence folders of a dataset: a walk below its root that follows symbolic links
(shared storage often links sequences into a benchmark folder) without ever looping, and says what
it could not reach.

Folders reached without a link are walked first, then every linked folder; a folder already walked
(the same ``(st_dev, st_ino)``) is not walked again, so a link back to a parent ends there and a
sequence linked twice is read once, under the first name met (a real path before a linked one).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Callable

__all__ = ["FolderScan", "find_folders", "listed_folders"]

#: ``holds(file_names, folder_names)``: whether a folder with these entries is a sequence folder
Holds = Callable[[set[str], set[str]], bool]


@dataclass
class FolderScan:
    """What :func:`find_folders` found below a root.

    Attributes:
        folders: ``(name, path)`` of every matching folder, sorted by name; ``name`` is the path
            relative to the root as reached (through links, POSIX separators, ``.`` for the root).
        duplicates: ``(name, first)``: a matching folder reached a second time through a link, not
            read again; ``first`` is the name it was found under.
        unreachable: ``(name, reason)``: a broken symbolic link or a folder that cannot be listed,
            met outside the matching folders (where a sequence could have been).
    """

    folders: list[tuple[str, Path]] = field(default_factory=list)
    duplicates: list[tuple[str, str]] = field(default_factory=list)
    unreachable: list[tuple[str, str]] = field(default_factory=list)


def _name(root: Path, folder: Path) -> str:
    return folder.relative_to(root).as_posix()


def find_folders(root: str | Path, holds: Holds, depth: int | None = None) -> FolderScan:
    """Every folder below ``root`` (``root`` included) for which ``holds(files, subfolders)`` is true.

    Args:
        root: the dataset folder.
        holds: called with the names of the folder's files and of its subfolders (links resolved:
            a link to a folder counts as a subfolder, a broken link as neither).
        depth: only folders exactly ``depth`` levels below ``root`` (``root`` is 0) are candidates
            and nothing deeper is listed; ``None``: any depth.

    Returns:
        A :class:`FolderScan`; order and names do not depend on the file system's listing order.
    """
    root = Path(root)
    scan = FolderScan()
    walked: dict[tuple[int, int], str] = {}  # (st_dev, st_ino) of every folder walked -> its name
    linked: list[tuple[Path, int, bool]] = []  # links to folders, walked after the real folders

    def walk(start: Path, start_level: int, start_inside: bool) -> None:
        stack = [(start, start_level, start_inside)]
        while stack:
            folder, level, inside = stack.pop()
            name = _name(root, folder)
            try:
                stat = folder.stat()
                with os.scandir(folder) as it:
                    entries = sorted(it, key=lambda e: e.name)
            except OSError as err:
                if not inside:
                    scan.unreachable.append((name, f"cannot be listed ({err.strerror or err})"))
                continue
            key = (stat.st_dev, stat.st_ino)
            dirs = {e.name for e in entries if e.is_dir()}
            files = {e.name for e in entries if e.name not in dirs}
            match = (depth is None or level == depth) and holds(files, dirs)
            if key in walked:
                if match:
                    scan.duplicates.append((name, walked[key]))
                continue
            walked[key] = name
            if match:
                scan.folders.append((name, folder))
            if depth is not None and level >= depth:
                continue
            children = []
            for entry in entries:
                child = folder / entry.name
                if entry.name in dirs:
                    if entry.is_symlink():
                        linked.append((child, level + 1, inside or match))
                    else:
                        children.append((child, level + 1, inside or match))
                elif entry.is_symlink() and not inside and not match and not os.path.exists(child):
                    scan.unreachable.append((_name(root, child),
                                             f"broken symbolic link to {os.readlink(child)!r}"))
            stack.extend(reversed(children))

    walk(root, 0, False)
    i = 0
    while i < len(linked):  # links met while walking links are appended and walked in turn
        walk(*linked[i])
        i += 1
    scan.folders.sort(key=lambda item: PurePosixPath(item[0]).parts)
    return scan


def listed_folders(root: str | Path, marker: str) -> FolderScan:
    """The sequence folders of a benchmark that may list them: the names in ``root/list.txt`` when it
    exists (every listed name, present or not: reading a missing one fails and is reported), else
    every folder directly below ``root`` holding the file ``marker``."""
    root = Path(root)
    listed = root / "list.txt"
    if listed.is_file():
        return FolderScan(folders=[(name, root / name) for name in listed.read_text().split()])
    return find_folders(root, lambda files, dirs: marker in files, depth=1)
