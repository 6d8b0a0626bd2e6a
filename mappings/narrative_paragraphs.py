"""Paragraphs from the prose lines of a document: running heads and page numbers dropped, lines joined where a sentence was broken.

Split from ``mappings/narrative.py`` (issue 18): one responsibility per file."""

from __future__ import annotations

import re
import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from budget_disclosures.extractors.base import TextLine

from .narrative_lines import (
    _CAPTION,
    clean_text,
    join_text,
)

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

# The geometry of paragraphs, named as pdfplumber names its settings (``DEFAULT_*``): in ems of
# the page's body text unless said; each says which layout feature it handles.
DEFAULT_EM_OF_BOX = 0.95  # a line without a font size: this share of its box height is its em
DEFAULT_TOC_GAP = 3.0  # a gap of this many line heights below a table of contents: the text begins
DEFAULT_SAME_BASELINE = 0.5  # segments whose tops differ by less than this × line height: one line
DEFAULT_FURNITURE_TOP = 0.12  # running heads above this share of the page height
DEFAULT_FURNITURE_BOTTOM = 0.86  # running feet and page numbers below this share
DEFAULT_BODY_EM = 10.0  # points: the em of a page too bare to measure
DEFAULT_MARGIN_TOLERANCE = 1.5  # points: lines starting this close share the left margin
DEFAULT_MARGIN_SUPPORT = 0.1  # ... and a margin needs this share of the lines starting there
DEFAULT_FULL_LINE = 0.6  # lines wider than this share of the text block end at the right margin
DEFAULT_OWN_MARGIN = 4.0  # a page's own right margin is kept within this many ems of the usual
DEFAULT_WRAP_SLACK = 1.6  # a wrapped Chinese line ends within this many ems of the margin
DEFAULT_LATIN_WIDTH = (
    0.55  # a digit or Latin letter is this many ems wide (a word that did not fit)
)
DEFAULT_CENTRED = 0.75  # a line centred within this many ems of the block's centre
DEFAULT_CENTRED_INSET = 3.0  # ... and this many ems in from both margins
DEFAULT_INDENT = (
    0.8  # a line starting this many ems right of the margin (or the line above) is indented
)
DEFAULT_TITLE_SIZE = 1.3  # text this many times the body's em is a title
DEFAULT_SAME_SIZE = 0.08  # font sizes within this share are one style
DEFAULT_HEADING_GAP = 2.0  # a heading's second line follows within this many ems
DEFAULT_PARAGRAPH_GAP = 2.5  # a vertical gap of this many ems ends a paragraph
DEFAULT_SAME_INDENT = 0.5  # two lines starting within this many ems are at one indent
DEFAULT_LINE_END_ROOM = (
    0.8  # a sentence ending this many ems short of the margin ends its paragraph
)
DEFAULT_HALF_LINE = 0.5  # a line wider than this share of the block is not a short manual break


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
        return self.size if self.size > 0 else max(self.bottom - self.top, 1.0) * DEFAULT_EM_OF_BOX


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
        if ordered[index].top - ordered[index - 1].bottom > DEFAULT_TOC_GAP * em:
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
            and abs(out[-1].top - line.top)
            < DEFAULT_SAME_BASELINE * max(line.bottom - line.top, 1.0)
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
            margin = (
                line.top < DEFAULT_FURNITURE_TOP * page.height
                or line.bottom > DEFAULT_FURNITURE_BOTTOM * page.height
            )
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
    em = statistics.median(ems) if ems else DEFAULT_BODY_EM
    x0s = sorted(line.x0 for line in lines)
    need = max(min_support, int(DEFAULT_MARGIN_SUPPORT * len(lines)))
    left, support = (x0s[0], 1) if x0s else (0.0, 0)
    for x in x0s:
        count = sum(1 for y in x0s if abs(y - x) <= DEFAULT_MARGIN_TOLERANCE)
        if count >= need:
            left, support = x, count
            break
    widest = max((line.x1 for line in lines), default=left + 1)
    long_lines = [
        line.x1 for line in lines if line.x1 - line.x0 >= DEFAULT_FULL_LINE * (widest - left)
    ]
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
                own.right
                if abs(own.right - geometry.right) < DEFAULT_OWN_MARGIN * geometry.em
                else geometry.right
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
    slack = DEFAULT_WRAP_SLACK * geo.em
    if after is not None:
        token = re.match(r"[（(]?[0-9A-Za-z.,%\-]+[)）]?", after.text)
        if token:
            slack += sum(
                geo.em if ord(ch) > 0x2000 else DEFAULT_LATIN_WIDTH * geo.em
                for ch in token.group(0)
            )
        elif len(after.text) > 1 and after.text[1] in _NO_LINE_START:
            slack += geo.em  # 避头尾: the character before 、。， moved down with it
    return line.x1 >= geo.right - slack


def _centred(line: Line) -> bool:
    geo = line.geometry
    assert geo is not None
    return (
        abs((line.x0 + line.x1) / 2 - geo.centre) < DEFAULT_CENTRED * geo.em
        and line.x0 > geo.left + DEFAULT_CENTRED_INSET * geo.em
        and line.x1 < geo.right - DEFAULT_CENTRED_INSET * geo.em
    )


def _indented(line: Line) -> bool:
    geo = line.geometry
    assert geo is not None
    return line.x0 > geo.left + DEFAULT_INDENT * geo.em


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
        (_centred(line) or line.em >= DEFAULT_TITLE_SIZE * geo.em)
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
    same_style = abs(line.size - prev.size) <= DEFAULT_SAME_SIZE * max(prev.size, line.size)
    if prev_para_kind == "title":
        return not (
            kind == "title"
            and same_style
            and line.page == prev.page
            and line.top - prev.bottom < DEFAULT_HEADING_GAP * geo.em
        )
    if (
        prev_para_kind == "part"
        and kind == "title"
        and same_style
        and line.page == prev.page
        and line.top - prev.bottom < DEFAULT_HEADING_GAP * geo.em
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
    if line.page == prev.page and line.top - prev.bottom > DEFAULT_PARAGRAPH_GAP * geo.em:
        return True
    if not _full(prev, line):
        return not _broken_sentence(prev, line, kind, first_of_paragraph)
    ended = prev.text.rstrip(_CLOSING).endswith(_TERMINAL)
    if line.x0 > prev.x0 + DEFAULT_INDENT * geo.em:
        # starts right of the line above: a new (indented) paragraph, unless a hanging
        # indent aligns an item's wrapped lines right of its number
        hanging = (
            _ITEM.match(first_of_paragraph.text)
            and line.x0 > first_of_paragraph.x0 + DEFAULT_INDENT * geo.em
        )
        return not (hanging and kind != "item")
    if (
        ended
        and prev is first_of_paragraph
        and _indented(prev)
        and abs(line.x0 - prev.x0) < DEFAULT_SAME_INDENT * geo.em
    ):
        return True  # two one-line paragraphs at the same indent
    if ended and prev.x1 < geo.right - DEFAULT_LINE_END_ROOM * geo.em:
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
    return prev.x1 - prev.x0 >= DEFAULT_HALF_LINE * (geo.right - geo.left)


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
