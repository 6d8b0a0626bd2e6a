"""The prose lines of a page: characters outside the tables, rows, overprint and captions dropped, OCR punctuation repaired.

Split from ``mappings/narrative.py`` (issue 18): one responsibility per file."""

from __future__ import annotations

import re
import statistics
from collections import defaultdict
from collections.abc import Sequence

from budget_disclosures.extractors.base import (
    Char,
    PageContent,
    RawGrid,
    TextLine,
    chars_outside,
)

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

# The geometry of prose lines, named as pdfplumber names its settings (``DEFAULT_*``): in ems of
# the glyphs concerned unless said; each says which layout feature it handles.
DEFAULT_EM_SIZE_BOUNDS = (0.5, 1.6)  # a reported font size within these × the glyph box is the em
DEFAULT_EM_OF_BOX = 0.9  # else (PDFium reports 240 or 1 for 12 pt): this share of the box height
DEFAULT_OVERPRINT = 0.3  # the same glyph again within this many ems: text drawn twice (fake bold)
DEFAULT_ROW_TOLERANCE = 0.25  # glyph centres within this many ems share a row
DEFAULT_MIN_ROW_TOLERANCE = 1.5  # points: ... and never less (small print)
DEFAULT_SATELLITE_GLYPHS = 3  # a row of at most this many glyphs may be punctuation off its line
DEFAULT_SATELLITE_HEIGHT = 0.75  # ... when lower than this share of the median row's height
DEFAULT_HOST_MARGIN = 0.5  # points: a satellite joins the row whose span (± this) holds its centre
DEFAULT_WORD_GAP = 0.3  # a glyph gap wider than this many ems is a space (Latin words, font change)
DEFAULT_CAPTION_GAP = 2.5  # caption lines above a grid: at most this many line heights apart
DEFAULT_CAPTION_CENTRED = 0.08  # a caption centred over its grid within this share of the page
DEFAULT_CAPTION_WIDTH = 0.7  # ... and narrower than this share of the grid
DEFAULT_CAPTION_CHARS = 30  # a caption is short
DEFAULT_SPREAD_PAIRS = 20  # letter-spaced or vertical text: at least this many CJK neighbours
DEFAULT_SPREAD_SHARE = 0.4  # ... more than this share of them apart
DEFAULT_FRAME_SHARE = 0.92  # a box over more than this share of the page both ways is a frame


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
    low, high = DEFAULT_EM_SIZE_BOUNDS
    if low * height <= char.size <= high * height:
        return char.size
    return DEFAULT_EM_OF_BOX * height


def _drop_overprint(chars: list[Char]) -> list[Char]:
    """Text drawn twice (fake bold, layout glitches) gives each glyph twice at the same
    spot; keep one."""
    kept: list[Char] = []
    seen: dict[str, list[Char]] = defaultdict(list)
    for char in chars:
        em = _em(char)
        twins = seen[char.text]
        near = DEFAULT_OVERPRINT * em
        if any(abs(o.x0 - char.x0) < near and abs(o.top - char.top) < near for o in twins):
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
        tolerance = max(DEFAULT_ROW_TOLERANCE * _em(char), DEFAULT_MIN_ROW_TOLERANCE)
        if rows and abs(rows[-1][-1].yc - char.yc) <= tolerance:
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
    if len(row) > DEFAULT_SATELLITE_GLYPHS:
        return False
    height = max(c.bottom for c in row) - min(c.top for c in row)
    others = [
        max(c.bottom for c in r) - min(c.top for c in r)
        for r in rows
        if len(r) > DEFAULT_SATELLITE_GLYPHS
    ]
    return bool(others) and height < DEFAULT_SATELLITE_HEIGHT * statistics.median(others)


def _host_of(row: list[Char], hosts: list[list[Char]]) -> list[Char] | None:
    """The row a satellite belongs to: its centre inside the row's span; of several such
    rows (tall glyph boxes overlap), the one whose baseline is nearest."""
    yc = sum(c.yc for c in row) / len(row)
    bottom_of_row = max(c.bottom for c in row)
    x0, x1 = min(c.x0 for c in row), max(c.x1 for c in row)
    best: tuple[float, list[Char]] | None = None
    for host in hosts:
        if len(host) <= DEFAULT_SATELLITE_GLYPHS:
            continue
        top, bottom = min(c.top for c in host), max(c.bottom for c in host)
        em = statistics.median(_em(c) for c in host)
        if (
            top - DEFAULT_HOST_MARGIN <= yc <= bottom + DEFAULT_HOST_MARGIN
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
        if char.x0 - prev.x1 > DEFAULT_WORD_GAP * em:
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
            if line.bottom < limit - DEFAULT_CAPTION_GAP * em:
                break
            text = clean_text(line.text)
            centred = abs(
                (line.x0 + line.x1) / 2 - (x0 + x1) / 2
            ) < DEFAULT_CAPTION_CENTRED * width and line.x1 - line.x0 < DEFAULT_CAPTION_WIDTH * (
                x1 - x0
            )
            short = len(text) <= DEFAULT_CAPTION_CHARS and not text.endswith(("。", "；", "，"))
            label = short and re.search(r"[:：]\S", text) is not None  # 保密审查情况：已审查
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
    apart = sum(1 for gap in pairs if gap)
    return len(pairs) >= DEFAULT_SPREAD_PAIRS and apart > DEFAULT_SPREAD_SHARE * len(pairs)


def _is_frame(grid: RawGrid, page: PageContent) -> bool:
    """A border drawn around the whole page (or one big box) is not a table."""
    x0, top, x1, bottom = grid.bbox
    if grid.n_cols <= 1:
        return True  # one column: a box or underlined lines around text, not a table
    share = DEFAULT_FRAME_SHARE
    return (x1 - x0) > share * page.width and (bottom - top) > share * page.height


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
    prose = chars_outside(chars, boxes, GRID_MARGIN)
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
