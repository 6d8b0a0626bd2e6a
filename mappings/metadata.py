"""Document metadata read from the document itself: unit, region, fiscal year, kind."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from .text import clean_label, fold_width

_UNIT_LINE = re.compile(r"^(?:单位名称|部门名称|预算单位|编制单位)\s*[:：]\s*(\S.+)$")
_YEAR = re.compile(r"(20\d{2})\s*年")
_REGION = re.compile(
    r"^(?P<province>[\u4e00-\u9fff]{2,3}?省)?"
    r"(?P<city>[\u4e00-\u9fff]{2,3}?(?:市|自治州|地区))?"
    r"(?P<county>[\u4e00-\u9fff]{1,3}?(?:县|区|旗))?"
)
_COUNTY_BAD_TAILS = ("社区", "园区", "城区", "辖区")


@dataclass(slots=True)
class DocumentMeta:
    unit_name: str | None = None
    unit_code: str | None = None
    admin_region: str | None = None
    fiscal_year: int | None = None
    doc_kind: str = "budget"


def find_unit_name(page_texts: list[str]) -> str | None:
    """The unit named on ``单位名称：…`` lines (most frequent), else the cover's first line."""
    names = Counter()
    for text in page_texts:
        for line in text.splitlines():
            match = _UNIT_LINE.match(clean_label(line))
            if match:
                names[match.group(1).strip()] += 1
    if names:
        return names.most_common(1)[0][0]
    for text in page_texts[:1]:
        for line in text.splitlines():
            line = clean_label(line)
            sentence = any(mark in line for mark in "，,。；;：:")
            if 3 <= len(line) <= 40 and not _YEAR.search(line) and not sentence:
                return line
    return None


def find_fiscal_year(page_texts: list[str]) -> int | None:
    """The year in the cover / table-set title (``2023年单位综合预算公开``)."""
    for text in page_texts[:3]:
        for line in text.splitlines()[:8]:
            line = fold_width(line).replace(" ", "")
            if ("预算" in line or "决算" in line) and (match := _YEAR.search(line)):
                return int(match.group(1))
    counts = Counter(int(m) for text in page_texts for m in _YEAR.findall(text.replace(" ", "")))
    return counts.most_common(1)[0][0] if counts else None


def find_doc_kind(page_texts: list[str]) -> str:
    head = "".join(page_texts[:2]).replace(" ", "")
    return "final_account" if "决算" in head and "预算公开" not in head else "budget"


def admin_region(unit_name: str | None) -> str | None:
    """The most specific region a unit name starts with (county or district, else city)."""
    if not unit_name:
        return None
    match = _REGION.match(unit_name)
    if not match:
        return None
    county = match.group("county")
    if county and not county.endswith(_COUNTY_BAD_TAILS) and len(county) >= 2:
        return county
    return match.group("city") or match.group("province")


def read_metadata(page_texts: list[str]) -> DocumentMeta:
    unit = find_unit_name(page_texts)
    return DocumentMeta(
        unit_name=unit,
        admin_region=admin_region(unit),
        fiscal_year=find_fiscal_year(page_texts),
        doc_kind=find_doc_kind(page_texts),
    )
