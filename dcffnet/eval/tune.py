"""Grid search of the tracking hyper-parameters (penalty_k, window_influence, lr) on a set of sequences.

Tune on a validation split, never on the sequences you report results on.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from typing import Any

import numpy as np

from ..hparams import TrackerHParams
from ..tracking import Tracker
from .datasets import Sequence
from .report import score_ope
from .runner import TrackerSpec, record_ope

__all__ = ["DEFAULT_GRID", "parse_grid", "grid_search", "cross_validate"]

DEFAULT_GRID: dict[str, list[float]] = {
    "penalty_k": [0.04, 0.1, 0.2],
    "window_influence": [0.2, 0.3, 0.45],
    "lr": [0.2, 0.35, 0.5],
}


def parse_grid(items: list[str]) -> dict[str, list[float]]:
    """``["lr=0.2,0.4", "penalty_k=0.1"]`` -> ``{"lr": [0.2, 0.4], "penalty_k": [0.1]}`` (on top of no defaults)."""
    grid: dict[str, list[float]] = {}
    fields = set(TrackerHParams.__dataclass_fields__)
    for item in items:
        key, sep, values = item.partition("=")
        if not sep or key not in fields:
            raise ValueError(f"grid entry {item!r} must be FIELD=v1,v2,... with FIELD in {sorted(fields)}")
        grid[key] = [float(v) for v in values.split(",") if v]
    return grid


def grid_search(model: Any, sequences: list[Sequence], grid: dict[str, list[float]] | None = None,
                base: TrackerHParams | None = None, device: str | None = None,
                progress: bool = False) -> list[dict[str, Any]]:
    """Score every combination of ``grid`` values (success AUC over ``sequences``), best first.

    Fields not in ``grid`` come from ``base`` (pass the checkpoint's own values, e.g.
    ``resolve_hparams(None, info["tracker"])``; default: the library defaults).

    Returns:
        ``[{"hparams": TrackerHParams, "auc": float, "precision": float, "per_sequence": {name: auc}},
        ...]`` sorted by AUC.
    """
    grid = grid or DEFAULT_GRID
    base = base or TrackerHParams()
    keys = sorted(grid)
    specs: dict[str, tuple[TrackerHParams, TrackerSpec]] = {}
    for values in itertools.product(*(grid[k] for k in keys)):
        hp = replace(base, **dict(zip(keys, values)))
        # a value listed twice gives the same settings: run them once
        specs.setdefault(repr(hp), (hp, TrackerSpec(repr(hp), lambda hp=hp: Tracker(model=model, hparams=hp,
                                                                                     device=device))))
    record = record_ope(sequences, [spec for _, spec in specs.values()], progress=progress)
    report = score_ope(sequences, record.boxes(), record.fps())
    results = [{"hparams": hp, "auc": report.trackers[name].auc, "precision": report.trackers[name].precision,
                "per_sequence": {seq: v["auc"] for seq, v in report.trackers[name].per_sequence.items()}}
               for name, (hp, _) in specs.items()]
    return sorted(results, key=lambda r: -r["auc"])


def cross_validate(results: list[dict[str, Any]], sequences: list[Sequence], folds: int) -> dict[str, Any]:
    """Grouped ``folds``-fold cross-validation of the choice :func:`grid_search` makes
    (:mod:`dcffnet.eval.folds`): each fold is scored with the setting best on the other folds.

    Returns:
        ``{"folds": k, "groups": {fold: [source, ...]}, "settings": n, "out_of_fold_auc": float,
        "in_sample_auc": float, "chosen": [hparams dict per fold], "fold_auc": [...]}``; the
        setting to ship is still ``results[0]`` (best on all sequences), whose expected AUC on
        new video is ``out_of_fold_auc``.
    """
    from .folds import choose_out_of_fold, group_folds, sequence_group

    fold_of = group_folds(sequences, folds)
    names = [seq.name for seq in sequences]
    scores = np.array([[r["per_sequence"][n] for n in names] for r in results])
    choice = choose_out_of_fold(scores, fold_of)
    groups: dict[int, list[str]] = {}
    for seq, fold in zip(sequences, fold_of):
        groups.setdefault(int(fold), [])
        if sequence_group(seq) not in groups[int(fold)]:
            groups[int(fold)].append(sequence_group(seq))
    return {"folds": folds, "groups": {k: sorted(v) for k, v in sorted(groups.items())}, "settings": len(results),
            "out_of_fold_auc": choice.out_of_fold, "in_sample_auc": choice.in_sample,
            "chosen": [results[i]["hparams"].to_dict() for i in choice.chosen], "fold_auc": list(choice.fold_scores)}
