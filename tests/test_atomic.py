"""dcffnet.atomic: whole-file writes that leave the old file or the new one, never a part, and no
temporary file behind."""

import json
import os
import stat

import numpy as np
import pytest

from dcffnet.atomic import atomic_path, atomic_write_bytes, atomic_write_json, atomic_write_text


def _listing(folder):
    return sorted(p.name for p in folder.iterdir())


def test_writes_bytes_text_and_json(tmp_path):
    assert atomic_write_bytes(tmp_path / "a.bin", b"\x00\x01") == tmp_path / "a.bin"
    assert (tmp_path / "a.bin").read_bytes() == b"\x00\x01"
    atomic_write_text(tmp_path / "a.txt", "caf\u00e9\n")
    assert (tmp_path / "a.txt").read_bytes() == "caf\u00e9\n".encode()
    atomic_write_json(tmp_path / "a.json", {"x": [1, 2.5], "nan": float("nan")})
    text = (tmp_path / "a.json").read_text()
    assert text.endswith("}\n") and json.loads(text)["x"] == [1, 2.5] and np.isnan(json.loads(text)["nan"])
    atomic_write_text(tmp_path / "a.txt", "second")  # replaces
    assert (tmp_path / "a.txt").read_text() == "second"
    assert _listing(tmp_path) == ["a.bin", "a.json", "a.txt"]


def test_permissions_follow_the_umask(tmp_path):
    old = os.umask(0o027)
    try:
        atomic_write_text(tmp_path / "f.txt", "x")
        plain = tmp_path / "plain.txt"
        plain.write_text("x")
    finally:
        os.umask(old)
    mode = stat.S_IMODE((tmp_path / "f.txt").stat().st_mode)
    assert mode == 0o640 == stat.S_IMODE(plain.stat().st_mode)  # not mkstemp's 0o600


def test_a_failure_mid_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "state.npz"
    atomic_write_bytes(target, b"old content")

    class Boom(RuntimeError):
        pass

    with pytest.raises(Boom):
        with atomic_path(target) as tmp:
            with open(tmp, "wb") as fh:
                fh.write(b"half of the new")
            raise Boom("killed half-way")
    assert target.read_bytes() == b"old content"
    assert _listing(tmp_path) == ["state.npz"]


def test_unserialisable_json_writes_nothing(tmp_path):
    atomic_write_json(tmp_path / "s.json", {"ok": 1})
    with pytest.raises(TypeError):
        atomic_write_json(tmp_path / "s.json", {"bad": object()})
    assert json.loads((tmp_path / "s.json").read_text()) == {"ok": 1}
    assert _listing(tmp_path) == ["s.json"]


def test_path_writers_that_add_a_suffix_write_the_temporary_itself(tmp_path):
    """numpy.savez appends .npz to a name without it: the temporary name must already end so."""
    target = tmp_path / "kept.npz"
    with atomic_path(target) as tmp:
        assert tmp.parent == tmp_path and tmp.name.startswith(".") and tmp.suffix == ".npz"
        np.savez(tmp, boxes=np.ones((3, 4)))
    with np.load(target) as data:
        assert data["boxes"].shape == (3, 4)
    assert _listing(tmp_path) == ["kept.npz"]


def test_a_block_that_writes_nothing_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing was written"):
        with atomic_path(tmp_path / "x.pt") as tmp:
            tmp.unlink()
    assert _listing(tmp_path) == []


def test_bad_arguments(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        atomic_write_text(tmp_path / "missing" / "f.txt", "x")
    with pytest.raises(TypeError, match="data must be bytes"):
        atomic_write_bytes(tmp_path / "f", "text")
    with pytest.raises(TypeError, match="text must be a str"):
        atomic_write_text(tmp_path / "f", b"bytes")
    assert _listing(tmp_path) == []
