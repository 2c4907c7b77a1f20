"""The Ray engine of a batch job (``--engine ray``, needs ``pip install "dcffnet[ray]"``): one Ray
task per video or sequence, on this machine or a cluster.

Where it runs: ``ray_address`` (``--ray-address``), else the ``RAY_ADDRESS`` environment
variable, else a Ray instance started here for the job (``address="local"``: an already running
local cluster is not joined unless named) and shut down after it. When this process has already
called ``ray.init``, that connection is used as it is.

Each task asks Ray for ``cpus_per_task`` CPUs and runs with that thread budget
(:func:`~dcffnet.jobs.cpus.set_thread_budget`), so the trackers of the tasks Ray places on one
node never use more threads than the CPUs Ray gave them. Ray's own retries are off
(``max_retries=0``): a task's exception comes back as its reason and a lost worker or node as
Ray's error, and :func:`dcffnet.jobs.run.run_jobs` retries both the same way as on the local
engines, reporting every failed attempt with its reason.
"""

from __future__ import annotations

import os
from typing import Any

from ..fields import is_positive_int
from .tasks import Task, call_task, describe_error

__all__ = ["RayEngine", "import_ray"]


def import_ray() -> Any:
    """The ``ray`` module.

    Raises:
        ImportError: Ray is not installed, saying how to install it.
    """
    try:
        import ray
    except ImportError as exc:
        raise ImportError('--engine ray needs Ray: pip install "dcffnet[ray]"') from exc
    return ray


def _reason(exc: BaseException, ray: Any) -> str:
    """A task's failure in one line: the task's own exception when Ray wraps one, else the first
    line of Ray's error (a worker or node that died, a cancelled task)."""
    if isinstance(exc, ray.exceptions.RayTaskError) and exc.cause is not None:
        return describe_error(exc.cause)
    return describe_error(exc)


class RayEngine:
    """Ray tasks, ``cpus_per_task`` CPUs each.

    Args:
        address: the cluster (``ray://host:10001``, ``host:6379``, ``auto``); ``None``: the
            ``RAY_ADDRESS`` environment variable, else a local instance started for the job.
        cpus_per_task: CPUs each task asks Ray for, and its thread budget (a positive integer).
        workers: at most this many tasks in flight (``None``: as many as Ray can place); for a
            local instance started here it also sets its CPUs (``workers * cpus_per_task``;
            ``None``: every core of this machine).

    Raises:
        ImportError: Ray is not installed.
        ValueError: a bad argument, or ``address`` given while this process is already connected
            to Ray.
    """

    def __init__(self, address: str | None = None, cpus_per_task: int = 1, workers: int | None = None) -> None:
        if not is_positive_int(cpus_per_task):
            raise ValueError(f"cpus_per_task must be a positive integer, got {cpus_per_task!r}")
        if workers is not None and not is_positive_int(workers):
            raise ValueError(f"workers must be a positive integer or None, got {workers!r}")
        if address is not None and (not isinstance(address, str) or not address.strip()):
            raise ValueError(f"ray_address must be a cluster address such as 'ray://head:10001' or 'auto', "
                             f"got {address!r}")
        ray = import_ray()
        self._ray = ray
        self._owns = False
        target = None
        if ray.is_initialized():
            if address is not None:
                raise ValueError(f"this process is already connected to Ray; leave ray_address ({address!r}) out "
                                 "to use that connection, or call ray.shutdown() first")
        else:
            target = address or os.environ.get("RAY_ADDRESS") or "local"
            options: dict[str, Any] = {"include_dashboard": False}
            if target == "local" and workers is not None:
                options["num_cpus"] = workers * cpus_per_task
            ray.init(address=target, **options)
            self._owns = True
        total = ray.cluster_resources().get("CPU", 0)
        if target == "local" and total < cpus_per_task:
            self.close()
            raise ValueError(f"--cpus-per-task {cpus_per_task} is more than the {total:g} CPUs of the local Ray "
                             "instance")
        self.slots: int | None = workers
        self.cpus_per_task = cpus_per_task
        self._remote = ray.remote(call_task).options(num_cpus=cpus_per_task, max_retries=0)
        self._refs: dict[Any, int] = {}

    def submit(self, key: int, task: Task) -> None:
        """Start ``task`` as a Ray task."""
        ref = self._remote.remote(task.fn, dict(task.kwargs), self.cpus_per_task)
        self._refs[ref] = key

    def wait(self, timeout: float) -> list[tuple[int, bool, Any, float]]:
        """The tasks that ended within ``timeout`` seconds: ``[(key, ok, value or reason, seconds)]``."""
        if not self._refs:
            return []
        ray = self._ray
        refs = list(self._refs)
        ready, _ = ray.wait(refs, num_returns=1, timeout=timeout)
        if ready:
            ready, _ = ray.wait(refs, num_returns=len(refs), timeout=0)
        ended = []
        for ref in ready:
            key = self._refs.pop(ref)
            try:
                ok, payload, seconds = ray.get(ref)
            except ray.exceptions.RayError as exc:
                ended.append((key, False, _reason(exc, ray), 0.0))
            else:
                ended.append((key, ok, payload, seconds))
        return ended

    def stop(self) -> None:
        """Cancel every task not ended (running ones are killed: they leave no result, since
        results are written atomically)."""
        for ref in self._refs:
            try:
                self._ray.cancel(ref, force=True)
            except Exception:  # noqa: BLE001 - a task that ended meanwhile cannot be cancelled; nothing to do
                pass
        self._refs.clear()

    def close(self) -> None:
        """Shut down the Ray instance this engine started (a connection made before is left open)."""
        if self._owns:
            self._ray.shutdown()
            self._owns = False
