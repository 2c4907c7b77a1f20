"""dcffnet_v3: NanoTrack v3's network with correlation fusion, its strict import, and fine-tuning pieces."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from safetensors.torch import save_file

import dcffnet
from dcffnet.errors import CheckpointError
from dcffnet.geometry import context_size, crop_and_resize
from dcffnet.models import DCFFNet, create, import_nanotrack_v3, load_nanotrack_v3
from dcffnet.models.ban_head import kernel_from_bands
from dcffnet.models.fusion import banded_correlation, toeplitz_bands
from dcffnet.models.nanotrack_v3_import import NANOTRACK_V3_UNAPPLIED, to_nanotrack_v3_names
from dcffnet.tracking.decode import score_map
from synthetic_clip import moving_object_clip

V3 = Path(__file__).resolve().parents[1].parent / "shared" / "peers" / "models" / "nanotrack_v3"
VIDEO = Path(__file__).resolve().parents[1] / "examples" / "assets" / "vtest_150.mp4"
needs_v3 = pytest.mark.skipif(not (V3 / "nanotrack_v3.safetensors").is_file(),
                              reason="NanoTrack v3 files (../shared/peers/models/nanotrack_v3) not present")


def _untrained_neck() -> dict[str, torch.Tensor]:
    """v3's neck as its checkpoint holds it: a never-run 96 -> 96 1x1 conv + BN."""
    torch.manual_seed(5)
    return {"neck.downsample.0.weight": torch.randn(96, 96, 1, 1) * 0.06,
            "neck.downsample.1.weight": torch.ones(96), "neck.downsample.1.bias": torch.zeros(96),
            "neck.downsample.1.running_mean": torch.zeros(96), "neck.downsample.1.running_var": torch.ones(96),
            "neck.downsample.1.num_batches_tracked": torch.tensor(0)}


def _fake_v3_state(seed: int = 1) -> dict[str, torch.Tensor]:
    """A state dict in NanoTrack v3's names and shapes (438 tensors) from a random ``dcffnet_v3``,
    BN statistics randomised so every tensor matters."""
    torch.manual_seed(seed)
    model = create("dcffnet_v3")
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-0.2, 0.2)
                module.running_var.uniform_(0.5, 1.5)
                module.weight.uniform_(0.5, 1.5)
                module.bias.uniform_(-0.2, 0.2)
                module.num_batches_tracked.fill_(7)
    return {**{k: v.clone() for k, v in to_nanotrack_v3_names(model.state_dict()).items()}, **_untrained_neck()}


# ------------------------------------------------------------------------------------------- layout
def test_v3_geometry_is_nanotracks_grid():
    model = create("dcffnet_v3").eval()
    g = model.geometry
    assert (g.template_size, g.search_size, g.stride, g.size, g.kernel_offset) == (127, 255, 16, 15, 3)
    # NanoTrack's tracker puts cell k at 16 * (k - 7) crop pixels from the search-crop centre
    np.testing.assert_array_equal(g.cell_offsets(), 16.0 * (np.arange(15) - 7))
    assert model.feature_sizes["template"]["block3"] == 8 and model.feature_sizes["search"]["stem"] == 32
    with torch.no_grad():
        out = model(torch.zeros(2, 3, 127, 127), torch.zeros(2, 3, 255, 255))
    assert out["cls"].shape == (2, 2, 15, 15) and out["reg"].shape == (2, 4, 15, 15)


@pytest.mark.parametrize("cf,modules", [("none", (False, False)), ("first", (True, False)),
                                        ("second", (False, True)), ("double", (True, True))])
def test_the_papers_cf_variants_stay_selectable(cf, modules):
    model = create("dcffnet_v3", cf=cf)
    assert (model.cf1 is not None, model.cf2 is not None) == modules
    if model.cf1 is not None:
        assert model.cf1.norm.num_features == 24  # after the stem (features.0-3), as in dcffnet_mobile
    if model.cf2 is not None:
        assert model.cf2.norm.num_features == 96  # after the last stage (features.7-9), before the head


def test_v3_layout_rejects_settings_it_cannot_honour():
    with pytest.raises(ValueError, match="no neck: neck_channels must be its width 96"):
        create("dcffnet_v3", neck_channels=64)
    with pytest.raises(ValueError, match="template_crop must be 0"):
        create("dcffnet_v3", template_crop=4)


def test_kernel_from_bands_inverts_toeplitz_bands():
    kernel = torch.randn(2, 3, 8, 8)
    torch.testing.assert_close(kernel_from_bands(toeplitz_bands(kernel, 16)), kernel, rtol=0, atol=1e-6)


# ------------------------------------------------------------------------------------------- import
def test_import_uses_every_v3_tensor_once_and_starts_the_cf_modules_at_zero(tmp_path):
    state = _fake_v3_state()
    assert len(state) == 438
    save_file(state, str(tmp_path / "v3.safetensors"))
    model = create("dcffnet_v3")
    assert load_nanotrack_v3(model, tmp_path / "v3.safetensors") == 438 - len(NANOTRACK_V3_UNAPPLIED)
    back = to_nanotrack_v3_names(model.state_dict())
    assert set(back) == set(state) - set(NANOTRACK_V3_UNAPPLIED)
    for key, value in back.items():
        assert torch.equal(value, state[key]), key
    for cf in (model.cf1, model.cf2):
        assert torch.count_nonzero(cf.norm.weight) == 0 and torch.count_nonzero(cf.norm.bias) == 0


def _import_error(state: dict[str, torch.Tensor]) -> str:
    with pytest.raises(CheckpointError) as info:
        load_nanotrack_v3(create("dcffnet_v3"), state)
    return str(info.value)


def test_strict_import_names_missing_extra_misshaped_and_mistyped_tensors():
    state = _fake_v3_state()
    missing = {k: v for k, v in state.items() if k != "ban_head.cls_logits.0.bias"}
    assert "missing keys: ban_head.cls_logits.0.bias" in _import_error(missing)
    extra = {**state, "ban_head.extra.weight": torch.zeros(3)}
    assert "unexpected keys: ban_head.extra.weight" in _import_error(extra)
    stray = {**state, "head.cls_logits.0.bias": torch.zeros(2)}  # DCFFNet's name, not v3's
    assert "unexpected keys: head.cls_logits.0.bias" in _import_error(stray)
    shaped = {**state, "backbone.features.9.conv.7.weight": torch.zeros(48, 288, 1, 1)}
    assert "backbone.features.9.conv.7.weight: file (48, 288, 1, 1) vs model (96, 288, 1, 1)" in _import_error(shaped)
    typed = {**state, "backbone.features.0.0.weight": state["backbone.features.0.0.weight"].half()}
    assert "dtype mismatches: backbone.features.0.0.weight" in _import_error(typed)
    trained_neck = {**state, "neck.downsample.1.num_batches_tracked": torch.tensor(100)}
    assert "ran in training" in _import_error(trained_neck)
    uncounted_neck = {k: v for k, v in state.items() if k != "neck.downsample.1.num_batches_tracked"}
    assert "cannot be shown to be" in _import_error(uncounted_neck)
    odd_neck = {**state, "neck.other.weight": torch.zeros(1)}
    assert "unexpected keys: neck.other.weight" in _import_error(odd_neck)


def test_import_refuses_other_layouts_and_missing_files(tmp_path):
    with pytest.raises(ValueError, match="backbone='nanotrack_v3' with head='ban'"):
        load_nanotrack_v3(create("dcffnet_mobile"), _fake_v3_state())
    with pytest.raises(FileNotFoundError, match="NanoTrack v3 weights not found"):
        import_nanotrack_v3(tmp_path / "absent.safetensors")
    (tmp_path / "broken.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(CheckpointError, match="not a readable safetensors file"):
        import_nanotrack_v3(tmp_path / "broken.safetensors")


def test_cf_modules_output_zero_at_import_yet_receive_gradients():
    state = _fake_v3_state()
    model = import_nanotrack_v3(state)
    plain = import_nanotrack_v3(state, cf="none")
    z, x = torch.rand(2, 3, 127, 127) * 255, torch.rand(2, 3, 255, 255) * 255
    outputs = []
    hooks = [cf.norm.register_forward_hook(lambda m, i, o: outputs.append(o)) for cf in (model.cf1, model.cf2)]
    for mode in ("eval", "train"):  # running statistics and batch statistics alike
        getattr(model, mode)()
        plain.train(mode == "train")
        out = model(z, x)
        with torch.no_grad():
            reference = plain(z, x)
        assert all(torch.count_nonzero(o) == 0 for o in outputs)
        for key in ("cls", "reg"):
            torch.testing.assert_close(out[key], reference[key], rtol=0, atol=0)
        outputs.clear()
    for hook in hooks:
        hook.remove()
    (out["cls"].square().mean() + out["reg"].log().square().mean()).backward()
    for cf in (model.cf1, model.cf2):
        for param in (cf.norm.weight, cf.norm.bias):
            assert param.grad is not None and float(param.grad.abs().sum()) > 0.0


def test_imported_network_round_trips_through_save_and_load(tmp_path):
    model = import_nanotrack_v3(_fake_v3_state(), cf="first")
    folder = model.save_pretrained(tmp_path / "ckpt")
    loaded = DCFFNet.from_pretrained(folder)
    assert loaded.architecture == "dcffnet_v3" and loaded.config == model.config
    assert loaded.config.cf == "first" and loaded.geometry == model.geometry
    z, x = torch.rand(1, 3, 127, 127) * 255, torch.rand(1, 3, 255, 255) * 255
    with torch.no_grad():
        a, b = model(z, x), loaded(z, x)
    for key in ("cls", "reg"):
        torch.testing.assert_close(a[key], b[key], rtol=0, atol=0)


def test_tracker_runs_the_v3_network_over_a_generated_clip():
    frames, boxes = moving_object_clip(frames=8)
    tracker = dcffnet.Tracker(model=import_nanotrack_v3(_fake_v3_state()))
    tracker.init(frames[0], boxes[0])
    height, width = frames[0].shape[:2]
    for frame in frames[1:]:
        box, score = tracker.update(frame)
        assert np.isfinite(box).all() and 0.0 <= score <= 1.0
        assert box[2] > 0 and box[3] > 0 and -box[2] < box[0] < width and -box[3] < box[1] < height


def test_onnx_export_of_the_v3_network(tmp_path):
    onnx = pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    from dcffnet.deploy import OnnxNetwork, export_onnx

    model = import_nanotrack_v3(_fake_v3_state())
    with torch.no_grad():  # move the CF modules off zero, so the export is checked with them working
        for cf in (model.cf1, model.cf2):
            cf.norm.weight.fill_(0.5)
    folder = export_onnx(model, tmp_path / "export")  # raises if ONNX Runtime disagrees with torch
    for graph in ("template.onnx", "search.onnx"):
        g = onnx.load(str(folder / graph)).graph
        constants = {i.name for i in g.initializer} | {o for n in g.node if n.op_type == "Constant" for o in n.output}
        assert [n.name for n in g.node if n.op_type == "Conv" and n.input[1] not in constants] == []
    net = OnnxNetwork(folder)
    assert net.kernel_names == ["kernel_stage1", "kernel_stage2", "kernel_head"]
    z, x = torch.rand(1, 3, 127, 127) * 255, torch.rand(1, 3, 255, 255) * 255
    got = net.track(x, net.template(z))
    with torch.no_grad():
        ref = model.track(x, model.template(z))
    np.testing.assert_allclose(got["cls"], ref["cls"].numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(got["reg"], ref["reg"].numpy(), rtol=1e-4, atol=1e-3)


# ------------------------------------------------------------------------------- v3's own files
def _real_crops() -> tuple[np.ndarray, np.ndarray]:
    """Template from frame 0, search region from frame 10 of the bundled clip, around a pedestrian."""
    cap = cv2.VideoCapture(str(VIDEO))
    frames = [cap.read()[1] for _ in range(11)]
    cap.release()
    x, y, w, h = 252.0, 220.0, 32.0, 88.0
    side = context_size(w, h, 0.5)
    centre = (x + w / 2, y + h / 2)
    return crop_and_resize(frames[0], centre, side, 127), crop_and_resize(frames[10], centre, side * 255 / 127, 255)


@needs_v3
@pytest.mark.parametrize("cf", ["double", "none"])
def test_imported_v3_equals_the_released_graphs_on_a_real_crop(cf):
    ort = pytest.importorskip("onnxruntime")
    template, search = _real_crops()

    def blob(crop: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(crop.transpose(2, 0, 1)[None], dtype=np.float32)

    backbone = ort.InferenceSession(str(V3 / "nanotrack_backbone_dyn.onnx"), providers=["CPUExecutionProvider"])
    head = ort.InferenceSession(str(V3 / "nanotrack_head.onnx"), providers=["CPUExecutionProvider"])
    zf = backbone.run(None, {"input": blob(template)})[0]
    xf = backbone.run(None, {"input": blob(search)})[0]
    cls, reg = head.run(["output1", "output2"], {"input1": zf, "input2": xf})
    model = import_nanotrack_v3(V3 / "nanotrack_v3.safetensors", cf=cf)
    with torch.no_grad():
        out = model.track(torch.from_numpy(blob(search)), model.template(torch.from_numpy(blob(template))))
    assert out["cls"].shape == cls.shape == (1, 2, 15, 15)
    np.testing.assert_allclose(out["cls"].numpy(), cls, rtol=0, atol=1e-4)
    # box distances are crop pixels (up to ~100): within 1e-4 relative
    np.testing.assert_allclose(out["reg"].numpy(), reg, rtol=1e-4, atol=1e-4)
    # the tracker's score: softmax over (background, target), target = channel 1, as NanoTrack decodes
    logits = cls[0].astype(np.float64)
    nanotrack_score = np.exp(logits[1]) / np.exp(logits).sum(0)
    np.testing.assert_allclose(score_map(out), nanotrack_score, rtol=0, atol=1e-4)
    assert np.unravel_index(np.argmax(score_map(out)), (15, 15)) == np.unravel_index(np.argmax(nanotrack_score),
                                                                                       (15, 15))


@needs_v3
def test_v3_file_holds_438_tensors_of_which_the_neck_is_never_trained():
    from safetensors.torch import load_file

    state = load_file(str(V3 / "nanotrack_v3.safetensors"))
    assert len(state) == 438 and int(state["neck.downsample.1.num_batches_tracked"]) == 0
    assert load_nanotrack_v3(create("dcffnet_v3"), state) == 432


# ----------------------------------------------------------------------- fine-tuning (stage 2)
class _Backbone(torch.nn.Module):
    def __init__(self, model: DCFFNet) -> None:
        super().__init__()
        self.model = model

    def forward(self, crop: torch.Tensor) -> torch.Tensor:
        return self.model.block3(self.model.block2(self.model.stem(crop)))


class _Head(torch.nn.Module):
    def __init__(self, model: DCFFNet) -> None:
        super().__init__()
        self.head = model.head

    def forward(self, template: torch.Tensor, search: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        # the convolution-free form (the exporter cannot write a convolution with computed weights)
        out = self.head(search, toeplitz_bands(template, search.shape[3]), banded_correlation)
        return out["cls"], out["reg"]


@pytest.fixture(scope="module")
def v3_teacher_files(tmp_path_factory):
    """A v3-layout tracker exported as NanoTrack v3 ships it (backbone of any input size; head with
    ``input1`` / ``input2`` -> ``output1`` / ``output2``), from the weights of :func:`_fake_v3_state`."""
    pytest.importorskip("onnx")
    folder = tmp_path_factory.mktemp("v3-teacher")
    model = import_nanotrack_v3(_fake_v3_state(), cf="none")
    paths = folder / "backbone.onnx", folder / "head.onnx"
    with torch.no_grad():
        torch.onnx.export(_Backbone(model).eval(), (torch.zeros(1, 3, 255, 255),), str(paths[0]), input_names=["input"],
                          output_names=["output"], dynamic_axes={"input": {2: "H", 3: "W"}, "output": {2: "h", 3: "w"}},
                          opset_version=17, dynamo=False)
        torch.onnx.export(_Head(model).eval(), (torch.zeros(1, 96, 8, 8), torch.zeros(1, 96, 16, 16)), str(paths[1]),
                          input_names=["input1", "input2"], output_names=["output1", "output2"], opset_version=17,
                          dynamo=False)
    return paths


def test_response_teacher_picks_v3s_grid_for_a_v3_student_and_v2s_otherwise(tmp_path):
    from dcffnet.train.distill import NANOTRACK_GEOMETRY, NANOTRACK_V3_GEOMETRY, ResponseTeacher, teacher_geometry

    files = [tmp_path / "b.onnx", tmp_path / "h.onnx"]
    for f in files:
        f.write_bytes(b"")
    v3_student, mobile_student = create("dcffnet_v3").geometry, create("dcffnet_mobile").geometry
    assert teacher_geometry(v3_student) == NANOTRACK_V3_GEOMETRY
    assert teacher_geometry(mobile_student) == NANOTRACK_GEOMETRY
    assert teacher_geometry(v3_student, "nanotrack_v2") == NANOTRACK_GEOMETRY
    with pytest.raises(ValueError, match="nanotrack_v3"):
        teacher_geometry(v3_student, "nanotrack_v4")
    assert ResponseTeacher(*files, student=v3_student).index.tolist() == list(range(15))
    # v3's cells lie on v2's 16x16 grid too, one cell in
    assert ResponseTeacher(*files, student=v3_student, teacher="nanotrack_v2").index.tolist() == list(range(1, 16))
    assert ResponseTeacher(*files, student=mobile_student).index.tolist() == list(range(2, 15))


def test_v3_response_teacher_gives_the_networks_own_maps(v3_teacher_files):
    from dcffnet.train.distill import ResponseTeacher

    model = import_nanotrack_v3(_fake_v3_state())
    template, search = (np.random.default_rng(3).integers(0, 256, (s, s, 3), dtype=np.uint8) for s in (127, 255))
    prob, reg = ResponseTeacher(*v3_teacher_files, student=model.geometry)(template, search)
    with torch.no_grad():
        out = model(torch.from_numpy(template.transpose(2, 0, 1)[None].astype(np.float32)),
                    torch.from_numpy(search.transpose(2, 0, 1)[None].astype(np.float32)))
    np.testing.assert_allclose(prob, score_map(out), rtol=0, atol=1e-4)
    np.testing.assert_allclose(reg, out["reg"][0].numpy(), rtol=1e-4, atol=1e-3)
    with pytest.raises(ValueError, match=r"gives \(15, 15\) maps, but the teacher grid is 16x16"):
        ResponseTeacher(*v3_teacher_files, student=model.geometry, teacher="nanotrack_v2")(template, search)


def test_one_v3_fine_tuning_step_on_generated_data(tmp_path, v3_teacher_files):
    """The shipped recipe's parts (trainable modules, losses, response teacher) make one SGD step
    on generated pairs: the loss is finite, the trainable parts move, the frozen ones do not."""
    from dcffnet.train import freeze_for_stage2, load_recipe
    from dcffnet.train.distill import ResponseTeacher, response_distill_loss
    from dcffnet.train.losses import car_loss
    from dcffnet.train.sampling import PairDataset, load_mixture
    from dcffnet.train.targets import car_targets
    from train_fixtures import write_folder_dataset

    write_folder_dataset(tmp_path / "data" / "videos", sequences=2, frames=6)
    config = load_recipe("v3-stage2-distill.yaml", [
        f"data.data_root={tmp_path / 'data'}", "data.datasets=[{format: folder, root: videos, frame_range: 3}]",
        "data.val_fraction=0.0", "augment.search_shift=16"])
    assert config.architecture == "dcffnet_v3" and config.trainable == ["cf1", "cf2", "head", "block3"]
    model = import_nanotrack_v3(_fake_v3_state()).train()
    names = set(freeze_for_stage2(model, config.trainable))
    assert names and all(n.split(".")[0] in ("cf1", "cf2", "head", "block3") for n in names)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    mixture, _ = load_mixture(config.data)
    teacher = ResponseTeacher(*v3_teacher_files, student=model.geometry)
    pairs = PairDataset([(s, tr) for s, tr, _ in mixture], 2, 127, 255, config.augment, seed=0,
                        response_teacher=teacher)
    batch = {k: torch.stack([pairs[i][k] for i in range(2)]) for k in pairs[0]}
    assert batch["teacher_cls"].shape == (2, 15, 15) and batch["teacher_reg"].shape == (2, 4, 15, 15)
    out = model(batch["template"].float(), batch["search"].float())
    labels, reg = car_targets(batch["box"], batch["negative"], model.geometry, config.loss.cls_positive,
                              config.loss.central_fraction)
    distill = response_distill_loss(out, batch["teacher_cls"], batch["teacher_reg"])
    loss = (car_loss(out, labels, reg, config.loss.reg_weight)["loss"]
            + config.distill.cls_weight * distill["distill_cls"] + config.distill.reg_weight * distill["distill_reg"])
    assert torch.isfinite(loss)
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=config.optim.lr,
                                momentum=config.optim.momentum)
    loss.backward()
    optimizer.step()
    moved = {n for n, p in model.named_parameters() if not torch.equal(p.detach(), before[n])}
    assert {"cf1.norm.weight", "cf2.norm.weight", "head.cls_logits.0.weight", "block3.2.conv.7.weight"} <= moved
    assert moved <= names


def test_training_engine_starts_the_v3_recipe_from_v3s_file(tmp_path):
    """``dcffnet train v3-stage2-distill.yaml --set backbone_init=v3.safetensors`` builds the v3
    layout with its BAN head (not stage 2's default CAR head) holding v3's tensors, CF at zero."""
    from safetensors.torch import save_file

    from dcffnet.train import build_model, load_recipe

    state = _fake_v3_state()
    save_file({k: v.contiguous() for k, v in state.items()}, str(tmp_path / "v3.safetensors"))
    config = load_recipe("v3-stage2-distill.yaml", [f"backbone_init={tmp_path / 'v3.safetensors'}"])
    model = build_model(config)
    assert model.config.head == "ban" and model.config.backbone == "nanotrack_v3"
    reference = import_nanotrack_v3(state)
    for name, tensor in reference.state_dict().items():
        assert torch.equal(model.state_dict()[name], tensor), name
    assert float(model.cf1.norm.weight.abs().sum()) == 0.0
