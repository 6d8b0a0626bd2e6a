"""Why a document gave no figure: the one-line reason a data department reads.

A document that yields nothing is never ``ok``: it is ``warn`` with a reason that says what
was seen (a narrative without tables, tables whose titles the lexicon does not know, a file
that is not a budget disclosure at all), so the next step is obvious to a person.
"""

from __future__ import annotations

import re

from .identify import TableInstance
from .text import clean_label

_ROW_LAYOUTS = frozenset({"coded_rows", "unit_rows", "project_rows"})

_TITLE_LIKE = re.compile(r"^[^，。；,;]{2,40}表$")
_DISCLOSURE_WORDS = ("预算", "决算")


def titles_seen(texts: list[str], limit: int = 4) -> list[str]:
    """Lines that look like table titles (short, ending in 表), as a reader's hint."""
    seen: list[str] = []
    for text in texts:
        for line in text.splitlines():
            line = clean_label(line).replace(" ", "")
            if _TITLE_LIKE.match(line) and line not in seen:
                seen.append(line)
    return seen[:limit]


def no_data_reason(table_rows: list[dict], texts: list[str], n_sections: int) -> str:
    """Why a document gave no figure, in one line: so a data department sees it (``warn``)."""
    joined = "".join(texts).replace(" ", "")
    if not any(word in joined for word in _DISCLOSURE_WORDS):
        return "not a budget disclosure: no 预算 or 决算 in its text"
    if table_rows:
        found = ", ".join(f"表{row['table_no']} {row['kind']}" for row in table_rows[:4])
        return f"tables recognised but no figure read ({found}); all empty forms or unread"
    titles = "; ".join(titles_seen(texts)) or "none"
    if n_sections:
        return (
            f"no table recognised: narrative only ({n_sections} sections; "
            f"its tables may be published as another file); titles seen: {titles}"
        )
    return f"no table recognised; titles seen: {titles}"


def is_zero_form(table: TableInstance, items: list[dict]) -> bool:
    """A table published as an empty form that still prints its total row: every figure is
    0 and no row has a code (合计 0.00, or the unit's row 0.00, and a note such as
    本表本年无发生额). Only for tables of rows: a 三公 table of zeros states zero spending."""
    if table.rule is None or table.rule.layout not in _ROW_LAYOUTS or not items:
        return False
    return all(item["amount_yuan"] == 0 for item in items) and not any(
        item["code"] for item in items
    )
