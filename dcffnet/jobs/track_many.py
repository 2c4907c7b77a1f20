"""``dcffnet track-many``: :func:`dcffnet.track_run.run_track` over every entry of a manifest
(:mod:`dcffnet.jobs.manifest`), as one batch job (:func:`dcffnet.jobs.run.run_jobs`).

Each entry is one task. Its files are written atomically: ``run_track`` writes to temporary files
beside the entry's outputs, which replace the outputs only when the whole video is tracked; then a
done record ``<first output>.done.json`` (the entry, the tracking options, frames, seconds) is
written, atomically too. A later run of the same manifest skips every entry whose done record
matches the entry and options and whose outputs are all there, so a job killed half-way resumes
where it stopped; ``fresh=True`` (``--fresh``) tracks every entry again. Output folders are created;
temporary files that an attempt killed outright left beside an entry's outputs are removed when the
entry is tracked again.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from ..atomic import atomic_path, atomic_write_json, leftover_temporaries
from .manifest import ManifestEntry, read_manifest
from .run import check_job_options, run_jobs
from .shard import shard_items
from .tasks import JobReport, Task

__all__ = ["DONE_SUFFIX", "done_path", "entry_key", "done_reason", "track_entry", "track_many"]

#: what a done record's name adds to the entry's first output
DONE_SUFFIX = ".done.json"


def done_path(entry: ManifestEntry) -> Path:
    """Where ``entry``'s done record is: ``<boxes or output>.done.json``."""
    return Path(entry.outputs[0] + DONE_SUFFIX)


def entry_key(entry: ManifestEntry, weights: str, revision: str | None, preset: str | None) -> dict[str, Any]:
    """What a done record must match for the entry to count as finished: the entry's fields and
    the tracking options (the device is left out: it changes speed, not the job)."""
    return {**entry.key(), "weights": weights, "revision": revision, "preset": preset}


def done_reason(entry: ManifestEntry, key: dict[str, Any]) -> tuple[bool, str]:
    """Whether ``entry`` is finished: ``(True, "")``; else ``(False, why)``, ``why`` empty when it
    was never done, else the reason its done record is not reused."""
    path = done_path(entry)
    if not path.is_file():
        return False, ""
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return False, f"its done record {path} cannot be read ({type(exc).__name__})"
    if not isinstance(record, dict) or record.get("key") != key:
        return False, "the entry or the tracking options changed since it was done"
    missing = [p for p in entry.outputs if not Path(p).is_file()]
    if missing:
        return False, f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} missing"
    return True, ""


def track_entry(entry: ManifestEntry, key: dict[str, Any], weights: str = "default", revision: str | None = None,
                preset: str | None = None, device: str | None = None) -> dict[str, float]:
    """The task of one entry: track it, replace its outputs atomically, write its done record.

    Returns:
        ``{"frames", "seconds"}``: frames tracked and wall-clock seconds of ``run_track``.

    Raises:
        Whatever :func:`dcffnet.track_run.run_track` raises (the entry's outputs are left as they were).
    """
    from ..track_run import run_track

    for output in entry.outputs:
        Path(output).parent.mkdir(parents=True, exist_ok=True)
        for leftover in leftover_temporaries(output):  # of an earlier attempt that was killed outright
            leftover.unlink(missing_ok=True)
    options: dict[str, Any] = {"revision": revision, "preset": preset, "device": device,
                               "max_frames": entry.max_frames, "progress": False, "stream": io.StringIO()}
    if entry.targets is not None:
        options["targets"] = entry.targets
    if entry.boxes_format is not None:
        options["boxes_format"] = entry.boxes_format
    with contextlib.ExitStack() as stack:
        if entry.boxes is not None:
            options["boxes_path"] = str(stack.enter_context(atomic_path(entry.boxes)))
        if entry.output is not None:
            options["output"] = str(stack.enter_context(atomic_path(entry.output)))
        stats = run_track(entry.source, entry.box, weights, **options)
    record = {"key": key, "name": entry.name, "frames": int(stats["frames"]), "seconds": stats["seconds"],
              "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    atomic_write_json(done_path(entry), record)
    return {"frames": stats["frames"], "seconds": stats["seconds"]}


def track_many(manifest: "str | Path", weights: str = "default", *, revision: str | None = None,
               preset: str | None = None, device: str | None = None, fresh: bool = False,
               shard: tuple[int, int] | None = None, engine: str = "local", workers: int | None = None,
               retries: int = 2, cpus_per_task: int = 1, ray_address: str | None = None, progress: bool = True,
               stream: TextIO | None = None) -> JobReport:
    """Track every entry of ``manifest`` not finished yet (see the module docstring).

    Args:
        manifest: the JSON Lines manifest.
        weights, revision, preset, device: as :func:`dcffnet.track_run.run_track`'s, for every entry.
        fresh: track finished entries again.
        shard: ``(i, n)``: only shard ``i`` of ``n`` of the entries (:mod:`dcffnet.jobs.shard`).
        engine, workers, retries, cpus_per_task, ray_address, progress, stream: as
            :func:`dcffnet.jobs.run.run_jobs`'s.

    Returns:
        The job's report (the entries tracked now; skipped ones are not in it).

    Raises:
        FileNotFoundError / dcffnet.jobs.ManifestError: the manifest cannot be used.
        ValueError: bad job options.
        dcffnet.interrupts.Interrupted: the job was stopped by a signal.
    """
    check_job_options(engine, workers, retries, cpus_per_task, ray_address)
    stream = stream or sys.stderr
    entries = read_manifest(manifest)
    if shard is not None:
        index, count = shard
        chosen = shard_items(entries, index, count)
        print(f"shard {index}/{count}: {len(chosen)} of the {len(entries)} entries", file=stream)
        entries = chosen
    tasks = []
    skipped = 0
    for entry in entries:
        key = entry_key(entry, weights, revision, preset)
        if not fresh:
            done, why = done_reason(entry, key)
            if done:
                skipped += 1
                continue
            if why:
                print(f"{entry.name}: tracked again: {why}", file=stream)
        tasks.append(Task(entry.name, track_entry, {"entry": entry, "key": key, "weights": weights,
                                                    "revision": revision, "preset": preset, "device": device}))
    if skipped:
        print(f"{skipped} of {len(entries)} entries finished earlier, skipped (--fresh tracks them again)",
              file=stream)
    if not tasks:
        print("nothing to track", file=stream)
        return JobReport([])
    return run_jobs(tasks, engine, workers, retries, cpus_per_task=cpus_per_task, ray_address=ray_address,
                    progress=progress, stream=stream)
