"""Scoring recorded results: every metric of a run, computed once into one report object.

:func:`score_ope` turns one-pass results (an :class:`~dcffnet.eval.records.OPERecord`, or the
``boxes`` / ``fps`` / ``scores`` dicts) into an :class:`OPEReport`: per tracker the OPE success
AUC, precision and normalized precision, GOT-10k AO / SR, FPS, score separation, the VOT
long-term precision / recall / F-score, curves and per-sequence scores; the ratios to the peers;
the warnings. :func:`score_vot` does the same for the VOT reset protocol. Every output (JSON,
markdown, plots, the console summary; :mod:`dcffnet.eval.render`) is rendered from these objects,
so a new metric is added here and in the renderer that shows it, nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .datasets import Sequence
from .metrics import got10k_scores, long_term_scores, ope_scores, score_separation, summarize_ope
from .records import OPERecord
from .vot import SupervisedRun, accuracy_robustness, eao_score

__all__ = ["TrackerScores", "OPEReport", "score_ope", "peer_ratios", "VOTScores", "VOTReport", "score_vot"]

#: the long-term figures a report keeps (of :func:`~dcffnet.eval.metrics.long_term_scores`)
LONG_TERM_KEYS = ("f_score", "precision", "recall", "threshold")


@dataclass
class TrackerScores:
    """Every one-pass figure of one tracker (fractions in [0, 1], precision at 20 px, normalized
    precision at 0.2, FPS of ``init`` + ``update`` alone).

    ``separation``: :func:`~dcffnet.eval.metrics.score_separation` (empty without scores);
    ``long_term``: precision / recall / F-score / threshold on the sequences with absent frames
    (None without scores or without such sequences); ``per_sequence[name]``: that sequence's
    ``auc``, ``precision``, ``norm_precision``.
    """

    auc: float
    precision: float
    norm_precision: float
    ao: float
    sr50: float
    sr75: float
    fps: float
    success_curve: np.ndarray
    precision_curve: np.ndarray
    per_sequence: dict[str, dict[str, float]]
    separation: dict[str, float] = field(default_factory=dict)
    long_term: dict[str, float] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The ``summary.json`` entry of this tracker (curves as numpy arrays)."""
        out: dict[str, Any] = {"auc": self.auc, "precision": self.precision, "norm_precision": self.norm_precision,
                               "ao": self.ao, "sr50": self.sr50, "sr75": self.sr75, "fps": self.fps,
                               **self.separation}
        if self.long_term is not None:
            out["long_term"] = dict(self.long_term)
        out.update(success_curve=self.success_curve, precision_curve=self.precision_curve,
                   per_sequence={k: dict(v) for k, v in self.per_sequence.items()})
        return out


def peer_ratios(summary: dict[str, Any], peers: list[str]) -> list[dict[str, Any]]:
    """For every tracker of ``summary["trackers"]`` that is not a peer: its success AUC, precision
    and FPS divided by each peer's (NaN where the peer's figure is 0)."""
    rows = []
    for name, data in summary["trackers"].items():
        if name in peers:
            continue
        for peer in peers:
            ref = summary["trackers"][peer]
            rows.append({"tracker": name, "peer": peer,
                         **{k: data[k] / ref[k] if ref[k] else float("nan") for k in ("auc", "precision", "fps")}})
    return rows


@dataclass
class OPEReport:
    """The scores of a one-pass run: what ``summary.json``, ``results.md``, the plots and the printed
    summary show.

    ``sequences``: names in run order; ``frames``: their total; ``long_term_sequences``: those with
    absent frames after frame 0; ``trackers[name]``: :class:`TrackerScores` in run order;
    ``peer_ratios``: rows of :func:`peer_ratios`; ``warnings``: lines shown first; ``extra``: more
    top-level ``summary.json`` entries.
    """

    dataset: str
    sequences: list[str]
    frames: int
    long_term_sequences: list[str]
    trackers: dict[str, TrackerScores]
    peer_ratios: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """``summary.json`` as a dict (curves as numpy arrays; :func:`~dcffnet.eval.records.jsonable`
        converts them)."""
        out: dict[str, Any] = {"dataset": self.dataset, "sequences": list(self.sequences),
                               "trackers": {name: s.to_dict() for name, s in self.trackers.items()},
                               "long_term_sequences": list(self.long_term_sequences),
                               "peer_ratios": [dict(r) for r in self.peer_ratios], "warnings": list(self.warnings)}
        out.update(self.extra)
        return out

    @classmethod
    def from_record(cls, record: OPERecord, dataset: str = "", warnings: list[str] | None = None,
                    extra: dict[str, Any] | None = None) -> "OPEReport":
        """:func:`score_ope` of everything ``record`` holds (boxes, FPS, scores, peers)."""
        return score_ope(record.sequences, record.boxes(), record.fps(), scores=record.scores(), peers=record.peers,
                         dataset=dataset, warnings=warnings, extra=extra)


def _is_long_term(seq: Sequence) -> bool:
    return len(seq) > 1 and not np.isfinite(seq.gt[1:]).all(1).all()


def score_ope(sequences: list[Sequence], boxes: dict[str, dict[str, np.ndarray]], fps: dict[str, float],
              scores: dict[str, dict[str, np.ndarray]] | None = None, peers: list[str] | None = None,
              dataset: str = "", warnings: list[str] | None = None,
              extra: dict[str, Any] | None = None) -> OPEReport:
    """Score one-pass results.

    Args:
        boxes: ``boxes[tracker][sequence]``, ``(N, 4)`` xywh in 0-based pixels, for every sequence.
        fps: ``fps[tracker]``.
        scores: ``scores[tracker][sequence]``, ``(N,)`` per-frame confidences: trackers listed get
            the score separation and, on the sequences with absent frames (NaN ground-truth rows
            after frame 0), the VOT long-term precision / recall / F-score.
        peers: names of reference trackers in ``boxes``: the others get their ratios to them.
        warnings: lines shown first (e.g. training-set overlap); extra: more summary entries.

    Raises:
        ValueError: a tracker without a result for one of ``sequences``, or without its FPS.
    """
    long_term = [s for s in sequences if _is_long_term(s)]
    gts = [s.gt for s in sequences]
    trackers: dict[str, TrackerScores] = {}
    for tracker, per_seq_boxes in boxes.items():
        missing = [s.name for s in sequences if s.name not in per_seq_boxes]
        if missing:
            raise ValueError(f"boxes[{tracker!r}] has no result for sequence(s) {missing}")
        if tracker not in fps:
            raise ValueError(f"fps has no entry for tracker {tracker!r}")
        preds = [per_seq_boxes[s.name] for s in sequences]
        per_seq = {s.name: ope_scores(pred, s.gt) for s, pred in zip(sequences, preds)}
        total = summarize_ope(per_seq)
        got = got10k_scores(preds, gts, [s.cover for s in sequences])
        separation: dict[str, float] = {}
        lt_figures = None
        if scores is not None and tracker in scores:
            separation = score_separation(preds, gts, [scores[tracker][s.name] for s in sequences])
            if long_term:
                lt = long_term_scores([per_seq_boxes[s.name] for s in long_term], [s.gt for s in long_term],
                                      [scores[tracker][s.name] for s in long_term])
                lt_figures = {k: lt[k] for k in LONG_TERM_KEYS}
        trackers[tracker] = TrackerScores(
            auc=total["auc"], precision=total["precision"], norm_precision=total["norm_precision"],
            ao=got["ao"], sr50=got["sr50"], sr75=got["sr75"], fps=fps[tracker],
            success_curve=total["success_curve"], precision_curve=total["precision_curve"],
            per_sequence={k: {m: v[m] for m in ("auc", "precision", "norm_precision")} for k, v in per_seq.items()},
            separation=separation, long_term=lt_figures)
    peers = [p for p in (peers or []) if p in trackers]
    ratios = peer_ratios({"trackers": {n: s.to_dict() for n, s in trackers.items()}}, peers)
    return OPEReport(dataset=dataset, sequences=[s.name for s in sequences], frames=sum(len(s) for s in sequences),
                     long_term_sequences=[s.name for s in long_term], trackers=trackers, peer_ratios=ratios,
                     warnings=list(warnings or []), extra=dict(extra or {}))


@dataclass
class VOTScores:
    """One tracker under the VOT reset protocol: ``accuracy`` (mean overlap outside burn-in),
    ``failures`` (count), ``robustness`` (failures per 100 frames), ``eao`` (NaN when no fragment
    reaches the interval) and ``fps``."""

    accuracy: float
    failures: int
    robustness: float
    eao: float
    fps: float

    def to_dict(self) -> dict[str, Any]:
        """The ``vot_summary.json`` entry of this tracker."""
        return {"accuracy": self.accuracy, "failures": self.failures, "robustness": self.robustness,
                "eao": self.eao, "fps": self.fps}


@dataclass
class VOTReport:
    """The scores of a VOT reset-protocol run, per tracker in run order."""

    trackers: dict[str, VOTScores]

    def to_dict(self) -> dict[str, dict[str, Any]]:
        """``vot_summary.json`` as a dict."""
        return {name: s.to_dict() for name, s in self.trackers.items()}


def score_vot(runs: dict[str, list[SupervisedRun]], burnin: int = 10, low: int = 100, high: int = 356) -> VOTReport:
    """Accuracy, robustness, failures, EAO over lengths ``low..high`` and FPS of every tracker's
    :class:`~dcffnet.eval.vot.SupervisedRun` list (``runs[tracker]``)."""
    trackers = {}
    for name, tracker_runs in runs.items():
        ar = accuracy_robustness(tracker_runs, burnin=burnin)
        seconds = sum(sum(r.times) for r in tracker_runs)
        trackers[name] = VOTScores(accuracy=ar["accuracy"], failures=ar["failures"], robustness=ar["robustness"],
                                   eao=eao_score(tracker_runs, low, high),
                                   fps=sum(len(r.times) for r in tracker_runs) / max(seconds, 1e-9))
    return VOTReport(trackers)
