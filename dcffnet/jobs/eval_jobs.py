"""``dcffnet eval`` as a batch job (``--workers N``, ``--engine ray``, ``--shard i/n``): one task per
sequence, running every tracker on it; the same records as :func:`dcffnet.eval.record_ope` and
:func:`dcffnet.eval.record_vot`, for the same scoring and outputs.

One-pass (OPE): each task writes every tracker's result on its sequence to the kept folder
(``OUT/kept/<tracker>/<sequence>.npz``, :mod:`dcffnet.eval.kept`, written atomically) as the serial
run does, and a rerun reuses what is kept there for the same tracker and sequence, so a killed
job resumes where it stopped. ``fresh`` computes every sequence again (and replaces what is kept).
With a shard only that shard's sequences are recorded; a final run without ``--shard`` (same
trackers, same ``--out``) reads them all back and writes the report.

VOT (reset protocol): the runs are not kept, so a stopped VOT job starts over; no shards.

Workers rebuild each tracker from its spec string (:attr:`dcffnet.eval.TrackerSpec.text`) and
check that it is the tracker this process planned with (same name and fingerprint: the same
weights and tracking values on every machine).
"""

from __future__ import annotations

import dataclasses
import os
import sys
from pathlib import Path
from typing import Any

from ..eval.datasets import Sequence
from ..eval.kept import keep_result, kept_path, load_kept
from ..eval.records import KeptUse, OPERecord, SequenceResult
from ..eval.runner import TrackerSpec, parse_tracker_spec, track_sequence
from .shard import shard_items
from .tasks import JobReport, Task

__all__ = ["TrackerRef", "tracker_refs", "ope_sequence_task", "vot_sequence_task", "plan_ope", "record_ope_jobs",
           "record_vot_jobs"]

#: (spec string, name, fingerprint) of a tracker: what a worker needs to build it and check it
TrackerRef = tuple[str, str, str]

#: trackers built in this process, by (spec string, peer models folder, device)
_BUILT: dict[tuple[str, str | None, str | None], TrackerSpec] = {}


def _absolute(seq: Sequence) -> Sequence:
    """``seq`` with absolute frame paths: a worker on another node does not start in this
    process's working directory."""
    if all(Path(frame).is_absolute() for frame in seq.frames):
        return seq
    return dataclasses.replace(seq, frames=[Path(os.path.abspath(frame)) for frame in seq.frames])


def _absolute_path(path: "str | Path | None") -> str | None:
    return None if path is None else os.path.abspath(path)


def tracker_refs(specs: list[TrackerSpec]) -> list[TrackerRef]:
    """The :data:`TrackerRef` of each spec.

    Raises:
        ValueError: a spec that was not parsed from a spec string (built in code: it can run in
            this process only, through :func:`dcffnet.eval.record_ope`).
    """
    refs = []
    for spec in specs:
        if not spec.text:
            raise ValueError(f"tracker {spec.name!r} has no spec string (TrackerSpec.text): workers cannot build it; "
                             "use parse_tracker_spec, or record_ope in this process")
        refs.append((spec.text, spec.name, spec.fingerprint))
    return refs


def _tracker(ref: TrackerRef, peer_models: str | None, device: str | None) -> TrackerSpec:
    """The tracker of ``ref``, built once per process, checked against what was planned."""
    text, name, fingerprint = ref
    cache_key = (text, peer_models, device)
    spec = _BUILT.get(cache_key)
    if spec is None:
        spec = parse_tracker_spec(text, peer_models, device)
        _BUILT[cache_key] = spec
    if spec.name != name or spec.fingerprint != fingerprint:
        raise RuntimeError(f"tracker {text!r} built here is {spec.name} (fingerprint {spec.fingerprint}), not "
                           f"{name} ({fingerprint}) as planned: every machine of the job needs the same weights, "
                           "peer models and dcffnet version")
    return spec


def ope_sequence_task(sequence: Sequence, trackers: list[TrackerRef], peer_models: str | None = None,
                      device: str | None = None, keep_dir: str | None = None) -> dict[str, SequenceResult]:
    """The OPE task of one sequence: every tracker of ``trackers`` over it, in order; each result
    written to ``keep_dir`` (when given, for trackers with a fingerprint) as soon as it is computed.

    Returns:
        ``{tracker name: SequenceResult}``.
    """
    results = {}
    for ref in trackers:
        spec = _tracker(ref, peer_models, device)
        result = track_sequence(spec, sequence)
        if keep_dir is not None and spec.fingerprint:
            keep_result(kept_path(keep_dir, spec.name, sequence.name), sequence, result, spec.fingerprint,
                        spec.fingerprint_fields)
        results[spec.name] = result
    return results


def vot_sequence_task(sequence: Sequence, trackers: list[TrackerRef], peer_models: str | None = None,
                      device: str | None = None, skip: int = 5) -> dict[str, Any]:
    """The VOT task of one sequence: ``{tracker name: SupervisedRun}`` under the reset protocol
    (re-initialised ``skip`` frames after a failure)."""
    from ..data import read_frame
    from ..eval.vot import run_supervised

    runs = {}
    for ref in trackers:
        spec = _tracker(ref, peer_models, device)
        runs[spec.name] = run_supervised(spec.make, sequence, read_frame, skip=skip)
    return runs


def plan_ope(sequences: list[Sequence], specs: list[TrackerSpec], keep_dir: "str | Path", fresh: bool = False,
             peer_models: "str | Path | None" = None, device: str | None = None) -> tuple[list[Task], OPERecord]:
    """The tasks of an OPE job and its record with what is already kept there.

    A sequence gets a task for the trackers whose result is not kept in ``keep_dir`` (all of them
    with ``fresh``); kept results go straight into the record (``reused``), and kept files that
    cannot be reused are listed with the reason, as :func:`dcffnet.eval.record_ope` does.

    Raises:
        ValueError: two trackers with the same name, or a tracker without a spec string.
    """
    names = [s.name for s in specs]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"trackers must have distinct names; {duplicates} appear more than once")
    refs = dict(zip(names, tracker_refs(specs)))
    keep = Path(os.path.abspath(keep_dir))
    record = OPERecord(list(sequences), {s.name: {} for s in specs}, peers=[s.name for s in specs if s.is_peer],
                       keep_dir=None if fresh else keep,
                       kept={} if fresh else {s.name: KeptUse() for s in specs if s.fingerprint})
    tasks = []
    for seq in sequences:
        todo = []
        for spec in specs:
            if not fresh and spec.fingerprint:
                kept, reason = load_kept(kept_path(keep, spec.name, seq.name), seq, spec.fingerprint,
                                         spec.fingerprint_fields)
                if kept is not None:
                    record.results[spec.name][seq.name] = kept
                    record.kept[spec.name].reused.append(seq.name)
                    continue
                if reason:
                    record.kept[spec.name].refused[seq.name] = reason
            todo.append(refs[spec.name])
        if todo:
            tasks.append(Task(seq.name, ope_sequence_task, {
                "sequence": _absolute(seq), "trackers": todo, "peer_models": _absolute_path(peer_models),
                "device": device, "keep_dir": str(keep)}))
    return tasks, record


def record_ope_jobs(sequences: list[Sequence], specs: list[TrackerSpec], keep_dir: "str | Path", *,
                    fresh: bool = False, peer_models: "str | Path | None" = None, device: str | None = None,
                    shard: tuple[int, int] | None = None, **job: Any) -> tuple[OPERecord | None, JobReport]:
    """:func:`dcffnet.eval.record_ope` as a batch job (module docstring).

    Args:
        keep_dir: the kept folder (``OUT/kept``), read (unless ``fresh``) and written.
        shard: ``(i, n)``: record only shard ``i`` of ``n`` of the sequences.
        **job: ``engine``, ``workers``, ``retries``, ``cpus_per_task``, ``ray_address``,
            ``progress``, ``stream`` of :func:`dcffnet.jobs.run.run_jobs`.

    Returns:
        ``(record, report)``: the record of every sequence, or ``None`` when a task failed or a
        shard ran (then the kept folder holds what finished); the report of the tasks run now.
    """
    from .run import check_job_options, run_jobs

    check_job_options(job.get("engine", "local"), job.get("workers"), job.get("retries", 2),
                      job.get("cpus_per_task", 1), job.get("ray_address"))
    if shard is not None:
        sequences = shard_items(sequences, *shard)
    tasks, record = plan_ope(sequences, specs, keep_dir, fresh=fresh, peer_models=peer_models, device=device)
    done = len(record.sequences) - len(tasks)
    if done:
        print(f"{done} of {len(record.sequences)} sequences are kept in {keep_dir} for every tracker, not run again "
              "(--fresh runs them)", file=job.get("stream") or sys.stderr)
    report = run_jobs(tasks, **job) if tasks else JobReport([])
    if not report.ok or shard is not None:
        return None, report
    for name, per_tracker in report.values().items():
        for tracker, result in per_tracker.items():
            record.results[tracker][name] = result
    order = [s.name for s in record.sequences]
    record.results = {t: {s: per_seq[s] for s in order} for t, per_seq in record.results.items()}
    return record, report


def record_vot_jobs(sequences: list[Sequence], specs: list[TrackerSpec], *, skip: int = 5,
                    peer_models: "str | Path | None" = None, device: str | None = None,
                    **job: Any) -> tuple[dict[str, list[Any]] | None, JobReport]:
    """:func:`dcffnet.eval.record_vot` as a batch job: ``(runs, report)``, ``runs[tracker]`` one
    :class:`~dcffnet.eval.vot.SupervisedRun` per sequence in order, or ``None`` when a task failed.
    ``**job`` as :func:`record_ope_jobs`'s."""
    from .run import run_jobs

    refs = tracker_refs(specs)
    tasks = [Task(seq.name, vot_sequence_task, {"sequence": _absolute(seq), "trackers": refs, "skip": skip,
                                                "device": device, "peer_models": _absolute_path(peer_models)})
             for seq in sequences]
    report = run_jobs(tasks, **job)
    if not report.ok:
        return None, report
    values = report.values()
    return {spec.name: [values[seq.name][spec.name] for seq in sequences] for spec in specs}, report
