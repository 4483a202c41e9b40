"""The contract checks of a per-symbol parts artifact, decided from figures each symbol step computes on its own
part (docs/scaling.md, "Per-symbol parts").

Every rule of the table's contract gives the same verdict and details on the merged frame as the combination of
its parts' figures:

- the column rule: the parts have the same columns and dtypes (``parts.parts_manifest`` refuses others), so
  the problem counts add up and the unknown values are the union;
- the key and order rule: pairs out of order and pairs of equal sort keys are counted inside each run of rows
  a part contributes to the merged frame (its block of a block order, or the whole part) and at each seam
  between two runs, from the runs' first and last sort keys; duplicate keys never span parts, because the key
  holds the symbol and a part holds the rows of one symbol;
- an invariant with ``part_counts``: its counts add up and ``counts_verdict`` decides.

A contract with any other rule is not decided from parts (``part_figures`` returns None): its checks load the
table.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from trader_core.contracts.table import TableContract, Verdict, order_counts
from trader_core.fanout import BlockOrder

#: How many unknown values the column rule lists (``contracts.table._column_problems``).
_UNKNOWN_SHOWN = 5


def decided_from_parts(contract: TableContract) -> bool:
    """True when every rule of ``contract`` can be decided from per-symbol part figures."""
    keyed_by_symbol = not contract.key or "symbol" in contract.key
    return keyed_by_symbol and all(i.part_counts and i.counts_verdict and not i.needs for i in contract.invariants)


def part_figures(frame: pd.DataFrame, *, contract: TableContract, blocks: BlockOrder | None) -> dict[str, Any] | None:
    """What the merge needs of one symbol's part to decide every rule of ``contract`` (JSON), or None."""
    if not decided_from_parts(contract):
        return None
    figures: dict[str, Any] = {"columns": contract.column_report(frame)[1]}
    if contract.key or contract.sort:
        figures["keys"] = _key_figures(frame, contract=contract, blocks=blocks)
    for invariant in contract.invariants:
        figures[invariant.name] = invariant.part_counts(frame)
    return figures


def combined_verdicts(figures: Sequence[dict[str, Any]], *, contract: TableContract) -> dict[str, Verdict]:
    """Each rule's (passed, details) on the merged frame, from its parts' figures in symbol order."""
    verdicts = {"matches_contract": _columns_verdict([f["columns"] for f in figures], contract=contract)}
    if contract.key or contract.sort:
        verdicts[contract.key_rule] = _key_verdict([f["keys"] for f in figures], contract=contract)
    for invariant in contract.invariants:
        verdicts[invariant.name] = invariant.counts_verdict(_sum([f[invariant.name] for f in figures]))
    return verdicts


def verdicts_json(verdicts: dict[str, Verdict] | None) -> dict[str, Any] | None:
    """The verdicts as the merge records them (the asset's ``contract_checks`` metadata): rule -> passed, details."""
    return None if verdicts is None else {name: {"passed": bool(passed), "details": details}
                                          for name, (passed, details) in verdicts.items()}


def recorded_verdicts(recorded: dict[str, Any]) -> dict[str, Verdict]:
    """The verdicts back from what ``verdicts_json`` recorded."""
    return {name: (bool(v["passed"]), dict(v["details"])) for name, v in recorded.items()}


def _key_figures(frame: pd.DataFrame, *, contract: TableContract, blocks: BlockOrder | None) -> dict[str, Any]:
    key, sort = list(contract.key), list(contract.sort)
    missing = [c for c in (*key, *sort) if c not in frame.columns]
    if missing:
        return {"rows": len(frame), "missing_columns": missing}
    runs = [frame] if blocks is None else [frame[frame[blocks.column] == v] for v in blocks.values]
    return {"rows": len(frame), "duplicates": int(frame.duplicated(key).sum()) if key and len(frame) else 0,
            "runs": [_run_figures(rows, sort) for rows in runs]}


def _run_figures(rows: pd.DataFrame, sort: list[str]) -> dict[str, Any]:
    unsorted, ties = order_counts(rows, tuple(sort))
    ends = {c: [_plain(v) for v in rows[c].iloc[[0, -1]]] for c in sort} if len(rows) else {}
    return {"rows": len(rows), "unsorted": unsorted, "ties": ties, "ends": ends}


def _plain(value: Any) -> Any:
    """A sort key value as JSON that orders like the column (``contracts.table._sortable``): text as text,
    timestamps as instants, missing as None."""
    if pd.isna(value):
        return None
    if isinstance(value, pd.Timestamp):
        return int(value.value)
    return value.item() if hasattr(value, "item") else value


def _key_verdict(figures: list[dict[str, Any]], *, contract: TableContract) -> Verdict:
    rows = sum(f["rows"] for f in figures)
    if "missing_columns" in figures[0]:
        return False, {"rows": rows, "missing_columns": figures[0]["missing_columns"]}
    runs = [f["runs"][b] for b in range(len(figures[0]["runs"])) for f in figures]  # the merged frame's order
    runs = [r for r in runs if r["rows"]]
    unsorted, ties = sum(r["unsorted"] for r in runs), sum(r["ties"] for r in runs)
    for before, after in zip(runs, runs[1:]):
        seam = pd.DataFrame({c: [before["ends"][c][1], after["ends"][c][0]] for c in contract.sort})
        pair_unsorted, pair_ties = order_counts(seam, contract.sort)
        unsorted, ties = unsorted + pair_unsorted, ties + pair_ties
    if contract.key and tuple(contract.key) == tuple(contract.sort) and unsorted == 0:
        duplicates = ties  # as contracts.table.key_report counts them
    else:
        duplicates = sum(f["duplicates"] for f in figures)
    return duplicates == 0 and unsorted == 0, {"rows": rows, "key": list(contract.key), "duplicate_keys": duplicates,
                                               "sort": list(contract.sort), "unsorted_pairs": unsorted}


def _columns_verdict(reports: list[dict[str, Any]], *, contract: TableContract) -> Verdict:
    problems: dict[str, dict[str, Any]] = {}
    for report in reports:
        for column, found in report["column_problems"].items():
            merged = problems.setdefault(column, {})
            for kind, value in found.items():
                if isinstance(value, list):  # unknown text values
                    merged[kind] = sorted(set(merged.get(kind, [])) | set(value))[:_UNKNOWN_SHOWN]
                elif isinstance(value, str):  # the dtype or time zone: the same in every part
                    merged[kind] = value
                else:
                    merged[kind] = merged.get(kind, 0) + value
    problems = {c: problems[c] for c in contract.names if c in problems}
    first = reports[0]
    passed = not first["missing_columns"] and first["columns_in_order"] and not problems
    return passed, {"rows": sum(r["rows"] for r in reports), "missing_columns": first["missing_columns"],
                    "columns_in_order": first["columns_in_order"], "extra_columns": first["extra_columns"],
                    "column_problems": problems}


def _sum(counts: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts added key by key (nested dicts of numbers)."""
    total: dict[str, Any] = {}
    for part in counts:
        for key, value in part.items():
            if isinstance(value, dict):
                total[key] = _sum([total.get(key, {}), value])
            else:
                total[key] = total.get(key, 0) + value
    return total
