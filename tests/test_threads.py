"""threads="auto": the ThreadChooser's schedule and choice (synthetic timings, no wall clock)."""

from __future__ import annotations

import numpy as np
import pytest

from dcffnet.tracking.threads import ThreadChooser, thread_candidates


def drive(chooser: ThreadChooser, cost: dict[int, float], calls: int) -> list[int]:
    """Run ``calls`` network calls whose time at n threads is ``cost[n]``; the counts used."""
    used = []
    for _ in range(calls):
        n = chooser.current
        used.append(n)
        chooser.record(n, cost[n])
    return used


def test_candidates_cover_one_two_four_and_all_cores():
    assert thread_candidates(1) == (1,)
    assert thread_candidates(2) == (1, 2)
    assert thread_candidates(3) == (1, 2, 3)
    assert thread_candidates(16) == (1, 2, 4, 16)
    assert thread_candidates()[0] == 1
    with pytest.raises(ValueError, match="cpus"):
        thread_candidates(0)


def test_probe_then_run_at_the_fastest():
    chooser = ThreadChooser((1, 2), period=10, probe=3)
    used = drive(chooser, {1: 4e-3, 2: 3e-3}, 3 + 3 + 10)
    assert used[:6] == [1, 1, 1, 2, 2, 2]  # the probe: every candidate in turn
    assert used[6:] == [2] * 10 and chooser.best == 2
    # the next probe starts after `period` calls and includes the current choice
    assert drive(chooser, {1: 4e-3, 2: 3e-3}, 6) == [1, 1, 1, 2, 2, 2]


def test_follows_the_machine_when_the_faster_count_changes():
    chooser = ThreadChooser((1, 2), period=20, probe=4)
    drive(chooser, {1: 4e-3, 2: 3e-3}, 28)
    assert chooser.best == 2
    # a busy process arrives: two threads now wait for a core
    used = drive(chooser, {1: 5e-3, 2: 20e-3}, 8 + 20)
    assert chooser.best == 1 and used[8:] == [1] * 20


def test_first_call_of_each_probe_is_not_counted():
    chooser = ThreadChooser((1, 2), period=5, probe=3)
    # a slow first call at 2 threads (waking its pool) must not decide the probe
    for n, t in [(1, 4e-3), (1, 4e-3), (1, 4e-3), (2, 50e-3), (2, 3e-3), (2, 3e-3)]:
        assert chooser.current == n
        chooser.record(n, t)
    assert chooser.best == 2


def test_time_is_per_crop_and_other_counts_are_ignored():
    chooser = ThreadChooser((1, 2), period=5, probe=2)
    chooser.record(1, 1.0)          # first call: skipped
    chooser.record(1, 8e-3, crops=4)  # 2 ms per crop
    chooser.record(2, 1.0)
    chooser.record(1, 1e-6)          # made at a count that is not the probe's: ignored
    assert chooser.best == 1
    with pytest.raises(ValueError, match="crops"):
        chooser.record(1, 1.0, crops=0)


def test_single_candidate_never_probes():
    chooser = ThreadChooser((1,), period=3, probe=2)
    assert drive(chooser, {1: 1e-3}, 20) == [1] * 20
    assert not chooser.probing


@pytest.mark.parametrize("kwargs,match", [({"candidates": ()}, "candidates"), ({"candidates": (0,)}, "candidates"),
                                          ({"candidates": (1, 2), "period": 0}, "period"),
                                          ({"candidates": (1,), "probe": True}, "probe")])
def test_bad_arguments_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ThreadChooser(**kwargs)


def test_tracker_auto_threads_switch_without_changing_results():
    """A chooser that switches every few frames gives the boxes of a fixed thread count (ONNX
    Runtime: the same outputs at any thread count; PyTorch: float rounding differs between thread
    counts and feeds back through the crops, a few hundredths of a pixel over this clip)."""
    import torch

    import dcffnet
    from synthetic_clip import moving_object_clip

    frames, gt = moving_object_clip(frames=24, size=(320, 240), seed=3)
    for backend in ("onnx", "torch"):
        fixed = dcffnet.Tracker(backend=backend, threads=1)
        auto = dcffnet.Tracker(backend=backend, threads="auto")
        auto.thread_chooser = ThreadChooser((1, 2), period=2, probe=2)
        previous = torch.get_num_threads()
        a = np.array([r.box for r in fixed.track(frames, gt[0])])
        b = np.array([r.box for r in auto.track(frames, gt[0])])
        assert torch.get_num_threads() == previous
        np.testing.assert_allclose(b, a, atol=1e-6 if backend == "onnx" else 0.5, err_msg=backend)
