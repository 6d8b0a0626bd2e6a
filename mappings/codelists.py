"""Reference code lists (支出功能分类, 部门/政府预算支出经济分类), year-aware.

The CSVs in ``mappings/codes/`` are reference data; this module looks codes and names up.
An unknown code is reported by validation, never dropped here.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .text import clean_name

CODES_DIR = Path(__file__).resolve().parent / "codes"
CLASSIFICATION_FILES = {
    "function": "function.csv",
    "econ_dept": "econ_dept.csv",
    "econ_gov": "econ_gov.csv",
}
CODE_LEVELS = {
    "function": {3: 1, 5: 2, 7: 3},
    # some regions extend 部门经济分类 by a third level (30211 差旅费 → 3021101 差旅费)
    "econ_dept": {3: 1, 5: 2, 7: 3},
    "econ_gov": {3: 1, 5: 2},
}


@dataclass(frozen=True, slots=True)
class CodeEntry:
    code: str
    name: str
    level: int
    parent_code: str | None
    valid_from: int | None
    valid_to: int | None
    evidence: str

    def valid_in(self, year: int | None) -> bool:
        if year is None:
            return True
        return (self.valid_from is None or year >= self.valid_from) and (
            self.valid_to is None or year <= self.valid_to
        )


def _int_or_none(text: str | None) -> int | None:
    return int(text) if text and text.strip() else None


@lru_cache(maxsize=8)
def load_code_list(classification: str) -> tuple[CodeEntry, ...]:
    """All rows of one classification's CSV (empty when the file does not exist yet)."""
    path = CODES_DIR / CLASSIFICATION_FILES[classification]
    if not path.exists():
        return ()
    with path.open(encoding="utf-8") as handle:
        return tuple(
            CodeEntry(
                code=row["code"],
                name=clean_name(row["name"]),
                level=int(row["level"])
                if row.get("level")
                else code_level(classification, row["code"]) or 0,
                parent_code=row.get("parent_code") or None,
                valid_from=_int_or_none(row.get("valid_from")),
                valid_to=_int_or_none(row.get("valid_to")),
                evidence=row.get("evidence", ""),
            )
            for row in csv.DictReader(handle)
            if row.get("code")
        )


def code_level(classification: str, code: str | None) -> int | None:
    """类/款/项 level from the code's length (3/5/7 digits)."""
    if not code or classification not in CODE_LEVELS:
        return None
    return CODE_LEVELS[classification].get(len(code))


def parent_code(classification: str, code: str | None) -> str | None:
    level = code_level(classification, code)
    if not code or not level or level == 1:
        return None
    return code[:-2]


def code_for_name(classification: str, name: str, year: int | None, level: int = 1) -> str | None:
    """The code of a 类-level (by default) item printed by name only (收支总表 rows)."""
    wanted = clean_name(name)
    fallback = None
    for entry in load_code_list(classification):
        if entry.level == level and entry.name == wanted:
            if entry.valid_in(year):
                return entry.code
            fallback = fallback or entry.code
    return fallback


def is_known_code(classification: str, code: str, year: int | None) -> bool:
    entries = [e for e in load_code_list(classification) if e.code == code]
    return any(e.valid_in(year) for e in entries) if entries else False
