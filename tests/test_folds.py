"""Grouped cross-validation: folds keep each source whole; the out-of-fold score of a choice."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from dcffnet.cli import main
from dcffnet.data import Sequence
from dcffnet.eval.folds import choose_out_of_fold, group_folds, sequence_group


def seq(name: str, frames: int, benchmark: str | None) -> Sequence:
    attributes = {} if benchmark is None else {"benchmark": benchmark}
    return Sequence(name, [Path(f"{name}/{i}.jpg") for i in range(frames)], np.zeros((frames, 4)) + 10,
                    attributes=attributes)


def test_folds_keep_each_source_whole_and_balance_frames():
    sequences = ([seq(f"otb{i}", 300, "OTB") for i in range(10)] + [seq(f"uav{i}", 200, "UAV123") for i in range(4)]
                 + [seq(f"dtb{i}", 300, "DTB70") for i in range(3)] + [seq(f"vdt{i}", 400, "UAVDT") for i in range(3)]
                 + [seq("hand", 244, "VOT2013")])
    folds = group_folds(sequences, 3)
    for source in {sequence_group(s) for s in sequences}:
        assert len({int(f) for s, f in zip(sequences, folds) if sequence_group(s) == source}) == 1
    assert sorted(set(folds.tolist())) == [0, 1, 2]
    np.testing.assert_array_equal(group_folds(list(reversed(sequences)), 3), folds[::-1])  # deterministic
    assert sequence_group(seq("lonely", 5, None)) == "lonely"  # no meta.json: a group of one


def test_fold_arguments_are_checked():
    sequences = [seq("a", 5, "X"), seq("b", 5, "X"), seq("c", 5, "Y")]
    with pytest.raises(ValueError, match="at least 3 source groups"):
        group_folds(sequences, 3)
    with pytest.raises(ValueError, match="folds must be an integer >= 2"):
        group_folds(sequences, 1)


def test_out_of_fold_score_uses_the_choice_made_without_the_fold():
    # setting 0 is best overall only because of fold 0; setting 1 is steady
    scores = np.array([[0.9, 0.9, 0.5, 0.5, 0.5, 0.5],
                       [0.6, 0.6, 0.6, 0.6, 0.6, 0.6]])
    folds = np.array([0, 0, 1, 1, 2, 2])
    choice = choose_out_of_fold(scores, folds)
    assert choice.best == 0 and choice.in_sample == pytest.approx(0.6333, abs=1e-3)
    # without fold 0 setting 1 wins (0.6 > 0.5); without fold 1 or 2 setting 0 wins (0.7 > 0.6)
    assert choice.chosen == (1, 0, 0)
    assert choice.fold_scores == pytest.approx((0.6, 0.5, 0.5))
    assert choice.out_of_fold == pytest.approx((0.6 * 2 + 0.5 * 4) / 6)  # below the in-sample 0.633
    with pytest.raises(ValueError, match="settings, sequences"):
        choose_out_of_fold(scores[:, :4], folds)


def _grouped_bench(root: Path) -> Path:
    from test_eval_runner import _frames, _write

    for k, (n, source) in enumerate(((12, "A"), (9, "B"), (10, "C"), (8, "C"))):
        boxes = _frames(root / f"seq{k}" / "img", n, digits=8, ext=".png", moving=k != 1)
        _write(root / f"seq{k}" / "groundtruth.txt", boxes)
        (root / f"seq{k}" / "meta.json").write_text(json.dumps({"benchmark": source}))
    return root


def test_tune_and_calibrate_report_out_of_fold_figures(tmp_path, checkpoint_dir, capsys):
    bench = _grouped_bench(tmp_path / "bench")
    assert main(["tune", "--weights", str(checkpoint_dir), "--dataset", str(bench), "--grid", "lr=0.0,0.5",
                 "penalty_k=0.04", "window_influence=0.3", "--folds", "3", "--out", str(tmp_path / "t.json"), "--save-to", str(tmp_path / "tuned"),
                 "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "2 settings tried; 3-fold cross-validation grouped by source" in out and "out-of-fold AUC" in out
    data = json.loads((tmp_path / "t.json").read_text())
    cv = data["cross_validation"]
    assert cv["folds"] == 3 and cv["settings"] == 2 and sorted(sum(cv["groups"].values(), [])) == ["A", "B", "C"]
    assert 0.0 <= cv["out_of_fold_auc"] <= cv["in_sample_auc"] + 1e-9
    import dcffnet

    tuned = dcffnet.Tracker.from_pretrained(tmp_path / "tuned").checkpoint_info.metrics["tuning"]
    assert tuned["folds"] == 3 and tuned["out_of_fold_auc"] == cv["out_of_fold_auc"] and tuned["settings"] == 2
    assert main(["calibrate", "--weights", str(checkpoint_dir), "--dataset", str(bench), "--folds", "3",
                 "--out", str(tmp_path / "c.json"), "--no-progress"]) == 0
    report = json.loads((tmp_path / "c.json").read_text())
    assert report["cv_folds"] == 3 and 0.0 <= report["ece_cv"] <= 1.0
    assert "3-fold grouped by source" in capsys.readouterr().out
