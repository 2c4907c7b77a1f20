"""Losses: SiamFC's balanced logistic loss (stage 1), cross-entropy + IoU loss (stage 2)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["balanced_logistic_loss", "balanced_cross_entropy", "iou_loss", "car_loss"]


def balanced_logistic_loss(logits: torch.Tensor, labels: torch.Tensor, threshold: float = 0.5) -> torch.Tensor:
    """Binary cross-entropy where positives and negatives of each sample weigh half each (SiamFC).

    ``labels`` may be soft (in [0, 1]); cells with a label above ``threshold`` count as positives
    for the balance."""
    pos = labels > threshold
    b = logits.shape[0]
    n_pos = pos.view(b, -1).sum(1).clamp(min=1).view(b, *([1] * (logits.dim() - 1))).float()
    n_neg = (~pos).view(b, -1).sum(1).clamp(min=1).view(b, *([1] * (logits.dim() - 1))).float()
    has_pos = pos.view(b, -1).any(1).view(b, *([1] * (logits.dim() - 1)))
    w_pos = 0.5 / n_pos
    w_neg = torch.where(has_pos, 0.5 / n_neg, 1.0 / n_neg)  # negative pairs: all weight on negatives
    weights = torch.where(pos, w_pos, w_neg)
    loss = F.binary_cross_entropy_with_logits(logits, labels, weight=weights, reduction="sum")
    return loss / b


def balanced_cross_entropy(cls_logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Two-class cross-entropy, ``0.5 * mean over positives + 0.5 * mean over negatives`` (SiamCAR)."""
    logp = F.log_softmax(cls_logits.float(), dim=1)
    pos, neg = labels > 0.5, labels <= 0.5
    loss = logp.new_zeros(())
    if pos.any():
        loss = loss - 0.5 * logp[:, 1][pos].mean()
    if neg.any():
        loss = loss - (0.5 if pos.any() else 1.0) * logp[:, 0][neg].mean()
    return loss


def iou_loss(pred: torch.Tensor, target: torch.Tensor, eps: float = 1.0) -> torch.Tensor:
    """``-log((I + eps) / (U + eps))`` for ``(N, 4)`` (l, t, r, b) distances from the same points (UnitBox)."""
    pl, pt, pr, pb = pred.unbind(1)
    tl, tt, tr, tb = target.unbind(1)
    inter = (torch.min(pl, tl) + torch.min(pr, tr)).clamp(min=0) * (torch.min(pt, tt) + torch.min(pb, tb)).clamp(min=0)
    union = (pl + pr) * (pt + pb) + (tl + tr) * (tt + tb) - inter
    return -torch.log((inter + eps) / (union + eps)).mean()


def car_loss(output: dict[str, torch.Tensor], labels: torch.Tensor, reg_target: torch.Tensor,
             reg_weight: float = 1.0) -> dict[str, torch.Tensor]:
    """Stage 2 loss ``L_cls + reg_weight * L_reg`` (IoU loss averaged over positive locations)."""
    cls = balanced_cross_entropy(output["cls"], labels)
    pos = labels > 0.5
    if pos.any():
        pred = output["reg"].float().permute(0, 2, 3, 1)[pos]
        target = reg_target.permute(0, 2, 3, 1)[pos]
        reg = iou_loss(pred, target)
    else:
        reg = output["reg"].sum() * 0.0
    return {"loss": cls + reg_weight * reg, "cls": cls, "reg": reg}
