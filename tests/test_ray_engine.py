"""--engine ray on a local Ray instance with 2 CPUs (started once for the module): the same results
as the serial run for `dcffnet eval` and `dcffnet track-many`, retries of a task that fails once,
the thread budget of a task, and the connection left as this process made it."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

ray = pytest.importorskip("ray")

from dcffnet.cli import main  # noqa: E402
from dcffnet.jobs import Task, run_jobs  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import jobs_fixtures as fx  # noqa: E402


@pytest.fixture(scope="module", autouse=True)
def local_ray():
    """Ray with 2 CPUs for the whole module; its workers import this folder's helpers."""
    path = os.pathsep.join(p for p in (str(HERE), os.environ.get("PYTHONPATH", "")) if p)
    ray.init(num_cpus=2, include_dashboard=False, runtime_env={"env_vars": {"PYTHONPATH": path}})
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def val(tmp_path_factory):
    return fx.make_sequences(tmp_path_factory.mktemp("ray-jobs"))


def _results(out: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted((out / "results" / "dcffnet").glob("*.txt"))}


def test_eval_on_ray_equals_the_serial_run(val, tmp_path, capsys):
    serial, on_ray = tmp_path / "serial", tmp_path / "ray"
    assert main(["eval", "--dataset", str(val), "--out", str(serial), "--no-progress"]) == 0
    assert main(["eval", "--dataset", str(val), "--out", str(on_ray), "--engine", "ray"]) == 0
    err = capsys.readouterr().err
    assert "3 tasks: 3 finished" in err and err.count(" ok ") == 3
    assert _results(on_ray) == _results(serial) and len(_results(serial)) == 3
    summaries = [json.loads((o / "summary.json").read_text()) for o in (serial, on_ray)]
    assert summaries[0]["trackers"]["dcffnet"]["auc"] == summaries[1]["trackers"]["dcffnet"]["auc"]
    assert ray.is_initialized()  # the module's connection is used, not shut down


def test_vot_protocol_on_ray_equals_the_serial_run(val, tmp_path, capsys):
    serial, on_ray = tmp_path / "serial", tmp_path / "ray"
    base = ["eval", "--dataset", str(val), "--protocol", "vot", "--no-progress"]
    assert main(base + ["--out", str(serial)]) == 0
    assert main(base + ["--out", str(on_ray), "--engine", "ray"]) == 0
    runs = [json.loads((o / "vot_summary.json").read_text())["dcffnet"] for o in (serial, on_ray)]
    for key in ("accuracy", "failures", "robustness"):
        assert runs[0][key] == runs[1][key]


def test_track_many_on_ray_equals_serial_and_resumes(val, tmp_path, capsys):
    serial = fx.write_manifest(tmp_path / "serial.jsonl", val, "serial")
    on_ray = fx.write_manifest(tmp_path / "ray.jsonl", val, "ray")
    assert main(["track-many", str(serial), "--no-progress"]) == 0
    assert main(["track-many", str(on_ray), "--engine", "ray", "--workers", "2"]) == 0
    boxes = [{p.name: p.read_text() for p in sorted((tmp_path / d).glob("seq*.txt"))} for d in ("serial", "ray")]
    assert boxes[0] == boxes[1] and len(boxes[0]) == 3
    capsys.readouterr()
    assert main(["track-many", str(on_ray), "--engine", "ray"]) == 0
    assert "3 of 3 entries finished earlier, skipped" in capsys.readouterr().err


def test_a_ray_task_that_fails_once_is_retried_and_the_job_finishes(tmp_path, capsys):
    tasks = [Task("flaky", fx.fail_first_time, {"marker": str(tmp_path / "flaky.marker"), "value": 3}),
             Task("broken", fx.always_fails, {"what": "b.mp4"}),
             Task("where", fx.where_am_i)]
    report = run_jobs(tasks, engine="ray", retries=2)
    err = capsys.readouterr().err
    flaky, broken, where = report.outcomes
    assert flaky.ok and flaky.value == 3 and flaky.attempts == 2
    assert "flaky failed: RuntimeError: first attempt fails on purpose (flaky.marker) (attempt 1/3), retrying" in err
    assert not broken.ok and broken.attempts == 3 and broken.reason == "ValueError: no such thing: b.mp4"
    assert "  failed: broken: ValueError: no such thing: b.mp4 (after 3 attempts)" in err
    # one CPU per task: threads="auto" chooses among one thread only
    assert where.ok and where.value["budget"] == "1" and where.value["candidates"] == [1]
    assert where.value["pid"] != os.getpid()


def test_an_address_is_refused_while_connected():
    with pytest.raises(ValueError, match="already connected to Ray"):
        run_jobs([Task("t", fx.double, {"value": 1})], engine="ray", ray_address="auto")
