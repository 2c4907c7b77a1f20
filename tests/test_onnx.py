"""ONNX export (`dcffnet export --onnx`) and Tracker(backend="onnx"): graph rules and parity."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch

import dcffnet
from dcffnet.errors import CheckpointError
from dcffnet.models import create
from dcffnet.models.fusion import banded_correlation, depthwise_correlation, toeplitz_bands
from synthetic_clip import moving_object_clip


@pytest.mark.parametrize("shape,kernel", [((2, 3, 9, 11), (2, 3, 4, 5)), ((1, 8, 32, 32), (1, 8, 16, 16)),
                                          ((3, 4, 6, 6), (3, 4, 6, 6))])
def test_banded_correlation_equals_the_convolution(shape, kernel):
    torch.manual_seed(0)
    search, k = torch.randn(shape), torch.randn(kernel)
    expected = depthwise_correlation(search, k)
    got = banded_correlation(search, toeplitz_bands(k, shape[3]))
    assert got.shape == expected.shape
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)


def test_banded_correlation_rejects_bad_shapes():
    with pytest.raises(ValueError, match="search_width=3 is smaller than the kernel width 4"):
        toeplitz_bands(torch.zeros(1, 1, 4, 4), 3)
    with pytest.raises(ValueError, match="kernel must be 4-D"):
        toeplitz_bands(torch.zeros(4, 4), 8)
    with pytest.raises(ValueError, match="must agree"):
        banded_correlation(torch.zeros(1, 2, 8, 8), toeplitz_bands(torch.zeros(1, 2, 3, 3), 9))


onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from dcffnet.deploy import OnnxNetwork, export_onnx  # noqa: E402
from dcffnet.deploy import state_digest  # noqa: E402


def _conv_weights_are_constants(path) -> list[str]:
    graph = onnx.load(str(path)).graph
    constants = {i.name for i in graph.initializer}
    constants |= {o for n in graph.node if n.op_type == "Constant" for o in n.output}
    return [n.name for n in graph.node if n.op_type == "Conv" and n.input[1] not in constants]


@pytest.mark.parametrize("cf,fusion", [("double", "none"), ("none", "none"), ("first", "self")])
def test_export_of_random_networks(tmp_path, cf, fusion):
    model = create("dcffnet_mobile", cf=cf, template_fusion=fusion).eval()
    folder = export_onnx(model, tmp_path / "export")  # raises if ONNX Runtime disagrees with torch
    manifest = json.loads((folder / "onnx.json").read_text())
    assert manifest["state_sha256"] == state_digest(model)
    assert manifest["search"]["inputs"]["search"] == [1, 3, 255, 255]
    names = list(manifest["template"]["outputs"])
    assert names == {"double": ["kernel_stage1", "kernel_stage2", "kernel_head"], "none": ["kernel_head"],
                     "first": ["kernel_stage1", "kernel_head"]}[cf]
    for graph in ("template.onnx", "search.onnx"):
        assert _conv_weights_are_constants(folder / graph) == [], f"{graph} convolves with run-time weights"
    # the folder is a normal checkpoint too
    assert dcffnet.DCFFNet.from_folder(folder).config == model.config


def test_bundled_default_carries_its_export():
    from dcffnet.checkpoint import bundled_checkpoints

    folder = bundled_checkpoints()["default"]
    manifest = json.loads((folder / "onnx.json").read_text())
    assert manifest["state_sha256"] == state_digest(dcffnet.DCFFNet.from_pretrained("default"))
    net = OnnxNetwork(folder)
    assert net.kernel_names == ["kernel_stage1", "kernel_stage2", "kernel_head"]


def test_onnx_backend_matches_torch_over_a_clip(monkeypatch, tmp_path):
    monkeypatch.setenv("DCFFNET_ONNX_CACHE", str(tmp_path / "cache"))
    frames, gt = moving_object_clip(frames=60)
    a = dcffnet.Tracker(backend="torch")
    b = dcffnet.Tracker(backend="onnx")
    assert (a.backend, b.backend) == ("torch", "onnx")
    assert not (tmp_path / "cache").exists()  # the bundled export was used, nothing exported
    # open loop: every frame starts from the same state, so the backends must give the same box
    a.init(frames[0], gt[0])
    b.init(frames[0], gt[0])
    for frame in frames[1:]:
        b.target.take_position(a.target)
        ra, rb = a.update(frame), b.update(frame)
        assert np.abs(np.array(ra.box) - np.array(rb.box)).max() < 0.01
        assert abs(ra.score - rb.score) < 1e-3
    # closed loop: float rounding feeds back through the crops (torch at 2 threads drifts up to
    # 3 px from torch at 1 thread on this clip, docs/performance.md); on average well within 0.5 px
    boxes_a = np.array([r.box for r in a.track(frames, gt[0])])
    boxes_b = np.array([r.box for r in b.track(frames, gt[0])])
    drift = np.abs(boxes_a - boxes_b).max(axis=1)
    assert drift.mean() < 0.5 and drift.max() < 2.0, f"mean {drift.mean():.3f}, max {drift.max():.3f} px"


def test_exports_on_demand_into_the_cache_once(monkeypatch, tmp_path):
    monkeypatch.setenv("DCFFNET_ONNX_CACHE", str(tmp_path / "cache"))
    torch.manual_seed(1)
    model = create("dcffnet_mobile").eval()
    dcffnet.Tracker(model=model, backend="onnx")
    exports = list((tmp_path / "cache").iterdir())
    assert len(exports) == 1 and (exports[0] / "search.onnx").is_file()
    stamp = (exports[0] / "search.onnx").stat().st_mtime_ns
    tracker = dcffnet.Tracker(model=model, backend="onnx")
    assert (exports[0] / "search.onnx").stat().st_mtime_ns == stamp  # reused, not re-exported
    frames, gt = moving_object_clip(frames=3)
    tracker.init(frames[0], gt[0])
    box, score = tracker.update(frames[1])
    assert np.isfinite(box).all() and 0.0 <= score <= 1.0
    # other weights, another export
    with torch.no_grad():
        model.head.cls_logits.bias.add_(0.1)
    dcffnet.Tracker(model=model, backend="onnx")
    assert len(list((tmp_path / "cache").iterdir())) == 2


def test_corrupt_or_foreign_exports_are_refused(tmp_path):
    from dcffnet.checkpoint import bundled_checkpoints

    folder = tmp_path / "export"
    shutil.copytree(bundled_checkpoints()["default"], folder)
    data = bytearray((folder / "search.onnx").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (folder / "search.onnx").write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="sha256 does not match"):
        OnnxNetwork(folder)
    (folder / "onnx.json").write_text(json.dumps({"format": 99}))
    with pytest.raises(CheckpointError, match="export format 99"):
        OnnxNetwork(folder)
    (folder / "onnx.json").unlink()
    with pytest.raises(CheckpointError, match="not an ONNX export"):
        OnnxNetwork(folder)


def test_auto_backend_picks_onnx_only_for_a_matching_export(tmp_path):
    assert dcffnet.Tracker().backend == "onnx"  # the bundled default carries its export
    model = dcffnet.DCFFNet.from_pretrained("fast")
    assert dcffnet.Tracker(model=model).backend == "onnx"
    with torch.no_grad():
        model.head.cls_logits.bias.add_(0.1)  # no longer the exported weights
    assert dcffnet.Tracker(model=model).backend == "torch"
    assert dcffnet.Tracker(model=create("dcffnet_mobile")).backend == "torch"  # no checkpoint folder
    dcffnet.Tracker().save_pretrained(tmp_path / "plain")  # a checkpoint without an export
    assert dcffnet.Tracker(str(tmp_path / "plain")).backend == "torch"


def test_backend_argument_is_checked():
    with pytest.raises(ValueError, match="backend must be one of"):
        dcffnet.Tracker(backend="tensorrt")


def test_export_cli(tmp_path):
    from dcffnet.cli import main

    assert main(["export", "default", "--onnx", str(tmp_path / "out")]) == 0
    assert {p.name for p in (tmp_path / "out").iterdir()} >= {"template.onnx", "search.onnx", "onnx.json",
                                                                "config.json", "model.safetensors"}
    tracker = dcffnet.Tracker(str(tmp_path / "out"), backend="onnx")
    assert tracker.hparams == dcffnet.Tracker().hparams
    assert main(["export", "default"]) == 2  # no target format: a clear error, exit status 2


def test_bundled_search_graph_runs_in_opencv_dnn_too():
    """The export's promise beyond ONNX Runtime: OpenCV's DNN module reads and runs the search
    graph (Gather + MatMul correlations) with the same outputs."""
    import cv2

    from dcffnet.checkpoint import bundled_checkpoints

    folder = bundled_checkpoints()["default"]
    net = OnnxNetwork(folder)
    rng = np.random.default_rng(0)
    template = net.template(rng.uniform(0, 255, net.template_shape).astype(np.float32))
    search = rng.uniform(0, 255, net.search_shape).astype(np.float32)
    expected = net.track(search, template)
    dnn = cv2.dnn.readNet(str(folder / "search.onnx"))
    dnn.setInput(search, "search")
    for name, kernel in zip(net.kernel_names, template.kernels):
        dnn.setInput(kernel, name)
    got = dnn.forward(net.output_names)
    for name, value in zip(net.output_names, got):
        np.testing.assert_allclose(value, expected[name], rtol=1e-3, atol=1e-3 * np.abs(expected[name]).max())
