"""The printed-figure grammar shared by the readers and the mappings.

One definition of what a figure looks like once its text is normalised (``1,234.50``,
``-5``, ``(5)``, ``+5``), so the OCR review and the contract mapping never disagree about
which cells hold numbers.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

# yuan per printed money unit: the one table every room reads (mappings, OCR review, validation
# SQL, linking, benchmarks)
MONEY_UNIT_FACTORS: dict[str, float] = {
    "元": 1.0,
    "千元": 1_000.0,
    "万元": 10_000.0,
    "亿元": 100_000_000.0,
}


def unit_factor_sql(column: str) -> str:
    """The SQL CASE giving yuan per unit for a unit column (1.0 when the unit is unknown)."""
    whens = " ".join(
        f"WHEN '{unit}' THEN {factor!r}" for unit, factor in MONEY_UNIT_FACTORS.items()
    )
    return f"CASE {column} {whens} ELSE 1.0 END"


FIGURE = re.compile(r"^[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?$")


def signed_decimal(text: str) -> Decimal | None:
    """A normalised figure's value (negatives as ``-5`` or ``(5)``); None when not a figure."""
    negative = False
    if text.startswith("(") and text.endswith(")"):
        negative, text = True, text[1:-1]
    if text.startswith("-"):
        negative, text = (not negative), text[1:]
    elif text.startswith("+"):
        text = text[1:]
    if not FIGURE.match(text):
        return None
    try:
        value = Decimal(text.replace(",", ""))
    except InvalidOperation:  # pragma: no cover - guarded by the regex
        return None
    return -value if negative else value
