"""The narrative of a disclosure: clean sections, the figures it states, and cross-checks.

Every disclosure opens with pages of prose (duties, internal bodies, the year's tasks,
staffing, an explanation of each figure, 三公经费, vehicles, performance targets).  The PDF
text arrives broken: lines cut at every line end, page numbers and running headers inside
paragraphs, paragraphs cut across pages, punctuation printed on its own baseline, text drawn
twice, headings numbered 一、 / （一） / 1. in several styles.  This module repairs it in
three steps, each a plain function of plain records:

1. :func:`narrative_page_lines` — per page, from the page's characters and the grids found
   on it: text lines of the prose only (characters inside table grids, off the page or
   drawn twice are dropped; punctuation printed off the baseline rejoins its line; table
   captions above a grid go too).  Table pages give no lines.
2. :func:`read_paragraphs` — over the pages of one document: table-of-contents pages,
   page numbers, running headers/footers and layout-glitch duplicates removed; broken lines
   joined back into paragraphs (Chinese joins without a space, Latin words with one),
   also across page breaks.
3. :func:`build_sections` — the paragraphs split at the heading hierarchy (第一部分 →
   一、 → （一）/1、 kept in the text) into ``sections`` rows; :func:`extract_facts` reads
   the stated figures into ``facts`` rows by the patterns of ``mappings/facts.yml``;
   :func:`cross_check_totals` compares stated totals with the tables' ``line_items``.
"""

from __future__ import annotations

import re
import sqlite3
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from budget_disclosures.extractors.base import Char, PageContent, RawGrid, TextLine
from budget_disclosures.extractors.numbers import MONEY_UNIT_FACTORS, stated_tolerance_sql

from .models import FactRule, FactVocabulary

# --------------------------------------------------------------------------- characters

_CJK = "\u3400-\u9fff\uf900-\ufaff"
# Full-width and CJK punctuation: no space is ever printed next to these in Chinese text.
_CJK_PUNCT = "\u3000-\u303f\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65\u2018-\u201f\u2026\u2014\u00b7"
_TIGHT = f"{_CJK}{_CJK_PUNCT}"
_PUNCT_ONLY = re.compile(rf"^[{_CJK_PUNCT},.;:!?()\[\]、]+$")
_SPACE_AFTER_TIGHT = re.compile(rf"(?<=[{_TIGHT}(\[])\s+")
_SPACE_BEFORE_TIGHT = re.compile(rf"\s+(?=[{_TIGHT})\]])")

# Characters within this many points of a grid's box belong to the table.
GRID_MARGIN = 2.0


def clean_text(text: str) -> str:
    """One line of prose, cleaned: no spaces next to Chinese characters or punctuation
    (justified layout and font changes print them), one space between Latin words."""
    text = re.sub(r"\s+", " ", text).strip()
    text = _SPACE_AFTER_TIGHT.sub("", text)
    return _SPACE_BEFORE_TIGHT.sub("", text)


def join_text(left: str, right: str) -> str:
    """Join two pieces of one paragraph: Chinese joins without a space, Latin words with one."""
    if not left or not right:
        return left + right
    a, b = left[-1], right[0]
    if a.isascii() and b.isascii() and a.isalnum() and b.isalnum() and (a.isalpha() or b.isalpha()):
        return f"{left} {right}"
    if a == "-" and len(left) > 1 and left[-2].isascii() and left[-2].isalpha() and b.islower():
        return left[:-1] + right  # a Latin word hyphenated at the line end
    return left + right


def _em(char: Char) -> float:
    """A glyph's em: its font size, unless the reader reports a scaled size (PDFium says 240
    or 1 for a 12 pt glyph on some producers); the glyph box height is then the measure."""
    height = char.bottom - char.top
    if height <= 0:
        return max(char.size, 1.0)
    if 0.5 * height <= char.size <= 1.6 * height:
        return char.size
    return 0.9 * height


def _inside(char: Char, box: tuple[float, float, float, float]) -> bool:
    x0, top, x1, bottom = box
    return (
        x0 - GRID_MARGIN <= char.xc <= x1 + GRID_MARGIN
        and top - GRID_MARGIN <= char.yc <= bottom + GRID_MARGIN
    )


def _drop_overprint(chars: list[Char]) -> list[Char]:
    """Text drawn twice (fake bold, layout glitches) gives each glyph twice at the same
    spot; keep one."""
    kept: list[Char] = []
    seen: dict[str, list[Char]] = defaultdict(list)
    for char in chars:
        em = _em(char)
        twins = seen[char.text]
        if any(abs(o.x0 - char.x0) < 0.3 * em and abs(o.top - char.top) < 0.3 * em for o in twins):
            continue
        twins.append(char)
        kept.append(char)
    return kept


def _rows(chars: list[Char]) -> list[list[Char]]:
    """Characters clustered by baseline; punctuation and superscript-like glyphs printed a
    little off the baseline (a comma of another font, the 一 of ``第 一 部分``) join the
    row whose vertical span holds their centre."""
    ordered = sorted(chars, key=lambda c: c.yc)
    rows: list[list[Char]] = []
    for char in ordered:
        tolerance = 0.25 * _em(char)
        if rows and abs(rows[-1][-1].yc - char.yc) <= max(tolerance, 1.5):
            rows[-1].append(char)
        else:
            rows.append([char])
    hosts = [r for r in rows if not _is_satellite(r, rows)]
    if len(hosts) == len(rows):
        return rows
    merged = {id(r): list(r) for r in hosts}
    for row in rows:
        if any(row is h for h in hosts):
            continue
        host = _host_of(row, hosts)
        if host is None:
            merged[id(row)] = list(row)
            hosts.append(row)
        else:
            merged[id(host)].extend(row)
    return sorted(merged.values(), key=lambda r: min(c.top for c in r))


def _is_satellite(row: list[Char], rows: list[list[Char]]) -> bool:
    text = "".join(c.text for c in row)
    if _PUNCT_ONLY.match(text):
        return True
    if len(row) > 3:
        return False
    height = max(c.bottom for c in row) - min(c.top for c in row)
    others = [max(c.bottom for c in r) - min(c.top for c in r) for r in rows if len(r) > 3]
    return bool(others) and height < 0.75 * statistics.median(others)


def _host_of(row: list[Char], hosts: list[list[Char]]) -> list[Char] | None:
    """The row a satellite belongs to: its centre inside the row's span; of several such
    rows (tall glyph boxes overlap), the one whose baseline is nearest."""
    yc = sum(c.yc for c in row) / len(row)
    bottom_of_row = max(c.bottom for c in row)
    x0, x1 = min(c.x0 for c in row), max(c.x1 for c in row)
    best: tuple[float, list[Char]] | None = None
    for host in hosts:
        if len(host) <= 3:
            continue
        top, bottom = min(c.top for c in host), max(c.bottom for c in host)
        em = statistics.median(_em(c) for c in host)
        if (
            top - 0.5 <= yc <= bottom + 0.5
            and min(c.x0 for c in host) - em <= x1
            and x0 <= max(c.x1 for c in host) + em
        ):
            distance = abs(bottom - bottom_of_row)
            if best is None or distance < best[0]:
                best = (distance, host)
    return best[1] if best else None


def _row_line(row: list[Char]) -> TextLine:
    """One row as one line: a space where the glyph gap is wide (Latin words, font changes)."""
    row = sorted(row, key=lambda c: c.x0)
    parts = [row[0].text]
    for prev, char in zip(row, row[1:]):
        em = max(_em(prev), _em(char))
        if char.x0 - prev.x1 > 0.3 * em:
            parts.append(" ")
        parts.append(char.text)
    body = [c for c in row if not _PUNCT_ONLY.match(c.text)] or row
    # the size of the Chinese text: digits and Latin often come in another font and size
    cjk = [c for c in body if "\u3400" <= c.text <= "\u9fff"] or body
    return TextLine(
        "".join(parts).strip(),
        row[0].x0,
        max(c.x1 for c in row),
        min(c.top for c in body),
        max(c.bottom for c in body),
        statistics.median(_em(c) for c in cjk),
    )


_CAPTION = re.compile(
    r"^(?:(?:金额)?单位|编制(?:单位|部门)|部门|单位名称)\s*[:：]|^表\s*[0-9一二三四五六七八九十]|^公开\d+表"
)


def _drop_captions(
    lines: list[TextLine], boxes: list[tuple[float, float, float, float]], width: float
) -> list[TextLine]:
    """A table's caption lines (title, 单位：万元) just above its grid go with the table."""
    drop: set[int] = set()
    for x0, top, x1, _bottom in boxes:
        above = sorted(
            (i for i, line in enumerate(lines) if line.bottom <= top + GRID_MARGIN),
            key=lambda i: -lines[i].bottom,
        )
        limit = top
        for index in above:
            line = lines[index]
            em = max(line.bottom - line.top, 1.0)
            if line.bottom < limit - 2.5 * em:
                break
            text = clean_text(line.text)
            centred = abs(
                (line.x0 + line.x1) / 2 - (x0 + x1) / 2
            ) < 0.08 * width and line.x1 - line.x0 < 0.7 * (x1 - x0)
            short = len(text) <= 30 and not text.endswith(("。", "；", "，"))
            label = (
                short and len(text) <= 30 and re.search(r"[:：]\S", text) is not None
            )  # 保密审查情况：已审查
            if not (_CAPTION.match(text) or (centred and short) or label):
                break
            drop.add(index)
            limit = line.top
    return [line for i, line in enumerate(lines) if i not in drop]


_CJK_PAIR = re.compile(rf"[{_CJK}]( ?)(?=[{_CJK}])")


def _spread_out(lines: list[TextLine]) -> bool:
    """Most neighbouring Chinese characters stand apart: the page's text runs vertically
    (a rotated table) or is letter-spaced, it is not prose."""
    pairs = [m.group(1) for line in lines for m in _CJK_PAIR.finditer(line.text)]
    return len(pairs) >= 20 and sum(1 for gap in pairs if gap) > 0.4 * len(pairs)


def _is_frame(grid: RawGrid, page: PageContent) -> bool:
    """A border drawn around the whole page (or one big box) is not a table."""
    x0, top, x1, bottom = grid.bbox
    if grid.n_cols <= 1:
        return True  # one column: a box or underlined lines around text, not a table
    return (x1 - x0) > 0.92 * page.width and (bottom - top) > 0.92 * page.height


def narrative_page_lines(
    page: PageContent, grids: Sequence[RawGrid] = (), ocr: bool = False
) -> list[TextLine]:
    """The prose lines of one page, repaired, in reading order; ``[]`` for a table page or
    a page without a usable text layer (``ocr``: the characters are what OCR read)."""
    if not page.chars or not (ocr or page.text_layer == "text"):
        return []
    chars = [
        c
        for c in page.chars
        if c.upright
        and c.text.strip()
        and c.top >= -1
        and c.bottom <= page.height + 1
        and c.x0 >= -1
        and c.x1 <= page.width + 1
    ]
    if not chars:
        return []
    boxes = [g.bbox for g in grids if not _is_frame(g, page)]
    prose = [c for c in chars if not any(_inside(c, b) for b in boxes)]
    prose = _drop_overprint(prose)
    if not prose:
        return []
    lines = [_row_line(row) for row in _rows(prose)]
    if _spread_out(lines):
        return []  # rotated or letter-spaced text: table headers, not prose
    if boxes:
        # prose never shares a band of the page with a table: labels beside a grid go too
        lines = [
            line
            for line in lines
            if not any(
                top - GRID_MARGIN <= (line.top + line.bottom) / 2 <= bottom + GRID_MARGIN
                for _x0, top, _x1, bottom in boxes
            )
        ]
        lines = _drop_captions(lines, boxes, page.width)
    if ocr:
        lines = [
            TextLine(
                _ocr_punctuation(line.text), line.x0, line.x1, line.top, line.bottom, line.size
            )
            for line in lines
        ]
    return sorted(lines, key=lambda line: (round(line.top, 1), line.x0))


_OCR_PUNCT = {"(": "（", ")": "）", ":": "：", ";": "；", ",": "，", "?": "？", "!": "！"}


def _is_cjk(ch: str) -> bool:
    return "\u3400" <= ch <= "\u9fff" or "\uff00" <= ch <= "\uffef" or "\u3000" <= ch <= "\u303f"


def _ocr_punctuation(text: str) -> str:
    """OCR cannot tell ``(`` from ``（``: next to Chinese text, punctuation is full width
    (and a bracket closes in the width it opened in)."""
    out = list(text)
    opened: list[bool] = []
    for i, ch in enumerate(text):
        before = text[i - 1] if i else ""
        after = text[i + 1] if i + 1 < len(text) else ""
        near = _is_cjk(before) or _is_cjk(after)
        if ch == "(":
            opened.append(near)
            if near:
                out[i] = "（"
        elif ch == ")":
            wide = opened.pop() if opened else False
            if wide or near:
                out[i] = "）"
        elif ch in _OCR_PUNCT and _is_cjk(before):
            out[i] = _OCR_PUNCT[ch]
    return "".join(out)


# --------------------------------------------------------------------------- paragraphs

_PART = re.compile(r"^第\s*([一二三四五六七八九十]+)\s*部\s*分\s*(.*)$")
_LEVEL1 = re.compile(
    r"^([一二三四五六七八九十]{1,3})\s*[、.．]\s*(?![一二三四五六七八九十][、，,])(\S.*)$"
)
_ITEM = re.compile(
    r"^(?:[（(]\s*[一二三四五六七八九十\d]{1,3}\s*[)）]"  # （一） (1)
    r"|\d{1,2}\s*[、.．](?!\d)"  # 1、 1.
    r"|[①-⑳]"
    r"|[一二三四五六七八九十]{1,3}是)"  # 一是
)
_PAGE_NUMBER = re.compile(
    r"^(?:[-—–－‐─━]?\s*\d{1,4}\s*[-—–－‐─━]?"
    r"|第\s*\d+\s*页(?:\s*[,，]?\s*共\s*\d+\s*页)?"
    r"|\d{1,4}\s*/\s*\d{1,4}"
    r"|[Pp]age\s*\d+(?:\s*of\s*\d+)?)$"
)
_DOT_LEADER = re.compile(r"[.…·．。]{4,}\s*\d*\s*$|…{2,}")
_TOC_TITLE = re.compile(r"^目\s*录$")
_TABLE_NOTE = re.compile(r"^(?:注|备注|说明)\s*\d?\s*[:：]")
_EMPTY_TABLE_NOTE = re.compile(r"^(?:注|备注|说明)\s*\d?\s*[:：].*(?:本表|此表|空表|无数据)")
_TABLE_NUMBER = re.compile(r"^(?:表[0-9一二三四五六七八九十]+(?:-[0-9]+)?|公开\d+表|附表\d+)$")
_AMOUNT_IN_TEXT = re.compile(r"\d\s*(?:万元|元|亿元|千元|%)")
_TERMINAL = ("。", "！", "？", "；", "!", "?", ";", "…")
_CLOSING = "”’」』）)】"
_NO_LINE_START = "、。，；：？！）」』”’】,.;:?!)%"


@dataclass(slots=True)
class Line:
    """A prose line with what paragraph building needs to know about it."""

    text: str  # cleaned
    x0: float
    x1: float
    top: float
    bottom: float
    size: float
    page: int
    geometry: Geometry | None = None

    @property
    def em(self) -> float:
        return self.size if self.size > 0 else max(self.bottom - self.top, 1.0) * 0.95


@dataclass(slots=True)
class Geometry:
    """The text block of pages of one size: left margin, right margin, em."""

    left: float
    right: float
    em: float
    left_support: int = 0  # lines starting at the left margin

    @property
    def centre(self) -> float:
        return (self.left + self.right) / 2


@dataclass(slots=True)
class Paragraph:
    """Lines joined back into one paragraph; ``kind`` is part / title / level1 / body."""

    kind: str
    text: str
    pages: list[int]
    size: float
    offsets: list[tuple[int, int]] = field(default_factory=list)  # (char offset, page)
    label: str | None = None  # 第二部分, 三
    heading: str | None = None

    @property
    def page_first(self) -> int:
        return self.pages[0]

    @property
    def page_last(self) -> int:
        return self.pages[-1]

    def page_at(self, offset: int) -> int:
        """The page the character at ``offset`` was printed on."""
        page = self.pages[0]
        for start, number in self.offsets:
            if start > offset:
                break
            page = number
        return page


@dataclass(slots=True)
class NarrativePage:
    number: int
    width: float
    height: float
    lines: list[TextLine]


def _is_toc_page(lines: list[TextLine]) -> bool:
    texts = [clean_text(line.text) for line in lines]
    if any(_TOC_TITLE.match(t) for t in texts[:6]):
        return True
    return sum(bool(_DOT_LEADER.search(t)) for t in texts) >= 3


def _after_toc(lines: list[TextLine]) -> list[TextLine]:
    """Lines a wide gap sets apart below a table of contents (where the text begins)."""
    ordered = sorted(lines, key=lambda line: line.top)
    em = statistics.median(max(line.bottom - line.top, 1.0) for line in ordered)
    for index in range(len(ordered) - 1, 0, -1):
        if ordered[index].top - ordered[index - 1].bottom > 3 * em:
            tail = ordered[index:]
            if any(
                _PART.match(clean_text(line.text)) or _LEVEL1.match(clean_text(line.text))
                for line in tail
            ):
                return tail
            return []
    return []


def _heading_like(text: str) -> bool:
    return bool(
        (_PART.match(text) or _LEVEL1.match(text) or _ITEM.match(text) or _DOT_LEADER.search(text))
        and len(text) <= 60
        and not text.rstrip(_CLOSING).endswith(("。", "；"))
    )


def _merge_row_segments(lines: list[TextLine]) -> list[TextLine]:
    """Segments printed on one baseline (wide gaps) become one line."""
    out: list[TextLine] = []
    for line in sorted(lines, key=lambda item: (round(item.top), item.x0)):
        if (
            out
            and abs(out[-1].top - line.top) < 0.5 * max(line.bottom - line.top, 1.0)
            and line.x0 >= out[-1].x1
        ):
            prev = out[-1]
            out[-1] = TextLine(
                f"{prev.text} {line.text}",
                prev.x0,
                line.x1,
                min(prev.top, line.top),
                max(prev.bottom, line.bottom),
                max(prev.size, line.size),
            )
        else:
            out.append(line)
    return out


_TABULAR = re.compile(r"(?:(?:^|\s)[-—－](?=\s|$).*){2,}|(?:(?:^|\s)[\d,.%]+(?=\s|$).*){3,}")


def _is_prose_page(lines: list[TextLine]) -> bool:
    """Vertical text (rotated pages, 本頁空白), number columns and table rows printed without
    rules are not prose."""
    texts = [clean_text(line.text) for line in lines]
    texts = [t for t in texts if t and not _PAGE_NUMBER.match(t.replace(" ", ""))]
    if not texts:
        return False
    if len(texts) >= 3 and sum(1 for t in texts if len(t) <= 2) >= 0.75 * len(texts):
        return False
    if statistics.median(len(t) for t in texts) < 4 and len(texts) > 6:
        return False
    numeric = sum(1 for t in texts if sum(ch.isdigit() for ch in t) > 0.5 * len(t))
    tabular = sum(1 for line in lines if _TABULAR.search(line.text))
    return numeric <= 0.5 * len(texts) and tabular < 0.5 * len(texts)


def _furniture(pages: list[NarrativePage]) -> set[tuple[int, int]]:
    """(page, line index) of page numbers, running headers/footers and glitch duplicates."""
    drop: set[tuple[int, int]] = set()
    pages_by_number = {page.number: page for page in pages}
    edge_keys: dict[tuple[int, int], str] = {}
    key_pages: dict[str, set[int]] = defaultdict(set)
    for page in pages:
        n = len(page.lines)
        for index, line in enumerate(page.lines):
            text = clean_text(line.text)
            edge = index < 2 or index >= n - 2
            margin = line.top < 0.12 * page.height or line.bottom > 0.86 * page.height
            # a bare number closing a page is its number wherever the footer sits
            if _PAGE_NUMBER.match(text.replace(" ", "")) and (edge and margin or index == n - 1):
                drop.add((page.number, index))
                continue
            if not edge or not margin:
                continue
            key = re.sub(r"\d+", "#", text.replace(" ", ""))
            if len(key) >= 2 and not text.endswith(_TERMINAL):
                edge_keys[(page.number, index)] = key
                key_pages[key].add(page.number)
    n_pages = sum(1 for p in pages if p.lines)
    texts_of: dict[str, dict[int, str]] = defaultdict(dict)
    for (number, index), key in edge_keys.items():
        texts_of[key][number] = clean_text(pages_by_number[number].lines[index].text)
    headers = {
        key
        for key, pages_seen in key_pages.items()
        if len(pages_seen) >= 3 and len(pages_seen) >= 0.3 * n_pages and _running(texts_of[key])
    }
    drop.update(where for where, key in edge_keys.items() if key in headers)
    # a layout glitch prints the end of the previous page again at the top of the next
    previous: list[str] = []
    for page in pages:
        texts = [clean_text(line.text) for line in page.lines]
        kept = [i for i in range(len(texts)) if (page.number, i) not in drop]
        repeated = _repeated_tail(previous, [texts[i] for i in kept])
        if repeated >= 2:
            drop.update((page.number, i) for i in kept[:repeated])
        previous = [texts[i] for i in range(len(texts)) if (page.number, i) not in drop]
    return drop


def _repeated_tail(previous: list[str], current: list[str]) -> int:
    """k when the page's first k lines are the previous page's last k lines."""
    for start in range(len(previous)):
        tail = previous[start:]
        if current[: len(tail)] == tail:
            return len(tail)
    return 0


def _running(texts: dict[int, str]) -> bool:
    """The same line on many pages is a running header or footer when it is printed
    identically, or when only a page number in it changes with the page."""
    if len(set(texts.values())) == 1:
        return True
    return _page_column(texts)


def _page_column(texts: dict[int, str]) -> bool:
    """Some number in the line is the page number plus a constant on every page."""
    numbers = {page: [int(d) for d in re.findall(r"\d+", text)] for page, text in texts.items()}
    width = {len(v) for v in numbers.values()}
    if len(width) != 1:
        return False
    for column in range(width.pop()):
        if len({values[column] - page for page, values in numbers.items()}) == 1:
            return True
    return False


def _geometry(lines: list[Line], min_support: int = 2) -> Geometry:
    """Left margin: the leftmost x0 that many lines share; right margin: where full lines end."""
    lines = [line for line in lines if len(line.text) >= 8] or lines
    ems = [line.em for line in lines]
    em = statistics.median(ems) if ems else 10.0
    x0s = sorted(line.x0 for line in lines)
    need = max(min_support, int(0.1 * len(lines)))
    left, support = (x0s[0], 1) if x0s else (0.0, 0)
    for x in x0s:
        count = sum(1 for y in x0s if abs(y - x) <= 1.5)
        if count >= need:
            left, support = x, count
            break
    widest = max((line.x1 for line in lines), default=left + 1)
    long_lines = [line.x1 for line in lines if line.x1 - line.x0 >= 0.6 * (widest - left)]
    right = statistics.median(long_lines) if long_lines else widest
    return Geometry(left, right, em, support)


def _lines_of(pages: list[NarrativePage]) -> list[Line]:
    drop = _furniture(pages)
    out: list[Line] = []
    by_shape: dict[tuple[int, int], list[Line]] = defaultdict(list)
    for page in pages:
        kept = [line for i, line in enumerate(page.lines) if (page.number, i) not in drop]
        for line in _merge_row_segments(kept):
            text = clean_text(line.text)
            if not text:
                continue
            item = Line(text, line.x0, line.x1, line.top, line.bottom, line.size, page.number)
            out.append(item)
            by_shape[(round(page.width), round(page.height))].append(item)
    # the text block of each page, when it has enough lines to tell, else of all its size
    shape_geometry = {shape: _geometry(shape_lines) for shape, shape_lines in by_shape.items()}
    for page in pages:
        page_lines = [line for line in out if line.page == page.number]
        geometry = shape_geometry.get((round(page.width), round(page.height)))
        if geometry is None:
            continue
        if sum(1 for line in page_lines if len(line.text) >= 8) >= 6:
            own = _geometry(page_lines, min_support=3)
            left = own.left if own.left_support >= 3 else geometry.left
            right = (
                own.right if abs(own.right - geometry.right) < 4 * geometry.em else geometry.right
            )
            geometry = Geometry(left, right, geometry.em, own.left_support)
        for line in page_lines:
            line.geometry = geometry
    return out


def _full(line: Line, after: Line | None = None) -> bool:
    """The line runs to the right margin: the paragraph goes on (Chinese wraps anywhere, so
    a wrapped line ends within about an em of the margin; a number or Latin word that did
    not fit leaves more room)."""
    geo = line.geometry
    assert geo is not None
    slack = 1.6 * geo.em
    if after is not None:
        token = re.match(r"[（(]?[0-9A-Za-z.,%\-]+[)）]?", after.text)
        if token:
            slack += sum(geo.em if ord(ch) > 0x2000 else 0.55 * geo.em for ch in token.group(0))
        elif len(after.text) > 1 and after.text[1] in _NO_LINE_START:
            slack += geo.em  # 避头尾: the character before 、。， moved down with it
    return line.x1 >= geo.right - slack


def _centred(line: Line) -> bool:
    geo = line.geometry
    assert geo is not None
    return (
        abs((line.x0 + line.x1) / 2 - geo.centre) < 0.75 * geo.em
        and line.x0 > geo.left + 3 * geo.em
        and line.x1 < geo.right - 3 * geo.em
    )


def _indented(line: Line) -> bool:
    geo = line.geometry
    assert geo is not None
    return line.x0 > geo.left + 0.8 * geo.em


def _kind(line: Line, prev: Line | None, prev_kind: str | None) -> str:
    """part / level1 / title / item / body for a line that may start a paragraph."""
    text = line.text
    wrapped = (
        prev is not None and prev.page == line.page and _full(prev, line) and not _indented(line)
    )
    wrapped = (
        wrapped
        and not prev.text.rstrip(_CLOSING).endswith(_TERMINAL)
        and prev_kind not in ("part", "title")
    )
    if _PART.match(text) and not wrapped:
        return "part"
    if _LEVEL1.match(text) and not wrapped and len(text) <= 80:
        return "level1"
    geo = line.geometry
    assert geo is not None
    if (
        (_centred(line) or line.em >= 1.3 * geo.em)
        and len(text) <= 30
        and not text.startswith(("（", "("))
        and "。" not in text
        and not text.endswith(("；", "，"))
        and not _ITEM.match(text)
        and not _AMOUNT_IN_TEXT.search(text)
    ):
        return "title"
    if _ITEM.match(text):
        return "item"
    return "body"


def _starts_paragraph(
    prev: Line, line: Line, kind: str, prev_para_kind: str, first_of_paragraph: Line
) -> bool:
    """Whether ``line`` starts a new paragraph after ``prev`` (the last line so far)."""
    if kind in ("part", "level1"):
        return True
    geo = line.geometry
    assert geo is not None
    same_style = abs(line.size - prev.size) <= 0.08 * max(prev.size, line.size)
    if prev_para_kind == "title":
        return not (
            kind == "title"
            and same_style
            and line.page == prev.page
            and line.top - prev.bottom < 2 * geo.em
        )
    if (
        prev_para_kind == "part"
        and kind == "title"
        and same_style
        and line.page == prev.page
        and line.top - prev.bottom < 2 * geo.em
    ):
        return False  # a centred part heading printed on two lines
    if prev_para_kind in ("part", "level1"):
        # a heading wrapped onto a second line (at the margin, or centred under a title)
        after = None if line.text[:1].isascii() else line  # a heading does not wrap before a number
        return not (same_style and _full(prev, after) and (not _indented(line) or kind == "title"))
    if kind == "title":
        return True
    if not same_style and not (_full(prev, line) and not _indented(line)):
        return True
    if line.page == prev.page and line.top - prev.bottom > 2.5 * geo.em:
        return True
    if not _full(prev, line):
        return not _broken_sentence(prev, line, kind, first_of_paragraph)
    ended = prev.text.rstrip(_CLOSING).endswith(_TERMINAL)
    if line.x0 > prev.x0 + 0.8 * geo.em:
        # starts right of the line above: a new (indented) paragraph, unless a hanging
        # indent aligns an item's wrapped lines right of its number
        hanging = (
            _ITEM.match(first_of_paragraph.text) and line.x0 > first_of_paragraph.x0 + 0.8 * geo.em
        )
        return not (hanging and kind != "item")
    if (
        ended
        and prev is first_of_paragraph
        and _indented(prev)
        and abs(line.x0 - prev.x0) < 0.5 * geo.em
    ):
        return True  # two one-line paragraphs at the same indent
    if ended and prev.x1 < geo.right - 0.8 * geo.em:
        return True  # a sentence ends with room left on its line: the paragraph ended
    return bool(kind == "item" and ended)


def _broken_sentence(prev: Line, line: Line, kind: str, first_of_paragraph: Line) -> bool:
    """A short line that stops mid-sentence (a manual line break in the source) and a next
    line at the left margin: the sentence goes on.  A one-line sub-heading (``（一）…情况``)
    does not."""
    geo = prev.geometry
    assert geo is not None
    if (
        prev.text.rstrip(_CLOSING).endswith((*_TERMINAL, "：", ":"))
        or kind == "item"
        or _centred(line)
    ):
        return False
    if (
        prev is first_of_paragraph
        and (_ITEM.match(prev.text) or _indented(prev))
        and "，" not in prev.text
        and len(prev.text) < 40
    ):
        return False  # a one-line sub-heading
    if line.page != prev.page:
        return False
    return prev.x1 - prev.x0 >= 0.5 * (geo.right - geo.left)


def _is_table_page(lines: list[TextLine]) -> bool:
    """A table page whose grid was not found (an empty form): it opens with ``表N``."""
    return any(_TABLE_NUMBER.match(clean_text(line.text).replace(" ", "")) for line in lines[:3])


def _has_prose(lines: list[TextLine]) -> bool:
    """A page the tables were placed on still carries narrative: a heading, or a line of
    prose that is not a table's caption or note."""
    for line in lines:
        text = clean_text(line.text)
        if _PART.match(text) or _LEVEL1.match(text):
            return True
        if len(text) >= 20 and not _TABLE_NOTE.match(text) and not _CAPTION.match(text):
            return True
    return False


def read_paragraphs(pages: list[NarrativePage], table_pages: Iterable[int] = ()) -> list[Paragraph]:
    """The prose of a document as paragraphs, in reading order (see the module docstring).

    ``table_pages`` are pages the table identification placed a table on: skipped."""
    usable: list[NarrativePage] = []
    table_pages = set(table_pages)
    toc = False
    for page in pages:
        lines = [line for line in page.lines if line.text.strip()]
        if page.number in table_pages:
            # a table's page: only the narrative before or after the table is kept
            lines = (
                [line for line in lines if not _TABLE_NOTE.match(clean_text(line.text))]
                if _has_prose(lines)
                else []
            )
        lines = [line for line in lines if not _EMPTY_TABLE_NOTE.match(clean_text(line.text))]
        if not lines or not _is_prose_page(lines) or _is_table_page(lines):
            toc = False
            continue
        if _is_toc_page(lines):
            toc = True
            lines = _after_toc(lines)  # the first part's heading may follow the contents
            if not lines:
                continue
        if toc:
            texts = [clean_text(line.text) for line in lines]
            if len(texts) <= 40 and sum(_heading_like(t) for t in texts) >= 0.8 * len(texts):
                continue
            toc = False
        usable.append(NarrativePage(page.number, page.width, page.height, lines))
    lines = _lines_of(usable)
    paragraphs: list[Paragraph] = []
    current: list[Line] = []
    current_kind = "body"
    prev: Line | None = None
    for line in lines:
        kind = _kind(line, prev, current_kind)
        if prev is None or _starts_paragraph(prev, line, kind, current_kind, current[0]):
            if current:
                paragraphs.append(_paragraph(current, current_kind))
            current, current_kind = [line], ("body" if kind == "item" else kind)
        else:
            current.append(line)
        prev = line
    if current:
        paragraphs.append(_paragraph(current, current_kind))
    return paragraphs


def _paragraph(lines: list[Line], kind: str) -> Paragraph:
    text = ""
    offsets: list[tuple[int, int]] = []
    for line in lines:
        if not offsets or offsets[-1][1] != line.page:
            offsets.append((len(text), line.page))
        text = join_text(text, line.text)
    pages = sorted({line.page for line in lines})
    paragraph = Paragraph(kind, text, pages, lines[0].size, offsets)
    if kind == "part":
        match = _PART.match(text)
        assert match
        paragraph.label = f"第{match.group(1)}部分"
        paragraph.heading = match.group(2).strip() or None
    elif kind == "level1":
        match = _LEVEL1.match(text)
        assert match
        paragraph.label = match.group(1)
        paragraph.heading = match.group(2)
    elif kind == "title":
        paragraph.heading = text
    return paragraph


# --------------------------------------------------------------------------- sections

# A preamble (text under a part or title before its first numbered section) shorter than
# this is a pointer such as （详见附表）, not a section.
MIN_PREAMBLE = 20
_HEADING_END = re.compile(r"[。：:]")


def _split_heading(paragraph: Paragraph) -> tuple[str, str]:
    """A level-1 heading paragraph is ``heading`` or ``heading。body``: split it."""
    heading = paragraph.heading or ""
    match = _HEADING_END.search(heading)
    if match and (match.end() < len(heading) or len(heading) > 60):
        return heading[: match.start()], heading[match.end() :]
    return heading.rstrip("。：:；;，, "), ""


def _join_paragraphs(texts: list[str]) -> str:
    """Paragraphs of a section in one string: directly after a punctuated paragraph, with a
    space after an unpunctuated one (a sub-heading such as ``1、…情况``)."""
    out = ""
    for text in texts:
        if not text:
            continue
        if out and not out.rstrip(_CLOSING).endswith((*_TERMINAL, "：", ":", "，", ",", "、")):
            out += " "
        out += text
    return out


@dataclass(slots=True)
class _Section:
    part: str | None
    part_title: str | None
    section_no: str | None
    heading: str | None
    pages: list[int] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)


def build_sections(doc_id: str, paragraphs: list[Paragraph]) -> list[dict]:
    """``sections`` rows: one per numbered section (一、 within 第X部分 or a page title), plus
    the substantive text of a part before its first numbered section."""
    sections: list[_Section] = []
    part: str | None = None
    part_title: str | None = None
    current: _Section | None = None
    numbered: list[str] = []  # the numbers of the part's sections so far
    nested = False  # the part's numbering restarted at 一: a list inside a section

    def close() -> None:
        nonlocal current
        if current is not None:
            sections.append(current)
        current = None

    for paragraph in paragraphs:
        if paragraph.kind in ("part", "title"):
            close()
            if paragraph.kind == "part":
                part, part_title = paragraph.label, paragraph.heading
            else:
                part, part_title = None, paragraph.heading
            current = _Section(part, part_title, None, part_title, list(paragraph.pages))
            numbered, nested = [], False
        elif (
            paragraph.kind == "level1"
            and current is not None
            and (nested or paragraph.label == "一" and numbered)
        ):
            nested = True  # 一、二、… again inside 三、: the section's own list, kept in its text
            current.texts.append(paragraph.text)
            current.pages.extend(paragraph.pages)
        elif paragraph.kind == "level1":
            numbered.append(paragraph.label or "")
            close()
            heading, rest = _split_heading(paragraph)
            current = _Section(part, part_title, paragraph.label, heading, list(paragraph.pages))
            if rest:
                current.texts.append(rest)
        else:
            if current is None:
                current = _Section(part, part_title, None, part_title, [])
            current.texts.append(paragraph.text)
            current.pages.extend(paragraph.pages)
    close()
    rows: list[dict] = []
    seen: Counter[str] = Counter()
    for section in sections:
        text = _join_paragraphs(section.texts)
        if section.section_no is None and len(text) < MIN_PREAMBLE:
            continue
        if section.section_no is not None and not text:
            continue
        path = [p for p in (section.part or section.part_title, section.section_no) if p]
        section_id = "/".join(path) or "前言"
        seen[section_id] += 1
        if seen[section_id] > 1:
            section_id = f"{section_id}#{seen[section_id]}"
        rows.append(
            {
                "doc_id": doc_id,
                "section_no": section.section_no,
                "heading": section.heading,
                "text": text,
                "page_first": min(section.pages) if section.pages else None,
                "page_last": max(section.pages) if section.pages else None,
                "part": section.part,
                "part_title": section.part_title,
                "section_id": section_id,
                "seq": len(rows) + 1,
            }
        )
    return rows


# --------------------------------------------------------------------------- facts

FACTS_FILE = "facts.yml"
_MACRO = re.compile(r"\{(money|count|pct|dir|steady):([a-z0-9_]+)\}")
_DIGITS = str.maketrans("０１２３４５６７８９．，％", "0123456789.,%")
_UNIT_FACTORS = MONEY_UNIT_FACTORS


@dataclass(frozen=True, slots=True)
class CompiledRule:
    rule: FactRule
    regexes: tuple[re.Pattern[str], ...]
    index: int


@dataclass(frozen=True, slots=True)
class FactPatterns:
    """``mappings/facts.yml`` loaded and compiled."""

    vocabulary: FactVocabulary
    rules: tuple[CompiledRule, ...]


def _expand(pattern: str, defines: dict[str, str]) -> str:
    def macro(match: re.Match[str]) -> str:
        kind, fact = match.groups()
        if kind == "money":
            return rf"(?P<v_{fact}>{{NUM}})\s*(?P<u_{fact}>{{UNIT}})"
        if kind == "count":
            return rf"(?P<v_{fact}>[0-9]+)"
        if kind == "pct":
            return rf"(?P<v_{fact}>{{NUM}})\s*[%％]"
        if kind == "dir":
            return rf"(?P<d_{fact}>{{DIR}})"
        return rf"(?:基本)?(?P<s_{fact}>{{STEADY}})"

    pattern = _MACRO.sub(macro, pattern)
    for _ in range(3):  # defines may use defines
        for name, value in defines.items():
            pattern = pattern.replace("{" + name + "}", value)
    return pattern


def load_fact_patterns(path: str | None = None) -> FactPatterns:
    """Load, validate and compile the fact rules; a group naming an unknown fact fails."""
    from pathlib import Path

    from .loader import MAPPINGS_DIR, load_yaml

    source = Path(path) if path else MAPPINGS_DIR / FACTS_FILE
    vocabulary = FactVocabulary.model_validate(load_yaml(source))
    words = sorted(
        ("增加", "增长", "上升", "提高", "上调", "增", *vocabulary.decrease_words),
        key=len,
        reverse=True,
    )
    defines = {
        **vocabulary.defines,
        "DIR": "|".join(map(re.escape, words)),
        "STEADY": "|".join(map(re.escape, vocabulary.steady_words or ["持平"])),
    }
    compiled = []
    for index, rule in enumerate(vocabulary.rules):
        regexes = []
        for pattern in rule.patterns:
            try:
                regex = re.compile(_expand(pattern, defines))
            except re.error as error:
                raise ValueError(f"{source.name}: rule {index} ({rule.note}): {error}") from error
            facts = {name[2:] for name in regex.groupindex if name[:2] in ("v_", "u_", "d_", "s_")}
            unknown = (facts | set(rule.constant)) - set(vocabulary.facts)
            if unknown:
                raise ValueError(
                    f"{source.name}: rule {index} ({rule.note}) names unknown facts {sorted(unknown)}"
                )
            if not facts and not rule.constant:
                raise ValueError(f"{source.name}: rule {index} ({rule.note}) states no fact")
            regexes.append(regex)
        compiled.append(CompiledRule(rule, tuple(regexes), index))
    return FactPatterns(vocabulary, tuple(compiled))


@lru_cache(maxsize=1)
def default_fact_patterns() -> FactPatterns:
    return load_fact_patterns()


def _sentence(text: str, start: int, end: int, limit: int = 200) -> str:
    """The paragraph, or (when it is long) the sentences the match spans."""
    if len(text) <= limit:
        return text
    left = max(text.rfind("。", 0, start), text.rfind("；", 0, start)) + 1
    right = text.find("。", end)
    return text[left : len(text) if right < 0 else right + 1]


def _number(printed: str) -> float:
    return float(printed.replace(",", ""))


def _item_of(match: re.Match[str]) -> tuple[str | None, str | None]:
    groups = match.groupdict()
    code = "".join(groups[k] for k in ("code", "code1", "code2", "code3") if groups.get(k)) or None
    names = [groups[k] for k in ("item1", "item2", "item") if groups.get(k)]
    names = [
        re.sub(r"^(?:[（(]?\d{1,2}[)）.、．]|其中[：:]|[“”\".．、\s])+", "", n).strip()
        for n in names
    ]
    if code or len(names) <= 1:
        return (names[-1] if names else None) or None, code
    return "/".join(names), None  # no code printed: the 类/款/项 names say which line


def extract_facts(
    doc_id: str, paragraphs: list[Paragraph], patterns: FactPatterns | None = None
) -> list[dict]:
    """``facts`` rows: the figures the narrative states (rules in ``mappings/facts.yml``)."""
    patterns = patterns or default_fact_patterns()
    vocabulary = patterns.vocabulary
    decrease = tuple(vocabulary.decrease_words)
    best: dict[str, tuple[tuple[int, int, int], dict]] = {}
    items: list[dict] = []
    seen_items: set[tuple] = set()
    order = 0
    for paragraph in paragraphs:
        text = paragraph.text.translate(_DIGITS)
        for compiled in patterns.rules:
            rule = compiled.rule
            if rule.requires and not any(word in text for word in rule.requires):
                continue
            if rule.excludes and any(word in text for word in rule.excludes):
                continue
            for regex in compiled.regexes:
                for match in regex.finditer(text):
                    order += 1
                    rows = _facts_of(match, rule, vocabulary, decrease, paragraph, text)
                    if rule.repeat:
                        item, code = _item_of(match)
                        for row in rows:
                            key = (row["fact"], code, item, row["value"])
                            if key not in seen_items:
                                seen_items.add(key)
                                items.append({**row, "item": item, "code": code})
                        continue
                    for row in rows:
                        rank = (rule.rank, order, 0)
                        if row["fact"] not in best or rank < best[row["fact"]][0]:
                            best[row["fact"]] = (rank, row)
                    if rows:
                        break  # first match of this pattern in the paragraph
    rows = [row for _rank, row in sorted(best.values(), key=lambda pair: pair[0][1])] + items
    money_units = Counter(r["unit"] for r in rows if r["unit"] in _UNIT_FACTORS)
    default_unit = money_units.most_common(1)[0][0] if money_units else "元"
    out = []
    for row in rows:
        definition = vocabulary.facts[row["fact"]]
        if definition.kind == "money" and row["unit"] is None:
            row["unit"] = default_unit  # a figure stated as none (无政府采购预算): 0 in any unit
        unit = row["unit"]
        out.append(
            {
                "doc_id": doc_id,
                "fact": row["fact"],
                "value": row["value"],
                "unit": unit,
                "sentence": row["sentence"],
                "page": row["page"],
                "family": definition.family,
                "value_yuan": round(row["value"] * _UNIT_FACTORS[unit], 2)
                if definition.kind == "money"
                else None,
                "item": row.get("item"),
                "code": row.get("code"),
            }
        )
    return out


def _facts_of(match, rule, vocabulary, decrease, paragraph: Paragraph, text: str) -> list[dict]:
    groups = match.groupdict()
    sentence = _sentence(paragraph.text, match.start(), match.end())
    page = paragraph.page_at(match.start())
    rows = []
    facts = {
        name[2:] for name, value in groups.items() if value is not None and name[:2] in ("v_", "s_")
    }
    for fact in sorted(
        facts,
        key=lambda f: match.start("v_" + f) if groups.get("v_" + f) else match.start("s_" + f),
    ):
        definition = vocabulary.facts[fact]
        if groups.get(f"v_{fact}") is not None:
            value = _number(groups[f"v_{fact}"])
            direction = groups.get(f"d_{fact}")
            if direction and direction.startswith(decrease):
                value = -value
        else:
            value = 0.0
        unit = groups.get(f"u_{fact}") or definition.unit
        if definition.kind == "count":
            value = float(int(value))
        rows.append(
            {"fact": fact, "value": value + 0.0, "unit": unit, "sentence": sentence, "page": page}
        )  # no -0.0
    for fact, value in rule.constant.items():
        rows.append(
            {
                "fact": fact,
                "value": float(value),
                "unit": vocabulary.facts[fact].unit,
                "sentence": sentence,
                "page": page,
            }
        )
    return rows


# --------------------------------------------------------------------------- document


@dataclass(slots=True)
class Narrative:
    """What the narrative of one document gives: its paragraphs, sections and facts."""

    paragraphs: list[Paragraph]
    sections: list[dict]
    facts: list[dict]


def read_narrative(
    doc_id: str, pages: Iterable[PageContent | NarrativePage], table_pages: Iterable[int] = ()
) -> Narrative:
    """Sections and facts of one document from its pages' narrative lines (the ``lines`` of
    pages made by :func:`narrative_page_lines`); ``table_pages`` are skipped."""
    narrative = [
        p
        if isinstance(p, NarrativePage)
        else NarrativePage(p.number, p.width, p.height, list(p.lines))
        for p in pages
    ]
    paragraphs = read_paragraphs(narrative, table_pages)
    return Narrative(
        paragraphs, build_sections(doc_id, paragraphs), extract_facts(doc_id, paragraphs)
    )


# --------------------------------------------------------------------------- cross-checks
#
# The comparison is one SQL query (SQLite) over the ``facts`` rows (``{batch}``), the
# ``line_items`` table and ``ref_fact_checks`` (the ``checks:`` of ``facts.yml`` as rows), so
# that validation runs the very same query at ingest and under GX (check
# ``cross.narrative_totals``), and :func:`cross_check_totals` runs it on plain rows.

FACT_CHECKS_TABLE = "ref_fact_checks"
_FACT_CHECKS_COLUMNS = (
    "check_no INTEGER, fact TEXT, kind TEXT, classification TEXT, measure TEXT, how TEXT, "
    "word TEXT, rank INTEGER"
)
_UNIT_CASE = " ".join(f"WHEN '{unit}' THEN {factor!r}" for unit, factor in _UNIT_FACTORS.items())

CROSS_CHECK_CTES = f"""f AS (
  SELECT doc_id, fact, code, value, unit, page, sentence,
         CASE unit {_UNIT_CASE} END AS factor,
         RTRIM(PRINTF('%.6f', ABS(value)), '0') AS digits
  FROM {{batch}}
  WHERE value IS NOT NULL AND unit IN ({", ".join(f"'{u}'" for u in _UNIT_FACTORS)})
),
candidate AS (
  SELECT f.*, LENGTH(f.digits) - INSTR(f.digits, '.') AS d, l.table_no, l.name AS row_name,
         l.measure, l.amount_yuan,
         ROW_NUMBER() OVER (PARTITION BY r.check_no, f.doc_id, f.fact, f.code, f.value, f.unit,
                                         f.page, f.sentence
                            ORDER BY r.rank, l.rowid) AS k
  FROM f JOIN {FACT_CHECKS_TABLE} r ON r.fact = f.fact AND r.how <> 'not'
  JOIN line_items l ON l.doc_id = f.doc_id AND l.kind = r.kind AND l.measure = r.measure
   AND (r.classification IS NULL OR l.classification = r.classification)
   AND l.amount_yuan IS NOT NULL
   AND CASE r.how WHEN 'code' THEN l.code = f.code
                  WHEN 'name' THEN l.name = r.word
                  ELSE INSTR(l.name, r.word) > 0 AND NOT EXISTS (
                       SELECT 1 FROM {FACT_CHECKS_TABLE} x
                       WHERE x.check_no = r.check_no AND x.how = 'not' AND INSTR(l.name, x.word) > 0)
       END
),
c AS (
  SELECT doc_id, table_no, fact, code, page, unit, row_name, measure, COALESCE(sentence, '') AS sentence,
         value * factor AS observed_yuan, amount_yuan AS expected_yuan,
         {stated_tolerance_sql("d", "factor")} AS tolerance,
         PRINTF('%.*f', d, value) || ' ' || unit AS observed,
         PRINTF('%.*f', MAX(d, 2), amount_yuan / factor) || ' ' || unit AS expected,
         PRINTF('%.*f', d, ABS(value)) || unit AS stated,
         PRINTF('%.*f', d, ABS(value)) || ' ' || unit AS stated_spaced
  FROM candidate WHERE k = 1
),
spot AS (
  SELECT c.*,
         CASE WHEN INSTR(sentence, stated) > 0 THEN INSTR(sentence, stated)
              ELSE INSTR(sentence, stated_spaced) END AS pos,
         CASE WHEN INSTR(sentence, stated) > 0 THEN LENGTH(stated)
              ELSE LENGTH(stated_spaced) END AS span
  FROM c
),
cmp AS (
  SELECT doc_id, table_no, fact, code, page, unit, row_name, measure, observed, expected,
         observed_yuan, expected_yuan,
         ABS(observed_yuan - expected_yuan) <= tolerance AS success,
         ABS(observed_yuan - expected_yuan) / tolerance AS weight,
         fact || COALESCE(' ' || code, '') || ' p.' || COALESCE(page, '?') || ' “'
           || CASE WHEN pos > 0
                   THEN CASE WHEN pos > 31 THEN '…' ELSE '' END
                        || SUBSTR(sentence, MAX(1, pos - 30), MIN(pos - 1, 30) + span)
                        || CASE WHEN pos + span - 1 < LENGTH(sentence) THEN '…' ELSE '' END
                   ELSE SUBSTR(sentence, 1, 40) || CASE WHEN LENGTH(sentence) > 40 THEN '…' ELSE '' END
              END
           || '” vs ' || row_name || ' ' || measure AS subject
  FROM spot
)"""
"""The comparisons as common table expressions ending in ``cmp``: per stated figure the
table row it is compared with (``table_no``, ``row_name``, ``measure``), both values printed
(``observed``: the narrative's, ``expected``: the table's, in the narrative's unit) and in
yuan, ``success``, ``weight`` (the difference in tolerances) and ``subject`` (the fact, its
page, the words around the figure, the table row)."""

CROSS_CHECK_SQL = "WITH " + CROSS_CHECK_CTES + "\nSELECT * FROM cmp"


def fact_check_rows(patterns: FactPatterns | None = None) -> list[tuple]:
    """The ``checks:`` of ``facts.yml`` as rows of :data:`FACT_CHECKS_TABLE`.

    One row per way a table row can be the one a fact is compared with, per kind and measure:
    ``how`` is ``code`` (the row has the fact's code), ``name`` (the row's name is ``word``)
    or ``contains`` (the name contains ``word``); ``rank`` orders the ways (``names`` in their
    order, then ``contains``), the earlier row breaking ties. ``how = 'not'`` rows hold the
    ``not_contains`` words of a check (``check_no``: its position in ``facts.yml``).
    """
    patterns = patterns or default_fact_patterns()
    rows: list[tuple] = []
    for check_no, check in enumerate(patterns.vocabulary.checks):
        if check.by_code:
            ways = [("code", None, 0)]
        else:
            ways = [("name", name, rank) for rank, name in enumerate(check.names)]
            ways += [("contains", word, len(check.names)) for word in check.contains]
        rows += [
            (check_no, check.fact, kind, check.classification, measure, how, word, rank)
            for kind in check.kinds
            for measure in check.measures
            for how, word, rank in ways
        ]
        rows += [
            (check_no, check.fact, None, None, None, "not", word, None)
            for word in check.not_contains
        ]
    return rows


def create_fact_checks(con: sqlite3.Connection, patterns: FactPatterns | None = None) -> None:
    """Create and fill :data:`FACT_CHECKS_TABLE` in ``con`` (beside the datasets' tables)."""
    con.execute(f"CREATE TABLE {FACT_CHECKS_TABLE} ({_FACT_CHECKS_COLUMNS})")
    con.executemany(
        f"INSERT INTO {FACT_CHECKS_TABLE} VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        fact_check_rows(patterns),
    )


_FACT_COLUMNS = ("doc_id", "fact", "code", "value", "unit", "page", "sentence")
_ITEM_COLUMNS = ("doc_id", "table_no", "kind", "classification", "code", "name", "measure")


def _plain(value):
    """NaN (a pandas gap) as None."""
    return None if isinstance(value, float) and value != value else value


def cross_check_totals(
    facts: Iterable[dict], line_items: Iterable[dict], patterns: FactPatterns | None = None
) -> list[dict]:
    """Compare the totals the narrative states with the tables' figures.

    ``facts`` and ``line_items`` are one document's rows (dicts with the datasets' columns).
    Returns one finding per comparison that both sides allow::

        {"check": "narrative.budget_total", "severity": "warn", "success": True,
         "observed": "363.45 万元", "expected": "363.45 万元", "table_no": "1",
         "detail": "…", "fact": "budget_total", "code": None, "page": 4,
         "observed_yuan": 3634500.0, "expected_yuan": 3634500.0}

    ``observed`` is the narrative's figure, ``expected`` the table's (in the narrative's
    unit); they agree when they differ by at most half a unit of the narrative's last
    printed digit.  The pairs compared are data (``checks:`` in ``mappings/facts.yml``);
    the comparison is :data:`CROSS_CHECK_SQL`, the query validation runs
    (``cross.narrative_totals``).
    """
    con = sqlite3.connect(":memory:")
    try:
        create_fact_checks(con, patterns or default_fact_patterns())
        con.execute(f"CREATE TABLE facts ({', '.join(_FACT_COLUMNS)})")
        con.execute(f"CREATE TABLE line_items ({', '.join(_ITEM_COLUMNS)}, amount_yuan REAL)")
        con.executemany(  # one document: its id is not needed
            f"INSERT INTO facts VALUES ({', '.join('?' * len(_FACT_COLUMNS))})",
            [("", *(_plain(f.get(c)) for c in _FACT_COLUMNS[1:])) for f in facts],
        )
        con.executemany(
            f"INSERT INTO line_items VALUES ({', '.join('?' * (len(_ITEM_COLUMNS) + 1))})",
            [
                ("", *(_plain(r.get(c)) for c in (*_ITEM_COLUMNS[1:], "amount_yuan")))
                for r in line_items
            ],
        )
        cursor = con.execute(CROSS_CHECK_SQL.replace("{batch}", "facts"))
        names = [d[0] for d in cursor.description]
        found = [dict(zip(names, row)) for row in cursor.fetchall()]
    finally:
        con.close()
    return [_finding(row) for row in found]


def _finding(row: dict) -> dict:
    """A comparison of :data:`CROSS_CHECK_SQL` as a finding of :func:`cross_check_totals`."""
    success = bool(row["success"])
    unit = row["unit"]
    factor = _UNIT_FACTORS[unit]
    label = row["fact"] + (f" {row['code']}" if row["code"] else "")
    differs = abs(row["observed_yuan"] - row["expected_yuan"]) / factor
    return {
        "check": f"narrative.{row['fact']}",
        "severity": "warn",
        "success": success,
        "observed": row["observed"],
        "expected": row["expected"],
        "table_no": row["table_no"],
        "detail": (
            f"{label}: the narrative states {row['observed']} (p.{row['page']}), "
            f"表{row['table_no']} {row['row_name']} {row['measure']} is {row['expected']}"
            + ("" if success else f" (differs by {differs:g} {unit})")
        ),
        "fact": row["fact"],
        "code": row["code"],
        "page": row["page"],
        "subject": row["subject"],
        "observed_yuan": round(row["observed_yuan"], 2),
        "expected_yuan": round(row["expected_yuan"], 2),
    }
