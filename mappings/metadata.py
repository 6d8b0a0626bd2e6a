"""Document metadata read from the document itself: unit, region, fiscal year, kind, date.

The unit comes from labelled lines (``单位名称：…``, ``编制部门：… 单位：元``, ``预算主管部门：…``)
where the tables print them, else from the cover's title (``江苏省政协办公厅2017年度部门预算``);
the published date from a cover line that is only a date (``2024年2月``).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from .text import clean_label, fold_width

_UNIT_LINE = re.compile(
    r"^(?:单位名称|部门名称|预算单位|编制单位|编制部门|预算主管部门|主管部门|填报单位|部门)\s*[:：]\s*(\S.+)$"
)
# what follows the unit on a caption line: ``单位：元``, ``金额单位：万元``, ``（盖章）``
_AFTER_UNIT = re.compile(r"\s*(?:(?:金额)?单位\s*[:：].*|[(（]\s*盖章\s*[)）].*)$")
# a cover title: [2017年度]<unit>[2017年度][区级]部门预算[公开]
_COVER_TITLE = re.compile(
    r"^(?:20\d{2}\s*年度?)?(?P<unit>[^0-9]{3,40}?)\s*(?:20\d{2}\s*年度?)?\s*"
    r"(?:区级|市级|省级|县级|本级)?(?:部门|单位)?(?:综合)?(?:预算|决算)"
)
# a table's number or title as a page's first line (``预算01表收支总表``, ``表1``, ``…情况表``)
_TABLE_HEADING = re.compile(
    r"^(?:\S{0,6}表\s*[0-9一二三四五六七八九十]{1,3}|\S{0,4}[0-9]{1,2}表|.{2,40}表)$"
)
_PAGE_MARK = re.compile(r"^[-—–─\s]*\d{1,3}[-—–─\s]*$|^目\s*录$")
_CN_DIGITS = {
    "〇": 0,
    "○": 0,
    "零": 0,
    "一": 1,
    "二": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_DATE_LINE = re.compile(
    r"^(?P<y>20\d{2}|二[〇○零][一二三四五六七八九〇○零]{2})\s*年\s*(?P<m>\d{1,2}|[一二三四五六七八九十]{1,3})\s*月"
    r"(?:\s*(?P<d>\d{1,2}|[一二三四五六七八九十]{1,3})\s*日)?$"
)
_ROC_YEAR = re.compile(r"(?:中華民國|中华民国|民國|民国)\s*(\d{2,3})\s*年")
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
    published: str | None = None  # 2024-02 or 2018-02-24, when the cover prints a date


def find_unit_name(page_texts: list[str]) -> str | None:
    """The unit named on ``单位名称：…`` lines (most frequent), else the one the cover's
    title names, else the cover's first line."""
    names = Counter()
    for text in page_texts:
        for line in text.splitlines():
            match = _UNIT_LINE.match(clean_label(line))
            if match:
                name = _AFTER_UNIT.sub("", match.group(1)).strip()
                if len(name) >= 2:
                    names[name] += 1
    if names:
        return names.most_common(1)[0][0]
    if (title := cover_unit(page_texts)) is not None:
        return title
    if (named := narrative_unit(page_texts)) is not None:
        return named
    for text in page_texts[:1]:
        head = [clean_label(line).replace(" ", "") for line in text.splitlines()[:3]]
        if any(_TABLE_HEADING.match(line) for line in head):
            return None  # a tables-only file opens with a table: its header words are no unit
        for line in text.splitlines():
            line = clean_label(line)
            if _PAGE_MARK.match(line) or line.endswith("表"):
                continue  # a page number or a table's title is not the unit
            sentence = any(mark in line for mark in "，,。；;：:")
            if 3 <= len(line) <= 40 and not _YEAR.search(line) and not sentence:
                return line
    return None


def cover_title(page_texts: list[str]) -> str:
    """The cover's title lines joined (a title is often broken over two or three lines),
    up to the table of contents; page numbers and date lines left out."""
    parts: list[str] = []
    for text in page_texts[:1]:
        for line in text.splitlines():
            line = clean_label(line).replace(" ", "")
            if not line or _PAGE_MARK.match(line) or _DATE_LINE.match(line):
                if parts and line.startswith("目"):
                    break
                continue
            if any(mark in line for mark in "，,。；;") or len(line) > 40:
                break
            if _TABLE_HEADING.match(line):
                break  # the first page is a table (a tables-only file): it has no cover title
            parts.append(line)
    return "".join(parts)


def cover_unit(page_texts: list[str]) -> str | None:
    """The unit a cover title names: ``江苏省政协办公厅2017年度部门预算`` → 江苏省政协办公厅
    (not a mere region: ``上海市普陀区2026年区级部门预算`` names no unit)."""
    match = _COVER_TITLE.match(cover_title(page_texts))
    if not match:
        return None
    unit = match.group("unit").strip()
    # ``北京市医疗保障局部门2026年度部门预算``: 部门 before the year belongs to the title
    trimmed = re.sub(r"(?:部门|单位)$", "", unit)
    unit = trimmed if len(trimmed) >= 3 else unit
    region = _REGION.match(unit)
    if region and region.end() == len(unit):
        return None
    return unit


_UNIT_SENTENCE = re.compile(
    r"(?:^|[。；，\n])(?P<unit>[\u4e00-\u9fff]{4,24}?(?:办公厅|办公室|委员会|人民法院|人民检察院|局|厅|院|中心|部|所|站|馆|处))"
    r"(?:20\d{2}年度?|本年|部门预算|部门决算)"
)


def narrative_unit(page_texts: list[str]) -> str | None:
    """The unit the narrative's sentences keep naming (``江苏省政协办公厅2019年度收入…``)."""
    names = Counter(
        m.group("unit")
        for text in page_texts
        for m in _UNIT_SENTENCE.finditer(
            "\n".join(clean_label(line).replace(" ", "") for line in text.splitlines())
        )
    )
    if not names:
        return None
    name, count = names.most_common(1)[0]
    return name if count >= 3 else None


def find_published(page_texts: list[str]) -> str | None:
    """A cover line that is only a date: ``2024年2月`` → ``2024-02``, ``2018年2月24日`` →
    ``2018-02-24`` (Chinese numerals too)."""
    for text in page_texts[:2]:
        for line in text.splitlines():
            match = _DATE_LINE.match(clean_label(line).replace(" ", ""))
            if not match:
                continue
            year, month, day = (
                _cn_number(match.group(k)) if match.group(k) else None for k in ("y", "m", "d")
            )
            if year and month and 1 <= month <= 12 and (day is None or 1 <= day <= 31):
                return f"{year:04d}-{month:02d}" + (f"-{day:02d}" if day else "")
    return None


def _cn_number(text: str) -> int:
    """``2024`` / ``二〇二四`` / ``十二`` as a number."""
    if text.isdigit():
        return int(text)
    if "十" in text:
        tens, _, ones = text.partition("十")
        return (_CN_DIGITS.get(tens, 1) if tens else 1) * 10 + (
            _CN_DIGITS.get(ones, 0) if ones else 0
        )
    return int("".join(str(_CN_DIGITS[ch]) for ch in text))


def find_fiscal_year(page_texts: list[str]) -> int | None:
    """The year in the cover / table-set title (``2023年单位综合预算公开``)."""
    for text in page_texts[:3]:
        for line in text.splitlines()[:8]:
            line = fold_width(line).replace(" ", "")
            if ("预算" in line or "决算" in line) and (match := _YEAR.search(line)):
                return int(match.group(1))
    counts = Counter(int(m) for text in page_texts for m in _YEAR.findall(text.replace(" ", "")))
    if counts:
        return counts.most_common(1)[0][0]
    roc = Counter(
        int(m) + 1911 for text in page_texts[:5] for m in _ROC_YEAR.findall(text.replace(" ", ""))
    )
    return roc.most_common(1)[0][0] if roc else None


def find_doc_kind(page_texts: list[str]) -> str:
    """``final_account`` when the cover's title says 决算 (else when the first pages do and
    never say 预算公开), else ``budget``."""
    title = cover_title(page_texts)
    if "决算" in title or "预算" in title:
        return "final_account" if "决算" in title and "预算" not in title else "budget"
    head = "".join(page_texts[:2]).replace(" ", "")
    return "final_account" if "决算" in head and "预算公开" not in head else "budget"


def admin_region(unit_name: str | None) -> str | None:
    """The most specific region a unit name starts with (county or district, else city)."""
    if not unit_name:
        return None
    unit_name = re.sub(r"^(?:中共|中国共产党)", "", unit_name)
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
        published=find_published(page_texts),
    )
