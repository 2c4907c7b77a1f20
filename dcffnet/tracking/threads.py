"""How many intra-op threads a tracker's network runs with: fixed, or chosen while tracking.

``Tracker(threads="auto")`` uses a :class:`ThreadChooser`: it times the network calls at each
candidate thread count now and then and runs the rest at the fastest. On an idle machine more
threads usually win; beside a busy process one thread usually does, because the extra threads
wait for a core (measured in docs/performance.md). The choice follows the machine as it changes.
"""

from __future__ import annotations

import os
import statistics
from typing import Sequence

from ..fields import is_positive_int

__all__ = ["ThreadChooser", "thread_candidates", "MAX_THREADS_ENV", "max_threads_from_env"]

#: environment variable that caps the thread counts ``threads="auto"`` chooses from (a positive
#: integer): the batch workers of :mod:`dcffnet.jobs` set it to their share of the cores, so that
#: N workers x threads stay within the machine
MAX_THREADS_ENV = "DCFFNET_MAX_THREADS"


def max_threads_from_env() -> int | None:
    """The cap set by :data:`MAX_THREADS_ENV`, or ``None`` when it is unset or empty.

    Raises:
        ValueError: the variable holds something other than a positive integer.
    """
    text = os.environ.get(MAX_THREADS_ENV, "").strip()
    if not text:
        return None
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"{MAX_THREADS_ENV} must be a positive integer (threads), got {text!r}")
    return int(text)


def thread_candidates(cpus: int | None = None) -> tuple[int, ...]:
    """The thread counts ``threads="auto"`` chooses from on a machine with ``cpus`` cores (default:
    the cores this process may use, at most :data:`MAX_THREADS_ENV` when that is set): 1, 2, 4
    and all of them, those the machine has."""
    if cpus is None:
        cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        cap = max_threads_from_env()
        if cap is not None:
            cpus = min(cpus, cap)
    if not is_positive_int(cpus):
        raise ValueError(f"cpus must be a positive integer, got {cpus!r}")
    return tuple(sorted({n for n in (1, 2, 4, cpus) if n <= cpus}))


class ThreadChooser:
    """Pick the thread count whose network calls are fastest, measured while tracking.

    Calls alternate between *probing* (``probe`` calls at each candidate in turn, the current
    choice included, so all are timed under the same load) and *running* ``period`` calls at the
    candidate with the lowest median seconds per crop in its latest probe (the first call at each
    candidate is left out: it pays for waking that many threads). Tracking starts with a probe.
    Results do not depend on the choice beyond float rounding (ONNX Runtime's CPU kernels give
    identical outputs at 1 and 2 threads; PyTorch's may differ in the last bits).

    Args:
        candidates: thread counts to choose from (at least one; positive integers).
        period: calls between probes.
        probe: calls timed at each candidate per probe.
    """

    def __init__(self, candidates: Sequence[int], period: int = 200, probe: int = 6) -> None:
        counts = tuple(dict.fromkeys(candidates))
        if not counts or not all(is_positive_int(n) for n in counts):
            raise ValueError(f"candidates must be positive integers (at least one), got {candidates!r}")
        for name, value in (("period", period), ("probe", probe)):
            if not is_positive_int(value):
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        self.candidates = counts
        self.period = period
        self.probe = probe
        #: the thread count used outside probes (the fastest of the last probe)
        self.best = counts[0]
        self._samples: dict[int, list[float]] = {n: [] for n in counts}
        self._step = 0  # position in the cycle: probe (len(counts) * probe calls), then period calls

    @property
    def probing(self) -> bool:
        """Whether the next call belongs to a probe."""
        return len(self.candidates) > 1 and self._step < len(self.candidates) * self.probe

    @property
    def current(self) -> int:
        """The thread count for the next network call."""
        if self.probing:
            return self.candidates[self._step // self.probe]
        return self.best

    def record(self, threads: int, seconds: float, crops: int = 1) -> None:
        """Report one network call: ``crops`` crops took ``seconds`` at ``threads`` threads.

        Calls made at another count than :attr:`current` (a caller that changed its mind) are
        not counted in the probe but still advance the cycle."""
        if crops < 1:
            raise ValueError(f"crops must be >= 1, got {crops}")
        # the first call at each count of a probe is not counted: it wakes that count's thread pool
        first = self._step % self.probe == 0 and self.probe > 1
        if self.probing and threads == self.current and not first:
            self._samples[threads].append(seconds / crops)
        self._step += 1
        if self._step == len(self.candidates) * self.probe:
            timed = {n: statistics.median(s) for n, s in self._samples.items() if s}
            if timed:
                self.best = min(timed, key=lambda n: (timed[n], n))
            self._samples = {n: [] for n in self.candidates}
        elif self._step >= len(self.candidates) * self.probe + self.period:
            self._step = 0

    def __repr__(self) -> str:
        return (f"ThreadChooser(candidates={self.candidates}, period={self.period}, probe={self.probe}, "
                f"best={self.best})")
