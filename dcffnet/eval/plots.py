"""Success and precision plots (PNG) with matplotlib (``pip install "dcffnet[eval]"``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..atomic import atomic_path
from .metrics import PRECISION_THRESHOLDS, SUCCESS_THRESHOLDS

__all__ = ["plots_available", "plot_curves"]


def plots_available() -> bool:
    """Whether matplotlib can be imported."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def plot_curves(summaries: dict[str, dict], out_dir: str | Path, title: str = "") -> list[Path]:
    """Write ``success.png`` (AUC in the legend) and ``precision.png`` (value at 20 px) for every tracker."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir = Path(out_dir)
    written = []
    specs = [("success", SUCCESS_THRESHOLDS, "success_curve", "auc", "Overlap threshold", "Success rate"),
             ("precision", PRECISION_THRESHOLDS, "precision_curve", "precision", "Location error threshold (px)",
              "Precision")]
    for name, xs, key, score, xlabel, ylabel in specs:
        fig, ax = plt.subplots(figsize=(6, 4.5), dpi=100)
        order = sorted(summaries.items(), key=lambda kv: -kv[1][score])
        for tracker, summary in order:
            ax.plot(xs, np.asarray(summary[key]), label=f"{tracker} [{summary[score]:.3f}]", linewidth=2)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.set_xlim(xs[0], xs[-1])
        ax.set_ylim(0, 1.02)
        ax.grid(True, alpha=0.3)
        ax.set_title(f"{name.capitalize()} plots of OPE{' - ' + title if title else ''}")
        ax.legend(loc="lower left" if name == "success" else "lower right", fontsize=8)
        fig.tight_layout()
        path = out_dir / f"{name}.png"
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format="png")
        plt.close(fig)
        written.append(path)
    return written
