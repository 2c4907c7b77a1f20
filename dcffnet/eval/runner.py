"""Running trackers over a benchmark (``dcffnet eval``): tracker specs, and the runs that record
results (:func:`record_ope`, :func:`record_vot`) for :mod:`dcffnet.eval.report` to score and
:mod:`dcffnet.eval.render` to write, the split of got10k's ``run()`` / ``report()``.

Tracker specs:

* ``dcffnet`` (bundled default weights) or ``dcffnet:WEIGHTS`` (folder, bundled name or hub id),
  with optional ``,preset=otb``, ``,backend=onnx`` and ``,name=LABEL`` (e.g. ``dcffnet:runs/x/checkpoint,preset=otb``);
* ``opencv:csrt``, ``opencv:kcf``, ``opencv:mil``, ``opencv:nano``, ``opencv:vit`` (``,name=LABEL``).

Output folder (:func:`write_report`, :func:`~dcffnet.eval.render.write_ope`):
``results/<tracker>/<sequence>.txt`` (``x,y,w,h`` per frame, 0-based pixels), ``summary.json``,
``results.md`` and, with matplotlib, ``success.png`` / ``precision.png``.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..data import read_frame
from ..deploy.onnx_format import state_digest
from ..models.dcffnet import DCFFNet
from ..tracking import Tracker, track_frames
from .datasets import Sequence
from .kept import fingerprint, keep_result, kept_path, load_kept
from .peer_specs import PEER_FAMILIES, peer_factory
from .records import KeptUse, OPERecord, SequenceResult
from .render import write_ope
from .report import peer_ratios, score_ope, score_vot
from .vot import SupervisedRun, run_supervised

__all__ = ["TrackerSpec", "parse_tracker_spec", "overlapping_sequences", "track_sequence", "record_ope", "run_ope",
           "record_vot", "run_vot", "peer_ratios", "write_report"]


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
    #: files): results kept on disk by :func:`record_ope` are reused only for the same fingerprint
    fingerprint: str = ""
    #: the named values ``fingerprint`` was computed from, kept beside each result so that a
    #: result not reused can be explained (``"hparams.lr 0.3 -> 0.5"``); may be empty
    fingerprint_fields: dict[str, Any] = field(default_factory=dict)
    #: the spec string :func:`parse_tracker_spec` read (``"dcffnet,preset=otb"``): what another
    #: process parses to build the same tracker (the batch engines of :mod:`dcffnet.jobs`); "" for
    #: specs built in code, which run in this process only
    text: str = ""

    @classmethod
    def fingerprinted(cls, name: str, make: Callable[[], Any], fields: dict[str, Any], **kwargs: Any) -> "TrackerSpec":
        """A spec whose :attr:`fingerprint` is the digest of ``fields`` (JSON-able values, in order)."""
        return cls(name, make, fingerprint=fingerprint(*fields.values()), fingerprint_fields=dict(fields), **kwargs)


def overlapping_sequences(spec: TrackerSpec, sequences: list[Sequence]) -> list[str]:
    """Names of ``sequences`` that appear in ``spec``'s training list (matched on the sequence
    folder name, case-insensitive): results on them are not held-out results."""
    trained = {name.rstrip("/").rsplit("/", 1)[-1].lower() for name in spec.training_sequences}
    return [s.name for s in sequences if s.name.lower() in trained]


def parse_tracker_spec(spec: str, peer_models: str | Path | None = None, device: str | None = None) -> TrackerSpec:
    """Turn ``dcffnet[:WEIGHTS][,preset=P][,backend=onnx][,name=N]``, ``opencv:KIND[,name=N]`` or
    ``nanotrack:VERSION[,name=N]`` (:mod:`dcffnet.eval.peer_specs`) into a :class:`TrackerSpec`.

    Raises:
        ValueError: an unknown spec; PeerUnavailable: a peer this build cannot run (OpenCV build,
            missing peer model files).
    """
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError(f"a tracker spec must be a non-empty string such as 'dcffnet', 'opencv:nano' or "
                         f"'nanotrack:v3', got {spec!r}")
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
        fields = {"tracker": "dcffnet", "weights": state_digest(model), "hparams": probe.hparams.to_dict(),
                  "backend": probe.backend,
                  "calibration": probe.calibration.to_dict() if probe.calibration is not None else None}
        return TrackerSpec.fingerprinted(name, make_dcffnet, fields,
                                         training_sequences=tuple(info.training_sequences), text=spec)
    if kind in PEER_FAMILIES:
        for option in ("preset", "backend"):
            if option in opts:
                raise ValueError(f"{option}= applies to dcffnet trackers only, not {spec!r}")
        peer = peer_factory(head, peer_models)  # raises PeerUnavailable early
        return TrackerSpec.fingerprinted(opts.get("name") or peer.name, peer.make, peer.fields, is_peer=True,
                                         text=spec)
    raise ValueError(f"unknown tracker spec {spec!r}: use dcffnet[:WEIGHTS], opencv:csrt|kcf|mil|nano|vit "
                     f"or nanotrack:v2|v3|v2-opencv")


def track_sequence(spec: TrackerSpec, seq: Sequence, on_frame: Callable[[], None] | None = None) -> SequenceResult:
    """One pass of a fresh instance of ``spec``'s tracker over ``seq`` (frame 0 initialised with the
    ground truth); ``on_frame`` is called after each frame is read (progress bars).

    Raises:
        RuntimeError: the tracker returned fewer results than the sequence has frames.
    """
    def frames_of() -> Any:
        for frame_path in seq.frames:
            yield read_frame(frame_path)
            if on_frame is not None:
                on_frame()

    run = track_frames(spec.make(), frames_of(), seq.init_box)
    if len(run) != len(seq):
        raise RuntimeError(f"{spec.name} on {seq.name}: {len(run)} results for {len(seq)} frames")
    return SequenceResult(run.boxes, run.scores, run.times, run.lost)


def run_ope(sequences: list[Sequence], trackers: list[TrackerSpec], progress: bool = True,
            scores: dict[str, dict[str, np.ndarray]] | None = None, keep_dir: "str | Path | None" = None,
            ) -> tuple[dict[str, dict[str, np.ndarray]], dict[str, float]]:
    """:func:`record_ope` returning ``(boxes, fps)``: ``boxes[tracker][sequence]`` is ``(N, 4)``
    (frame 0 = the ground truth) and ``fps[tracker]`` is frames / seconds spent in ``init`` +
    ``update``.

    Args:
        scores: if given, filled with ``scores[tracker][sequence]``, the ``(N,)`` per-frame
            confidence each ``update`` returned (1.0 for frame 0).
        keep_dir: see :func:`record_ope`.
    """
    record = record_ope(sequences, trackers, progress=progress, keep_dir=keep_dir)
    if scores is not None:
        for tracker, per_seq in record.scores().items():
            scores.setdefault(tracker, {}).update(per_seq)
    return record.boxes(), record.fps()


def record_ope(sequences: list[Sequence], trackers: list[TrackerSpec], progress: bool = True,
               keep_dir: "str | Path | None" = None) -> OPERecord:
    """One-pass evaluation of every tracker on every sequence, in one call; records, scores nothing
    (:func:`~dcffnet.eval.report.score_ope` does).

    Per sequence, the trackers run one after the other over the whole sequence (not interleaved
    frame by frame: alternating OpenCV's and torch's thread pools on every frame slows both, so
    FPS would depend on which trackers share the run). Decoding frames is not timed.

    Args:
        keep_dir: if given, every finished (tracker, sequence) is written there at once
            (``<tracker>/<sequence>.npz``, :mod:`dcffnet.eval.kept`) and, when the run is repeated,
            reused instead of recomputed if the tracker's :attr:`TrackerSpec.fingerprint` and the
            sequence are the same, so an interrupted benchmark resumes where it stopped. Trackers
            without a fingerprint are neither kept nor reused. The record's ``kept`` says, per
            tracker, what was reused and why the other kept results were not.

    Raises:
        ValueError: two trackers with the same name.
        RuntimeError: a tracker returned fewer results than a sequence has frames.
    """
    from tqdm import tqdm

    names = [t.name for t in trackers]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"trackers must have distinct names; {duplicates} appear more than once")
    keep = None if keep_dir is None else Path(keep_dir)
    record = OPERecord(list(sequences), {t.name: {} for t in trackers}, peers=[t.name for t in trackers if t.is_peer],
                       keep_dir=keep, kept={t.name: KeptUse() for t in trackers if keep is not None and t.fingerprint})
    total = sum(len(s) for s in sequences) * len(trackers)
    bar = tqdm(total=total, unit="frame", disable=not progress, file=sys.stderr)
    for seq in sequences:
        for spec in trackers:
            bar.set_description(f"{seq.name} {spec.name}")
            path = kept_path(keep, spec.name, seq.name) if spec.name in record.kept else None
            if path is not None:
                kept, reason = load_kept(path, seq, spec.fingerprint, spec.fingerprint_fields)
                if kept is not None:
                    record.results[spec.name][seq.name] = kept
                    record.kept[spec.name].reused.append(seq.name)
                    bar.update(len(seq))
                    continue
                if reason:
                    record.kept[spec.name].refused[seq.name] = reason

            result = track_sequence(spec, seq, lambda: bar.update(1))
            record.results[spec.name][seq.name] = result
            if path is not None:
                keep_result(path, seq, result, spec.fingerprint, spec.fingerprint_fields)
    bar.close()
    return record


def record_vot(sequences: list[Sequence], trackers: list[TrackerSpec], skip: int = 5,
               progress: bool = True) -> dict[str, list[SupervisedRun]]:
    """Run every tracker under the VOT2018 reset protocol (re-initialised ``skip`` frames after a
    failure): ``runs[tracker]``, one :class:`~dcffnet.eval.vot.SupervisedRun` per sequence."""
    from tqdm import tqdm

    runs = {}
    for spec in trackers:
        runs[spec.name] = [run_supervised(spec.make, seq, read_frame, skip=skip)
                           for seq in tqdm(sequences, desc=spec.name, disable=not progress, file=sys.stderr)]
    return runs


def run_vot(sequences: list[Sequence], trackers: list[TrackerSpec], skip: int = 5, burnin: int = 10,
            low: int = 100, high: int = 356, progress: bool = True) -> dict[str, dict[str, float]]:
    """The VOT2018 reset protocol per tracker: accuracy, robustness, failures, EAO and FPS
    (:func:`record_vot` scored by :func:`~dcffnet.eval.report.score_vot`, as a dict)."""
    runs = record_vot(sequences, trackers, skip=skip, progress=progress)
    return score_vot(runs, burnin=burnin, low=low, high=high).to_dict()


def write_report(out_dir: str | Path, sequences: list[Sequence], boxes: dict[str, dict[str, np.ndarray]],
                 fps: dict[str, float], dataset: str = "", extra: dict[str, Any] | None = None,
                 scores: dict[str, dict[str, np.ndarray]] | None = None, peers: list[str] | None = None,
                 warnings_: list[str] | None = None) -> dict[str, Any]:
    """Score OPE results and write result files, ``summary.json``, ``results.md`` and the plots:
    :func:`~dcffnet.eval.report.score_ope` then :func:`~dcffnet.eval.render.write_ope`.

    With ``scores`` (from :func:`run_ope`) each tracker also gets the score separation and, on the
    sequences whose ground truth has absent frames (NaN rows after the first frame), the VOT
    long-term precision / recall / F-score; with ``peers`` (names of reference trackers in
    ``boxes``) ``results.md`` gets the ratio of every other tracker's AUC, precision and FPS to each
    peer's, all from this one run. ``warnings_`` (e.g. training-set overlap) are written at the top
    of ``results.md``.

    Returns:
        The ``summary.json`` content as a dict (curves as numpy arrays).
    """
    report = score_ope(sequences, boxes, fps, scores=scores, peers=peers, dataset=dataset, warnings=warnings_,
                       extra=extra)
    write_ope(out_dir, report, sequences, boxes)
    return report.to_dict()
