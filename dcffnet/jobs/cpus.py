"""How the cores of one machine are shared by the workers of a batch job, and the thread budget a
worker gives the trackers it runs.

Each of N local workers gets its own contiguous block of the cores this process may use
(:func:`cpu_shares`); it is pinned to them with :func:`os.sched_setaffinity` where the system has
it (Linux), and its thread budget (:func:`set_thread_budget`) is the size of its block, so that
``threads="auto"`` picks among 1 .. block size threads: N workers x threads never exceed the cores.
"""

from __future__ import annotations

import os

from ..fields import is_positive_int
from ..tracking.threads import MAX_THREADS_ENV

__all__ = ["usable_cores", "cpu_shares", "set_thread_budget", "pin_to"]

#: the thread-count variables of the numerical libraries (read when they are first imported)
_LIBRARY_THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def usable_cores() -> list[int]:
    """The ids of the cores this process may run on (its affinity where the system reports it,
    else ``0 .. os.cpu_count() - 1``), sorted."""
    if hasattr(os, "sched_getaffinity"):
        return sorted(os.sched_getaffinity(0))
    return list(range(os.cpu_count() or 1))


def cpu_shares(workers: int, cores: "list[int] | None" = None) -> list[tuple[int, ...]]:
    """Split ``cores`` (default: :func:`usable_cores`) among ``workers`` workers: contiguous blocks
    as even as possible (the first ``len(cores) % workers`` get one core more). With more workers
    than cores, each worker gets one core and workers share cores round-robin (then each runs one
    thread, and the cores are oversubscribed by the workers themselves).

    Raises:
        ValueError: ``workers`` is not a positive integer, or ``cores`` is empty.
    """
    if not is_positive_int(workers):
        raise ValueError(f"workers must be a positive integer, got {workers!r}")
    cores = usable_cores() if cores is None else sorted(cores)
    if not cores:
        raise ValueError("cores must name at least one core")
    if workers >= len(cores):
        return [(cores[k % len(cores)],) for k in range(workers)]
    base, extra = divmod(len(cores), workers)
    shares, start = [], 0
    for k in range(workers):
        size = base + (1 if k < extra else 0)
        shares.append(tuple(cores[start:start + size]))
        start += size
    return shares


def set_thread_budget(threads: int) -> None:
    """Let this process's trackers use at most ``threads`` threads: sets
    :data:`~dcffnet.tracking.threads.MAX_THREADS_ENV` (read by ``threads="auto"`` when a tracker is
    made), the OpenMP / MKL / OpenBLAS variables (effective for libraries not imported yet) and
    OpenCV's thread count (used by OpenCV's trackers and image resizing).

    Raises:
        ValueError: ``threads`` is not a positive integer.
    """
    if not is_positive_int(threads):
        raise ValueError(f"threads must be a positive integer, got {threads!r}")
    os.environ[MAX_THREADS_ENV] = str(threads)
    for name in _LIBRARY_THREAD_VARS:
        os.environ[name] = str(threads)
    try:
        import cv2
    except ImportError:  # pragma: no cover - cv2 is a dependency
        return
    cv2.setNumThreads(threads)


def pin_to(cores: "tuple[int, ...] | list[int]") -> bool:
    """Pin this process to ``cores`` where the system can (:func:`os.sched_setaffinity`); returns
    whether it did (``False`` on systems without it, e.g. macOS and Windows, where only the thread
    budget keeps workers apart).

    Raises:
        ValueError: ``cores`` is empty.
    """
    if not cores:
        raise ValueError("cores must name at least one core")
    if not hasattr(os, "sched_setaffinity"):
        return False
    os.sched_setaffinity(0, set(cores))
    return True
