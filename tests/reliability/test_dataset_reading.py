"""Hostile dataset folders (docs/reliability.md, "Hostile dataset folders"): sequences reached
through symbolic links (and links that loop or dangle), frames numbered without padding, ground
truth that is empty, polygonal or has no first box, sequences without frames. Every sequence is
read, or named in the reader's report with its reason; nothing is dropped or reordered silently,
and a strict read stops on the first bad one, naming it.

Trees are generated per example in a fresh temporary folder; frame files are empty ``.jpg`` files
(readers list frames, they do not decode them).
"""

from __future__ import annotations

import os
import random
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from dcffnet.data import (DatasetError, list_images, natural_key, read_box_file, read_dataset,  # noqa: E402
                          read_dataset_report, read_folder, read_got10k, read_lasot, read_vot)

EXAMPLES = int(os.environ.get("DCFFNET_PROPERTY_EXAMPLES", "50"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=EXAMPLES <= 100,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

NUMBERINGS = {"padded": "{:08d}.jpg", "unpadded": "{}.jpg", "prefixed": "img{}.jpg", "padded4": "{:04d}.png"}
# what goes wrong with a sequence, and the words its reason in the report must contain
FAULTS = {"none": None, "polygon": None, "empty_gt": "holds no boxes", "no_frames": "no frames",
          "bad_first": "first frame"}
PLACES = ["root", "nested", "linked", "linked_twice", "in_linked_group"]


def _box(i: int) -> tuple[float, float, float, float]:
    return 10.0 + i, 20.0 + 2 * i, 30.0 + i % 3, 40.0


def _write_sequence(folder: Path, frames: int, numbering: str, first: int, fault: str, images: str = "img") -> None:
    """``frames`` empty frame files in ``folder/images`` named by ``numbering`` from ``first`` on,
    written in shuffled order, and a ground truth matching ``fault``."""
    (folder / images).mkdir(parents=True, exist_ok=True)
    if fault != "no_frames":
        order = list(range(frames))
        random.Random(frames).shuffle(order)
        for i in order:
            (folder / images / NUMBERINGS[numbering].format(first + i)).write_bytes(b"")
    lines = []
    for i in range(frames):
        x, y, w, h = _box(i)
        if fault == "polygon":  # the rectangle's corners, clockwise from the top left (VOT style)
            lines.append(f"{x},{y},{x + w},{y},{x + w},{y + h},{x},{y + h}")
        else:
            lines.append(f"{x},{y},{w},{h}")
    if fault == "bad_first":
        lines[0] = random.Random(frames).choice(["nan,nan,nan,nan", "5,5,0,10", "5,5,10,-3", "", "x,y,w,h", "0"])
    (folder / "groundtruth.txt").write_text("" if fault == "empty_gt" else "\n".join(lines) + "\n")


@st.composite
def dataset_plans(draw):
    """A list of ``(place, frames, numbering, first_index, fault)``, one per sequence, plus extras."""
    count = draw(st.integers(1, 5))
    seqs = [(draw(st.sampled_from(PLACES)), draw(st.integers(1, 14)), draw(st.sampled_from(sorted(NUMBERINGS))),
             draw(st.sampled_from([0, 1])), draw(st.sampled_from(sorted(FAULTS)))) for _ in range(count)]
    extras = {"loop": draw(st.booleans()), "broken": draw(st.booleans())}
    return seqs, extras


def _build(base: Path, plan) -> tuple[Path, dict[str, tuple[int, str, str]], set[str], list[str]]:
    """Write the plan below ``base``; returns the root, ``{expected name: (frames, numbering, fault)}``,
    the names reached twice and the names of broken links."""
    seqs, extras = plan
    root, storage = base / "bench", base / "storage"
    root.mkdir()
    group = storage / "group"
    expected, twice, broken = {}, set(), []
    for k, (place, frames, numbering, first, fault) in enumerate(seqs):
        name = f"s{k}"
        if place == "root":
            _write_sequence(root / name, frames, numbering, first, fault)
            expected[name] = (frames, numbering, fault)
        elif place == "nested":
            _write_sequence(root / "sub" / name, frames, numbering, first, fault)
            expected[f"sub/{name}"] = (frames, numbering, fault)
        elif place in ("linked", "linked_twice"):
            _write_sequence(storage / name, frames, numbering, first, fault)
            (root / name).symlink_to(storage / name, target_is_directory=True)
            expected[name] = (frames, numbering, fault)
            if place == "linked_twice":  # a second link to the same folder: read once, reported
                (root / f"{name}_again").symlink_to(storage / name, target_is_directory=True)
                twice.add(f"{name}_again")
        else:
            _write_sequence(group / name, frames, numbering, first, fault)
            expected[f"linked_group/{name}"] = (frames, numbering, fault)
    if group.is_dir():
        (root / "linked_group").symlink_to(group, target_is_directory=True)
    if extras["loop"]:  # a link back to the root: must not be followed forever
        (root / "loop").symlink_to(root, target_is_directory=True)
    if extras["broken"]:
        (root / "gone").symlink_to(base / "unmounted" / "seq", target_is_directory=True)
        broken.append("gone")
    return root, expected, twice, broken


def _frame_number(path: Path) -> int:
    return int("".join(c for c in path.stem if c.isdigit()))


@SETTINGS
@given(plan=dataset_plans(), benchmark=st.booleans())
def test_every_sequence_is_read_in_frame_order_or_reported_with_its_reason(plan, benchmark):
    with tempfile.TemporaryDirectory() as tmp:
        root, expected, twice, broken = _build(Path(tmp), plan)
        good = {name for name, (_, _, fault) in expected.items()
                if fault in ("none", "polygon") or (fault == "bad_first" and not benchmark)}
        if not good:
            with pytest.raises(DatasetError, match="no usable sequences"):
                read_dataset_report("folder", root, benchmark=benchmark)
            return
        report = read_dataset_report("folder", root, benchmark=benchmark)
        read = {seq.name: seq for seq in report.sequences}
        assert set(read) == good
        reasons = {s.name: s.reason for s in report.skipped}
        for name, (_, _, fault) in expected.items():
            if name not in good:
                assert FAULTS[fault] in reasons[name], (name, reasons)
        for name in twice:
            assert "symbolic link" in reasons[name]
        for name in broken:
            assert "broken symbolic link" in reasons[name]
        assert set(reasons) == (set(expected) - good) | twice | set(broken)
        assert report.found == len(read) + len(reasons)
        for name, seq in read.items():
            frames, _, fault = expected[name]
            numbers = [_frame_number(p) for p in seq.frames]
            assert numbers == sorted(numbers) and len(numbers) == frames  # natural order, none lost
            start = 1 if fault == "bad_first" else 0
            want = np.array([_box(i) for i in range(start, frames)]).reshape(-1, 4)
            np.testing.assert_allclose(seq.boxes[start:], want)  # polygons: their bounding box
            if fault == "bad_first":
                assert np.isnan(seq.boxes[0]).all()


@SETTINGS
@given(plan=dataset_plans())
def test_a_strict_read_stops_at_a_bad_sequence_and_names_it(plan):
    with tempfile.TemporaryDirectory() as tmp:
        root, expected, twice, broken = _build(Path(tmp), plan)
        bad = {name for name, (_, _, fault) in expected.items() if fault in ("empty_gt", "no_frames", "bad_first")}
        fatal = bad | set(broken)
        if not fatal:
            relaxed = read_dataset_report("folder", root, benchmark=True)
            strict = read_dataset_report("folder", root, benchmark=True, strict=True)
            assert [s.name for s in strict.sequences] == [s.name for s in relaxed.sequences]
            assert {s.name for s in strict.skipped} == twice  # reported, never fatal
            return
        with pytest.raises(DatasetError) as caught:
            read_dataset_report("folder", root, benchmark=True, strict=True)
        assert caught.value.sequence in fatal
        assert caught.value.sequence in str(caught.value) and caught.value.reason in str(caught.value)


@SETTINGS
@given(numbers=st.lists(st.integers(0, 10 ** 6), min_size=1, max_size=30, unique=True),
       pattern=st.sampled_from(["{}.jpg", "frame_{}.png", "{:06d}.jpg", "cam1_{}.JPG", "{}.tif"]))
def test_frames_are_listed_in_numeric_order(numbers, pattern):
    with tempfile.TemporaryDirectory() as tmp:
        for n in numbers:
            (Path(tmp) / pattern.format(n)).write_bytes(b"")
        listed = list_images(tmp)
        assert [p.name for p in listed] == [pattern.format(n) for n in sorted(numbers)]


@SETTINGS
@given(names=st.lists(st.from_regex(r"[a-z]{0,3}[0-9]{0,4}[a-z_.]{0,3}[0-9]{0,3}", fullmatch=True),
                      min_size=2, max_size=20, unique=True),
       numbers=st.lists(st.integers(0, 10 ** 8 - 1), min_size=2, max_size=20, unique=True))
def test_natural_order_is_total_and_keeps_padded_names_in_text_order(names, numbers):
    ordered = sorted(names, key=natural_key)
    assert sorted(reversed(names), key=natural_key) == ordered  # total: no ties left to input order
    padded = [f"{n:08d}.jpg" for n in numbers]  # the layout of every benchmark: order unchanged
    assert sorted(padded, key=natural_key) == sorted(padded)


def test_unpadded_frames_are_read_in_order_by_every_frame_listing(tmp_path):
    """0.jpg, 1.jpg, 10.jpg, 2.jpg ... as text; 0, 1, 2, ..., 10 numerically (`dcffnet track` too)."""
    import cv2

    from dcffnet.video import FrameSource

    folder = tmp_path / "clip"
    (folder / "img").mkdir(parents=True)
    for i in range(12):
        cv2.imwrite(str(folder / "img" / f"{i}.png"), np.full((8, 8, 3), i * 20, np.uint8))
    (folder / "groundtruth.txt").write_text("".join(f"{i},1,4,4\n" for i in range(12)))
    seq = read_folder(tmp_path)[0]
    assert [p.stem for p in seq.frames] == [str(i) for i in range(12)]
    assert [int(frame[0, 0, 0]) for frame in FrameSource(folder / "img")] == [i * 20 for i in range(12)]


def test_sequences_behind_symbolic_links_are_read_and_loops_end(tmp_path):
    storage, root = tmp_path / "storage", tmp_path / "bench"
    for name in ("a", "b"):
        _write_sequence(storage / name, 3, "padded", 1, "none")
    _write_sequence(root / "local", 3, "padded", 1, "none")
    (root / "a").symlink_to(storage / "a", target_is_directory=True)
    (root / "more").mkdir()
    (root / "more" / "b").symlink_to(storage / "b", target_is_directory=True)
    (root / "more" / "up").symlink_to(root, target_is_directory=True)  # loop
    assert [s.name for s in read_folder(root)] == ["a", "local", "more/b"]


def test_lasot_classes_behind_links_are_read(tmp_path):
    storage, root = tmp_path / "storage", tmp_path / "lasot"
    _write_sequence(storage / "cat" / "cat-1", 3, "padded", 1, "none")
    _write_sequence(root / "dog" / "dog-1", 3, "padded", 1, "none")
    (root / "cat").symlink_to(storage / "cat", target_is_directory=True)
    assert sorted(s.name for s in read_lasot(root)) == ["cat-1", "dog-1"]


@pytest.mark.parametrize("fault", ["empty_gt", "no_frames"])
def test_a_sequence_that_cannot_be_read_is_reported_not_dropped_silently(tmp_path, fault):
    _write_sequence(tmp_path / "good", 3, "padded", 1, "none")
    _write_sequence(tmp_path / "bad", 3, "padded", 1, fault)
    with pytest.warns(UserWarning, match=rf"skipped 1 \(bad: .*{FAULTS[fault]}"):
        seqs = read_dataset("folder", tmp_path)
    assert [s.name for s in seqs] == ["good"]


def test_polygon_lines_become_their_bounding_box(tmp_path):
    path = tmp_path / "groundtruth.txt"
    path.write_text("10,20,50,20,50,60,10,60\n30 5 40 10 35 25\n1,2,3,4\n1,2,nan,4,5,6,7,8\n")
    np.testing.assert_allclose(read_box_file(path)[:3], [[10, 20, 40, 40], [30, 5, 10, 20], [1, 2, 3, 4]])
    assert np.isnan(read_box_file(path)[3]).all()


def test_a_bad_first_box_is_named_and_the_read_goes_on_unless_strict(tmp_path):
    _write_sequence(tmp_path / "good", 3, "padded", 1, "none")
    _write_sequence(tmp_path / "late", 3, "padded", 1, "bad_first")
    report = read_dataset_report("folder", tmp_path, benchmark=True)
    assert [s.name for s in report.sequences] == ["good"]
    assert [s.name for s in report.skipped] == ["late"] and "first frame" in report.skipped[0].reason
    assert "late" in report.summary() and "found 2, read 1, skipped 1" in report.summary()
    assert len(read_dataset_report("folder", tmp_path).sequences) == 2  # training keeps it (frames 1-2 are fine)
    with pytest.raises(DatasetError, match="'late'.*first frame"):
        read_dataset_report("folder", tmp_path, benchmark=True, strict=True)


def test_benchmark_lists_and_split_files_naming_missing_sequences_are_reported(tmp_path):
    vot = tmp_path / "vot"
    _write_sequence(vot / "ball", 3, "padded", 1, "polygon", images="color")
    _write_sequence(vot / "hollow", 3, "padded", 1, "empty_gt", images="color")
    (vot / "list.txt").write_text("ball\nhollow\nmissing\n")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert [s.name for s in read_vot(vot)] == ["ball"]
    report = read_dataset_report("vot", vot, benchmark=True)
    assert {s.name for s in report.skipped} == {"hollow", "missing"}
    got = tmp_path / "got"
    _write_sequence(got / "GOT_1", 2, "padded", 1, "none", images=".")
    (got / "list.txt").write_text("GOT_1\nGOT_2\n")
    with pytest.warns(UserWarning, match="GOT_2"):
        assert [s.name for s in read_got10k(got)] == ["GOT_1"]
    (tmp_path / "split.txt").write_text("good\nnot_there\n")
    _write_sequence(tmp_path / "folder" / "good", 2, "padded", 1, "none")
    report = read_dataset_report("folder", tmp_path / "folder", split_file=tmp_path / "split.txt")
    assert [s.name for s in report.skipped] == ["not_there"] and "split.txt" in report.skipped[0].reason


@pytest.mark.parametrize("fmt, content, shown", [
    ("coco", "not json", "not a readable JSON file"),
    ("coco", b"\xff\xfe{}", "not a readable JSON file"),
    ("coco", "[]", "must hold a JSON mapping, got list"),
    ("coco", "{}", "'images' must be a list, got None"),
    ("coco", '{"images": [], "annotations": {}}', "'annotations' must be a list"),
    ("coco", '{"images": [{"id": 1}], "annotations": []}',
     "images[0] must be a mapping with an 'id' and a 'file_name'"),
    ("coco", '{"images": [[1]], "annotations": []}', "images[0] must be a mapping"),
    ("images", "[" * 100_000, "not a readable JSON file"),
    ("images", "[]", "must hold a JSON mapping, got list"),
    ("images", '{"images": {}}', "'images' must be a list"),
])
def test_still_image_annotations_that_are_not_the_documented_json_are_a_dataset_error(tmp_path, fmt, content, shown):
    """Before: ``JSONDecodeError`` without the file's name, ``KeyError: 'images'``, ``AttributeError``."""
    path = tmp_path / ("instances_train.json" if fmt == "coco" else "annotations.json")
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(DatasetError) as info:
        read_dataset_report(fmt, path if fmt == "coco" else tmp_path)
    assert str(path) in str(info.value) and shown in str(info.value), str(info.value)


def test_bad_entries_of_still_image_annotations_are_skipped_with_their_reason(tmp_path):
    (tmp_path / "a.jpg").write_bytes(b"")
    (tmp_path / "annotations.json").write_text(
        '{"images": [3, {"file": 7, "boxes": [[1, 1, 9, 9]]}, {"file": "a.jpg", "boxes": "x"},'
        ' {"file": "a.jpg", "boxes": [[1, 1, 9, 9]]}]}')
    report = read_dataset_report("images", tmp_path)
    assert len(report.sequences) == 1
    reasons = {name: reason for name, reason in ((s.name, s.reason) for s in report.skipped)}
    assert "not a mapping with a list of 'boxes'" in reasons["0"] and "no 'file'" in reasons["1/0"], reasons
    assert "not a mapping with a list of 'boxes'" in reasons["2"], reasons
    (tmp_path / "instances_x.json").write_text(
        '{"images": [{"id": 1, "file_name": "a.jpg"}], "annotations": [5, {"image_id": [1], "bbox": [1, 1, 9, 9]},'
        ' {"image_id": 1, "id": 2, "bbox": [1, 1, 9, 9]}]}')
    report = read_dataset_report("coco", tmp_path / "instances_x.json", image_dir=tmp_path)
    assert len(report.sequences) == 1 and len(report.skipped) == 2, report.summary()


@pytest.mark.parametrize("root, error, shown", [
    (None, TypeError, "root must be a file or folder name"), (3, TypeError, "got 3 (int)"),
    (b"bench", TypeError, "(bytes)"), ("", ValueError, "an empty name"),
    ("x" * 5000, FileNotFoundError, "not found"), ("a\x00b", FileNotFoundError, "not found"),
])
def test_a_root_that_is_no_path_is_refused_naming_it(root, error, shown):
    """Before: ``OSError: File name too long``, ``""`` read the current folder, raw ``TypeError``s."""
    for fmt in ("folder", "otb", "vot", "lasot", "got10k", "uav123", "imagenet_vid"):
        with pytest.raises(error, match=shown.replace("(", r"\(").replace(")", r"\)")):
            read_dataset_report(fmt, root)
