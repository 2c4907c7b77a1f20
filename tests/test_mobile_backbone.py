"""dcffnet_mobile: NanoTrack v2's MobileNetV3 stages with correlation fusion, and the ONNX weight import."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from dcffnet.models import create
from dcffnet.models.mobilenet import load_nanotrack_backbone

SHARED_BACKBONE = Path(__file__).resolve().parents[1].parent / "shared" / "peers" / "models" / "nanotrack_backbone_sim.onnx"


def test_mobile_geometry_sizes():
    model = create("dcffnet_mobile").eval()
    assert model.feature_sizes["template"]["block3"] == 8 and model.feature_sizes["search"]["block3"] == 16
    assert model.feature_sizes["search"]["stem"] == 32
    g = model.geometry
    assert (g.stride, g.size, g.kernel_offset) == (16, 13, 2)
    assert g.cell_points()[6] == pytest.approx(127.5)  # the centre cell looks at the crop centre
    out = model(torch.zeros(2, 3, 127, 127), torch.zeros(2, 3, 255, 255))
    assert out["cls"].shape == (2, 2, 13, 13) and out["reg"].shape == (2, 4, 13, 13)


def _positive_network(name, **overrides):
    """Every conv/linear weight positive and constant, SE gates constant, BN identity: a symmetric blur."""
    model = create(name, cf="none", head="siamfc", pixel_mean=(0.0, 0.0, 0.0), pixel_std=(1.0, 1.0, 1.0),
                   **overrides)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.Conv2d):
                module.weight.fill_(1.0 / module.weight[0].numel())
                if module.bias is not None:
                    module.bias.fill_(0.1)
            elif isinstance(module, nn.Linear):
                module.weight.zero_()  # the squeeze-excite gate becomes hardsigmoid(bias): no global term
                module.bias.fill_(1.0)
            elif isinstance(module, nn.BatchNorm2d):
                module.reset_parameters()
                module.reset_running_stats()
    return model.eval()


def _centroid(grad: torch.Tensor) -> tuple[float, float]:
    g = grad.abs().sum(0).double()
    coords = torch.arange(g.shape[0], dtype=torch.float64) + 0.5
    return float((g.sum(1) * coords).sum() / g.sum()), float((g.sum(0) * coords).sum() / g.sum())


@pytest.mark.parametrize("name,crop,cells", [("dcffnet_mobile", 4, [(6, 6)]),  # large receptive fields: off-centre cells are clipped by the border
                                             ("dcffnet_tiny", 0, [(9, 9), (10, 12)]),
                                             ("dcffnet_tiny", 7, [(9, 9), (13, 3)])])
def test_cell_points_match_the_network_with_a_cropped_kernel(name, crop, cells):
    """A target at the template centre shows in search cell j where geometry says: the search
    region cell j looks at, shifted by how far the template kernel's view is off the template centre.

    Gradient centroids are measured on all-ones crops, so receptive fields clipped by the crop
    border bias them a little; the tolerance is a quarter stride (a wrong kernel offset is off by
    whole strides)."""
    model = _positive_network(name, template_crop=crop)
    tolerance = model.geometry.stride / 4
    t, s = model.config.template_size, model.config.search_size
    z = torch.ones(1, 3, t, t, requires_grad=True)
    kernel = model.template(z).final
    kernel.sum().backward()
    ty, tx = _centroid(z.grad[0])
    points = model.geometry.cell_points()
    for i, j in cells:
        x = torch.ones(1, 3, s, s, requires_grad=True)
        out = model.head(model.search_features(x, model.template(torch.ones(1, 3, t, t))), kernel.detach())
        out["response"][0, 0, i, j].backward()
        sy, sx = _centroid(x.grad[0])
        assert sx + (t / 2 - tx) == pytest.approx(points[j], abs=tolerance)
        assert sy + (t / 2 - ty) == pytest.approx(points[i], abs=tolerance)


def _write_graph(path: Path, tensors: list[tuple[str, list[np.ndarray]]]) -> None:
    """An ONNX file whose Conv/Gemm nodes carry ``tensors`` in order (the loader reads nothing else)."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    nodes, inits, prev = [], [], "input"
    for k, (op, arrays) in enumerate(tensors):
        names = [f"w{k}", f"b{k}"]
        inits += [numpy_helper.from_array(a.astype(np.float32), n) for a, n in zip(arrays, names)]
        attrs = {"transB": 1} if op == "Gemm" else {}
        nodes.append(helper.make_node(op, [prev, *names], [f"y{k}"], name=f"n{k}", **attrs))
        prev = f"y{k}"
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("input", TensorProto.FLOAT, None)],
                              [helper.make_tensor_value_info(prev, TensorProto.FLOAT, None)], initializer=inits)
    onnx.save(helper.make_model(graph), str(path))


def _layers(model):
    return [m for stage in (model.stem, model.block2, model.block3) for m in stage.modules()
            if isinstance(m, (nn.Conv2d, nn.Linear))]


def test_onnx_weights_are_copied_in_order(tmp_path):
    source, target = create("dcffnet_mobile"), create("dcffnet_mobile")
    tensors = [("Gemm" if isinstance(m, nn.Linear) else "Conv", [m.weight.detach().numpy(), m.bias.detach().numpy()])
               for m in _layers(source)]
    _write_graph(tmp_path / "backbone.onnx", tensors)
    copied = load_nanotrack_backbone((target.stem, target.block2, target.block3), tmp_path / "backbone.onnx")
    assert copied == 2 * len(tensors) == 72
    for a, b in zip(_layers(source), _layers(target)):
        assert torch.equal(a.weight, b.weight) and torch.equal(a.bias, b.bias)


def test_onnx_with_another_layout_is_refused(tmp_path):
    model = create("dcffnet_mobile")
    _write_graph(tmp_path / "short.onnx", [("Conv", [np.zeros((16, 3, 3, 3)), np.zeros(16)])])
    with pytest.raises(ValueError, match="1 Conv/Gemm nodes"):
        load_nanotrack_backbone((model.stem, model.block2, model.block3), tmp_path / "short.onnx")
    tensors = [("Gemm" if isinstance(m, nn.Linear) else "Conv", [np.zeros(m.weight.shape), np.zeros(m.bias.shape)])
               for m in _layers(model)]
    tensors[0] = ("Conv", [np.zeros((16, 3, 5, 5)), np.zeros(16)])
    _write_graph(tmp_path / "shape.onnx", tensors)
    with pytest.raises(ValueError, match=r"shape \(16, 3, 5, 5\)"):
        load_nanotrack_backbone((model.stem, model.block2, model.block3), tmp_path / "shape.onnx")
    with pytest.raises(FileNotFoundError):
        load_nanotrack_backbone((model.stem, model.block2, model.block3), tmp_path / "missing.onnx")


@pytest.mark.skipif(not SHARED_BACKBONE.is_file(), reason="NanoTrack's backbone ONNX file is not available")
def test_imported_backbone_matches_opencv_dnn():
    pytest.importorskip("onnx")
    import cv2

    model = create("dcffnet_mobile").eval()
    load_nanotrack_backbone((model.stem, model.block2, model.block3), SHARED_BACKBONE)
    crop = np.random.default_rng(0).integers(0, 256, (255, 255, 3)).astype(np.uint8)
    net = cv2.dnn.readNet(str(SHARED_BACKBONE))
    net.setInput(cv2.dnn.blobFromImage(crop, 1.0, (255, 255), (0, 0, 0), swapRB=False, crop=False))
    reference = net.forward()
    with torch.no_grad():
        ours = model.block3(model.block2(model.stem(torch.from_numpy(crop).permute(2, 0, 1)[None].float())))
    np.testing.assert_allclose(ours.numpy(), reference, atol=1e-3, rtol=1e-4)
