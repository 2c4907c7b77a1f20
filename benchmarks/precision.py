"""Lower precision for the CPU network: int8 (ONNX Runtime static quantization) and bf16 (PyTorch).

    python benchmarks/precision.py --data-root TRAIN/videos                      # speed and error
    python benchmarks/precision.py --data-root TRAIN/videos --write-int8 OUT/    # + a usable int8 export

Calibration and error crops are search crops of the bundled tracker around jittered ground-truth
boxes of **training** videos (folder format: ``video.mp4`` or frames + ``groundtruth.txt``), never
validation or test frames: the int8 scales are fitted on the even crops and the errors measured on
the odd ones. For each variant the script prints the median milliseconds of one search-branch call
at 1 and 2 threads, the relative error of the ``cls`` / ``reg`` maps against fp32 (max abs
difference / max abs value, median over crops) and how often the peak of the score map lands on
the same cell. ``--write-int8 OUT`` writes the first int8 variant as a checkpoint folder that
``Tracker(OUT, backend="onnx")`` and ``dcffnet eval --tracker dcffnet:OUT,backend=onnx`` run, so
its tracking accuracy can be checked on a validation set.

Needs ``onnx`` (``pip install "dcffnet[onnx]"``); ``onnxruntime.quantization`` ships with ONNX Runtime.
"""

from __future__ import annotations

import argparse
import copy
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

import dcffnet
from dcffnet.checkpoint import sha256_file
from dcffnet.data import read_dataset
from dcffnet.data.frames import read_frame
from dcffnet.geometry import xywh_to_cxcywh
from dcffnet.models.fuse import fuse_batchnorm


def collect_crops(tracker: "dcffnet.Tracker", root: Path, per_sequence: int, seed: int = 0) -> list[dict[str, np.ndarray]]:
    """Search-graph feeds (crop + the target's kernels) from the training videos under ``root``:
    the tracker is started on each sequence's first annotated frame and cropped around
    ``per_sequence`` later ground-truth boxes, jittered (centre 15 % of the size, size 10 % log-normal)."""
    folders = sorted({p.parent.parent for p in root.glob("**/groundtruth.txt")})
    sequences = [s for folder in folders for s in read_dataset("folder", folder)]
    if not sequences:
        raise SystemExit(f"no sequences (folders with groundtruth.txt) under {root}")
    rng = np.random.default_rng(seed)
    net = tracker.runner.network
    feeds = []
    for seq in sequences:
        valid = np.flatnonzero(np.isfinite(seq.boxes).all(1))
        if len(valid) < 2:
            continue
        tracker.init(read_frame(seq.frames[valid[0]]), seq.boxes[valid[0]])
        for i in valid[1:][:: max(1, (len(valid) - 1) // per_sequence)][:per_sequence]:
            state = xywh_to_cxcywh(seq.boxes[i]).astype(np.float64)
            state[:2] += rng.normal(0, 0.15, 2) * state[2:]
            state[2:] *= np.exp(rng.normal(0, 0.1, 2))
            target = copy.deepcopy(tracker.target)
            target.box = state
            crop = tracker.pipeline.search_region(target).crop(read_frame(seq.frames[i]), target.pad_value)
            feeds.append({"search": net.prepare(crop[None]),
                          **{n: k.copy() for n, k in zip(net.kernel_names, target.template.kernels)}})
    return feeds


def median_ms(fn: Callable[[], Any], calls: int) -> float:
    for _ in range(10):
        fn()
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def session(path: Path, threads: int) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def errors(outputs: list[list[np.ndarray]], reference: list[list[np.ndarray]]) -> tuple[float, float, float]:
    """Median relative error of cls and reg, and the fraction of crops with the same score peak."""
    rel = [[float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-12)) for a, b in zip(o, r)]
           for o, r in zip(outputs, reference)]
    same = [np.argmax(o[0][0, 1] - o[0][0, 0]) == np.argmax(r[0][0, 1] - r[0][0, 0]) for o, r in zip(outputs, reference)]
    return statistics.median(x[0] for x in rel), statistics.median(x[1] for x in rel), float(np.mean(same))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-root", required=True, type=Path, help="training videos (folder format, searched recursively)")
    parser.add_argument("--weights", default="default", help="checkpoint (folder, bundled name or hub id)")
    parser.add_argument("--per-sequence", type=int, default=12, help="crops per training sequence")
    parser.add_argument("--calls", type=int, default=300, help="timed calls per figure")
    parser.add_argument("--write-int8", type=Path, help="write the int8 (QDQ, per-channel) export here")
    args = parser.parse_args()

    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    tracker = dcffnet.Tracker(args.weights, backend="onnx", threads=1)
    folder = Path(tracker.runner.network.folder)
    feeds = collect_crops(tracker, args.data_root, args.per_sequence)
    fit, held = feeds[0::2], feeds[1::2]
    print(f"# {len(feeds)} crops from the training videos: {len(fit)} to fit int8 scales, {len(held)} to measure errors")

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self._it = iter(fit)

        def get_next(self) -> dict[str, np.ndarray] | None:
            return next(self._it, None)

    variants = {
        "int8 QDQ, per-channel weights (u8 activations, s8 weights)":
            dict(quant_format=QuantFormat.QDQ, per_channel=True, weight_type=QuantType.QInt8),
        "int8 QOperator, per-channel weights": dict(quant_format=QuantFormat.QOperator, per_channel=True,
                                                    weight_type=QuantType.QInt8),
        "int8 QDQ, per-channel, reduced range": dict(quant_format=QuantFormat.QDQ, per_channel=True,
                                                     weight_type=QuantType.QInt8, reduce_range=True),
        "int8 QDQ, convolutions only": dict(quant_format=QuantFormat.QDQ, per_channel=True,
                                            weight_type=QuantType.QInt8, op_types_to_quantize=["Conv"]),
    }
    print("\n| variant | ms per call, 1 thread | 2 threads | cls rel. error | reg rel. error | same score peak |")
    print("|---|---:|---:|---:|---:|---:|")
    fp32 = folder / "search.onnx"
    reference = [session(fp32, 1).run(None, f) for f in held]
    with tempfile.TemporaryDirectory() as tmp:
        pre = Path(tmp) / "search_pre.onnx"
        quant_pre_process(str(fp32), str(pre))
        paths = {"fp32 (shipped)": fp32}
        for name, options in variants.items():
            paths[name] = Path(tmp) / f"int8_{len(paths)}.onnx"
            quantize_static(str(pre), str(paths[name]), Reader(), **options)
        for name, path in paths.items():
            one, two = session(path, 1), session(path, 2)
            ms1 = median_ms(lambda: one.run(None, held[0]), args.calls)
            ms2 = median_ms(lambda: two.run(None, held[0]), args.calls)
            cls, reg, same = errors([one.run(None, f) for f in held], reference)
            print(f"| {name} | {ms1:.2f} | {ms2:.2f} | {cls:.4f} | {reg:.4f} | {same * 100:.0f} % |", flush=True)
        if args.write_int8:
            out = args.write_int8
            if out.exists():
                shutil.rmtree(out)
            shutil.copytree(folder, out)
            shutil.copy(paths[next(iter(variants))], out / "search.onnx")
            manifest = json.loads((out / "onnx.json").read_text())
            manifest["sha256"]["search.onnx"] = sha256_file(out / "search.onnx")
            manifest["precision"] = "int8 (QDQ, per-channel weights, calibrated on training crops)"
            (out / "onnx.json").write_text(json.dumps(manifest, indent=2) + "\n")
            print(f"\nwrote {out} (int8 search graph; run it with Tracker({str(out)!r}, backend='onnx'))")

    # bf16 in PyTorch: autocast and bf16 weights, against the fp32 network as the tracker runs it
    torch.set_num_threads(1)
    model = fuse_batchnorm(dcffnet.DCFFNet.from_pretrained(args.weights)).eval().to(memory_format=torch.channels_last)
    g = model.geometry
    lo = (g.search_size - g.template_size) // 2  # the centre of a search crop: the target with its context
    z = torch.from_numpy(np.ascontiguousarray(fit[0]["search"][:, :, lo:lo + g.template_size, lo:lo + g.template_size]))
    x = torch.from_numpy(held[0]["search"]).contiguous(memory_format=torch.channels_last)
    print("\n| PyTorch, 1 thread | ms per call | cls rel. error |")
    print("|---|---:|---:|")
    with torch.inference_mode():
        template = model.template(z)
        ref = model.track(x, template)["cls"]
        print(f"| fp32 | {median_ms(lambda: model.track(x, template), args.calls // 3):.2f} | 0 |")
        with torch.autocast("cpu", dtype=torch.bfloat16):
            ms = median_ms(lambda: model.track(x, template), max(10, args.calls // 10))
            got = model.track(x, template)["cls"].float()
        print(f"| bf16 autocast | {ms:.2f} | {float((got - ref).abs().max() / ref.abs().max()):.4f} |")
        half = fuse_batchnorm(dcffnet.DCFFNet.from_pretrained(args.weights)).eval().to(torch.bfloat16)
        half = half.to(memory_format=torch.channels_last)
        template_b, xb = half.template(z.bfloat16()), x.bfloat16()
        ms = median_ms(lambda: half.track(xb, template_b), max(10, args.calls // 10))
        got = half.track(xb, template_b)["cls"].float()
        print(f"| bf16 weights and activations | {ms:.2f} | {float((got - ref).abs().max() / ref.abs().max()):.4f} |")


if __name__ == "__main__":
    main()
