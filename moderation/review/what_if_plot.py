"""The threshold what-if as a picture (PNG): how many ham labels each
``reject_above`` would hold as spam, how many spam labels each
``approve_below`` would publish, and the review share as either threshold
moves (the other staying in effect), with the thresholds compared marked.
matplotlib (the ``train`` extra) is imported here only, Agg canvas, no pyplot.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..policy import Bands
from .what_if import Sweep


class PlotUnavailable(RuntimeError):
    """matplotlib is not installed."""


def write_what_if_plot(curves: Sweep, marks: Sequence[tuple[str, Bands, float]], title: str,
                       path: Path) -> Path:
    """Write the plot to *path*. *marks* are ``(name, bands, review share)``:
    each pair of thresholds is drawn as two dots, its ``reject_above`` on the
    ham curve and its ``approve_below`` on the spam curve, and as a grey bar
    from its ``approve_below`` to its ``reject_above`` at its review share."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise PlotUnavailable("--plot needs matplotlib: pip install 'moderation[train]'") from None
    figure = Figure(figsize=(6.4, 5.4), dpi=90, layout="constrained")
    axes = figure.add_subplot()
    axes.plot(curves.grid, curves.ham_held * 100, color="tab:blue",
              label="ham held as spam if reject_above = x")
    axes.plot(curves.grid, curves.spam_published * 100, color="tab:red",
              label="spam published if approve_below = x")
    anchor = curves.anchor
    axes.plot(curves.grid, curves.review_moving_approve * 100, color="grey", linestyle="--",
              linewidth=1, label=f"review if approve_below = x (reject_above {anchor.reject_above:.3f})")
    axes.plot(curves.grid, curves.review_moving_reject * 100, color="grey", linestyle=":",
              linewidth=1.2, label=f"review if reject_above = x (approve_below {anchor.approve_below:.3f})")
    for (name, bands, review), marker in zip(marks, "osD^v"):
        ham_at = _at(curves.grid, curves.ham_held, bands.reject_above) * 100
        spam_at = _at(curves.grid, curves.spam_published, bands.approve_below) * 100
        axes.plot([bands.reject_above], [ham_at], marker, color="tab:blue", markersize=7)
        axes.plot([bands.approve_below], [spam_at], marker, color="tab:red", markersize=7)
        axes.plot([bands.approve_below, bands.reject_above], [review * 100] * 2, marker + "-",
                  color="grey", markersize=5, linewidth=2, alpha=0.8)
        axes.plot([], [], marker, color="black",
                  label=f"{name}: {bands.approve_below:.3f} / {bands.reject_above:.3f}, "
                        f"review {review:.1%}")
    axes.set_xlabel("spam score threshold")
    axes.set_ylabel("% of ham / of spam / of all labels")
    axes.set_xlim(0, 1)
    axes.set_ylim(bottom=0)
    axes.set_title(title, fontsize=10)
    axes.grid(alpha=0.3)
    axes.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=2)
    figure.savefig(path, format="png", metadata={"Software": None})
    return path


def _at(grid, values, x: float) -> float:
    index = min(range(len(grid)), key=lambda i: abs(grid[i] - x))
    return float(values[index])
