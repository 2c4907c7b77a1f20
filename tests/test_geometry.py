"""Box conventions, crops with mean padding, windows."""

import numpy as np
import pytest

from dcffnet.geometry import (ResponseGeometry, clip_box, context_size, crop_and_resize, cxcywh_to_xywh,
                              hanning_window, validate_box, xywh_to_cxcywh)


def test_box_conversions_round_trip():
    box = np.array([10.0, 20.0, 30.0, 40.0])
    np.testing.assert_allclose(xywh_to_cxcywh(box), [25.0, 40.0, 30.0, 40.0])
    np.testing.assert_allclose(cxcywh_to_xywh(xywh_to_cxcywh(box)), box)


def test_context_size_matches_siamfc_formula():
    assert context_size(40, 40) == pytest.approx(80.0)
    assert context_size(10, 30, 0.5) == pytest.approx(np.sqrt(30 * 50))


def test_crop_identity_when_size_equals_output():
    image = np.arange(100 * 100 * 3, dtype=np.uint8).reshape(100, 100, 3)
    crop = crop_and_resize(image, (50.0, 50.0), 40, 40)
    np.testing.assert_array_equal(crop, image[30:70, 30:70])


def test_crop_pads_with_given_or_mean_colour():
    image = np.zeros((50, 50, 3), np.uint8)
    image[:, :25] = 200
    crop = crop_and_resize(image, (0.0, 25.0), 50, 50, pad_value=(1, 2, 3))
    np.testing.assert_array_equal(crop[:, :20], np.broadcast_to(np.array([1, 2, 3], np.uint8), (50, 20, 3)))
    crop = crop_and_resize(image, (0.0, 25.0), 50, 50)  # default: the image mean (100)
    assert crop[25, 5].tolist() == [100, 100, 100]


def test_crop_scales_about_the_centre():
    image = np.zeros((200, 200, 3), np.uint8)
    image[90:110, 90:110] = 255  # a 20 px square centred at (100, 100)
    crop = crop_and_resize(image, (100.0, 100.0), 80, 160)  # 2x magnification
    ys, xs = np.nonzero(crop[:, :, 0] > 127)
    assert xs.min() == 60 and xs.max() == 99 and ys.min() == 60 and ys.max() == 99


def test_crop_rejects_bad_size():
    with pytest.raises(ValueError, match="size"):
        crop_and_resize(np.zeros((10, 10, 3), np.uint8), (5, 5), 0, 10)


def test_hanning_window_peaks_in_the_centre():
    w = hanning_window(5)
    assert w.shape == (5, 5) and w[2, 2] == w.max() == pytest.approx(1.0) and w[0, 0] == 0.0


def test_clip_box():
    assert clip_box(-5, 300, 1000, 0.5, 320, 240, min_size=2) == (0.0, 240.0, 320.0, 2.0)


def test_validate_box():
    np.testing.assert_array_equal(validate_box([1, 2, 3, 4]), [1.0, 2.0, 3.0, 4.0])
    assert validate_box((-5, -5, 10, 10), frame_shape=(100, 100)).tolist() == [-5, -5, 10, 10]  # partly inside
    with pytest.raises(ValueError, match="outside"):
        validate_box((100, 0, 5, 5), frame_shape=(100, 100, 3))
    with pytest.raises(ValueError, match="my_box"):
        validate_box((0, 0, -1, 5), name="my_box")


def test_response_geometry_points():
    g = ResponseGeometry(template_size=127, search_size=255, stride=6, size=22)
    np.testing.assert_allclose(g.cell_points()[:2], [63.5, 69.5])
    np.testing.assert_allclose(g.cell_offsets()[[0, -1]], [-64.0, 62.0])
