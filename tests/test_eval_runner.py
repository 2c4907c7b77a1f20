"""Benchmark readers (real layouts written by the test), dcffnet eval end to end, the VOT protocol,
and agreement with the external got10k and vot toolkits where they are installed."""

import importlib.util
import json
import os
import shutil
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest

from dcffnet.cli import main
from dcffnet.eval import load_benchmark, polygon_to_box
from dcffnet.eval.metrics import ope_scores, summarize_ope
from dcffnet.eval.vot import FAIL, INIT, SKIP, run_supervised

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def _frames(folder: Path, n: int, start: int = 1, digits: int = 4, ext: str = ".jpg", moving=True):
    folder.mkdir(parents=True, exist_ok=True)
    boxes = []
    for i in range(n):
        img = np.full((72, 96, 3), 100, np.uint8)
        x, y = 20 + (2 * i if moving else 0), 20 + i
        img[y:y + 16, x:x + 20] = (30, 200, 250)
        img[y + 4:y + 8, x + 4:x + 12] = (250, 20, 20)
        cv2.imwrite(str(folder / f"{start + i:0{digits}d}{ext}"), img)
        boxes.append([x, y, 20, 16])
    return np.array(boxes, dtype=float)


def _write(path: Path, rows, sep=","):
    path.write_text("\n".join(sep.join(f"{v:g}" for v in r) for r in rows) + "\n")


def test_otb_reader_one_based_ranges_and_two_targets(tmp_path):
    boxes = _frames(tmp_path / "Basket" / "img", 4)
    _write(tmp_path / "Basket" / "groundtruth_rect.txt", boxes + [1, 1, 0, 0], sep="\t")
    _frames(tmp_path / "David" / "img", 5, start=298)
    _write(tmp_path / "David" / "groundtruth_rect.txt", [[11, 11, 5, 5]] * 3)
    _frames(tmp_path / "Jogging" / "img", 3)
    _write(tmp_path / "Jogging" / "groundtruth_rect.1.txt", [[1, 1, 4, 4]] * 3)
    _write(tmp_path / "Jogging" / "groundtruth_rect.2.txt", [[6, 6, 4, 4]] * 3)
    seqs = {s.name: s for s in load_benchmark(tmp_path, "otb")}
    assert set(seqs) == {"Basket", "David", "Jogging-1", "Jogging-2"}
    np.testing.assert_allclose(seqs["Basket"].gt, boxes)  # 1-based -> 0-based
    assert [f.name for f in seqs["David"].frames] == ["0300.jpg", "0301.jpg", "0302.jpg"]
    assert seqs["Jogging-2"].gt[0].tolist() == [5, 5, 4, 4]


def test_vot_reader_polygons(tmp_path):
    _frames(tmp_path / "ball" / "color", 2, digits=8)
    _write(tmp_path / "ball" / "groundtruth.txt", [[5, 0, 10, 5, 5, 10, 0, 5], [0, 0, 10, 0, 10, 10, 0, 10]])
    (tmp_path / "list.txt").write_text("ball\n")
    seq = load_benchmark(tmp_path, "vot")[0]
    # the diamond has half the area of its bounding box: side scaled by sqrt(0.5), same centre
    s = np.sqrt(0.5) * 10
    np.testing.assert_allclose(seq.gt[0], [5 - s / 2, 5 - s / 2, s, s])
    np.testing.assert_allclose(seq.gt[1], [0, 0, 10, 10])
    assert seq.polygons.shape == (2, 8)
    np.testing.assert_allclose(polygon_to_box(np.array([1, 2, 3, 4.0])), [1, 2, 3, 4])


def test_lasot_got10k_uav_and_folder_readers(tmp_path):
    seq = tmp_path / "lasot" / "cat" / "cat-1"
    _frames(seq / "img", 3, digits=8)
    _write(seq / "groundtruth.txt", [[2, 2, 5, 5]] * 3)
    (seq / "full_occlusion.txt").write_text("0,1,0")
    (seq / "out_of_view.txt").write_text("0,0,0")
    lasot = load_benchmark(tmp_path / "lasot", "lasot")[0]
    assert lasot.gt[0].tolist() == [1, 1, 5, 5] and np.isnan(lasot.gt[1]).all()

    got = tmp_path / "got" / "GOT-10k_Val_000001"
    _frames(got, 3, digits=8)
    _write(got / "groundtruth.txt", [[2, 2, 5, 5]] * 3)
    (got / "absence.label").write_text("0\n0\n1\n")
    (got / "cover.label").write_text("8\n0\n0\n")
    (tmp_path / "got" / "list.txt").write_text("GOT-10k_Val_000001\n")
    g = load_benchmark(tmp_path / "got", "got10k")[0]
    assert g.gt[0].tolist() == [2, 2, 5, 5] and np.isnan(g.gt[2]).all() and g.cover.tolist() == [8, 0, 0]

    _frames(tmp_path / "uav" / "data_seq" / "UAV123" / "car1", 2, digits=6)
    (tmp_path / "uav" / "anno" / "UAV123").mkdir(parents=True)
    (tmp_path / "uav" / "anno" / "UAV123" / "car1.txt").write_text("3,3,4,4\nNaN,NaN,NaN,NaN\n")
    u = load_benchmark(tmp_path / "uav", "uav")[0]
    assert u.gt[0].tolist() == [2, 2, 4, 4] and np.isnan(u.gt[1]).all()

    for name, convention, first in (("a", "x,y,w,h; 1-based", 1.0), ("b", "x,y,w,h; 0-based pixels", 2.0)):
        _frames(tmp_path / "folder" / name / "img", 2, digits=8)
        _write(tmp_path / "folder" / name / "groundtruth.txt", [[2, 2, 5, 5]] * 2)
        (tmp_path / "folder" / name / "meta.json").write_text(json.dumps({"box_convention": convention}))
    f = {s.name: s for s in load_benchmark(tmp_path / "folder", "folder")}
    assert f["a"].gt[0, 0] == 1.0 and f["b"].gt[0, 0] == 2.0
    with pytest.raises(ValueError, match="format"):
        load_benchmark(tmp_path / "folder", "mot")


@pytest.fixture
def bench(tmp_path):
    """Three synthetic folder-format sequences with PNG frames (lossless, so every decoder agrees)."""
    root = tmp_path / "bench"
    for k, n in enumerate((12, 9, 10)):
        boxes = _frames(root / f"seq{k}" / "img", n, digits=8, ext=".png", moving=k != 1)
        _write(root / f"seq{k}" / "groundtruth.txt", boxes)
    return root


def test_dcffnet_eval_end_to_end(bench, tmp_path, checkpoint_dir, capsys):
    out = tmp_path / "out"
    code = main(["eval", "--dataset", str(bench), "--tracker", f"dcffnet:{checkpoint_dir},name=mine",
                 "--tracker", "opencv:mil", "--tracker", "opencv:csrt", "--out", str(out), "--no-progress"])
    assert code == 0
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary["trackers"]) >= {"mine", "opencv-mil"}
    for tracker in ("mine", "opencv-mil"):
        files = sorted((out / "results" / tracker).glob("*.txt"))
        assert [f.stem for f in files] == ["seq0", "seq1", "seq2"]
        assert len(np.loadtxt(files[0], delimiter=",")) == 12
        assert summary["trackers"][tracker]["fps"] > 0
    # the summary equals the metrics recomputed from the result files
    seqs = load_benchmark(bench, "folder")
    per_seq = {s.name: ope_scores(np.loadtxt(out / "results" / "mine" / f"{s.name}.txt", delimiter=","), s.gt)
               for s in seqs}
    assert summary["trackers"]["mine"]["auc"] == pytest.approx(summarize_ope(per_seq)["auc"])
    md = (out / "results.md").read_text()
    assert "| mine |" in md and "success AUC" in md
    assert (out / "success.png").stat().st_size > 1000 and (out / "precision.png").stat().st_size > 1000
    err = capsys.readouterr().err
    if not hasattr(cv2, "TrackerCSRT_create") and not hasattr(cv2, "TrackerCSRT"):
        assert "skipping opencv:csrt" in err and "contrib" in err


def test_eval_rejects_bad_specs(bench, tmp_path):
    assert main(["eval", "--dataset", str(bench), "--tracker", "siamrpn", "--out", str(tmp_path / "o")]) == 2
    assert main(["eval", "--dataset", str(bench), "--tracker", "opencv:mil", "--tracker", "opencv:mil",
                 "--out", str(tmp_path / "o")]) == 2


class _ScriptedTracker:
    """Returns the ground truth except on frames listed in ``lose``, where it reports a far-away box."""

    def __init__(self, gt, lose):
        self.gt, self.lose, self.i = gt, set(lose), 0

    def init(self, frame, box):
        self.i = int(np.flatnonzero((self.gt == np.asarray(box)).all(1))[0])

    def update(self, frame):
        self.i += 1
        box = self.gt[self.i] if self.i not in self.lose else np.array([500, 500, 5, 5.0])
        return box, 1.0


def test_supervised_protocol_resets_five_frames_later(bench):
    seq = load_benchmark(bench, "folder")[0]  # 12 frames
    run = run_supervised(lambda: _ScriptedTracker(seq.gt, lose={3}), seq, lambda p: cv2.imread(str(p)))
    kinds = [e if isinstance(e, str) else "box" for e in run.entries]
    assert kinds == [INIT, "box", "box", FAIL, SKIP, SKIP, SKIP, SKIP, INIT, "box", "box", "box"]
    assert np.nanmin(run.overlaps) == pytest.approx(1.0)


def test_vot_protocol_from_the_cli(bench, tmp_path, checkpoint_dir):
    out = tmp_path / "vot"
    assert main(["eval", "--dataset", str(bench), "--protocol", "vot", "--tracker", f"dcffnet:{checkpoint_dir}",
                 "--out", str(out), "--no-progress", "--eao-low", "2", "--eao-high", "8"]) == 0
    results = json.loads((out / "vot_summary.json").read_text())
    (name, r), = results.items()
    assert 0 <= r["accuracy"] <= 1 and r["failures"] >= 0 and 0 <= r["eao"] <= 1


# ------------------------------------------------------------------------------------ external toolkits
@pytest.mark.skipif(importlib.util.find_spec("got10k") is None, reason="got10k toolkit not installed")
def test_got10k_otb_experiment_agrees_with_dcffnet_eval(bench, tmp_path, checkpoint_dir):
    from got10k.experiments import ExperimentOTB

    from dcffnet.integrations.got10k import GOT10kTracker

    seqs = load_benchmark(bench, "folder")

    class LocalDataset:
        seq_names = [s.name for s in seqs]

        def __len__(self):
            return len(seqs)

        def __getitem__(self, i):
            if i >= len(seqs):
                raise IndexError(i)
            return [str(f) for f in seqs[i].frames], seqs[i].gt

    class LocalOTB(ExperimentOTB):
        def __init__(self, result_dir, report_dir):
            self.dataset = LocalDataset()
            self.result_dir = os.path.join(result_dir, "local")
            self.report_dir = os.path.join(report_dir, "local")
            self.nbins_iou = 21
            self.nbins_ce = 51

    experiment = LocalOTB(str(tmp_path / "g_results"), str(tmp_path / "g_reports"))
    experiment.run(GOT10kTracker(str(checkpoint_dir), name="dcffnet"), visualize=False)
    report = experiment.report(["dcffnet"])["dcffnet"]["overall"]

    # 1) our metrics on got10k's own result files
    per_seq = {}
    for s in seqs:
        pred = np.loadtxt(tmp_path / "g_results" / "local" / "dcffnet" / f"{s.name}.txt", delimiter=",")
        per_seq[s.name] = ope_scores(pred, s.gt)
    ours = summarize_ope(per_seq)
    assert ours["auc"] == pytest.approx(report["success_score"], abs=1e-6)
    assert ours["precision"] == pytest.approx(report["precision_score"], abs=1e-6)

    # 2) dcffnet eval with the same tracker on the same sequences
    out = tmp_path / "ours"
    assert main(["eval", "--dataset", str(bench), "--tracker", f"dcffnet:{checkpoint_dir},name=dcffnet",
                 "--out", str(out), "--no-progress"]) == 0
    summary = json.loads((out / "summary.json").read_text())["trackers"]["dcffnet"]
    assert summary["auc"] == pytest.approx(report["success_score"], abs=1e-6)
    assert summary["precision"] == pytest.approx(report["precision_score"], abs=1e-6)


@pytest.mark.skipif(importlib.util.find_spec("vot") is None or importlib.util.find_spec("trax") is None
                    or shutil.which("vot") is None, reason="vot-toolkit / vot-trax not installed")
def test_vot_toolkit_runs_dcffnet_over_trax(tmp_path, checkpoint_dir):
    ws = tmp_path / "ws"
    seqdir = ws / "sequences"
    for k in range(2):
        boxes = _frames(seqdir / f"s{k}" / "color", 14, digits=8)
        _write(seqdir / f"s{k}" / "groundtruth.txt", boxes)
        (seqdir / f"s{k}" / "sequence").write_text("channels.color=color/%08d.jpg\nformat=default\n"
                                                   "fps=30\nname=s{}\n".format(k))
    (seqdir / "list.txt").write_text("s0\ns1\n")
    (ws / "stack.yaml").write_text(
        "title: tiny\nexperiments:\n  baseline:\n    type: supervised\n    repetitions: 1\n"
        "    skip_initialize: 5\n    analyses:\n      - type: supervised_average_ar\n        sensitivity: 30\n"
        "      - type: supervised_eao_score\n        low: 2\n        high: 10\n")
    (ws / "config.yaml").write_text("registry:\n- ./trackers.ini\nstack: ./stack.yaml\n")
    (ws / "trackers.ini").write_text(
        "[dcffnet]\nlabel = dcffnet\nprotocol = traxpython\n"
        f"command = from dcffnet.integrations.trax_server import serve; serve(r'{checkpoint_dir}')\n"
        f"paths = {Path(__file__).resolve().parents[1]}\n")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    result = subprocess.run(["vot", "evaluate", "--workspace", str(ws), "dcffnet"], capture_output=True, text=True,
                            env=env, timeout=600, cwd=ws)
    log = result.stdout + result.stderr
    assert "Evaluation concluded successfuly" in log, log[-3000:]
    for seq in ("s0", "s1"):
        assert list((ws / "results" / "dcffnet" / "baseline" / seq).glob(f"{seq}_001*")), log[-2000:]
    analysis = subprocess.run(["vot", "analysis", "--workspace", str(ws), "dcffnet", "--format", "json"],
                              capture_output=True, text=True, env=env, timeout=600, cwd=ws)
    assert analysis.returncode == 0, analysis.stdout + analysis.stderr
    assert list((ws / "analysis").rglob("*.json")), analysis.stdout + analysis.stderr


def test_tune_grid_search_and_save(bench, tmp_path, checkpoint_dir, capsys):
    from dcffnet.eval.tune import parse_grid

    assert parse_grid(["lr=0.1,0.2"]) == {"lr": [0.1, 0.2]}
    with pytest.raises(ValueError, match="FIELD"):
        parse_grid(["speed=3"])
    out = tmp_path / "tuned"
    assert main(["tune", "--weights", str(checkpoint_dir), "--dataset", str(bench), "--grid", "lr=0.0,0.5",
                 "penalty_k=0.1", "window_influence=0.0,0.4", "--out", str(tmp_path / "t.json"),
                 "--save-to", str(out), "--no-progress"]) == 0
    results = json.loads((tmp_path / "t.json").read_text())
    assert len(results) == 4 and results[0]["auc"] >= results[-1]["auc"]
    import dcffnet

    tracker = dcffnet.Tracker.from_pretrained(out)
    assert tracker.hparams.to_dict() == results[0]["hparams"]
    assert tracker.checkpoint_info.metrics["tuning"]["sequences"] == 3


def test_tune_on_several_folders_and_name_clash(bench, tmp_path, checkpoint_dir, capsys):
    """--dataset takes several folders (e.g. DAVIS val plus held-out videos of other sources);
    sequences are keyed by name, so two folders with the same sequence name are refused."""
    other = tmp_path / "other"
    boxes = _frames(other / "extra" / "img", 8, digits=8, ext=".png", moving=True)
    _write(other / "extra" / "groundtruth.txt", boxes)
    out = tmp_path / "tuned"
    assert main(["tune", "--weights", str(checkpoint_dir), "--dataset", str(bench), str(other), "--grid",
                 "lr=0.3", "penalty_k=0.1", "window_influence=0.2", "size_scale=0.9,1.0",
                 "--save-to", str(out), "--no-progress"]) == 0
    import dcffnet

    info = dcffnet.Tracker.from_pretrained(out).checkpoint_info.metrics["tuning"]
    assert info["sequences"] == 4 and info["dataset"] == [bench.name, other.name]
    with pytest.raises(SystemExit, match="seq0"):
        main(["tune", "--weights", str(checkpoint_dir), "--dataset", str(bench), str(bench), "--grid", "lr=0.3",
              "--no-progress"])


def test_ping_pong_plays_there_and_back_with_matching_ground_truth(bench):
    from dcffnet.eval import load_benchmark, ping_pong

    seq = load_benchmark(bench, "folder")[0]
    n = len(seq)
    looped = ping_pong(seq, 2)
    assert len(looped) == 1 + 2 * 2 * (n - 1)
    order = [0, *range(1, n), *range(n - 2, -1, -1), *range(1, n), *range(n - 2, -1, -1)]
    assert looped.frames == [seq.frames[i] for i in order]
    np.testing.assert_array_equal(looped.gt, seq.gt[order])
    assert looped.frames[-1] == seq.frames[0] and looped.name == seq.name
    assert ping_pong(seq, 0) is seq
    with pytest.raises(ValueError, match="cycles"):
        ping_pong(seq, -1)


def test_tune_with_ping_pong_records_it(bench, tmp_path, checkpoint_dir):
    out = tmp_path / "tuned"
    assert main(["tune", "--weights", str(checkpoint_dir), "--dataset", str(bench), "--ping-pong", "1", "--grid",
                 "lr=0.3", "penalty_k=0.1", "window_influence=0.2", "--save-to", str(out), "--no-progress"]) == 0
    import dcffnet

    assert dcffnet.Tracker.from_pretrained(out).checkpoint_info.metrics["tuning"]["ping_pong"] == 1


def test_eval_prints_peer_ratios_and_flags_training_overlap(bench, tmp_path, tiny_model, capsys):
    from dcffnet.hub import save_pretrained

    ckpt = save_pretrained(tiny_model, tmp_path / "trained", training={"sequences": ["videos/otb/seq1", "videos/x/other"]})
    out = tmp_path / "out"
    code = main(["eval", "--dataset", str(bench), "--tracker", f"dcffnet:{ckpt},name=mine", "--tracker", "opencv:mil",
                 "--out", str(out), "--no-progress"])
    assert code == 0
    captured = capsys.readouterr()
    assert "WARNING: mine was trained on 1 of these sequences (seq1)" in captured.err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["warnings"] and "seq1" in summary["warnings"][0]
    [ratio] = summary["peer_ratios"]
    mine, mil = summary["trackers"]["mine"], summary["trackers"]["opencv-mil"]
    assert ratio["tracker"] == "mine" and ratio["peer"] == "opencv-mil"
    assert ratio["auc"] == pytest.approx(mine["auc"] / mil["auc"])
    assert ratio["fps"] == pytest.approx(mine["fps"] / mil["fps"])
    assert 0.0 <= mine["score_on_target"] <= 1.0 or np.isnan(mine["score_on_target"])
    assert mine["frames_on_target"] + mine["frames_off_target"] <= 12 + 9 + 10 - 3
    assert "Ratios to the peers" in captured.out and "| mine | opencv-mil |" in captured.out
    assert "WARNING: mine was trained" in (out / "results.md").read_text()


def test_no_overlap_warning_for_held_out_sequences(bench, tmp_path, tiny_model, capsys):
    from dcffnet.hub import save_pretrained

    ckpt = save_pretrained(tiny_model, tmp_path / "trained", training={"sequences": ["videos/otb/Bolt"]})
    assert main(["eval", "--dataset", str(bench), "--tracker", f"dcffnet:{ckpt}", "--out", str(tmp_path / "o"),
                 "--no-progress"]) == 0
    assert "WARNING" not in capsys.readouterr().err


def test_tune_keeps_the_checkpoints_values_outside_the_grid(bench, tmp_path, tiny_model):
    """Tuning lr alone must not reset size_calibration / size_scale to the library defaults."""
    import dcffnet
    from dcffnet.hub import save_pretrained

    ckpt = save_pretrained(tiny_model, tmp_path / "ckpt", tracker={"size_scale": 0.9, "size_calibration": 1.0,
                                                                   "penalty_k": 0.3})
    out = tmp_path / "tuned"
    assert main(["tune", "--weights", str(ckpt), "--dataset", str(bench), "--grid", "lr=0.2,0.4", "penalty_k=0.3",
                 "window_influence=0.3", "--save-to", str(out), "--no-progress"]) == 0
    hp = dcffnet.Tracker.from_pretrained(out).hparams
    assert hp.size_scale == 0.9 and hp.size_calibration == 1.0 and hp.penalty_k == 0.3
    assert hp.lr in (0.2, 0.4)


def test_report_scores_long_term_sequences(tmp_path):
    """Sequences with absent frames get the VOT long-term F-score in summary.json and results.md."""
    from dcffnet.data import Sequence
    from dcffnet.eval import write_report

    gt = np.array([[10, 10, 20, 20]] * 8, dtype=float)
    gt[3:5] = np.nan
    seqs = [Sequence("away", [tmp_path / f"{i}.jpg" for i in range(8)], gt),
            Sequence("stays", [tmp_path / f"{i}.jpg" for i in range(8)], np.array([[5, 5, 10, 10]] * 8, float))]
    boxes = {"honest": {"away": np.nan_to_num(gt, nan=10.0), "stays": seqs[1].gt},
             "blind": {"away": np.nan_to_num(gt, nan=10.0), "stays": seqs[1].gt}}
    honest = np.where(np.isnan(gt[:, 0]), 0.05, 0.9)
    scores = {"honest": {"away": honest, "stays": np.full(8, 0.9)},
              "blind": {"away": np.full(8, 0.9), "stays": np.full(8, 0.9)}}
    summary = write_report(tmp_path / "out", seqs, boxes, {"honest": 10.0, "blind": 10.0}, scores=scores)
    assert summary["long_term_sequences"] == ["away"]
    assert summary["trackers"]["honest"]["long_term"]["f_score"] == pytest.approx(1.0)
    assert summary["trackers"]["blind"]["long_term"]["f_score"] < 0.9
    md = (tmp_path / "out" / "results.md").read_text()
    assert "Long-term measures on the 1 sequences with absent frames (away)" in md and "| honest | 1.000 |" in md


def test_calibrate_fits_reports_and_saves(bench, tmp_path, checkpoint_dir, capsys):
    import dcffnet

    out = tmp_path / "calibrated"
    code = main(["calibrate", "--weights", str(checkpoint_dir), "--dataset", str(bench), "--out",
                 str(tmp_path / "cal.json"), "--save-to", str(out), "--no-progress"])
    assert code == 0
    report = json.loads((tmp_path / "cal.json").read_text())
    frames = sum(len(s) - 1 for s in load_benchmark(bench, "folder"))
    assert report["frames"] == frames and 0.0 <= report["ece"] <= 1.0
    assert report["calibration"]["cues"] == ["score", "peak", "psr"]
    tracker = dcffnet.Tracker.from_pretrained(out)
    assert tracker.calibration is not None
    assert tracker.checkpoint_info.metrics["calibration"]["frames"] == frames
    assert "ECE: raw score" in capsys.readouterr().out


class _CountingTracker:
    """Stays where it started; counts how many trackers were made."""

    made = 0

    def __init__(self):
        type(self).made += 1

    def init(self, frame, box):
        self.box = tuple(box)

    def update(self, frame):
        return self.box, 0.5


def test_an_interrupted_eval_reuses_finished_sequences(tmp_path):
    from dcffnet.eval.runner import TrackerSpec, run_ope

    for name in ("a", "b", "c"):
        _frames(tmp_path / "data" / name / "img", 6)
        _write(tmp_path / "data" / name / "groundtruth.txt", [[20, 20, 20, 16]] * 6)
    sequences = load_benchmark(tmp_path / "data")
    spec = TrackerSpec("still", _CountingTracker, fingerprint="v1")
    keep = tmp_path / "kept"
    _CountingTracker.made = 0
    first, _ = run_ope(sequences[:2], [spec], progress=False, keep_dir=keep)  # "interrupted" after two
    assert _CountingTracker.made == 2
    second, fps = run_ope(sequences, [spec], progress=False, keep_dir=keep)
    assert _CountingTracker.made == 3  # only the third sequence ran
    np.testing.assert_array_equal(second["still"]["a"], first["still"]["a"])
    assert fps["still"] > 0
    # another tracker under the same name (new fingerprint) is computed again, as is a damaged file
    run_ope(sequences, [TrackerSpec("still", _CountingTracker, fingerprint="v2")], progress=False, keep_dir=keep)
    assert _CountingTracker.made == 6
    (keep / "still" / "a.npz").write_bytes(b"cut short")
    run_ope(sequences, [TrackerSpec("still", _CountingTracker, fingerprint="v2")], progress=False, keep_dir=keep)
    assert _CountingTracker.made == 7


def test_dcffnet_eval_resumes_and_fresh_recomputes(tmp_path, capsys):
    for name in ("a", "b"):
        _frames(tmp_path / "data" / name / "img", 5)
        _write(tmp_path / "data" / name / "groundtruth.txt", [[20 + 2 * i, 20 + i, 20, 16] for i in range(5)])
    args = ["eval", "--dataset", str(tmp_path / "data"), "--out", str(tmp_path / "out"), "--no-progress"]
    assert main(args) == 0
    kept = sorted((tmp_path / "out" / "kept" / "dcffnet").iterdir())
    assert [p.name for p in kept] == ["a.npz", "b.npz"]
    stamps = [p.stat().st_mtime_ns for p in kept]
    assert main(args) == 0
    assert [p.stat().st_mtime_ns for p in kept] == stamps  # reused, not recomputed
    assert main(args + ["--fresh"]) == 0
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert set(summary["trackers"]["dcffnet"]["per_sequence"]) == {"a", "b"}


def test_eval_says_what_it_reused_from_kept_and_why_not(tmp_path, capsys):
    """A rerun on an existing --out reports how many sequences it reused and, for a tracker whose
    settings changed, which fingerprint fields differ."""
    for name in ("a", "b"):
        _frames(tmp_path / "data" / name / "img", 5)
        _write(tmp_path / "data" / name / "groundtruth.txt", [[20 + 2 * i, 20 + i, 20, 16] for i in range(5)])
    out = tmp_path / "out"
    args = ["eval", "--dataset", str(tmp_path / "data"), "--out", str(out), "--no-progress"]
    assert main(args + ["--tracker", "dcffnet,name=d"]) == 0
    assert ": reused" not in capsys.readouterr().err  # nothing was kept yet
    assert main(args + ["--tracker", "dcffnet,name=d"]) == 0
    assert f"d: reused 2 of 2 sequences from {out / 'kept'}" in capsys.readouterr().err
    assert main(args + ["--tracker", "dcffnet,preset=otb,name=d"]) == 0
    err = capsys.readouterr().err
    assert f"d: reused 0 of 2 sequences from {out / 'kept'}" in err
    assert "d: not reused for 2 sequences (a, b): the tracker differs: hparams." in err
    assert "weights" not in err.split("the tracker differs:")[1].splitlines()[0]  # same weights


class _LosingTracker(_CountingTracker):
    """Stays put; reports the target lost from frame 3 on."""

    def update(self, frame):
        from dcffnet.tracking.result import TrackResult, TrackState

        self.frames = getattr(self, "frames", 0) + 1
        return TrackResult(self.box, 0.2, TrackState.LOST if self.frames >= 3 else TrackState.TRACKING)


def test_record_keeps_lost_flags_and_explains_refused_kept_results(tmp_path):
    from dcffnet.eval.render import kept_lines
    from dcffnet.eval.runner import TrackerSpec, record_ope

    for name in ("a", "b"):
        _frames(tmp_path / "data" / name / "img", 6)
        _write(tmp_path / "data" / name / "groundtruth.txt", [[20, 20, 20, 16]] * 6)
    sequences = load_benchmark(tmp_path / "data")
    keep = tmp_path / "kept"

    def spec(lr):
        return TrackerSpec.fingerprinted("t", _LosingTracker, {"weights": "w" * 40, "hparams": {"lr": lr}})

    first = record_ope(sequences, [spec(0.3)], progress=False, keep_dir=keep)
    result = first.results["t"]["a"]
    assert result.lost.tolist() == [False, False, False, True, True, True] and not result.reused
    assert first.kept["t"].reused == [] and first.kept["t"].refused == {} and kept_lines(first) == []
    again = record_ope(sequences, [spec(0.3)], progress=False, keep_dir=keep)
    assert again.kept["t"].reused == ["a", "b"] and again.results["t"]["a"].reused
    np.testing.assert_array_equal(again.results["t"]["a"].lost, result.lost)
    (keep / "t" / "b.npz").write_bytes(b"cut short")
    changed = record_ope(sequences, [spec(0.5)], progress=False, keep_dir=keep)
    assert changed.kept["t"].refused["a"] == "the tracker differs: hparams.lr 0.3 -> 0.5"
    assert "damaged" in changed.kept["t"].refused["b"]
    lines = kept_lines(changed)
    assert lines[0] == f"t: reused 0 of 2 sequences from {keep}"
    assert "t: not reused for 1 sequence (a): the tracker differs: hparams.lr 0.3 -> 0.5" in lines
    # a file kept by 0.4.0 (no lost flags) is computed again, saying so
    with np.load(keep / "t" / "a.npz") as data:
        np.savez(keep / "t" / "a.npz", **{k: data[k] for k in ("boxes", "scores", "times", "fingerprint", "sequence")})
    old = record_ope(sequences[:1], [spec(0.5)], progress=False, keep_dir=keep)
    assert old.kept["t"].refused["a"] == "the kept file lacks lost (written by an older dcffnet or damaged)"
    # without named fields the reason still says the tracker differs
    plain = record_ope(sequences, [TrackerSpec("t", _LosingTracker, fingerprint="other")], progress=False,
                       keep_dir=keep)
    assert plain.kept["t"].refused["a"].startswith("the tracker differs (fingerprint ")


def test_report_renders_every_output_from_one_object(tmp_path):
    """summary.json, results.md and the printed summary come from the same OPEReport; the console
    summary is results.md without the per-sequence table."""
    from dcffnet.data import Sequence
    from dcffnet.eval import OPERecord, OPEReport, SequenceResult, score_ope
    from dcffnet.eval.render import ope_console, ope_markdown, write_ope

    gt = np.array([[10, 10, 20, 20]] * 6, dtype=float)
    gt[2] = np.nan
    seqs = [Sequence("s1", [tmp_path / f"{i}.jpg" for i in range(6)], gt),
            Sequence("s2", [tmp_path / f"{i}.jpg" for i in range(6)], np.array([[5, 5, 10, 10]] * 6, float))]

    def result(boxes, score):
        return SequenceResult(boxes, np.full(6, score), np.full(6, 0.01), np.zeros(6, bool))

    record = OPERecord(seqs, {"mine": {"s1": result(np.nan_to_num(gt, nan=10.0), 0.9), "s2": result(seqs[1].gt, 0.8)},
                              "peer": {"s1": result(np.nan_to_num(gt, nan=10.0) + 4, 1.0),
                                       "s2": result(seqs[1].gt + 3, 1.0)}}, peers=["peer"])
    assert record.fps() == {"mine": pytest.approx(100.0), "peer": pytest.approx(100.0)}
    report = OPEReport.from_record(record, dataset="toy", warnings=["careful"])
    assert report.long_term_sequences == ["s1"] and report.trackers["mine"].long_term is not None
    assert [r["peer"] for r in report.peer_ratios] == ["peer"]
    md = ope_markdown(report)
    assert ope_console(report) == md.split("Per sequence")[0].strip()
    assert ope_console(report).startswith("# OPE results: toy\n\nWARNING: careful")
    write_ope(tmp_path / "out", report, record.sequences, record.boxes())
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["trackers"]["mine"]["auc"] == pytest.approx(report.trackers["mine"].auc)
    assert summary["peer_ratios"][0]["auc"] == pytest.approx(report.trackers["mine"].auc / report.trackers["peer"].auc)
    assert (tmp_path / "out" / "results.md").read_text() == md
    np.testing.assert_allclose(np.loadtxt(tmp_path / "out" / "results" / "peer" / "s2.txt", delimiter=","),
                               seqs[1].gt + 3)
    with pytest.raises(ValueError, match="no result for sequence"):
        score_ope(seqs, {"mine": {"s1": gt}}, {"mine": 1.0})


def test_vot_cli_prints_the_table_it_writes(bench, tmp_path, capsys):
    from dcffnet.eval.report import score_vot
    from dcffnet.eval.runner import TrackerSpec, record_vot

    seqs = load_benchmark(bench, "folder")
    runs = record_vot(seqs[:1], [TrackerSpec("script", lambda: _ScriptedTracker(seqs[0].gt, lose={3}))],
                      progress=False)
    report = score_vot(runs, low=1, high=4)
    assert report.trackers["script"].failures == 1
    assert report.to_dict()["script"]["robustness"] == pytest.approx(100 / 12)
    out = tmp_path / "vot"
    assert main(["eval", "--dataset", str(bench), "--protocol", "vot", "--tracker", "opencv:mil", "--out", str(out),
                 "--no-progress", "--eao-low", "2", "--eao-high", "8"]) == 0
    assert capsys.readouterr().out == (out / "vot_results.md").read_text()
    assert set(json.loads((out / "vot_summary.json").read_text())) == {"opencv-mil"}


def test_eval_names_skipped_sequences_and_strict_refuses_them(tmp_path, capsys):
    """A sequence that cannot be scored (empty ground truth) is skipped, named with its reason and
    the run goes on; ``--strict`` fails instead, naming it."""
    _frames(tmp_path / "data" / "good" / "img", 5)
    _write(tmp_path / "data" / "good" / "groundtruth.txt", [[20 + 2 * i, 20 + i, 20, 16] for i in range(5)])
    _frames(tmp_path / "data" / "empty" / "img", 5)
    (tmp_path / "data" / "empty" / "groundtruth.txt").write_text("")
    args = ["eval", "--dataset", str(tmp_path / "data"), "--out", str(tmp_path / "out"), "--no-progress"]
    assert main(args) == 0
    err = capsys.readouterr().err
    assert "found 2, read 1, skipped 1" in err and "empty" in err
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert set(summary["trackers"]["dcffnet"]["per_sequence"]) == {"good"}
    assert main(args + ["--strict"]) != 0
    assert "empty" in capsys.readouterr().err
