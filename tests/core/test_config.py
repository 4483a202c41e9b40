import pytest

from trader_core.config import CostConfig, LabelConfig, RunSpec, load_run_spec
from trader_core.config_mapping import from_mapping, to_mapping
from trader_core.errors import ConfigError


def test_defaults_match_the_seed():
    labels = LabelConfig()
    assert (labels.direction.horizon_minutes, labels.direction.long_threshold_bps) == (45, 5.0)
    assert (labels.entry.target_bps, labels.entry.stop_bps, labels.entry.max_hold_minutes) == (12.0, 8.0, 45)
    assert labels.continue_.horizon_minutes == 45
    assert (labels.risk.market_drawdown_bps, labels.risk.position_path_risk_bps) == (60.0, 35.0)
    assert (labels.risk.spike_bps, labels.risk.vol_expansion_ratio) == (80.0, 1.8)
    assert CostConfig().cost_bps == pytest.approx(6.5)
    assert CostConfig().funding_cost_bps == 0.5


def test_partial_section_keeps_every_other_default():
    spec = from_mapping(RunSpec, {"run_id": "r1", "labels": {"entry": {"min_expected_net_edge_bps": 4.0}}})
    assert spec.labels.entry.min_expected_net_edge_bps == 4.0
    assert spec.labels.entry.target_bps == 12.0
    assert spec.labels.risk == LabelConfig().risk


@pytest.mark.parametrize("data, needle", [
    ({"run_id": "r1", "labelz": {}}, "labelz"),
    ({"run_id": "r1", "labels": {"entry": {"target_bp": 1}}}, "labels.entry.target_bp"),
    ({"run_id": "r1", "source": {"signal": -1.0}}, "source.signal"),
    ({"run_id": "r1", "source": {"signal": "high"}}, "source.signal"),
    ({"run_id": "r1", "source": {"kind": "ftp"}}, "source.kind"),
    ({"run_id": "r1", "source": {"kind": "csv"}}, "source.path"),
    ({"run_id": "r1", "split": {"embargo_minutes": 30}}, "split.embargo_minutes"),
    ({"run_id": "r1", "split": {"fit_fraction": 0.9}}, "sum to 1"),
    ({"run_id": "r1", "start": "2026-02-01", "end": "2026-01-01"}, "end"),
    ({"run_id": "r1", "start": "not a date"}, "start"),
    ({"run_id": "bad/id"}, "run id"),
    ({"run_id": "r1", "symbols": []}, "symbols"),
    ({"run_id": "r1", "labels": {"continue": {"horizon_minutes": 1.5}}}, "labels.continue.horizon_minutes"),
])
def test_bad_config_names_the_key(data, needle):
    with pytest.raises(ConfigError, match=needle.replace(".", r"\.")):
        from_mapping(RunSpec, data)


def test_longer_label_horizon_needs_longer_embargo():
    with pytest.raises(ConfigError, match="embargo"):
        from_mapping(RunSpec, {"run_id": "r1", "labels": {"risk": {"horizon_minutes": 90}}})
    spec = from_mapping(RunSpec, {"run_id": "r1", "labels": {"risk": {"horizon_minutes": 90}},
                                  "split": {"embargo_minutes": 90}})
    assert spec.labels.longest_horizon_minutes == 90


def test_hash_is_canonical_and_roundtrips(tmp_path):
    spec = from_mapping(RunSpec, {"run_id": "r1", "symbols": ["B", "A"]})
    again = from_mapping(RunSpec, to_mapping(spec))
    assert again == spec and again.spec_hash == spec.spec_hash
    assert from_mapping(RunSpec, {"run_id": "r1", "symbols": ["A", "B"]}).spec_hash != spec.spec_hash
    import json

    path = tmp_path / "spec.json"
    path.write_text(json.dumps(to_mapping(spec)))
    assert load_run_spec(path) == spec
    path.write_text("{not json")
    with pytest.raises(ConfigError, match="not valid JSON"):
        load_run_spec(path)
