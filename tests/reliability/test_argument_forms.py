"""Argument forms of issue 26, item 17: boxes given as nested lists, booleans or strings, boxes too
small to crop (``1e-300`` pixels), target ids that could never be found again (NaN, booleans),
counts beyond a C ``int``: each is one line naming the bad value and the allowed form, and leaves
the tracker as it was. What numpy would have made of such values (``[[x, y, w, h]]`` flattened,
``True`` read as 1, ``"10"`` parsed) is refused rather than guessed; every plain form of four
numbers is still accepted with the same values."""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

import cv2
import numpy as np
import pytest

import dcffnet
from dcffnet.geometry import MIN_BOX_SIDE, validate_box

BOX = (10.0, 12.0, 20.0, 16.0)


@pytest.fixture(scope="module")
def scene() -> np.ndarray:
    rng = np.random.default_rng(7)
    return cv2.resize(rng.integers(0, 256, (12, 16, 3), dtype=np.uint8), (64, 48), interpolation=cv2.INTER_NEAREST)


@pytest.fixture(scope="module")
def tracker(scene) -> dcffnet.Tracker:
    tracker = dcffnet.Tracker()
    tracker.init(scene, BOX)
    return tracker


def _one_line_naming(exc: BaseException, *parts: str) -> str:
    message = str(exc)
    assert "\n" not in message, message
    for part in parts:
        assert part in message, f"{part!r} not in: {message}"
    return message


@pytest.mark.parametrize("box, error, shown", [
    ([[10, 12], [20, 16]], ValueError, "nested sequence"),
    ([[10, 12, 20, 16]], ValueError, "nested sequence"),
    ([[10], [12], [20], [16]], ValueError, "nested sequence"),
    (np.array([[10, 12, 20, 16]]), ValueError, "shape (1, 4)"),
    ((10, 12, [20], 16), ValueError, "nested sequence"),
    ((True, True, True, True), TypeError, "boolean"),
    ((10, 12, True, 16), TypeError, "boolean"),
    ((10, 12, np.bool_(True), 16), TypeError, "boolean"),
    (np.array([1, 1, 1, 1], dtype=bool), TypeError, "dtype bool"),
    (True, TypeError, "True (bool)"),
    (["10", "12", "20", "16"], TypeError, "'10' (str)"),
    ("10,12,20,16", TypeError, "'10,12,20,16' (str)"),
    (b"abcd", TypeError, "(bytes)"),
    ((10, 12, None, 16), TypeError, "None (NoneType)"),
    ((10, 12, 20j, 16), TypeError, "(complex)"),
    (np.array(["10", "12", "20", "16"]), TypeError, "dtype <U2"),
    ({"x": 10}, TypeError, "(dict)"),
    (None, TypeError, "None (NoneType)"),
])
def test_a_box_that_is_not_four_flat_numbers_is_a_one_line_error(tracker, scene, box, error, shown):
    before = tracker.box
    with pytest.raises(error) as info:
        tracker.init(scene, box)
    _one_line_naming(info.value, "box must be (x, y, w, h)", "4 numbers in a flat list, tuple or 1-D array", shown)
    assert tracker.box == before  # the refused init left the target alone
    tracker.update(scene)


@pytest.mark.parametrize("box", [(10**400, 12, 20, 16), (10, 12, 20, Fraction(10**400, 3))])
def test_a_number_beyond_floats_range_is_refused_naming_the_box(tracker, scene, box):
    with pytest.raises(ValueError) as info:
        tracker.init(scene, box)
    _one_line_naming(info.value, "box values must lie within +-1e+07 pixels")


@pytest.mark.parametrize("box", [(0, 0, 1e-300, 1e-300), (10, 12, 1e-300, 16), (10, 12, 20, 5e-324),
                                 (10, 12, 1e-10, 1e-10), (10, 12, 0.0009, 16)])
def test_a_box_too_small_to_crop_is_refused_naming_the_box(tracker, scene, box):
    with pytest.raises(ValueError) as info:
        tracker.init(scene, box)
    shown = str(tuple(float(v) for v in box))
    _one_line_naming(info.value, f"box {shown} is too small", f"at least {MIN_BOX_SIDE:g} pixels")
    multi = dcffnet.MultiTracker(backend="onnx")
    with pytest.raises(ValueError, match="too small"):
        multi.add(scene, box)
    assert len(multi) == 0


def test_the_smallest_accepted_box_tracks(scene):
    tracker = dcffnet.Tracker()
    tracker.init(scene, (20.0, 20.0, MIN_BOX_SIDE, MIN_BOX_SIDE))
    (x, y, w, h), score = tracker.update(scene)
    assert all(math.isfinite(v) for v in (x, y, w, h, score)) and w > 0 and h > 0


@pytest.mark.parametrize("box", [
    [10, 12, 20, 16], (10.0, 12.0, 20.0, 16.0), np.array([10, 12, 20, 16]), np.array([10, 12, 20, 16], np.float32),
    np.array([10, 12, 20, 16], np.uint16), np.array([10, 12, 20, 16], dtype=object),
    [np.float32(10), np.int64(12), np.uint8(20), np.float64(16)], [np.array(10.0), 12, 20, np.array(16)],
    (Fraction(10), 12, 20, 16), np.array([10, 12, 20, 16]).tolist(),
])
def test_every_plain_form_of_four_numbers_is_still_accepted(box):
    assert validate_box(box).tolist() == [10.0, 12.0, 20.0, 16.0]
    assert validate_box(box).dtype == np.float64


def test_a_torch_tensor_box_is_still_accepted():
    torch = pytest.importorskip("torch")
    assert validate_box(torch.tensor([10.0, 12.0, 20.0, 16.0])).tolist() == [10.0, 12.0, 20.0, 16.0]


@pytest.mark.parametrize("target_id, error, shown", [
    (float("nan"), ValueError, "target_id nan never equals itself"),
    (np.float64("nan"), ValueError, "never equals itself"),
    (Decimal("NaN"), ValueError, "never equals itself"),
    (True, TypeError, "got True (bool: equal to 1"),
    (False, TypeError, "got False (bool: equal to 0"),
    (np.bool_(True), TypeError, "bool"),
    (["a"], TypeError, "target_id must be hashable"),
    ({"a": 1}, TypeError, "target_id must be hashable"),
])
def test_target_ids_that_could_not_be_found_again_are_refused(scene, target_id, error, shown):
    multi = dcffnet.MultiTracker(backend="onnx")
    with pytest.raises(error) as info:
        multi.add(scene, BOX, target_id=target_id)
    _one_line_naming(info.value, shown, "an int or a str")
    assert len(multi) == 0  # nothing half-added
    assert multi.add(scene, BOX) == 0 and multi.add(scene, BOX, target_id=1) == 1  # ints still next to it
    with pytest.raises(KeyError, match="no target with id"):  # lookups of such ids: unknown, as documented
        multi.remove(float("nan"))
    with pytest.raises(TypeError, match="target_id must be hashable"):
        multi.remove(["a"])


@pytest.mark.parametrize("name, value", [("threads", 2**31), ("threads", 2**70), ("batch_size", 2**64)])
def test_counts_beyond_a_c_int_are_refused_naming_the_argument(name, value):
    make = dcffnet.MultiTracker if name == "batch_size" else dcffnet.Tracker
    with pytest.raises(ValueError) as info:
        make(**{name: value})
    _one_line_naming(info.value, f"{name} must be", str(value))
