"""Reports of a trained butterfly model: flat summary numbers (asset metadata), markdown tables and PNG plots
(confusion matrix and one-vs-rest reliability curves per split). Only ``write_plots`` touches files."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from trader_core.contracts.butterfly import ROI_CLASSES
from trader_core.butterfly.model import TrainedButterfly
from trader_core.contracts.versions import EVAL_SPLITS, SEALED_SPLITS, VALIDATION_LOCKED_SPLIT
from trader_core.plots import save_figure, plt, reliability_png
from trader_core.report import markdown_table

CLASS_LABELS = [f"{c.id} {c.name}" for c in ROI_CLASSES]


def summary(trained: TrainedButterfly, backtest: Mapping[str, Any]) -> dict[str, Any]:
    """Flat numbers for asset metadata: validation_locked classification metrics and the backtest per split."""
    m = trained.metrics[VALIDATION_LOCKED_SPLIT]
    out: dict[str, Any] = {"backtest_status": backtest["status"], "fit_rows": trained.fit["fit_rows"],
                           "class_values": [round(float(v), 6) for v in trained.class_values]}
    for key in ("row_count", "accuracy", "macro_f1", "chance_macro_f1"):
        out[f"validation_{key}"] = m.get(key)
    for split, r in backtest["splits"].items():
        for key in ("trades", "mean_roi", "win_rate", "total_roi", "excess_roi", "excess_t"):
            out[f"{split}_{key}"] = r[key]
    return out


def metrics_table(trained: TrainedButterfly) -> pd.DataFrame:
    rows = []
    for split, m in trained.metrics.items():
        if m.get("row_count"):
            rows.append({"split": split, "rows": m["row_count"], "accuracy": m["accuracy"], "macro_f1": m["macro_f1"],
                         "chance_macro_f1": m["chance_macro_f1"], "logloss": m["logloss"],
                         "constant_logloss": m["constant_logloss"], "mean_expected_roi": m["mean_expected_roi"],
                         "mean_realized_roi": m["mean_realized_roi"],
                         "label_mix": " / ".join(f"{v:.2f}" for v in m["label_mix"])})
    return pd.DataFrame(rows)


def confusion_table(trained: TrainedButterfly, split: str) -> pd.DataFrame:
    matrix = np.asarray(trained.metrics[split]["confusion_matrix"])
    table = pd.DataFrame(matrix, columns=[f"pred {c}" for c in CLASS_LABELS])
    table.insert(0, "true", CLASS_LABELS)
    return table


def backtest_table(backtest: Mapping[str, Any]) -> pd.DataFrame:
    keys = ("candidates", "trade_days", "trades", "mean_roi", "win_rate", "total_roi", "baseline_mean_roi",
            "excess_roi", "excess_t", "mean_expected_roi", "pass")
    return pd.DataFrame([{"split": s, **{k: r[k] for k in keys}} for s, r in backtest["splits"].items()])


def markdown(trained: TrainedButterfly, backtest: Mapping[str, Any]) -> str:
    parts = ["## Classification (ROI classes)\n", markdown_table(metrics_table(trained)),
             f"\nClass values (mean fit ROI per class): {', '.join(f'{v:.4f}' for v in trained.class_values)}\n"]
    for split in SEALED_SPLITS:
        parts += [f"\n### Confusion matrix, {split} (rows = true class)\n",
                  markdown_table(confusion_table(trained, split))]
    parts += [f"\n## Backtest: {backtest['status']}\n", f"Rule: {backtest['rule']}\n\n",
              markdown_table(backtest_table(backtest))]
    return "".join(parts)


def confusion_matrix_png(path: Path, matrix: np.ndarray, title: str) -> str:
    """Heat map of the confusion matrix (counts annotated); returns the file's sha256."""
    matrix = np.asarray(matrix)
    fig, ax = plt.subplots(figsize=(5.5, 4.8))
    ax.imshow(matrix, cmap="Blues")
    for (i, j), value in np.ndenumerate(matrix):
        ax.text(j, i, str(int(value)), ha="center", va="center",
                color="white" if value > matrix.max() / 2 else "black", fontsize=9)
    ax.set_xticks(range(len(CLASS_LABELS)), CLASS_LABELS, rotation=30, ha="right", fontsize=8)
    ax.set_yticks(range(len(CLASS_LABELS)), CLASS_LABELS, fontsize=8)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(title)
    return save_figure(fig, path)


def write_plots(trained: TrainedButterfly, folder: Path, splits: tuple[str, ...] = EVAL_SPLITS) -> dict[str, str]:
    """``confusion_<split>.png`` and ``calibration_<split>.png`` per split; {file name: sha256}."""
    folder = Path(folder)
    out = {}
    for split in splits:
        m = trained.metrics[split]
        if not m.get("row_count"):
            continue
        out[f"confusion_{split}.png"] = confusion_matrix_png(folder / f"confusion_{split}.png", m["confusion_matrix"],
                                                             f"confusion matrix, {split}")
        curves = {name: pd.DataFrame(rows) for name, rows in m["reliability"].items()}
        out[f"calibration_{split}.png"] = reliability_png(folder / f"calibration_{split}.png", curves,
                                                          f"class probability calibration, {split}")
    return out
