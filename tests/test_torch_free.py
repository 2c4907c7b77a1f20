"""``import dcffnet`` and tracking on the ONNX backend run without importing torch (issue 24,
item 6); the PyTorch paths still work and import it when first used."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import dcffnet
from dcffnet.checkpoint import WEIGHTS_NAME
from dcffnet.deploy.onnx_format import file_state_digest, state_digest
from dcffnet.models.registry import config_from_checkpoint

CHILD = r"""
import json, sys
import numpy as np
import dcffnet
out = {"after_import": "torch" in sys.modules}
frame = np.zeros((240, 320, 3), np.uint8)
frame[100:140, 100:140] = 200
tracker = dcffnet.Tracker()
tracker.init(frame, (100, 100, 40, 40))
result = tracker.update(frame)
multi = dcffnet.MultiTracker(backend="onnx")  # (its default, "torch", runs one batched pass)
multi.add(frame, (100, 100, 40, 40))
multi.update(frame)
out["backend"] = tracker.backend
out["after_tracking"] = "torch" in sys.modules
out["box"] = list(result.box)
model = tracker.model  # the PyTorch network: now torch is imported
out["model"] = type(model).__name__
out["after_model"] = "torch" in sys.modules
print(json.dumps(out))
"""


def test_import_and_onnx_tracking_never_import_torch():
    done = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["after_import"] is False
    assert out["backend"] == "onnx" and out["after_tracking"] is False
    assert out["model"] == "DCFFNet" and out["after_model"] is True


def test_lazy_names_resolve_and_unknown_names_raise():
    assert dcffnet.DCFFNet is dcffnet.models.DCFFNet
    assert callable(dcffnet.load_pretrained) and "DCFFNet" in dir(dcffnet)
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        dcffnet.nope  # noqa: B018


@pytest.mark.parametrize("which", ["bundled", "saved"])
def test_digest_from_the_files_equals_the_loaded_networks(which, tmp_path):
    """The torch-free check that an export belongs to a checkpoint computes what the loaded
    network's ``state_digest`` is."""
    if which == "bundled":
        model = dcffnet.DCFFNet.from_pretrained("default")
    else:
        dcffnet.models.create("dcffnet_small").save_pretrained(tmp_path)
        model = dcffnet.DCFFNet.from_pretrained(tmp_path)
    folder = Path(model.checkpoint_info.source)
    assert file_state_digest(config_from_checkpoint(model.checkpoint_info), folder / WEIGHTS_NAME) == state_digest(model)


def test_an_export_of_other_weights_is_not_used_without_torch(tmp_path):
    """A checkpoint folder whose onnx.json names other weights falls back to the PyTorch path."""
    import shutil

    source = Path(dcffnet.DCFFNet.from_pretrained("default").checkpoint_info.source)
    folder = tmp_path / "ckpt"
    shutil.copytree(source, folder)
    manifest = json.loads((folder / "onnx.json").read_text())
    manifest["state_sha256"] = "0" * 64
    (folder / "onnx.json").write_text(json.dumps(manifest))
    tracker = dcffnet.Tracker(folder)
    assert tracker.backend == "torch"  # auto: the export does not match these weights
