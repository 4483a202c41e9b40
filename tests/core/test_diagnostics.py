"""Training diagnostics (spec 13.11)."""

import pandas as pd

from trader_core.diagnostics import label_summary


def test_case_24_diagnostics_reads_dataset_labels():
    direction = pd.DataFrame({"sample_id": ["s1", "s2"], "split_id": "fit_inner", "long_target": [1, 0],
                              "short_target": [0, 0], "neutral_target": [0, 1], "future_return_bps": [7.0, 1.0]})
    entry = pd.DataFrame({"sample_id": ["s1", "s2"], "split_id": "fit_inner", "long_entry_target": [1, 0],
                          "short_entry_target": [0, 0], "long_actual_plan_net_edge_bps": [5.5, -14.5],
                          "short_actual_plan_net_edge_bps": [-14.5, -6.5]})
    summary = label_summary(direction, entry)["fit_inner"]
    assert summary["direction"]["source"] == "dataset/direction_train.parquet"
    assert summary["entry"]["source"] == "dataset/entry_train.parquet"
    assert summary["direction"]["label_ratio"] == {"LONG": 0.5, "SHORT": 0.0, "NEUTRAL": 0.5}
    assert summary["entry"]["target_rate_by_side"]["LONG"] == 0.5
