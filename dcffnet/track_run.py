"""The run of ``dcffnet track``: :func:`run_track` reads a source (file, folder, camera, stream),
tracks one or several targets and writes the annotated video and the boxes file as it goes;
:func:`parse_box` reads a box typed on the command line. :mod:`dcffnet.cli` and
:mod:`dcffnet.jobs` (``dcffnet track-many``) both call :func:`run_track`."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from typing import Any, Sequence

__all__ = ["parse_box", "run_track"]


def parse_box(text: str) -> tuple[float, float, float, float]:
    """Parse ``"x,y,w,h"`` (pixels, 0-based) into four floats."""
    parts = [p for p in text.replace(" ", ",").split(",") if p]
    if len(parts) != 4:
        raise argparse.ArgumentTypeError(f"--box must be x,y,w,h (four numbers), got {text!r}")
    try:
        values = tuple(float(p) for p in parts)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"--box must be x,y,w,h (four numbers), got {text!r}") from exc
    return values  # type: ignore[return-value]


def run_track(source: "str | int", box: Sequence[float] | None = None, weights: str = "default", *,
              targets: "Sequence[Any] | str | os.PathLike[str] | None" = None, revision: str | None = None,
              preset: str | None = None, device: str | None = None, output: str | None = None,
              boxes_path: str | None = None, boxes_format: str | None = None, max_frames: int | None = None,
              show_score: bool = False, labels: bool = True, realtime: bool = False, reconnect: int | None = None,
              progress: bool = True, stream=None) -> dict[str, float]:
    """Track one or several targets through a video file, image folder, camera or stream; optionally
    write an annotated video and a boxes file (docs/cli-outputs.md).

    One target runs in a :class:`~dcffnet.Tracker`, several in a :class:`~dcffnet.MultiTracker`
    (one batched network pass per frame). Every argument, the targets and both outputs are checked
    before the weights are loaded or a frame is read, and the outputs are written as the frames are
    tracked: the boxes file holds complete lines for every frame tracked so far, so nothing already
    computed is lost when the run stops early.

    Args:
        source: video file, folder of frames, camera index, ``rtsp://`` / ``http(s)://`` URL or
            GStreamer pipeline (:func:`dcffnet.sources.open_source`).
        box: ``(x, y, w, h)`` of the one target in the first frame (pixels, 0-based); its id is 1.
        weights: checkpoint folder, bundled name or hub repo id.
        targets: instead of ``box``: :class:`dcffnet.targets.TargetSpec` items, or the path of a
            targets JSON file (:func:`dcffnet.targets.read_targets`); each target starts at its frame.
        output: annotated video path (``.mp4``, ``.avi``, ``.mov``, ``.mkv``, ``.m4v``): each target
            in its own colour, labelled with its id (``show_score``: and its score; ``labels=False``:
            boxes only); lost targets dashed. Frames the source lost are not in it.
        boxes_path: the boxes file; its format is ``boxes_format`` (``txt``, ``csv``/``mot``,
            ``jsonl``) or follows the suffix (``.txt``, ``.csv``, ``.jsonl``/``.ndjson``). The
            folders of both outputs must exist; an existing file is replaced.
        max_frames: stop after this many frames of the source (missing ones included).
        realtime: (live sources) keep only the newest frame; frames dropped meanwhile are counted.
        reconnect: (live sources) reopen attempts after a drop (``None``: the source's default).

    Returns:
        ``{"frames", "seconds", "fps", "tracker_fps", "targets", "missing", "dropped"}``: frames
        tracked, wall-clock totals including decoding and writing, the rate of the trackers' calls
        alone, targets started, frames the source lost, frames a real-time source dropped.

    Raises:
        ValueError: ``box`` and ``targets`` both or neither given, ``show_score`` without
            ``labels``, ``max_frames < 1`` or before a target's start frame, a bad boxes format
            (:class:`dcffnet.outputs.BoxesFormatError`) or targets file
            (:class:`dcffnet.targets.TargetsFileError`).
        dcffnet.video.OutputPathError: an output that is (after following links) an input file or
            the other output, a folder, in a folder that does not exist, or not writable.
        dcffnet.video.FrameReadError: a frame could not be read; the outputs hold the frames before it.
        dcffnet.interrupts.Interrupted: SIGINT or SIGTERM (in the main thread) stopped the run after
            the current frame; the outputs are complete for the frames tracked, the message says how many.
    """
    import contextlib
    import threading

    from tqdm import tqdm

    from .interrupts import Interrupted, StopSignals
    from .outputs import boxes_format as choose_format
    from .outputs import open_boxes_writer
    from .sources import open_source, source_kind
    from .targets import check_targets, mot_ids, read_targets, targets_from_boxes
    from .track_targets import TargetsTracker
    from .video import PALETTE, AnnotatedVideoWriter, FrameReadError, check_outputs, video_fourcc

    stream = stream or sys.stderr
    if (box is None) == (targets is None):
        raise ValueError("dcffnet track needs the targets: --box x,y,w,h (repeatable) or --targets FILE, not both"
                         if box is not None else
                         "dcffnet track needs the targets: --box x,y,w,h (repeatable) or --targets FILE")
    if targets is None:
        specs = targets_from_boxes([box])
    elif isinstance(targets, (str, os.PathLike)):
        specs = read_targets(targets)
    else:
        specs = check_targets(targets)
    if max_frames is not None and (isinstance(max_frames, bool) or not isinstance(max_frames, int) or max_frames < 1):
        raise ValueError(f"--max-frames must be an integer >= 1, got {max_frames!r}")
    late = [t for t in specs if max_frames is not None and t.frame >= max_frames]
    if late:
        raise ValueError(f"target {late[0].id!r} starts at frame {late[0].frame}, but --max-frames {max_frames} "
                         f"stops before it (frames 0-{max_frames - 1})")
    if show_score and not labels:
        raise ValueError("--show-score draws the score in the label, --no-labels draws none: give one of them")
    if boxes_format is not None and boxes_path is None:
        raise ValueError("--boxes-format needs --boxes FILE")
    fmt, format_error = None, None
    if boxes_path is not None:
        try:
            fmt = choose_format(boxes_path, boxes_format, len(specs))
        except ValueError as exc:  # raised after the path checks: an output that is an input says so first
            format_error = exc
    options: dict[str, Any] = {}
    if realtime:
        options["realtime"] = True
    if reconnect is not None:
        options["reconnect"] = reconnect
    # a file or folder is opened first (its files are inputs the outputs must not be); a live source
    # after the weights are loaded, so no frame is dropped or queued while the model loads
    live = source_kind(source) != "path"
    src = None if live else open_source(source, **options)
    try:
        check_outputs(getattr(src, "input_files", ()), {"--output": output, "--boxes": boxes_path})
        if format_error is not None:
            raise format_error
        if output is not None:
            video_fourcc(output, "--output")
        if options and not live:
            verb = "apply" if len(options) > 1 else "applies"
            print(f"note: {' and '.join('--' + k for k in options)} {verb} to live sources only; every frame of "
                  f"{source} is read", file=stream)
        run = TargetsTracker(specs, weights, revision=revision, preset=preset, device=device)
        if src is None:
            src = open_source(source, **options)
        ids = mot_ids(specs)
        if fmt == "mot" and any(ids[t.id] != t.id for t in specs):
            print("MOT ids: " + ", ".join(f"{t.id!r} -> {ids[t.id]}" for t in specs), file=stream)
        video: AnnotatedVideoWriter | None = None
        boxes: Any = None
        received = missing = dropped = 0
        expected = 0  # the next index when no frame is dropped
        written = -1  # the last index in the boxes file
        forced = False
        start = time.perf_counter()
        count = getattr(src, "frame_count", 0) or 0
        total = count if max_frames is None else (min(count, max_frames) if count else max_frames)
        bar = tqdm(total=total or None, unit="frame", disable=not progress, file=stream)
        frames = src.frames()
        ended = threading.Event()  # set when the loop is over

        def close_on_signal() -> None:
            # a live source may wait long for its next frame (a stalled stream: its timeout, then every
            # reopen attempt): a signal closes it, which ends the iteration at once, quietly
            while not ended.wait(0.05):
                if stop.requested:
                    src.close()
                    return

        with StopSignals() as stop:
            if live:
                threading.Thread(target=close_on_signal, daemon=True, name="dcffnet-track-stop").start()
            try:
                try:
                    for frame in frames:
                        record = run.step(frame)
                        dropped += max(0, frame.index - expected)
                        expected = frame.index + 1
                        if frame.image is None:
                            missing += 1
                        elif output is not None:
                            if video is None:
                                video = AnnotatedVideoWriter(output, src.fps, (frame.image.shape[1],
                                                                               frame.image.shape[0]))
                                video.colors.update({t.id: PALETTE[i % len(PALETTE)] for i, t in enumerate(specs)})
                            video.write_targets(frame.image, record.targets, labels, show_score)
                        if boxes_path is not None:
                            if boxes is None:
                                boxes = open_boxes_writer(boxes_path, fmt, ids)  # type: ignore[arg-type]
                            boxes.record(record)
                            written = frame.index
                        received += 1
                        bar.update(1)
                        if stop.requested or (max_frames is not None and received >= max_frames):
                            break
                except KeyboardInterrupt:  # a second signal while a step hung
                    forced = True
            except Exception as exc:
                kept = []
                if boxes is not None and written >= 0:
                    kept.append(f"the boxes of frames 0-{written} are in {boxes_path}")
                if video is not None and video.count:
                    kept.append(f"the annotated video of those frames is in {output}")
                note = f" ({'; '.join(kept)})" if kept else ""
                if isinstance(exc, FrameReadError):
                    raise FrameReadError(f"{exc}; tracking stopped there{note}", exc.index) from exc
                if note and len(exc.args) == 1 and isinstance(exc.args[0], str):
                    exc.args = (exc.args[0] + note,)
                raise
            finally:
                ended.set()
                with contextlib.suppress(Exception):
                    frames.close()  # type: ignore[attr-defined]
                bar.close()
                for writer in (video, boxes):
                    if writer is not None:
                        writer.close()
    finally:
        if src is not None:
            src.close()
    if forced or stop.requested:
        signum = stop.signum if stop.signum is not None else signal.SIGINT
        done = boxes.count if boxes is not None else (video.count if video is not None else run.frames)
        where = " and ".join(str(w.path) for w in (boxes, video) if w is not None and w.count)
        if where:
            what = f"{done} frames written to {where}"
        elif output is None and boxes_path is None:
            what = f"{done} frames tracked; nothing was written, no --boxes or --output was given"
        else:
            what = f"{done} frames tracked, nothing written"
        raise Interrupted(f"interrupted: {what} ({signal.Signals(signum).name})", signum)
    seconds = time.perf_counter() - start
    tracked = run.frames
    if not tracked:
        raise ValueError(f"{source} yielded no frames")
    stats = {
        "frames": float(tracked),
        "seconds": seconds,
        "fps": tracked / seconds,
        "tracker_fps": tracked / run.seconds if run.seconds > 0 else float("inf"),
        "targets": float(len(specs) - len(run.pending)),
        "missing": float(missing),
        "dropped": float(dropped),
    }
    what = f"{tracked} frames" if len(specs) == 1 else f"{len(specs)} targets through {tracked} frames"
    line = (f"Tracked {what} in {seconds:.2f} s: {stats['fps']:.1f} FPS overall, "
            f"{stats['tracker_fps']:.1f} FPS tracker only (device {run.device})")
    gaps = getattr(src, "gaps", None)  # live sources only
    if gaps is not None or missing or dropped:
        line += (f"; {dropped} frames dropped (--realtime), {missing} frames missing"
                 + (f" in {len(gaps)} stream gap{'' if len(gaps) == 1 else 's'}" if gaps is not None else ""))
    print(line, file=stream)
    if run.pending:
        print("never started (the source ended before their start frame): "
              + ", ".join(f"target {t.id!r} (frame {t.frame})" for t in run.pending), file=stream)
    return stats
