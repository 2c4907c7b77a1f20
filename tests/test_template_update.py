"""The TemplateUpdate component: a fresh template from confident frames blended into the first one."""

from __future__ import annotations

import copy
import dataclasses
import pickle

import numpy as np
import pytest
import torch

import dcffnet
from dcffnet.deploy.onnx_runtime import OnnxTemplate
from dcffnet.hparams import TrackerHParams
from dcffnet.models.dcffnet import TemplateFeatures
from dcffnet.tracking.components import TemplateUpdate
from synthetic_clip import moving_object_clip

BACKENDS = ("onnx", "torch")
EVERY_FRAME = {"template_update": 1.0, "template_update_every": 1, "template_update_above": 0.0}


@pytest.fixture(scope="module")
def clip():
    return moving_object_clip(frames=24, size=(320, 240), seed=11)


def kernels(template) -> list[np.ndarray]:
    parts = template.kernels if isinstance(template, OnnxTemplate) else [t for t in template if t is not None]
    return [np.asarray(p.detach().cpu() if hasattr(p, "detach") else p, dtype=np.float64) for p in parts]


def test_blend_of_both_template_types_is_the_weighted_sum():
    a = OnnxTemplate((np.ones((1, 2, 3, 3), np.float32), np.zeros((1, 4), np.float32)))
    b = OnnxTemplate((np.full((1, 2, 3, 3), 3.0, np.float32), np.ones((1, 4), np.float32)))
    mixed = a.blend(b, 0.25)
    assert np.allclose(mixed.kernels[0], 1.5) and np.allclose(mixed.kernels[1], 0.25)
    assert mixed.kernels[0].dtype == np.float32
    ta = TemplateFeatures(None, torch.ones(1, 2), torch.zeros(1, 3))
    tb = TemplateFeatures(None, torch.full((1, 2), 5.0), torch.ones(1, 3))
    tm = ta.blend(tb, 0.5)
    assert tm.stage1 is None and torch.allclose(tm.stage2, torch.full((1, 2), 3.0)) and torch.allclose(tm.final, torch.full((1, 3), 0.5))


def test_off_by_default_and_values_checked():
    assert not TemplateUpdate.enabled(TrackerHParams())
    assert TemplateUpdate.enabled(TrackerHParams(template_update=0.1))
    with pytest.raises(ValueError, match="template_update"):
        TrackerHParams(template_update=1.5)
    with pytest.raises(ValueError, match="template_update_every"):
        TrackerHParams(template_update_every=0)


@pytest.mark.parametrize("backend", BACKENDS)
def test_weight_one_every_frame_uses_the_template_at_the_last_box(backend, clip):
    frames, gt = clip
    tracker = dcffnet.Tracker(backend=backend, threads=1)
    tracker.hparams = dataclasses.replace(tracker.hparams, **EVERY_FRAME)
    tracker.init(frames[0], tuple(gt[0]))
    first = kernels(tracker.target.template)
    version = tracker.target.version
    tracker.update(frames[1])
    # the template in use is exactly the one taken at the new box (weight 1), the first is kept
    fresh = kernels(tracker.pipeline.take_template(frames[1], tracker.target))
    for got, want in zip(kernels(tracker.target.template), fresh):
        assert np.allclose(got, want, atol=1e-6)
    memory = tracker.target.memory["template_update"]
    for got, want in zip(kernels(memory["first"]), first):
        assert np.array_equal(got, want)
    assert tracker.target.version == version + 1  # batched template caches see a new template


@pytest.mark.parametrize("backend", BACKENDS)
def test_updates_only_on_confident_frames_at_the_set_interval(backend, clip):
    frames, gt = clip
    tracker = dcffnet.Tracker(backend=backend, threads=1)
    tracker.hparams = dataclasses.replace(tracker.hparams, template_update=0.3, template_update_every=4,
                                          template_update_above=0.0)
    tracker.init(frames[0], tuple(gt[0]))
    versions = []
    for frame in frames[1:13]:
        tracker.update(frame)
        versions.append(tracker.target.version)
    # frames 4, 8 and 12 take a fresh template: versions[k] is after frame k + 1
    assert np.flatnonzero(np.diff(versions)).tolist() == [2, 6, 10]
    never = dcffnet.Tracker(backend=backend, threads=1)
    never.hparams = dataclasses.replace(never.hparams, template_update=0.3, template_update_every=1,
                                        template_update_above=1.0)  # no frame scores above 1
    never.init(frames[0], tuple(gt[0]))
    v0 = never.target.version
    for frame in frames[1:6]:
        never.update(frame)
    assert never.target.version == v0


@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
def test_a_copy_mid_video_continues_identically(how, clip):
    frames, gt = clip
    tracker = dcffnet.Tracker(threads=1)
    tracker.hparams = dataclasses.replace(tracker.hparams, template_update=0.2, template_update_every=3,
                                          template_update_above=0.0)
    tracker.init(frames[0], tuple(gt[0]))
    for frame in frames[1:8]:
        tracker.update(frame)
    clone = copy.deepcopy(tracker) if how == "deepcopy" else pickle.loads(pickle.dumps(tracker))
    for frame in frames[8:]:
        assert clone.update(frame) == tracker.update(frame)


def test_multitracker_targets_update_their_own_templates(clip):
    frames, gt = clip
    values = dataclasses.replace(dcffnet.Tracker().hparams, **EVERY_FRAME)
    multi = dcffnet.MultiTracker(threads=1, hparams=values)
    a = multi.add(frames[0], tuple(gt[0]))
    b = multi.add(frames[0], (10.0, 10.0, 30.0, 30.0))
    before = (multi.target(a).version, multi.target(b).version)
    multi.update(frames[1])
    assert (multi.target(a).version, multi.target(b).version) == (before[0] + 1, before[1] + 1)
    single = dcffnet.Tracker(threads=1, hparams=values)
    single.init(frames[0], tuple(gt[0]))
    single.update(frames[1])
    result = multi.update(frames[2])[a]
    expected = single.update(frames[2])
    assert np.allclose(result.box, expected.box, atol=1e-3) and abs(result.score - expected.score) < 1e-3
