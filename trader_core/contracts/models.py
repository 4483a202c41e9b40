"""Model contracts: the four models, their heads, output fields and the ONNX output mapping (docs/models.md, "Heads" and "ONNX contract").

Every model is a set of linear heads on the raw FEATURE_ORDER vector. A head is ``multiclass`` (softmax),
``binary`` (sigmoid) or ``regression`` (identity). The exported ONNX graph has one input and one output
tensor; column i of the output is field ``MODEL_OUTPUTS[model][i]`` (``OUTPUT_MAPPING[model][field] ==
"prediction[i]"``). Heads are concatenated in declaration order.
"""

from __future__ import annotations

from dataclasses import dataclass

from trader_core.contracts.labels import LABEL_KEY_COLUMNS
from trader_core.contracts.table import Column, TableContract, names, select

DIRECTION, ENTRY, CONTINUE, RISK = "DIRECTION", "ENTRY", "CONTINUE", "RISK"
MODELS = (DIRECTION, ENTRY, CONTINUE, RISK)

MULTICLASS, BINARY, REGRESSION = "multiclass", "binary", "regression"
ACTIVATION = {MULTICLASS: "softmax", BINARY: "sigmoid", REGRESSION: "identity"}

ONNX_INPUT_NAME = "features"
ONNX_OUTPUT_NAME = "prediction"
ONNX_OPSET = 17
#: Allowed |onnx - trained| in float32 machine epsilons (2**-23) of max(1, |trained|). Training predicts with the
#: float64 evaluation of the exported heads, so only the graph's final cast to float and the float32 storage of
#: the trained predictions round (half an epsilon each); 4 leaves room for MatMul summing in a different order
#: than numpy (docs/models.md, "Checks").
ONNX_PARITY_EPSILONS = 4


@dataclass(frozen=True)
class HeadSpec:
    """One head: ``name`` (also the ONNX initializer prefix), kind, target column(s) and output fields."""

    name: str
    kind: str
    target: tuple[str, ...]
    fields: tuple[str, ...]
    target_names: tuple[str | None, ...]


@dataclass(frozen=True)
class ModelSpec:
    name: str
    dataset: str
    heads: tuple[HeadSpec, ...]

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(f for h in self.heads for f in h.fields)


TARGETS: dict[str, ModelSpec] = {
    DIRECTION: ModelSpec(DIRECTION, "direction", (
        HeadSpec("direction", MULTICLASS, ("long_target", "short_target", "neutral_target"),
                 ("long_prob", "short_prob", "neutral_prob"), ("longProb", "shortProb", "neutralProb")),
    )),
    ENTRY: ModelSpec(ENTRY, "entry", (
        HeadSpec("long_entry_prob", BINARY, ("long_entry_target",), ("long_entry_prob",), ("longEntryProb",)),
        HeadSpec("short_entry_prob", BINARY, ("short_entry_target",), ("short_entry_prob",), ("shortEntryProb",)),
        HeadSpec("long_expected_net_edge_bps", REGRESSION, ("long_actual_plan_net_edge_bps",),
                 ("long_expected_net_edge_bps",), (None,)),
        HeadSpec("short_expected_net_edge_bps", REGRESSION, ("short_actual_plan_net_edge_bps",),
                 ("short_expected_net_edge_bps",), (None,)),
    )),
    CONTINUE: ModelSpec(CONTINUE, "continue", (
        HeadSpec("long_continue_prob", BINARY, ("long_continue_target",), ("long_continue_prob",), ("longContinueProb",)),
        HeadSpec("short_continue_prob", BINARY, ("short_continue_target",), ("short_continue_prob",),
                 ("shortContinueProb",)),
        HeadSpec("long_expected_continue_edge_bps", REGRESSION, ("long_expected_continue_edge_bps",),
                 ("long_expected_continue_edge_bps",), (None,)),
        HeadSpec("short_expected_continue_edge_bps", REGRESSION, ("short_expected_continue_edge_bps",),
                 ("short_expected_continue_edge_bps",), (None,)),
    )),
    RISK: ModelSpec(RISK, "risk", (
        HeadSpec("market_risk_prob", BINARY, ("market_risk_target",), ("market_risk_prob",), ("marketRiskProb",)),
        HeadSpec("long_position_risk_prob", BINARY, ("long_position_risk_target",), ("long_position_risk_prob",),
                 ("longPositionRiskProb",)),
        HeadSpec("short_position_risk_prob", BINARY, ("short_position_risk_target",), ("short_position_risk_prob",),
                 ("shortPositionRiskProb",)),
    )),
}

MODEL_OUTPUTS: dict[str, tuple[str, ...]] = {name: spec.fields for name, spec in TARGETS.items()}
OUTPUT_MAPPING: dict[str, dict[str, str]] = {
    name: {field: f"prediction[{i}]" for i, field in enumerate(fields)} for name, fields in MODEL_OUTPUTS.items()}


def model_dir_name(model: str) -> str:
    """Folder and file stem of a model: ``model/<name>/<name>.onnx`` with a lower-case name."""
    return model.lower()


#: The key columns every prediction file starts with (``model/<name>/<split>_predictions.parquet``).
PREDICTION_KEY_COLUMNS: tuple[Column, ...] = select(LABEL_KEY_COLUMNS, "sample_id", "symbol", "event_time", "split_id")
PREDICTION_KEY = names(PREDICTION_KEY_COLUMNS)


def output_columns(model: str) -> tuple[Column, ...]:
    """The output fields of a model as float32 columns; probabilities (softmax, sigmoid) lie in [0, 1]."""
    return tuple(Column(field, "float", dtype="float32", **({} if head.kind == REGRESSION else {"low": 0.0, "high": 1.0}),
                        description=f"{head.kind} head {head.name}")
                 for head in TARGETS[model].heads for field in head.fields)


#: The predictions of each model on the rows of one training split, in dataset order.
PREDICTIONS: dict[str, TableContract] = {
    model: TableContract(name=f"{model_dir_name(model)}_predictions", columns=PREDICTION_KEY_COLUMNS + output_columns(model),
                         key=("symbol", "event_time"), sort=("symbol", "event_time"),
                         description=f"{model} predictions of one training split, in dataset order")
    for model in MODELS}
