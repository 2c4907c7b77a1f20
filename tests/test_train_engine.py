"""The training loop: recipes, both stages end to end, freezing, exact resume after SIGKILL, DDP on CPU."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import yaml
from safetensors.torch import load_file

import dcffnet
from dcffnet.train import list_recipes, load_recipe, train
from train_fixtures import write_annotated_images, write_folder_dataset


def _recipe(tmp_path: Path, **overrides) -> Path:
    data_root = tmp_path / "data"
    if not data_root.exists():
        write_folder_dataset(data_root / "videos", sequences=3, frames=8)
        write_annotated_images(data_root / "stills", images=4)
    recipe = {
        "stage": 1, "architecture": "dcffnet_nano", "model": {"template_size": 63, "search_size": 127},
        "epochs": 2, "batch_size": 4, "seed": 3, "amp": False, "log_every": 1,
        "data": {"data_root": str(data_root), "samples_per_epoch": 8, "val_fraction": 0.0, "val_samples": 0,
                 "num_workers": 0,
                 "datasets": [{"format": "folder", "root": "videos", "weight": 1.0, "frame_range": 3},
                              {"format": "images", "root": "stills", "weight": 1.0}]},
        "augment": {"search_shift": 16},
    }
    for key, value in overrides.items():
        node = recipe
        *parents, last = key.split(".")
        for p in parents:
            node = node[p]
        node[last] = value
    path = tmp_path / f"recipe-{len(list(tmp_path.glob('recipe-*.yaml')))}.yaml"
    path.write_text(yaml.safe_dump(recipe))
    return path


def _epochs(run: Path) -> list[dict]:
    return [r for r in map(json.loads, (run / "metrics.jsonl").read_text().splitlines()) if r["event"] == "epoch"]


def test_shipped_recipes_parse():
    names = list_recipes()
    assert {"paper-stage1.yaml", "paper-stage2.yaml", "cpu-stage1.yaml", "cpu-stage2.yaml"} <= set(names)
    for name in names:
        config = load_recipe(name)
        assert config.optim.momentum == 0.9 and config.optim.weight_decay == 5e-4
    paper1, paper2 = load_recipe("paper-stage1.yaml"), load_recipe("paper-stage2")
    assert (paper1.epochs, paper1.optim.lr, paper1.architecture) == (150, 0.01, "dcffnet_r50")
    assert (paper2.epochs, paper2.optim.milestones, paper2.optim.gamma) == (300, [150, 250], 0.1)
    assert paper2.trainable == ["neck.conv5", "neck.conv6", "head"]
    assert {d.format for d in paper2.data.datasets} == {"coco", "uav123", "lasot"}


def test_recipe_errors_and_overrides(tmp_path):
    path = _recipe(tmp_path)
    config = load_recipe(path, ["epochs=5", "optim.lr=0.002", "data.datasets.0.weight=4"])
    assert config.epochs == 5 and config.optim.lr == 0.002 and config.data.datasets[0].weight == 4
    with pytest.raises(ValueError, match="bogus"):
        load_recipe(path, ["optim.bogus=1"])
    with pytest.raises(ValueError, match="init_from"):
        load_recipe(path, ["stage=2"])
    with pytest.raises(FileNotFoundError, match="shipped recipes"):
        load_recipe("no-such-recipe.yaml")


def test_two_stages_end_to_end(tmp_path):
    stage1 = train(load_recipe(_recipe(tmp_path)), tmp_path / "s1", progress=False)
    records = _epochs(tmp_path / "s1")
    assert [r["epoch"] for r in records] == [0, 1] and all(r["loss"] > 0 for r in records)
    model1, config1 = dcffnet.load_pretrained(stage1)
    assert model1.config.head == "siamfc" and config1["training"]["stage"] == 1

    recipe2 = _recipe(tmp_path, stage=2, init_from=str(stage1), epochs=1)
    stage2 = train(load_recipe(recipe2), tmp_path / "s2", progress=False)
    tracker = dcffnet.Tracker.from_pretrained(stage2)
    assert tracker.model.config.head == "car"
    import numpy as np

    frame = np.random.default_rng(0).integers(0, 255, (72, 96, 3), dtype=np.uint8)
    tracker.init(frame, (20, 20, 24, 20))
    box, score = tracker.update(frame)
    assert 0 <= score <= 1

    # stage 2 trains only conv5, conv6 and the head: every other tensor (BN statistics too) is unchanged
    before, after = load_file(str(stage1 / "model.safetensors")), load_file(str(stage2 / "model.safetensors"))
    trainable = ("neck.conv5.", "neck.conv6.", "head.")
    for key, value in after.items():
        if key.startswith("head."):
            continue
        if key.startswith(trainable):
            continue
        assert torch.equal(value, before[key]), f"frozen tensor {key} changed"
    assert any(not torch.equal(after[k], before[k]) for k in after if k.startswith("neck.conv5.0.weight"))


def test_refuses_to_overwrite_a_run(tmp_path):
    config = load_recipe(_recipe(tmp_path, epochs=1))
    train(config, tmp_path / "run", progress=False)
    with pytest.raises(FileExistsError, match="--resume"):
        train(config, tmp_path / "run", progress=False)


def _cli(args, **kwargs):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-m", "dcffnet", "train", *map(str, args), "--no-progress"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, **kwargs)


@pytest.fixture(scope="module")
def uninterrupted_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("sigkill")
    recipe = _recipe(root, epochs=3, **{"data.samples_per_epoch": 48})
    full = _cli([recipe, "--out", root / "full"])
    assert full.wait(timeout=300) == 0, full.stdout.read().decode()
    return recipe, root / "full"


def _steps(run: Path) -> list[tuple[int, int, float]]:
    records = map(json.loads, (run / "metrics.jsonl").read_text().splitlines())
    return [(r["epoch"], r["step"], r["loss"]) for r in records if r["event"] == "step"]


@pytest.mark.parametrize("kill_epoch,leftovers", [(0, False), (1, False), (1, True)])
def test_resume_after_sigkill_matches_an_uninterrupted_run(tmp_path, uninterrupted_run, kill_epoch, leftovers):
    """SIGKILL inside an epoch (the first: nothing saved yet; the second: one train state saved),
    optionally with the half-written temporary files a kill during a checkpoint write leaves behind,
    then --resume: same weights and the same loss log as a run that was never interrupted."""
    recipe, full = uninterrupted_run
    killed = _cli([recipe, "--out", tmp_path / "killed"])
    metrics = tmp_path / "killed" / "metrics.jsonl"
    deadline = time.time() + 300
    while time.time() < deadline:
        lines = metrics.read_text().splitlines() if metrics.exists() else []
        if any(f'"event": "step", "epoch": {kill_epoch}, "step": 3' in line for line in lines):
            break
        time.sleep(0.02)
    killed.send_signal(signal.SIGKILL)
    killed.wait(timeout=60)
    assert killed.returncode == -signal.SIGKILL
    assert [r["epoch"] for r in _epochs(tmp_path / "killed")] == list(range(kill_epoch)), "the kill must land inside the epoch"
    if leftovers:  # what a kill during the atomic writes leaves: partial temporary files, never a partial target
        (tmp_path / "killed" / ".tmp-abc123.pt").write_bytes(b"PK\x03\x04 half a train state")
        (tmp_path / "killed" / "checkpoint" / ".tmp-def456.safetensors").write_bytes(b"\x08\x00\x00")

    resumed = _cli([recipe, "--out", tmp_path / "killed", "--resume"])
    assert resumed.wait(timeout=300) == 0, resumed.stdout.read().decode()
    assert [r["epoch"] for r in _epochs(tmp_path / "killed")] == [0, 1, 2]
    a = load_file(str(full / "checkpoint" / "model.safetensors"))
    b = load_file(str(tmp_path / "killed" / "checkpoint" / "model.safetensors"))
    assert a.keys() == b.keys()
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=0, atol=1e-6, msg=key)
    loss_full = [r["loss"] for r in _epochs(full)]
    loss_resumed = [r["loss"] for r in _epochs(tmp_path / "killed")]
    assert loss_full == pytest.approx(loss_resumed, abs=1e-6)
    steps_full, steps_resumed = _steps(full), _steps(tmp_path / "killed")
    assert [s[:2] for s in steps_full] == [s[:2] for s in steps_resumed]  # the cut epoch's lines logged once
    assert [s[2] for s in steps_full] == pytest.approx([s[2] for s in steps_resumed], abs=1e-6)


def test_resume_from_a_damaged_train_state_is_a_clear_error(tmp_path):
    recipe = _recipe(tmp_path, epochs=2)
    run = _cli([recipe, "--out", tmp_path / "run"])
    assert run.wait(timeout=300) == 0
    state = tmp_path / "run" / "train_state.pt"
    state.write_bytes(state.read_bytes()[:100])
    resumed = _cli([recipe, "--out", tmp_path / "run", "--resume"])
    assert resumed.wait(timeout=300) != 0
    out = resumed.stdout.read().decode()
    assert "cannot resume" in out and "train_state.pt is unreadable" in out


def test_ddp_with_two_cpu_processes(tmp_path):
    recipe = _recipe(tmp_path, epochs=1, **{"data.samples_per_epoch": 16})
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                             "-m", "dcffnet", "train", str(recipe), "--out",
                             str(tmp_path / "ddp"), "--no-progress", "--set", "device=cpu"],
                            env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    records = json.loads((tmp_path / "ddp" / "metrics.jsonl").read_text().splitlines()[0])
    assert records["world_size"] == 2
    epoch = _epochs(tmp_path / "ddp")[0]
    assert epoch["steps"] == 2  # 16 samples / 2 processes / batch 4
    dcffnet.load_pretrained(tmp_path / "ddp" / "checkpoint")


def test_distill_loss_is_zero_for_matching_directions():
    from torch import nn

    from dcffnet.train.distill import distill_loss

    teacher = torch.randn(2, 4, 3, 3)
    adapter = nn.Conv2d(4, 4, 1, bias=False)
    with torch.no_grad():
        adapter.weight.copy_(torch.eye(4).view(4, 4, 1, 1) * 3.0)  # same direction, other scale
    student = torch.nn.functional.interpolate(teacher, size=(6, 6), mode="nearest")
    assert distill_loss(student, teacher, adapter).item() == pytest.approx(0.0, abs=1e-6)
    assert distill_loss(-student, teacher, adapter).item() == pytest.approx(4.0, abs=1e-5)


TEACHER = Path(__file__).resolve().parents[1].parent / "shared" / "peers" / "models" / "nanotrack_backbone_sim.onnx"


@pytest.mark.skipif(not TEACHER.is_file(), reason="NanoTrack backbone (../shared/peers) not present")
def test_stage1_with_distillation_from_the_nanotrack_backbone(tmp_path):
    recipe = _recipe(tmp_path, epochs=2, distill={"teacher": str(TEACHER), "weight": 0.5})
    config = load_recipe(recipe)
    train(config, tmp_path / "run", progress=False)
    steps = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()
             if '"event": "step"' in line]
    assert all(0.0 <= s["distill"] <= 4.0 for s in steps)
    state = torch.load(tmp_path / "run" / "train_state.pt", weights_only=False)
    assert state["adapter"]["weight"].shape[0] == 48
    model, _ = dcffnet.load_pretrained(tmp_path / "run" / "checkpoint")  # the adapter is not in the checkpoint
    assert not any("adapter" in k for k in model.state_dict())


def test_shipped_recipes_name_no_local_folders():
    from dcffnet.train.config import recipe_path

    for name in list_recipes():
        text = recipe_path(name).read_text()
        assert "../" not in text and "/work" not in text, name
        assert load_recipe(name).data.data_root == "."


def test_stage2_from_the_pretrained_mobile_backbone(tmp_path):
    """backbone_init loads NanoTrack-layout weights, starts the CF outputs at zero, lists the
    training videos in the checkpoint and stores no local paths."""
    from test_mobile_backbone import _layers, _write_graph
    from torch import nn

    from dcffnet.models import create

    source = create("dcffnet_mobile")
    _write_graph(tmp_path / "nt.onnx", [("Gemm" if isinstance(m, nn.Linear) else "Conv",
                                         [m.weight.detach().numpy(), m.bias.detach().numpy()]) for m in _layers(source)])
    recipe = _recipe(tmp_path, stage=2, architecture="dcffnet_mobile", epochs=1, model={},
                     backbone_init=str(tmp_path / "nt.onnx"), trainable=["cf1", "cf2", "neck", "head"])
    ckpt = train(load_recipe(recipe), tmp_path / "m", progress=False)
    model, info = dcffnet.load_pretrained(ckpt)
    for a, b in zip(_layers(source), _layers(model)):  # frozen backbone = the imported weights
        assert torch.equal(a.weight, b.weight)
    training = info["training"]
    assert training["backbone_init"] == "nt.onnx" and training["recipe"]["backbone_init"] == "nt.onnx"
    assert training["recipe"]["data"]["data_root"] == "data"
    assert training["sequences"] == ["videos/group/seq0", "videos/group/seq1", "videos/group/seq2"]
    assert training["image_sets"] == ["stills"]
    with pytest.raises(ValueError, match="backbone: mobilenet"):
        train(load_recipe(_recipe(tmp_path, stage=2, epochs=1, backbone_init=str(tmp_path / "nt.onnx"))),
              tmp_path / "wrong", progress=False)


def test_stage2_checkpoint_lists_the_videos_of_stage1_too(tmp_path):
    """A video that only stage 1 saw is still in the stage-2 checkpoint's training list."""
    stage1 = train(load_recipe(_recipe(tmp_path, epochs=1)), tmp_path / "s1", progress=False)
    recipe2 = _recipe(tmp_path, stage=2, init_from=str(stage1), epochs=1, **{"data.exclude": ["seq1"]})
    _, info = dcffnet.load_pretrained(train(load_recipe(recipe2), tmp_path / "s2", progress=False))
    assert "videos/group/seq1" in info["training"]["sequences"]


def test_response_distill_loss_is_smallest_at_the_teacher():
    from dcffnet.train.distill import response_distill_loss

    torch.manual_seed(0)
    prob = torch.rand(2, 5, 5) * 0.98 + 0.01
    prob[:, 2, 2] = 0.95  # one confident "target" cell per sample
    reg = torch.rand(2, 4, 5, 5) * 20 + 5
    logit = torch.log(prob / (1 - prob))
    matching = {"cls": torch.stack([torch.zeros_like(logit), logit], 1), "reg": reg.clone()}
    best = response_distill_loss(matching, prob, reg)
    assert best["distill_reg"].item() == pytest.approx(0.0, abs=1e-6)
    worse_cls = {"cls": torch.stack([torch.zeros_like(logit), -logit], 1), "reg": reg.clone()}
    worse_reg = {"cls": matching["cls"], "reg": reg * 2.0}
    assert response_distill_loss(worse_cls, prob, reg)["distill_cls"] > best["distill_cls"] + 0.1
    assert response_distill_loss(worse_reg, prob, reg)["distill_reg"] > 0.1
    # no teacher positives: the box term is zero, not NaN
    none = response_distill_loss(matching, prob.clamp(max=0.4), reg)
    assert none["distill_reg"].item() == 0.0 and torch.isfinite(none["distill_cls"])


def test_response_teacher_maps_student_cells_onto_the_teacher_grid(tmp_path):
    from dcffnet.geometry import ResponseGeometry
    from dcffnet.models import create
    from dcffnet.train.distill import NANOTRACK_GEOMETRY, ResponseTeacher

    files = [tmp_path / "b.onnx", tmp_path / "h.onnx"]
    for f in files:
        f.write_bytes(b"")
    student = create("dcffnet_mobile").geometry
    teacher = ResponseTeacher(*files, student=student)
    assert teacher.index.tolist() == list(range(2, 15))
    np_t, np_s = NANOTRACK_GEOMETRY.cell_offsets(), student.cell_offsets()
    assert (np_t[teacher.index] == np_s).all()
    with pytest.raises(ValueError, match="not on the teacher's grid"):
        ResponseTeacher(*files, student=ResponseGeometry(127, 255, 8, 25))
    with pytest.raises(ValueError, match="same crops"):
        ResponseTeacher(*files, student=create("dcffnet_nano").geometry)
    with pytest.raises(FileNotFoundError, match="head"):
        ResponseTeacher(files[0], tmp_path / "missing.onnx", student=student)


HEAD = TEACHER.with_name("nanotrack_head_sim.onnx")


@pytest.mark.skipif(not (TEACHER.is_file() and HEAD.is_file()), reason="NanoTrack ONNX files (../shared/peers) not present")
def test_stage2_with_response_distillation_in_a_worker_across_epochs(tmp_path):
    """The whole NanoTrack tracker as teacher, run in a DataLoader worker; two epochs with a
    validation pass between them (OpenCV in the parent, then a fresh worker) must not hang."""
    pytest.importorskip("onnx")
    recipe = _recipe(tmp_path, stage=2, architecture="dcffnet_mobile", model={}, epochs=2,
                     backbone_init=str(TEACHER), trainable=["cf1", "cf2", "neck", "head"],
                     distill={"teacher": str(TEACHER), "head": str(HEAD), "weight": 0.0})
    cmd = [sys.executable, "-m", "dcffnet", "train", str(recipe), "--out", str(tmp_path / "run"), "--no-progress",
           "--set", "data.num_workers=1", "--set", "data.val_fraction=0.5", "--set", "data.val_samples=4"]
    try:
        subprocess.run(cmd, check=True, timeout=240, capture_output=True)
    except subprocess.TimeoutExpired:
        pytest.fail("training with a response teacher in a DataLoader worker hung")
    epochs = _epochs(tmp_path / "run")
    assert len(epochs) == 2 and all("val_loss" in e for e in epochs)
    assert all(0.0 < e["distill_cls"] < 2.0 and e["distill_reg"] >= 0.0 for e in epochs)
    recipe_saved = dcffnet.load_pretrained(tmp_path / "run" / "checkpoint")[1]["training"]["recipe"]
    assert recipe_saved["distill"]["head"] == "nanotrack_head_sim.onnx"  # no local path in the checkpoint
