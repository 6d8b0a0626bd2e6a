"""The tables' own arithmetic as a check on OCR: find figures that break it, read them again.

Runs on a document's line items (the contract's dicts, after mapping) when some of them were
read by OCR.  Three relations are checked, each within the rounding tolerance of printed
figures (a relation of ``n`` non-zero addends may be off by ``(n + 1) / 2`` units of the last
printed digit, as in :mod:`validation.checks`):

* **codes**: a 类/款 row equals the sum of its 款/项 rows (same table, measure and column);
* **totals**: a ``合计``/``总计`` row equals the sum of the level-1 rows;
* **columns**: in one row, a header group (``基本支出``) equals the sum of its sub-columns
  (``基本支出/人员经费`` + ``基本支出/公用经费``), and a ``…/小计`` or ``…/合计`` column the sum
  of its siblings (only in tables where that holds in some row: a "三公" 合计 leaves 会议费
  and 培训费 out).

Suspicious figures are those in a failing relation, figures printed with more or fewer
decimals than the rest of their table, and figures the recogniser was unsure of.  Their cells
are read again at twice the resolution, framed tightly, grey and binarised
(:meth:`extractors.ocr.DocumentOcr.reread`).  A different reading replaces the first only
when it makes every failing relation it belongs to hold without breaking one that held, or
(for a figure with the wrong number of decimals) when both new readings agree on it.
Nothing is ever set from the arithmetic itself: a figure that stays inconsistent keeps what
the page shows, and the validation suites report the inconsistency.

Each re-read figure's ``confidence`` becomes the best confidence of the readings that agree
with the kept value times the share of readings that agree: a figure read the same three
times keeps a high confidence; one read three different ways gets a low one.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from .numbers import (
    printed_decimals,
    printing_step,
    signed_decimal,
    sum_tolerance,
    unit_factor,
)

log = logging.getLogger(__name__)

CODED = frozenset({"function", "econ_dept", "econ_gov"})
TOTAL_NAMES = frozenset({"合计", "总计"})
SUBTOTAL_NAMES = ("合计", "小计")
LOW_CONFIDENCE = 0.9
MAX_REREADS = 300  # cells per document


def parse_figure(text: str | None) -> Decimal | None:
    """A printed figure as a number (``1,234.50``, ``-5``, ``(5)``); None when not one."""
    if not text:
        return None
    return signed_decimal("".join(text.split()))


decimals = printed_decimals  # (the name the review's callers know)


@dataclass(frozen=True, slots=True)
class Relation:
    parent: int
    children: tuple[int, ...]
    kind: str  # codes | totals | columns | subtotals


@dataclass(slots=True)
class ReviewReport:
    """What the review did: figures re-read, figures changed, relations still failing."""

    checked: int = 0
    failing_before: int = 0
    failing_after: int = 0
    reread: int = 0
    changed: list[dict] = field(default_factory=list)
    still_failing: list[dict] = field(default_factory=list)


def find_relations(items: list[dict]) -> list[Relation]:
    """The sum relations among a document's line items (indices into ``items``)."""
    relations: list[Relation] = []
    by_key: dict[tuple, list[int]] = defaultdict(list)
    children: dict[tuple, list[int]] = defaultdict(list)
    for i, item in enumerate(items):
        if item.get("classification") in CODED and item.get("code"):
            base = (
                item["table_no"],
                item["classification"],
                item["measure"],
                item.get("column") or "",
            )
            by_key[(*base, item["code"])].append(i)
            if item.get("parent_code"):
                children[(*base, item["parent_code"])].append(i)
    for key, members in by_key.items():
        kids = children.get(key)
        if len(members) == 1 and kids:
            relations.append(Relation(members[0], tuple(kids), "codes"))
    totals: dict[tuple, list[int]] = defaultdict(list)
    level1: dict[tuple, list[int]] = defaultdict(list)
    for i, item in enumerate(items):
        key = (item["table_no"], item["measure"], item.get("column") or "")
        if (
            item.get("code") is None
            and item.get("name") in TOTAL_NAMES
            and item.get("classification") in CODED
        ):
            totals[(*key, item["classification"])].append(i)
        elif item.get("classification") in CODED and item.get("level") == 1:
            level1[(*key, item["classification"])].append(i)
    for key, members in totals.items():
        if len(members) == 1 and level1.get(key):
            relations.append(Relation(members[0], tuple(level1[key]), "totals"))
    rows: dict[tuple, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for i, item in enumerate(items):
        key = (
            item["table_no"],
            item.get("page"),
            item.get("classification"),
            item.get("code"),
            item.get("name"),
            item.get("row_label"),
        )
        rows[key][item.get("column") or ""].append(i)
    for columns in rows.values():
        single = {
            path: members[0] for path, members in columns.items() if path and len(members) == 1
        }
        for path, index in single.items():
            kids = [
                i
                for sub, i in single.items()
                if sub.startswith(path + "/") and "/" not in sub[len(path) + 1 :]
            ]
            if len(kids) >= 2:
                relations.append(Relation(index, tuple(kids), "columns"))
            head, _, last = path.rpartition("/")
            if last in SUBTOTAL_NAMES:
                kids = _sibling_parts(single, head, path)
                if len(kids) >= 2:
                    relations.append(Relation(index, tuple(kids), "subtotals"))
    return relations


def _sibling_parts(single: dict[str, int], head: str, total_path: str) -> list[int]:
    """The parts a ``…/合计`` or ``…/小计`` column adds up: each sibling column, or a sibling
    group's own subtotal column, or else the group's columns."""
    prefix = head + "/" if head else ""
    groups: dict[str, list[str]] = defaultdict(list)
    for sub in single:
        if sub != total_path and sub.startswith(prefix):
            groups[sub[len(prefix) :].split("/", 1)[0]].append(sub)
    parts: list[int] = []
    for name, subs in groups.items():
        own = prefix + name
        totals = [f"{own}/{t}" for t in SUBTOTAL_NAMES if f"{own}/{t}" in single]
        if own in single:
            parts.append(single[own])
        elif totals:
            parts.append(single[totals[0]])
        else:
            parts.extend(single[sub] for sub in subs)
    return parts


def _plausible(
    relations: list[Relation], values: list[float], items: list[dict], steps: dict[str, float]
) -> list[Relation]:
    """Subtotal columns add up different things in different tables (a "三公" 合计 leaves
    会议费 out): such a relation counts in a table only where it holds in some row."""

    def signature(r: Relation) -> tuple:
        return (
            items[r.parent]["table_no"],
            items[r.parent].get("column"),
            tuple(items[c].get("column") for c in r.children),
        )

    held = {
        signature(r) for r in relations if r.kind == "subtotals" and holds(r, values, items, steps)
    }
    return [r for r in relations if r.kind != "subtotals" or signature(r) in held]


def _steps(items: list[dict]) -> tuple[dict[str, float], dict[str, int]]:
    """Per table: the printing step (0.01 for two decimals) and the usual decimal count."""
    counts: dict[str, Counter] = defaultdict(Counter)
    for item in items:
        if item.get("amount_yuan"):
            counts[item["table_no"]][decimals(item.get("amount_printed") or "")] += 1
    steps, usual = {}, {}
    for table, counter in counts.items():
        steps[table] = printing_step(max(counter))
        usual[table] = counter.most_common(1)[0][0]
    return steps, usual


def holds(
    relation: Relation, values: list[float], items: list[dict], steps: dict[str, float]
) -> bool:
    parent = items[relation.parent]
    factor = unit_factor(parent.get("unit_printed"))
    step = steps.get(parent["table_no"], 0.01)
    n = sum(1 for c in relation.children if values[c] != 0)
    tolerance = sum_tolerance(factor, step, n)
    return abs(values[relation.parent] - sum(values[c] for c in relation.children)) <= tolerance


def review_items(items: list[dict], ocr) -> ReviewReport:
    """Re-read the suspicious OCR figures of ``items`` (in place); see the module docstring.

    ``ocr`` is the document's :class:`extractors.ocr.DocumentOcr` (it knows the cells).
    """
    report = ReviewReport()
    ocr_items = [i for i, item in enumerate(items) if ocr.is_ocr(item.get("page"))]
    if not ocr_items:
        return report
    ocr_set = set(ocr_items)
    values = [float(item.get("amount_yuan") or 0.0) for item in items]
    steps, usual = _steps(items)
    relations = [
        r
        for r in _plausible(find_relations(items), values, items, steps)
        if ocr_set & {r.parent, *r.children}
    ]
    report.checked = len(relations)
    member_of: dict[int, list[Relation]] = defaultdict(list)
    for relation in relations:
        for index in (relation.parent, *relation.children):
            member_of[index].append(relation)
    failing = [r for r in relations if not holds(r, values, items, steps)]
    report.failing_before = len(failing)
    suspects: dict[int, str] = {}
    for relation in failing:
        for index in (relation.parent, *relation.children):
            if index in ocr_set:
                suspects.setdefault(index, "arithmetic")
    for index in ocr_items:
        item = items[index]
        printed = item.get("amount_printed") or ""
        if item.get("amount_yuan") and decimals(printed) != usual.get(
            item["table_no"], decimals(printed)
        ):
            suspects.setdefault(index, "decimals")
        elif (item.get("confidence") or 0.0) < LOW_CONFIDENCE:
            suspects.setdefault(index, "confidence")
    order = sorted(suspects, key=lambda i: (suspects[i] != "arithmetic", i))[:MAX_REREADS]
    readings = _reread(items, order, ocr)
    report.reread = len(readings)
    for index in order:
        options = readings.get(index)
        if not options:
            continue
        item = items[index]
        original = parse_figure(item.get("amount_printed"))
        votes = Counter(v for v, _t, _c in options)
        chosen = None
        if suspects[index] == "arithmetic":
            broken = [r for r in member_of[index] if not holds(r, values, items, steps)]
            intact = [r for r in member_of[index] if r not in broken]
            factor = unit_factor(item.get("unit_printed"))
            for value, _n in votes.most_common():
                if value == original:
                    continue
                trial = list(values)
                trial[index] = float(value) * factor
                if broken and all(holds(r, trial, items, steps) for r in broken + intact):
                    chosen = value
                    break
        elif suspects[index] == "decimals":
            value, n = votes.most_common(1)[0]
            wanted = usual.get(item["table_no"])
            if (
                value != original
                and n >= 2
                and all(decimals(t) == wanted for v, t, _c in options if v == value)
            ):
                chosen = value
        final = chosen if chosen is not None else original
        all_readings = [
            (original, item.get("confidence") or 0.0),
            *((v, c) for v, _t, c in options),
        ]
        agreeing = [c for v, c in all_readings if v == final]
        confidence = max(agreeing, default=0.0) * len(agreeing) / len(all_readings)
        item["confidence"] = round(confidence, 4)
        if chosen is not None:
            text = next(t for v, t, _c in options if v == chosen)
            factor = unit_factor(item.get("unit_printed"))
            change = {
                "table_no": item["table_no"],
                "page": item.get("page"),
                "row": item.get("code") or item.get("name"),
                "measure": item.get("measure"),
                "before": item.get("amount_printed"),
                "after": text,
                "reason": suspects[index],
            }
            report.changed.append(change)
            log.info("OCR re-read: %s", change)
            item["amount_printed"] = text
            item["amount_yuan"] = float(chosen) * factor
            values[index] = item["amount_yuan"]
    for relation in relations:
        if not holds(relation, values, items, steps):
            parent = items[relation.parent]
            report.still_failing.append(
                {
                    "table_no": parent["table_no"],
                    "kind": relation.kind,
                    "row": parent.get("code") or parent.get("name"),
                    "measure": parent.get("measure"),
                    "printed": parent.get("amount_printed"),
                }
            )
    report.failing_after = len(report.still_failing)
    return report


def _reread(
    items: list[dict], order: list[int], ocr
) -> dict[int, list[tuple[Decimal, str, float]]]:
    """Second readings of the cells behind ``items[order]``: (value, text, confidence)."""
    cells_of: dict[int, list] = {}
    wanted: dict[int, dict[tuple, None]] = defaultdict(dict)
    for index in order:
        item = items[index]
        cells = ocr.cells_for(
            item["page"], item.get("amount_printed") or "", item.get("row_label") or ""
        )
        if cells:
            cells_of[index] = cells
            for cell in cells:
                wanted[item["page"]][cell.bbox] = None
    found: dict[tuple[int, tuple], list[tuple[str, float]]] = {}
    for page, boxes in wanted.items():
        boxes_list = list(boxes)
        for box, readings in zip(boxes_list, ocr.reread(page, boxes_list)):
            found[(page, box)] = readings
    out: dict[int, list[tuple[Decimal, str, float]]] = {}
    for index, cells in cells_of.items():
        page = items[index]["page"]
        options = []
        for cell in cells:
            for text, confidence in found.get((page, cell.bbox), []):
                value = parse_figure(text)
                if value is not None:
                    options.append((value, text, confidence))
        out[index] = options
    return out
