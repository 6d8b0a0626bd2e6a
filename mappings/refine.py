"""Refine a generically identified table by what its rows print.

A title alone does not always say a table's axis: 收入总表 lists budget units in one province
and 功能分类 codes in another, and 一般公共预算支出表 may be by 功能 or by 经济 classification.
The rows' codes decide, by the national classification's structure: 功能分类 codes start
with 2 (201 一般公共服务支出), 部门经济分类 codes with 3 (301 工资福利支出), 政府经济分类 codes
with 5 (501 机关工资福利支出), all 3, 5 or 7 digits; a unit code is 6 digits or more. Rows
printed by name only vote through the code lists' names.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache

from .codelists import load_code_list
from .identify import TableInstance
from .models import Template
from .normalize import split_header
from .text import clean_name, split_code_name

_AXIS_BY_FIRST_DIGIT = {"2": "function", "3": "econ_dept", "5": "econ_gov"}
_UNIT_CODE = re.compile(r"^\d{6,15}$")
_FIGURE = re.compile(r"^[-+(]?[\d,]*\d\.\d+\)?$|^[-+(]?\d{1,3}(?:,\d{3})+\)?$")
_MIN_VOTES = 2  # one stray code is no evidence


@lru_cache(maxsize=1)
def _names_by_axis() -> dict[str, str]:
    """Item name → its classification, for names that only one classification uses."""
    seen: dict[str, set[str]] = {}
    for axis in ("function", "econ_dept"):
        for entry in load_code_list(axis):
            seen.setdefault(entry.name, set()).add(axis)
    return {name: next(iter(axes)) for name, axes in seen.items() if len(axes) == 1}


def row_axis_votes(table: TableInstance) -> Counter[str]:
    """How many body cells print a code (or a name) of each classification, or a unit code."""
    votes: Counter[str] = Counter()
    names = _names_by_axis()
    for grid in table.grids:
        for index in range(split_header(grid), len(grid.rows)):
            for text in grid.row_texts(index):
                flat = text.replace("\n", "").replace(" ", "")
                if _UNIT_CODE.match(flat):
                    votes["unit"] += 1
                    continue
                if _FIGURE.match(flat):
                    continue  # a figure (244.15, 1,200) is no code
                code, name = split_code_name(flat)
                if code:
                    votes[_AXIS_BY_FIRST_DIGIT.get(code[0], "other")] += 1
                elif (axis := names.get(clean_name(name))) is not None:
                    votes[f"name:{axis}"] += 1
    return votes


def code_axis(votes: Counter[str]) -> str | None:
    """The classification the rows print, codes first, then names; None when unclear."""
    coded = {k: v for k, v in votes.items() if k in {"function", "econ_dept", "econ_gov", "unit"}}
    if coded and max(coded.values()) >= _MIN_VOTES:
        return max(coded, key=lambda k: coded[k])
    named = {k[5:]: v for k, v in votes.items() if k.startswith("name:")}
    if named and max(named.values()) >= _MIN_VOTES:
        return max(named, key=lambda k: named[k])
    return None


def refine_by_rows(table: TableInstance, template: Template) -> None:
    """Settle an ``auto`` classification and an ambiguous title's kind from the rows.

    ``auto`` becomes the axis the codes show (``unit`` for unit codes), else ``unit`` when the
    label column lists units by name, else the kind's ``fallback_classification``; a 功能分类 kind whose rows print
    经济分类 codes becomes its ``by_econ_kind`` (and the reverse with ``by_function_kind``).
    """
    rule = table.rule
    if rule is None or rule.layout in {"performance", "side_by_side", "item_columns", "none"}:
        return
    axis = code_axis(row_axis_votes(table))
    if (
        rule.classification == "function"
        and axis in {"econ_dept", "econ_gov"}
        and rule.by_econ_kind
    ):
        rule = template.rules_by_kind.get(rule.by_econ_kind, rule)
    elif rule.classification in {"econ_dept", "econ_gov"} and axis == "function":
        rule = template.rules_by_kind.get(rule.by_function_kind or "", rule)
    if rule.classification == "auto":
        fallback = rule.fallback_classification or "function"
        rule = rule.model_copy(update={"classification": axis or _label_axis(table, fallback)})
    table.rule = rule


def _label_axis(table: TableInstance, fallback: str) -> str:
    """Rows without codes: budget units when the label column is headed 单位, else the kind's
    fallback (income sources for a 收入总表, expense types for a 支出总表)."""
    for grid in table.grids[:1]:
        header = "".join(
            text for index in range(split_header(grid)) for text in grid.row_texts(index)
        )
        if "单位名称" in header or "预算单位" in header or "单位编码" in header:
            return "unit"
    return fallback


def refine_tables(tables: list[TableInstance], template: Template) -> None:
    """Refine every table of a generically read document (families keep their rules)."""
    if template.numbering != "printed":
        return
    for table in tables:
        refine_by_rows(table, template)
