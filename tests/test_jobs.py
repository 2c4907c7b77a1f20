"""Batch jobs (issue 27, part 5): --shard, the track-many manifest, the local engines (this process,
a pool of pinned workers) with retries and resume, and `dcffnet eval` / `dcffnet track-many`
through them giving the serial run's results."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dcffnet.cli import main
from dcffnet.jobs import ManifestError, Task, cpu_shares, parse_shard, read_manifest, run_jobs, shard_items
from dcffnet.jobs.cpus import usable_cores
from dcffnet.tracking.threads import thread_candidates

sys.path.insert(0, str(Path(__file__).parent))

import jobs_fixtures as fx  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


# ------------------------------------------------------------------------------------------ shards
def test_shard_parsing_is_zero_based_and_strict():
    assert parse_shard("0/4") == (0, 4) and parse_shard(" 3 / 4 ") == (3, 4) and parse_shard("0/1") == (0, 1)
    for bad, fragment in (("4/4", "0 .. 3"), ("1/0", "n >= 1"), ("-1/4", "whole numbers"), ("a/b", "whole numbers"),
                          ("2", "i/n"), ("1/2/3", "i/n")):
        with pytest.raises(ValueError, match=fragment):
            parse_shard(bad)


@pytest.mark.parametrize("count", [1, 2, 3, 5, 12])
def test_shards_are_disjoint_and_cover_every_item(count):
    items = [f"video{k}" for k in range(11)]
    shards = [shard_items(items, i, count) for i in range(count)]
    flat = [item for shard in shards for item in shard]
    assert sorted(flat) == sorted(items) and len(flat) == len(set(flat))
    assert shards[0][:2] == items[0:2 * count:count]  # round-robin: positions i, i + n, ...
    with pytest.raises(ValueError, match="index"):
        shard_items(items, count, count)


# ---------------------------------------------------------------------------------------- manifest
def test_manifest_resolves_paths_against_its_folder_and_names_entries(tmp_path):
    folder = tmp_path / "jobs"
    folder.mkdir()
    (folder / "t.json").write_text(json.dumps({"car": [1, 2, 3, 4], "bike": [5, 6, 7, 8]}))
    lines = [{"source": "clips/a.mp4", "box": [1, 2, 3, 4], "boxes": "out/a.txt", "max_frames": 5},
             {"source": "rtsp://camera/stream", "targets": "t.json", "output": "/abs/b.mp4", "name": "cam"},
             {"source": "c", "box": [0, 0, 5, 5], "boxes": "x/same.csv", "boxes_format": "mot"},
             {"source": "0", "box": [0, 0, 5, 5], "boxes": "y/same.csv"}]
    manifest = folder / "m.jsonl"
    manifest.write_text("\n".join(json.dumps(line) for line in lines[:2]) + "\n\n" + json.dumps(lines[2]) + "\n"
                        + json.dumps(lines[3]) + "\n")
    entries = read_manifest(manifest)
    assert [e.line for e in entries] == [1, 2, 4, 5]
    assert entries[0].source == str(folder / "clips" / "a.mp4") and entries[0].boxes == str(folder / "out" / "a.txt")
    assert entries[0].box == (1.0, 2.0, 3.0, 4.0) and entries[0].max_frames == 5 and entries[0].name == "a"
    assert entries[1].source == "rtsp://camera/stream" and entries[1].targets == str(folder / "t.json")
    assert entries[1].box is None and entries[1].output == "/abs/b.mp4" and entries[1].name == "cam"
    assert entries[0].targets_digest is None and len(entries[1].targets_digest) == 16
    # two boxes files with the same stem: named by their paths
    assert entries[2].name == str(folder / "x" / "same.csv") and entries[2].boxes_format == "mot"
    assert entries[3].name == str(folder / "y" / "same.csv")
    assert entries[3].source == "0" and entries[2].source == str(folder / "c")  # a camera index, a path


GOOD = {"source": "a.mp4", "box": [1, 2, 3, 4], "boxes": "a.txt"}


@pytest.mark.parametrize("second, message", [
    ("{not json", r"line 2: not a JSON object"),
    ("[1, 2]", r"line 2: an entry must be a JSON object"),
    (json.dumps({**GOOD, "boxes": "b.txt", "colour": "red"}), r"line 2: unknown key\(s\) \['colour'\]"),
    (json.dumps({"box": [1, 2, 3, 4], "boxes": "b.txt"}), r"line 2: 'source' is missing"),
    (json.dumps({"source": "b.mp4", "boxes": "b.txt"}), r"line 2: give exactly one of 'box'"),
    (json.dumps({**GOOD, "boxes": "b.txt", "targets": "t.json"}), r"line 2: give exactly one of 'box'"),
    (json.dumps({**GOOD, "boxes": "b.txt", "box": [1, 2, 3]}), r"line 2: box must be \[x, y, w, h\]"),
    (json.dumps({**GOOD, "boxes": "b.txt", "box": [1, 2, 0, 4]}), r"line 2: box width and height must be > 0"),
    (json.dumps({**GOOD, "boxes": "b.txt", "box": [1, 2, "3", 4]}), r"line 2: box must be"),
    (json.dumps({"source": "b.mp4", "box": [1, 2, 3, 4]}), r"line 2: give 'boxes'"),
    (json.dumps({**GOOD, "boxes": "b.txt", "max_frames": 0}), r"line 2: max_frames must be a positive integer"),
    (json.dumps({**GOOD, "boxes": "b.txt", "max_frames": True}), r"line 2: max_frames must be a positive integer"),
    (json.dumps({**GOOD, "boxes": None}), r"line 2: boxes must be a file or folder name"),
    (json.dumps({"source": "b.mp4", "box": [1, 2, 3, 4], "output": "b.mp4"}), r"line 2: an output is the source"),
    (json.dumps({"source": "b.mp4", "box": [1, 2, 3, 4], "output": "o.mp4", "boxes_format": "txt"}),
     r"line 2: boxes_format is given without 'boxes'"),
    (json.dumps(GOOD), r"line 2: boxes .*a\.txt is written by line 1 too"),
    (json.dumps({**GOOD, "boxes": "b.txt", "name": "a"}), r"line 2: name 'a' is used by line 1 too"),
    (json.dumps({**GOOD, "boxes": "b.txt", "boxes_format": "xml"}), r"line 2: boxes_format must be one of"),
    (json.dumps({**GOOD, "boxes": "b.dat"}), r"line 2: .*b\.dat"),
    (json.dumps({**GOOD, "boxes": "b.txt", "output": "b.gif"}), r"line 2: output .*b\.gif.* must end in one of"),
    (json.dumps({"source": "b.mp4", "targets": "none.json", "boxes": "b.csv"}), r"line 2: --targets file not found"),
    (json.dumps({"source": "b.mp4", "targets": "two.json", "boxes": "b.txt"}), r"line 2: .*txt"),
])
def test_manifest_errors_name_the_line(tmp_path, second, message):
    manifest = tmp_path / "m.jsonl"
    manifest.write_text(json.dumps(GOOD) + "\n" + second + "\n")
    (tmp_path / "two.json").write_text(json.dumps({"car": [1, 2, 3, 4], "bike": [5, 6, 7, 8]}))
    with pytest.raises(ManifestError, match=message):
        read_manifest(manifest)


def test_an_empty_or_missing_manifest_is_refused(tmp_path):
    (tmp_path / "empty.jsonl").write_text("\n  \n")
    with pytest.raises(ManifestError, match="no entries"):
        read_manifest(tmp_path / "empty.jsonl")
    with pytest.raises(FileNotFoundError, match="manifest not found"):
        read_manifest(tmp_path / "nope.jsonl")


# ------------------------------------------------------------------------------- cores and threads
def test_cores_are_split_in_contiguous_blocks():
    assert cpu_shares(2, [0, 1, 2, 3]) == [(0, 1), (2, 3)]
    assert cpu_shares(3, [4, 5, 6, 7]) == [(4, 5), (6,), (7,)]
    assert cpu_shares(1, [0, 1]) == [(0, 1)]
    assert cpu_shares(3, [0, 1]) == [(0,), (1,), (0,)]  # more workers than cores: one core each, shared
    with pytest.raises(ValueError, match="workers"):
        cpu_shares(0, [0, 1])


def test_the_thread_budget_caps_threads_auto(monkeypatch):
    monkeypatch.setenv("DCFFNET_MAX_THREADS", "1")
    assert thread_candidates() == (1,)
    assert thread_candidates(8) == (1, 2, 4, 8)  # an explicit core count is not capped
    monkeypatch.setenv("DCFFNET_MAX_THREADS", "two")
    with pytest.raises(ValueError, match="DCFFNET_MAX_THREADS must be a positive integer"):
        thread_candidates()


# ------------------------------------------------------------------------------- engines and retries
def _flaky_job(tmp_path):
    return [Task("flaky", fx.fail_first_time, {"marker": str(tmp_path / "flaky.marker"), "value": 7}),
            Task("broken", fx.always_fails, {"what": "clip.mp4"}),
            Task("fine", fx.double, {"value": 21})]


def _check_flaky(outcomes, err):
    """The outcomes and lines of :func:`_flaky_job`'s tasks (the first three of a job)."""
    flaky, broken, fine = outcomes[:3]
    assert flaky.ok and flaky.value == 7 and flaky.attempts == 2
    assert flaky.errors == ["RuntimeError: first attempt fails on purpose (flaky.marker)"]
    assert not broken.ok and broken.attempts == 2 and broken.reason == "ValueError: no such thing: clip.mp4"
    assert fine.ok and fine.value == 42 and fine.attempts == 1
    assert "flaky failed: RuntimeError: first attempt fails on purpose (flaky.marker) (attempt 1/2), retrying" in err
    assert "broken failed: ValueError: no such thing: clip.mp4 (attempt 2/2)\n" in err
    assert "] flaky ok " in err and "] fine ok " in err
    assert f"{len(outcomes)} tasks: {len(outcomes) - 1} finished, 1 failed" in err
    assert "  failed: broken: ValueError: no such thing: clip.mp4 (after 2 attempts)" in err
    assert f"[{len(outcomes)}/{len(outcomes)}]" in err


def test_a_task_that_fails_once_is_retried_in_this_process(tmp_path, capsys):
    report = run_jobs(_flaky_job(tmp_path), retries=1)
    assert not report.ok and [o.name for o in report.failed] == ["broken"]
    _check_flaky(report.outcomes, capsys.readouterr().err)


def test_pool_workers_are_pinned_retry_and_stay_within_the_cores(tmp_path, capsys):
    """Two spawned workers: each on its own block of cores with threads="auto" capped to its size;
    a task that fails once is retried and the job finishes, one that always fails is listed."""
    where = [Task(f"where{k}", fx.where_am_i) for k in range(4)]
    report = run_jobs(_flaky_job(tmp_path) + where, workers=2, retries=1)
    _check_flaky(report.outcomes, capsys.readouterr().err)
    seen = {}
    for outcome in report.outcomes[3:]:
        assert outcome.ok, outcome.reason
        seen[outcome.value["pid"]] = outcome.value
    assert os.getpid() not in seen and len(seen) <= 2
    shares = cpu_shares(2)
    for value in seen.values():
        assert int(value["budget"]) in (len(shares[0]), len(shares[1]))
        assert max(value["candidates"]) <= int(value["budget"])  # threads="auto" stays within the share
        if value["cores"] is not None:
            assert tuple(value["cores"]) in shares and len(value["cores"]) == int(value["budget"])
    pinned = [set(v["cores"]) for v in seen.values() if v["cores"] is not None]
    if len(pinned) == 2 and len(usable_cores()) >= 2:
        assert not pinned[0] & pinned[1]  # two workers, two blocks

def test_job_options_are_checked_together():
    with pytest.raises(ValueError, match="engine must be one of"):
        run_jobs([], engine="slurm")
    with pytest.raises(ValueError, match="cpus_per_task applies to engine 'ray'"):
        run_jobs([], cpus_per_task=2)
    with pytest.raises(ValueError, match="ray_address .* applies to engine 'ray' only"):
        run_jobs([], ray_address="auto")
    with pytest.raises(ValueError, match="retries must be a non-negative integer"):
        run_jobs([], retries=-1)
    with pytest.raises(ValueError, match="task names must be unique"):
        run_jobs([Task("a", fx.double, {"value": 1}), Task("a", fx.double, {"value": 2})])


# --------------------------------------------------------------------------------------- the CLI
@pytest.fixture(scope="module")
def val(tmp_path_factory):
    """Three 20-frame sequences of the real clip, in the folder layout."""
    return fx.make_sequences(tmp_path_factory.mktemp("jobs"))


@pytest.fixture(scope="module")
def serial_eval(val, tmp_path_factory):
    """The plain serial `dcffnet eval` of the three sequences: its output folder."""
    out = tmp_path_factory.mktemp("serial") / "out"
    assert main(["eval", "--dataset", str(val), "--out", str(out), "--no-progress"]) == 0
    return out


def _results(out: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted((out / "results" / "dcffnet").glob("*.txt"))}


def test_eval_with_two_workers_equals_the_serial_run(val, serial_eval, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["eval", "--dataset", str(val), "--out", str(out), "--workers", "2"]) == 0
    err = capsys.readouterr().err
    assert "3 tasks: 3 finished" in err and err.count(" ok ") == 3
    assert _results(out) == _results(serial_eval) and len(_results(out)) == 3
    assert sorted(p.name for p in (out / "kept" / "dcffnet").iterdir()) == ["seq0.npz", "seq1.npz", "seq2.npz"]
    summary, serial = (json.loads((o / "summary.json").read_text()) for o in (out, serial_eval))
    assert summary["trackers"]["dcffnet"]["auc"] == serial["trackers"]["dcffnet"]["auc"]


def test_eval_shards_record_their_part_and_a_final_run_scores_all(val, serial_eval, tmp_path, capsys):
    out = tmp_path / "out"
    base = ["eval", "--dataset", str(val), "--out", str(out), "--no-progress"]
    assert main(base + ["--shard", "1/2"]) == 0
    assert "shard 1/2 recorded in" in capsys.readouterr().err
    assert sorted(p.name for p in (out / "kept" / "dcffnet").iterdir()) == ["seq1.npz"]  # k mod 2 == 1
    assert not (out / "summary.json").exists()
    assert main(base + ["--shard", "0/2"]) == 0
    assert sorted(p.name for p in (out / "kept" / "dcffnet").iterdir()) == ["seq0.npz", "seq1.npz", "seq2.npz"]
    capsys.readouterr()
    stamps = {p.name: p.stat().st_mtime_ns for p in (out / "kept" / "dcffnet").iterdir()}
    assert main(base + ["--shard", "0/1"]) == 0  # one shard of one: everything is kept, nothing runs
    err = capsys.readouterr().err
    assert "3 of 3 sequences are kept in" in err and " ok " not in err
    assert main(base) == 0  # the plain run scores what the shards kept
    assert "dcffnet: reused 3 of 3 sequences" in capsys.readouterr().err
    assert {p.name: p.stat().st_mtime_ns for p in (out / "kept" / "dcffnet").iterdir()} == stamps
    assert _results(out) == _results(serial_eval)


def test_batch_options_are_refused_in_one_line(val, tmp_path, capsys):
    base = ["eval", "--dataset", str(val), "--out", str(tmp_path / "o")]
    for extra, message in ((["--cpus-per-task", "2"], "cpus_per_task applies to engine 'ray'"),
                           (["--ray-address", "auto"], "applies to engine 'ray' only"),
                           (["--protocol", "vot", "--shard", "0/2"], "--shard applies to --protocol ope"),
                           (["--shard", "2/2"], "i must be 0 .. 1"),
                           (["--workers", "0"], "--workers must be a positive integer")):
        assert main(base + extra) == 2
        err = capsys.readouterr().err
        assert message in err and len(err.strip().splitlines()) == 1, err


def _boxes(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted(folder.glob("seq*.txt"))}


def test_track_many_with_two_workers_equals_serial_and_resumes(val, tmp_path, capsys):
    serial = fx.write_manifest(tmp_path / "serial.jsonl", val, "serial")
    pooled = fx.write_manifest(tmp_path / "pooled.jsonl", val, "pooled")
    assert main(["track-many", str(serial)]) == 0
    assert main(["track-many", str(pooled), "--workers", "2"]) == 0
    err = capsys.readouterr().err
    assert err.count("3 tasks: 3 finished") == 2
    assert _boxes(tmp_path / "pooled") == _boxes(tmp_path / "serial") and len(_boxes(tmp_path / "serial")) == 3
    assert all(len(text.splitlines()) == fx.LENGTH for text in _boxes(tmp_path / "serial").values())
    record = json.loads((tmp_path / "serial" / "seq0.txt.done.json").read_text())
    assert record["frames"] == fx.LENGTH and record["key"]["weights"] == "default"
    # a second run skips what finished; --fresh tracks everything again
    done = {p: p.stat().st_mtime_ns for p in (tmp_path / "serial").glob("*.done.json")}
    assert main(["track-many", str(serial)]) == 0
    assert "3 of 3 entries finished earlier, skipped" in capsys.readouterr().err
    assert {p: p.stat().st_mtime_ns for p in done} == done
    assert main(["track-many", str(serial), "--fresh", "--no-progress"]) == 0
    assert " ok " not in capsys.readouterr().err
    assert all(p.stat().st_mtime_ns > done[p] for p in done)
    # another preset is another job: every entry is tracked again, saying why
    assert main(["track-many", str(serial), "--preset", "otb", "--shard", "1/3"]) == 0
    err = capsys.readouterr().err
    assert "shard 1/3: 1 of the 3 entries" in err
    assert "seq1: tracked again: the entry or the tracking options changed since it was done" in err


def test_track_many_lists_failures_and_exits_1(val, tmp_path, capsys):
    """A video that cannot be read fails after its retries and is listed with the reason; the
    others (one of them with two targets from a targets file) finish and are not run again."""
    (tmp_path / "two.json").write_text(json.dumps([{"id": "walker", "box": fx.reference_boxes()[0]},
                                                   {"id": 7, "box": [100, 300, 40, 60], "frame": 2}]))
    manifest = fx.write_manifest(tmp_path / "m.jsonl", val, "out", extra=[
        {"source": "missing.mp4", "box": [1, 2, 3, 4], "boxes": "out/missing.txt"},
        {"source": os.path.relpath(val / "seq0" / "img", tmp_path), "targets": "two.json", "boxes": "out/two.jsonl"}])
    assert main(["track-many", str(manifest), "--retries", "1", "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert "5 tasks: 4 finished, 1 failed" in err
    assert "  failed: missing: " in err and "missing.mp4" in err and "(after 2 attempts)" in err
    assert not (tmp_path / "out" / "missing.txt").exists() and (tmp_path / "out" / "seq2.txt").exists()
    frames = [json.loads(line) for line in (tmp_path / "out" / "two.jsonl").read_text().splitlines()]
    assert len(frames) == fx.LENGTH and [t["id"] for t in frames[5]["targets"]] == ["walker", 7]
    # the finished entries are not tracked again; the failed one is tried again
    assert main(["track-many", str(manifest), "--retries", "0", "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert "4 of 5 entries finished earlier, skipped" in err and "1 task: 0 finished, 1 failed" in err


def test_a_killed_job_does_only_the_rest_when_restarted(val, tmp_path):
    """track-many in a subprocess, killed (SIGKILL) as soon as the first video's done record
    appears; the restarted job tracks the other videos only."""
    clip = str(fx.CLIP)
    rows = [{"source": clip, "box": [290, 220, 40, 80], "boxes": "out/first.txt", "max_frames": 3}]
    rows += [{"source": clip, "box": [290, 220, 40, 80], "boxes": f"out/v{k}.txt", "max_frames": 150} for k in range(3)]
    manifest = tmp_path / "m.jsonl"
    manifest.write_text("".join(json.dumps(r) + "\n" for r in rows))
    command = [sys.executable, "-m", "dcffnet", "track-many", str(manifest)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    first_done = tmp_path / "out" / "first.txt.done.json"
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 240
    while not first_done.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    _, err = proc.communicate(timeout=60)
    assert first_done.exists(), err
    done_before = sorted(p.name for p in (tmp_path / "out").glob("*.done.json"))
    assert len(done_before) < 4, "the job ended before it was killed: nothing left to resume"
    stamp = (tmp_path / "out" / "first.txt").stat().st_mtime_ns
    # nothing half-written under an output's name: outputs appear whole, with their done records
    # (the killed video's partial boxes are in a hidden temporary file beside its output)
    visible = sorted(p.name for p in (tmp_path / "out").glob("*.txt") if not p.name.startswith("."))
    assert visible == [n[:-len(".done.json")] for n in done_before]
    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    rest = 4 - len(done_before)
    assert f"{len(done_before)} of 4 entries finished earlier, skipped" in again.stderr
    assert f"{rest} task{'s' if rest != 1 else ''}: {rest} finished" in again.stderr
    assert "first ok" not in again.stderr
    assert (tmp_path / "out" / "first.txt").stat().st_mtime_ns == stamp
    assert len(list((tmp_path / "out").glob("*.done.json"))) == 4
    assert not list((tmp_path / "out").glob(".*")), "the killed attempt's temporary file was not removed"
    lengths = {p.name: len(p.read_text().splitlines()) for p in (tmp_path / "out").glob("*.txt")}
    assert lengths == {"first.txt": 3, "v0.txt": 150, "v1.txt": 150, "v2.txt": 150}


def test_engine_ray_without_ray_says_how_to_install_it(val, tmp_path, monkeypatch, capsys):
    manifest = fx.write_manifest(tmp_path / "m.jsonl", val, "out")
    monkeypatch.setitem(sys.modules, "ray", None)  # as if Ray were not installed
    assert main(["track-many", str(manifest), "--engine", "ray"]) == 2
    err = capsys.readouterr().err
    assert 'error: --engine ray needs Ray: pip install "dcffnet[ray]"' in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()
