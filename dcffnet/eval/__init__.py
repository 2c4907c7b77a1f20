"""Evaluation: benchmark readers, OPE / GOT-10k / VOT metrics, the multi-tracker runner, plots, OpenCV peers.

Running records results (:func:`record_ope`, :func:`record_vot` in ``runner``), reporting scores
them into one object (:func:`score_ope` / :func:`score_vot` in ``report``) and every output is
rendered from that object (``render``: JSON, markdown, plots, the console summary).
"""

from .datasets import Sequence, load_benchmark, ping_pong, polygon_to_box
from .metrics import got10k_scores, iou, ope_scores, summarize_ope
from .records import OPERecord, SequenceResult
from .report import OPEReport, VOTReport, score_ope, score_vot
from .runner import TrackerSpec, parse_tracker_spec, record_ope, record_vot, run_ope, run_vot, write_report
from .vot import accuracy_robustness, eao_curve, eao_score, region_overlap, run_supervised

__all__ = ["Sequence", "load_benchmark", "ping_pong", "polygon_to_box", "got10k_scores", "iou", "ope_scores", "summarize_ope",
           "OPERecord", "SequenceResult", "OPEReport", "VOTReport", "score_ope", "score_vot",
           "TrackerSpec", "parse_tracker_spec", "record_ope", "record_vot", "run_ope", "run_vot", "write_report",
           "accuracy_robustness", "eao_curve", "eao_score", "region_overlap", "run_supervised"]
