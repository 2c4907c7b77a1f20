"""End-to-end tracking speed side by side with NanoTrack, at 1 and 2 threads, idle and under load.

    python benchmarks/speed.py --peer-models MODELS/          # bundled default + NanoTrack, 4 settings
    python benchmarks/speed.py --weights path/to/ckpt --frames 149 --repeats 3

Every tracker tracks the same preloaded frames (the 768x576 pedestrian clip in
``examples/assets/vtest_150.mp4`` unless ``--video``/``--box`` say otherwise) through
:func:`dcffnet.track_frames`, so only ``init``/``update`` are timed. Settings: torch intra-op
threads 1 and 2 (``torch.set_num_threads`` and ``Tracker(threads=N)``; OpenCV's NanoTrack gets
``cv2.setNumThreads`` the same number), each without and with a competing busy process that the script starts and stops itself
(one Python process spinning on float matrix products, as a decoder or detector beside the
tracker would). Printed: a markdown table of FPS (median of ``--repeats`` runs) and the ratio to
NanoTrack in the same setting, the peak resident memory of this process, and the machine's
measured fp32 matmul GFLOP/s (idle, one and all threads) so figures from different machines can be
compared. Figures vary from run to run on shared machines; the command and date go with any
number quoted from it.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import platform
import resource
import statistics
import time
from pathlib import Path

import cv2
import numpy as np
import torch

import dcffnet
from dcffnet.eval.peers import OpenCVTracker

ASSET = Path(__file__).resolve().parents[1] / "examples" / "assets" / "vtest_150.mp4"
ASSET_BOX = (639.0, 239.0, 46.0, 83.0)  # the pedestrian of examples/track_video.py in frame 0 (x, y, w, h)


def _busy(stop: "mp.synchronize.Event") -> None:
    torch.set_num_threads(1)
    a = torch.rand(256, 256)
    while not stop.is_set():
        a = torch.tanh(a @ a)


class BusyMachine:
    """Context manager: one competing CPU-bound process while inside."""

    def __enter__(self) -> "BusyMachine":
        ctx = mp.get_context("spawn")
        self._stop = ctx.Event()
        self._proc = ctx.Process(target=_busy, args=(self._stop,), daemon=True)
        self._proc.start()
        time.sleep(1.0)  # let it start spinning
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._proc.join(timeout=10)
        if self._proc.is_alive():
            self._proc.kill()


def matmul_gflops(threads: int, size: int = 512, seconds: float = 1.0) -> float:
    """Measured fp32 matrix-product throughput with ``threads`` torch threads (GFLOP/s)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    a, b = torch.rand(size, size), torch.rand(size, size)
    a @ b
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        a @ b
        n += 1
    elapsed = time.perf_counter() - t0
    torch.set_num_threads(previous)
    return 2 * size ** 3 * n / elapsed / 1e9


def read_frames(video: Path, limit: int) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(video))
    frames = []
    while len(frames) < limit:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame)
    cap.release()
    if not frames:
        raise SystemExit(f"no frames could be read from {video}")
    return frames


def fps_of(make, frames: list[np.ndarray], box, repeats: int) -> float:
    """Median over ``repeats`` of update calls per second (init excluded)."""
    rates = []
    for _ in range(repeats):
        run = dcffnet.track_frames(make(), frames, box)
        rates.append((len(run) - 1) / float(run.times[1:].sum()))
    return statistics.median(rates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--weights", default="default", help="dcffnet checkpoint (folder, bundled name or hub id)")
    parser.add_argument("--peer-models", default=None, help="folder with NanoTrack's ONNX files (omit: no peer)")
    parser.add_argument("--video", default=str(ASSET))
    parser.add_argument("--box", default=",".join(f"{v:g}" for v in ASSET_BOX), help="x,y,w,h in the first frame")
    parser.add_argument("--frames", type=int, default=150)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    box = tuple(float(v) for v in args.box.split(","))
    frames = read_frames(Path(args.video), args.frames)
    model = dcffnet.DCFFNet.from_pretrained(args.weights)
    trackers = {f"dcffnet {args.weights}": lambda: dcffnet.Tracker(model=model, threads=torch.get_num_threads())}
    if args.peer_models:
        trackers["NanoTrack v2 (OpenCV)"] = lambda: OpenCVTracker("nano", args.peer_models)
    print(f"# torch {torch.__version__}, OpenCV {cv2.__version__}, {platform.machine()}, "
          f"{mp.cpu_count()} CPUs; {len(frames)} frames {frames[0].shape[1]}x{frames[0].shape[0]}")
    print(f"# fp32 matmul (512^3), idle: {matmul_gflops(1):.1f} GFLOP/s on 1 thread, "
          f"{matmul_gflops(mp.cpu_count()):.1f} on {mp.cpu_count()}")
    results: dict[tuple[str, int, bool], float] = {}
    for busy in (False, True):
        for threads in args.threads:
            torch.set_num_threads(threads)
            cv2.setNumThreads(threads)
            if busy:
                with BusyMachine():
                    for name, make in trackers.items():
                        results[(name, threads, busy)] = fps_of(make, frames, box, args.repeats)
            else:
                for name, make in trackers.items():
                    results[(name, threads, busy)] = fps_of(make, frames, box, args.repeats)
    peer = "NanoTrack v2 (OpenCV)" if args.peer_models else None
    print("| tracker | threads | machine | FPS | x NanoTrack |")
    print("|---|---:|---|---:|---:|")
    for (name, threads, busy), fps in results.items():
        ratio = "" if peer is None else f"{fps / results[(peer, threads, busy)]:.2f}"
        print(f"| {name} | {threads} | {'one busy process beside' if busy else 'idle'} | {fps:.1f} | {ratio} |")
    print(f"# peak resident memory of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
