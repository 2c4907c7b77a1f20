"""Score calibration: the logistic fit, its measures, storage in checkpoints; TrackResult's state."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from dcffnet.tracking.calibration import (ScoreCalibration, cue_vector, expected_calibration_error, fit_calibration,
                                          peak_to_sidelobe, reliability_table)
from dcffnet.tracking.tracker import TrackResult, TrackState


def _synthetic(n: int = 4000, seed: int = 0):
    rng = np.random.default_rng(seed)
    score = rng.uniform(0.3, 0.9999, n)
    peak = np.maximum(score, rng.uniform(0.3, 0.9999, n))
    psr = rng.uniform(0, 12, n)
    cues = np.stack([score, peak, psr], 1)
    true = ScoreCalibration((1.2, 0.3, 0.25), -4.0)
    labels = (rng.random(n) < true(cues)).astype(float)
    return cues, labels, true


def test_fit_recovers_a_known_logistic_and_is_calibrated():
    cues, labels, true = _synthetic()
    fitted = fit_calibration(cues, labels)
    np.testing.assert_allclose(fitted.weights, true.weights, atol=0.15)
    assert abs(fitted.bias - true.bias) < 0.5
    assert expected_calibration_error(fitted(cues), labels) < 0.03
    # the raw score taken as a probability is not calibrated here
    assert expected_calibration_error(cues[:, 0], labels) > 0.1


def test_reliability_table_and_ece():
    probs = np.array([0.05, 0.05, 0.95, 0.95, 0.55])
    labels = np.array([0, 0, 1, 1, 0])
    rows = reliability_table(probs, labels, bins=10)
    assert [r["count"] for r in rows] == [2, 1, 2]
    assert expected_calibration_error(probs, labels) == pytest.approx((2 * 0.05 + 0.55 + 2 * 0.05) / 5)


def test_calibration_round_trip_and_bad_input():
    cal = ScoreCalibration((1.0, 0.5, 0.1), -1.0, "val")
    again = ScoreCalibration.from_dict(cal.to_dict())
    assert again == cal
    assert 0.0 < cal({"score": 0.9, "peak": 0.95, "psr": 5.0}) < 1.0
    with pytest.raises(ValueError, match="cues"):
        ScoreCalibration.from_dict({"cues": ["score"], "weights": [1.0], "bias": 0.0})
    with pytest.raises(ValueError, match="finite"):
        ScoreCalibration((1.0, float("nan"), 0.0), 0.0)
    with pytest.raises(ValueError, match="all the same"):
        fit_calibration(np.ones((5, 3)) * 0.5, np.ones(5))
    assert cue_vector({"score": 0.5, "peak": 0.5, "psr": 2.0}).tolist() == [0.0, 0.0, 2.0]


def test_peak_to_sidelobe():
    flat = np.full((13, 13), 0.5)
    assert peak_to_sidelobe(flat) == 0.0
    sharp = np.random.default_rng(0).uniform(0, 0.1, (13, 13))
    sharp[6, 6] = 1.0
    assert peak_to_sidelobe(sharp) > 20.0


def test_track_result_unpacks_as_a_pair_and_carries_its_state():
    r = TrackResult((1.0, 2.0, 3.0, 4.0), 0.25, TrackState.LOST)
    box, score = r
    assert box == (1.0, 2.0, 3.0, 4.0) and score == 0.25 and r.lost and r.state is TrackState.LOST
    assert TrackResult((0.0, 0.0, 1.0, 1.0), 0.9).state is TrackState.TRACKING
    again = pickle.loads(pickle.dumps(r))
    assert again == r and again.state is TrackState.LOST and "lost" in repr(r)
    assert TrackResult((0, 0, 1, 1), 0.5, "uncertain").state is TrackState.UNCERTAIN
