"""``dcffnet eval``: run several trackers over a benchmark in one pass and score them.

Tracker specs:

* ``dcffnet`` (bundled default weights) or ``dcffnet:WEIGHTS`` (folder, bundled name or hub id),
  with optional ``,preset=otb``, ``,backend=onnx`` and ``,name=LABEL`` (e.g. ``dcffnet:runs/x/checkpoint,preset=otb``);
* ``opencv:csrt``, ``opencv:kcf``, ``opencv:mil``, ``opencv:nano``, ``opencv:vit`` (``,name=LABEL``).

Output folder: ``results/<tracker>/<sequence>.txt`` (``x,y,w,h`` per frame, 0-based pixels),
``summary.json``, ``results.md`` and, with matplotlib, ``success.png`` / ``precision.png``.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..data import read_frame
from ..deploy.onnx_format import state_digest
from ..models.dcffnet import DCFFNet
from ..tracking import Tracker, track_frames
from .datasets import Sequence
from .metrics import got10k_scores, long_term_scores, ope_scores, score_separation, summarize_ope
from .peers import OpenCVTracker
from .vot import accuracy_robustness, eao_score, run_supervised

__all__ = ["TrackerSpec", "parse_tracker_spec", "overlapping_sequences", "run_ope", "run_vot", "peer_ratios",
           "write_report"]


@dataclass
class TrackerSpec:
    """A named tracker factory (each sequence gets a fresh instance).

    ``training_sequences``: for dcffnet checkpoints, the videos the weights were trained on
    (``dataset/source/sequence`` names from the checkpoint's config), to flag contaminated scores.
    """

    name: str
    make: Callable[[], Any]
    training_sequences: tuple[str, ...] = ()
    is_peer: bool = False
    #: what the tracker is (weights, tracking values, backend; for peers their kind and model
    #: files): results kept on disk by :func:`run_ope` are reused only for the same fingerprint
    fingerprint: str = ""


def overlapping_sequences(spec: TrackerSpec, sequences: list[Sequence]) -> list[str]:
    """Names of ``sequences`` that appear in ``spec``'s training list (matched on the sequence
    folder name, case-insensitive): results on them are not held-out results."""
    trained = {name.rstrip("/").rsplit("/", 1)[-1].lower() for name in spec.training_sequences}
    return [s.name for s in sequences if s.name.lower() in trained]


def parse_tracker_spec(spec: str, peer_models: str | Path | None = None, device: str | None = None) -> TrackerSpec:
    """Turn ``dcffnet[:WEIGHTS][,preset=P][,backend=onnx][,name=N]`` or ``opencv:KIND[,name=N]`` into a
    :class:`TrackerSpec`.

    Raises:
        ValueError: an unknown spec; PeerUnavailable: an OpenCV tracker this build cannot run.
    """
    head, *options = spec.split(",")
    opts = {}
    for opt in options:
        if "=" not in opt:
            raise ValueError(f"tracker option {opt!r} in {spec!r} must be key=value")
        key, value = opt.split("=", 1)
        opts[key.strip()] = value.strip()
    unknown = set(opts) - {"preset", "name", "backend"}
    if unknown:
        raise ValueError(f"unknown tracker option(s) {sorted(unknown)} in {spec!r} (known: preset, backend, name)")
    kind, _, arg = head.partition(":")
    if kind == "dcffnet":
        weights = arg or "default"
        model = DCFFNet.from_pretrained(weights)
        info = model.checkpoint_info
        preset = opts.get("preset")
        label = arg
        if arg and Path(arg).exists():
            path = Path(arg).resolve()
            label = path.parent.name if path.name == "checkpoint" else path.name
        name = opts.get("name") or ("dcffnet" if not arg else f"dcffnet[{label}]")
        if preset:
            name = opts.get("name") or f"{name}-{preset}"
        backend = opts.get("backend", "auto")
        if "backend" in opts:
            name = opts.get("name") or f"{name}-{backend}"

        def make_dcffnet() -> Tracker:
            # hparams None: the checkpoint's own values
            return Tracker(model=model, hparams=preset, device=device, backend=backend)

        probe = make_dcffnet()  # a bad backend or a missing runtime fails here, before the run
        fingerprint = _fingerprint("dcffnet", state_digest(model), probe.hparams.to_dict(), probe.backend,
                                   probe.calibration.to_dict() if probe.calibration is not None else None)
        return TrackerSpec(name, make_dcffnet, training_sequences=tuple(info.training_sequences),
                           fingerprint=fingerprint)
    if kind == "opencv":
        if "preset" in opts:
            raise ValueError(f"preset= applies to dcffnet trackers only, not {spec!r}")
        if "backend" in opts:
            raise ValueError(f"backend= applies to dcffnet trackers only, not {spec!r}")
        OpenCVTracker(arg, peer_models)  # raises PeerUnavailable early
        import cv2

        models = sorted(p.name for p in Path(peer_models).glob("*.onnx")) if peer_models else []
        return TrackerSpec(opts.get("name") or f"opencv-{arg}", lambda: OpenCVTracker(arg, peer_models), is_peer=True,
                           fingerprint=_fingerprint("opencv", arg, cv2.__version__, models))
    raise ValueError(f"unknown tracker spec {spec!r}: use dcffnet[:WEIGHTS] or opencv:csrt|kcf|mil|nano|vit")


def _fingerprint(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(_jsonable(list(parts)), sort_keys=True).encode()).hexdigest()[:16]


def _sequence_key(seq: Sequence) -> str:
    return _fingerprint(seq.name, len(seq), np.nan_to_num(seq.gt, nan=-1.0).round(3).tolist())


def _load_kept(path: Path, spec: TrackerSpec, seq: Sequence) -> dict[str, np.ndarray] | None:
    """A finished (tracker, sequence) result from an earlier run, if it is for the same tracker and sequence."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            kept = {k: data[k] for k in ("boxes", "scores", "times", "fingerprint", "sequence")}
    except (OSError, ValueError, KeyError):
        return None  # cut short or foreign: computed again
    if str(kept["fingerprint"]) != spec.fingerprint or str(kept["sequence"]) != _sequence_key(seq) \
            or len(kept["boxes"]) != len(seq):
        return None
    return kept


def _keep(path: Path, spec: TrackerSpec, seq: Sequence, boxes: np.ndarray, scores: np.ndarray,
          times: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp.npz")
    np.savez(tmp, boxes=boxes, scores=scores, times=times, fingerprint=np.array(spec.fingerprint),
             sequence=np.array(_sequence_key(seq)))
    os.replace(tmp, path)


def run_ope(sequences: list[Sequence], trackers: list[TrackerSpec], progress: bool = True,
            scores: dict[str, dict[str, np.ndarray]] | None = None, keep_dir: "str | Path | None" = None,
            ) -> tuple[dict[str, dict[str, np.ndarray]], dict[str, float]]:
    """One-pass evaluation of every tracker on every sequence, in one call.

    Per sequence, the trackers run one after the other over the whole sequence (not interleaved
    frame by frame: alternating OpenCV's and torch's thread pools on every frame slows both, so
    FPS would depend on which trackers share the run). Decoding frames is not timed.

    Args:
        scores: if given, filled with ``scores[tracker][sequence]``, the ``(N,)`` per-frame
            confidence each ``update`` returned (1.0 for frame 0).
        keep_dir: if given, every finished (tracker, sequence) is written there at once
            (``<tracker>/<sequence>.npz``: boxes, scores, per-frame times) and, when the run is
            repeated, reused instead of recomputed if the tracker's :attr:`TrackerSpec.fingerprint`
            and the sequence are the same, so an interrupted benchmark resumes where it stopped.

    Returns:
        ``(boxes, fps)``: ``boxes[tracker][sequence]`` is ``(N, 4)`` (frame 0 = the ground truth) and
        ``fps[tracker]`` is frames / seconds spent in ``init`` + ``update``.
    """
    from tqdm import tqdm

    boxes: dict[str, dict[str, np.ndarray]] = {t.name: {} for t in trackers}
    seconds = {t.name: 0.0 for t in trackers}
    frames = {t.name: 0 for t in trackers}
    total = sum(len(s) for s in sequences) * len(trackers)
    bar = tqdm(total=total, unit="frame", disable=not progress, file=sys.stderr)
    for seq in sequences:
        init_box = seq.init_box
        for spec in trackers:
            bar.set_description(f"{seq.name} {spec.name}")
            kept_path = None if keep_dir is None else Path(keep_dir) / spec.name / f"{seq.name}.npz"
            kept = None if kept_path is None or not spec.fingerprint else _load_kept(kept_path, spec, seq)
            if kept is not None:
                seconds[spec.name] += float(kept["times"].sum())
                frames[spec.name] += len(kept["boxes"])
                boxes[spec.name][seq.name] = kept["boxes"]
                if scores is not None:
                    scores.setdefault(spec.name, {})[seq.name] = kept["scores"]
                bar.update(len(seq))
                continue
            tracker = spec.make()

            def frames_of(sequence: Sequence = seq):
                for path in sequence.frames:
                    yield read_frame(path)
                    bar.update(1)

            run = track_frames(tracker, frames_of(), init_box)
            if len(run) != len(seq):
                raise RuntimeError(f"{spec.name} on {seq.name}: {len(run)} results for {len(seq)} frames")
            seconds[spec.name] += float(run.times.sum())
            frames[spec.name] += len(run)
            boxes[spec.name][seq.name] = run.boxes
            if scores is not None:
                scores.setdefault(spec.name, {})[seq.name] = run.scores
            if kept_path is not None and spec.fingerprint:
                _keep(kept_path, spec, seq, run.boxes, run.scores, run.times)
    bar.close()
    return boxes, {name: frames[name] / max(seconds[name], 1e-9) for name in seconds}


def run_vot(sequences: list[Sequence], trackers: list[TrackerSpec], skip: int = 5, burnin: int = 10,
            low: int = 100, high: int = 356, progress: bool = True) -> dict[str, dict[str, float]]:
    """The VOT2018 reset protocol per tracker: accuracy, robustness, failures, EAO and FPS."""
    from tqdm import tqdm

    results = {}
    for spec in trackers:
        runs = []
        for seq in tqdm(sequences, desc=spec.name, disable=not progress, file=sys.stderr):
            runs.append(run_supervised(spec.make, seq, read_frame, skip=skip))
        ar = accuracy_robustness(runs, burnin=burnin)
        seconds = sum(sum(r.times) for r in runs)
        results[spec.name] = {**ar, "eao": eao_score(runs, low, high),
                              "fps": sum(len(r.times) for r in runs) / max(seconds, 1e-9)}
    return results


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    return value


def peer_ratios(summary: dict[str, Any], peers: list[str]) -> list[dict[str, Any]]:
    """For every tracker that is not a peer: its success AUC, precision and FPS divided by each peer's."""
    rows = []
    for name, data in summary["trackers"].items():
        if name in peers:
            continue
        for peer in peers:
            ref = summary["trackers"][peer]
            rows.append({"tracker": name, "peer": peer,
                         **{k: data[k] / ref[k] if ref[k] else float("nan") for k in ("auc", "precision", "fps")}})
    return rows


def write_report(out_dir: str | Path, sequences: list[Sequence], boxes: dict[str, dict[str, np.ndarray]],
                 fps: dict[str, float], dataset: str = "", extra: dict[str, Any] | None = None,
                 scores: dict[str, dict[str, np.ndarray]] | None = None, peers: list[str] | None = None,
                 warnings_: list[str] | None = None) -> dict[str, Any]:
    """Score OPE results and write result files, ``summary.json``, ``results.md`` and the plots.

    With ``scores`` (from :func:`run_ope`) each tracker also gets :func:`score_separation` and, on the
    sequences whose ground truth has absent frames (NaN rows after the first frame), the VOT long-term
    precision / recall / F-score (:func:`long_term_scores`); with
    ``peers`` (names of reference trackers in ``boxes``) ``results.md`` gets the ratio of every other
    tracker's AUC, precision and FPS to each peer's, all from this one run. ``warnings_`` (e.g.
    training-set overlap) are written at the top of ``results.md``.
    """
    from .plots import plot_curves, plots_available

    out = Path(out_dir)
    summary: dict[str, Any] = {"dataset": dataset, "sequences": [s.name for s in sequences], "trackers": {}}
    long_term = [s for s in sequences if len(s) > 1 and not np.isfinite(s.gt[1:]).all(1).all()]
    summary["long_term_sequences"] = [s.name for s in long_term]
    overall = {}
    for tracker, per_seq_boxes in boxes.items():
        folder = out / "results" / tracker
        folder.mkdir(parents=True, exist_ok=True)
        per_seq = {}
        for seq in sequences:
            pred = per_seq_boxes[seq.name]
            path = folder / f"{seq.name}.txt"
            path.parent.mkdir(parents=True, exist_ok=True)
            np.savetxt(path, pred, fmt="%.2f", delimiter=",")
            per_seq[seq.name] = ope_scores(pred, seq.gt)
        total = summarize_ope(per_seq)
        got = got10k_scores([per_seq_boxes[s.name] for s in sequences], [s.gt for s in sequences],
                            [s.cover for s in sequences])
        overall[tracker] = total
        separation: dict[str, Any] = {}
        if scores is not None and tracker in scores:
            separation = score_separation([per_seq_boxes[s.name] for s in sequences], [s.gt for s in sequences],
                                          [scores[tracker][s.name] for s in sequences])
            if long_term:
                lt = long_term_scores([per_seq_boxes[s.name] for s in long_term], [s.gt for s in long_term],
                                      [scores[tracker][s.name] for s in long_term])
                separation["long_term"] = {k: lt[k] for k in ("f_score", "precision", "recall", "threshold")}
        summary["trackers"][tracker] = {
            "auc": total["auc"], "precision": total["precision"], "norm_precision": total["norm_precision"],
            **got, "fps": fps[tracker], **separation,
            "success_curve": total["success_curve"], "precision_curve": total["precision_curve"],
            "per_sequence": {k: {m: v[m] for m in ("auc", "precision", "norm_precision")} for k, v in per_seq.items()},
        }
    peers = [p for p in (peers or []) if p in summary["trackers"]]
    ratios = peer_ratios(summary, peers)
    summary["peer_ratios"] = ratios
    summary["warnings"] = list(warnings_ or [])
    if extra:
        summary.update(extra)
    (out / "summary.json").write_text(json.dumps(_jsonable(summary), indent=2))
    lines = [f"# OPE results{': ' + dataset if dataset else ''}", ""]
    lines += [f"WARNING: {w}" for w in summary["warnings"]] + ([""] if summary["warnings"] else [])
    lines += [f"{len(sequences)} sequences, {sum(len(s) for s in sequences)} frames.", "",
              "| tracker | success AUC | precision (20 px) | norm. precision (0.2) | FPS "
              "| score IoU>0.5 | score IoU<0.1 | score AUROC |",
              "|---|---:|---:|---:|---:|---:|---:|---:|"]

    def _f(value: Any) -> str:
        return "-" if value is None or not np.isfinite(value) else f"{value:.3f}"

    for tracker, data in sorted(summary["trackers"].items(), key=lambda kv: -kv[1]["auc"]):
        lines.append(f"| {tracker} | {data['auc']:.3f} | {data['precision']:.3f} | {data['norm_precision']:.3f} "
                     f"| {data['fps']:.1f} | {_f(data.get('score_on_target'))} | {_f(data.get('score_off_target'))} "
                     f"| {_f(data.get('score_auroc'))} |")
    if ratios:
        lines += ["", "Ratios to the peers (same run):", "",
                  "| tracker | peer | AUC ratio | precision ratio | FPS ratio |", "|---|---|---:|---:|---:|"]
        for r in ratios:
            lines.append(f"| {r['tracker']} | {r['peer']} | {r['auc']:.3f} | {r['precision']:.3f} | {r['fps']:.3f} |")
    lt_rows = [(t, d["long_term"]) for t, d in summary["trackers"].items() if "long_term" in d]
    if lt_rows:
        lines += ["", f"Long-term measures on the {len(long_term)} sequences with absent frames "
                  f"({', '.join(s.name for s in long_term)}): tracking precision, recall and F-score at the "
                  "score threshold with the best F (VOT long-term protocol):", "",
                  "| tracker | F-score | precision | recall | threshold |", "|---|---:|---:|---:|---:|"]
        for tracker, lt in sorted(lt_rows, key=lambda kv: -np.nan_to_num(kv[1]["f_score"], nan=-1)):
            lines.append(f"| {tracker} | {_f(lt['f_score'])} | {_f(lt['precision'])} | {_f(lt['recall'])} "
                         f"| {_f(lt['threshold'])} |")
    lines += ["", "Per sequence (success AUC):", "",
              "| sequence | " + " | ".join(summary["trackers"]) + " |",
              "|---|" + "---:|" * len(summary["trackers"])]
    for seq in sequences:
        lines.append(f"| {seq.name} | " + " | ".join(f"{summary['trackers'][t]['per_sequence'][seq.name]['auc']:.3f}"
                                                    for t in summary["trackers"]) + " |")
    (out / "results.md").write_text("\n".join(lines) + "\n")
    if plots_available():
        plot_curves(overall, out, dataset)
    else:
        print("plots skipped: matplotlib is not installed (pip install \"dcffnet[eval]\")", file=sys.stderr)
    return summary
