"""Live sources: a camera, a network stream or a GStreamer pipeline read by ``cv2.VideoCapture`` on
a thread (:class:`LiveSource`), with reconnection after a drop and the gaps it leaves recorded.

A reader thread pulls frames into a bounded buffer and :meth:`LiveSource.frames` hands them out:

* every-frame mode (the default): the reader waits while the buffer is full, so every frame the
  stream delivers is processed (a slow consumer falls behind the live picture);
* ``realtime`` mode: the buffer keeps only the newest frame; an older one still waiting is
  discarded and counted in :attr:`LiveSource.dropped`; its index is never yielded, so indices jump.

When a read fails or no frame arrives for ``timeout`` seconds the stream has dropped: the capture is
released and opened again after ``backoff`` seconds, twice that the next time, and so on (at most
:data:`MAX_BACKOFF` seconds between attempts), ``reconnect`` times at most. After a successful
reopen the frames lost meanwhile are estimated from the frame rate and yielded as
``SourceFrame(index, time, None)`` (at most :data:`MAX_MISSING_FRAMES` per gap) before the first
new frame; each gap is recorded as a :class:`StreamGap`. When every attempt fails the frames
already read are yielded and then :class:`StreamError` is raised, carrying the gap history.

A finite stream (a video file over HTTP: its container announces a frame count) ends normally when
that many frames have been read; one that fails before is not reopened (it would start again from
its first frame) but ends with :class:`StreamError`.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections import deque
from dataclasses import dataclass
from numbers import Real
from typing import Iterator, Union

import cv2
import numpy as np

from .source_frame import SourceFrame

__all__ = ["LiveSource", "StreamGap", "StreamError", "SourceOpenError", "check_live_options", "hide_password",
           "MAX_BACKOFF", "MAX_MISSING_FRAMES", "DEFAULT_FPS"]

MAX_BACKOFF = 8.0  # seconds: the longest wait between two reopen attempts (unless backoff itself is longer)
MAX_MISSING_FRAMES = 10_000  # placeholders (None frames) yielded for one gap at most
DEFAULT_FPS = 30.0  # frames per second assumed when the stream announces no usable rate
_POLL = 0.05  # seconds: how often waiting threads look at the stop flag
_CLOSE_WAIT = 1.0  # seconds close() waits for the reader thread


class SourceOpenError(OSError):
    """A camera, stream or pipeline could not be opened. ``spec`` is what was given (a URL with its
    password hidden)."""

    def __init__(self, message: str, spec: "int | str") -> None:
        super().__init__(message)
        self.spec = spec

    def __str__(self) -> str:
        return str(self.args[0])


@dataclass(frozen=True)
class StreamGap:
    """One drop of a live stream.

    Attributes:
        start: seconds since the source was opened at which the last frame before the gap was read
            (the time the source was opened when none had been).
        seconds: from ``start`` until the first frame after the gap was read, or, when the stream
            was not recovered, until the last reopen attempt failed.
        first_index: 0-based index of the first frame lost (the one after the last frame read).
        missed: frames estimated lost (``round(seconds * rate) - 1``, ``rate`` the measured frame
            rate or :attr:`LiveSource.fps`, at most :data:`MAX_MISSING_FRAMES`); one
            ``SourceFrame(index, time, None)`` is yielded for each, indices ``first_index`` on.
            0 when not recovered (nothing more is yielded).
        attempts: reopen attempts made (the last one succeeded when ``recovered``).
        recovered: whether a reopen brought frames back.
        reason: why the stream counted as dropped (a failed read, or no frame within the timeout).
    """

    start: float
    seconds: float
    first_index: int
    missed: int
    attempts: int
    recovered: bool
    reason: str


class StreamError(OSError):
    """A live stream dropped and every reopen attempt failed (or ``reconnect=0``, or a finite
    stream stopped before its end).

    Raised by :meth:`LiveSource.frames` after every frame read before the drop has been yielded.

    Attributes:
        spec: the source (a URL with its password hidden).
        frames_read: frames read from the stream in all (0-based indices ``< frames_read`` plus the
            placeholders of recovered gaps were handed out or dropped).
        gaps: every :class:`StreamGap` of the source, the last one the drop that ended it.
    """

    def __init__(self, message: str, spec: "int | str", frames_read: int, gaps: "list[StreamGap]") -> None:
        super().__init__(message)
        self.spec = spec
        self.frames_read = frames_read
        self.gaps = list(gaps)

    def __str__(self) -> str:
        return str(self.args[0])


def check_live_options(realtime: bool, reconnect: int, backoff: float, queue_size: int, timeout: float) -> None:
    """Refuse a bad option of :class:`LiveSource` / :func:`dcffnet.sources.open_source`.

    Raises:
        TypeError: ``realtime`` not a bool, ``reconnect`` / ``queue_size`` not an int, ``backoff`` /
            ``timeout`` not a number.
        ValueError: ``reconnect < 0``, ``queue_size < 1``, ``backoff`` or ``timeout`` not a finite
            number of seconds > 0.
    """
    if not isinstance(realtime, (bool, np.bool_)):
        raise TypeError(f"realtime must be True or False, got {realtime!r}")
    for name, value, low in (("reconnect", reconnect, 0), ("queue_size", queue_size, 1)):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"{name} must be an int, got {value!r}")
        if value < low:
            what = "reopen attempts per drop, 0 for none" if name == "reconnect" else "frames"
            raise ValueError(f"{name} must be >= {low} ({what}), got {value}")
    for name, value in (("backoff", backoff), ("timeout", timeout)):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, Real):
            raise TypeError(f"{name} must be a number of seconds, got {value!r}")
        if not (math.isfinite(value) and value > 0):
            raise ValueError(f"{name} must be a finite number of seconds > 0, got {value}")


def hide_password(spec: "int | str") -> "int | str":
    """``spec`` with the password of a ``scheme://user:password@host`` URL replaced by ``***``."""
    if isinstance(spec, str):
        return re.sub(r"^([A-Za-z][A-Za-z0-9+.-]*://[^/@:]*):[^/@]*@", r"\1:***@", spec)
    return spec


@dataclass(frozen=True)
class _End:
    """The reader thread's last item: how the stream ended (``None``: closed or a finite stream's end)."""

    error: BaseException | None


# items of the buffer between the reader thread and frames()
_Item = Union[SourceFrame, StreamGap, _End]


class _Buffer:
    """The bounded buffer between the reader thread and the consumer (a deque under a condition).

    Every-frame mode: ``put`` waits while ``size`` items are waiting. Realtime mode: a new frame
    replaces a frame still waiting (counted in ``dropped``); gap records and the end marker are
    never replaced or refused.
    """

    def __init__(self, size: int, realtime: bool, stop: threading.Event) -> None:
        self._items: deque[_Item] = deque()
        self._cond = threading.Condition()
        self._size = size
        self._realtime = realtime
        self._stop = stop
        self.dropped = 0

    def put(self, item: _Item) -> bool:
        """Append ``item``; ``False`` when the source was closed meanwhile (nothing appended)."""
        with self._cond:
            if isinstance(item, SourceFrame):
                if self._realtime:
                    waiting = [old for old in self._items if isinstance(old, SourceFrame)]
                    for old in waiting:
                        self._items.remove(old)
                    self.dropped += len(waiting)
                else:
                    while len(self._items) >= self._size and not self._stop.is_set():
                        self._cond.wait(_POLL)
            if self._stop.is_set() and not isinstance(item, _End):
                return False
            self._items.append(item)
            self._cond.notify_all()
            return True

    def get(self) -> _Item | None:
        """The next item, waiting for one; ``None`` once the source is closed."""
        with self._cond:
            while not self._items:
                if self._stop.is_set():
                    return None
                self._cond.wait(_POLL)
            if self._stop.is_set() and not isinstance(self._items[0], _End):
                return None
            item = self._items.popleft()
            self._cond.notify_all()
            return item

    def wake(self) -> None:
        with self._cond:
            self._cond.notify_all()


class LiveSource:
    """Frames of a camera, a network stream or a GStreamer pipeline, read on a thread.

    Opened by :func:`dcffnet.sources.open_source`; see the module docstring for the two modes,
    reconnection and gaps. The capture is opened when the source is made (so a source that cannot
    be opened fails here, not later) and the reader thread starts at once.

    Args:
        target: a camera index (``int``), or a URL / GStreamer pipeline (``str``) as
            ``cv2.VideoCapture`` takes it.
        api: the OpenCV backend (``cv2.CAP_ANY``, ``cv2.CAP_FFMPEG``, ``cv2.CAP_GSTREAMER``). With
            FFmpeg, ``timeout`` is also OpenCV's open and read timeout; other backends wait as
            long as they themselves do.
        realtime: keep only the newest frame (``True``) or hand out every frame (``False``).
        reconnect: reopen attempts after each drop (0: a drop ends the source with :class:`StreamError`).
        backoff: seconds before the first reopen attempt of a drop; doubled for each further one,
            up to :data:`MAX_BACKOFF` (or ``backoff`` when that is longer).
        queue_size: frames waiting for the consumer at most in every-frame mode (realtime mode
            keeps one).
        timeout: seconds without a frame after which the stream counts as dropped (FFmpeg: also the
            longest a connection may take to open).

    Attributes:
        spec: the source as given (a URL with its password hidden), for messages.
        fps: the frame rate the stream announces (``CAP_PROP_FPS``), or :data:`DEFAULT_FPS` when it
            announces none or an implausible one; a stream's announced rate can be a guess (FFmpeg
            says 25 for MJPEG over HTTP), :attr:`measured_fps` is what arrives.
        frame_count: 0 (unknown: a live source has no end known in advance).
        realtime, reconnect, backoff, queue_size, timeout: the options.
        error: the :class:`StreamError` that ended the source, once it did (also raised by :meth:`frames`).

    Raises:
        SourceOpenError: the capture cannot be opened.
        TypeError, ValueError: a bad option (:func:`check_live_options`).
    """

    def __init__(self, target: "int | str", *, api: int = cv2.CAP_ANY, realtime: bool = False, reconnect: int = 5,
                 backoff: float = 0.5, queue_size: int = 32, timeout: float = 10.0) -> None:
        check_live_options(realtime, reconnect, backoff, queue_size, timeout)
        if isinstance(target, bool) or not isinstance(target, (int, str)):
            raise TypeError(f"target must be a camera index (int) or a URL / pipeline (str), got {target!r}")
        self.target = target
        self.spec = hide_password(target)
        self.api = int(api)
        self.realtime = bool(realtime)
        self.reconnect = int(reconnect)
        self.backoff = float(backoff)
        self.queue_size = int(queue_size)
        self.timeout = float(timeout)
        self.frame_count = 0
        self.error: StreamError | None = None
        self._gaps: list[StreamGap] = []
        self._frames_read = 0
        self._arrivals: deque[float] = deque(maxlen=32)  # read times since the last (re)open
        self._stop = threading.Event()
        self._buffer = _Buffer(self.queue_size, self.realtime, self._stop)
        self._iterated = False
        cap = self._open()
        if not cap.isOpened():
            cap.release()
            raise SourceOpenError(self._open_failure(), self.spec)
        fps = cap.get(cv2.CAP_PROP_FPS)
        self.fps = float(fps) if math.isfinite(fps) and 0 < fps <= 1000 else DEFAULT_FPS
        count = cap.get(cv2.CAP_PROP_FRAME_COUNT)
        # a finite stream (a video file over HTTP) says how many frames it has: reaching them is its end
        self._announced = int(count) if math.isfinite(count) and 0 < count < 2 ** 40 else 0
        self._opened_at = time.monotonic()
        self._thread = threading.Thread(target=self._run, args=(cap,), daemon=True,
                                        name=f"dcffnet-live-{self.spec}")
        self._thread.start()

    # ---- counters ---------------------------------------------------------------------------

    @property
    def frames_read(self) -> int:
        """Frames read from the stream and passed on so far (handed out, waiting in the buffer, or
        dropped in realtime mode); placeholders of gaps are not counted."""
        return self._frames_read

    @property
    def dropped(self) -> int:
        """Frames discarded in realtime mode because a newer one arrived before they were taken."""
        return self._buffer.dropped

    @property
    def gaps(self) -> list[StreamGap]:
        """Every drop so far, oldest first (a copy)."""
        return list(self._gaps)

    @property
    def measured_fps(self) -> float | None:
        """Frames per second arriving from the stream lately (over up to the last 32 frames since
        the last (re)open), or ``None`` before enough have arrived."""
        times = list(self._arrivals)
        if len(times) < 9 or times[-1] - times[0] < 0.2:
            return None
        return (len(times) - 1) / (times[-1] - times[0])

    @property
    def running(self) -> bool:
        """Whether the reader thread is still running."""
        return self._thread.is_alive()

    # ---- consumer side ----------------------------------------------------------------------

    def frames(self) -> Iterator[SourceFrame]:
        """The frames, in order, as :class:`dcffnet.sources.SourceFrame` items (``time``: seconds
        since the source was opened, when the frame was read; ``image`` ``None`` for a frame lost
        in a gap, ``time`` then spread evenly over the gap). A live source can be iterated once;
        leaving the iteration early (``break``, an exception, Ctrl-C) closes the source, and
        :meth:`close` from another thread ends the iteration (quietly, at the next frame).

        Raises:
            RuntimeError: ``frames()`` called a second time (at the call).
            StreamError: the stream dropped and could not be reopened; raised by the iteration after
                every frame read before the drop has been yielded (also kept in :attr:`error`).
        """
        if self._iterated:
            raise RuntimeError(f"frames() of live source {self.spec!r} can be iterated only once; open it again")
        self._iterated = True
        return self._iterate()

    def _iterate(self) -> Iterator[SourceFrame]:
        try:
            while True:
                item = self._buffer.get()
                if item is None:  # closed
                    return
                if isinstance(item, _End):
                    if item.error is not None:
                        raise item.error
                    return
                if isinstance(item, StreamGap):
                    step = item.seconds / (item.missed + 1)
                    for k in range(item.missed):
                        if self._stop.is_set():
                            return
                        yield SourceFrame(item.first_index + k, item.start + (k + 1) * step, None)
                    continue
                yield item
        finally:
            self.close()

    def close(self) -> None:
        """Stop the reader thread and release the capture; safe to call twice, from any thread.

        Returns within about a second: when the reader is inside a read that has not returned yet,
        it releases the capture as soon as it does (FFmpeg streams: within ``timeout`` seconds)."""
        self._stop.set()
        self._buffer.wake()
        if threading.current_thread() is not self._thread:
            self._thread.join(_CLOSE_WAIT)

    def __enter__(self) -> "LiveSource":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        mode = "realtime" if self.realtime else "every frame"
        return f"LiveSource({self.spec!r}, {mode}, fps={self.fps:g}, frames_read={self._frames_read})"

    # ---- reader side ------------------------------------------------------------------------

    def _open(self) -> cv2.VideoCapture:
        if self.api == cv2.CAP_FFMPEG:
            ms = max(1, int(round(self.timeout * 1000)))
            params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, ms, cv2.CAP_PROP_READ_TIMEOUT_MSEC, ms]
            return cv2.VideoCapture(self.target, self.api, params)
        return cv2.VideoCapture(self.target, self.api)

    def _open_failure(self) -> str:
        if isinstance(self.target, int):
            return (f"camera {self.target} cannot be opened: there is no such camera, it is in use, or "
                    f"OpenCV has no backend for it")
        if self.api == cv2.CAP_GSTREAMER:
            return f"GStreamer pipeline {self.spec!r} cannot be opened (an element is missing or misconfigured)"
        return (f"stream {self.spec!r} cannot be opened: no answer within {self.timeout:g} s, the connection "
                f"was refused, or it is not a video stream OpenCV's FFmpeg reads")

    def _now(self) -> float:
        return time.monotonic() - self._opened_at

    def _deliver(self, index: int, image: np.ndarray) -> float | None:
        """Pass a frame just read on; its time (seconds since open), or ``None`` when the source was
        closed meanwhile."""
        now = self._now()
        self._arrivals.append(now)
        if not self._buffer.put(SourceFrame(index, now, image)):
            return None
        self._frames_read += 1
        return now

    def _run(self, cap: cv2.VideoCapture) -> None:
        error: BaseException | None = None
        index = 0  # the next frame's index
        last_time = 0.0  # when the last frame was read (seconds since open)
        read_since_open = 0
        try:
            while not self._stop.is_set():
                started = time.monotonic()
                ok, image = cap.read()
                if self._stop.is_set():
                    break
                if ok and image is not None:
                    delivered = self._deliver(index, image)
                    if delivered is None:
                        break
                    index += 1
                    read_since_open += 1
                    last_time = delivered
                    continue
                waited = time.monotonic() - started
                reason = (f"no frame for {waited:.1f} s" if waited >= 0.9 * self.timeout
                          else "a read failed (the stream ended or the connection closed)")
                if self._announced:
                    if read_since_open >= self._announced - max(1, self._announced // 200):
                        break  # a finite stream read to its end
                    # reopening a finite stream would start it again from its first frame
                    reason += f" before the end of a finite stream ({self._announced} frames announced)"
                cap.release()
                cap, image, attempts = self._reopen() if not self._announced else (None, None, 0)
                if cap is None:
                    if self._stop.is_set():
                        break
                    gap = StreamGap(last_time, self._now() - last_time, index, 0, attempts, False, reason)
                    self._gaps.append(gap)
                    error = self._give_up(gap)
                    break
                first_time = self._now()
                seconds = first_time - last_time
                rate = self.measured_fps or self.fps
                missed = min(max(0, round(seconds * rate) - 1), MAX_MISSING_FRAMES)
                gap = StreamGap(last_time, seconds, index, missed, attempts, True, reason)
                self._gaps.append(gap)
                self._arrivals.clear()
                if not self._buffer.put(gap):
                    break
                index += missed
                delivered = self._deliver(index, image)
                if delivered is None:
                    break
                index += 1
                read_since_open = 1
                last_time = delivered
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, raised there
            error = exc
        finally:
            if cap is not None:
                cap.release()
            if isinstance(error, StreamError):
                self.error = error
            self._buffer.put(_End(error))

    def _reopen(self) -> "tuple[cv2.VideoCapture | None, np.ndarray | None, int]":
        """Reopen after a drop: ``(capture, first frame, attempts)``, or ``(None, None, attempts)``
        when every attempt failed or the source was closed."""
        wait = self.backoff
        for attempt in range(1, self.reconnect + 1):
            if self._stop.wait(wait):
                return None, None, attempt - 1
            wait = min(wait * 2, max(MAX_BACKOFF, self.backoff))
            cap = self._open()
            if cap.isOpened():
                ok, image = cap.read()
                if ok and image is not None:
                    return cap, image, attempt
            cap.release()
        return None, None, self.reconnect

    def _give_up(self, gap: StreamGap) -> StreamError:
        if self._announced:
            tried = "not reopened (it would start again from its first frame)"
        elif self.reconnect == 0:
            tried = "not reopened (reconnect=0)"
        else:
            tried = f"{gap.attempts} reopen attempt{'s' if gap.attempts != 1 else ''} failed over {gap.seconds:.1f} s"
        recovered = sum(1 for g in self._gaps if g.recovered)
        history = f"; {recovered} earlier drop{'s' if recovered != 1 else ''} recovered" if recovered else ""
        message = (f"live source {self.spec!r} dropped after {self._frames_read} frames ({gap.reason}) and "
                   f"{tried}{history}")
        return StreamError(message, self.spec, self._frames_read, self._gaps)
