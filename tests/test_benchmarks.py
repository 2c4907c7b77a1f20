"""The benchmark script's measuring function (figures only, never wall-clock assertions)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "model_stats.py"


@pytest.fixture(scope="module")
def model_stats():
    spec = importlib.util.spec_from_file_location("model_stats", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_measure_reports_median_and_range_of_repeats(model_stats):
    row = model_stats.measure("dcffnet_nano", frames=4, timing=True, repeats=3)
    assert row["params_M"] > 0 and row["frame_GFLOPs"] > row["template_GFLOPs"] > 0
    assert row["response"] == "17x17"
    assert row["model_ms"] > 0
    assert 0 < row["e2e_fps_min"] <= row["e2e_fps"] <= row["e2e_fps_max"]


def test_measure_without_timing_has_no_timing_fields(model_stats):
    row = model_stats.measure("dcffnet_nano", frames=4, timing=False)
    assert "e2e_fps" not in row and "model_ms" not in row


def test_measure_rejects_zero_repeats(model_stats):
    with pytest.raises(ValueError, match="repeats"):
        model_stats.measure("dcffnet_nano", frames=4, timing=True, repeats=0)
