"""Rendering scored results: every output of ``dcffnet eval`` from one report object.

* :func:`ope_markdown` (``results.md``) and :func:`ope_console` (the printed summary: the same
  sections without the per-sequence table), :func:`write_ope` (result files, ``summary.json``,
  ``results.md``, plots);
* :func:`vot_markdown` and :func:`write_vot` (``vot_summary.json``, ``vot_results.md``);
* :func:`kept_lines`: what a run reused from its kept folder, and why it did not reuse the rest.

Nothing here computes a metric: that is :mod:`dcffnet.eval.report`.
"""

from __future__ import annotations

import io
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import atomic_write_json, atomic_write_text
from .datasets import Sequence
from .records import OPERecord, jsonable
from .report import OPEReport, VOTReport

__all__ = ["ope_markdown", "ope_console", "write_result_files", "write_ope", "vot_markdown", "write_vot",
           "kept_lines"]


def _f(value: Any) -> str:
    return "-" if value is None or not np.isfinite(value) else f"{value:.3f}"


def _ope_sections(report: OPEReport) -> list[list[str]]:
    """``results.md`` as sections (lists of lines); the last one is the per-sequence table."""
    head = [f"# OPE results{': ' + report.dataset if report.dataset else ''}", ""]
    head += [f"WARNING: {w}" for w in report.warnings] + ([""] if report.warnings else [])
    head += [f"{len(report.sequences)} sequences, {report.frames} frames.", "",
             "| tracker | success AUC | precision (20 px) | norm. precision (0.2) | FPS "
             "| score IoU>0.5 | score IoU<0.1 | score AUROC |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for tracker, s in sorted(report.trackers.items(), key=lambda kv: -kv[1].auc):
        sep = s.separation
        head.append(f"| {tracker} | {s.auc:.3f} | {s.precision:.3f} | {s.norm_precision:.3f} | {s.fps:.1f} "
                    f"| {_f(sep.get('score_on_target'))} | {_f(sep.get('score_off_target'))} "
                    f"| {_f(sep.get('score_auroc'))} |")
    sections = [head]
    if report.peer_ratios:
        lines = ["", "Ratios to the peers (same run):", "",
                 "| tracker | peer | AUC ratio | precision ratio | FPS ratio |", "|---|---|---:|---:|---:|"]
        lines += [f"| {r['tracker']} | {r['peer']} | {r['auc']:.3f} | {r['precision']:.3f} | {r['fps']:.3f} |"
                  for r in report.peer_ratios]
        sections.append(lines)
    lt_rows = [(t, s.long_term) for t, s in report.trackers.items() if s.long_term is not None]
    if lt_rows:
        lines = ["", f"Long-term measures on the {len(report.long_term_sequences)} sequences with absent frames "
                 f"({', '.join(report.long_term_sequences)}): tracking precision, recall and F-score at the "
                 "score threshold with the best F (VOT long-term protocol):", "",
                 "| tracker | F-score | precision | recall | threshold |", "|---|---:|---:|---:|---:|"]
        for tracker, lt in sorted(lt_rows, key=lambda kv: -np.nan_to_num(kv[1]["f_score"], nan=-1)):
            lines.append(f"| {tracker} | {_f(lt['f_score'])} | {_f(lt['precision'])} | {_f(lt['recall'])} "
                         f"| {_f(lt['threshold'])} |")
        sections.append(lines)
    names = list(report.trackers)
    per_seq = ["", "Per sequence (success AUC):", "",
               "| sequence | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]
    per_seq += [f"| {seq} | " + " | ".join(f"{report.trackers[t].per_sequence[seq]['auc']:.3f}" for t in names) + " |"
                for seq in report.sequences]
    sections.append(per_seq)
    return sections


def ope_markdown(report: OPEReport) -> str:
    """``results.md``: warnings, the table of every tracker (best AUC first), the ratios to the
    peers, the long-term measures and the per-sequence success AUC."""
    return "\n".join(line for section in _ope_sections(report) for line in section) + "\n"


def ope_console(report: OPEReport) -> str:
    """The summary ``dcffnet eval`` prints: ``results.md`` without the per-sequence table."""
    return "\n".join(line for section in _ope_sections(report)[:-1] for line in section).strip()


def write_result_files(out_dir: "str | Path", sequences: list[Sequence],
                       boxes: dict[str, dict[str, np.ndarray]]) -> list[Path]:
    """``out_dir/results/<tracker>/<sequence>.txt``: ``x,y,w,h`` per frame (0-based pixels, two
    decimals), the layout got10k's and pysot's toolkits read. Returns the paths written."""
    written = []
    for tracker, per_seq in boxes.items():
        for seq in sequences:
            path = Path(out_dir) / "results" / tracker / f"{seq.name}.txt"
            path.parent.mkdir(parents=True, exist_ok=True)
            text = io.StringIO()
            np.savetxt(text, per_seq[seq.name], fmt="%.2f", delimiter=",")
            atomic_write_text(path, text.getvalue())
            written.append(path)
    return written


def write_ope(out_dir: "str | Path", report: OPEReport, sequences: list[Sequence],
              boxes: dict[str, dict[str, np.ndarray]]) -> list[Path]:
    """Write everything of a one-pass run to ``out_dir`` (created): the result files
    (:func:`write_result_files`), ``summary.json``, ``results.md`` and, with matplotlib,
    ``success.png`` / ``precision.png`` (without it a note goes to stderr). Returns the paths."""
    from .plots import plot_curves, plots_available

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = write_result_files(out, sequences, boxes)
    written.append(atomic_write_json(out / "summary.json", jsonable(report.to_dict())))
    written.append(atomic_write_text(out / "results.md", ope_markdown(report)))
    if plots_available():
        written += plot_curves({name: s.to_dict() for name, s in report.trackers.items()}, out, report.dataset)
    else:
        print("plots skipped: matplotlib is not installed (pip install \"dcffnet[eval]\")", file=sys.stderr)
    return written


def vot_markdown(report: VOTReport) -> str:
    """``vot_results.md``: accuracy, robustness, failures, EAO and FPS per tracker (run order)."""
    lines = ["| tracker | accuracy | robustness | failures | EAO | FPS |", "|---|---:|---:|---:|---:|---:|"]
    lines += [f"| {name} | {s.accuracy:.3f} | {s.robustness:.3f} | {s.failures} | {s.eao:.3f} | {s.fps:.1f} |"
              for name, s in report.trackers.items()]
    return "\n".join(lines) + "\n"


def write_vot(out_dir: "str | Path", report: VOTReport) -> list[Path]:
    """Write ``vot_summary.json`` and ``vot_results.md`` to ``out_dir`` (created). Returns the paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    return [atomic_write_json(out / "vot_summary.json", report.to_dict()),
            atomic_write_text(out / "vot_results.md", vot_markdown(report))]


def kept_lines(record: OPERecord) -> list[str]:
    """Per tracker that found kept results: ``"<tracker>: reused N of M sequences from <keep_dir>"``
    and, per reason, the sequences whose kept result was computed again and why. Empty when the
    run kept nothing or found nothing kept."""
    if record.keep_dir is None:
        return []
    lines = []
    for tracker in record.trackers:
        use = record.kept.get(tracker)
        if use is None or (not use.reused and not use.refused):
            continue
        lines.append(f"{tracker}: reused {len(use.reused)} of {len(record.sequences)} sequences from {record.keep_dir}")
        by_reason: dict[str, list[str]] = defaultdict(list)
        for seq, reason in use.refused.items():
            by_reason[reason].append(seq)
        for reason, seqs in by_reason.items():
            shown = ", ".join(seqs[:5]) + (f" and {len(seqs) - 5} more" if len(seqs) > 5 else "")
            lines.append(f"{tracker}: not reused for {len(seqs)} sequence{'s' if len(seqs) != 1 else ''} "
                         f"({shown}): {reason}")
    return lines
