"""Hostile checkpoint folders and ONNX bundles (docs/reliability.md, "Untrusted checkpoints and
bundles"): every field of ``config.json`` and ``onnx.json`` replaced by a value of the wrong type,
NaN, infinity, a huge, negative or zero number, a long string, or removed; a key added; graph
file names that leave the folder; broken UTF-8, deep nesting, oversized files. Every refusal is a
``CheckpointError`` naming the file (and, for a field the config check refuses, the field); no
raw ``KeyError`` / ``IndexError`` / ``AttributeError`` / ``OverflowError`` / ``UnicodeDecodeError``
reaches the caller, and no hostile value allocates memory beyond the cap (checked in a subprocess
under an address-space limit).

Examples per property: ``DCFFNET_PROPERTY_EXAMPLES`` (default 30).
"""

from __future__ import annotations

import copy
import json
import math
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from dcffnet.checkpoint import CONFIG_NAME, MAX_JSON_BYTES, CheckpointInfo, bundled_checkpoints  # noqa: E402
from dcffnet.deploy import OnnxNetwork  # noqa: E402
from dcffnet.deploy.onnx_format import read_manifest  # noqa: E402
from dcffnet.errors import CheckpointError  # noqa: E402
from dcffnet.hparams import TrackerHParams  # noqa: E402
from dcffnet.models import DCFFNet, create  # noqa: E402
from dcffnet.models.config import ModelConfig  # noqa: E402
from dcffnet.models.memory import MODEL_MEMORY_CAP_MB, check_buildable, memory_estimate  # noqa: E402

EXAMPLES = int(os.environ.get("DCFFNET_PROPERTY_EXAMPLES", "30"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=EXAMPLES <= 100,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
#: what no hostile file may ever raise (UnicodeDecodeError is a ValueError: checked first)
RAW = (KeyError, IndexError, AttributeError, OverflowError, UnicodeDecodeError, RecursionError, MemoryError)
MISSING = object()
#: one value of each hostile kind; ``MISSING`` removes the field
HOSTILE: dict[str, Any] = {
    "missing": MISSING, "string": "x", "empty string": "", "long string": "x" * 100_000, "list": [1, 2],
    "empty list": [], "mapping": {"a": 1}, "null": None, "bool": True, "nan": math.nan, "inf": math.inf,
    "-inf": -math.inf, "huge int": 10**30, "huge float": 1e308, "negative": -1, "very negative": -1e9,
    "zero": 0, "fraction": 0.5,
}
TRAVERSAL = ["../outside/x.onnx", "../template.onnx", "/etc/passwd", "sub/../../x.onnx", "..\\x.onnx",
             "C:\\x.onnx", ".", "..", "", "template.onnx\x00", "sub/template.onnx"]
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=5,
)


# ------------------------------------------------------------------------------------------ helpers
def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every key path into a JSON value (mappings and lists), the container paths included."""
    out = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            out += _paths(item, prefix + (key,))
    elif isinstance(value, list) and len(value) <= 4:  # short lists (shapes, weights): each item too
        for i, item in enumerate(value):
            out += _paths(item, prefix + (i,))
    return out


def _mutated(data: dict[str, Any], path: tuple, value: Any) -> dict[str, Any]:
    out = copy.deepcopy(data)
    parent = out
    for key in path[:-1]:
        parent = parent[key]
    if value is MISSING:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return out


def _label(path: tuple) -> str:
    return ".".join(str(p) for p in path)


def _field_named(message: str, path: tuple) -> bool:
    """Whether ``message`` names the mutated field: one of its keys (the leaf or a container)."""
    return any(isinstance(key, str) and key in message for key in path)


def _load_checkpoint(folder: Path, path: tuple) -> str:
    """Load ``folder``: ``"loaded"`` or ``"refused"`` (a CheckpointError naming what it must)."""
    try:
        DCFFNet.from_folder(folder)
    except RAW as exc:  # pragma: no cover - the failure this file exists to catch
        raise AssertionError(f"{_label(path)}: raw {type(exc).__name__}: {exc}") from exc
    except CheckpointError as exc:
        message = str(exc)
        assert "\n" not in message, message
        assert CONFIG_NAME in message or "model.safetensors" in message, message
        if f"{CONFIG_NAME}:" in message and "MiB" not in message:  # refused by the config check
            assert _field_named(message, path), f"{_label(path)} not named in: {message}"
        return "refused"
    return "loaded"


def _load_bundle(folder: Path, path: tuple) -> str:
    try:
        OnnxNetwork(folder)
    except RAW as exc:  # pragma: no cover
        raise AssertionError(f"{_label(path)}: raw {type(exc).__name__}: {exc}") from exc
    except CheckpointError as exc:
        message = str(exc)
        assert "\n" not in message and ("onnx.json" in message or ".onnx" in message), message
        return "refused"
    return "loaded"


# ------------------------------------------------------------------------------------------ fixtures
@pytest.fixture
def memory_guard():
    """Loads in this process run under an address-space limit (the current size plus the cap and
    2 GiB of headroom), so a hostile value that slipped through fails here with ``MemoryError``
    instead of exhausting the machine. No-op where ``resource`` or ``/proc`` is missing."""
    try:
        import resource
        with open("/proc/self/status") as fh:
            size = next(int(line.split()[1]) * 1024 for line in fh if line.startswith("VmSize:"))
    except (ImportError, OSError, StopIteration):
        yield
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = size + (MODEL_MEMORY_CAP_MB + 2048) * 2**20
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> tuple[Path, dict[str, Any]]:
    """A small valid checkpoint (tuned values and a calibration included) and its config dict."""
    folder = tmp_path_factory.mktemp("ckpt") / "nano"
    calibration = {"cues": ["score", "peak", "psr"], "weights": [0.1, 0.5, 0.2], "bias": -2.0, "fitted_on": "test"}
    create("dcffnet_nano").save_pretrained(folder, tracker={"lr": 0.2}, training={"sequences": ["a/b/c"]},
                                           metrics={"auc": 0.5}, calibration=calibration)
    return folder, json.loads((folder / CONFIG_NAME).read_text())


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> tuple[Path, dict[str, Any]]:
    """A copy of the bundled default's ONNX export (graphs and manifest) and its manifest dict."""
    source = bundled_checkpoints().get("default")
    if source is None or not (source / "onnx.json").is_file():
        pytest.skip("the bundled default checkpoint with its ONNX export is not installed")
    pytest.importorskip("onnxruntime")
    folder = tmp_path_factory.mktemp("bundle") / "default"
    folder.mkdir()
    for name in ("onnx.json", "template.onnx", "search.onnx"):
        shutil.copyfile(source / name, folder / name)
    return folder, json.loads((folder / "onnx.json").read_text())


def _write_config(folder: Path, data: Any) -> None:
    (folder / CONFIG_NAME).write_text(json.dumps(data))


# ------------------------------------------------------------------------------------------ config.json
def test_every_config_field_mutated_is_loaded_or_refused_naming_it(memory_guard, checkpoint):
    folder, valid = checkpoint
    outcomes = {}
    try:
        for path in _paths(valid):
            if path[0] == "training" and len(path) > 1 and path[1] != "sequences":
                continue  # free-form notes: any value is fine, nothing reads them
            for kind, value in HOSTILE.items():
                _write_config(folder, _mutated(valid, path, value))
                outcomes[_label(path), kind] = _load_checkpoint(folder, path)
    finally:
        _write_config(folder, valid)
    # the checks bite: every typed field refuses NaN, and wrong types, where it is read
    for field in ("model_args.head_channels", "model_args.search_size", "model_args.pixel_std.0",
                  "tracker.redetect_tiles", "tracker.lr", "calibration.bias", "calibration.weights.1"):
        assert outcomes[field, "nan"] == "refused" and outcomes[field, "string"] == "refused", field
        assert outcomes[field, "huge float"] == "refused", field
    assert outcomes["calibration", "empty list"] == "refused"  # was taken as "no calibration"
    assert outcomes["metrics", "mapping"] == "loaded" and outcomes["tracker", "missing"] == "loaded"


@SETTINGS
@given(data=st.data(), value=JSON_VALUES)
def test_any_json_value_in_any_config_field_is_loaded_or_refused(memory_guard, checkpoint, data, value):
    folder, valid = checkpoint
    path = data.draw(st.sampled_from(_paths(valid)), label="field")
    try:
        _write_config(folder, _mutated(valid, path, value))
        _load_checkpoint(folder, path)
    finally:
        _write_config(folder, valid)


@pytest.mark.parametrize("field, value, allowed", [
    ("head_channels", 32768, "[1, 4096]"),
    ("search_size", 60000, "[17, 2048]"),
    ("tower_convs", 10**6, "[0, 64]"),
    ("cf_upsample", 10**6, "[1, 16]"),
    ("stem_channels", [64, 10**9, 64], "[1, 4096]"),
    ("template_size", "127", "[16, 1024]"),
])
def test_model_args_refusals_name_file_field_and_range(memory_guard, checkpoint, field, value, allowed):
    folder, valid = checkpoint
    try:
        _write_config(folder, _mutated(valid, ("model_args", field), value))
        with pytest.raises(CheckpointError) as info:
            DCFFNet.from_folder(folder)
    finally:
        _write_config(folder, valid)
    message = str(info.value)
    assert str(folder / CONFIG_NAME) in message and field in message and allowed in message, message


@pytest.mark.parametrize("field, value, allowed", [
    ("redetect_tiles", 10**6, "[0, 64]"),
    ("redetect_tiles", 1e6, "[0, 64]"),
    ("redetect_growth", math.nan, "[1, 10]"),
    ("lost_after", "15", "[1, 1000000]"),
    ("context", math.inf, "[0, 10]"),
])
def test_tracker_refusals_name_file_field_and_range(memory_guard, checkpoint, field, value, allowed):
    folder, valid = checkpoint
    try:
        _write_config(folder, _mutated(valid, ("tracker", field), value))
        with pytest.raises(CheckpointError) as info:
            DCFFNet.from_folder(folder)
    finally:
        _write_config(folder, valid)
    message = str(info.value)
    assert str(folder / CONFIG_NAME) in message and field in message and allowed in message, message


@pytest.mark.parametrize("content", [
    b"\xff\xfe{\"model_args\": {}}",                   # not UTF-8
    b"{\"model_args\": {\"cf\": \"\xc3\x28\"}}",         # a broken UTF-8 sequence inside a string
    b"[" * 100_000 + b"]" * 100_000,                   # nesting deeper than the parser's stack
    b"{\"model_args\": {}, \"format\": " + b"9" * 5000 + b"}",  # an integer of too many digits
    b"",
    b"null",
])
def test_unreadable_config_json_is_a_checkpoint_error(checkpoint, content):
    folder, valid = checkpoint
    try:
        (folder / CONFIG_NAME).write_bytes(content)
        with pytest.raises(CheckpointError, match=CONFIG_NAME):
            DCFFNet.from_folder(folder)
    finally:
        _write_config(folder, valid)


def test_an_oversized_config_json_is_refused_unread(checkpoint):
    folder, valid = checkpoint
    try:
        with open(folder / CONFIG_NAME, "wb") as fh:  # sparse: no disk used
            fh.truncate(MAX_JSON_BYTES + 1)
        with pytest.raises(CheckpointError, match="more than the"):
            DCFFNet.from_folder(folder)
    finally:
        _write_config(folder, valid)


# ------------------------------------------------------------------------------------------ memory
def test_memory_estimate_counts_the_parameters_exactly():
    for name in ("dcffnet_nano", "dcffnet_tiny", "dcffnet_mobile"):
        for overrides in ({}, {"cf": "first", "template_fusion": "self", "cf_upsample": 3}, {"head": "siamfc"}):
            model = create(name, **overrides)
            count = sum(t.numel() for t in model.state_dict().values())
            assert memory_estimate(model.config).parameters == count, (name, overrides)


@SETTINGS
@given(channels=st.integers(1, 4096), blocks=st.integers(1, 64), size=st.integers(16, 1023),
       tiles=st.integers(0, 64))
def test_every_accepted_configuration_is_under_the_cap(checkpoint, channels, blocks, size, tiles):
    _, valid = checkpoint
    args = {**valid["model_args"], "neck_channels": channels, "head_channels": channels, "gn_groups": 1,
            "block3_blocks": blocks, "template_size": size, "search_size": 2 * size, "template_crop": 0}
    data = {**valid, "model_args": args, "tracker": {"redetect_tiles": tiles}}
    try:
        CheckpointInfo.from_dict(data)
    except CheckpointError as exc:
        assert "MiB" in str(exc) or "template_size" in str(exc), str(exc)
        return
    config = ModelConfig.from_dict(args)
    assert memory_estimate(config, max(1, tiles)).megabytes <= MODEL_MEMORY_CAP_MB
    check_buildable(config, max(1, tiles))


def test_the_cap_refuses_what_the_field_bounds_allow():
    config = ModelConfig(block3_planes=2048, block3_blocks=64)  # every field in range: about 10 GB
    with pytest.raises(ValueError, match="over the 2048 MiB"):
        check_buildable(config)
    with pytest.raises(CheckpointError, match=r"config.json: model_args with tracker.redetect_tiles=9: .*MiB"):
        CheckpointInfo.from_dict({"model_args": config.to_dict()})


_MEMORY_SCRIPT = textwrap.dedent("""
    import json, resource, sys
    import numpy as np
    import torch
    torch.set_num_threads(1)
    import dcffnet
    frame = np.random.default_rng(0).integers(0, 256, (240, 320, 3), dtype=np.uint8)
    valid = dcffnet.Tracker(sys.argv[1], backend="torch")
    valid.init(frame, (100, 80, 40, 40))
    valid.update(frame)
    with open("/proc/self/status") as fh:
        vm = next(int(line.split()[1]) * 1024 for line in fh if line.startswith("VmSize:"))
    limit = vm + int(sys.argv[2]) * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    outcomes = {}
    for folder in sys.argv[3:]:
        try:
            tracker = dcffnet.Tracker(folder, backend="torch")
            tracker.init(frame, (100, 80, 40, 40))
            tracker.update(frame)
            outcomes[folder] = "tracked"
        except BaseException as exc:
            outcomes[folder] = type(exc).__name__
    tracker = dcffnet.Tracker(sys.argv[1], backend="torch")  # still works under the limit
    tracker.init(frame, (100, 80, 40, 40))
    outcomes["valid"] = "tracked" if tracker.update(frame) is not None else "no result"
    print(json.dumps(outcomes))
""")

#: the issue's allocations: ``head_channels`` 32768 (38 GB of weights), ``search_size`` 60000,
#: ``redetect_tiles`` 1e6 (24.5 GB of tiled templates), and a huge CF upsampling factor
_HOSTILE_CONFIGS = {
    "head_channels": ("model_args", {"head_channels": 32768}),
    "search_size": ("model_args", {"search_size": 60000}),
    "redetect_tiles": ("tracker", {"redetect_tiles": 1_000_000}),
    "cf_upsample": ("model_args", {"cf_upsample": 100_000}),
    "block_count": ("model_args", {"block3_blocks": 100_000}),
}


@pytest.mark.skipif(not Path("/proc/self/status").is_file(), reason="needs Linux /proc for the address-space limit")
def test_hostile_configs_allocate_nothing_under_an_address_space_limit(checkpoint, tmp_path):
    pytest.importorskip("resource")
    folder, valid = checkpoint
    folders = []
    for name, (section, changes) in _HOSTILE_CONFIGS.items():
        target = tmp_path / name
        shutil.copytree(folder, target)
        data = copy.deepcopy(valid)
        data[section] = {**(data.get(section) or {}), **changes}
        _write_config(target, data)
        folders.append(str(target))
    env = {**os.environ, "MALLOC_ARENA_MAX": "2", "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-c", _MEMORY_SCRIPT, str(folder), str(MODEL_MEMORY_CAP_MB), *folders],
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    outcomes = json.loads(done.stdout.strip().splitlines()[-1])
    assert outcomes.pop("valid") == "tracked"
    assert outcomes == {f: "CheckpointError" for f in folders}


# ------------------------------------------------------------------------------------------ onnx.json
def _write_manifest(folder: Path, data: Any) -> None:
    (folder / "onnx.json").write_text(json.dumps(data))


def test_every_manifest_field_mutated_is_loaded_or_refused(memory_guard, bundle):
    folder, valid = bundle
    outcomes = {}
    try:
        for path in _paths(valid):
            for kind, value in HOSTILE.items():
                _write_manifest(folder, _mutated(valid, path, value))
                outcomes[_label(path), kind] = _load_bundle(folder, path)
    finally:
        _write_manifest(folder, valid)
    for field in ("format", "template", "search", "template.file", "search.inputs", "template.outputs",
                  "search.inputs.search.2", "search.outputs.cls.3", "template.inputs.template"):
        assert outcomes[field, "missing"] == "refused" and outcomes[field, "string"] == "refused", field
    assert outcomes["sha256", "missing"] == "loaded" and outcomes["input", "missing"] == "loaded"


@SETTINGS
@given(data=st.data(), value=JSON_VALUES)
def test_any_json_value_in_any_manifest_field_is_loaded_or_refused(memory_guard, bundle, data, value):
    folder, valid = bundle
    path = data.draw(st.sampled_from(_paths(valid)), label="field")
    try:
        _write_manifest(folder, _mutated(valid, path, value))
        _load_bundle(folder, path)
    finally:
        _write_manifest(folder, valid)


@pytest.mark.parametrize("name", TRAVERSAL)
@pytest.mark.parametrize("part", ["template", "search"])
def test_graph_files_outside_the_bundle_are_refused(bundle, tmp_path, part, name):
    folder, valid = bundle
    outside = folder.parent / "outside"
    outside.mkdir(exist_ok=True)
    shutil.copyfile(folder / valid[part]["file"], outside / "x.onnx")  # a real graph, reachable by "../"
    data = _mutated(valid, (part, "file"), name)
    data["sha256"] = {**valid["sha256"], name: valid["sha256"][valid[part]["file"]]}
    try:
        _write_manifest(folder, data)
        with pytest.raises(CheckpointError, match=f"{part}.file must be a file name inside the export folder"):
            OnnxNetwork(folder)
    finally:
        _write_manifest(folder, valid)


@pytest.mark.parametrize("content", [b"\xff\xfe{}", b"{\"format\": 1, \"x\": \"\xc3\x28\"}", b"[" * 100_000, b"[]", b""])
def test_unreadable_manifest_is_a_checkpoint_error(bundle, content):
    folder, valid = bundle
    try:
        (folder / "onnx.json").write_bytes(content)
        with pytest.raises(CheckpointError, match="onnx.json"):
            read_manifest(folder)
        with pytest.raises(CheckpointError, match="onnx.json"):
            OnnxNetwork(folder)
    finally:
        _write_manifest(folder, valid)


def test_manifest_shapes_must_match_the_graphs(bundle):
    folder, valid = bundle
    data = _mutated(valid, ("template", "inputs", "template"), [1, 3, 128, 128])
    try:
        _write_manifest(folder, data)
        with pytest.raises(CheckpointError, match="do not match"):
            OnnxNetwork(folder)
    finally:
        _write_manifest(folder, valid)


def test_tracker_defaults_and_presets_stay_valid():
    assert TrackerHParams.from_dict(TrackerHParams().to_dict()) == TrackerHParams()
    default = bundled_checkpoints().get("default")
    if default is not None:
        DCFFNet.from_folder(default)
