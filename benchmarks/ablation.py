"""Ablation of the correlation-fusion (CF) modules (the paper's Table III) at CPU scale.

Trains ``dcffnet_mobile`` in its four variants (``cf`` = none / first / second / double) with one
identical recipe (``mobile-stage2-distill.yaml`` on a shorter schedule), data and schedule, for
several seeds, then scores every run on a validation and a test folder with the same tracking
hyper-parameters, and writes a report (tables, paired comparisons, training-curve PNGs).

Every step leaves its result on disk and is skipped when rerun, so the study can be interrupted
(Ctrl-C, a machine that goes away) and resumed with the same command; a training run that was cut
short continues from its last finished epoch (``dcffnet train --resume``).

Usage::

    python benchmarks/ablation.py --data-root DATA/train --val DATA/val --test DATA/sequences \\
        --peer-models MODELS --out runs/ablation            # train + evaluate what is missing
    python benchmarks/ablation.py ... --report-only --fps   # tables and plots from what is done

``MODELS`` holds ``nanotrack_backbone_sim.onnx`` and ``nanotrack_head_sim.onnx`` (the recipe's
backbone initialisation and distillation teacher). The report goes to ``OUT/report.md`` (and
``OUT/*.png``); the FPS column is measured only with ``--fps``, on whatever else the machine is
doing at that moment, so run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

VARIANTS = ("none", "first", "second", "double")
RECIPE = "mobile-stage2-distill.yaml"


# --------------------------------------------------------------------------------------------- runs
def run_dir(out: Path, variant: str, seed: int) -> Path:
    return out / "runs" / f"cf-{variant}-seed{seed}"


def epochs_done(folder: Path) -> int:
    """Finished epochs of a training run, read from its ``metrics.jsonl`` (0 if none)."""
    path = folder / "metrics.jsonl"
    if not path.exists():
        return 0
    done = 0
    for line in path.read_text().splitlines():
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:  # a line cut by a kill mid-write
            continue
        if rec.get("event") == "epoch":
            done = max(done, int(rec["epoch"]) + 1)
    return done


def train_run(args: argparse.Namespace, variant: str, seed: int) -> Path:
    """Train one (variant, seed) run unless it is complete; resume it if it was interrupted."""
    folder = run_dir(args.out, variant, seed)
    if epochs_done(folder) >= args.epochs and (folder / "checkpoint" / "model.safetensors").exists():
        return folder
    models = Path(args.peer_models)
    milestones = [max(1, round(args.epochs * 2 / 3)), max(2, round(args.epochs * 7 / 8))]
    cmd = [sys.executable, "-m", "dcffnet", "train", RECIPE, "--out", str(folder), "--no-progress",
           "--set", f"data.data_root={args.data_root}",
           "--set", f"backbone_init={models / 'nanotrack_backbone_sim.onnx'}",
           "--set", f"distill.teacher={models / 'nanotrack_backbone_sim.onnx'}",
           "--set", f"distill.head={models / 'nanotrack_head_sim.onnx'}",
           "--set", f"model.cf={variant}", "--set", f"seed={seed}", "--set", f"epochs={args.epochs}",
           "--set", f"data.samples_per_epoch={args.samples}", "--set", f"optim.milestones={milestones}",
           "--set", f"log_every={args.log_every}", "--set", "data.val_samples=0", "--set", f"data.num_workers={args.workers}"]
    if (folder / "train_state.pt").exists():
        cmd.append("--resume")
    print(f"[ablation] train cf={variant} seed={seed}: {' '.join(cmd[3:])}", flush=True)
    t0 = time.time()
    subprocess.run(cmd, check=True)
    print(f"[ablation] trained cf={variant} seed={seed} in {time.time() - t0:.0f} s", flush=True)
    return folder


def evaluate_run(folder: Path, dataset: str, split: str) -> dict[str, Any]:
    """Success AUC / precision of one trained run on one folder of sequences (cached as JSON)."""
    path = folder / f"eval-{split}.json"
    if path.exists():
        return json.loads(path.read_text())
    from dcffnet import DCFFNet, Tracker
    from dcffnet.eval.datasets import load_benchmark
    from dcffnet.eval.metrics import ope_scores
    from dcffnet.eval.runner import TrackerSpec, run_ope

    model = DCFFNet.from_folder(folder / "checkpoint")
    spec = TrackerSpec("dcffnet", lambda: Tracker(model=model, hparams=TRACKING))
    sequences = load_benchmark(dataset)
    boxes, fps = run_ope(sequences, [spec], progress=False)
    per_seq = {}
    for seq in sequences:
        s = ope_scores(boxes["dcffnet"][seq.name], seq.gt)
        per_seq[seq.name] = {"auc": float(s["auc"]), "precision": float(s["precision"])}
    result = {"split": split, "auc": float(np.mean([v["auc"] for v in per_seq.values()])),
              "precision": float(np.mean([v["precision"] for v in per_seq.values()])),
              "fps_during_eval": float(fps["dcffnet"]), "sequences": per_seq}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(result, indent=1))
    os.replace(tmp, path)
    print(f"[ablation] {folder.name} {split}: AUC {result['auc']:.3f} precision {result['precision']:.3f}", flush=True)
    return result


# The tracking values of the shipped default (tuned on val for the cf=double model), the same for
# every variant so only the network differs.
TRACKING = {"penalty_k": 0.04, "window_influence": 0.35, "lr": 0.1}


# ------------------------------------------------------------------------------------------ report
def model_costs(variant: str, fps: bool) -> dict[str, float]:
    """Parameters, FLOPs per tracked frame and (optionally) end-to-end FPS of one variant."""
    from dcffnet.bench import measure

    row = measure("dcffnet_mobile", frames=300, timing=fps, cf=variant, repeats=3)
    return {k: row[k] for k in ("params_M", "frame_GFLOPs", "e2e_fps") if k in row}


def loss_curve(folder: Path, key: str = "loss") -> tuple[np.ndarray, np.ndarray]:
    """(global step, training loss) of a run's logged steps."""
    steps, losses, per_epoch = [], [], {}
    records = []
    for line in (folder / "metrics.jsonl").read_text().splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:  # a line cut by a kill
            continue
    for rec in records:
        if rec.get("event") == "epoch":
            per_epoch[int(rec["epoch"])] = int(rec["steps"])
    offsets, total = {}, 0
    for epoch in sorted(per_epoch):
        offsets[epoch], total = total, total + per_epoch[epoch]
    for rec in records:
        if rec.get("event") == "step" and int(rec["epoch"]) in offsets:
            steps.append(offsets[int(rec["epoch"])] + int(rec["step"]))
            losses.append(float(rec[key]))
    order = np.argsort(steps)
    return np.asarray(steps)[order], np.asarray(losses)[order]


def smooth(values: np.ndarray, window: int) -> np.ndarray:
    """Trailing moving average (the first points average what exists so far)."""
    csum = np.cumsum(np.insert(values, 0, 0.0))
    idx = np.arange(1, len(values) + 1)
    lo = np.maximum(0, idx - window)
    return (csum[idx] - csum[lo]) / (idx - lo)


def steps_to_reach(steps: np.ndarray, smoothed: np.ndarray, threshold: float) -> float:
    """First step at which the smoothed loss is at or below ``threshold`` (nan if never)."""
    hit = np.nonzero(smoothed <= threshold)[0]
    return float(steps[hit[0]]) if len(hit) else math.nan


def paired_permutation(diffs: np.ndarray, rounds: int = 20000, seed: int = 0) -> float:
    """Two-sided p-value of a sign-flip permutation test on paired differences (exact for <= 16)."""
    diffs = np.asarray(diffs, dtype=float)
    n = len(diffs)
    observed = abs(diffs.mean())
    if n <= 16:
        signs = ((np.arange(2 ** n)[:, None] >> np.arange(n)) & 1) * 2 - 1
    else:
        signs = np.random.default_rng(seed).choice([-1.0, 1.0], size=(rounds, n))
    means = np.abs((signs * diffs).mean(axis=1))
    return float((means >= observed - 1e-12).mean())


def fmt(values: list[float], digits: int = 3) -> str:
    values = [v for v in values if not math.isnan(v)]
    if not values:
        return "-"
    if len(values) == 1:
        return f"{values[0]:.{digits}f}"
    return f"{np.mean(values):.{digits}f} ± {np.std(values, ddof=1):.{digits}f}"


def report(args: argparse.Namespace) -> str:
    """Markdown tables and PNG curves from the finished runs; returns the markdown."""
    runs: dict[str, dict[int, dict[str, Any]]] = {v: {} for v in args.variants}
    for v in args.variants:
        for s in args.seeds:
            folder = run_dir(args.out, v, s)
            if epochs_done(folder) < args.epochs:
                continue
            entry: dict[str, Any] = {"folder": folder}
            for split in ("val", "test"):
                path = folder / f"eval-{split}.json"
                if path.exists():
                    entry[split] = json.loads(path.read_text())
            entry["steps"], entry["loss"] = loss_curve(folder)
            runs[v][s] = entry
    costs_path = args.out / "costs.json"
    costs = json.loads(costs_path.read_text()) if costs_path.exists() else {}
    for v in args.variants:
        if v not in costs or (args.fps and "e2e_fps" not in costs[v]):
            costs[v] = model_costs(v, args.fps)
    costs_path.write_text(json.dumps(costs, indent=1))

    window = args.smooth
    all_final = [smooth(e["loss"], window)[-1] for v in runs.values() for e in v.values() if len(e["loss"])]
    threshold = args.loss_threshold or (1.25 * min(all_final) if all_final else math.nan)

    lines = [f"Runs per variant: seeds {list(args.seeds)}; {args.epochs} epochs x {args.samples} pairs; "
             f"tracking values {TRACKING}.", "",
             "| variant | seeds done | val AUC | val precision | test AUC | test precision | params (M) | "
             "GFLOPs/frame | FPS | final loss | loss spread across seeds | steps to loss <= "
             f"{threshold:.3f} |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    curves = {}
    for v in args.variants:
        entries = runs[v]
        smoothed = {s: smooth(e["loss"], window) for s, e in entries.items() if len(e["loss"])}
        spread = math.nan
        if len(smoothed) > 1:
            n = min(len(c) for c in smoothed.values())
            stack = np.stack([c[:n] for c in smoothed.values()])
            spread = float(stack[:, n // 2:].std(axis=0, ddof=1).mean())
            curves[v] = (next(iter(entries.values()))["steps"][:n], stack)
        reach = [steps_to_reach(entries[s]["steps"], c, threshold) for s, c in smoothed.items()]
        c = costs.get(v, {})
        lines.append("| " + " | ".join([
            f"cf={v}", str(len(entries)),
            fmt([e["val"]["auc"] for e in entries.values() if "val" in e]),
            fmt([e["val"]["precision"] for e in entries.values() if "val" in e]),
            fmt([e["test"]["auc"] for e in entries.values() if "test" in e]),
            fmt([e["test"]["precision"] for e in entries.values() if "test" in e]),
            f"{c.get('params_M', math.nan):.4f}", f"{c.get('frame_GFLOPs', math.nan):.3f}",
            f"{c['e2e_fps']:.1f}" if "e2e_fps" in c else "-",
            fmt([float(cv[-1]) for cv in smoothed.values()]), f"{spread:.4f}" if not math.isnan(spread) else "-",
            fmt(reach, 0)]) + " |")

    lines += ["", "Paired comparison with cf=none (same seeds; difference = variant - none):", "",
              "| variant | split | per-seed AUC differences | mean | seed-level p | sequence-level p "
              "(seed-averaged, n) | sequences better / worse |", "|---|---|---|---:|---:|---:|---:|"]
    base = runs.get("none", {})
    for v in args.variants:
        if v == "none":
            continue
        for split in ("val", "test"):
            seeds = [s for s in runs[v] if s in base and split in runs[v][s] and split in base[s]]
            if not seeds:
                continue
            d = np.array([runs[v][s][split]["auc"] - base[s][split]["auc"] for s in seeds])
            names = sorted(base[seeds[0]][split]["sequences"])
            per_seq = np.array([np.mean([runs[v][s][split]["sequences"][n]["auc"]
                                         - base[s][split]["sequences"][n]["auc"] for s in seeds]) for n in names])
            lines.append(f"| cf={v} | {split} | {', '.join(f'{x:+.3f}' for x in d)} | {d.mean():+.3f} | "
                         f"{paired_permutation(d):.3f} | {paired_permutation(per_seq):.3f} ({len(names)}) | "
                         f"{int((per_seq > 0).sum())} / {int((per_seq < 0).sum())} |")
    _plot(curves, args.out / "loss-curves.png", threshold)
    text = "\n".join(lines) + "\n"
    (args.out / "report.md").write_text(text)
    return text


def _plot(curves: dict[str, tuple[np.ndarray, np.ndarray]], path: Path, threshold: float) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("[ablation] matplotlib missing: no plot", file=sys.stderr)
        return
    if not curves:
        return
    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=110)
    for v, (steps, stack) in curves.items():
        mean = stack.mean(axis=0)
        line, = ax.plot(steps, mean, label=f"cf={v} (mean of {len(stack)} seeds)")
        ax.fill_between(steps, stack.min(axis=0), stack.max(axis=0), color=line.get_color(), alpha=0.2)
    if not math.isnan(threshold):
        ax.axhline(threshold, color="grey", lw=0.8, ls="--", label=f"loss {threshold:.3f}")
    ax.set_xlabel("training step (batch of 16 pairs)")
    ax.set_ylabel("training loss (moving average)")
    ax.set_title("CF ablation: mean over seeds, band = min-max over seeds", fontsize=9)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-root", required=True, help="training data folder (the recipe's data_root)")
    parser.add_argument("--val", required=True, help="folder of validation sequences")
    parser.add_argument("--test", default=None, help="folder of test sequences (scored once per run)")
    parser.add_argument("--peer-models", required=True, help="folder with the NanoTrack v2 ONNX files")
    parser.add_argument("--out", type=Path, default=Path("runs/ablation"))
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--samples", type=int, default=1600, help="training pairs per epoch")
    parser.add_argument("--workers", type=int, default=1, help="DataLoader worker processes (0: load in the trainer)")
    parser.add_argument("--log-every", type=int, default=10, help="steps between logged losses")
    parser.add_argument("--smooth", type=int, default=10, help="moving-average window of the loss curves (points)")
    parser.add_argument("--loss-threshold", type=float, default=None,
                        help="loss for 'steps to reach' (default 1.25 x the lowest final smoothed loss)")
    parser.add_argument("--report-only", action="store_true", help="only tables and plots from finished runs")
    parser.add_argument("--fps", action="store_true", help="measure each variant's FPS for the report")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if not args.report_only:
        # seed-major order: after each round every variant has the same number of seeds
        for seed in args.seeds:
            for variant in args.variants:
                folder = train_run(args, variant, seed)
                evaluate_run(folder, args.val, "val")
                if args.test:
                    evaluate_run(folder, args.test, "test")
    print(report(args))


if __name__ == "__main__":
    main()
