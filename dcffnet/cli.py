"""Command line: ``dcffnet track``, ``dcffnet eval``, ``dcffnet tune``, ``dcffnet train``, ``dcffnet models``."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any, Sequence

from .track_run import parse_box, run_track

__all__ = ["main", "parse_box", "run_track"]


def _cmd_track(args: argparse.Namespace) -> int:
    boxes = args.box or []
    one = len(boxes) == 1 and args.targets is None
    if boxes and args.targets is not None:
        raise ValueError("give the targets with --box (repeatable) or with --targets FILE, not both")
    targets: Any = args.targets
    if len(boxes) > 1:
        from .targets import targets_from_boxes

        targets = targets_from_boxes(boxes)
    run_track(args.source, boxes[0] if one else None, args.weights, targets=targets,
              revision=args.revision, preset=args.preset, device=args.device, output=args.output,
              boxes_path=args.boxes, boxes_format=args.boxes_format, max_frames=args.max_frames,
              show_score=args.show_score, labels=not args.no_labels, realtime=args.realtime,
              reconnect=args.reconnect, progress=not args.no_progress)
    return 0


def _batch_options(args: argparse.Namespace) -> "dict[str, Any] | None":
    """The run_jobs keywords of ``args``' batch options, or None when they ask for the plain loop."""
    from .jobs.options import is_batch, job_options

    options = job_options(args)  # checked even when not a batch (e.g. --ray-address without --engine ray)
    return options if is_batch(args) else None


def _cmd_track_many(args: argparse.Namespace) -> int:
    from .jobs.options import job_options
    from .jobs.track_many import track_many

    report = track_many(args.manifest, args.weights, revision=args.revision, preset=args.preset, device=args.device,
                        fresh=args.fresh, shard=args.shard, **job_options(args))
    return 0 if report.ok else 1


def _cmd_eval(args: argparse.Namespace) -> int:
    from .eval import OPEReport, parse_tracker_spec, record_ope, record_vot, score_vot
    from .eval.peers import PeerUnavailable
    from .eval.render import kept_lines, ope_console, vot_markdown, write_ope, write_vot
    from .eval.runner import overlapping_sequences

    batch = _batch_options(args)  # None: the plain loop in this process
    if batch is not None and args.protocol == "vot" and args.shard is not None:
        raise ValueError("--shard applies to --protocol ope: VOT runs are not kept, so shards could not be combined")
    sequences = _read_benchmarks(args.dataset, args.format, args.strict)
    if args.sequences:
        wanted = set(args.sequences)
        sequences = [s for s in sequences if s.name in wanted]
        missing = wanted - {s.name for s in sequences}
        if missing:
            raise ValueError(f"sequences not in {args.dataset}: {sorted(missing)}")
    specs = []
    for spec in args.tracker or ["dcffnet"]:
        try:
            specs.append(parse_tracker_spec(spec, args.peer_models, args.device))
        except PeerUnavailable as exc:
            print(f"skipping {spec}: {exc}", file=sys.stderr)
    if not specs:
        raise ValueError("no tracker could be created")
    names = [s.name for s in specs]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"two trackers are named {duplicates}: add ,name=LABEL to tell them apart")
    overlap = []
    for spec in specs:
        seen = overlapping_sequences(spec, sequences)
        if seen:
            overlap.append(f"{spec.name} was trained on {len(seen)} of these sequences ({', '.join(seen)}): "
                           "its scores on them are not held-out results")
    for line in overlap:
        print(f"WARNING: {line}", file=sys.stderr)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.protocol == "vot":
        if batch is None:
            runs = record_vot(sequences, specs, progress=not args.no_progress)
        else:
            from .jobs.eval_jobs import record_vot_jobs

            runs, _ = record_vot_jobs(sequences, specs, peer_models=args.peer_models, device=args.device, **batch)
            if runs is None:
                return 1  # the failed sequences and their reasons are listed above
        vot_report = score_vot(runs, low=args.eao_low, high=args.eao_high)
        write_vot(out, vot_report)
        print(vot_markdown(vot_report).rstrip("\n"))
        return 0
    if batch is None:
        record = record_ope(sequences, specs, progress=not args.no_progress,
                            keep_dir=None if args.fresh else out / "kept")
    else:
        from .jobs.eval_jobs import record_ope_jobs

        record, jobs = record_ope_jobs(sequences, specs, out / "kept", fresh=args.fresh, peer_models=args.peer_models,
                                       device=args.device, shard=args.shard, **batch)
        if record is None:
            if not jobs.ok:
                print(f"not scored: the sequences that finished are kept in {out / 'kept'}; the same command runs "
                      "the failed ones again", file=sys.stderr)
                return 1
            print(f"shard {args.shard[0]}/{args.shard[1]} recorded in {out / 'kept'}; once every shard has finished, "
                  "the same command without --shard scores them all", file=sys.stderr)
            return 0
    for line in kept_lines(record):
        print(line, file=sys.stderr)
    report = OPEReport.from_record(record, dataset=str(args.dataset), warnings=overlap)
    write_ope(out, report, record.sequences, record.boxes())
    print(ope_console(report))
    return 0


def _cmd_tune(args: argparse.Namespace) -> int:
    from collections import Counter

    from .atomic import atomic_write_json
    from .eval import ping_pong
    from .eval.tune import DEFAULT_GRID, cross_validate, grid_search, parse_grid
    from .hparams import resolve_hparams
    from .models import DCFFNet

    model = DCFFNet.from_pretrained(args.weights)
    info = model.checkpoint_info
    sequences = [ping_pong(seq, args.ping_pong) for seq in _read_benchmarks(args.dataset, args.format, args.strict)]
    clashes = sorted(name for name, count in Counter(seq.name for seq in sequences).items() if count > 1)
    if clashes:
        raise SystemExit(f"error: --dataset folders share sequence names {clashes}; results are keyed by name")
    grid = {**DEFAULT_GRID, **parse_grid(args.grid)}
    # Fields outside the grid keep the checkpoint's own tuned values (not the library defaults).
    base = resolve_hparams(None, info.tracker)
    results = grid_search(model, sequences, grid, base=base, device=args.device, progress=not args.no_progress)
    best = results[0]
    for r in results[: args.top]:
        print(f"AUC {r['auc']:.4f}  precision {r['precision']:.4f}  {r['hparams'].to_dict()}")
    cv = cross_validate(results, sequences, args.folds) if args.folds else None
    if cv is not None:
        print(f"{cv['settings']} settings tried; {cv['folds']}-fold cross-validation grouped by source "
              f"({'; '.join(f'fold {k}: ' + ', '.join(v) for k, v in cv['groups'].items())}): "
              f"out-of-fold AUC {cv['out_of_fold_auc']:.4f} (in-sample {cv['in_sample_auc']:.4f} for the best setting)")
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        rows = [{**r, "hparams": r["hparams"].to_dict()} for r in results]
        atomic_write_json(args.out, rows if cv is None else {"results": rows, "cross_validation": cv})
    if args.save_to:
        metrics = dict(info.metrics or {})
        # folder names only: a published config.json names no machine's folders
        metrics["tuning"] = {"dataset": [Path(d).name for d in args.dataset], "sequences": len(sequences),
                             "ping_pong": args.ping_pong, "auc": best["auc"],
                             "grid": grid, "settings": len(results)}
        if cv is not None:
            metrics["tuning"].update(folds=cv["folds"], out_of_fold_auc=cv["out_of_fold_auc"])
        model.save_pretrained(args.save_to, tracker=best["hparams"], training=info.training, metrics=metrics,
                              calibration=info.calibration)
        print(f"wrote {args.save_to} with the best hyper-parameters as its defaults")
    return 0


def _cmd_calibrate(args: argparse.Namespace) -> int:
    from .atomic import atomic_write_json
    from .eval.calibrate import calibrate, collect_cues, plot_reliability
    from .models import DCFFNet

    model = DCFFNet.from_pretrained(args.weights)
    info = model.checkpoint_info
    sequences = _read_benchmarks(args.dataset, args.format, args.strict)
    data = collect_cues(model, sequences, device=args.device, progress=not args.no_progress)
    where = ", ".join(Path(d).name for d in args.dataset)
    folds = None
    if args.folds:
        from .eval.folds import group_folds

        folds = group_folds(sequences, args.folds)
    calibration, report = calibrate(data, fitted_on=f"{where}: {len(sequences)} sequences, {len(data.labels)} frames",
                                    folds=folds)
    print(f"{report['frames']} frames, {report['positives']} with IoU > 0.5 ({report['sequences']} sequences)")
    held = f"{args.folds}-fold grouped by source" if args.folds else "two-fold by sequence"
    print(f"ECE: raw score {report['ece_raw']:.4f}, calibrated {report['ece']:.4f} ({held}: {report['ece_cv']:.4f})")
    print(f"held-out AUROC IoU>0.5 vs IoU<0.1 ({held}): {report['auroc_cv']:.4f}")
    print(f"AUROC IoU>0.5 vs IoU<0.1: raw {report['raw']['auroc']:.4f}, calibrated {report['calibrated']['auroc']:.4f}")
    print("| predicted | frames | mean predicted | observed |")
    print("|---|---:|---:|---:|")
    for row in report["reliability"]:
        print(f"| {row['low']:.1f}-{row['high']:.1f} | {row['count']} | {row['confidence']:.3f} | {row['accuracy']:.3f} |")
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        atomic_write_json(args.out, {"calibration": calibration.to_dict(), **report})
    if args.plot:
        plot_reliability(report, args.plot, title=f"{model.architecture} on {where}")
    if args.save_to:
        metrics = dict(info.metrics or {})
        metrics["calibration"] = {k: report[k] for k in ("frames", "sequences", "positives", "ece", "ece_cv", "ece_raw",
                                                         "auroc_cv", "cv_folds")}
        metrics["calibration"].update(auroc=report["calibrated"]["auroc"], dataset=[Path(d).name for d in args.dataset])
        model.save_pretrained(args.save_to, tracker=info.tracker, training=info.training, metrics=metrics,
                              calibration=calibration)
        print(f"wrote {args.save_to} with the calibration stored")
    return 0


def _cmd_models(args: argparse.Namespace) -> int:
    from .checkpoint import bundled_checkpoints
    from .models import list_models

    print("architectures: " + ", ".join(list_models()))
    bundled = bundled_checkpoints()
    print("bundled checkpoints: " + (", ".join(bundled) if bundled else "none"))
    return 0


def _cmd_bench(args: argparse.Namespace) -> int:
    from .bench import run

    run(args)
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from .deploy import export_onnx
    from .deploy.onnx_export import check_export_target
    from .models import DCFFNet

    if not args.onnx:
        raise ValueError("dcffnet export needs a target format: --onnx OUT_FOLDER")
    check_export_target(args.onnx, args.opset)  # before the model loads: a bad --opset or --onnx fails at once
    model = DCFFNet.from_pretrained(args.checkpoint, revision=args.revision)
    folder = export_onnx(model, args.onnx, opset=args.opset, check=not args.no_check)
    print(f"wrote {folder}: template.onnx, search.onnx, onnx.json and the checkpoint files "
          f"(use with Tracker('{folder}', backend='onnx'))")
    return 0


def _cmd_train(args: argparse.Namespace) -> int:
    from .train import list_recipes, load_recipe, train

    if args.list:
        print("\n".join(list_recipes()))
        return 0
    if not args.recipe:
        raise ValueError("dcffnet train needs a RECIPE (a YAML file or a shipped name; --list shows them)")
    config = load_recipe(args.recipe, args.set)
    out = args.out or str(Path("runs") / Path(args.recipe).stem)
    checkpoint = train(config, out, resume=args.resume, progress=not args.no_progress)
    if os.environ.get("RANK", "0") == "0":
        print(f"checkpoint: {checkpoint}")
    return 0


def _add_format_argument(parser: argparse.ArgumentParser) -> None:
    """``--format``: one of the benchmark formats of the registry (:mod:`dcffnet.data.formats`)."""
    from .data.formats import DATASET_FORMATS, format_names

    layouts = "; ".join(f"{'/'.join((f.name, *f.aliases))}: {f.description}" for f in DATASET_FORMATS if f.benchmark)
    parser.add_argument("--format", default="folder", choices=format_names(benchmark_only=True),
                        help=f"benchmark layout (default: folder). {layouts}".replace("%", "%%"))
    parser.add_argument("--strict", action="store_true",
                        help="fail on a sequence that cannot be scored (no frames, empty ground truth, no valid "
                             "first box) instead of skipping it; skipped sequences are always listed with the reason")


def _read_benchmarks(folders: "str | list[str]", format: str, strict: bool) -> list[Any]:
    """The sequences of every benchmark folder; each folder's read report (found, read, skipped
    and why) is printed to stderr."""
    from .eval.datasets import read_benchmark

    sequences = []
    for folder in [folders] if isinstance(folders, str) else folders:
        report = read_benchmark(folder, format, strict)
        print(report.summary(), file=sys.stderr)
        sequences.extend(report.sequences)
    return sequences


def build_parser() -> argparse.ArgumentParser:
    from .version import __version__

    parser = argparse.ArgumentParser(prog="dcffnet", description="DCFFNet single-object tracking")
    parser.add_argument("--version", action="version", version=f"dcffnet {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    track = sub.add_parser("track", help="track one or several targets through a video, a folder of frames, a camera "
                                         "or a stream",
                           description="Track targets and write an annotated video and/or a boxes file "
                                       "(formats: docs/cli-outputs.md).")
    track.add_argument("source", help="video file, folder of images (sorted by name), camera index (0), rtsp:// or "
                                      "http(s):// URL, or GStreamer pipeline")
    track.add_argument("--box", action="append", default=None, type=parse_box, metavar="X,Y,W,H",
                       help="x,y,w,h of a target in the first frame (pixels, 0-based); repeat for several targets "
                            "(ids 1, 2, ... in order)")
    track.add_argument("--targets", default=None, metavar="FILE",
                       help='JSON file of targets: [{"id": "car", "box": [x, y, w, h], "frame": 0}, ...] (frame: the '
                            '0-based frame the target starts at, default 0) or {"id": [x, y, w, h], ...}')
    track.add_argument("--weights", default="default", help="checkpoint folder, bundled name or hub repo id (org/name[@rev])")
    track.add_argument("--revision", default=None, help="hub revision (branch, tag or commit)")
    track.add_argument("--preset", default=None, help="tracking hyper-parameter preset (default: the checkpoint's own)")
    track.add_argument("--device", default=None, help="cpu (default), cuda, cuda:N")
    track.add_argument("--output", default=None,
                       help="write an annotated video here (.mp4, .avi, .mov, .mkv or .m4v; its folder must exist): "
                            "each target in its own colour with its id, lost targets dashed")
    track.add_argument("--show-score", action="store_true", help="add each target's score to its label in --output")
    track.add_argument("--no-labels", action="store_true", help="draw the boxes only in --output (no ids)")
    track.add_argument("--boxes", default=None,
                       help="write the boxes here as frames are tracked (its folder must exist); the format follows "
                            "the suffix: .txt x,y,w,h per line (one target), .csv MOTChallenge "
                            "frame,id,x,y,w,h,conf,-1,-1,-1, .jsonl one JSON object per frame")
    track.add_argument("--boxes-format", default=None, choices=["txt", "csv", "mot", "jsonl"],
                       help="the format of --boxes whatever its suffix (csv and mot are the same MOTChallenge rows)")
    track.add_argument("--max-frames", type=int, default=None, help="stop after this many frames")
    track.add_argument("--realtime", action="store_true",
                       help="live sources: process only the newest frame, dropping (and counting) older ones")
    track.add_argument("--reconnect", type=int, default=None, metavar="N",
                       help="live sources: reopen a stream that drops up to N times, with growing waits")
    track.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    track.set_defaults(func=_cmd_track)

    from .jobs.options import add_job_arguments

    many = sub.add_parser("track-many", help="track every video of a JSON Lines manifest, in parallel here or on Ray",
                          description="Track every entry of a manifest; finished entries are skipped when the job "
                                      "runs again (docs/batch.md).")
    many.add_argument("manifest", help='JSON Lines file, one video per line: {"source": VIDEO_OR_FOLDER, "box": '
                                       '[x, y, w, h] or "targets": FILE, "boxes": FILE and/or "output": VIDEO, optional '
                                       '"boxes_format", "max_frames", "name"}; relative paths are relative to its folder')
    many.add_argument("--weights", default="default", help="checkpoint folder, bundled name or hub repo id (org/name[@rev])")
    many.add_argument("--revision", default=None, help="hub revision (branch, tag or commit)")
    many.add_argument("--preset", default=None, help="tracking hyper-parameter preset (default: the checkpoint's own)")
    many.add_argument("--device", default=None, help="cpu (default), cuda, cuda:N")
    many.add_argument("--fresh", action="store_true",
                      help="track every entry again (default: skip the entries whose done record, OUTPUT.done.json, "
                           "matches the entry and options, so a stopped job resumes)")
    many.add_argument("--no-progress", action="store_true", help="no line per finished video (failures are always listed)")
    add_job_arguments(many, "video")
    many.set_defaults(func=_cmd_track_many)

    tr = sub.add_parser("train", help="run one training stage from a YAML recipe (DDP under torchrun)")
    tr.add_argument("recipe", nargs="?", help="recipe YAML file or shipped recipe name (see --list)")
    tr.add_argument("--out", default=None, help="run folder (default: runs/<recipe name>)")
    tr.add_argument("--resume", action="store_true", help="continue the run in --out from its last finished epoch")
    tr.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="override a recipe field, e.g. --set epochs=2 --set optim.lr=0.005 (repeatable)")
    tr.add_argument("--list", action="store_true", help="list the recipes shipped with dcffnet")
    tr.add_argument("--no-progress", action="store_true", help="hide progress bars")
    tr.set_defaults(func=_cmd_train)

    ev = sub.add_parser("eval", help="run trackers over a benchmark and score them (OPE or VOT reset protocol)")
    ev.add_argument("--dataset", required=True, help="benchmark folder")
    _add_format_argument(ev)
    ev.add_argument("--tracker", action="append", default=None, metavar="SPEC",
                    help="dcffnet[:WEIGHTS][,preset=P][,backend=onnx][,name=N], opencv:csrt|kcf|mil|nano|vit or "
                         "nanotrack:v2|v3|v2-opencv (ONNX Runtime adapter; repeatable)")
    ev.add_argument("--out", required=True, help="output folder")
    ev.add_argument("--protocol", default="ope", choices=["ope", "vot"], help="one-pass (default) or VOT2018 resets")
    ev.add_argument("--peer-models", default=None, help="folder with NanoTrack / VitTrack ONNX files (NanoTrack v3's in its nanotrack_v3/ subfolder)")
    ev.add_argument("--sequences", nargs="*", default=None, help="only these sequences")
    ev.add_argument("--device", default=None, help="device of dcffnet trackers")
    ev.add_argument("--eao-low", type=int, default=100, help="EAO interval start (VOT2018: 100)")
    ev.add_argument("--eao-high", type=int, default=356, help="EAO interval end (VOT2018: 356)")
    ev.add_argument("--fresh", action="store_true",
                    help="recompute everything (default: reuse the finished sequences kept in OUT/kept/ by an "
                         "earlier run of the same trackers, so an interrupted run resumes)")
    ev.add_argument("--no-progress", action="store_true")
    add_job_arguments(ev, "sequence")
    ev.set_defaults(func=_cmd_eval)

    tune = sub.add_parser("tune", help="grid-search tracking hyper-parameters on held-out training videos")
    tune.add_argument("--weights", required=True, help="checkpoint folder, bundled name or hub id")
    tune.add_argument("--dataset", required=True, nargs="+",
                      help="one or more folders of sequences to tune on (never your evaluation set)")
    _add_format_argument(tune)
    tune.add_argument("--grid", nargs="*", default=[], metavar="FIELD=V1,V2",
                      help="values to try, e.g. lr=0.2,0.4 (default grid: penalty_k, window_influence, lr)")
    tune.add_argument("--ping-pong", type=int, default=0, metavar="N",
                      help="play each sequence forward and back N times (short clips: makes size drift cost AUC)")
    tune.add_argument("--out", default=None, help="write every result as JSON here")
    tune.add_argument("--save-to", default=None, help="write a copy of the checkpoint with the best values as defaults")
    tune.add_argument("--top", type=int, default=5, help="print this many best settings")
    tune.add_argument("--folds", type=int, default=0, metavar="K", help="grouped cross-validation: split the sequences into K folds keeping each source (meta.json \"benchmark\") whole, score each fold with what was chosen on the others and report the out-of-fold figure (0: off)")
    tune.add_argument("--device", default=None)
    tune.add_argument("--no-progress", action="store_true")
    tune.set_defaults(func=_cmd_tune)

    cal = sub.add_parser("calibrate", help="fit the score calibration (P(IoU > 0.5)) on held-out sequences")
    cal.add_argument("--weights", required=True, help="checkpoint folder, bundled name or hub id")
    cal.add_argument("--dataset", required=True, nargs="+", help="folders of validation sequences (not your test set)")
    _add_format_argument(cal)
    cal.add_argument("--out", default=None, help="write the calibration and its report as JSON here")
    cal.add_argument("--plot", default=None, help="write the reliability diagram (PNG, needs matplotlib) here")
    cal.add_argument("--save-to", default=None, help="write a copy of the checkpoint with the calibration stored")
    cal.add_argument("--folds", type=int, default=0, metavar="K",
                     help="held-out figures from K folds keeping each source (meta.json \"benchmark\") whole "
                          "(default: two folds by sequence)")
    cal.add_argument("--device", default=None)
    cal.add_argument("--no-progress", action="store_true")
    cal.set_defaults(func=_cmd_calibrate)

    bench = sub.add_parser("bench", help="speed, FLOPs and memory on this machine, beside NanoTrack (markdown)")
    from .bench import add_arguments as bench_arguments

    bench_arguments(bench)
    bench.set_defaults(func=_cmd_bench)

    ex = sub.add_parser("export", help="export a checkpoint for deployment (ONNX graphs with static shapes)")
    ex.add_argument("checkpoint", help="checkpoint folder, bundled name or hub repo id")
    ex.add_argument("--onnx", metavar="OUT", default=None, help="write the ONNX export to this folder")
    ex.add_argument("--revision", default=None, help="hub revision (branch, tag or commit)")
    ex.add_argument("--opset", type=int, default=17, help="ONNX opset, 11 to 20 (default 17)")
    ex.add_argument("--no-check", action="store_true", help="skip the ONNX Runtime parity check after export")
    ex.set_defaults(func=_cmd_export)

    models = sub.add_parser("models", help="list architectures and bundled checkpoints")
    models.set_defaults(func=_cmd_models)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``dcffnet`` console script: the command's exit status; every refusal (bad
    arguments included) is one line on stderr with status 2."""
    import contextlib
    import io

    from .errors import CheckpointError, WeightsNotFoundError
    from .interrupts import Interrupted

    parser = build_parser()
    refusal = io.StringIO()
    try:
        with contextlib.redirect_stderr(refusal):
            args = parser.parse_args(argv)
    except SystemExit as exc:
        if not exc.code:  # --help / --version: printed, exit 0
            sys.stderr.write(refusal.getvalue())
            raise
        # argparse's refusal is the usage, then "dcffnet CMD: error: ...": keep that one line
        lines = refusal.getvalue().strip().splitlines() or ["dcffnet: error: bad arguments"]
        prog = lines[-1].split(": error:")[0]
        print(f"{lines[-1]} (see '{prog} --help')", file=sys.stderr)
        return exc.code if isinstance(exc.code, int) else 2
    try:
        return int(args.func(args))
    except Interrupted as exc:  # stopped by SIGINT / SIGTERM after saving its work: 130 / 143
        print(f"dcffnet {args.command}: {exc}", file=sys.stderr)
        return exc.exit_code
    # OSError: also what the system says of a path it cannot use (a name too long, no permission)
    except (WeightsNotFoundError, CheckpointError, OSError, ValueError, TypeError, KeyError, ImportError) as exc:
        # one line whatever the message quotes: line breaks and other control characters escaped
        message = "".join(c if c.isprintable() else ascii(c)[1:-1] for c in str(exc))
        print(f"dcffnet {args.command}: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
