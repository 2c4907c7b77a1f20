"""Shared fixtures: small models, synthetic frames, a checkpoint folder, a local hub server."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))

from hub_server import LocalHub  # noqa: E402

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


@pytest.fixture(autouse=True)
def _seed_and_threads():
    torch.manual_seed(0)
    np.random.seed(0)
    yield


@pytest.fixture
def tiny_model():
    from dcffnet.models import create

    return create("dcffnet_tiny").eval()


@pytest.fixture
def checkpoint_dir(tmp_path, tiny_model):
    from dcffnet.hub import save_pretrained

    return save_pretrained(tiny_model, tmp_path / "ckpt", tracker={"lr": 0.5}, training={"note": "random init"})


@pytest.fixture
def textured_frame():
    rng = np.random.default_rng(1)
    small = rng.integers(0, 256, (60, 80, 3), dtype=np.uint8)
    import cv2

    return cv2.resize(small, (320, 240), interpolation=cv2.INTER_LINEAR)


@pytest.fixture
def local_hub(monkeypatch, tmp_path):
    """A hub-compatible server on 127.0.0.1; HF_ENDPOINT points at it, the cache lives in tmp_path."""
    hub = LocalHub()
    monkeypatch.setenv("HF_ENDPOINT", hub.url)
    monkeypatch.setenv("HF_TOKEN", "hf_test_token_for_local_server")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub-cache"))
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    yield hub
    hub.close()


@pytest.fixture(scope="session", autouse=True)
def _frame_cache(tmp_path_factory):
    """Video frames decoded by the readers go to a per-run folder, never the user's cache."""
    import os

    old = os.environ.get("DCFFNET_FRAME_CACHE")
    os.environ["DCFFNET_FRAME_CACHE"] = str(tmp_path_factory.mktemp("frame-cache"))
    yield
    if old is None:
        os.environ.pop("DCFFNET_FRAME_CACHE", None)
    else:
        os.environ["DCFFNET_FRAME_CACHE"] = old
