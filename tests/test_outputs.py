"""The boxes files (txt, MOTChallenge, JSON lines), the targets file and the multi-target drawing of
``dcffnet track`` (docs/cli-outputs.md), without a network: records in, files read back."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from dcffnet.outputs import (BoxesFormatError, BoxesWriter, FrameRecord, JSONLinesWriter, MOTWriter, TargetRecord,
                             boxes_format, open_boxes_writer)
from dcffnet.targets import TargetsFileError, TargetSpec, mot_ids, parse_targets, read_targets, targets_from_boxes
from dcffnet.video import PALETTE, draw_targets


def _target(tid, x, state="tracking", probability=0.8, start=False):
    return TargetRecord(tid, (float(x), 20.0, 30.0, 40.5), 0.9, probability, state, start)


def _records():
    """Frames 0-5: frame 2 missing, frame 4 dropped (no record), target "b" lost on frame 3."""
    return [
        FrameRecord(0, 0.0, (_target("a", 10, start=True), _target("b", 100, start=True))),
        FrameRecord(1, 0.04, (_target("a", 11), _target("b", 101))),
        FrameRecord(2, 0.08, (), True),
        FrameRecord(3, 0.12, (_target("a", 13), _target("b", 101, state="lost"))),
        FrameRecord(5, 0.2, (_target("a", 15, state="uncertain"), _target("b", 104))),
    ]


def read_mot(path):
    """Rows of a MOTChallenge file by its column rules: 10 comma-separated numbers per row, frame
    (1-based) and id integers, bb_left, bb_top, bb_width, bb_height, conf, and x, y, z = -1."""
    rows = []
    for line in path.read_text().splitlines():
        values = line.split(",")
        assert len(values) == 10, line
        frame, tid = int(values[0]), int(values[1])
        box = [float(v) for v in values[2:6]]
        conf = float(values[6])
        assert [float(v) for v in values[7:]] == [-1, -1, -1]
        assert frame >= 1 and tid >= 1 and box[2] > 0 and box[3] > 0 and 0 <= conf <= 1
        rows.append((frame, tid, *box, conf))
    return np.array(rows, dtype=np.float64).reshape(-1, 7)


# --------------------------------------------------------------------------------------- formats
@pytest.mark.parametrize("name, fmt, expected", [
    ("b.txt", None, "txt"), ("b.TXT", None, "txt"), ("b.csv", None, "mot"), ("b.jsonl", None, "jsonl"),
    ("b.ndjson", None, "jsonl"), ("b.txt", "mot", "mot"), ("b.out", "csv", "mot"), ("b", "jsonl", "jsonl"),
])
def test_the_format_follows_the_flag_or_the_suffix(name, fmt, expected):
    assert boxes_format(name, fmt, targets=1) == expected


@pytest.mark.parametrize("name, fmt, message", [
    ("boxes.dat", None, "suffix '.dat'"), ("boxes", None, "without a suffix"), ("boxes.json", None, "name it .jsonl"),
    ("boxes.txt", "xml", "--boxes-format must be one of"),
])
def test_an_unknown_format_is_refused_naming_the_option(name, fmt, message):
    with pytest.raises(BoxesFormatError, match=message):
        boxes_format(name, fmt)


def test_txt_refuses_several_targets_and_points_at_the_others():
    with pytest.raises(BoxesFormatError, match="holds one target, this run has 2.*csv.*jsonl"):
        boxes_format("boxes.txt", None, targets=2)
    assert boxes_format("boxes.csv", None, targets=2) == "mot"


def test_the_writers_stay_importable_from_dcffnet_video():
    import dcffnet.outputs
    import dcffnet.video

    assert dcffnet.video.BoxesWriter is dcffnet.outputs.BoxesWriter
    assert dcffnet.video.write_boxes is dcffnet.outputs.write_boxes


# -------------------------------------------------------------------------------------- writers
def test_txt_keeps_line_k_for_frame_k(tmp_path):
    path = tmp_path / "b.txt"
    with BoxesWriter(path) as writer:
        writer.record(FrameRecord(0, 0.0, ()))  # before the target starts
        for record in _records()[1:]:
            writer.record(FrameRecord(record.index, record.time, record.targets[:1], record.missing))
        assert writer.count == 6
        with pytest.raises(ValueError, match="one target"):
            writer.record(FrameRecord(6, 0.24, (_target("a", 1), _target("b", 2))))
    lines = path.read_text().splitlines()
    assert lines[1] == "11.00,20.00,30.00,40.50"
    assert lines[0] == lines[2] == lines[4] == "nan,nan,nan,nan"  # not started, missing, dropped
    table = np.loadtxt(path, delimiter=",", ndmin=2)
    assert table.shape == (6, 4) and np.isnan(table[[0, 2, 4]]).all() and np.isfinite(table[[1, 3, 5]]).all()


def test_mot_rows_follow_the_motchallenge_columns(tmp_path):
    path = tmp_path / "b.csv"
    ids = {"a": 1, "b": 2}
    with MOTWriter(path, ids) as writer:
        for record in _records():
            writer.record(record)
    assert writer.count == 5 and writer.rows == 7
    rows = read_mot(path)
    # frames 1-based; frame 3 (index 2) missing and frame 5 (index 4) dropped: no rows; "b" lost on
    # frame 4: no row; "a" uncertain on frame 6: a row
    assert [(int(f), int(i)) for f, i in rows[:, :2]] == [(1, 1), (1, 2), (2, 1), (2, 2), (4, 1), (6, 1), (6, 2)]
    np.testing.assert_allclose(rows[rows[:, 1] == 2][:, 2:6], [[100, 20, 30, 40.5], [101, 20, 30, 40.5],
                                                              [104, 20, 30, 40.5]])
    first = path.read_text().splitlines()[0]
    assert first == "1,1,10.00,20.00,30.00,40.50,0.8000,-1,-1,-1"


def test_mot_conf_is_the_raw_score_without_a_calibration(tmp_path):
    path = tmp_path / "b.csv"
    with MOTWriter(path, {7: 7}) as writer:
        writer.record(FrameRecord(0, 0.0, (_target(7, 5, probability=None),)))
    assert path.read_text() == "1,7,5.00,20.00,30.00,40.50,0.9000,-1,-1,-1\n"


def test_jsonl_has_one_object_per_frame(tmp_path):
    path = tmp_path / "b.jsonl"
    with JSONLinesWriter(path, {"a": 1, "b": 2}) as writer:
        for record in _records():
            writer.record(record)
        writer.record(FrameRecord(6, 0.24, (_target("a", 16, probability=None)._replace(score=math.nan),)))
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [line["frame"] for line in lines] == [0, 1, 2, 3, 5, 6]
    assert lines[2] == {"frame": 2, "time": 0.08, "missing": True}
    first = lines[0]["targets"][0]
    assert first == {"id": "a", "mot_id": 1, "box": [10.0, 20.0, 30.0, 40.5], "score": 0.9, "probability": 0.8,
                     "state": "tracking", "start": True}
    assert [t["state"] for t in lines[3]["targets"]] == ["tracking", "lost"]
    assert lines[4]["targets"][0]["state"] == "uncertain" and "start" not in lines[4]["targets"][0]
    assert lines[5]["targets"][0]["score"] is None and lines[5]["targets"][0]["probability"] is None


def test_open_boxes_writer_makes_each_format(tmp_path):
    assert isinstance(open_boxes_writer(tmp_path / "a", "txt", {}), BoxesWriter)
    assert isinstance(open_boxes_writer(tmp_path / "b", "csv", {}), MOTWriter)
    assert isinstance(open_boxes_writer(tmp_path / "c", "jsonl", {}), JSONLinesWriter)
    with pytest.raises(BoxesFormatError):
        open_boxes_writer(tmp_path / "d", "xml", {})


# -------------------------------------------------------------------------------------- targets
def _file(tmp_path, text):
    path = tmp_path / "targets.json"
    path.write_text(text, encoding="utf-8")
    return path


def test_targets_file_list_and_mapping_forms(tmp_path):
    specs = read_targets(_file(tmp_path, '[{"id": "car", "box": [1, 2, 30, 40]}, {"id": 7, "box": [5, 6, 7.5, 8], '
                                         '"frame": 12}]'))
    assert specs == [TargetSpec("car", (1.0, 2.0, 30.0, 40.0), 0), TargetSpec(7, (5.0, 6.0, 7.5, 8.0), 12)]
    specs = read_targets(_file(tmp_path, '{"left": [1, 2, 3, 4], "right": [10, 2, 3, 4]}'))
    assert [(s.id, s.frame) for s in specs] == [("left", 0), ("right", 0)]


@pytest.mark.parametrize("text, message", [
    ("[]", "holds no target"),
    ('"car"', "must hold a JSON list"),
    ("[[1, 2, 3, 4]]", "entry 0 must be an object"),
    ('[{"box": [1, 2, 3, 4]}]', 'entry 0 has no "id" field'),
    ('[{"id": 1}]', 'entry 0 has no "box" field'),
    ('[{"id": 1, "box": [1, 2, 3, 4], "start": 3}]', r"entry 0 has unknown field\(s\) \['start'\]"),
    ('[{"id": true, "box": [1, 2, 3, 4]}]', 'entry 0 "id" must be a non-negative integer or a non-empty string'),
    ('[{"id": 1.5, "box": [1, 2, 3, 4]}]', 'entry 0 "id" must be'),
    ('[{"id": -2, "box": [1, 2, 3, 4]}]', r'entry 0 "id" must be an integer in \[0'),
    ('[{"id": " ", "box": [1, 2, 3, 4]}]', "non-empty string"),
    ('[{"id": "a\\nb", "box": [1, 2, 3, 4]}]', "printable"),
    ('[{"id": 1, "box": [1, 2, 3]}]', r"entry 0 \(id 1\) \"box\" must have 4 values"),
    ('[{"id": 1, "box": [1, 2, 0, 4]}]', r"entry 0 \(id 1\) \"box\" must have w > 0"),
    ('[{"id": 1, "box": "1,2,3,4"}]', r"entry 0 \(id 1\) \"box\" must be"),
    ('[{"id": 1, "box": [1, 2, 3, 4], "frame": -1}]', r'entry 0 \(id 1\) "frame" must be a 0-based frame index'),
    ('[{"id": 1, "box": [1, 2, 3, 4], "frame": 2.0}]', r'"frame" must be a 0-based frame index \(an integer'),
    ('[{"id": 1, "box": [1, 2, 3, 4]}, {"id": 1, "box": [5, 6, 7, 8]}]', r"targets.json\[1\]: id 1 is used twice"),
    ('[{"id": 1, "box": [1, 2, 3, 4]}, {"id": "1", "box": [5, 6, 7, 8]}]', "prints like the id 1 of entry 0"),
    ('{"a": [1, 2, 3, 4], "a": [5, 6, 7, 8]}', "the key 'a' appears twice"),
    ('{"a": [NaN, 2, 3, 4]}', "NaN is not a number JSON allows"),
    ('{"a": [1, 2, 3, 4],}', r"not valid JSON: .* at line 1 column"),
    ('{"a": [1, 2, 3, -4]}', "the box of id 'a' must have w > 0"),
])
def test_a_bad_targets_file_is_refused_naming_the_entry_and_field(tmp_path, text, message):
    with pytest.raises(TargetsFileError, match=message) as info:
        read_targets(_file(tmp_path, text))
    assert "targets.json" in str(info.value)


def test_a_targets_path_that_is_no_json_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="--targets file not found"):
        read_targets(tmp_path / "nothing.json")
    with pytest.raises(TargetsFileError, match="is a folder"):
        read_targets(tmp_path)
    (tmp_path / "latin1.json").write_bytes(b'{"caf\xe9": [1, 2, 3, 4]}')
    with pytest.raises(TargetsFileError, match="not UTF-8"):
        read_targets(tmp_path / "latin1.json")


def test_boxes_from_the_command_line_get_ids_in_order():
    assert [s.id for s in targets_from_boxes([(1, 2, 3, 4), (5, 6, 7, 8)])] == [1, 2]
    with pytest.raises(TargetsFileError, match="--box 2 must have w > 0"):
        targets_from_boxes([(1, 2, 3, 4), (5, 6, -7, 8)])
    with pytest.raises(TargetsFileError, match="no --box"):
        targets_from_boxes([])


def test_mot_ids_keep_positive_integers_and_number_the_rest():
    box = (1.0, 2.0, 3.0, 4.0)
    assert mot_ids([TargetSpec(3, box), TargetSpec("12", box)]) == {3: 3, "12": 12}
    assert mot_ids([TargetSpec("car", box), TargetSpec(5, box)]) == {"car": 1, 5: 2}
    assert mot_ids([TargetSpec(0, box), TargetSpec(1, box)]) == {0: 1, 1: 2}  # 0 is no MOT id
    assert mot_ids([TargetSpec("07", box)]) == {"07": 1}
    assert parse_targets({"x": [1, 2, 3, 4]}, "given") == [TargetSpec("x", box)]


# -------------------------------------------------------------------------------------- drawing
def test_targets_are_drawn_in_their_colours_and_lost_ones_dashed():
    frame = np.full((120, 200, 3), 40, np.uint8)
    targets = (_target("a", 10, start=True)._replace(box=(10.0, 40.0, 60.0, 60.0)),
               _target(2, 0, state="lost")._replace(box=(110.0, 40.0, 60.0, 60.0)))
    colors = {"a": PALETTE[0], 2: PALETTE[1]}
    out = draw_targets(frame, targets, colors, labels=False)
    assert (frame == 40).all()  # drawn on a copy
    solid = out[50:95, 10]
    dashed = out[41:99, 110]
    assert (solid == PALETTE[0]).all(axis=1).all()
    on = (dashed == PALETTE[1]).all(axis=1)
    assert 0.3 < on.mean() < 0.8  # dashes and gaps
    assert (out[:38] == 40).all()  # no labels above the boxes
    labelled = draw_targets(frame, targets, colors, labels=True, show_score=True)
    patch = labelled[20:39, 10:30]
    assert (patch == PALETTE[0]).all(axis=2).mean() > 0.4 and (patch == 0).all(axis=2).any()  # black text
    assert len({tuple(c) for c in PALETTE}) == len(PALETTE)
