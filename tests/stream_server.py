"""A small MJPEG-over-HTTP "camera" for tests (127.0.0.1 only, a free port).

``GET /stream.mjpg`` answers ``multipart/x-mixed-replace; boundary=...`` with one JPEG part per
frame, the way network cameras serve MJPEG; OpenCV's FFmpeg backend reads it. The frames are those
of a video file (the bundled example clip), looped when more are asked for than it has, each with
its frame number stamped into its top-left corner (:func:`read_stamp` reads it back), so a test can
tell exactly which frames arrived.

The server behaves like a live camera: its clock starts with the first connection and frame ``k``
is due ``k / fps`` seconds later. The first connection gets every frame from 0; a later one starts
at the frame due when it connects (what it missed is gone). After ``max_frames`` frames the stream
ends: connections are closed and new ones get ``404``. It can misbehave on purpose:

* ``outage_at`` / ``outage_seconds``: when frame ``outage_at`` is due the server closes every
  connection and stops listening, and listens again on the same port ``outage_seconds`` later
  (the clock runs on, so the frames due meanwhile are never sent);
* :meth:`MjpegServer.stall`: connections stay open but nothing more is sent until :meth:`resume`.

``GET /clip.mp4`` serves the video file itself (with HTTP ranges, which FFmpeg needs to seek);
``GET /clip.mp4?cut=0.5`` breaks off every response at half the file (see :meth:`_serve_file`).
"""

from __future__ import annotations

import math
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import cv2
import numpy as np

CLIP = Path(__file__).resolve().parents[1] / "examples" / "assets" / "vtest_150.mp4"
BOUNDARY = "dcffnetframe"
STAMP_BITS = 12  # frame numbers 0..4095
STAMP_CELL = 16  # pixels per bit, a row of cells along the top edge
STAMP_ROWS = STAMP_CELL  # rows of the frame the stamp covers (compare content below them)


def clip_frames(path: Path = CLIP, count: int | None = None) -> list[np.ndarray]:
    """The first ``count`` frames of the video at ``path`` (all when ``None``), BGR uint8."""
    cap = cv2.VideoCapture(str(path))
    frames: list[np.ndarray] = []
    try:
        while count is None or len(frames) < count:
            ok, frame = cap.read()
            if not ok:
                break
            frames.append(frame)
    finally:
        cap.release()
    if not frames:
        raise ValueError(f"no frames could be read from {path}")
    return frames


def stamp(image: np.ndarray, number: int) -> np.ndarray:
    """A copy of ``image`` with ``number`` written as ``STAMP_BITS`` black (0) / white (1) cells
    along the top edge, most significant bit first."""
    if not 0 <= number < 2 ** STAMP_BITS:
        raise ValueError(f"number must be in 0..{2 ** STAMP_BITS - 1}, got {number}")
    out = image.copy()
    for bit in range(STAMP_BITS):
        value = 255 if (number >> (STAMP_BITS - 1 - bit)) & 1 else 0
        out[:STAMP_CELL, bit * STAMP_CELL:(bit + 1) * STAMP_CELL] = value
    return out


def read_stamp(image: np.ndarray) -> int:
    """The number :func:`stamp` wrote into ``image`` (read from the centre of each cell, so JPEG
    ringing at the cell edges does not matter)."""
    number = 0
    margin = STAMP_CELL // 4
    for bit in range(STAMP_BITS):
        cell = image[margin:STAMP_CELL - margin, bit * STAMP_CELL + margin:(bit + 1) * STAMP_CELL - margin]
        number = (number << 1) | int(cell.mean() > 127)
    return number


class _Handler(BaseHTTPRequestHandler):
    server_version = "TestCamera/1.0"
    protocol_version = "HTTP/1.0"  # one request per connection; the stream ends when it closes

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        pass

    def do_GET(self) -> None:  # noqa: N802 - the base class's naming
        owner: MjpegServer = self.server.owner  # type: ignore[attr-defined]
        path = urlsplit(self.path).path
        try:
            if path == "/stream.mjpg":
                owner._serve_stream(self)
            elif path == "/clip.mp4":
                owner._serve_file(self)
            else:
                self.send_error(404, "no such stream")
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            pass  # the client went away


class MjpegServer:
    """The test camera; see the module docstring. Use it as a context manager, or call :meth:`close`.

    Args:
        fps: frames per second of the live clock.
        max_frames: frames in the whole stream (looping the clip when it has fewer).
        outage_at: the frame at which the server goes away for ``outage_seconds`` (``None``: never).
        outage_seconds: how long it stays away.
        quality: JPEG quality (0-100).
        path: the video file whose frames are served.

    Attributes:
        url: the MJPEG stream, ``http://127.0.0.1:PORT/stream.mjpg``.
        file_url: the video file over HTTP, ``http://127.0.0.1:PORT/clip.mp4``.
        frames: the frames served (before stamping), ``frames[k % len(frames)]`` is frame ``k``.
        connections: stream connections accepted so far.
        sent: the frame numbers sent so far, over all connections, in order.
        outage_done: set once the server is listening again after the outage.
    """

    def __init__(self, *, fps: float = 30.0, max_frames: int = 60, outage_at: int | None = None,
                 outage_seconds: float = 2.0, quality: int = 90, path: Path = CLIP) -> None:
        if not fps > 0:
            raise ValueError(f"fps must be > 0, got {fps}")
        if max_frames < 1 or max_frames > 2 ** STAMP_BITS:
            raise ValueError(f"max_frames must be in 1..{2 ** STAMP_BITS}, got {max_frames}")
        self.path = Path(path)
        self.fps = float(fps)
        self.max_frames = int(max_frames)
        self.outage_at = outage_at
        self.outage_seconds = float(outage_seconds)
        self.frames = clip_frames(self.path, min(self.max_frames, 150))
        self._quality = int(quality)
        self._parts: dict[int, bytes] = {}  # frame number -> its multipart part, encoded when first sent
        self.connections = 0
        self.sent: list[int] = []
        self.outage_done = threading.Event()
        self._lock = threading.Lock()
        self._start: float | None = None  # monotonic time of frame 0
        self._generation = 0  # bumped by an outage: connections of an older generation stop
        self._down = False
        self._stalled = threading.Event()
        self._closed = threading.Event()
        self._httpd = self._listen(0)
        self.port = self._httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/stream.mjpg"
        self.file_url = f"http://127.0.0.1:{self.port}/clip.mp4"

    def _listen(self, port: int) -> ThreadingHTTPServer:
        httpd = ThreadingHTTPServer(("127.0.0.1", port), _Handler)
        httpd.daemon_threads = True
        httpd.owner = self  # type: ignore[attr-defined]
        threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True,
                         name="test-camera-listener").start()
        return httpd

    def _due(self, k: int) -> float:
        assert self._start is not None
        return self._start + k / self.fps

    def _current_frame(self) -> int:
        assert self._start is not None
        return max(0, math.floor((time.monotonic() - self._start) * self.fps))

    def _serve_stream(self, handler: BaseHTTPRequestHandler) -> None:
        with self._lock:
            if self._down or self._closed.is_set():
                handler.send_error(503, "camera is down")
                return
            if self._start is None:
                self._start = time.monotonic()
                if self.outage_at is not None:
                    threading.Thread(target=self._outage, daemon=True, name="test-camera-outage").start()
                first = 0
            else:
                first = self._current_frame()
            if first >= self.max_frames:
                handler.send_error(404, "the stream has ended")
                return
            generation = self._generation
            self.connections += 1
        handler.send_response(200)
        handler.send_header("Content-Type", f"multipart/x-mixed-replace; boundary={BOUNDARY}")
        handler.send_header("Cache-Control", "no-cache")
        handler.end_headers()
        for k in range(first, self.max_frames):
            while True:  # wait until frame k is due (and while stalled), watching for an outage
                if self._closed.is_set() or self._generation != generation:
                    return
                wait = self._due(k) - time.monotonic()
                if wait <= 0 and not self._stalled.is_set():
                    break
                time.sleep(min(0.02, wait) if wait > 0 else 0.02)
            handler.wfile.write(self._part(k))
            handler.wfile.flush()
            with self._lock:
                self.sent.append(k)

    def _part(self, k: int) -> bytes:
        part = self._parts.get(k)
        if part is None:
            image = stamp(self.frames[k % len(self.frames)], k)
            jpeg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, self._quality])[1].tobytes()
            head = f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n\r\n"
            part = self._parts[k] = head.encode("ascii") + jpeg + b"\r\n"
        return part

    def _serve_file(self, handler: BaseHTTPRequestHandler) -> None:
        data = self.path.read_bytes()
        query = parse_qs(urlsplit(handler.path).query)
        # ?cut=F: the bytes from F (a fraction of the file) up to the 'moov' index box are never sent:
        # a response reaching them stops there, as a connection that breaks mid-file
        cut = round(float(query["cut"][0]) * len(data)) if "cut" in query else None
        index_box = data.rfind(b"moov") - 4
        match = re.fullmatch(r"bytes=(\d+)-(\d*)", handler.headers.get("Range", ""))
        if match:
            start = int(match.group(1))
            end = int(match.group(2)) if match.group(2) else len(data) - 1
            end = min(end, len(data) - 1)
            if start > end or (cut is not None and cut <= start < index_box):
                handler.send_error(416, "range not satisfiable")
                return
            handler.send_response(206)
            handler.send_header("Content-Range", f"bytes {start}-{end}/{len(data)}")
        else:
            start, end = 0, len(data) - 1
            handler.send_response(200)
        handler.send_header("Content-Type", "video/mp4")
        handler.send_header("Accept-Ranges", "bytes")
        handler.send_header("Content-Length", str(end - start + 1))
        handler.end_headers()
        stop = min(end + 1, cut) if cut is not None and start < cut else end + 1
        handler.wfile.write(data[start:stop])

    def _outage(self) -> None:
        assert self.outage_at is not None
        while time.monotonic() < self._due(self.outage_at):
            if self._closed.wait(0.01):
                return
        with self._lock:
            self._down = True
            self._generation += 1  # every open connection stops at its next frame
        self._httpd.shutdown()
        self._httpd.server_close()  # refuse new connections: nobody listens
        if self._closed.wait(self.outage_seconds):
            return
        with self._lock:
            if self._closed.is_set():
                return
            self._httpd = self._listen(self.port)
            self._down = False
        self.outage_done.set()

    def stall(self) -> None:
        """Keep connections open but send nothing more (until :meth:`resume`)."""
        self._stalled.set()

    def resume(self) -> None:
        """Send frames again after :meth:`stall` (the ones due meanwhile are sent at once)."""
        self._stalled.clear()

    def close(self) -> None:
        """Stop serving and close every connection; safe to call twice."""
        if self._closed.is_set():
            return
        with self._lock:
            self._closed.set()
            httpd = self._httpd
        httpd.shutdown()
        httpd.server_close()

    def __enter__(self) -> "MjpegServer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
