"""One front for every batch job (``dcffnet track-many``, ``dcffnet eval --workers/--engine``):
:func:`run_jobs` runs a list of :class:`~dcffnet.jobs.tasks.Task` on an engine, retries failed
tasks, prints a line per finished task and a summary of the failures.

Engines:

* ``"local"`` with ``workers=1`` (the default): one task after the other in this process
  (:class:`~dcffnet.jobs.serial.SerialEngine`);
* ``"local"`` with ``workers=N > 1``: a pool of N processes on this machine, each pinned to its
  share of the cores (:class:`~dcffnet.jobs.pool.PoolEngine`);
* ``"ray"``: Ray tasks, locally or on a cluster (:class:`~dcffnet.jobs.ray_engine.RayEngine`).

Progress (on ``stream``): ``[k/n] NAME ok 12.3 s`` when a task finishes, ``[k/n] NAME failed:
REASON (attempt 1/3), retrying`` and ``[k/n] NAME failed: REASON (attempt 3/3)`` when an attempt
fails (failures are printed even without ``progress``); ``k`` counts the tasks that have ended.

SIGINT / SIGTERM stop the job: tasks not started are dropped, running ones are ended (a result is
written atomically by its task, so a task ended half-way leaves none) and
:class:`~dcffnet.interrupts.Interrupted` says how many tasks finished. Running the same job again
skips what finished: the callers (:mod:`dcffnet.jobs.track_many`, :mod:`dcffnet.jobs.eval_jobs`)
leave finished tasks out before calling :func:`run_jobs`.
"""

from __future__ import annotations

import signal
import sys
from collections import deque
from typing import Any, Sequence, TextIO

from ..fields import is_positive_int
from ..interrupts import Interrupted, StopSignals
from .tasks import JobReport, Task, TaskOutcome

__all__ = ["ENGINES", "run_jobs", "make_engine", "check_job_options"]

#: the values of ``engine``
ENGINES = ("local", "ray")

#: seconds between checks for a stop request while tasks run
_POLL = 0.25


def check_job_options(engine: str, workers: int | None, retries: int, cpus_per_task: int,
                      ray_address: str | None) -> None:
    """Refuse options that do not fit together, naming the argument and what was expected.

    Raises:
        ValueError: an unknown ``engine``; ``workers`` not a positive integer or ``None``;
            ``retries`` not a non-negative integer; ``cpus_per_task`` not a positive integer, or
            other than 1 on the local engine (whose workers get cores / workers each);
            ``ray_address`` without ``engine="ray"``.
    """
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")
    if workers is not None and not is_positive_int(workers):
        raise ValueError(f"workers must be a positive integer, got {workers!r}")
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise ValueError(f"retries must be a non-negative integer (attempts after the first), got {retries!r}")
    if not is_positive_int(cpus_per_task):
        raise ValueError(f"cpus_per_task must be a positive integer, got {cpus_per_task!r}")
    if engine == "local" and cpus_per_task != 1:
        raise ValueError("cpus_per_task applies to engine 'ray'; the local engine gives each of its workers "
                         "an equal share of this machine's cores")
    if engine != "ray" and ray_address is not None:
        raise ValueError(f"ray_address ({ray_address!r}) applies to engine 'ray' only")


def make_engine(engine: str, workers: int | None = None, cpus_per_task: int = 1,
                ray_address: str | None = None) -> Any:
    """The engine object for :func:`run_jobs` (see the module docstring); arguments as there."""
    if engine == "ray":
        from .ray_engine import RayEngine

        return RayEngine(ray_address, cpus_per_task=cpus_per_task, workers=workers)
    if workers is None or workers == 1:
        from .serial import SerialEngine

        return SerialEngine()
    from .pool import PoolEngine

    return PoolEngine(workers)


def _line(stream: TextIO, text: str) -> None:
    print(text, file=stream, flush=True)


def run_jobs(tasks: Sequence[Task], engine: str = "local", workers: int | None = None, retries: int = 2, *,
             cpus_per_task: int = 1, ray_address: str | None = None, progress: bool = True,
             stream: TextIO | None = None) -> JobReport:
    """Run every task, each up to ``1 + retries`` times, and report how each ended.

    Args:
        tasks: the tasks (unique names).
        engine: ``"local"`` or ``"ray"`` (module docstring).
        workers: local: worker processes (``None`` or 1: this process); ray: at most this many
            tasks in flight (``None``: as many as the cluster places).
        retries: further attempts for a task whose attempt failed (an exception, or its worker died).
        cpus_per_task: ray: CPUs per task and its thread budget.
        ray_address: ray: the cluster (``None``: ``RAY_ADDRESS``, else a local instance).
        progress: print a line per finished task (failed attempts are printed regardless).
        stream: where lines go (default ``sys.stderr``).

    Returns:
        A :class:`~dcffnet.jobs.tasks.JobReport`, outcomes in task order; its summary was printed.

    Raises:
        ValueError: bad options (:func:`check_job_options`) or two tasks with the same name.
        ImportError: ``engine="ray"`` without Ray installed.
        dcffnet.interrupts.Interrupted: SIGINT / SIGTERM stopped the job (the message says how
            many tasks finished).
    """
    check_job_options(engine, workers, retries, cpus_per_task, ray_address)
    tasks = list(tasks)
    for task in tasks:
        if not isinstance(task, Task):
            raise TypeError(f"tasks must be dcffnet.jobs.Task objects, got {type(task).__name__}")
    names = [t.name for t in tasks]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"task names must be unique; {duplicates} appear more than once")
    stream = stream or sys.stderr
    outcomes = [TaskOutcome(t.name) for t in tasks]
    if not tasks:
        return JobReport(outcomes)
    total = len(tasks)
    attempts = retries + 1
    runner = make_engine(engine, workers, cpus_per_task, ray_address)
    pending = deque(range(total))
    running: set[int] = set()
    ended = 0
    signum: int | None = None
    stop = StopSignals()
    try:
        with stop:
            while (pending or running) and not stop.requested:
                while pending and (runner.slots is None or len(running) < runner.slots):
                    key = pending.popleft()
                    outcomes[key].attempts += 1
                    runner.submit(key, tasks[key])
                    running.add(key)
                for key, ok, payload, seconds in runner.wait(_POLL):
                    running.discard(key)
                    outcome = outcomes[key]
                    outcome.seconds = seconds
                    if ok:
                        outcome.ok, outcome.value = True, payload
                        ended += 1
                        if progress:
                            _line(stream, f"[{ended}/{total}] {outcome.name} ok {seconds:.1f} s")
                        continue
                    outcome.errors.append(str(payload))
                    tried = f"attempt {outcome.attempts}/{attempts}"
                    if outcome.attempts < attempts:
                        pending.append(key)
                        _line(stream, f"[{ended}/{total}] {outcome.name} failed: {payload} ({tried}), retrying")
                    else:
                        ended += 1
                        _line(stream, f"[{ended}/{total}] {outcome.name} failed: {payload} ({tried})")
            signum = stop.signum
    except KeyboardInterrupt as exc:  # a second signal, or a task run in this process that was stopped
        signum = getattr(exc, "signum", None) or stop.signum or signal.SIGINT
    finally:
        if signum is not None:
            runner.stop()
        runner.close()
    if signum is not None:
        finished = sum(o.ok for o in outcomes)
        raise Interrupted(f"interrupted: {finished} of {total} tasks finished and kept; the same command "
                          f"runs the other {total - finished}", signum)
    report = JobReport(outcomes)
    for text in report.summary_lines():
        _line(stream, text)
    return report
