"""The Tracker: input contract, errors, re-init, presets, and geometry with a hand-set network."""

import dataclasses
import math

import cv2
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import dcffnet
from dcffnet import Tracker, TrackerHParams, TrackResult
from dcffnet.geometry import ResponseGeometry
from dcffnet.models.fusion import xcorr

EXACT = TrackerHParams(window_influence=0.0, penalty_k=0.0, lr=1.0)


class PixelMatchNet(nn.Module):
    """Hand-set 'network': features are stride-pooled gray pixels, the score is minus the window SSD.

    Its response peaks exactly where the template content sits in the search crop, and it regresses
    a fixed box of ``box_size`` crop pixels (the size a square target has with context 0.5).
    """

    def __init__(self, stride=4, template_size=128, search_size=256, head="car"):
        super().__init__()
        self.stride = stride
        size = search_size // stride - template_size // stride + 1
        self.geometry = ResponseGeometry(template_size, search_size, stride, size)
        self.box_size = template_size / 2.0
        self.head = head
        self.dummy = nn.Parameter(torch.zeros(()))  # so .to(device) has something to move

    def _features(self, crop):
        return F.avg_pool2d(crop.mean(1, keepdim=True) / 255.0, self.stride)

    def template(self, z):
        return self._features(z)

    def track(self, x, template):
        f = self._features(x)
        ones = torch.ones_like(template)
        ssd = xcorr(f * f, ones) - 2 * xcorr(f, template) + (template * template).sum()
        logit = -ssd * 50.0
        if self.head == "siamfc":
            return {"response": logit - logit.max() + 4.0}
        cls = torch.cat([torch.zeros_like(logit), logit - logit.max() + 4.0], 1)
        reg = torch.full((x.shape[0], 4, *logit.shape[2:]), self.box_size / 2.0)
        return {"cls": cls, "reg": reg}


def scene(target_xy, frame_size=(320, 240), target=40, seed=3):
    """A flat gray background with a high-contrast textured square target at ``target_xy`` (top-left)."""
    w, h = frame_size
    frame = np.full((h, w, 3), 120, np.uint8)
    rng = np.random.default_rng(seed)
    patch = cv2.resize(rng.integers(0, 256, (8, 8, 3), dtype=np.uint8), (target, target), interpolation=cv2.INTER_NEAREST)
    x, y = target_xy
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + target, w), min(y + target, h)
    if x1 > x0 and y1 > y0:
        frame[y0:y1, x0:x1] = patch[y0 - y:y1 - y, x0 - x:x1 - x]
    return frame


def tolerance(tracker, box_side=40.0):
    """One stride of the response, in frame pixels (crop pixels per frame pixel = T / s_z)."""
    s_z = 2.0 * box_side  # square target with context 0.5
    return tracker.model.geometry.stride * s_z / tracker.model.geometry.template_size


@pytest.mark.parametrize("shift", [(12, 0), (-12, 0), (0, 12), (0, -12), (9, -9), (-10, 11), (0, 0)])
def test_box_moves_by_the_target_displacement(shift):
    tracker = Tracker(model=PixelMatchNet(), hparams=EXACT)
    start = (140, 100)
    tracker.init(scene(start), (*start, 40, 40))
    box, score = tracker.update(scene((start[0] + shift[0], start[1] + shift[1])))
    tol = tolerance(tracker)
    assert abs(box[0] - (start[0] + shift[0])) <= tol
    assert abs(box[1] - (start[1] + shift[1])) <= tol
    assert box[2] == pytest.approx(40.0) and box[3] == pytest.approx(40.0)
    assert 0.0 <= score <= 1.0


@pytest.mark.parametrize("start,shift", [((0, 100), (-8, 0)), ((2, 2), (6, 6)), ((282, 100), (10, 0)),
                                         ((140, 202), (0, 12)), ((282, 202), (-10, -10))])
def test_targets_near_the_border_use_mean_padding(start, shift):
    tracker = Tracker(model=PixelMatchNet(), hparams=EXACT)
    tracker.init(scene(start), (*start, 40, 40))
    box, _ = tracker.update(scene((start[0] + shift[0], start[1] + shift[1])))
    tol = tolerance(tracker)
    # the target may be partly outside the frame; its centre is clipped to the frame
    cx_expected = min(max(start[0] + shift[0] + 20, 0), 320)
    cy_expected = min(max(start[1] + shift[1] + 20, 0), 240)
    assert abs(box[0] + box[2] / 2 - cx_expected) <= tol
    assert abs(box[1] + box[3] / 2 - cy_expected) <= tol


def test_tracks_a_moving_target_over_many_frames():
    tracker = Tracker(model=PixelMatchNet(), hparams=EXACT)
    positions = [(60 + int(40 * math.cos(t / 5)) + t * 3, 90 + int(40 * math.sin(t / 5))) for t in range(30)]
    tracker.init(scene(positions[0]), (*positions[0], 40, 40))
    for pos in positions[1:]:
        box, _ = tracker.update(scene(pos))
        assert abs(box[0] - pos[0]) <= tolerance(tracker) and abs(box[1] - pos[1]) <= tolerance(tracker)


def test_siamfc_head_moves_position_and_keeps_size():
    tracker = Tracker(model=PixelMatchNet(head="siamfc"), hparams=EXACT)
    tracker.init(scene((100, 100)), (100, 100, 40, 40))
    box, score = tracker.update(scene((112, 94)))
    assert abs(box[0] - 112) <= tolerance(tracker) and abs(box[1] - 94) <= tolerance(tracker)
    assert box[2:] == (40.0, 40.0)
    assert 0.0 <= score <= 1.0


def rect_scene(x, y, w=60, h=30, frame_size=(320, 240)):
    frame = np.full((frame_size[1], frame_size[0], 3), 120, np.uint8)
    rng = np.random.default_rng(5)
    frame[y:y + h, x:x + w] = cv2.resize(rng.integers(0, 256, (6, 12, 3), dtype=np.uint8), (w, h),
                                         interpolation=cv2.INTER_NEAREST)
    return frame


def test_size_calibration_removes_a_constant_regression_bias():
    """PixelMatchNet always regresses a square; calibration measured at init keeps the 60x30 shape."""
    plain = Tracker(model=PixelMatchNet(), hparams=EXACT)
    calibrated = Tracker(model=PixelMatchNet(), hparams=dataclasses.replace(EXACT, size_calibration=1.0))
    half = Tracker(model=PixelMatchNet(), hparams=dataclasses.replace(EXACT, size_calibration=0.5))
    for tracker in (plain, calibrated, half):
        tracker.init(rect_scene(120, 100), (120, 100, 60, 30))
    for step in range(1, 4):
        frame = rect_scene(120 + 4 * step, 100 - 2 * step)
        b_plain, b_cal, b_half = plain.update(frame).box, calibrated.update(frame).box, half.update(frame).box
        assert b_cal[2] == pytest.approx(60.0, rel=1e-6) and b_cal[3] == pytest.approx(30.0, rel=1e-6)
        assert abs(b_cal[0] - (120 + 4 * step)) <= tolerance(calibrated, 42.0)
    assert b_plain[2] / b_plain[3] < 1.05  # uncalibrated: (nearly) the regressed square
    assert b_plain[3] > 30.0 * 1.2 and b_plain[2] < 60.0 / 1.2
    assert b_plain[2] < b_half[2] < 60.0 and 30.0 < b_half[3] < b_plain[3]


def test_size_scale_multiplies_the_calibrated_prediction():
    """size_scale acts after the init calibration (which it must not disturb): the first update moves
    the 60x30 box by ``lr * score`` (lr = 1) of the way to size_scale times the calibrated 60x30."""
    tracker = Tracker(model=PixelMatchNet(), hparams=dataclasses.replace(EXACT, size_calibration=1.0, size_scale=0.8))
    tracker.init(rect_scene(120, 100), (120, 100, 60, 30))
    box, score = tracker.update(rect_scene(124, 98))
    assert 0.5 < score <= 1.0
    assert box[2] == pytest.approx(60.0 + score * (48.0 - 60.0), rel=1e-6)
    assert box[3] == pytest.approx(30.0 + score * (24.0 - 30.0), rel=1e-6)


@pytest.mark.parametrize("value", [0.2, 5.0])
def test_size_scale_out_of_range_is_rejected(value):
    with pytest.raises(ValueError, match="size_scale"):
        TrackerHParams(size_scale=value)


def test_window_and_penalty_pull_towards_the_centre():
    """With full window influence the peak is the response centre, whatever the image."""
    tracker = Tracker(model=PixelMatchNet(stride=4, template_size=128, search_size=260), hparams=TrackerHParams(window_influence=1.0))
    tracker.init(scene((140, 100)), (140, 100, 40, 40))
    box, _ = tracker.update(scene((152, 100)))
    assert abs(box[0] - 140) <= tolerance(tracker)


def test_update_before_init_raises():
    tracker = Tracker(model=PixelMatchNet())
    with pytest.raises(RuntimeError, match="init"):
        tracker.update(scene((0, 0)))
    with pytest.raises(RuntimeError, match="init"):
        tracker.box


@pytest.mark.parametrize("box", [(float("nan"), 0, 10, 10), (0, 0, 0, 10), (0, 0, 10, -1), (0, 0, 10),
                                 (400, 10, 20, 20), (-50, 10, 20, 20), (10, 300, 20, 20), (0, 0, float("inf"), 5)])
def test_bad_boxes_raise_value_error(box):
    tracker = Tracker(model=PixelMatchNet())
    with pytest.raises(ValueError, match="box"):
        tracker.init(scene((0, 0)), box)


def test_non_numeric_box_raises_type_error():
    with pytest.raises(TypeError, match="box"):
        Tracker(model=PixelMatchNet()).init(scene((0, 0)), ("a", "b", "c", "d"))


@pytest.mark.parametrize("frame,exc", [
    (np.zeros((240, 320, 3), np.float32), TypeError),
    (np.zeros((240, 320, 2), np.uint8), ValueError),
    (np.zeros((2, 240, 320, 3), np.uint8), ValueError),
    (np.zeros((0, 320, 3), np.uint8), ValueError),
    ([[0, 1], [2, 3]], TypeError),
    (torch.zeros(240, 320, 3, dtype=torch.uint8), TypeError),
])
def test_bad_frames_raise_naming_the_argument(frame, exc):
    tracker = Tracker(model=PixelMatchNet())
    with pytest.raises(exc, match="frame"):
        tracker.init(frame, (10, 10, 20, 20))
    tracker.init(scene((10, 10)), (10, 10, 40, 40))
    with pytest.raises(exc, match="frame"):
        tracker.update(frame)


def _result_for(frame, color="bgr"):
    tracker = Tracker(model=PixelMatchNet(), hparams=EXACT, color=color)
    tracker.init(frame[0], (140, 100, 40, 40))
    return tracker.update(frame[1])


def test_equivalent_inputs_give_the_same_result():
    from PIL import Image

    a, b = scene((140, 100)), scene((150, 95))
    reference = _result_for((a, b))
    rgb = (a[:, :, ::-1].copy(), b[:, :, ::-1].copy())
    assert _result_for(rgb, color="rgb") == reference
    pil = (Image.fromarray(rgb[0]), Image.fromarray(rgb[1]))
    assert _result_for(pil) == reference
    rgba = tuple(np.dstack([f, np.full(f.shape[:2], 255, np.uint8)]) for f in (a, b))
    assert _result_for(rgba) == reference
    gray = tuple(cv2.cvtColor(f, cv2.COLOR_BGR2GRAY) for f in (a, b))
    gray_result = _result_for(gray)
    assert _result_for(tuple(g[:, :, None] for g in gray)) == gray_result
    assert abs(gray_result.box[0] - reference.box[0]) <= 3


def test_reinit_and_frame_size_change():
    tracker = Tracker(model=PixelMatchNet(), hparams=EXACT)
    tracker.init(scene((140, 100)), (140, 100, 40, 40))
    tracker.update(scene((146, 100)))
    tracker.init(scene((30, 30)), (30, 30, 40, 40))
    assert tracker.box == (30.0, 30.0, 40.0, 40.0)
    box, _ = tracker.update(scene((36, 30), frame_size=(400, 300)))
    assert abs(box[0] - 36) <= tolerance(tracker)


def test_target_leaving_the_frame_keeps_box_inside():
    tracker = Tracker(model=PixelMatchNet(), hparams=EXACT)
    tracker.init(scene((270, 100)), (270, 100, 40, 40))
    for x in (285, 300, 315, 330, 345):
        (bx, by, bw, bh), score = tracker.update(scene((x, 100)))
        assert 0 <= bx + bw / 2 <= 320 and 0 <= by + bh / 2 <= 240
        assert 0 < bw <= 320 and 0 < bh <= 240
        assert 0.0 <= score <= 1.0


def test_track_result_is_tuple_like():
    result = TrackResult((1.0, 2.0, 3.0, 4.0), 0.5)
    box, score = result
    assert box == (1.0, 2.0, 3.0, 4.0) and score == 0.5 and result.box == box and result.score == score


def test_track_generator_inits_then_updates():
    frames = [scene((100 + 5 * i, 100)) for i in range(4)]
    results = list(Tracker(model=PixelMatchNet(), hparams=EXACT).track(frames, (100, 100, 40, 40)))
    assert len(results) == 4 and results[0] == TrackResult((100.0, 100.0, 40.0, 40.0), 1.0)


def test_device_argument():
    tracker = Tracker(model=PixelMatchNet(), device="cpu")
    assert tracker.device == torch.device("cpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA"):
            Tracker(model=PixelMatchNet(), device="cuda")
    with pytest.raises(ValueError, match="device"):
        Tracker(model=PixelMatchNet(), device="tpu:banana")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_runs_on_cuda(tiny_model):
    tracker = Tracker(model=tiny_model, device="cuda")
    tracker.init(scene((100, 100)), (100, 100, 40, 40))
    box, score = tracker.update(scene((104, 100)))
    assert next(tracker.model.parameters()).is_cuda and 0 <= score <= 1


def test_real_network_runs_end_to_end(tiny_model, textured_frame):
    tracker = Tracker(model=tiny_model)
    tracker.init(textured_frame, (100, 80, 50, 40))
    box, score = tracker.update(textured_frame)
    assert all(math.isfinite(v) for v in box) and 0.0 <= score <= 1.0


def test_hparams_presets_and_overrides(checkpoint_dir):
    assert set(dcffnet.PRESETS) >= {"default", "otb", "uav", "lasot", "got10k"}
    assert Tracker(model=PixelMatchNet(), hparams="otb").hparams == dcffnet.get_preset("otb")
    assert Tracker(model=PixelMatchNet(), hparams={"lr": 0.1}).hparams.lr == 0.1
    with pytest.raises(KeyError, match="otb"):
        Tracker(model=PixelMatchNet(), hparams="nope")
    with pytest.raises(ValueError, match="window_influence"):
        TrackerHParams(window_influence=2.0)
    with pytest.raises(ValueError, match="unknown"):
        Tracker(model=PixelMatchNet(), hparams={"bogus": 1})
    # a checkpoint's own tuned values are the default; an explicit preset wins
    assert Tracker.from_pretrained(checkpoint_dir).hparams.lr == 0.5
    assert Tracker.from_pretrained(checkpoint_dir, hparams="otb").hparams == dcffnet.get_preset("otb")


def test_bad_constructor_arguments():
    with pytest.raises(ValueError, match="color"):
        Tracker(model=PixelMatchNet(), color="hsv")
    with pytest.raises(TypeError, match="model"):
        Tracker(model=nn.Linear(2, 2))


def test_tracker_thread_count_is_set_per_call_and_restored():
    import torch

    from dcffnet.models import create

    frame = np.zeros((120, 160, 3), np.uint8)
    previous = torch.get_num_threads()
    t = Tracker(model=create("dcffnet_tiny"))
    assert t.thread_chooser is not None and t.threads in t.thread_chooser.candidates  # "auto" on the CPU
    t.init(frame, (40, 40, 30, 30))
    for _ in range(3):
        t.update(frame)
    assert torch.get_num_threads() == previous
    assert Tracker(model=create("dcffnet_tiny"), threads=1).thread_chooser is None
    assert Tracker(model=create("dcffnet_tiny"), threads=None).threads is None
    assert Tracker(model=create("dcffnet_tiny"), threads=2).threads == 2
    with pytest.raises(ValueError, match="threads"):
        Tracker(model=create("dcffnet_tiny"), threads=0)
