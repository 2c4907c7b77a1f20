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


def test_dcffnet_bench_prints_every_section(capsys):
    from dcffnet.cli import main

    assert main(["bench", "--configs", "dcffnet_nano", "--frames", "6", "--repeats", "1", "--threads", "1",
                 "--no-busy", "--multi", "1", "3", "--memory", "40"]) == 0
    out = capsys.readouterr().out
    assert "GFLOP/s on 1 thread" in out
    assert "| dcffnet_nano | 1 |" in out and "| default (dcffnet_v3) | 1 |" in out
    assert "| dcffnet default (torch) | 1 | idle |" in out and "| dcffnet default (onnx) | 1 | idle |" in out
    assert "| 3 | 1 |" in out  # three targets, one thread
    assert "| torch | " in out and "| onnx | " in out  # the update profile of both backends
    assert "KiB per frame" in out


def test_memory_stays_flat_over_a_long_run():
    """No growth per frame: 1,500 updates after a 300-frame warm-up add less than 2 KiB per frame."""
    from dcffnet.bench import memory_curve, synthetic_frames
    import dcffnet

    frames, box = synthetic_frames(60)
    curve = memory_curve(lambda: dcffnet.Tracker(), frames, box, total=1800, every=300)
    growth_kib = (curve[-1][1] - curve[1][1]) * 1024 / (curve[-1][0] - curve[1][0])
    assert growth_kib < 2.0, f"resident memory grows {growth_kib:.2f} KiB per frame: {curve}"


@pytest.fixture(scope="module")
def ablation():
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "ablation.py"
    spec = importlib.util.spec_from_file_location("ablation", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_ablation_statistics(ablation):
    import numpy as np

    assert ablation.paired_permutation(np.array([1.0, 1.0, 1.0])) == pytest.approx(0.25)  # exact, 3 pairs
    assert ablation.paired_permutation(np.array([0.1, -0.1])) == pytest.approx(1.0)
    assert ablation.paired_permutation(np.full(20, 0.3)) < 1e-3  # sampled signs beyond 16 pairs
    np.testing.assert_allclose(ablation.smooth(np.array([1.0, 3.0, 5.0, 7.0]), 2), [1.0, 2.0, 4.0, 6.0])
    assert ablation.steps_to_reach(np.array([10, 20, 30]), np.array([3.0, 2.0, 1.0]), 2.0) == 20
    assert np.isnan(ablation.steps_to_reach(np.array([10]), np.array([3.0]), 2.0))


def test_ablation_reads_runs_cut_short(ablation, tmp_path):
    lines = ['{"event": "start"}', '{"event": "step", "epoch": 0, "step": 10, "loss": 3.0}',
             '{"event": "epoch", "epoch": 0, "steps": 20}', '{"event": "step", "epoch": 1, "step": 10, "loss": 2.0}',
             '{"event": "epoch", "epoch": 1, "steps": 20}', '{"event": "step", "epoch": 2, "st']  # killed mid-line
    (tmp_path / "metrics.jsonl").write_text("\n".join(lines))
    assert ablation.epochs_done(tmp_path) == 2
    assert ablation.epochs_done(tmp_path / "missing") == 0
    steps, losses = ablation.loss_curve(tmp_path)
    assert steps.tolist() == [10, 30] and losses.tolist() == [3.0, 2.0]  # epoch 1 starts at step 20


def test_component_costs_runs_every_setting_and_switches_each_component_on(tmp_path, capsys):
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "components.py"
    spec = importlib.util.spec_from_file_location("components_bench", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    import cv2
    import numpy as np

    from dcffnet.hparams import TrackerHParams
    from dcffnet.tracking.components import build_components

    # every setting but "all off" builds exactly one component, a different one each time
    built = [tuple(type(c).__name__ for c in build_components(TrackerHParams(**{**module.OFF, **values})))
             for values in module.SETTINGS.values()]
    assert built[0] == () and all(len(b) == 1 for b in built[1:]) and len(set(built[1:])) == len(built) - 1
    frames = tmp_path / "frames"
    frames.mkdir()
    rng = np.random.default_rng(0)
    for k in range(6):
        image = rng.integers(0, 255, (120, 160, 3), dtype=np.uint8)
        cv2.rectangle(image, (60 + 2 * k, 40), (90 + 2 * k, 80), (0, 0, 255), -1)
        cv2.imwrite(str(frames / f"{k:04d}.png"), image)
    assert module.main(["--video", str(frames), "--box", "60,40,30,40", "--rounds", "1"]) == 0
    out = capsys.readouterr().out
    for name in module.SETTINGS:
        assert f"| {name} |" in out
