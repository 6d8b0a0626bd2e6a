"""Score a table's extraction by its own arithmetic, to choose between extractors.

A budget table checks itself: children sum to their parent (项 → 款 → 类 → 合计), total =
basic + project, basic = personnel + public. The share of these relations that hold (within
rounding) — together with how much of the header was recognised and how many figures were
read — ranks candidate extractions of the same table.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

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


def _tolerance(items: list[LineItem], addends: int) -> float:
    """Rounding slack: half a printed unit per addend (0.01 万元 = 100 yuan)."""
    unit = 100.0 if items and items[0].unit_printed == "万元" else 1.0
    return 0.5 * unit * max(addends, 1) + 1e-6


def relations(items: list[LineItem]) -> tuple[int, int]:
    """(relations holding, relations checked) inside one table's items."""
    held = checked = 0
    by_row: dict[tuple, dict[str, float]] = defaultdict(dict)
    for item in items:
        by_row[(item.classification, item.code, item.name)][item.measure] = item.amount_yuan
    for values in by_row.values():
        for parent, parts in ROW_RELATIONS:
            if parent in values and all(p in values for p in parts):
                checked += 1
                held += abs(values[parent] - sum(values[p] for p in parts)) <= _tolerance(
                    items, len(parts)
                )
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
            held += abs(expected - sum(values)) <= _tolerance(items, len(values))
    return held, checked


def score_items(items: list[LineItem]) -> TableScore:
    held, checked = relations(items)
    share = held / checked if checked else (1.0 if items else 0.0)
    return TableScore(share, len(items), checked)
