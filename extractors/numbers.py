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


# --------------------------------------------------------------------------- rounding
# One home for how far printed figures may disagree from rounding alone (validation's
# arithmetic checks, the OCR review, the scoring of candidate readings, the narrative
# cross-checks). A printed figure is off its true value by up to half a unit of its last
# digit; a sum of ``n`` non-zero printed addends by up to ``(n + 1) / 2`` such units in
# practice (independent roundings), never less than one; ``ROUNDING_SLACK`` units more for
# float noise and half-up rounding of 0.005.

ROUNDING_SLACK = 0.1


def printing_step(decimals: int) -> float:
    """The value of one unit of the last printed digit: 1, 0.1 or 0.01 (two or more decimals
    round at the hundredth: the tables' own arithmetic is in cents)."""
    return 1.0 if decimals <= 0 else 0.1 if decimals == 1 else 0.01


def printing_step_sql(decimals: str) -> str:
    """:func:`printing_step` of an SQL integer expression."""
    return f"(CASE WHEN {decimals} <= 0 THEN 1.0 WHEN {decimals} = 1 THEN 0.1 ELSE 0.01 END)"


def sum_tolerance(factor: float, step: float, nonzero_addends: int) -> float:
    """Yuan by which a printed total and the sum of its printed addends may differ."""
    return factor * step * (max(1.0, (nonzero_addends + 1) / 2) + ROUNDING_SLACK)


def sum_tolerance_sql(factor: str, step: str, nonzero_addends: str) -> str:
    """:func:`sum_tolerance` in SQL (real division: an integer ``n`` must not truncate)."""
    return f"{factor} * {step} * (MAX(1, ({nonzero_addends} + 1) / 2.0) + {ROUNDING_SLACK})"


def stated_tolerance_sql(decimals: str, factor: str) -> str:
    """A single figure stated with ``decimals`` digits (a sentence's 0.2 万元) against an exact
    amount: half a unit of its last digit, in yuan, and half a cent."""
    steps = " ".join(f"WHEN {d} THEN {10.0**-d!r}" for d in range(7))
    return f"0.5 * (CASE MIN({decimals}, 6) {steps} END) * {factor} + 0.005"


def printed_decimals(text: str) -> int:
    """Digits printed after the decimal point (``1,234.50`` → 2)."""
    text = "".join(text.split())
    return len(text) - text.index(".") - 1 if "." in text else 0


def unit_factor(unit_printed: str | None) -> float:
    """Yuan per printed unit (1.0 for 元, a table stating none, or an unknown unit)."""
    return MONEY_UNIT_FACTORS.get(unit_printed or "元", 1.0)


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
