"""Checkpoints: save/load round trip, strict loading, checksums, bundled names, and the hub path
against a local hub-compatible HTTP server (huggingface_hub's real download and cache code runs)."""

import json

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

import dcffnet
from dcffnet import CheckpointError, Tracker, WeightsNotFoundError
from dcffnet.hub import load_pretrained, push_to_hub, save_pretrained, sha256_file
from dcffnet.models import create, get_config, list_models


def _outputs(model, seed=0):
    g = torch.Generator().manual_seed(seed)
    z = torch.rand(1, 3, 127, 127, generator=g) * 255
    x = torch.rand(1, 3, 255, 255, generator=g) * 255
    with torch.no_grad():
        return model.eval()(z, x)


def _rewrite_weights(folder, mutate, keep_sha=False):
    state = load_file(str(folder / "model.safetensors"))
    mutate(state)
    save_file(state, str(folder / "model.safetensors"))
    config = json.loads((folder / "config.json").read_text())
    if not keep_sha:
        config["weights_sha256"] = sha256_file(folder / "model.safetensors")
    (folder / "config.json").write_text(json.dumps(config))


def test_save_load_round_trip(tmp_path, tiny_model):
    folder = save_pretrained(tiny_model, tmp_path / "ck", tracker={"lr": 0.2}, metrics={"auc": 0.5})
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "model.safetensors"]
    model, config = load_pretrained(folder)
    torch.testing.assert_close(_outputs(model)["cls"], _outputs(tiny_model)["cls"])
    assert config["architecture"] == "dcffnet_tiny"
    assert config["tracker"]["lr"] == 0.2 and config["metrics"] == {"auc": 0.5}
    assert config["weights_sha256"] == sha256_file(folder / "model.safetensors")
    assert config["input"]["color"] == "bgr"
    assert model.config == tiny_model.config


@pytest.mark.parametrize("name", list_models())
def test_config_json_round_trips_every_model_argument(tmp_path, name):
    overrides = dict(cf="second", template_fusion="self", cf_upsample=3, head="siamfc", siamfc_scale_init=3.0)
    if name == "dcffnet_r50":  # keep the test fast: the paper config round trip with a smaller variant
        overrides.update(block3_blocks=1, block2_blocks=1)
    model = create(name, **overrides)
    save_pretrained(model, tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    assert set(config["model_args"]) == set(get_config(name).to_dict())
    loaded, _ = load_pretrained(tmp_path)
    assert loaded.config == model.config and loaded.architecture == name


def test_missing_key_is_an_error_naming_it(checkpoint_dir):
    _rewrite_weights(checkpoint_dir, lambda s: s.pop("neck.conv6.1.running_var"))
    with pytest.raises(CheckpointError, match=r"missing keys: neck\.conv6\.1\.running_var"):
        load_pretrained(checkpoint_dir)


def test_unexpected_key_is_an_error_naming_it(checkpoint_dir):
    _rewrite_weights(checkpoint_dir, lambda s: s.__setitem__("extra.weight", torch.zeros(3)))
    with pytest.raises(CheckpointError, match=r"unexpected keys: extra\.weight"):
        load_pretrained(checkpoint_dir)


def test_wrong_architecture_is_an_error(tmp_path, checkpoint_dir):
    small = save_pretrained(create("dcffnet_small"), tmp_path / "small")
    (checkpoint_dir / "model.safetensors").write_bytes((small / "model.safetensors").read_bytes())
    config = json.loads((checkpoint_dir / "config.json").read_text())
    config["weights_sha256"] = sha256_file(checkpoint_dir / "model.safetensors")
    (checkpoint_dir / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match="shape mismatches: .*do not match|do not match architecture 'dcffnet_tiny'"):
        load_pretrained(checkpoint_dir)


def test_sha256_mismatch_is_an_error(checkpoint_dir):
    _rewrite_weights(checkpoint_dir, lambda s: s["neck.conv6.0.weight"].mul_(2), keep_sha=True)
    with pytest.raises(CheckpointError, match="sha256"):
        load_pretrained(checkpoint_dir)


def test_corrupt_safetensors_is_an_error(checkpoint_dir):
    path = checkpoint_dir / "model.safetensors"
    path.write_bytes(b"\x00garbage" * 10)
    with pytest.raises(CheckpointError, match="sha256"):
        load_pretrained(checkpoint_dir)
    config = json.loads((checkpoint_dir / "config.json").read_text())
    config.pop("weights_sha256")
    (checkpoint_dir / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match="safetensors"):
        load_pretrained(checkpoint_dir)


def test_bad_config_json(checkpoint_dir):
    (checkpoint_dir / "config.json").write_text("{not json")
    with pytest.raises(CheckpointError, match="JSON"):
        load_pretrained(checkpoint_dir)
    (checkpoint_dir / "config.json").write_text(json.dumps({"model_args": {"cf": "double"}, "architecture": "resnet9000"}))
    with pytest.raises(CheckpointError, match="unknown architecture"):
        load_pretrained(checkpoint_dir)


def test_repo_ids_with_dots_reach_the_hub(local_hub, tmp_path, tiny_model):
    push_to_hub(tiny_model, "org/tiny.v1.5")
    model, _ = load_pretrained("org/tiny.v1.5", cache_dir=tmp_path / "c")
    torch.testing.assert_close(_outputs(model)["cls"], _outputs(tiny_model)["cls"])


def test_unknown_name_and_missing_default(tmp_path, monkeypatch):
    with pytest.raises(WeightsNotFoundError, match="not a checkpoint folder"):
        load_pretrained("no-such-checkpoint")
    with pytest.raises(WeightsNotFoundError, match="not a checkpoint folder"):
        load_pretrained("some/dir/that/does/not/exist")
    # a build of the package without the bundled weights says so instead of a bare "not found"
    monkeypatch.setattr(dcffnet.checkpoint, "BUNDLED_DIR", tmp_path / "empty-weights")
    with pytest.raises(WeightsNotFoundError, match="no default checkpoint"):
        Tracker()


def test_bundled_names_resolve(tmp_path, monkeypatch, tiny_model):
    save_pretrained(tiny_model, tmp_path / "weights" / "mini")
    monkeypatch.setattr(dcffnet.checkpoint, "BUNDLED_DIR", tmp_path / "weights")
    assert list(dcffnet.checkpoint.bundled_checkpoints()) == ["mini"]
    model, config = load_pretrained("mini")
    torch.testing.assert_close(_outputs(model)["reg"], _outputs(tiny_model)["reg"])


# ------------------------------------------------------------------------------------- hub path
def test_push_then_download_from_hub(local_hub, tmp_path, tiny_model):
    commit = push_to_hub(tiny_model, "org/tiny", tracker={"lr": 0.25})
    assert len(commit) == 40
    tracker = Tracker.from_pretrained("org/tiny", cache_dir=tmp_path / "cache")
    assert tracker.hparams.lr == 0.25
    torch.testing.assert_close(_outputs(tracker.model)["cls"], _outputs(tiny_model)["cls"])
    assert any(method == "GET" and "/org/tiny/resolve/main/model.safetensors" in path
               for method, path in local_hub.state.requests)
    # the file landed in huggingface_hub's cache layout
    assert list((tmp_path / "cache").glob("models--org--tiny/snapshots/*/model.safetensors"))


def test_revision_pinning(local_hub, tmp_path):
    first, second = create("dcffnet_tiny"), create("dcffnet_tiny")
    sha1 = push_to_hub(first, "org/pinned")
    sha2 = push_to_hub(second, "org/pinned")
    assert sha1 != sha2
    latest, _ = load_pretrained("org/pinned", cache_dir=tmp_path / "c")
    old, _ = load_pretrained("org/pinned", revision=sha1, cache_dir=tmp_path / "c")
    old_at, _ = load_pretrained(f"org/pinned@{sha1}", cache_dir=tmp_path / "c")
    torch.testing.assert_close(_outputs(latest)["cls"], _outputs(second)["cls"])
    torch.testing.assert_close(_outputs(old)["cls"], _outputs(first)["cls"])
    torch.testing.assert_close(_outputs(old_at)["cls"], _outputs(first)["cls"])
    with pytest.raises(ValueError, match="conflicting"):
        load_pretrained(f"org/pinned@{sha1}", revision=sha2)


def test_push_existing_folder(local_hub, tmp_path, checkpoint_dir):
    push_to_hub(checkpoint_dir, "org/folder")
    model, config = load_pretrained("org/folder", cache_dir=tmp_path / "c")
    assert config["tracker"]["lr"] == 0.5


def test_repo_not_found(local_hub, tmp_path):
    with pytest.raises(WeightsNotFoundError, match="not found"):
        load_pretrained("org/missing", cache_dir=tmp_path / "c")


def test_revision_not_found(local_hub, tmp_path, tiny_model):
    push_to_hub(tiny_model, "org/rev")
    with pytest.raises(WeightsNotFoundError, match="revision 'v9'"):
        load_pretrained("org/rev", revision="v9", cache_dir=tmp_path / "c")


def test_repo_without_checkpoint_files(local_hub, tmp_path):
    local_hub.state.create_repo("org/empty")
    with pytest.raises(CheckpointError, match="config.json"):
        load_pretrained("org/empty", cache_dir=tmp_path / "c")


def test_offline_with_empty_cache(local_hub, tmp_path, tiny_model, monkeypatch):
    push_to_hub(tiny_model, "org/off")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(WeightsNotFoundError, match="HF_HUB_OFFLINE"):
        load_pretrained("org/off", cache_dir=tmp_path / "empty-cache")
    assert not any("org/off/resolve" in path for _, path in local_hub.state.requests)


def test_offline_uses_the_cache(local_hub, tmp_path, tiny_model, monkeypatch):
    push_to_hub(tiny_model, "org/cached")
    load_pretrained("org/cached", cache_dir=tmp_path / "c")
    local_hub.close()  # the hub is gone
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    model, _ = load_pretrained("org/cached", cache_dir=tmp_path / "c")
    torch.testing.assert_close(_outputs(model)["cls"], _outputs(tiny_model)["cls"])


def test_unreachable_hub_with_empty_cache(monkeypatch, tmp_path):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    with pytest.raises(WeightsNotFoundError, match="could not be reached"):
        load_pretrained("org/any", cache_dir=tmp_path / "c")


def test_tracker_save_pretrained_keeps_hparams(tmp_path, tiny_model):
    tracker = Tracker(model=tiny_model, hparams="otb")
    tracker.save_pretrained(tmp_path / "t")
    assert Tracker.from_pretrained(tmp_path / "t").hparams == dcffnet.get_preset("otb")
    frame = np.zeros((100, 100, 3), np.uint8)
    frame[40:60, 40:60] = 255
    a = Tracker(model=tiny_model, hparams="otb")
    b = Tracker.from_pretrained(tmp_path / "t")
    a.init(frame, (40, 40, 20, 20))
    b.init(frame, (40, 40, 20, 20))
    assert a.update(frame) == b.update(frame)


# ------------------------------------------------------------------ the network's own HF-style methods
def test_network_save_and_from_pretrained_carry_the_tuned_values(tmp_path):
    from dcffnet import DCFFNet, TrackerHParams

    model = create("dcffnet_tiny").eval()
    tuned = TrackerHParams(penalty_k=0.12, window_influence=0.4, lr=0.2, size_calibration=0.5)
    model.save_pretrained(tmp_path / "ckpt", tracker=tuned, training={"sequences": ["videos/otb/Bolt"]})
    loaded = DCFFNet.from_pretrained(tmp_path / "ckpt")
    assert loaded.config == model.config and not loaded.training
    for a, b in zip(model.state_dict().values(), loaded.state_dict().values()):
        assert torch.equal(a, b)
    info = loaded.checkpoint_info
    assert info.tracker == tuned and info.training_sequences == ["videos/otb/Bolt"]
    assert info.source == str(tmp_path / "ckpt")
    # every loader hands the tuned values to a tracker built on the network, without passing them
    assert Tracker(model=loaded).hparams == tuned
    assert Tracker(model=loaded, hparams="otb").hparams == dcffnet.get_preset("otb")
    assert Tracker(model=create("dcffnet_tiny")).hparams == dcffnet.get_preset("default")
    _, config = load_pretrained(tmp_path / "ckpt")
    assert config["tracker"] == tuned.to_dict() and config["source"] == str(tmp_path / "ckpt")


def test_checkpoint_info_round_trip_and_refusals():
    from dcffnet.checkpoint import FORMAT_VERSION, CheckpointInfo

    model = create("dcffnet_tiny")
    info = model._info(dcffnet.TrackerHParams(lr=0.1), {"stage": 2}, {"auc": 0.5})
    again = CheckpointInfo.from_dict(info.to_dict())
    assert again.to_dict() == info.to_dict() and again.tracker.lr == 0.1
    with pytest.raises(CheckpointError, match="newer than this dcffnet"):
        CheckpointInfo.from_dict({**info.to_dict(), "format": FORMAT_VERSION + 1})
    with pytest.raises(CheckpointError, match="invalid tracker"):
        CheckpointInfo.from_dict({**info.to_dict(), "tracker": {"lr": 0.1, "speed": 2}})
    with pytest.raises(CheckpointError, match="model_args"):
        CheckpointInfo.from_dict({"format": 1})


def test_tracker_save_pretrained_round_trip(tmp_path):
    tracker = Tracker(model=create("dcffnet_tiny"), hparams={"lr": 0.15})
    tracker.save_pretrained(tmp_path / "t", metrics={"note": "x"})
    again = Tracker.from_pretrained(tmp_path / "t")
    assert again.hparams == tracker.hparams and again.checkpoint_info.metrics == {"note": "x"}
