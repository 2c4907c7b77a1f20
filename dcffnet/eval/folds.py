"""Cross-validation folds over benchmark sequences, grouped by source (``dcffnet tune --folds``,
``dcffnet calibrate --folds``).

With a validation split of a few dozen sequences, the setting that scores best on it is partly
chosen by its noise, and its score there overstates what it does on new video. Grouped
cross-validation estimates that honestly: the sequences are split into ``k`` folds so that every
sequence of one source (a benchmark: OTB, UAV123, ...) falls in one fold; each fold is scored with
the setting chosen on the other folds, and the *out-of-fold* score is the mean over all sequences
of those held-out scores.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence as Seq

import numpy as np

from ..data import Sequence

__all__ = ["GROUP_KEYS", "sequence_group", "group_folds", "FoldChoice", "choose_out_of_fold"]

#: keys of a sequence's ``meta.json`` (``Sequence.attributes``) that name its source, tried in order
GROUP_KEYS = ("benchmark", "source", "dataset")


def sequence_group(seq: Sequence) -> str:
    """The source a sequence comes from: the first of :data:`GROUP_KEYS` in its attributes
    (``meta.json``), else the sequence's own name (a group of one)."""
    for key in GROUP_KEYS:
        value = seq.attributes.get(key) if isinstance(seq.attributes, dict) else None
        if isinstance(value, str) and value.strip():
            return value.strip()
    return seq.name


def group_folds(sequences: Seq[Sequence], folds: int) -> np.ndarray:
    """Fold index (``0 .. folds - 1``) of every sequence, keeping each :func:`sequence_group`
    whole: groups are placed largest first (by frames) into the fold with fewest frames so far
    (ties: by name), so the split is deterministic and the folds about equal in frames.

    Raises:
        ValueError: ``folds`` is not an integer >= 2, or there are fewer groups than folds.
    """
    if isinstance(folds, bool) or not isinstance(folds, int) or folds < 2:
        raise ValueError(f"folds must be an integer >= 2, got {folds!r}")
    groups: dict[str, list[int]] = {}
    for index, seq in enumerate(sequences):
        groups.setdefault(sequence_group(seq), []).append(index)
    if len(groups) < folds:
        raise ValueError(f"{folds} folds need at least {folds} source groups; the sequences come from "
                         f"{len(groups)} ({', '.join(sorted(groups))})")
    frames = {name: sum(len(sequences[i]) for i in members) for name, members in groups.items()}
    load = [0] * folds
    out = np.empty(len(sequences), dtype=np.int64)
    for name in sorted(groups, key=lambda g: (-frames[g], g)):
        fold = min(range(folds), key=lambda f: (load[f], f))
        load[fold] += frames[name]
        out[groups[name]] = fold
    return out


@dataclass(frozen=True)
class FoldChoice:
    """What grouped cross-validation chose and how it scored.

    Attributes:
        out_of_fold: mean over all sequences of the score of the setting chosen without the
            sequence's fold.
        chosen: per fold, the index of the setting chosen on the other folds.
        fold_scores: per fold, the held-out mean score of its chosen setting.
        in_sample: the best setting's mean score over all sequences (what a choice on the whole
            set reports, optimistically).
        best: index of the setting that is best over all sequences (the one to ship).
    """

    out_of_fold: float
    chosen: tuple[int, ...]
    fold_scores: tuple[float, ...]
    in_sample: float
    best: int

    def to_dict(self) -> dict[str, Any]:
        return {"out_of_fold": self.out_of_fold, "chosen": list(self.chosen), "fold_scores": list(self.fold_scores),
                "in_sample": self.in_sample, "best": self.best}


def choose_out_of_fold(scores: np.ndarray, folds: np.ndarray) -> FoldChoice:
    """Grouped cross-validation of a choice among settings.

    Args:
        scores: ``(settings, sequences)`` per-sequence scores (higher is better, e.g. success AUC).
        folds: ``(sequences,)`` fold index of each sequence (:func:`group_folds`).

    Each fold's setting is the one with the best mean over the other folds' sequences (ties: the
    first); it is scored on the fold's own sequences.
    """
    scores = np.asarray(scores, dtype=np.float64)
    folds = np.asarray(folds)
    if scores.ndim != 2 or scores.shape[1] != len(folds):
        raise ValueError(f"scores must be (settings, sequences) with {len(folds)} sequences, got {scores.shape}")
    held = np.empty(scores.shape[1])
    chosen, fold_scores = [], []
    for fold in np.unique(folds):
        train, test = folds != fold, folds == fold
        pick = int(np.argmax(scores[:, train].mean(axis=1)))
        held[test] = scores[pick, test]
        chosen.append(pick)
        fold_scores.append(float(scores[pick, test].mean()))
    means = scores.mean(axis=1)
    best = int(np.argmax(means))
    return FoldChoice(float(held.mean()), tuple(chosen), tuple(fold_scores), float(means[best]), best)
