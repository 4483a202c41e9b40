"""PNG plots for reports (matplotlib, headless Agg backend, deterministic metadata)."""

from __future__ import annotations

import io as _io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from trader_core.io import atomic_write_bytes  # noqa: E402


def equity_curve_png(path: Path, trades: pd.DataFrame, title: str) -> str:
    """Cumulative weighted edge (bps) and drawdown over trade time; returns the file's sha256."""
    fig, (ax, dd_ax) = plt.subplots(2, 1, figsize=(8, 4.5), sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    if len(trades):
        times = pd.to_datetime(trades["event_time"])
        equity = np.cumsum(trades["weighted_edge_bps"].to_numpy(dtype=float))
        drawdown = np.maximum.accumulate(np.maximum(equity, 0.0)) - equity
        ax.plot(times, equity, color="tab:blue", lw=1.2)
        dd_ax.fill_between(times, 0, -drawdown, color="tab:red", alpha=0.4, step="post")
    else:
        ax.text(0.5, 0.5, "no trades", ha="center", va="center", transform=ax.transAxes)
    ax.axhline(0, color="grey", lw=0.6)
    ax.set_ylabel("equity (weighted bps)")
    dd_ax.set_ylabel("drawdown")
    ax.set_title(title)
    fig.autofmt_xdate()
    return save_figure(fig, path)


def save_figure(fig: plt.Figure, path: Path) -> str:
    fig.tight_layout()
    buffer = _io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, metadata={"Software": None})
    plt.close(fig)
    return atomic_write_bytes(path, buffer.getvalue())


def reliability_png(path: Path, curves: dict[str, pd.DataFrame], title: str) -> str:
    """Reliability curves (mean predicted probability vs observed rate per bin) with the diagonal."""
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    ax.plot([0, 1], [0, 1], color="grey", lw=0.8, ls="--", label="perfect calibration")
    for name, table in curves.items():
        ax.plot(table["mean_prob"], table["observed_rate"], marker="o", lw=1.2, label=name)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("mean predicted probability")
    ax.set_ylabel("observed rate")
    ax.set_title(title)
    ax.legend(fontsize=8)
    return save_figure(fig, path)


def psi_bar_png(path: Path, drift: pd.DataFrame, title: str, warn: float, top: int = 20) -> str:
    """Horizontal bars of the ``top`` feature PSIs with the WARN threshold."""
    part = drift.head(top).iloc[::-1]
    fig, ax = plt.subplots(figsize=(7, 0.25 * len(part) + 1.5))
    colors = ["tab:red" if v >= warn else "tab:blue" for v in part["psi"]]
    ax.barh(part["feature"], part["psi"], color=colors)
    ax.axvline(warn, color="tab:red", lw=0.8, ls="--")
    ax.set_xlabel("population stability index")
    ax.set_title(title)
    ax.tick_params(axis="y", labelsize=7)
    return save_figure(fig, path)


def walk_forward_png(path: Path, trades: pd.DataFrame, arms: dict[str, str], title: str) -> str:
    """Cumulative weighted edge (bps) of each arm over trade time, with the no-trading line at 0."""
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.axhline(0, color="grey", lw=1.0, label="no trading")
    for arm, label in arms.items():
        part = trades[trades["arm"] == arm]
        if len(part):
            ax.plot(pd.to_datetime(part["event_time"]), np.cumsum(part["weighted_edge_bps"].to_numpy(dtype=float)),
                    lw=1.2, label=f"{label} ({len(part)} trades)")
        else:
            ax.plot([], [], lw=1.2, label=f"{label} (no trades)")
    ax.set_ylabel("stitched net edge (weighted bps)")
    ax.set_title(title)
    ax.legend(loc="best", fontsize=8)
    fig.autofmt_xdate()
    return save_figure(fig, path)


def deciles_png(path: Path, curves: dict[str, pd.DataFrame], title: str) -> str:
    """Mean realized vs mean predicted per decile of predicted (``decide.weekly.decile_figures``), one curve
    each, with the diagonal of realized = predicted."""
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    values = [v for t in curves.values() for v in (*t["mean_predicted"], *t["mean_realized"])]
    if values:
        low, high = float(np.nanmin(values)), float(np.nanmax(values))
        ax.plot([low, high], [low, high], color="grey", lw=0.8, ls="--", label="realized = predicted")
    for name, table in curves.items():
        ax.plot(table["mean_predicted"], table["mean_realized"], marker="o", lw=1.2, label=name)
    ax.axhline(0, color="grey", lw=0.6)
    ax.set_xlabel("mean predicted (decile)")
    ax.set_ylabel("mean realized")
    ax.set_title(title)
    ax.legend(fontsize=8)
    return save_figure(fig, path)
