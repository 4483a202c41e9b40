"""Training diagnostics (docs/experiments.md, "Training diagnostics")."""

import pandas as pd
import pytest

from trader_core import layout
from trader_core.diagnostics import label_summary


def test_case_24_diagnostics_reads_dataset_labels():
    direction = pd.DataFrame({"sample_id": ["s1", "s2", "s3", "s4", "s5"],
                              "split_id": ["fit_inner", "fit_inner", "tune_inner", "tune_inner", "tune_inner"],
                              "long_target": [1, 0, 0, 0, 1], "short_target": [0, 0, 1, 1, 0],
                              "neutral_target": [0, 1, 0, 0, 0], "future_return_bps": [7.0, 1.0, -8.0, -6.0, 9.0]})
    entry = pd.DataFrame({"sample_id": ["s1", "s2", "s3", "s4", "s5"], "split_id": direction["split_id"],
                          "long_entry_target": [1, 0, 0, 0, 0], "short_entry_target": [0, 0, 1, 1, 0],
                          "long_actual_plan_net_edge_bps": [5.5, -14.5, -14.5, -14.5, -6.5],
                          "short_actual_plan_net_edge_bps": [-14.5, -6.5, 5.5, 5.5, -14.5]})
    summary = label_summary(direction, entry)
    fit, tune = summary["fit_inner"], summary["tune_inner"]
    # the summary names the run-folder files it reads (where the layout puts the datasets)
    assert fit["direction"]["source"] == layout.ARTIFACT_PATHS["direction_train"]
    assert fit["entry"]["source"] == layout.ARTIFACT_PATHS["entry_train"]
    # per split, from the label columns: fit 1 LONG + 1 NEUTRAL of 2, tune 1 LONG + 2 SHORT of 3
    assert fit["direction"]["label_ratio"] == {"LONG": 0.5, "SHORT": 0.0, "NEUTRAL": 0.5}
    assert tune["direction"]["label_ratio"] == {"LONG": 1 / 3, "SHORT": 2 / 3, "NEUTRAL": 0.0}
    assert (fit["direction"]["rows"], tune["direction"]["rows"]) == (2, 3)
    assert fit["entry"]["target_rate_by_side"] == {"LONG": 0.5, "SHORT": 0.0}
    assert tune["entry"]["target_rate_by_side"] == {"LONG": 0.0, "SHORT": 2 / 3}
    assert tune["entry"]["edge_mean_by_side"] == pytest.approx({"LONG": (-14.5 - 14.5 - 6.5) / 3,
                                                                "SHORT": (5.5 + 5.5 - 14.5) / 3})
