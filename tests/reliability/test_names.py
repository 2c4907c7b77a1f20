"""Checkpoint names and command-line values (docs/reliability.md, "Untrusted checkpoints and
bundles"): a weights argument that is no name at all (``123``, ``""``), a name that can only be a
path but is no folder (it fails at once, saying so, without asking the hub), hub ids the hub would
refuse (``WeightsNotFoundError``, never ``huggingface_hub``'s ``HFValidationError``), hub failures
that say what was tried, and bad ``--format`` / ``export`` values: one line naming the value and
the allowed form.

Hub cases run against the local hub server (``tests/hub_server.py``); a name that must not reach
the hub is checked by the server's request log staying empty.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import dcffnet
from dcffnet.checkpoint import resolve_checkpoint
from dcffnet.cli import main
from dcffnet.errors import WeightsNotFoundError
from dcffnet.hub import save_pretrained

RAW_HUB_ERRORS = ("HFValidationError", "HfHubHTTPError", "LocalEntryNotFoundError")


def _hub_requests(hub) -> list:
    return [path for _, path in hub.state.requests if "/resolve/" in path or "/api/" in path]


@pytest.mark.parametrize("weights, error, shown", [
    (123, TypeError, "got 123 (int)"),
    (12.5, TypeError, "got 12.5 (float)"),
    (b"org/name", TypeError, "bytes"),
    (["default"], TypeError, "list"),
    ("", ValueError, "got ''"),
    ("   ", ValueError, "got '   '"),
    ("org/name\x00", ValueError, "org/name"),
])
def test_a_weights_argument_that_is_no_name_is_a_one_line_error(local_hub, weights, error, shown):
    with pytest.raises(error) as info:
        dcffnet.Tracker(weights)
    message = str(info.value)
    assert "\n" not in message and shown in message and "'org/name[@revision]'" in message, message
    assert not _hub_requests(local_hub)


@pytest.mark.parametrize("name", [
    "./wieghts/run1", "../wieghts/run1", "wieghts/run1/", "a/b/c", "/no/such/dcffnet/folder",
    "~/no-such-dcffnet-folder", "~nosuchuser-dcffnet/run1", "checkpoint.safetensors", "runs/exp9",
    "x" * 5000, "weights\\run1",
])
def test_a_path_like_name_that_is_no_folder_fails_at_once(local_hub, tmp_path, monkeypatch, name):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "runs" / "exp1").mkdir(parents=True)  # "runs/exp9": the folder exists, the run does not
    with pytest.raises(WeightsNotFoundError) as info:
        resolve_checkpoint(name)
    message = str(info.value)
    assert "is not a checkpoint folder" in message and "\n" not in message, message
    assert "no folder" in message or "is a file" in message, message
    assert not _hub_requests(local_hub), "a path-like name was sent to the hub"


def test_a_path_object_is_always_a_local_folder(local_hub, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(WeightsNotFoundError, match="no folder .*wieghts/run1 exists"):
        dcffnet.Tracker(Path("./wieghts/run1"))  # Path drops the "./": it used to become a hub id
    assert not _hub_requests(local_hub)


def test_the_nearest_existing_folder_is_listed_for_a_typo(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "weights" / "run1").mkdir(parents=True)
    with pytest.raises(WeightsNotFoundError, match="holding: run1"):
        resolve_checkpoint("./weights/run2")


def test_a_file_inside_a_checkpoint_points_at_its_folder(checkpoint_dir, local_hub):
    with pytest.raises(WeightsNotFoundError, match=f"its folder {checkpoint_dir} is one"):
        resolve_checkpoint(checkpoint_dir / "config.json")
    with pytest.raises(WeightsNotFoundError, match="is a file"):
        resolve_checkpoint(str(checkpoint_dir / "model.safetensors"))
    assert not _hub_requests(local_hub)


@pytest.mark.parametrize("name, why", [
    ("org/a--b", "no '--'"),
    ("org/a..b", "no '--' or '..'"),
    ("org/name.git", "'.git'"),
    ("org/name-", "not starting or ending"),
    ("org/-name", "not starting or ending"),
    ("org/.name", "not starting or ending"),
    ("org/" + "n" * 97, "1-96"),
    ("org/na me", "letters, digits"),
    ("org/näme", "letters, digits"),
    ("just-a-name", "form 'org/name'"),
])
def test_hub_ids_the_hub_would_refuse_are_refused_here(local_hub, tmp_path, monkeypatch, name, why):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(WeightsNotFoundError) as info:
        resolve_checkpoint(name)
    message = str(info.value)
    assert type(info.value).__name__ not in RAW_HUB_ERRORS and why in message and "\n" not in message, message
    assert not _hub_requests(local_hub)


@pytest.mark.parametrize("name, revision, match", [
    ("org/name@", None, "nothing follows '@'"),
    ("org/name", "", "revision must be"),
    ("org/name", 3, "revision must be"),
    ("org/name@main", "dev", "conflicting revisions"),
])
def test_bad_revisions_are_value_errors(local_hub, name, revision, match):
    with pytest.raises(ValueError, match=match):
        resolve_checkpoint(name, revision=revision)
    assert not _hub_requests(local_hub)


def test_a_hub_failure_says_what_was_tried(local_hub, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(WeightsNotFoundError) as info:
        resolve_checkpoint("wieghts/run1")  # could be a hub id: asked, and not found there
    message = str(info.value)
    assert "was not found" in message and "tried:" in message and str(tmp_path / "wieghts" / "run1") in message
    assert local_hub.url in message and "bundled name" in message, message


def test_offline_the_message_says_what_was_tried(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "cache"))
    with pytest.raises(WeightsNotFoundError) as info:
        resolve_checkpoint("wieghts/run1")
    message = str(info.value)
    assert "HF_HUB_OFFLINE" in message and "tried:" in message and "none exists" in message, message


def test_folders_and_hub_ids_still_resolve(local_hub, tmp_path, monkeypatch, tiny_model):
    save_pretrained(tiny_model, tmp_path / "runs" / "exp1")
    monkeypatch.chdir(tmp_path)
    assert resolve_checkpoint("runs/exp1") == Path("runs/exp1")
    assert resolve_checkpoint(Path("runs") / "exp1") == Path("runs/exp1")
    dcffnet.push_to_hub(tiny_model, "org/tiny_v1.5")
    assert (resolve_checkpoint("org/tiny_v1.5@main", cache_dir=tmp_path / "c") / "config.json").is_file()


# ------------------------------------------------------------------------------------------ command line
def _run(argv: list[str], capsys) -> tuple[int, str]:
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own refusals
        code = exc.code
    err = capsys.readouterr().err
    assert "Traceback" not in err, err
    return code, err.strip().splitlines()[-1] if err.strip() else ""


@pytest.mark.parametrize("command", [
    ["eval", "--dataset", "DATA", "--out", "OUT"],
    ["tune", "--weights", "default", "--dataset", "DATA"],
    ["calibrate", "--weights", "default", "--dataset", "DATA"],
])
def test_a_bad_format_is_a_one_line_error(tmp_path, capsys, command):
    argv = [str(tmp_path / a) if a in ("DATA", "OUT") else a for a in command]
    (tmp_path / "DATA").mkdir()
    code, last = _run([*argv, "--format", "1"], capsys)
    assert code == 2 and "'1'" in last and "folder" in last, last


@pytest.mark.parametrize("opset", ["5", "99", "-1", "10", "21"])
def test_export_refuses_an_opset_out_of_range_before_loading(tmp_path, capsys, opset, monkeypatch):
    monkeypatch.setattr(dcffnet.models.DCFFNet, "from_pretrained", None)  # reached only if the check is late
    code, last = _run(["export", "default", "--onnx", str(tmp_path / "out"), "--opset", opset], capsys)
    assert code == 2 and f"got {opset}" in last and "[11, 20]" in last, last
    assert not (tmp_path / "out").exists()


def test_export_refuses_a_folder_it_cannot_write_before_loading(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(dcffnet.models.DCFFNet, "from_pretrained", None)
    (tmp_path / "a-file").write_text("not a folder")
    target = tmp_path / "a-file" / "out"
    code, last = _run(["export", "default", "--onnx", str(target)], capsys)
    assert code == 2 and str(target) in last and "cannot write" in last, last


def test_export_api_checks_the_same(tmp_path, tiny_model):
    from dcffnet.deploy import export_onnx

    with pytest.raises(ValueError, match=r"opset must be an integer in \[11, 20\], got 99"):
        export_onnx(tiny_model, tmp_path / "out", opset=99)
    with pytest.raises(TypeError, match="opset"):
        export_onnx(tiny_model, tmp_path / "out", opset="17")
    (tmp_path / "f").write_text("")
    with pytest.raises(ValueError, match="cannot write the ONNX export"):
        export_onnx(tiny_model, tmp_path / "f" / "out")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("name", ["x" * 5000, "a\x00b"])
def test_export_refuses_a_name_the_system_cannot_use(tmp_path, capsys, monkeypatch, tiny_model, name):
    """A name too long to look up, or holding a NUL: a raw OSError / "embedded null byte" before."""
    from dcffnet.deploy import export_onnx

    monkeypatch.setattr(dcffnet.models.DCFFNet, "from_pretrained", None)
    code, last = _run(["export", "default", "--onnx", str(tmp_path / name)], capsys)
    assert code == 2 and "cannot write the ONNX export" in last, last
    with pytest.raises(ValueError, match="cannot write the ONNX export"):
        export_onnx(tiny_model, tmp_path / name)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("weights", ["run\r1", "run\n1", "run\x1b[2J1"])
def test_an_error_quoting_a_control_character_stays_one_line(tmp_path, capsys, monkeypatch, weights):
    """Messages quote values as given (``no folder .../run\r1``): the command line escapes them."""
    import cv2
    import numpy as np

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    (tmp_path / "frames").mkdir()
    cv2.imwrite(str(tmp_path / "frames" / "0.png"), np.zeros((16, 16, 3), np.uint8))
    code = main(["track", str(tmp_path / "frames"), "--box", "1,1,5,5", "--weights", weights, "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2 and len(err.splitlines()) == 1 and repr(weights)[1:-1] in err, err


def test_argparse_refusals_are_one_line_naming_the_help(capsys):
    code, last = _run(["track", "x", "--box", "1,2,3"], capsys)
    assert code == 2 and "--box must be x,y,w,h" in last and "'dcffnet track --help'" in last, last
