"""The in-process engine of a batch job (``--workers 1`` on the local engine): tasks run one after
the other in this process, as a plain loop would run them."""

from __future__ import annotations

from collections import deque
from typing import Any

from .tasks import Task, call_task

__all__ = ["SerialEngine"]


class SerialEngine:
    """Runs each submitted task in this process when :meth:`wait` is called (one per call).

    Attributes:
        slots: tasks it holds at once (1).
    """

    slots: int | None = 1

    def __init__(self) -> None:
        self._queue: deque[tuple[int, Task]] = deque()

    def submit(self, key: int, task: Task) -> None:
        """Queue ``task`` under ``key``."""
        self._queue.append((key, task))

    def wait(self, timeout: float) -> list[tuple[int, bool, Any, float]]:
        """Run the oldest queued task now: ``[(key, ok, value or reason, seconds)]`` (empty when
        nothing is queued; ``timeout`` is not used: the task runs to its end)."""
        if not self._queue:
            return []
        key, task = self._queue.popleft()
        ok, payload, seconds = call_task(task.fn, task.kwargs)
        return [(key, ok, payload, seconds)]

    def stop(self) -> None:
        """Drop the queued tasks (a running one has already returned or raised)."""
        self._queue.clear()

    def close(self) -> None:
        """Nothing to release."""
        self._queue.clear()
