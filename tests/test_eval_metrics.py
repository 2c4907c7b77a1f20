"""Metrics on hand-computed toy trajectories: OPE, GOT-10k, VOT accuracy / robustness / EAO, overlaps."""

import numpy as np
import pytest

from dcffnet.eval.metrics import got10k_scores, iou, ope_scores, summarize_ope
from dcffnet.eval.vot import FAIL, INIT, SKIP, SupervisedRun, accuracy_robustness, eao_curve, eao_score, region_overlap

GT = np.array([[0, 0, 10, 10]] * 4, dtype=float)
PRED = np.array([[0, 0, 10, 10], [5, 0, 10, 10], [20, 20, 10, 10], [0, 0, 10, 10]], dtype=float)


def test_iou_values():
    np.testing.assert_allclose(iou(PRED, GT), [1.0, 1 / 3, 0.0, 1.0])


def test_ope_scores_by_hand():
    s = ope_scores(PRED, GT)
    # success: IoU > 0 for 3/4 frames up to t=0.30 (7 thresholds), 2/4 for t=0.35..0.95 (13), 0 at t=1
    assert s["auc"] == pytest.approx((7 * 0.75 + 13 * 0.5 + 0) / 21)
    assert s["precision"] == pytest.approx(0.75)      # errors 0, 5, 28.3, 0 px
    assert s["norm_precision"] == pytest.approx(0.5)  # 0, 0.5, 2.83, 0


def test_missing_ground_truth_counts_as_failure_and_stays_in_the_denominator():
    gt = GT.copy()
    gt[3] = np.nan
    s = ope_scores(PRED, gt)
    assert s["auc"] == pytest.approx((7 * 0.5 + 13 * 0.25) / 21)
    assert s["precision"] == pytest.approx(0.5)


def test_summary_averages_sequences_equally():
    a, b = ope_scores(PRED, GT), ope_scores(GT, GT)
    total = summarize_ope({"a": a, "b": b})
    assert total["auc"] == pytest.approx((a["auc"] + b["auc"]) / 2)
    assert ope_scores(GT, GT)["auc"] == pytest.approx(20 / 21)  # IoU 1 fails only at t = 1


def test_got10k_ao_and_sr():
    s = got10k_scores([PRED], [GT])  # the first frame is excluded: IoUs 1/3, 0, 1
    assert s["ao"] == pytest.approx(4 / 9) and s["sr50"] == pytest.approx(1 / 3) and s["sr75"] == pytest.approx(1 / 3)
    s = got10k_scores([PRED], [GT], [np.array([8, 8, 0, 8])])  # frame 2 fully covered
    assert s["ao"] == pytest.approx(2 / 3) and s["sr50"] == pytest.approx(0.5)


def _toy_run():
    run = SupervisedRun("toy")
    run.entries = [INIT, "b", "b", "b", FAIL, SKIP, SKIP, SKIP, SKIP, INIT, "b"]
    run.overlaps = np.array([np.nan, 0.5, 0.7, 0.9, np.nan, np.nan, np.nan, np.nan, np.nan, np.nan, 0.6])
    return run


def test_accuracy_and_robustness_by_hand():
    r = accuracy_robustness([_toy_run()], burnin=2)
    assert r["accuracy"] == pytest.approx((0.7 + 0.9) / 2)  # frames 0-1 and 9-10 are burn-in
    assert r["failures"] == 1 and r["robustness"] == pytest.approx(100 / 11)


def test_eao_by_hand():
    curve = eao_curve([_toy_run()])
    # fragments [0, .5, .7, .9] (failed: zero-padded) and [0, .6] (ended: masked after its length)
    np.testing.assert_allclose(curve[1:], [(0.5 + 0.6) / 2, 0.6, 0.7])
    assert eao_score([_toy_run()], low=1, high=3) == pytest.approx((0.55 + 0.6 + 0.7) / 3)
    assert np.isnan(eao_score([_toy_run()], low=100, high=356))


def test_failed_fragment_counts_zeros_after_the_failure():
    run = SupervisedRun("short")
    run.entries = [INIT, "b", FAIL, SKIP, SKIP, SKIP, SKIP, INIT, "b", "b", "b"]
    run.overlaps = np.array([np.nan, 1.0, np.nan, np.nan, np.nan, np.nan, np.nan, np.nan, 0.5, 0.5, 0.5])
    curve = eao_curve([run])
    assert curve[3] == pytest.approx((1 / 3 + 0.5) / 2)  # [1, 0, 0] vs [.5, .5, .5]


def test_region_overlap():
    box = np.array([0, 0, 10, 10.0])
    square = np.array([0, 0, 10, 0, 10, 10, 0, 10.0])
    assert region_overlap(box, square) == pytest.approx(1.0)
    diamond = np.array([5, 0, 10, 5, 5, 10, 0, 5.0])  # area 50, inside the box
    assert region_overlap(box, diamond) == pytest.approx(0.5)
    assert region_overlap(np.array([20, 20, 5, 5.0]), square) == 0.0
    # bounded to a 5x5 image: both regions become the 5x5 square
    assert region_overlap(np.array([0, 0, 10, 10.0]), np.array([0, 0, 5, 5.0]), bounds=(5, 5)) == pytest.approx(1.0)


def test_auroc_on_hand_made_scores():
    from dcffnet.eval.metrics import auroc

    assert auroc([0.9, 0.8], [0.1, 0.2]) == 1.0
    assert auroc([0.1], [0.9]) == 0.0
    assert auroc([0.5, 0.5], [0.5]) == 0.5  # ties count half
    assert auroc([0.9, 0.3], [0.5, 0.1]) == 0.75  # 3 of 4 pairs ordered right
    assert np.isnan(auroc([], [0.1]))


def test_score_separation_uses_iou_classes_and_skips_frame_zero():
    from dcffnet.eval.metrics import score_separation

    gt = np.array([[0, 0, 10, 10]] * 5, dtype=float)
    gt[4] = np.nan  # absent target: not counted
    pred = np.array([[0, 0, 10, 10], [0, 0, 10, 10], [1, 1, 10, 10], [50, 50, 10, 10], [0, 0, 10, 10]], dtype=float)
    scores = np.array([0.0, 0.9, 0.7, 0.2, 0.99])
    out = score_separation([pred], [gt], [scores])
    assert out["frames_on_target"] == 2 and out["frames_off_target"] == 1
    assert out["score_on_target"] == pytest.approx(0.8) and out["score_off_target"] == pytest.approx(0.2)
    assert out["score_auroc"] == 1.0


def test_long_term_scores_reward_reporting_absence():
    from dcffnet.eval.metrics import long_term_scores

    gt = np.array([[10, 10, 20, 20]] * 10, dtype=float)
    gt[4:7] = np.nan  # the target is absent in frames 4-6
    perfect = np.nan_to_num(gt, nan=0.0) + np.where(np.isnan(gt), [[10, 10, 20, 20]], 0.0)
    honest = np.where(np.isnan(gt[:, 0]), 0.1, 0.9)
    honest[0] = 1.0
    confident = np.full(10, 0.9)
    good = long_term_scores([perfect], [gt], [honest])
    assert good["f_score"] == pytest.approx(1.0) and good["precision"] == pytest.approx(1.0)
    blind = long_term_scores([perfect], [gt], [confident])
    assert blind["recall"] == pytest.approx(1.0) and blind["precision"] == pytest.approx(6 / 9)
    assert blind["f_score"] < good["f_score"]
    assert np.isnan(long_term_scores([perfect[:3]], [np.full((3, 4), np.nan)], [honest[:3]])["f_score"])
