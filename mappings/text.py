"""Text and number normalisation shared by every mapping rule.

Budget PDFs print the same figure and the same name in many ways (full-width digits,
thousands separators, ``-`` for blank, ``(5)`` for negatives, numbering prefixes such as
``1、`` or ``(1)``, spaces inside Chinese words from justified layout).  These helpers turn
what is printed into the contract's clean forms, and nothing else: no budget knowledge.
"""

from __future__ import annotations

import re
import unicodedata

from budget_disclosures.extractors.numbers import MONEY_UNIT_FACTORS, signed_decimal

_FULLWIDTH_OFFSET = 0xFEE0
_CJK = r"\u3400-\u9fff\uf900-\ufaff"

# Characters that mean "nothing printed" in a money cell.
BLANK_MARKERS = frozenset({"", "-", "—", "–", "－", "——", "--", "/", "*", "**"})


_FOLD_TABLE = {code: code - _FULLWIDTH_OFFSET for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}


def fold_width(text: str) -> str:
    """Fold full-width ASCII (``（１）``) to half-width and the ideographic space to a space."""
    return text.translate(_FOLD_TABLE)


_RUNS_OF_SPACE = re.compile(r"\s+")
_SPACE_AFTER_CJK = re.compile(rf"(?<=[{_CJK}（）()、：:，,\"“”])\s+")
_SPACE_BEFORE_CJK = re.compile(rf"\s+(?=[{_CJK}（）()、：:，,\"“”])")


_ANY_SPACE = re.compile(r"\s")  # (``\s`` of a str pattern is ``str.isspace``)


def squeeze_spaces(text: str) -> str:
    """Drop line breaks and spaces next to Chinese characters, keep one between Latin words."""
    if not _ANY_SPACE.search(text):
        return text  # most cells: nothing to squeeze
    text = _RUNS_OF_SPACE.sub(" ", text).strip()
    text = _SPACE_AFTER_CJK.sub("", text)
    return _SPACE_BEFORE_CJK.sub("", text)


_NUMBERING = re.compile(
    r"^(?:"
    r"[一二三四五六七八九十]+[、.．]"  # 一、
    r"|\d{1,2}\s*[、.．](?!\d)"  # 1、  1.
    r"|[(（]\s*[一二三四五六七八九十\d]{1,3}\s*[)）]"  # (1) （一）
    r"|[①-⑳]"
    r")\s*"
)


def strip_numbering(text: str) -> str:
    """Remove a leading outline number such as ``一、``, ``1、``, ``(1)``."""
    previous = None
    while previous != text:
        previous = text
        text = _NUMBERING.sub("", text, count=1)
    return text


def clean_name(text: str | None) -> str:
    """The contract's cleaned name: one line, no spaces in Chinese, half-width ASCII, no numbering."""
    if not text:
        return ""
    text = squeeze_spaces(fold_width(unicodedata.normalize("NFC", text)))
    return strip_numbering(text).strip()


def clean_label(text: str | None) -> str:
    """Like :func:`clean_name` but keeps the numbering (headers, titles, row labels)."""
    if not text:
        return ""
    return squeeze_spaces(fold_width(text))


def parse_amount(printed: str | None) -> float | None:
    """Parse a printed money figure; ``None`` for a blank cell.

    Handles thousands separators, full-width digits, ``-``/``—`` as blank, negatives printed
    as ``-5`` or ``(5)``, a trailing ``%`` is not money and gives ``None``.
    """
    if printed is None:
        return None
    text = fold_width(printed).replace(" ", "").replace("\n", "").replace("\u2212", "-")
    if text in BLANK_MARKERS:
        return None
    value = signed_decimal(text)
    return None if value is None else float(value)


def is_amount(printed: str | None) -> bool:
    """True when the text is a printed money figure (not blank)."""
    return parse_amount(printed) is not None


UNIT_FACTORS = MONEY_UNIT_FACTORS


def to_yuan(amount: float, unit: str) -> float:
    """Scale a figure printed in ``unit`` to yuan, rounded to the fen to undo float noise."""
    return round(amount * UNIT_FACTORS[unit], 2)


_UNIT = re.compile(r"(?:金额)?单位\s*[:：]\s*(千元|万元|亿元|元)")


def find_money_unit(text: str) -> str | None:
    """The unit a table states (``单位：万元``), if any."""
    match = _UNIT.search(fold_width(text).replace(" ", ""))
    return match.group(1) if match else None


_CODE_ONLY = re.compile(r"^\d{3}(?:\d{2}){0,2}$")
# a code and its name in one cell: ``2010350 事业运行``, ``[201]一般公共服务支出`` (code in
# brackets), ``2050803-培训支出`` (code and name joined by a hyphen)
_CODE_NAME = re.compile(
    r"^[\[【]?(\d{3}(?:\d{2}){0,2})(?:[\]】]|\s*[-－—–]\s*(?=\D))?\s*(\D.*)?$", re.S
)


def split_code_name(text: str) -> tuple[str | None, str]:
    """Split ``2010350 事业运行`` into code and name (a code and a name printed in one cell)."""
    text = fold_width(text).strip()
    match = _CODE_NAME.match(text)
    if match and (match.group(2) or _CODE_ONLY.match(text)):
        return match.group(1), clean_name(match.group(2) or "")
    return None, clean_name(text)


def is_code(text: str | None) -> bool:
    """True for a 3-, 5- or 7-digit classification code."""
    return bool(text) and bool(_CODE_ONLY.match(fold_width(text).strip()))


_CN_DIGIT = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_UNDER_100 = re.compile(
    r"^(?:(?P<digit>[一二三四五六七八九])"  # 一 … 九
    r"|(?P<tens>[一二三四五六七八九])?十(?P<ones>[一二三四五六七八九])?)$"  # 十, 十二, 二十一
)


def chinese_number(text: str) -> int:
    """The value of a Chinese numeral from 一 (1) to 九十九 (99), as tables are numbered (表十二).

    Strict, so a stray character is an error rather than a wrong table number: ``十二`` is 12
    (``一十二`` too), ``二十`` 20, ``二十一`` 21; ``十十``, ``二二`` or ``百`` raise
    :class:`ValueError`.
    """
    match = _CN_UNDER_100.match(text.strip())
    if match is None:
        raise ValueError(f"not a Chinese numeral from 一 to 九十九: {text!r}")
    if match["digit"]:
        return _CN_DIGIT[match["digit"]]
    tens = _CN_DIGIT[match["tens"]] if match["tens"] else 1
    return tens * 10 + (_CN_DIGIT[match["ones"]] if match["ones"] else 0)
