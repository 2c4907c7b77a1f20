"""``dcffnet bench``: speed, cost and memory of trackers on this machine, as markdown tables.

Sections (each optional):

* **configs**: per registered architecture (random weights) and checkpoint: parameters, FLOPs
  (template branch once per target, search branch + head per frame), the network's time per frame
  and ``Tracker.update`` FPS, at each thread count.
* **speed**: end-to-end FPS of the checkpoint (PyTorch and, with onnxruntime, the ONNX backend)
  beside NanoTrack v2 through OpenCV (``--peer-models``; and v3 through ONNX Runtime when the folder
  has ``nanotrack_v3/``), at each thread count, on an idle machine and with one competing busy
  process the benchmark starts and stops itself; ratio to NanoTrack v2.
* **profile**: where one ``update`` spends its time (frame conversion, crop, tensor, network,
  decoding), per backend.
* **multi**: :class:`~dcffnet.MultiTracker` time per frame and per target for N targets.
* **memory**: resident memory of a long run (``--memory`` frames), sampled every 1,000 frames
  (every tenth of the run when shorter).

FPS counts ``init``/``update`` time only, on frames decoded beforehand (``--video`` or a generated
640x480 clip with a moving textured object). The machine's fp32 matmul GFLOP/s is printed so
figures from different machines can be compared. CPU timings on shared machines vary from run to
run: quote the command and date with any figure.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import multiprocessing as mp
import os
import platform
import resource
import statistics
import time
from typing import Any, Callable, Sequence

import cv2
import numpy as np
import torch

__all__ = ["BusyMachine", "matmul_gflops", "count_flops", "measure", "synthetic_frames", "read_video_frames",
           "tracker_fps", "multi_target_costs", "update_profile", "memory_curve", "resident_mib", "main"]


# ------------------------------------------------------------------------------------ machine
def _busy(stop: Any) -> None:
    torch.set_num_threads(1)
    a = torch.rand(256, 256)
    while not stop.is_set():
        a = torch.tanh(a @ a)


class BusyMachine:
    """Context manager: one competing CPU-bound process (float matrix products on one thread, as a
    decoder or detector beside the tracker would be) while inside."""

    def __enter__(self) -> "BusyMachine":
        ctx = mp.get_context("spawn")
        self._stop = ctx.Event()
        self._proc = ctx.Process(target=_busy, args=(self._stop,), daemon=True)
        self._proc.start()
        time.sleep(1.0)  # let it start spinning
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._proc.join(timeout=10)
        if self._proc.is_alive():
            self._proc.kill()


def matmul_gflops(threads: int, size: int = 512, seconds: float = 1.0) -> float:
    """Measured fp32 matrix-product throughput with ``threads`` torch threads (GFLOP/s)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        a, b = torch.rand(size, size), torch.rand(size, size)
        a @ b
        n, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            a @ b
            n += 1
        elapsed = time.perf_counter() - t0
    finally:
        torch.set_num_threads(previous)
    return 2 * size ** 3 * n / elapsed / 1e9


def resident_mib() -> float:
    """This process's resident memory now (MiB); the peak so far where ``/proc`` is missing."""
    try:
        with open("/proc/self/statm") as fh:
            pages = int(fh.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2 ** 20
    except (OSError, ValueError, IndexError):
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak / 2 ** 20 if platform.system() == "Darwin" else peak / 1024


# ------------------------------------------------------------------------------------- frames
def synthetic_frames(count: int, size: tuple[int, int] = (640, 480), seed: int = 0
                     ) -> tuple[list[np.ndarray], tuple[float, float, float, float]]:
    """A generated clip (BGR uint8): a 60x80 textured object moving on a loop over a textured
    background. Returns the frames and the object's box ``(x, y, w, h)`` in frame 0 (pixels)."""
    rng = np.random.default_rng(seed)
    width, height = size
    background = cv2.resize(rng.integers(60, 200, (height // 12, width // 12, 3), dtype=np.uint8), (width, height),
                            interpolation=cv2.INTER_CUBIC)
    patch = cv2.resize(rng.integers(0, 256, (8, 6, 3), dtype=np.uint8), (60, 80), interpolation=cv2.INTER_CUBIC)
    frames, first = [], None
    for t in range(count):
        cx = width / 2 + width / 4 * math.sin(2 * math.pi * t / 150)
        cy = height / 2 + height / 5 * math.sin(4 * math.pi * t / 150)
        x0, y0 = int(round(cx - 30)), int(round(cy - 40))
        frame = background.copy()
        frame[y0:y0 + 80, x0:x0 + 60] = patch
        frames.append(frame)
        first = first or (float(x0), float(y0), 60.0, 80.0)
    return frames, first


def read_video_frames(video: "str | os.PathLike[str]", limit: int) -> list[np.ndarray]:
    """Up to ``limit`` decoded frames of a video file (BGR uint8)."""
    cap = cv2.VideoCapture(str(video))
    frames = []
    while len(frames) < limit:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame)
    cap.release()
    if not frames:
        raise ValueError(f"no frames could be read from video={video!s}")
    return frames


# -------------------------------------------------------------------------------- measurements
def count_flops(fn: Callable[[], Any]) -> int:
    """FLOPs of one call (``torch.utils.flop_counter``; a multiply-add is 2 FLOPs)."""
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        fn()
    return int(counter.get_total_flops())


def measure(name: str, frames: int, timing: bool, cf: str | None = None,
            weights: str | None = None, repeats: int = 1, onnx: bool = False) -> dict[str, float | str]:
    """One table row for registry config ``name`` (random weights) or, with ``weights``, that checkpoint.

    Timings are medians over ``repeats`` runs: ``model_ms`` (milliseconds per ``track`` of the
    network as the tracker runs it: BatchNorm folded, channels-last) and
    ``e2e_fps`` (``Tracker.update`` calls per second on a 640x480 frame, lost state off); ``e2e_fps_min`` /
    ``e2e_fps_max`` are the slowest and fastest of those runs. Threads: torch's current setting.
    With ``onnx`` (needs the ``onnx`` package) the network is also exported to a temporary folder
    and ``onnx_model_ms`` / ``onnx_e2e_fps`` time it in ONNX Runtime with as many threads.
    """
    from .models import DCFFNet, create
    from .models.fuse import fuse_batchnorm
    from .tracking import Tracker

    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    if weights is not None:
        model = DCFFNet.from_pretrained(weights)
        name = f"{weights} ({model.architecture})"
    else:
        model = create(name, **({} if cf is None else {"cf": cf})).eval()
    g = model.geometry
    z = torch.rand(1, 3, g.template_size, g.template_size) * 255
    x = torch.rand(1, 3, g.search_size, g.search_size) * 255
    with torch.inference_mode():
        template = model.template(z)
        row: dict[str, float | str] = {
            "model": name if cf is None else f"{name} cf={cf}",
            "params_M": sum(p.numel() for p in model.parameters()) / 1e6,
            "template_GFLOPs": count_flops(lambda: model.template(z)) / 1e9,
            "frame_GFLOPs": count_flops(lambda: model.track(x, template)) / 1e9,
            "response": f"{g.size}x{g.size}",
        }
        if timing:
            # the network as the tracker runs it: BatchNorm folded, channels-last
            fused = fuse_batchnorm(model).to(memory_format=torch.channels_last)
            xf = x.contiguous(memory_format=torch.channels_last)
            template_f = fused.template(z.contiguous(memory_format=torch.channels_last))
            row["model_ms"] = _network_ms(fused.track, xf, template_f, frames, repeats)
    if timing:
        rng = np.random.default_rng(0)
        frame = rng.integers(0, 256, (480, 640, 3), dtype=np.uint8)
        # the tracker's own thread policy is not applied: the caller's torch setting is measured;
        # the lost state is off, so every frame is a tracking frame (random weights on a random
        # frame would go lost and time re-detection instead)
        tracker = _tracking_only(Tracker(model=model, threads=torch.get_num_threads(), backend="torch"))
        fps = _frame_rates(tracker, frame, frames, repeats)
        row["e2e_fps"] = statistics.median(fps)
        row["e2e_fps_min"], row["e2e_fps_max"] = min(fps), max(fps)
        if onnx:
            row.update(_measure_onnx(model, z, x, frame, frames, repeats))
    return row


def _tracking_only(tracker: Any) -> Any:
    """``tracker`` with its lost state off (``lost_threshold`` 0: every frame counts as confident)."""
    import dataclasses

    tracker.hparams = dataclasses.replace(tracker.hparams, lost_threshold=0.0)
    return tracker


def _network_ms(track: Callable[[torch.Tensor, Any], Any], x: torch.Tensor, template: Any, frames: int,
                repeats: int) -> float:
    """Median over ``repeats`` of milliseconds per ``track(x, template)`` call (3 warm-up calls)."""
    with torch.inference_mode():
        for _ in range(3):
            track(x, template)
        n = max(5, frames // 4)
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            for _ in range(n):
                track(x, template)
            times.append((time.perf_counter() - t0) / n * 1000)
    return statistics.median(times)


def _frame_rates(tracker: Any, frame: np.ndarray, frames: int, repeats: int) -> list[float]:
    """``update`` calls per second of ``repeats`` runs over ``frames`` copies of ``frame`` (after a warm-up)."""
    from .tracking import track_frames

    box = (300, 200, 60, 80)
    track_frames(tracker, [frame] * 4, box)
    return [frames / float(track_frames(tracker, [frame] * (frames + 1), box).times[1:].sum())
            for _ in range(repeats)]


def _measure_onnx(model: Any, z: torch.Tensor, x: torch.Tensor, frame: np.ndarray, frames: int,
                  repeats: int) -> dict[str, float]:
    """The ONNX Runtime timings of :func:`measure`: the tracker exports the network into a
    temporary cache, and its graphs are timed alone and end to end."""
    import tempfile

    from .tracking import Tracker

    with tempfile.TemporaryDirectory() as tmp:
        previous = os.environ.get("DCFFNET_ONNX_CACHE")
        os.environ["DCFFNET_ONNX_CACHE"] = tmp
        try:
            tracker = _tracking_only(Tracker(model=model, threads=torch.get_num_threads(), backend="onnx"))
        finally:
            if previous is None:
                os.environ.pop("DCFFNET_ONNX_CACHE", None)
            else:
                os.environ["DCFFNET_ONNX_CACHE"] = previous
        net = tracker.runner.network
        model_ms = _network_ms(net.track, x, net.template(z), frames, repeats)
        fps = _frame_rates(tracker, frame, frames, repeats)
    return {"onnx_model_ms": model_ms, "onnx_e2e_fps": statistics.median(fps)}


def tracker_fps(make: Callable[[], Any], frames: Sequence[np.ndarray], box: Sequence[float], repeats: int) -> float:
    """Median over ``repeats`` runs of ``update`` calls per second (``init`` excluded)."""
    from .tracking import track_frames

    rates = []
    for _ in range(repeats):
        run = track_frames(make(), frames, tuple(box))
        rates.append((len(run) - 1) / float(run.times[1:].sum()))
    return statistics.median(rates)


def _grid_boxes(count: int, frame: np.ndarray, box: Sequence[float]) -> list[tuple[float, float, float, float]]:
    """``count`` boxes of ``box``'s size spread over the frame (the first is ``box`` itself)."""
    height, width = frame.shape[:2]
    w, h = float(box[2]), float(box[3])
    cols = int(math.ceil(math.sqrt(count)))
    rows = int(math.ceil(count / cols))
    boxes = [tuple(float(v) for v in box)]
    for k in range(1, count):
        cx = (k % cols + 0.5) * width / cols
        cy = (k // cols + 0.5) * height / rows
        boxes.append((min(max(cx - w / 2, 0.0), width - w), min(max(cy - h / 2, 0.0), height - h), w, h))
    return boxes


def multi_target_costs(make: Callable[[], Any], frames: Sequence[np.ndarray], box: Sequence[float],
                       counts: Sequence[int], repeats: int = 1) -> dict[int, float]:
    """Milliseconds per frame of ``make()`` (a MultiTracker) with N targets for each N in ``counts``
    (median of ``repeats``; targets spread over the frame, added on frame 0)."""
    costs = {}
    for n in counts:
        times = []
        for _ in range(repeats):
            multi = make()
            for b in _grid_boxes(n, frames[0], box):
                multi.add(frames[0], b)
            multi.update(frames[1])  # warm-up
            t0 = time.perf_counter()
            for frame in frames[2:]:
                multi.update(frame)
            times.append((time.perf_counter() - t0) / max(len(frames) - 2, 1) * 1000)
        costs[n] = statistics.median(times)
    return costs


def update_profile(tracker: Any, frames: Sequence[np.ndarray], box: Sequence[float]) -> dict[str, float]:
    """Median milliseconds per frame of each stage of ``tracker.update`` (see
    :data:`dcffnet.tracking.profile.STAGES`), timed on the real path with
    :meth:`dcffnet.Tracker.profile` over ``frames[1:]`` after ``init`` on ``frames[0]``."""
    tracker.init(frames[0], tuple(box))
    with tracker.profile() as times:
        for frame in frames[1:]:
            tracker.update(frame)
    return times.medians()


def memory_curve(make: Callable[[], Any], frames: Sequence[np.ndarray], box: Sequence[float], total: int,
                 every: int = 1000) -> list[tuple[int, float]]:
    """Resident memory (MiB) every ``every`` frames of a ``total``-frame run, the clip played
    forwards and backwards so the target keeps moving: ``[(frame, MiB), ...]``."""
    tracker = make()
    tracker.init(frames[0], tuple(box))
    order = list(range(len(frames))) + list(range(len(frames) - 2, 0, -1))
    curve = [(0, resident_mib())]
    for t in range(1, total + 1):
        tracker.update(frames[order[t % len(order)]])
        if t % every == 0:
            curve.append((t, resident_mib()))
    return curve


# ----------------------------------------------------------------------------------------- CLI
def _onnx_available() -> bool:
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


def _exporter_available() -> bool:
    try:
        import onnx  # noqa: F401
    except ImportError:
        return False
    return True


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``dcffnet bench`` options."""
    parser.add_argument("--weights", default="default", help="checkpoint to benchmark (folder, bundled name or hub id)")
    parser.add_argument("--peer-models", default=None, help="folder with NanoTrack v2's ONNX files, v3's in nanotrack_v3/ (omit: no peer)")
    parser.add_argument("--video", default=None, help="video to track (default: a generated 640x480 clip)")
    parser.add_argument("--box", default=None, help="x,y,w,h of the target in the video's first frame")
    parser.add_argument("--frames", type=int, default=150, help="frames per timed run")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per figure (median reported)")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="thread counts to measure")
    parser.add_argument("--sections", nargs="+", default=["configs", "speed", "profile", "multi", "memory"],
                        choices=["configs", "speed", "profile", "multi", "memory"])
    parser.add_argument("--configs", nargs="*", default=None, help="registered architectures (default: all)")
    parser.add_argument("--no-busy", action="store_true", help="skip the runs beside a busy process")
    parser.add_argument("--multi", type=int, nargs="+", default=[1, 4, 16, 64], help="target counts of the multi section")
    parser.add_argument("--memory", type=int, default=10000, help="frames of the memory run")


def run(args: argparse.Namespace) -> None:
    """Print the benchmark sections selected in ``args`` (see :func:`add_arguments`)."""
    from .eval.nanotrack import NANOTRACK_V3, NanoTrackNetwork, NanoTrackOnnx
    from .eval.peers import OpenCVTracker, PeerUnavailable
    from .models import DCFFNet, list_models
    from .tracking import MultiTracker, Tracker

    if args.video:
        if not args.box:
            raise ValueError("--video needs --box x,y,w,h (the target in its first frame)")
        frames = read_video_frames(args.video, args.frames)
        box = tuple(float(v) for v in args.box.split(","))
        if len(box) != 4:
            raise ValueError(f"--box must be x,y,w,h, got {args.box!r}")
    else:
        frames, box = synthetic_frames(args.frames)
    cpus = mp.cpu_count()
    print(f"# dcffnet bench: torch {torch.__version__}, OpenCV {cv2.__version__}, {platform.machine()}, {cpus} CPUs; "
          f"{len(frames)} frames {frames[0].shape[1]}x{frames[0].shape[0]}")
    print(f"# fp32 matmul (512^3), idle: {matmul_gflops(1):.1f} GFLOP/s on 1 thread, "
          f"{matmul_gflops(cpus):.1f} on {cpus}")
    model = DCFFNet.from_pretrained(args.weights)
    previous = torch.get_num_threads()
    try:
        if "configs" in args.sections:
            print("\n## Configs (random weights) and the checkpoint\n")
            onnx = _onnx_available() and _exporter_available()
            print("| model | threads | params (M) | template GFLOPs | per-frame GFLOPs | model ms | end-to-end FPS |"
                  + (" ONNX model ms | ONNX end-to-end FPS |" if onnx else ""))
            print("|---|---:|---:|---:|---:|---:|---:|" + ("---:|---:|" if onnx else ""))
            for threads in args.threads:
                torch.set_num_threads(threads)
                names = [(n, None) for n in (args.configs or list_models())] + [("", args.weights)]
                for n, w in names:
                    r = measure(n, args.frames, True, weights=w, repeats=args.repeats, onnx=onnx)
                    line = (f"| {r['model']} | {threads} | {r['params_M']:.2f} | {r['template_GFLOPs']:.3f} | "
                            f"{r['frame_GFLOPs']:.3f} | {r['model_ms']:.2f} | {r['e2e_fps']:.1f} |")
                    if onnx:
                        line += f" {r['onnx_model_ms']:.2f} | {r['onnx_e2e_fps']:.1f} |"
                    print(line, flush=True)
        if "speed" in args.sections:
            trackers: dict[str, Callable[[int], Any]] = {
                f"dcffnet {args.weights} (torch)": lambda t: Tracker(model=model, threads=t, backend="torch")}
            if _onnx_available():
                trackers[f"dcffnet {args.weights} (onnx)"] = lambda t: Tracker(model=model, threads=t, backend="onnx")
            if args.peer_models:
                trackers["NanoTrack v2 (OpenCV)"] = lambda t: OpenCVTracker("nano", args.peer_models)
                try:
                    NanoTrackNetwork(args.peer_models, NANOTRACK_V3)  # files present and runnable
                except PeerUnavailable as exc:
                    print(f"# NanoTrack v3 skipped: {exc}")
                else:  # ONNX Runtime threads; auto: all cores, like OpenCV's default
                    trackers["NanoTrack v3 (ONNX Runtime)"] = lambda t: NanoTrackOnnx.from_folder(
                        args.peer_models, NANOTRACK_V3, threads=cpus if t == "auto" else t)
            results: dict[tuple[str, "int | str", bool], float] = {}
            settings: list[int | str] = [*args.threads, "auto"]  # auto: dcffnet's choice, OpenCV's default
            for busy in (False,) if args.no_busy else (False, True):
                for threads in settings:
                    torch.set_num_threads(cpus if threads == "auto" else threads)
                    cv2.setNumThreads(cpus if threads == "auto" else threads)
                    with BusyMachine() if busy else contextlib.nullcontext():
                        for name, make in trackers.items():
                            results[(name, threads, busy)] = tracker_fps(lambda: make(threads), frames, box, args.repeats)
            peer = "NanoTrack v2 (OpenCV)" if args.peer_models else None
            print("\n## End-to-end speed\n")
            print("threads: intra-op threads of dcffnet's network (auto: `threads=\"auto\"`, chosen while "
                  f"tracking), `cv2.setNumThreads` for NanoTrack v2 (auto: OpenCV's default, {cpus}) and "
                  f"ONNX Runtime's intra-op threads for NanoTrack v3 (auto: {cpus})\n")
            print("| tracker | threads | machine | FPS | x NanoTrack (same threads) |")
            print("|---|---:|---|---:|---:|")
            for (name, threads, busy), fps in results.items():
                ratio = "" if peer is None else f"{fps / results[(peer, threads, busy)]:.2f}"
                print(f"| {name} | {threads} | {'one busy process beside' if busy else 'idle'} | {fps:.1f} | {ratio} |")
            default = f"dcffnet {args.weights} (onnx)" if _onnx_available() else f"dcffnet {args.weights} (torch)"
            for busy in (False,) if args.no_busy else (False, True):
                machine = "beside a busy process" if busy else "idle"
                fps = results[(default, "auto", busy)]
                line = f"\n{default}, threads=auto, {machine}: {fps:.1f} FPS"
                if peer is not None:
                    best = max(settings, key=lambda t: results[(peer, t, busy)])
                    line += (f" = {fps / results[(peer, best, busy)]:.2f} x NanoTrack at its best setting "
                             f"({best} threads, {results[(peer, best, busy)]:.1f} FPS)")
                if busy:
                    line += f"; {fps / results[(default, 'auto', False)] * 100:.0f} % of its idle FPS"
                print(line)
        if "profile" in args.sections:
            print("\n## Where an update's time goes (median ms per frame, one thread)\n")
            from .tracking.profile import STAGES

            print("| backend | " + " | ".join(STAGES) + " | total |")
            print("|---|" + "---:|" * (len(STAGES) + 1))
            backends = ["torch"] + (["onnx"] if _onnx_available() else [])
            for backend in backends:
                p = update_profile(Tracker(model=model, threads=1, backend=backend), frames, box)
                print(f"| {backend} | " + " | ".join(f"{p.get(k, 0.0):.3f}" for k in STAGES)
                      + f" | {sum(p.values()):.3f} |")
        if "multi" in args.sections:
            print("\n## MultiTracker: N targets, one batched pass per frame\n")
            backends = ["torch"] + (["onnx"] if _onnx_available() else [])
            default = Tracker(model=model).backend
            single = {(b, t): 1000.0 / tracker_fps(lambda: Tracker(model=model, threads=t, backend=b), frames, box,
                                                    args.repeats) for b in backends for t in args.threads}
            print("single Tracker: " + ", ".join(f"{ms:.2f} ms/frame ({b}, {t} thread{'s' * (t > 1)})"
                                                 for (b, t), ms in single.items()) + f"; Tracker() uses {default}")
            print(f"\n| MultiTracker backend | targets | threads | ms per frame | ms per target | "
                  f"x single Tracker (same backend, threads) | x single {default} Tracker (same threads) |")
            print("|---|---:|---:|---:|---:|---:|---:|")
            for b in backends:
                for threads in args.threads:
                    costs = multi_target_costs(lambda: MultiTracker(model=model, threads=threads, backend=b),
                                               frames[:32], box, args.multi, repeats=1)
                    for n, ms in costs.items():
                        print(f"| {b} | {n} | {threads} | {ms:.2f} | {ms / n:.2f} | {ms / n / single[(b, threads)]:.2f} | "
                              f"{ms / n / single[(default, threads)]:.2f} |", flush=True)
        if "memory" in args.sections:
            print(f"\n## Resident memory over {args.memory} frames (one Tracker per backend, default settings)\n")
            if args.memory < 10:
                raise ValueError(f"--memory must be at least 10 frames, got {args.memory}")
            every = max(1, min(1000, args.memory // 10))
            rows = []
            for backend in ["torch"] + (["onnx"] if _onnx_available() else []):
                curve = memory_curve(lambda: Tracker(model=model, backend=backend), frames, box, args.memory, every=every)
                growth = (curve[-1][1] - curve[1][1]) / max(curve[-1][0] - curve[1][0], 1) * 1024
                rows.append((backend, curve, growth))
            print("| backend | " + " | ".join(f"frame {f}" for f, _ in rows[0][1]) + " | growth after the first "
                  f"{rows[0][1][1][0]} frames |")
            print("|---|" + "---:|" * (len(rows[0][1]) + 1))
            for backend, curve, growth in rows:
                print(f"| {backend} (MiB) | " + " | ".join(f"{m:.1f}" for _, m in curve) + f" | {growth:.2f} KiB per frame |")
        print(f"\n# peak resident memory of this process: "
              f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    finally:
        torch.set_num_threads(previous)


def main(argv: Sequence[str] | None = None) -> None:
    """Stand-alone entry point (``python -m dcffnet.bench``)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    run(parser.parse_args(argv))


if __name__ == "__main__":
    main()
