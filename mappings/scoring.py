"""Score a table's extraction by its own arithmetic, to choose between extractors.

A budget table checks itself: children sum to their parent (项 → 款 → 类 → 合计), total =
basic + project, basic = personnel + public. The share of these relations that hold (within
rounding) — together with how much of the header was recognised and how many figures were
read — ranks candidate extractions of the same table.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from budget_disclosures.extractors.numbers import (
    printed_decimals,
    printing_step,
    sum_tolerance,
    unit_factor,
)

from .normalize import LineItem

ROW_RELATIONS = (("total", ("basic", "project")), ("basic", ("basic_personnel", "basic_public")))
HIERARCHICAL = frozenset({"function", "econ_dept", "econ_gov"})


@dataclass(frozen=True, slots=True, order=True)
class TableScore:
    """Higher is better; compared field by field."""

    relations_held: float  # share of arithmetic relations that hold (1.0 when none apply)
    n_items: int
    n_relations: int = 0

    @property
    def perfect(self) -> bool:
        return self.relations_held >= 1.0


def _unit_and_step(items: list[LineItem]) -> tuple[float, float]:
    """Yuan per printed unit and the printed step of a table's figures."""
    if not items:
        return 1.0, 0.01
    factor = unit_factor(items[0].unit_printed)
    return factor, printing_step(max(printed_decimals(i.amount_printed or "") for i in items))


def _tolerance(unit_step: tuple[float, float], addends: list[float]) -> float:
    """The rounding slack of a sum (extractors.numbers, as validation reckons it): the table's
    unit and printed decimals, the non-zero addends."""
    factor, step = unit_step
    return sum_tolerance(factor, step, sum(1 for value in addends if value != 0)) + 1e-6


def relations(items: list[LineItem]) -> tuple[int, int]:
    """(relations holding, relations checked) inside one table's items."""
    held = checked = 0
    unit_step = _unit_and_step(items)
    by_row: dict[tuple, dict[str, float]] = defaultdict(dict)
    for item in items:
        by_row[(item.classification, item.code, item.name)][item.measure] = item.amount_yuan
    for values in by_row.values():
        for parent, parts in ROW_RELATIONS:
            if parent in values and all(p in values for p in parts):
                checked += 1
                addends = [values[p] for p in parts]
                held += abs(values[parent] - sum(addends)) <= _tolerance(unit_step, addends)
    for measure, classification in {(i.measure, i.classification) for i in items}:
        if classification not in HIERARCHICAL:
            continue
        coded = [i for i in items if i.measure == measure and i.classification == classification]
        amounts = {i.code: i.amount_yuan for i in coded if i.code}
        children: dict[str | None, list[float]] = defaultdict(list)
        for item in coded:
            if item.code:
                children[item.parent_code].append(item.amount_yuan)
        for parent_code, values in children.items():
            if parent_code is None:
                total = next(
                    (i.amount_yuan for i in coded if i.code is None and i.name == "合计"), None
                )
                if total is None:
                    continue
                expected = total
            elif parent_code in amounts:
                expected = amounts[parent_code]
            else:
                continue
            checked += 1
            held += abs(expected - sum(values)) <= _tolerance(unit_step, values)
    return held, checked


def score_items(items: list[LineItem]) -> TableScore:
    held, checked = relations(items)
    share = held / checked if checked else (1.0 if items else 0.0)
    return TableScore(share, len(items), checked)
