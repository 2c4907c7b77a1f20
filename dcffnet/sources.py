"""Where ``dcffnet track`` reads frames from: :func:`open_source` turns what the user typed (a video
file, a folder of images, a camera index, a stream URL or a GStreamer pipeline) into a source whose
:meth:`frames` yields :class:`SourceFrame` items.

A :class:`SourceFrame` with ``image=None`` marks a frame the source should have delivered but could
not (a stream gap); writers mark such frames as missing. Indices are 0-based and increase by one per
frame of the source; frames skipped on purpose (``realtime`` mode) leave gaps in the indices.
"""

from __future__ import annotations

import os
import re
from .source_frame import Source, SourceFrame

__all__ = ["SourceFrame", "Source", "open_source", "source_kind", "URL_SCHEMES", "ACCEPTED_FORMS"]


URL_SCHEMES = ("rtsp", "rtsps", "http", "https", "udp", "tcp")

ACCEPTED_FORMS = (
    "a video file or a folder of images; a camera index (0, 1, ...); a stream URL (" +
    ", ".join(f"{scheme}://" for scheme in URL_SCHEMES) +
    "); or a GStreamer pipeline ending in appsink (elements joined by ' ! ')"
)

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_APPSINK = re.compile(r"(^|[\s!])appsink(\s|$)")


def source_kind(spec: "str | int | os.PathLike[str]") -> str:
    """What :func:`open_source` takes ``spec`` for: ``"camera"``, ``"url"``, ``"gstreamer"`` or
    ``"path"`` (a file or folder, whether or not it exists).

    * an ``int`` (not a bool), or a ``str`` of digits only (``"0"``): a camera index; a file or
      folder named by digits is given as ``"./0"`` or a :class:`pathlib.Path`;
    * a ``str`` starting with ``scheme://``: a URL (any scheme; :func:`open_source` accepts those in
      :data:`URL_SCHEMES`);
    * a ``str`` holding `` ! `` or ending in an ``appsink`` element, naming no existing file: a
      GStreamer pipeline;
    * anything else (any :class:`os.PathLike`): a path.

    Raises:
        TypeError: ``spec`` is none of ``str``, ``int``, ``os.PathLike`` (a bool included).
    """
    if isinstance(spec, bool) or not isinstance(spec, (str, int, os.PathLike)):
        raise TypeError(f"source must be a path, a camera index, a URL or a GStreamer pipeline (str, int or "
                        f"os.PathLike), got {type(spec).__name__}: {spec!r}")
    if isinstance(spec, int):
        return "camera"
    if isinstance(spec, os.PathLike):
        return "path"
    if spec.isascii() and spec.isdigit():
        return "camera"
    if _SCHEME.match(spec):
        return "url"
    if (" ! " in spec or _APPSINK.search(spec.rstrip())) and not os.path.exists(spec):
        return "gstreamer"
    return "path"


def open_source(spec: "str | int | os.PathLike[str]", *, realtime: bool = False, reconnect: int = 5,
                backoff: float = 0.5, queue_size: int = 32, timeout: float = 10.0) -> Source:
    """Open what ``dcffnet track`` reads frames from (see :func:`source_kind` for how ``spec`` is read).

    * a video file or image folder: a :class:`dcffnet.video.FrameSource`, read frame by frame when
      iterated; the other arguments are checked but do not apply (every frame is read, nothing
      is dropped or reconnected);
    * a camera index, a URL (:data:`URL_SCHEMES`: RTSP, HTTP(S) MJPEG or HLS, UDP, TCP streams as
      OpenCV's FFmpeg backend reads them) or a GStreamer pipeline (``cv2.CAP_GSTREAMER``, when
      OpenCV was built with GStreamer): a :class:`dcffnet.live.LiveSource` reading on a thread.

    Args:
        spec: the source.
        realtime: live sources: keep only the newest frame, dropping (and counting) older ones a
            slow consumer has not taken (``False``: every frame is handed out).
        reconnect: live sources: reopen attempts after each drop (0: a drop ends the source).
        backoff: live sources: seconds before the first reopen attempt, doubled for each next one
            (at most :data:`dcffnet.live.MAX_BACKOFF` seconds).
        queue_size: live sources: frames read ahead at most in every-frame mode (>= 1).
        timeout: live sources: seconds without a frame that count as a drop (and, for URLs, the
            longest a connection may take to open).

    Raises:
        TypeError, ValueError: a bad argument (the message names it).
        FileNotFoundError: ``spec`` is none of the accepted forms and names no file or folder.
        ValueError: a URL of a scheme not in :data:`URL_SCHEMES`; a file OpenCV cannot open, or a
            folder without images.
        dcffnet.live.SourceOpenError: a camera, URL or pipeline that cannot be opened (an OSError),
            among them a GStreamer pipeline when OpenCV was built without GStreamer.
    """
    from .live import check_live_options

    check_live_options(realtime, reconnect, backoff, queue_size, timeout)
    kind = source_kind(spec)
    if kind == "path":
        if not os.path.exists(spec):
            raise FileNotFoundError(f"source not found: {os.fspath(spec)!r} is no existing file or folder, nor one "
                                    f"of the other accepted forms; a source is {ACCEPTED_FORMS}")
        from .video import FrameSource

        return FrameSource(spec)
    import cv2

    from .frames import opencv_name
    from .live import LiveSource, SourceOpenError, hide_password

    options = dict(realtime=realtime, reconnect=reconnect, backoff=backoff, queue_size=queue_size, timeout=timeout)
    if kind == "camera":
        index = int(spec)  # type: ignore[arg-type]
        if index < 0:
            raise ValueError(f"camera index must be >= 0, got {index}")
        return LiveSource(index, api=cv2.CAP_ANY, **options)
    text = opencv_name(spec, "source")  # type: ignore[arg-type]
    if kind == "url":
        scheme = _SCHEME.match(text).group(1).lower()  # type: ignore[union-attr]
        if scheme not in URL_SCHEMES:
            raise ValueError(f"source {hide_password(text)!r}: URL scheme {scheme}:// is not supported; accepted "
                             f"schemes: {', '.join(f'{s}://' for s in URL_SCHEMES)}")
        return LiveSource(text, api=cv2.CAP_FFMPEG, **options)
    if not cv2.videoio_registry.hasBackend(cv2.CAP_GSTREAMER):
        raise SourceOpenError(f"source {text!r} is a GStreamer pipeline, but this OpenCV ({cv2.__version__}) was "
                              "built without GStreamer (cv2.getBuildInformation() lists 'GStreamer: NO'); use an "
                              "OpenCV built with it, or a URL that FFmpeg reads", text)
    return LiveSource(text, api=cv2.CAP_GSTREAMER, **options)
