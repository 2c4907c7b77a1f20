"""The local process pool of a batch job (``--workers N``, N > 1): N worker processes on this
machine, each pinned to its own block of cores with a thread budget of that block's size
(:mod:`dcffnet.jobs.cpus`).

Workers are started with the ``spawn`` method: a fresh interpreter each, so no thread pool of torch,
ONNX Runtime or OpenCV is inherited half-initialised from this process, and the thread budget is in
place before those libraries are imported. Workers ignore SIGINT: a Ctrl-C reaches this process,
which decides what stops (:func:`dcffnet.jobs.run.run_jobs`). A worker that dies (killed, out of
memory, a crash in native code) breaks the pool: every task it held fails that attempt with the
reason, and the pool is started again for the retries.
"""

from __future__ import annotations

import multiprocessing
import signal
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from ..fields import is_positive_int
from .cpus import cpu_shares, pin_to, set_thread_budget
from .tasks import Task, call_task, describe_error

__all__ = ["PoolEngine"]

#: the reason a task gets when the pool broke under it
DIED = "a worker process ended abruptly (killed, out of memory or crashed) while it held this task"


def _exit_on_sigterm(signum: int, frame: Any) -> None:
    """SIGTERM in a worker: leave through Python, so that its finalizers run (the named semaphores
    of its locks are released instead of reported as leaked)."""
    raise SystemExit(128 + signum)


def _start_worker(shares: Any) -> None:
    """Initializer of each worker: ignore SIGINT, exit cleanly on SIGTERM, take a block of cores,
    pin to it and set the thread budget to its size."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    share = shares.get(timeout=60)
    pin_to(share)
    set_thread_budget(len(share))


class PoolEngine:
    """N spawned worker processes, one task each at a time.

    Args:
        workers: worker processes (a positive integer).

    Attributes:
        slots: tasks in flight at once (``workers``).
        shares: the cores of each worker (:func:`~dcffnet.jobs.cpus.cpu_shares`).
    """

    def __init__(self, workers: int) -> None:
        if not is_positive_int(workers):
            raise ValueError(f"workers must be a positive integer, got {workers!r}")
        self.slots: int | None = workers
        self.shares = cpu_shares(workers)
        self._context = multiprocessing.get_context("spawn")
        self._executor: ProcessPoolExecutor | None = None
        self._futures: dict[Future, int] = {}
        self._children_before: set[Any] = set()

    def _executor_now(self) -> ProcessPoolExecutor:
        if self._executor is None:
            shares = self._context.Queue()
            for share in self.shares:
                shares.put(share)
            self._children_before = set(multiprocessing.active_children())
            self._executor = ProcessPoolExecutor(len(self.shares), mp_context=self._context,
                                                 initializer=_start_worker, initargs=(shares,))
        return self._executor

    def submit(self, key: int, task: Task) -> None:
        """Send ``task`` to a worker (the pool starts, or starts again after breaking, here)."""
        try:
            future = self._executor_now().submit(call_task, task.fn, dict(task.kwargs))
        except BrokenProcessPool:
            self._drop_executor()
            future = self._executor_now().submit(call_task, task.fn, dict(task.kwargs))
        self._futures[future] = key

    def wait(self, timeout: float) -> list[tuple[int, bool, Any, float]]:
        """The tasks that ended within ``timeout`` seconds: ``[(key, ok, value or reason, seconds)]``."""
        if not self._futures:
            return []
        done, _ = wait(list(self._futures), timeout=timeout, return_when=FIRST_COMPLETED)
        ended = []
        broken = False
        for future in done:
            key = self._futures.pop(future)
            try:
                ok, payload, seconds = future.result()
            except BrokenProcessPool:
                broken = True
                ended.append((key, False, DIED, 0.0))
            except BaseException as exc:  # noqa: BLE001 - e.g. arguments that cannot be pickled: that task fails
                ended.append((key, False, describe_error(exc), 0.0))
            else:
                ended.append((key, ok, payload, seconds))
        if broken:
            self._drop_executor()
        return ended

    def _drop_executor(self) -> None:
        """Forget a broken pool (its pending futures fail on their own); the next submit starts a new one."""
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None

    def stop(self) -> None:
        """Cancel the tasks not started and end the workers now (SIGTERM, then SIGKILL after 5 s):
        a task stopped half-way leaves no result, since results are written atomically."""
        for future in self._futures:
            future.cancel()
        self._futures.clear()
        if self._executor is None:
            return
        self._executor.shutdown(wait=False, cancel_futures=True)
        workers = [p for p in multiprocessing.active_children() if p not in self._children_before]
        for process in workers:
            process.terminate()
        for process in workers:
            process.join(5)
            if process.is_alive():
                process.kill()
                process.join(5)
        self._executor.shutdown(wait=True)  # its workers are gone: this releases its queues' semaphores
        self._executor = None

    def close(self) -> None:
        """Shut the pool down, waiting for its workers to exit."""
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
