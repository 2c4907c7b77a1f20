"""SIGINT (Ctrl-C) and SIGTERM as a request to stop a long loop cleanly, as ``dcffnet track`` does."""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Any

__all__ = ["Interrupted", "StopSignals"]


class Interrupted(KeyboardInterrupt):
    """A run was stopped by SIGINT or SIGTERM after saving what it had (the message says what).

    A ``KeyboardInterrupt``, so code that lets Ctrl-C through lets this through too.

    Attributes:
        signum: the signal (``signal.SIGINT`` or ``signal.SIGTERM``).
        exit_code: the shell's convention for it, ``128 + signum`` (130 for SIGINT, 143 for SIGTERM).
    """

    def __init__(self, message: str, signum: int) -> None:
        super().__init__(message)
        self.signum = int(signum)

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


class StopSignals:
    """While entered, SIGINT and SIGTERM ask the running loop to stop instead of ending the process.

    The loop checks :attr:`requested` after each step and stops there; a second signal raises
    ``KeyboardInterrupt`` at once (for a step that hangs). The previous handlers are restored on
    exit. Signals that were ignored on entry (a job started in the background) stay ignored, and
    outside the main thread (where Python cannot install handlers) nothing is changed.

    Attributes:
        signum: the first signal received, or ``None``.
    """

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.signum: int | None = None
        self._previous: dict[int, Any] = {}

    @property
    def requested(self) -> bool:
        """Whether a signal asked the loop to stop."""
        return self.signum is not None

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.signum is not None:
            raise KeyboardInterrupt(f"signal {signal.Signals(signum).name} received twice")
        self.signum = signum

    def __enter__(self) -> "StopSignals":
        if threading.current_thread() is threading.main_thread():
            for sig in self.SIGNALS:
                previous = signal.getsignal(sig)
                if previous is signal.SIG_IGN:
                    continue
                self._previous[sig] = previous
                signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, previous in self._previous.items():
            # None: a handler installed outside Python, which cannot be put back; the default is closest
            signal.signal(sig, signal.SIG_DFL if previous is None else previous)
        self._previous.clear()
