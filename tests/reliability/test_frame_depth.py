"""Frames of other bit depths and channel counts (docs/reliability.md, "Frames of other bit depths"):
16-bit images, from files (PNG/TIFF through OpenCV) or passed to the tracker (numpy uint16, PIL
``I;16``), are scaled by one fixed rule, their high byte, never clipped; float and 32-bit images
(float TIFF, PIL ``F``/``I``) are refused with a message saying how to convert them; 8-bit frames
are used exactly as before."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import cv2
import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402
from PIL import Image  # noqa: E402

from dcffnet.data import read_frame  # noqa: E402
from dcffnet.frames import to_bgr, to_uint8, window_to_uint8  # noqa: E402

EXAMPLES = int(os.environ.get("DCFFNET_PROPERTY_EXAMPLES", "50"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=EXAMPLES <= 100,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

SIZES = st.tuples(st.integers(1, 33), st.integers(1, 33))
CHANNELS = st.sampled_from([None, 1, 3, 4])


def _image(dtype, size, channels, elements=None):
    shape = size if channels is None else (*size, channels)
    return hnp.arrays(dtype, shape, elements=elements)


def _as_bgr(image: np.ndarray) -> np.ndarray:
    """What the tracker should see: grey replicated to 3 channels, alpha dropped."""
    if image.ndim == 2:
        image = image[:, :, None]
    return np.repeat(image, 3, axis=2) if image.shape[2] == 1 else image[:, :, :3]


@SETTINGS
@given(data=st.data(), size=SIZES, channels=CHANNELS, suffix=st.sampled_from([".png", ".tif"]))
def test_16_bit_files_keep_their_high_byte_and_are_never_clipped(data, size, channels, suffix):
    image = data.draw(_image(np.uint16, size, channels))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"frame{suffix}"
        assert cv2.imwrite(str(path), image)
        frame = read_frame(path)
    assert frame.dtype == np.uint8 and frame.shape == (*size, 3)
    np.testing.assert_array_equal(frame, _as_bgr(image >> 8))
    assert frame.max() == _as_bgr(image).max() >> 8  # bright stays bright, dark stays dark: no saturation


@SETTINGS
@given(data=st.data(), size=SIZES, channels=CHANNELS, suffix=st.sampled_from([".png", ".bmp", ".tif"]))
def test_8_bit_files_read_exactly_as_before(data, size, channels, suffix):
    image = data.draw(_image(np.uint8, size, channels))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"frame{suffix}"
        assert cv2.imwrite(str(path), image)
        np.testing.assert_array_equal(read_frame(path), cv2.imread(str(path), cv2.IMREAD_COLOR))


@pytest.mark.parametrize("kind", ["exif_rotated.jpg", "grey.jpg", "palette.png", "grey_alpha.png", "bilevel.png"])
def test_8_bit_files_of_other_kinds_read_exactly_as_before(tmp_path, kind):
    rgb = np.random.default_rng(3).integers(0, 256, (24, 40, 3), dtype=np.uint8)
    image, path = Image.fromarray(rgb), tmp_path / kind
    if kind == "exif_rotated.jpg":
        exif = image.getexif()
        exif[0x0112] = 6  # orientation: rotate 90 degrees
        image.save(path, exif=exif)
    else:
        mode = {"grey.jpg": "L", "palette.png": "P", "grey_alpha.png": "LA", "bilevel.png": "1"}[kind]
        image.convert(mode).save(path)
    np.testing.assert_array_equal(read_frame(path), cv2.imread(str(path), cv2.IMREAD_COLOR))
    if kind == "exif_rotated.jpg":
        assert read_frame(path).shape[:2] == (40, 24)


@SETTINGS
@given(data=st.data(), size=SIZES, channels=CHANNELS, color=st.sampled_from(["bgr", "rgb"]))
def test_uint16_arrays_follow_the_file_rule_and_uint8_arrays_pass_unchanged(data, size, channels, color):
    wide = data.draw(_image(np.uint16, size, channels))
    np.testing.assert_array_equal(to_bgr(wide, color), to_bgr((wide >> 8).astype(np.uint8), color))
    np.testing.assert_array_equal(to_bgr(wide.astype(">u2"), color), to_bgr(wide, color))  # byte order
    narrow = data.draw(_image(np.uint8, size, channels))
    expected = _as_bgr(narrow)
    if color == "rgb" and narrow.ndim == 3 and narrow.shape[2] in (3, 4):
        expected = expected[:, :, ::-1]
    np.testing.assert_array_equal(to_bgr(narrow, color), expected)
    assert to_uint8(narrow) is narrow


@SETTINGS
@given(data=st.data(), size=SIZES)
def test_pil_16_bit_images_are_scaled_not_saturated(data, size):
    image = data.draw(_image(np.uint16, size, None))
    pil = Image.fromarray(image)
    assert pil.mode.startswith("I;16")
    np.testing.assert_array_equal(to_bgr(pil), _as_bgr(image >> 8))


@SETTINGS
@given(data=st.data(), size=SIZES, mode=st.sampled_from(["F", "I"]))
def test_pil_float_and_32_bit_images_are_refused(data, size, mode):
    dtype = np.float32 if mode == "F" else np.int32
    image = data.draw(_image(dtype, size, None, elements=st.integers(0, 70000)))
    pil = Image.fromarray(image, mode)
    with pytest.raises(TypeError, match=rf"mode '{mode}'.*window_to_uint8"):
        to_bgr(pil, name="frame")


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int16, np.int32, np.uint32, np.bool_])
def test_other_dtypes_are_refused_with_how_to_convert(dtype):
    with pytest.raises(TypeError, match=r"frame has dtype .*uint8.*uint16.*window_to_uint8"):
        to_bgr(np.zeros((4, 5, 3), dtype), name="frame")


@pytest.mark.parametrize("channels", [1, 3])
def test_float_tiff_files_are_refused_naming_the_file(tmp_path, channels):
    path = tmp_path / "depth.tif"
    image = np.linspace(0, 1000, 60, dtype=np.float32).reshape(6, 10)
    assert cv2.imwrite(str(path), image if channels == 1 else np.dstack([image] * 3))
    with pytest.raises(ValueError, match=r"depth\.tif has dtype float32.*window_to_uint8"):
        read_frame(path)


def test_missing_and_corrupt_files_still_say_cannot_read(tmp_path):
    (tmp_path / "broken.png").write_bytes(b"not a png")
    for path in (tmp_path / "missing.png", tmp_path / "broken.png"):
        with pytest.raises(ValueError, match="cannot read frame"):
            read_frame(path)


@SETTINGS
@given(data=st.data(), size=SIZES,
       window=st.tuples(st.floats(-1e4, 1e4), st.floats(1e-3, 1e4)))
def test_window_to_uint8_is_monotone_and_bounded(data, size, window):
    low, width = window
    values = data.draw(_image(np.float64, size, None, elements=st.floats(-2e4, 2e4)))
    out = window_to_uint8(values, low, low + width)
    assert out.dtype == np.uint8 and out.shape == values.shape
    order = np.argsort(values, axis=None, kind="stable")
    assert (np.diff(out.ravel()[order].astype(int)) >= 0).all()
    assert (out[values < low] == 0).all() and (out[values >= low + width] == 255).all()


@SETTINGS
@given(data=st.data(), size=SIZES)
def test_the_16_bit_rule_is_the_full_range_window(data, size):
    image = data.draw(_image(np.uint16, size, None))
    np.testing.assert_array_equal(to_uint8(image), window_to_uint8(image, 0, 65536))


@pytest.mark.parametrize("low,high", [(1, 1), (5, 2), (0, float("inf")), (float("nan"), 3)])
def test_window_to_uint8_refuses_empty_or_non_finite_windows(low, high):
    with pytest.raises(ValueError, match="window"):
        window_to_uint8(np.zeros((2, 2)), low, high)


def test_window_to_uint8_refuses_nan_pixels():
    with pytest.raises(ValueError, match="1 non-finite"):
        window_to_uint8(np.array([[0.0, np.nan]]), 0, 1)


def test_the_tracker_sees_a_16_bit_clip_as_its_high_byte():
    import dcffnet
    from synthetic_clip import moving_object_clip

    frames, gt = moving_object_clip(frames=4)
    wide = [frame.astype(np.uint16) * 256 + 128 for frame in frames]  # high byte = the 8-bit value
    boxes = {}
    for kind, clip in (("8-bit", frames), ("16-bit", wide), ("PIL I;16", [Image.fromarray(f[:, :, 1]) for f in wide]),
                       ("8-bit grey", [f[:, :, 1] for f in frames])):
        tracker = dcffnet.Tracker()
        tracker.init(clip[0], tuple(gt[0]))
        boxes[kind] = [tuple(tracker.update(frame).box) for frame in clip[1:]]
    assert boxes["16-bit"] == boxes["8-bit"]
    assert boxes["PIL I;16"] == boxes["8-bit grey"]
