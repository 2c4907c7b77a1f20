"""Evaluation: benchmark readers, OPE / GOT-10k / VOT metrics, the multi-tracker runner, plots, OpenCV peers."""

from .datasets import Sequence, load_benchmark, ping_pong, polygon_to_box
from .metrics import got10k_scores, iou, ope_scores, summarize_ope
from .runner import TrackerSpec, parse_tracker_spec, run_ope, run_vot, write_report
from .vot import accuracy_robustness, eao_curve, eao_score, region_overlap, run_supervised

__all__ = ["Sequence", "load_benchmark", "ping_pong", "polygon_to_box", "got10k_scores", "iou", "ope_scores", "summarize_ope",
           "TrackerSpec", "parse_tracker_spec", "run_ope", "run_vot", "write_report", "accuracy_robustness",
           "eao_curve", "eao_score", "region_overlap", "run_supervised"]
