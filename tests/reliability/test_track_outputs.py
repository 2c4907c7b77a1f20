"""``dcffnet track`` output paths (docs/reliability.md): an output that is the input (however it
is spelled: relative, absolute, through symbolic or hard links) or the other output is refused, and
so is one whose folder is missing or not writable, all before the weights are loaded or a frame
is read; the check leaves nothing behind. Generated paths carry spaces and non-ASCII names.

Examples per property: ``DCFFNET_PROPERTY_EXAMPLES`` (default 50).
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from pathlib import Path

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from dcffnet.cli import main  # noqa: E402
from dcffnet.video import BoxesWriter, FrameSource, OutputPathError, check_outputs  # noqa: E402
from track_clips import box_arg, write_clip, write_frame_folder  # noqa: E402

EXAMPLES = int(os.environ.get("DCFFNET_PROPERTY_EXAMPLES", "50"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=EXAMPLES <= 100,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

NAMES = st.one_of(
    st.sampled_from(["clip", "my clip", "vidéo", "日本語 動画", " lead", "trail ", "-dash", "a.b.c", "emoji 🎥",
                     "Ω≈ç√", "tab\u00a0nbsp"]),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc"), exclude_characters="/\\"),
            min_size=1, max_size=16).filter(lambda s: s not in (".", "..")),
)
KINDS = ["fresh", "fresh", "existing", "input", "missing_folder", "folder", "through_file", "loop"]
SPELLINGS = ["absolute", "relative", "dotted", "symlink", "linked_folder", "hardlink"]
# what check_outputs must say for each kind of target
PROBLEMS = {"input": "is the input", "same": "are the same file", "missing_folder": "does not exist",
            "folder": "is a folder", "through_file": "(?i)not a (folder|directory)", "loop": "cannot be written"}


@contextlib.contextmanager
def _cwd(folder: Path):
    before = os.getcwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(before)


def _snapshot(root: Path) -> dict[str, object]:
    """Every entry under ``root`` (links not followed): link targets, folders, file bytes."""
    entries: dict[str, object] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            key = str(path.relative_to(root))
            if path.is_symlink():
                entries[key] = ("link", os.readlink(path))
            elif path.is_dir():
                entries[key] = "folder"
            else:
                entries[key] = path.read_bytes()
    return entries


class _Layout:
    """A temporary tree: a source (video or frame folder), an unrelated file, a link loop, and
    outputs built from (kind, name, spelling) with the target each is meant to reach."""

    def __init__(self, root: Path, source_kind: str, source_name: str, link_source: bool) -> None:
        self.root = root
        self.data = root / "data ✓ dir"
        self.data.mkdir()
        if source_kind == "video":
            video = self.data / f"src {source_name}.avi"
            write_clip(video, 3)
            self.source_target = video
        else:
            self.source_target = self.data / f"frames {source_name}"
            self.source_target.mkdir()
            write_frame_folder(self.source_target, 3)
        self.source = self.source_target
        if link_source:
            self.source = root / "source link"
            self.source.symlink_to(self.source_target)
        self.inputs = [Path(os.path.realpath(p)) for p in FrameSource(self.source).input_files]
        self.existing = self.data / "old unrelated.txt"
        self.existing.write_bytes(b"keep me\n")
        (root / "loop a").symlink_to(root / "loop b")
        (root / "loop b").symlink_to(root / "loop a")
        self._links = 0

    def target(self, kind: str, name: str, suffix: str, pick: int) -> Path:
        """The real path an output of ``kind`` is meant to reach (it may not exist)."""
        if kind == "fresh":
            folder = self.source_target if self.source_target.is_dir() and pick % 2 else self.data
            return folder / f"new {name}{suffix}"
        if kind == "existing":
            return self.existing
        if kind == "input":
            return self.inputs[pick % len(self.inputs)]
        if kind == "missing_folder":
            return self.data / f"missing {name}" / f"out{suffix}"
        if kind == "folder":
            return self.data
        if kind == "through_file":
            return self.existing / f"out{suffix}"
        assert kind == "loop"
        return self.root / "loop a"

    def spell(self, target: Path, spelling: str) -> str:
        """A path string that reaches ``target`` in the given way (cwd is the root)."""
        self._links += 1
        if spelling == "relative":
            return os.path.relpath(target, self.root)
        if spelling == "dotted":
            folder = target.parent
            return str(folder.parent / "." / folder.name / ".." / folder.name / target.name)
        if spelling == "symlink":
            link = self.root / f"link {self._links}"
            link.symlink_to(target)
            return str(link)
        if spelling == "linked_folder":
            link = self.root / f"dirlink {self._links}"
            link.symlink_to(target.parent, target_is_directory=True)
            return str(link / target.name)
        if spelling == "hardlink" and target.is_file() and not target.is_symlink():
            link = self.root / f"hard {self._links}"
            os.link(target, link)
            return str(link)
        return str(target)


@st.composite
def output_plans(draw):
    """(kind, name, spelling, pick) for --output and for --boxes; --boxes may aim at --output's target."""
    plans = []
    for option in ("--output", "--boxes"):
        kinds = KINDS + (["other", "other"] if option == "--boxes" else [])
        plans.append((option, draw(st.sampled_from(kinds)), draw(NAMES), draw(st.sampled_from(SPELLINGS)),
                      draw(st.integers(0, 5))))
    return plans


@pytest.mark.parametrize("source_kind", ["video", "folder"])
@SETTINGS
@given(source_name=NAMES, link_source=st.booleans(), plans=output_plans())
def test_outputs_that_would_destroy_an_input_or_each_other_are_refused(source_kind, source_name, link_source, plans):
    with tempfile.TemporaryDirectory(prefix="dcffnet-outputs-") as tmp:
        root = Path(os.path.realpath(tmp))
        layout = _Layout(root, source_kind, source_name, link_source)
        targets: dict[str, Path] = {}
        kinds: dict[str, str] = {}
        paths: dict[str, str] = {}
        for option, kind, name, spelling, pick in plans:
            suffix = ".avi" if option == "--output" else ".txt"
            if kind == "other":
                kind, target = kinds["--output"], targets["--output"]
            else:
                target = layout.target(kind, name, suffix, pick)
            if target in layout.inputs:
                kind = "input"  # a fresh name drawn equal to the input's
            targets[option], kinds[option] = target, kind
            paths[option] = layout.spell(target, spelling)
        if any(kind == "input" for kind in kinds.values()):
            expected = "input"
        else:
            expected = next((kinds[o] for o in ("--output", "--boxes") if kinds[o] in PROBLEMS), None)
            if expected is None and targets["--output"] == targets["--boxes"]:
                expected = "same"
        before = _snapshot(root)
        with _cwd(root):
            if expected is None:
                check_outputs(FrameSource(layout.source).input_files, paths)
            else:
                with pytest.raises(OutputPathError, match=PROBLEMS[expected]) as info:
                    check_outputs(FrameSource(layout.source).input_files, paths)
                assert str(info.value.path) in paths.values()
        assert _snapshot(root) == before  # no file changed, created (write probes included) or removed


# ------------------------------------------------------------------------- through the command line
@pytest.fixture
def no_frame_is_read(monkeypatch):
    """Fail the test if ``dcffnet track`` reads a frame or loads weights."""
    import dcffnet.tracking

    def refuse(*args, **kwargs):
        raise AssertionError("a frame was read or the weights loaded before the outputs were checked")

    monkeypatch.setattr(FrameSource, "__iter__", refuse)
    monkeypatch.setattr(dcffnet.tracking.Tracker, "from_pretrained", classmethod(refuse))


@pytest.fixture
def clip(tmp_path):
    path = tmp_path / "my clip é.avi"
    return path, write_clip(path, 12)


def _same_inode_link(kind: str, source: Path, tmp_path: Path) -> str:
    if kind == "same string":
        return str(source)
    if kind == "relative":
        return os.path.relpath(source)
    link = tmp_path / f"{kind} to source.avi"
    if kind == "symlink":
        link.symlink_to(source)
    else:
        os.link(source, link)
    return str(link)


@pytest.mark.parametrize("option", ["--output", "--boxes"])
@pytest.mark.parametrize("spelling", ["same string", "relative", "symlink", "hardlink"])
def test_track_refuses_an_output_that_is_its_input_video(tmp_path, monkeypatch, clip, checkpoint_dir, no_frame_is_read,
                                                          capsys, option, spelling):
    source, box = clip
    original = source.read_bytes()
    monkeypatch.chdir(tmp_path)
    target = _same_inode_link(spelling, source, tmp_path)
    code = main(["track", str(source), "--box", box_arg(box), "--weights", str(checkpoint_dir), option, target,
                 "--no-progress"])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.count("\n") == 0 and f"{option} {target!r} is the input" in err
    assert source.read_bytes() == original


def test_track_refuses_a_boxes_file_that_is_a_frame_of_its_folder(tmp_path, checkpoint_dir, no_frame_is_read, capsys):
    folder = tmp_path / "frames"
    folder.mkdir()
    box = write_frame_folder(folder, 4)
    frame = folder / "00002.png"
    original = frame.read_bytes()
    code = main(["track", str(folder), "--box", box_arg(box), "--weights", str(checkpoint_dir),
                 "--boxes", str(frame), "--no-progress"])
    assert code == 2 and "is the input" in capsys.readouterr().err
    assert frame.read_bytes() == original


def test_track_refuses_two_outputs_that_are_one_file(tmp_path, clip, checkpoint_dir, no_frame_is_read, capsys):
    source, box = clip
    (tmp_path / "alias.avi").symlink_to(tmp_path / "out.avi")  # dangling until written
    code = main(["track", str(source), "--box", box_arg(box), "--weights", str(checkpoint_dir),
                 "--output", str(tmp_path / "out.avi"), "--boxes", str(tmp_path / "alias.avi"), "--no-progress"])
    assert code == 2 and "are the same file" in capsys.readouterr().err
    assert not (tmp_path / "out.avi").exists()


def _unwritable(kind: str, tmp_path: Path) -> Path:
    if kind == "missing folder":
        return tmp_path / "no such folder" / "boxes.txt"
    if kind == "folder is a file":
        (tmp_path / "notes.txt").write_text("a file")
        return tmp_path / "notes.txt" / "boxes.txt"
    if kind == "output is a folder":
        return tmp_path
    if kind == "read-only folder":
        if os.geteuid() == 0:
            pytest.skip("root writes into read-only folders; the /proc case covers root")
        folder = tmp_path / "read only"
        folder.mkdir()
        folder.chmod(0o500)
        return folder / "boxes.txt"
    assert kind == "/proc folder"
    if not sys.platform.startswith("linux") or not Path("/proc/self").is_dir():
        pytest.skip("needs Linux /proc")
    return Path("/proc/self/boxes.txt")  # no one, root included, can create a file there


@pytest.mark.parametrize("option", ["--boxes", "--output"])
@pytest.mark.parametrize("kind", ["missing folder", "folder is a file", "output is a folder", "read-only folder",
                                  "/proc folder"])
def test_track_refuses_an_unwritable_output_before_the_first_frame(tmp_path, clip, checkpoint_dir, no_frame_is_read,
                                                                  capsys, option, kind):
    source, box = clip
    target = _unwritable(kind, tmp_path)
    if option == "--output" and target.suffix == ".txt":
        target = target.with_suffix(".avi")
    before = sorted(p.name for p in tmp_path.iterdir())
    code = main(["track", str(source), "--box", box_arg(box), "--weights", str(checkpoint_dir), option, str(target),
                 "--no-progress"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.count("\n") == 0
    assert f"{option} {str(target)!r}" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no folder made, no probe left


def test_track_refuses_an_annotated_video_name_it_cannot_encode(tmp_path, clip, checkpoint_dir, no_frame_is_read,
                                                               capsys):
    source, box = clip
    code = main(["track", str(source), "--box", box_arg(box), "--weights", str(checkpoint_dir),
                 "--output", str(tmp_path / "annotated.txt"), "--no-progress"])
    assert code == 2 and "must end in one of .mp4" in capsys.readouterr().err


def test_track_writes_through_unicode_spaced_relative_and_linked_paths(tmp_path, monkeypatch, checkpoint_dir, capsys):
    folder = tmp_path / "images à voir"
    folder.mkdir()
    box = write_frame_folder(folder, 6)
    (tmp_path / "résultats 1").mkdir()
    (tmp_path / "videos link").symlink_to(tmp_path / "résultats 1", target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    code = main(["track", "images à voir", "--box", box_arg(box), "--weights", str(checkpoint_dir),
                 "--boxes", "images à voir/boîtes 1.txt",  # a new file inside the frame folder is fine
                 "--output", "videos link/vidéo annotée.avi", "--no-progress"])
    assert code == 0, capsys.readouterr().err
    lines = (folder / "boîtes 1.txt").read_text().splitlines()
    assert len(lines) == 6 and lines[0] == box_arg(box)
    assert len(list(FrameSource(tmp_path / "résultats 1" / "vidéo annotée.avi"))) == 6


def test_boxes_writer_flushes_each_line(tmp_path):
    path = tmp_path / "boxes.txt"
    with BoxesWriter(path) as writer:
        for i in range(3):
            writer.write((i, 2.5, 30, 40.125))
            assert path.read_text().splitlines()[-1] == f"{i}.00,2.50,30.00,40.12"  # on disk before close
            assert writer.count == i + 1
        with pytest.raises(ValueError, match="box must be 4 values"):
            writer.write((1, 2, 3))
    assert len(path.read_text().splitlines()) == 3
