"""Writing files atomically: a reader (or a run killed half-way) sees the old file or the new one,
never a half-written one.

Every write goes to a temporary file in the destination's own folder (so the final
:func:`os.replace` stays on one file system), is flushed to disk (``fsync``), gets the permissions
a plain ``open`` would give under the current umask (``mkstemp`` creates files readable by the
owner only), and then replaces the destination in one step. On any error the temporary file is
removed and the destination is left as it was.

* :func:`atomic_write_bytes`, :func:`atomic_write_text`, :func:`atomic_write_json`: the whole
  content at once;
* :func:`atomic_path`: a context manager giving a temporary path, for writers that need a file
  name (``torch.save``, ``numpy.savez``, ``safetensors``);
* :func:`leftover_temporaries`: the temporary files a writer killed outright (SIGKILL, power loss)
  left beside a destination.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from glob import escape as glob_escape
from pathlib import Path
from typing import Any, Iterator

__all__ = ["atomic_path", "atomic_write_bytes", "atomic_write_text", "atomic_write_json", "leftover_temporaries"]


def _umask() -> int:
    """The process umask (read by setting it and putting it back: there is no getter before Python 3.13)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync_file(path: str) -> None:
    with open(path, "rb+") as fh:
        os.fsync(fh.fileno())


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable; folders cannot be opened for fsync on every platform (Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(path: "str | os.PathLike[str]") -> Iterator[Path]:
    """Yield a temporary path beside ``path``; when the block ends without an error, the file written
    there replaces ``path`` atomically.

    The temporary name is hidden (starts with ``.``) and ends with ``path``'s suffix, so writers that
    add a suffix when it is missing (``numpy.savez`` adds ``.npz``) write exactly there. The folder
    of ``path`` must exist.

    Raises:
        FileNotFoundError: ``path``'s folder does not exist, or the block wrote nothing to the
            temporary path.
        Whatever the block raises, after the temporary file is removed (``path`` is untouched).
    """
    path = Path(path)
    if not path.parent.is_dir():
        raise FileNotFoundError(f"cannot write {path}: folder {path.parent} does not exist")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=f".tmp{path.suffix}")
    os.close(fd)
    try:
        yield Path(tmp)
        if not os.path.isfile(tmp):
            raise FileNotFoundError(f"nothing was written to the temporary file {tmp} for {path}")
        _fsync_file(tmp)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    _fsync_folder(path.parent)


def leftover_temporaries(path: "str | os.PathLike[str]") -> list[Path]:
    """The temporary files :func:`atomic_path` created for ``path`` that are still there: those of a
    process killed before it could remove them (or of one writing ``path`` now: remove them only
    when nothing else writes ``path``). Sorted; empty when ``path``'s folder does not exist."""
    path = Path(path)
    if not path.parent.is_dir():
        return []
    return sorted(p for p in path.parent.glob(f".{glob_escape(path.name)}.*.tmp{glob_escape(path.suffix)}")
                  if p.is_file())


def atomic_write_bytes(path: "str | os.PathLike[str]", data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (see the module docstring). Returns ``path``.

    Raises:
        TypeError: ``data`` is not bytes-like.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"data must be bytes, got {type(data).__name__}")
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def atomic_write_text(path: "str | os.PathLike[str]", text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically, encoded with ``encoding``. Returns ``path``.

    Raises:
        TypeError: ``text`` is not a str.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    return atomic_write_bytes(path, text.encode(encoding))


def atomic_write_json(path: "str | os.PathLike[str]", data: Any, indent: int | None = 2) -> Path:
    """Write ``data`` as JSON (``indent`` spaces, a final newline; NaN written as ``NaN`` as Python's
    :mod:`json` does) to ``path`` atomically. Returns ``path``.

    Raises:
        TypeError: ``data`` holds something JSON cannot represent (nothing is written then).
    """
    return atomic_write_text(path, json.dumps(data, indent=indent) + "\n")
