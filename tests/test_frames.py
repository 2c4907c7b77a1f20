"""Frame conversion to BGR uint8."""

import numpy as np
import pytest

from dcffnet.frames import to_bgr


def test_bgr_passes_through_and_rgb_is_swapped():
    frame = np.random.default_rng(0).integers(0, 256, (4, 5, 3), dtype=np.uint8)
    np.testing.assert_array_equal(to_bgr(frame), frame)
    np.testing.assert_array_equal(to_bgr(frame, "rgb"), frame[:, :, ::-1])
    assert to_bgr(frame[:, ::2]).flags["C_CONTIGUOUS"]


def test_gray_rgba_and_pil():
    from PIL import Image

    gray = np.arange(20, dtype=np.uint8).reshape(4, 5)
    out = to_bgr(gray)
    assert out.shape == (4, 5, 3) and (out[:, :, 0] == gray).all() and (out[:, :, 2] == gray).all()
    np.testing.assert_array_equal(to_bgr(gray[:, :, None]), out)
    rgba = np.dstack([np.full((4, 5), v, np.uint8) for v in (10, 20, 30, 255)])
    assert to_bgr(rgba, "rgb")[0, 0].tolist() == [30, 20, 10]
    assert to_bgr(rgba)[0, 0].tolist() == [10, 20, 30]
    pil = Image.fromarray(rgba[:, :, :3])  # PIL is RGB whatever `color` says
    assert to_bgr(pil)[0, 0].tolist() == [30, 20, 10]
    assert to_bgr(Image.fromarray(rgba, "RGBA"))[0, 0].tolist() == [30, 20, 10]
    assert to_bgr(Image.fromarray(gray)).shape == (4, 5, 3)


@pytest.mark.parametrize("bad,exc,text", [
    (np.zeros((4, 5, 3), np.float64), TypeError, "uint8"),
    (np.zeros((4, 5, 2), np.uint8), ValueError, "shape"),
    (np.zeros((4,), np.uint8), ValueError, "shape"),
    (np.zeros((0, 5, 3), np.uint8), ValueError, "empty"),
    ("frame.jpg", TypeError, "str"),
])
def test_bad_frames(bad, exc, text):
    with pytest.raises(exc, match=text):
        to_bgr(bad, name="frame")


def test_bad_color_order():
    with pytest.raises(ValueError, match="color"):
        to_bgr(np.zeros((2, 2, 3), np.uint8), "hsv")
