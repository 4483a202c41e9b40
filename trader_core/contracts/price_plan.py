"""The price plan context (docs/labels.md, "Price plan"): the entry plan every label family and the position
manager share, declared once.

``PricePlan`` is a frozen dataclass with snake_case fields; each field's camelCase JSON key (the stored
``label/price_plan_context.json`` and its release copy) is declared in its metadata, so the JSON, its hash and
the one-row parquet mirror (whose columns are the field names) all follow from this one declaration.

``pricePlanConfigHash`` is the sha256 of the canonical JSON of the plan fields (everything except the id and
the hash); ``pricePlanId`` is ``plan-<plan method, lower case, dashes>-<first 12 hex of the hash>``, stable
across runs with the same plan. ``cost_bps`` is the flat reference cost (``CostConfig.cost_bps``): the
predicted edge and the sizing budget use it, while the labels charge each trade its own cost from the data
(docs/trading.md, "Cost model").
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from trader_core.contracts.features import sha256_json
from trader_core.contracts.labels import ENTRY_TARGET_METHODS, PLAN_METHODS
from trader_core.errors import ConfigError, DataContractError

_DERIVED = ("price_plan_id", "price_plan_config_hash")


def _key(name: str, **kwargs: Any) -> Any:
    return field(metadata={"json": name}, **kwargs)


@dataclass(frozen=True)
class PricePlan:
    """One price plan; built from the label config by ``trader_core.labels.price_plan.build_price_plan``."""

    price_plan_id: str = _key("pricePlanId", init=False)
    price_plan_config_hash: str = _key("pricePlanConfigHash", init=False)
    target_bps: float = _key("targetDistanceBps")
    stop_bps: float = _key("stopDistanceBps")
    max_hold_minutes: int = _key("maxHoldMinutes")
    min_expected_net_edge_bps: float = _key("minExpectedNetEdgeBps")
    min_plan_net_edge_bps: float = _key("minPlanNetEdgeBps")
    max_entry_mae_bps: float = _key("maxEntryMaeBps")
    cost_bps: float = _key("costBps")
    entry_label_method: str = _key("entryLabelMethod")
    entry_target_method: str = _key("entryTargetMethod")
    entry_plan_method: str = _key("entryPlanMethod")
    partial_take_1_ratio: float = _key("partialTake1Ratio")
    partial_take_2_ratio: float = _key("partialTake2Ratio")
    second_target_bps: float = _key("secondTargetBps")
    trailing_stop_bps: float = _key("trailingStopBps")
    breakeven_after_first_target: bool = _key("breakevenAfterFirstTarget")
    stop_fill_excess_share: float = _key("stopFillExcessShare")
    stop_slippage_allowance_bps: float = _key("stopSlippageAllowanceBps")

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            if f.init:
                object.__setattr__(self, f.name, _checked(getattr(self, f.name), f))
        if self.max_hold_minutes < 0:
            raise ConfigError(f"price plan: maxHoldMinutes must be >= 0, got {self.max_hold_minutes}")
        for name, allowed in (("entry_target_method", ENTRY_TARGET_METHODS), ("entry_plan_method", PLAN_METHODS)):
            if getattr(self, name) not in allowed:
                raise ConfigError(f"price plan: unsupported {json_key(name)} {getattr(self, name)!r} "
                                  f"(expected one of {allowed})")
        config_hash = sha256_json(self._fields_json())
        object.__setattr__(self, "price_plan_config_hash", config_hash)
        object.__setattr__(self, "price_plan_id",
                           f"plan-{self.entry_plan_method.lower().replace('_', '-')}-{config_hash[:12]}")

    def _fields_json(self) -> dict[str, Any]:
        return {f.metadata["json"]: getattr(self, f.name) for f in dataclasses.fields(self) if f.init}

    def to_json(self, names: tuple[str, ...] | None = None) -> dict[str, Any]:
        """The camelCase JSON object (id and hash first); only the fields ``names`` when given."""
        return {f.metadata["json"]: getattr(self, f.name) for f in dataclasses.fields(self)
                if names is None or f.name in names}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PricePlan:
        """The plan of a stored JSON object; refuses unknown or missing keys and an id or hash that does not
        match the fields (a plan edited by hand, or written by another plan contract)."""
        if not isinstance(data, Mapping):
            raise DataContractError(f"price plan: expected a JSON object, got {type(data).__name__}")
        keys = {f.metadata["json"]: f for f in dataclasses.fields(cls)}
        unknown, missing = sorted(set(data) - set(keys)), sorted(set(keys) - set(data))
        if unknown or missing:
            raise DataContractError(f"price plan: unknown keys {unknown}, missing keys {missing}")
        plan = cls(**{f.name: data[key] for key, f in keys.items() if f.init})
        for name in _DERIVED:
            if data[json_key(name)] != getattr(plan, name):
                raise DataContractError(f"price plan: {json_key(name)} {data[json_key(name)]!r} does not match its "
                                        f"fields ({getattr(plan, name)!r})")
        return plan

    def to_frame(self) -> pd.DataFrame:
        """The one-row snake_case parquet mirror of the JSON (columns in field order)."""
        return pd.DataFrame([{f.name: getattr(self, f.name) for f in dataclasses.fields(self)}])


def json_key(name: str) -> str:
    """The JSON key of the price plan field ``name``."""
    return next(f.metadata["json"] for f in dataclasses.fields(PricePlan) if f.name == name)


def _checked(value: Any, f: dataclasses.Field) -> Any:
    """The field's value as its declared type (ints read from JSON become floats); ConfigError otherwise."""
    kind = {"float": float, "int": int, "str": str, "bool": bool}[f.type]
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind is float and number and math.isfinite(value):
        return float(value)
    if kind is int and number and float(value).is_integer():
        return int(value)
    if kind in (str, bool) and isinstance(value, kind):
        return value
    raise ConfigError(f"price plan: {f.metadata['json']} must be a finite {f.type}, got {value!r}")
