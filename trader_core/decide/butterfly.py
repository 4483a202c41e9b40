"""Butterfly decisions: the champion's model ranks the candidate butterflies of the decision date; the AI track
opens what the backtest's rule opens, the baseline track what the backtest's no-skill baseline holds (docs/decide.md,
"Butterfly lines").

* The model: ``butterfly.inference.get_inference_engine`` on the release (hash-checked, one onnxruntime session,
  created once per release); a model trained on another feature order than ``BUTTERFLY_FEATURE_ORDER`` is refused.
* The threshold: the release's ``butterfly.decision`` section, with ``min_expected_roi`` from the newest version
  of the line's threshold document when there is one (``butterfly.threshold``); each row records the version.
* AI track: ``backtest.ai_track``, the rule ``select_trades`` applies (E[ROI] > min_expected_roi, top
  ``max_trades_per_day`` by E[ROI], ties by symbol). Baseline track: every candidate of the day, one butterfly
  each at equal debit: the backtest's no-skill baseline (``baseline_mean_roi``, the mean ROI of all candidates)
  against which its excess ROI is measured.
* Outcomes: a decision is resolved once the data reaches its evaluation date; its realized ROI is
  ``labels.label_positions`` of the logged position (the pipeline's label ROI).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from trader_core import io
from trader_core.butterfly.backtest import ai_track, ranked
from trader_core.butterfly.inference import get_inference_engine
from trader_core.butterfly.labels import label_positions
from trader_core.butterfly.threshold import newest_version
from trader_core.butterfly_config import DecisionSection
from trader_core.config import RunSpec
from trader_core.config_mapping import from_mapping
from trader_core.contracts.butterfly import OUTPUT_FIELDS
from trader_core.contracts.decisions import BUTTERFLY_DECISION_LOG, DECISION_OUTCOMES
from trader_core.decide.base import Champion, Decider, DecisionRefused, DecisionRequest
from trader_core.decide.butterfly_data import DAILY_MAX_AGE, decision_day, outcome_table
from trader_core.errors import DataContractError

#: Candidates the CLI lists; every candidate is logged.
SHOWN = 20
_POSITION = ("dte", "spot", "hv", "lower", "center", "upper", "cost", "max_profit", "eval_date")


def release_spec(champion: Champion) -> RunSpec:
    data = io.read_json(champion.path / "run_spec.json")
    return from_mapping(RunSpec, {k: v for k, v in data.items() if k != "spec_hash"})


def line_decision(champion: Champion, spec: RunSpec) -> tuple[DecisionSection, int]:
    """The AI track's rule: the release's decision section with the line's newest adapted threshold, and its
    version (0: the release's own value). Releases live in ``<TRADER_HOME>/releases/`` (``release.releases_root``)."""
    newest = newest_version(champion.line, champion.path.parents[1])
    if newest is None:
        return spec.butterfly.decision, 0
    return replace(spec.butterfly.decision, min_expected_roi=float(newest["min_expected_roi"])), int(newest["version"])


class ButterflyDecider(Decider):
    contract = BUTTERFLY_DECISION_LOG
    outcome_unit = "ROI, a fraction of the debit"
    default_max_age = DAILY_MAX_AGE

    def decide(self, champion: Champion, request: DecisionRequest) -> pd.DataFrame:
        spec = release_spec(champion)
        try:
            engine = get_inference_engine(champion.path)
        except DataContractError as exc:  # the model's feature order is not BUTTERFLY_FEATURE_ORDER
            raise DecisionRefused(str(exc)) from exc
        day = decision_day(spec, request)
        decision, version = line_decision(champion, spec)
        positions = day.positions
        scored = engine.predict_roi_distribution(day.features.set_index(positions.index))
        frame = positions[["date", "symbol"]].assign(expected_roi=scored["expected_roi"])
        order = ranked(frame).index
        out = pd.DataFrame({
            "release": champion.version, "release_run_id": champion.manifest["run_id"], "line": champion.line,
            "strategy": spec.strategy, "decision_time": day.decision_time, "data_time": positions["date"],
            "symbol": positions["symbol"], "sample_id": positions["sample_id"],
            **{name: positions[name] for name in _POSITION},
            **{name: scored[name] for name in ("expected_roi", *OUTPUT_FIELDS, "confidence")},
            "rank": pd.Series(np.arange(1, len(order) + 1, dtype=np.int64), index=order),
            "ai_track": positions.index.isin(ai_track(frame, decision).index),
            "baseline_track": True,
            "min_expected_roi": float(decision.min_expected_roi),
            "max_trades_per_day": np.int64(decision.max_trades_per_day), "threshold_version": np.int64(version)})
        out["dte"] = out["dte"].astype(np.int64)
        return out.loc[order, [c for c in self.contract.names if c not in ("decision_key", "arm")]].reset_index(
            drop=True)

    def render(self, rows: pd.DataFrame) -> list[str]:
        return render_rows(rows)

    def outcomes(self, champion: Champion, rows: pd.DataFrame, *, home: Path) -> pd.DataFrame:
        spec = release_spec(champion)
        table = outcome_table(spec)
        rows = rows.reset_index(drop=True)
        last = rows["symbol"].map(table.groupby("symbol")["date"].max())
        resolved = (rows["eval_date"] <= last).fillna(False).to_numpy(dtype=bool)
        realized = np.full(len(rows), np.nan)
        if resolved.any():
            done = rows[resolved]
            positions = pd.DataFrame({"sample_id": done["decision_key"], "symbol": done["symbol"],
                                      "date": done["data_time"], "dte": done["dte"].astype(np.int64),
                                      **{k: done[k] for k in ("lower", "center", "upper", "cost")}})
            realized[resolved] = label_positions(positions, table, spec.butterfly.pricing.risk_free_rate)[
                "roi"].to_numpy()
        out = rows[["decision_key", "release", "arm", "symbol", "data_time"]].assign(
            traded=rows["ai_track"].astype(bool), predicted=rows["expected_roi"].astype(np.float64),
            predicted_prob=np.clip((rows["p_good"] + rows["p_excellent"]).to_numpy(np.float64), 0.0, 1.0),
            resolved=resolved, realized=realized)
        DECISION_OUTCOMES.validate(out, extra_ok=False)
        return out


def render_rows(rows: pd.DataFrame) -> list[str]:
    """The ranked candidates (the first ``SHOWN``), the AI track's picks and the baseline's."""
    first = rows.iloc[0]
    threshold = (f"E[ROI] > {first['min_expected_roi']:.3f} (threshold version {first['threshold_version']}"
                 + (": the release's" if first["threshold_version"] == 0 else "") + ")")
    lines = [f"{len(rows)} candidate butterflies on {first['data_time']:%Y-%m-%d}, ranked by expected ROI "
             f"(AI track: {threshold}, top {first['max_trades_per_day']} per day)",
             f"{'rank':>4}  {'symbol':<10} {'dte':>3}  {'lower':>9} {'center':>9} {'upper':>9}  {'cost':>8}  "
             f"{'E[ROI]':>7}  {'p_loss':>6} {'p_marg':>6} {'p_good':>6} {'p_exc':>6}  {'conf':>5}  {'eval':<10}  AI"]
    for row in rows.head(SHOWN).to_dict("records"):
        lines.append(f"{row['rank']:>4}  {row['symbol']:<10} {row['dte']:>3}  {row['lower']:>9.2f} "
                     f"{row['center']:>9.2f} {row['upper']:>9.2f}  {row['cost']:>8.4f}  {row['expected_roi']:>+7.3f}  "
                     f"{row['p_loss']:>6.3f} {row['p_marginal']:>6.3f} {row['p_good']:>6.3f} "
                     f"{row['p_excellent']:>6.3f}  {row['confidence']:>5.3f}  {row['eval_date']:%Y-%m-%d}  "
                     f"{'yes' if row['ai_track'] else ''}")
    if len(rows) > SHOWN:
        lines.append(f"  ... {len(rows) - SHOWN} more in the decision log")
    ai = rows[rows["ai_track"].to_numpy(dtype=bool)]
    lines.append(f"AI track opens {len(ai)}: " + (", ".join(
        f"{r['symbol']} {r['lower']:g}/{r['center']:g}/{r['upper']:g} (E[ROI] {r['expected_roi']:+.3f})"
        for r in ai.to_dict("records")) if len(ai) else f"none (no candidate with {threshold})"))
    baseline = rows[rows["baseline_track"].to_numpy(dtype=bool)]
    lines.append(f"baseline track opens {len(baseline)} (every candidate, equal debit): "
                 + ", ".join(baseline["symbol"].astype(str)))
    return lines
