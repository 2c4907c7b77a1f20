"""What a batch job is made of: :class:`Task` (one video or sequence), :class:`TaskOutcome` (how it
ended) and :class:`JobReport` (every task of a job), plus :func:`call_task`, the wrapper every
engine runs a task through, in whatever process runs it.

A task's exceptions never cross a process boundary as objects: :func:`call_task` turns them into a
one-line reason (``"FileNotFoundError: no such file: a.mp4"``) in the process that ran it, so a
failure reads the same from this process, a pool worker or a Ray node.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from .cpus import set_thread_budget

__all__ = ["Task", "TaskOutcome", "JobReport", "call_task", "describe_error"]


@dataclass(frozen=True)
class Task:
    """One unit of a job: ``fn(**kwargs)``.

    ``fn`` must be importable by name (a module-level function) and ``kwargs`` picklable, so that a
    pool worker or a Ray node can run it; what ``fn`` returns comes back to the caller (keep it
    small: boxes, statistics). ``name`` (unique within a job) names it in progress lines and
    failure reports.
    """

    name: str
    fn: Callable[..., Any]
    kwargs: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"Task name must be a non-empty string, got {self.name!r}")
        if not callable(self.fn):
            raise TypeError(f"Task fn must be callable, got {type(self.fn).__name__}")


@dataclass
class TaskOutcome:
    """How one task ended.

    Attributes:
        name: the task's name.
        ok: it finished (on some attempt).
        value: what it returned (``None`` when it failed).
        attempts: attempts made (1 when the first one finished).
        seconds: wall-clock seconds of the last attempt, in the process that ran it.
        errors: the reason of each failed attempt, in order.
    """

    name: str
    ok: bool = False
    value: Any = None
    attempts: int = 0
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)

    @property
    def reason(self) -> str:
        """Why the last failed attempt failed ("" when none did)."""
        return self.errors[-1] if self.errors else ""


@dataclass
class JobReport:
    """Every task of a job, in the order they were given (finished or failed after their retries)."""

    outcomes: list[TaskOutcome]

    @property
    def failed(self) -> list[TaskOutcome]:
        """The tasks that failed on every attempt."""
        return [o for o in self.outcomes if not o.ok]

    @property
    def ok(self) -> bool:
        """Whether every task finished."""
        return not self.failed

    def values(self) -> dict[str, Any]:
        """``{task name: returned value}`` of the finished tasks."""
        return {o.name: o.value for o in self.outcomes if o.ok}

    def summary_lines(self) -> list[str]:
        """``"3 tasks: 2 finished, 1 failed"`` then one line per failed task with its reason."""
        done = sum(o.ok for o in self.outcomes)
        head = f"{len(self.outcomes)} task{'s' if len(self.outcomes) != 1 else ''}: {done} finished"
        failed = self.failed
        if failed:
            head += f", {len(failed)} failed"
        lines = [head]
        for outcome in failed:
            tries = f"{outcome.attempts} attempt{'s' if outcome.attempts != 1 else ''}"
            lines.append(f"  failed: {outcome.name}: {outcome.reason} (after {tries})")
        return lines


#: the longest reason kept (characters)
_REASON_CHARS = 500


def describe_error(exc: BaseException) -> str:
    """``"TypeName: message"`` on one line: the message's first non-empty line (``" [...]"`` marks
    lines left out, e.g. a traceback a library put in its message), control characters escaped,
    at most 500 characters."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    text = lines[0] + (" [...]" if len(lines) > 1 else "") if lines else ""
    text = "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)
    if len(text) > _REASON_CHARS:
        text = text[:_REASON_CHARS - 3] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def call_task(fn: Callable[..., Any], kwargs: Mapping[str, Any],
              threads: int | None = None) -> tuple[bool, Any, float]:
    """Run ``fn(**kwargs)`` and say how it went: ``(True, value, seconds)`` or ``(False, reason,
    seconds)`` (wall-clock seconds in this process). ``threads``: when given, the thread budget of
    this process is set to it first (:func:`~dcffnet.jobs.cpus.set_thread_budget`).

    An ``Exception`` becomes the reason (:func:`describe_error`); ``KeyboardInterrupt`` (and
    :class:`~dcffnet.interrupts.Interrupted`) and ``SystemExit`` are raised: a stop request is no
    task failure.
    """
    if threads is not None:
        set_thread_budget(threads)
    start = time.perf_counter()
    try:
        value = fn(**kwargs)
    except Exception as exc:  # noqa: BLE001 - every failure of a task is reported, none is fatal to the job
        return False, describe_error(exc), time.perf_counter() - start
    return True, value, time.perf_counter() - start
