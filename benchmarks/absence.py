"""The lost state under a synthetic 30-frame absence (issue 25, "Targets", last bullet).

Checks whether a tracker reports ``lost`` soon after its target disappears, and whether it is back
on the target soon after the target returns, on real sequences in which the target is hidden for
30 frames by pasting background from the same frame over it.

Usage::

    python benchmarks/absence.py DATA/val                       # bundled default, its own values
    python benchmarks/absence.py DATA/val --auc-cost --out absence.json
    python benchmarks/absence.py DATA/val --set lost_threshold=0.5 --set lost_after=3

Protocol (all boxes ``(x, y, w, h)`` in 0-based continuous frame pixels; frame indices 0-based):

1. Input: a folder of sequences in the ``folder`` format, read with
   ``dcffnet.data.read_dataset_report("folder", root, benchmark=True)``. A frame has a valid ground
   truth when ``Sequence.valid`` lists it (finite box, ``w > 0``, ``h > 0``).
2. Absence window (:func:`choose_window`): the first frame index ``s >= max(20, N // 3)`` (``N`` =
   frames of the sequence) such that frames ``s .. s+29`` all have a valid ground truth and at
   least 15 frames after ``s+29`` have one. A sequence without such a window is skipped and listed
   with the reason.
3. Cover (:func:`cover_with_background`), on each frame ``s .. s+29``: the ground-truth box
   expanded by 10 % of its width / height on each side, rounded outwards to whole pixels
   (``floor`` of the left / top edge, ``ceil`` of the right / bottom edge) and clipped to the frame,
   is overwritten with the same-size patch of the same frame found at the nearest of 8 offsets:
   1.5x the covered patch's width and/or height in the directions left, right, up, down, up-left,
   up-right, down-left, down-right (nearest by Euclidean length of the offset; ties in that order),
   taking the first one that lies inside the frame and does not overlap the covered rectangle.
   If none fits, the rectangle is filled with the frame's mean colour (per channel). The ground
   truth of frames ``s .. s+29`` counts as absent.
4. Tracking: ``dcffnet.Tracker(weights, hparams=...)`` with the checkpoint's own tracking values
   and the ``--set`` overrides on top of them; a fresh tracker per sequence, ``init`` on frame 0
   with the ground-truth box, ``update`` on every later frame (the covered frames included).
5. Measures per sequence (:func:`absence_measures`), "lost" meaning
   ``result.state == TrackState.LOST``:

   * ``frames_to_lost``: (first lost frame in ``s .. s+29``) - ``s``, or ``None`` if the tracker
     is not lost on any covered frame;
   * ``lost_within_5``: lost on some frame of ``s .. s+4`` (``frames_to_lost <= 4``);
   * ``frames_to_recover``: (first frame ``f >= s+30`` on which the state is not lost and
     IoU(box, ground truth) > 0.5) - ``(s+30)``, or ``None`` if that never happens;
   * ``back_within_10``: such a frame in ``s+30 .. s+39`` (``frames_to_recover <= 9``).

   Also given, to read the others by: the state and IoU on frame ``s-1`` (was the tracker on the
   target before it disappeared?) and how many covered frames fell back to the mean colour.
6. Summary: the percentage of (not skipped) sequences with ``lost_within_5`` and with
   ``back_within_10``; targets >= 80 % each. The same two percentages are also given over the
   sequences on which the tracker was on the target on frame ``s-1`` (state not lost, IoU > 0.5),
   for reading only: a tracker already lost or off target before the absence is counted as
   flagged / not back by the main figures whatever the absence did.
7. ``--auc-cost``: on the unmodified sequences (all of them, skipped ones included), the success
   AUC (one-pass evaluation, ``dcffnet.eval.record_ope`` / ``score_ope``) with the given values and
   with the same values but the lost state off (``lost_threshold=0``, ``report_lost_below=0``:
   neither the box-holding lost state nor the reported one fires); the cost is the difference
   (target: <= 0.005).

The tracker runs with ``--threads`` intra-op threads (default 1, so that a run gives the same
boxes whatever else the machine does). The figures go to stdout as a markdown table with a summary
line; ``--out`` writes them as JSON; ``--check`` exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
from datetime import date
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence as SequenceType

import numpy as np

#: frames the target is hidden for
ABSENCE = 30
#: the window starts at frame max(EARLIEST, N // 3) or later
EARLIEST = 20
#: frames with a valid ground truth needed after the absence
AFTER = 15
#: each side of the ground-truth box grows by this fraction of its width / height before covering
EXPAND = 0.1
#: background is looked for at this multiple of the covered patch's size
OFFSET = 1.5
#: "flagged within": lost on one of the first FLAG_WITHIN covered frames
FLAG_WITHIN = 5
#: "back within": on target on one of the first BACK_WITHIN frames after the return
BACK_WITHIN = 10
#: IoU above which the tracker counts as back on the target
MIN_IOU = 0.5
#: target for both percentages, and for the AUC cost of the lost state
TARGET_PERCENT = 80.0
TARGET_AUC_COST = 0.005
#: the 8 search directions (unit steps in x, y), in the order that breaks ties
DIRECTIONS: tuple[tuple[int, int], ...] = ((-1, 0), (1, 0), (0, -1), (0, 1), (-1, -1), (1, -1), (-1, 1), (1, 1))


# ----------------------------------------------------------------------------------------------
# pure parts (no files, no tracker): tests/test_absence_benchmark.py


def choose_window(visible: np.ndarray, length: int = ABSENCE, earliest: int = EARLIEST,
                  after: int = AFTER) -> tuple[int | None, str]:
    """The absence window of a sequence whose frame ``i`` has a valid ground truth where ``visible[i]``.

    Args:
        visible: ``(N,)`` bool, one entry per frame (0-based).
        length: frames of the absence.
        earliest: the window starts at frame ``max(earliest, N // 3)`` or later.
        after: frames with a valid ground truth needed after the window.

    Returns:
        ``(s, "")``: the first frame index ``s`` such that frames ``s .. s+length-1`` are all
        visible and at least ``after`` frames after them are; or ``(None, reason)``.
    """
    visible = np.asarray(visible, dtype=bool).reshape(-1)
    n = len(visible)
    first = max(earliest, n // 3)
    if first + length + after > n:
        return None, (f"too short: {n} frames, the window starts at frame {first} or later and needs "
                      f"{length} + at least {after} frames after it")
    # visible frames from index i to the end, for the "at least `after` later" test
    later = np.concatenate([np.cumsum(visible[::-1])[::-1], [0]])
    for s in range(first, n - length - after + 1):
        if later[s + length] < after:
            break  # fewer later for every larger s too
        if visible[s:s + length].all():
            return s, ""
    return None, (f"no {length} frames in a row with a valid box from frame {first} on that leave "
                  f"{after} frames with a valid box after them")


def covered_rect(box: SequenceType[float], frame_w: int, frame_h: int,
                 expand: float = EXPAND) -> tuple[int, int, int, int]:
    """The pixels covered for the ground-truth ``box = (x, y, w, h)`` (0-based continuous pixels):
    the box grown by ``expand`` of its width / height on each side, rounded outwards and clipped to
    the ``frame_w x frame_h`` frame.

    Returns:
        ``(x0, y0, x1, y1)`` integer pixel bounds, ``x1`` / ``y1`` exclusive (empty when
        ``x1 <= x0`` or ``y1 <= y0``: a box outside the frame).
    """
    x, y, w, h = (float(v) for v in box)
    x0 = min(max(math.floor(x - expand * w), 0), frame_w)
    y0 = min(max(math.floor(y - expand * h), 0), frame_h)
    x1 = min(max(math.ceil(x + w + expand * w), 0), frame_w)
    y1 = min(max(math.ceil(y + h + expand * h), 0), frame_h)
    return x0, y0, x1, y1


def background_offset(rect: tuple[int, int, int, int], frame_w: int, frame_h: int,
                      factor: float = OFFSET) -> tuple[int, int] | None:
    """Where to copy background from for the pixel rectangle ``rect = (x0, y0, x1, y1)``.

    Candidates: ``factor`` x the rectangle's width / height (rounded to whole pixels) in the 8
    :data:`DIRECTIONS`, nearest first (Euclidean length of the offset; ties keep the order of
    :data:`DIRECTIONS`).

    Returns:
        ``(dx, dy)`` in pixels of the first candidate that lies inside the frame and does not
        overlap ``rect``; ``None`` when none does (or ``rect`` is empty).
    """
    x0, y0, x1, y1 = rect
    pw, ph = x1 - x0, y1 - y0
    if pw <= 0 or ph <= 0:
        return None
    step_x, step_y = round(factor * pw), round(factor * ph)
    offsets = sorted(((ux * step_x, uy * step_y) for ux, uy in DIRECTIONS), key=lambda o: math.hypot(*o))
    for dx, dy in offsets:
        inside = x0 + dx >= 0 and y0 + dy >= 0 and x1 + dx <= frame_w and y1 + dy <= frame_h
        overlaps = x0 + dx < x1 and x0 < x1 + dx and y0 + dy < y1 and y0 < y1 + dy
        if inside and not overlaps:
            return dx, dy
    return None


def cover_with_background(frame: np.ndarray, box: SequenceType[float], expand: float = EXPAND,
                          factor: float = OFFSET) -> tuple[np.ndarray, str]:
    """A copy of ``frame`` (``H x W`` or ``H x W x C``) with the target in ``box = (x, y, w, h)``
    (0-based continuous pixels) hidden: :func:`covered_rect` overwritten with the same-size patch
    at :func:`background_offset`, or with the frame's mean colour (per channel, rounded for integer
    frames) when no patch fits.

    Returns:
        ``(covered frame, how)``: ``how`` is ``"patch"``, ``"mean"`` or ``"none"`` (the box has no
        pixel in the frame).
    """
    frame = np.asarray(frame)
    out = frame.copy()
    height, width = frame.shape[:2]
    x0, y0, x1, y1 = covered_rect(box, width, height, expand)
    if x1 <= x0 or y1 <= y0:
        return out, "none"
    offset = background_offset((x0, y0, x1, y1), width, height, factor)
    if offset is not None:
        dx, dy = offset
        out[y0:y1, x0:x1] = frame[y0 + dy:y1 + dy, x0 + dx:x1 + dx]
        return out, "patch"
    mean = frame.reshape(height * width, -1).mean(axis=0)
    if np.issubdtype(frame.dtype, np.integer):
        mean = np.round(mean)
    out[y0:y1, x0:x1] = mean.astype(frame.dtype).reshape(frame.shape[2:] if frame.ndim == 3 else ())
    return out, "mean"


def hide_window(gt: np.ndarray, start: int, length: int = ABSENCE) -> np.ndarray:
    """A copy of the ``(N, 4)`` ground truth with frames ``start .. start+length-1`` absent (NaN)."""
    out = np.array(gt, dtype=np.float64).reshape(-1, 4)
    out[start:start + length] = np.nan
    return out


def absence_measures(states: SequenceType[Any], boxes: np.ndarray, gt: np.ndarray, start: int,
                     length: int = ABSENCE, flag_within: int = FLAG_WITHIN, back_within: int = BACK_WITHIN,
                     min_iou: float = MIN_IOU) -> dict[str, Any]:
    """The per-sequence measures of the protocol from one tracked run.

    Args:
        states: per frame, the tracker's :class:`~dcffnet.tracking.TrackState` (or its value,
            ``"lost"``, ...); frame 0 is the initialisation.
        boxes: ``(N, 4)`` tracked boxes ``(x, y, w, h)``, 0-based pixels.
        gt: ``(N, 4)`` ground truth, same convention (NaN rows: absent); rows of the window are
            not used.
        start: first covered frame ``s`` (>= 1); the target returns on frame ``s + length``.
        flag_within / back_within: frames counted for ``lost_within_5`` / ``back_within_10``.
        min_iou: IoU above which (strictly) a box is on the target.

    Returns:
        ``{"frames_to_lost", "lost_within_5", "frames_to_recover", "back_within_10",
        "state_before", "iou_before"}`` (see the module docstring; ``*_within_*`` keep their names
        whatever ``flag_within`` / ``back_within`` are; ``iou_before`` is -1 without a ground
        truth on frame ``s-1``).

    Raises:
        ValueError: lengths that differ, or a window that does not fit in the sequence.
    """
    from dcffnet.eval.metrics import iou
    from dcffnet.tracking import TrackState

    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    gt = np.asarray(gt, dtype=np.float64).reshape(-1, 4)
    n = len(states)
    if len(boxes) != n or len(gt) != n:
        raise ValueError(f"states, boxes and gt must have one entry per frame; got {n}, {len(boxes)}, {len(gt)}")
    if start < 1 or start + length > n:
        raise ValueError(f"window {start}..{start + length - 1} does not fit in {n} frames (start must be >= 1)")
    lost = np.array([TrackState(s) == TrackState.LOST for s in states], dtype=bool)
    overlaps = iou(boxes, gt)
    lost_in_window = np.flatnonzero(lost[start:start + length])
    frames_to_lost = int(lost_in_window[0]) if len(lost_in_window) else None
    back = start + length
    on_target = np.flatnonzero(~lost[back:] & (overlaps[back:] > min_iou))
    frames_to_recover = int(on_target[0]) if len(on_target) else None
    return {"frames_to_lost": frames_to_lost,
            "lost_within_5": frames_to_lost is not None and frames_to_lost < flag_within,
            "frames_to_recover": frames_to_recover,
            "back_within_10": frames_to_recover is not None and frames_to_recover < back_within,
            "state_before": TrackState(states[start - 1]).value,
            "iou_before": float(overlaps[start - 1])}


def on_target_before(row: dict[str, Any]) -> bool:
    """Whether the tracker was on the target on the frame before the absence (not lost, IoU > 0.5):
    only then does a lost flag in the window, or a box on the target after it, say something about
    the absence rather than about an earlier failure."""
    return row["state_before"] != "lost" and row["iou_before"] > MIN_IOU


def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts and percentages of ``lost_within_5`` and ``back_within_10`` over ``rows`` (the
    evaluated sequences; percentages NaN when there is none), whether each meets its target, and
    the same two percentages over the sequences :func:`on_target_before` the absence (``*_on_target_*``)."""
    def percent(count: int, total: int) -> float:
        return 100.0 * count / total if total else float("nan")

    n = len(rows)
    lost = sum(bool(r["lost_within_5"]) for r in rows)
    back = sum(bool(r["back_within_10"]) for r in rows)
    kept = [r for r in rows if on_target_before(r)]
    return {"sequences": n, "lost_within_5": lost, "lost_within_5_percent": percent(lost, n),
            "back_within_10": back, "back_within_10_percent": percent(back, n), "target_percent": TARGET_PERCENT,
            "lost_within_5_met": bool(n) and percent(lost, n) >= TARGET_PERCENT,
            "back_within_10_met": bool(n) and percent(back, n) >= TARGET_PERCENT,
            "on_target_before": len(kept),
            "lost_within_5_on_target_percent": percent(sum(bool(r["lost_within_5"]) for r in kept), len(kept)),
            "back_within_10_on_target_percent": percent(sum(bool(r["back_within_10"]) for r in kept), len(kept))}


def markdown_table(rows: list[dict[str, Any]], skipped: list[dict[str, str]], summary: dict[str, Any]) -> str:
    """The per-sequence markdown table, the skipped sequences and the summary line."""
    def num(value: Any) -> str:
        return "-" if value is None else str(value)

    lines = ["| sequence | frames | absent (frames) | before: state, IoU | first lost (+frames) | lost <= 5 "
             "| back on target (+frames after return) | back <= 10 |",
             "|---|---:|---|---|---:|:-:|---:|:-:|"]
    for r in rows:
        lines.append(f"| {r['name']} | {r['frames']} | {r['start']}..{r['start'] + ABSENCE - 1} "
                     f"| {r['state_before']}, {r['iou_before']:.2f} | {num(r['frames_to_lost'])} "
                     f"| {'yes' if r['lost_within_5'] else 'no'} | {num(r['frames_to_recover'])} "
                     f"| {'yes' if r['back_within_10'] else 'no'} |")
    for s in skipped:
        lines.append(f"\nskipped {s['name']}: {s['reason']}")
    lines.append("")
    lines.append(f"**Summary** ({summary['sequences']} sequences): flagged lost within {FLAG_WITHIN} frames "
                 f"{summary['lost_within_5']}/{summary['sequences']} = {summary['lost_within_5_percent']:.1f} %, "
                 f"back on target within {BACK_WITHIN} frames {summary['back_within_10']}/{summary['sequences']} "
                 f"= {summary['back_within_10_percent']:.1f} % (target >= {TARGET_PERCENT:.0f} % each)")
    lines.append("")
    lines.append(f"Of the {summary['on_target_before']} sequences on target on the frame before the absence "
                 f"(not lost, IoU > {MIN_IOU}): flagged lost within {FLAG_WITHIN} frames "
                 f"{summary['lost_within_5_on_target_percent']:.1f} %, back on target within {BACK_WITHIN} frames "
                 f"{summary['back_within_10_on_target_percent']:.1f} %")
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------------
# running the tracker


def parse_overrides(items: list[str]) -> dict[str, Any]:
    """``["lost_threshold=0.5", "lost_after=3"]`` -> ``{"lost_threshold": 0.5, "lost_after": 3}``.

    Raises:
        ValueError: an item that is not ``FIELD=VALUE`` with a :class:`~dcffnet.TrackerHParams`
            field, or a value that is not a number (the message names the ``--set`` item).
    """
    from dcffnet.hparams import HPARAM_BOUNDS

    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or key not in HPARAM_BOUNDS:
            raise ValueError(f"--set {item!r}: expected FIELD=VALUE with FIELD one of {sorted(HPARAM_BOUNDS)}")
        try:
            number = float(value)
        except ValueError:
            raise ValueError(f"--set {item!r}: {value!r} is not a number") from None
        if HPARAM_BOUNDS[key][2] == "int":
            if not number.is_integer():
                raise ValueError(f"--set {item!r}: {key} must be an integer")
            out[key] = int(number)
        else:
            out[key] = number
    return out


def tracker_factory(weights: str, hparams: Any, threads: int | None) -> Callable[[], Any]:
    """A function that builds a fresh ``dcffnet.Tracker(weights, hparams=hparams, threads=threads)``."""
    import dcffnet

    return lambda: dcffnet.Tracker(weights, hparams=hparams, threads=threads)


def covered_frames(paths: Iterable[Path], gt: np.ndarray, start: int, fills: list[str]) -> Iterator[np.ndarray]:
    """The frames at ``paths`` (read with ``dcffnet.data.frames.read_frame``), with the target of
    frames ``start .. start+ABSENCE-1`` covered (:func:`cover_with_background`; how each was
    covered is appended to ``fills``)."""
    from dcffnet.data.frames import read_frame

    for index, path in enumerate(paths):
        frame = read_frame(path)
        if start <= index < start + ABSENCE:
            frame, how = cover_with_background(frame, gt[index])
            fills.append(how)
        yield frame


def run_absence(sequences: list[Any], make_tracker: Callable[[], Any], progress: bool = True
                ) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """Run the protocol on ``sequences`` (``dcffnet.data.Sequence``).

    Returns:
        ``(rows, skipped)``: one dict per evaluated sequence (name, frames, start, the measures of
        :func:`absence_measures`, ``mean_fill_frames``), and ``{"name", "reason"}`` per skipped one.
    """
    from dcffnet.tracking.loop import iter_track

    rows: list[dict[str, Any]] = []
    skipped: list[dict[str, str]] = []
    for seq in sequences:
        visible = np.zeros(len(seq), dtype=bool)
        visible[seq.valid] = True
        start, reason = choose_window(visible)
        if start is None:
            skipped.append({"name": seq.name, "reason": reason})
            continue
        fills: list[str] = []
        states, boxes = [], []
        for step in iter_track(make_tracker(), covered_frames(seq.frames, seq.gt, start, fills), seq.init_box):
            states.append(step.state)
            boxes.append(step.box)
        if len(states) != len(seq):
            raise RuntimeError(f"{seq.name}: {len(states)} results for {len(seq)} frames")
        row = {"name": seq.name, "frames": len(seq), "start": start,
               **absence_measures(states, np.asarray(boxes), hide_window(seq.gt, start), start),
               "mean_fill_frames": fills.count("mean")}
        rows.append(row)
        if progress:
            def plus(value: int | None) -> str:
                return "never" if value is None else f"+{value}"

            print(f"{seq.name}: absent {start}..{start + ABSENCE - 1}, first lost {plus(row['frames_to_lost'])}, "
                  f"back on target {plus(row['frames_to_recover'])}", file=sys.stderr)
    return rows, skipped


def auc_cost(sequences: list[Any], weights: str, hparams: Any, threads: int | None,
             progress: bool = True) -> dict[str, float]:
    """Success AUC on the unmodified ``sequences`` with ``hparams`` and with the same values but
    the lost state off (``lost_threshold=0``, ``report_lost_below=0``), one
    ``record_ope`` run scored by ``score_ope``.

    Returns:
        ``{"auc": ..., "auc_lost_off": ..., "cost": auc_lost_off - auc, "target": 0.005, "met": bool}``.
    """
    from dcffnet.eval import TrackerSpec, record_ope, score_ope
    off = dataclasses.replace(hparams, lost_threshold=0.0, report_lost_below=0.0)
    specs = [TrackerSpec("given", tracker_factory(weights, hparams, threads)),
             TrackerSpec("lost-off", tracker_factory(weights, off, threads))]
    record = record_ope(sequences, specs, progress=progress)
    report = score_ope(sequences, record.boxes(), record.fps())
    auc, auc_off = report.trackers["given"].auc, report.trackers["lost-off"].auc
    return {"auc": auc, "auc_lost_off": auc_off, "cost": auc_off - auc, "target": TARGET_AUC_COST,
            "met": auc_off - auc <= TARGET_AUC_COST}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("root", help="folder of sequences in the 'folder' format (e.g. DATA/val)")
    parser.add_argument("--weights", default="default",
                        help="checkpoint: a bundled name, a folder or a hub id (default: %(default)s)")
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE", dest="overrides",
                        help="override one TrackerHParams field on top of the checkpoint's own values, e.g. "
                             "--set lost_threshold=0.5 --set lost_after=3 (repeatable)")
    parser.add_argument("--sequences", nargs="+", metavar="NAME",
                        help="only these sequences (default: all that are read)")
    parser.add_argument("--threads", type=int, default=1,
                        help="intra-op threads of the network (default: %(default)s, reproducible boxes)")
    parser.add_argument("--auc-cost", action="store_true",
                        help="also score the unmodified sequences with the values given and with the lost state off")
    parser.add_argument("--out", metavar="JSON", help="write the figures to this JSON file")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
    args = parser.parse_args(argv)

    if args.threads < 1:
        parser.error(f"--threads must be >= 1, got {args.threads}")
    try:
        overrides = parse_overrides(args.overrides)
    except ValueError as err:
        parser.error(str(err))
    root = Path(args.root)
    if not root.is_dir():
        parser.error(f"root {args.root!r} is not a folder")

    import dcffnet
    from dcffnet.atomic import atomic_write_json
    from dcffnet.data import read_dataset_report

    try:
        report = read_dataset_report("folder", root, benchmark=True)
    except (OSError, ValueError) as err:  # DatasetError is a ValueError
        parser.error(f"root {args.root!r}: {err}")
    sequences = report.sequences
    if not args.quiet:
        print(report.summary(), file=sys.stderr)
    if args.sequences:
        unknown = sorted(set(args.sequences) - {s.name for s in sequences})
        if unknown:
            parser.error(f"--sequences: {unknown} not among the sequences read from {args.root}")
        sequences = [s for s in sequences if s.name in set(args.sequences)]
    base = dcffnet.Tracker(args.weights, threads=args.threads).hparams  # the checkpoint's own values
    try:
        hparams = dataclasses.replace(base, **overrides)
    except (TypeError, ValueError) as err:
        parser.error(f"--set: {err}")

    rows, skipped = run_absence(sequences, tracker_factory(args.weights, hparams, args.threads),
                                progress=not args.quiet)
    summary = summarize(rows)
    print(f"weights {args.weights}, lost_threshold {hparams.lost_threshold}, lost_after {hparams.lost_after}, "
          f"found_threshold {hparams.found_threshold}, report_lost_below {hparams.report_lost_below}, "
          f"report_lost_after {hparams.report_lost_after}, report_found_above {hparams.report_found_above}" + (f" (--set {' '.join(args.overrides)})" if overrides else ""))
    print()
    print(markdown_table(rows, skipped, summary))
    cost = None
    if args.auc_cost:
        cost = auc_cost(sequences, args.weights, hparams, args.threads, progress=not args.quiet)
        print(f"\n**AUC cost of the lost state** ({len(sequences)} unmodified sequences): AUC {cost['auc']:.4f} "
              f"with these values, {cost['auc_lost_off']:.4f} with the lost state off; cost {cost['cost']:+.4f} "
              f"(target <= {TARGET_AUC_COST})")
    if args.out:
        atomic_write_json(args.out, {
            "date": date.today().isoformat(), "root": str(root), "weights": args.weights,
            "overrides": overrides, "hparams": hparams.to_dict(), "threads": args.threads,
            "protocol": {"absence": ABSENCE, "earliest": EARLIEST, "after": AFTER, "expand": EXPAND,
                         "offset": OFFSET, "flag_within": FLAG_WITHIN, "back_within": BACK_WITHIN,
                         "min_iou": MIN_IOU},
            "sequences": rows, "skipped": skipped, "summary": summary, "auc_cost": cost})
    if args.check:
        met = summary["lost_within_5_met"] and summary["back_within_10_met"] and (cost is None or cost["met"])
        return 0 if met else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
