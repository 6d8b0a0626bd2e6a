"""Borderless tables: structure from the text alone (columns from alignment, rows from baselines).

Many disclosures print tables without vertical rules: a rule above and below the header and
one under the body (booktabs style), or no rule at all; scans of such pages read by OCR give
character boxes and no rules either.  The ruled-grid reader finds nothing there (or the header
band alone, as one column).  This reader rebuilds the grid from the characters, the same way
for the text layer and for OCR boxes:

* **words**: characters on one baseline split at gaps of :data:`DEFAULT_WORD_GAP` ems, and a
  figure split from a label it touches (``3,257.44一、部门预算``: right-aligned figures end
  where the next column's left-aligned label begins);
* **table runs**: rows of words close together that start and end with rows of several words
  (prose, titles and captions are one or two phrases per line), with the upper levels of the
  header above;
* **header band**: the rows above the first rule drawn between two rows, else those before
  the first row printing a figure; its words are grouped into **header cells** (a cell's
  wrapped lines stacked one to one) and a cell over two or more cells is a **parent**
  (基本支出 over 人员经费 | 公用经费);
* **columns**: x ranges the body's words occupy, split where two header leaves stand over one
  range with body words on both sides; a header leaf over white space is a column printed
  blank in every row (empty columns keep their place); the boundary between two columns runs
  through the white space between them, where no header leaf or body word stands if it can;
* **records**: a label that wraps fills its column to the right edge, so a line that fills it
  and the line just below (not starting a new item: a code, 一、, (1), 合计) are one cell;
  blocks that overlap vertically across columns are one record (figures centred against a
  wrapped label, or level with its first line); a record holding two figures in one column
  is cut between them.

It returns the rules such a table would have had (verticals between columns wherever no
word of the row crosses them, horizontals between records, per column in the header where
one header cell stands over another) and :class:`extractors.grid.RuledGridExtractor` builds
the grid from them with the ruled-grid builder, so characters, spans and headers are read
exactly as in a ruled table.  The grid's ``method`` is ``<reader>-aligned``.

Thresholds are in ems (the words' font size) and named ``DEFAULT_*`` like pdfplumber's
table settings.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

from .base import Char, PageContent, Rule, chars_outside

# Glyphs of one baseline more than this many ems apart are separate words (cells).
DEFAULT_WORD_GAP = 0.5
# Glyphs whose vertical centres are within this many ems (at least 2 pt) share a baseline.
DEFAULT_BASELINE_TOLERANCE = 0.3
# Header words (CJK, no spaces inside a cell) are split at this smaller gap: two header cells
# of narrow columns may stand closer than a word gap apart.
DEFAULT_HEADER_WORD_GAP = 0.3
# A header word stands over a blank column when white space this many ems wide separates it
# from the text of the columns beside it (else it is its neighbour's, centred off its text).
DEFAULT_BLANK_MARGIN = 0.1
# A group word (收入 over the columns of its side) is centred over its columns to within this
# share of their width (the widest run of columns so centred is its span).
DEFAULT_GROUP_CENTRING = 0.08
# A word crosses a column boundary when it reaches this many ems past it on both sides.
DEFAULT_CROSS_SLACK = 0.25
# A header cell centred within this many ems of the header's middle is as tall as the header.
DEFAULT_FULL_HEIGHT_SLACK = 0.6
# Edges of words are aligned within this many ems; a column edge takes this many words.
DEFAULT_EDGE_TOLERANCE = 0.2
DEFAULT_ALIGNED_EDGES = 3
# Rows of one table are at most this many ems apart.
DEFAULT_ROW_GAP = 2.5
# The lines of one wrapped cell are at most this many ems apart (white space between them).
DEFAULT_WRAP_GAP = 1.0
# A line that wrapped ends within this many ems of the rightmost text of its column.
DEFAULT_WRAP_FILL = 1.6
# A header word's lines are one cell when stacked at most this many ems apart.
DEFAULT_HEADER_WRAP_GAP = 0.9
MIN_COLUMNS = 3
MIN_PHRASES = 3  # words of the rows a table starts and ends with
MIN_BODY_ROWS = 2

_FIGURE = re.compile(r"^[-+(（−]?\d[\d,，.．]*[)）%]?$")
# a figure at the start of a word, complete (decimals, thousands groups, or a lone 0)
_LEADING_FIGURE = re.compile(
    r"^-?(?:(?:\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?|\d+\.\d{2}|0)(?=[^\d.,%])"
    r"|(?:\d{1,3}(?:,\d{3})+\.\d{2}|\d+\.\d{2}|0)(?=\d{1,2}[、．.](?!\d))"
    r"|\d+(?=[(（]\d))"
)
# an integer touching a label (``30601089一、部门预算``); split only where the glyphs touch: a
# code and its name in one cell stand a space apart (``208 社会保障和就业支出``)
_LEADING_INTEGER = re.compile(r"^\d+(?=[\u4e00-\u9fff])(?![年月日号元万亿个人次期届份项])")
# a figure with decimals at the end of a word, after a label
_TRAILING_FIGURE = re.compile(r"(?<=[\u4e00-\u9fff）)])-?(?:\d{1,3}(?:,\d{3})+|\d+)\.\d{2}$")
# the start of a new item in a label column: a code, an enumeration, a total
_ITEM_START = re.compile(
    r"^(?:\d{3,}|[一二三四五六七八九十]+[、.．]|\d+[、.．]|[（(][\d一二三四五六七八九十]+[)）]"
    r"|其中|合\s*计|总\s*计|小\s*计|本年|上年|年初|年末|结转)"
)

Box = tuple[float, float, float, float]


class Word:
    """Characters of one baseline with no wide gap between them: one cell's text on a line.

    Its extent, size and text are computed once (the structure reader asks for them many
    times); words compare by identity, each is one place on the page."""

    __slots__ = ("bottom", "chars", "em", "is_figure", "text", "top", "x0", "x1", "yc")

    def __init__(self, chars: tuple[Char, ...]) -> None:
        self.chars = chars
        self.text = "".join(c.text for c in chars).strip()
        self.x0, self.x1 = chars[0].x0, chars[-1].x1
        self.top = min(c.top for c in chars)
        self.bottom = max(c.bottom for c in chars)
        self.yc = (self.top + self.bottom) / 2
        self.em = max(max(c.size for c in chars), self.bottom - self.top, 4.0)
        self.is_figure = bool(_FIGURE.match(self.text.replace(" ", "")))

    def __repr__(self) -> str:
        return f"Word({self.text!r}, {self.x0:.1f}-{self.x1:.1f}, {self.top:.1f}-{self.bottom:.1f})"


class TextRow:
    """The words printed on one baseline, left to right (extent and size computed once)."""

    __slots__ = ("bottom", "has_figure", "phrases", "size", "top")

    def __init__(self, phrases: tuple[Word, ...]) -> None:
        self.phrases = phrases
        self.top = min(p.top for p in phrases)
        self.bottom = max(p.bottom for p in phrases)
        self.size = max(max(p.em for p in phrases), self.bottom - self.top, 4.0)
        self.has_figure = any(p.is_figure for p in phrases)


class _Lines:
    """The extent of a cell's words (one word, or its wrapped lines)."""

    __slots__ = ()
    words: list[Word]

    @property
    def x0(self) -> float:
        return min(w.x0 for w in self.words)

    @property
    def x1(self) -> float:
        return max(w.x1 for w in self.words)

    @property
    def top(self) -> float:
        return min(w.top for w in self.words)

    @property
    def bottom(self) -> float:
        return max(w.bottom for w in self.words)


@dataclass(slots=True)
class HeaderCell(_Lines):
    """The words of one header cell: one word, or a word's wrapped lines stacked one to one."""

    words: list[Word]
    columns: tuple[int, int] = (0, 0)


@dataclass(slots=True)
class Block(_Lines):
    """One cell's words in the body: a figure, or a label with its wrapped lines."""

    words: list[Word] = field(default_factory=list)
    column: int = 0


# ----------------------------------------------------------------------------- words and rows


def _split_touching(word: Word) -> list[Word]:
    """A figure touching the label of the next column (``3,257.44一、部门预算``) or a label
    touching the figure after it (``支出总计3,257.44``) is two words."""
    text = "".join(c.text for c in word.chars)
    if len(text) != len(word.chars):
        return [word]
    lead = _LEADING_FIGURE.match(text)
    integer = _LEADING_INTEGER.match(text)
    if integer and not lead:
        before, after = word.chars[integer.end() - 1], word.chars[integer.end()]
        if after.x0 - before.x1 <= 0.1 * max(before.size, before.bottom - before.top, 1.0):
            lead = integer
    if lead and lead.end() < len(text):
        cut = lead.end()
        return [Word(word.chars[:cut]), *_split_touching(Word(word.chars[cut:]))]
    trail = _TRAILING_FIGURE.search(text)
    if trail and trail.start() > 0:
        cut = trail.start()
        return [Word(word.chars[:cut]), Word(word.chars[cut:])]
    return [word]


def _split_at_gaps(chars: list[Char] | tuple[Char, ...], gap: float) -> list[list[Char]]:
    """Glyphs left to right, cut wherever two stand more than ``gap`` ems apart."""
    parts: list[list[Char]] = [[chars[0]]]
    for prev, char in zip(chars, chars[1:]):
        size = max(prev.size, char.size, prev.bottom - prev.top, 1.0)
        if char.x0 - prev.x1 > gap * size:
            parts.append([char])
        else:
            parts[-1].append(char)
    return parts


def _resplit(word: Word, gap: float) -> list[Word]:
    """A word cut again wherever its glyphs stand more than ``gap`` ems apart."""
    return [
        Word(tuple(p))
        for p in _split_at_gaps(word.chars, gap)
        if "".join(c.text for c in p).strip()
    ]


def _baselines(chars: list[Char]) -> list[list[Char]]:
    """Characters grouped by baseline (vertical centres within the tolerance of the row's
    mean centre), top to bottom."""
    rows: list[list[Char]] = []
    total = 0.0
    for char in sorted(chars, key=lambda c: c.yc):
        size = max(char.size, char.bottom - char.top, 4.0)
        tolerance = max(2.0, DEFAULT_BASELINE_TOLERANCE * size)
        if rows and abs(char.yc - total / len(rows[-1])) <= tolerance:
            rows[-1].append(char)
            total += char.yc
        else:
            rows.append([char])
            total = char.yc
    return rows


def words_of(chars: list[Char]) -> list[list[Word]]:
    """Words per baseline, top to bottom and left to right."""
    out = []
    for row in _baselines(chars):
        row.sort(key=lambda c: c.x0)
        words = _split_at_gaps(row, DEFAULT_WORD_GAP)
        split = [part for w in words for part in _split_touching(Word(tuple(w)))]
        out.append([w for w in split if w.text])
    return [row for row in out if row]


def text_rows(chars: list[Char]) -> list[TextRow]:
    """Characters as rows of words, top to bottom."""
    return [TextRow(tuple(row)) for row in words_of(chars)]


def _close_groups(rows: list[TextRow]) -> list[list[TextRow]]:
    """Rows split where the white space between two is wider than :data:`DEFAULT_ROW_GAP` ems."""
    groups: list[list[TextRow]] = []
    for row in rows:
        if groups and row.top - groups[-1][-1].bottom <= DEFAULT_ROW_GAP * row.size:
            groups[-1].append(row)
        else:
            groups.append([row])
    return groups


def _extent(rows: list[TextRow]) -> tuple[float, float]:
    """Left and right edge of the rows' text."""
    return (
        min(p.x0 for row in rows for p in row.phrases),
        max(p.x1 for row in rows for p in row.phrases),
    )


def _within(row: TextRow, x0: float, x1: float) -> bool:
    """Every word of the row stands inside [x0, x1], clear of both edges (a header word over
    columns, not a caption flush with the table's left or right edge)."""
    return all(p.x0 > x0 + row.size and p.x1 < x1 - row.size for p in row.phrases)


def _is_fragment(rows: list[TextRow]) -> bool:
    """Two rows of a table cut by a page break (the totals carried onto the next page): one
    of them prints two figures or more among four words or more."""
    return any(len(row.phrases) >= 4 and sum(p.is_figure for p in row.phrases) >= 2 for row in rows)


def _wrapped_head(row: TextRow, below: TextRow) -> bool:
    """``row`` is the first line of a label wrapped around the figures on ``below``: one word
    starting an item (a code, 一、, (1)), right above or beside them."""
    return (
        len(row.phrases) == 1
        and bool(_ITEM_START.match(row.phrases[0].text))
        and below.top - row.bottom <= 0.3 * row.size
    )


def _top_rule(rules: list[Rule], row: TextRow, x0: float, x1: float) -> float | None:
    """The y of the nearest rule above ``row`` drawn across most of the table (its top rule)."""
    above = [
        r.pos
        for r in rules
        if r.orientation == "h"
        and r.pos <= row.top + 1
        and _overlap(r.start, r.end, x0, x1) >= 0.5 * (x1 - x0)
    ]
    return max(above, default=None)


def table_runs(rows: list[TextRow], rules: list[Rule] | None = None) -> list[list[TextRow]]:
    """Runs of close rows from the first to the last row of at least three words.

    Rows of fewer words between those stay (wrapped names and header words, or a heading
    between two tables, where identification cuts the grid); below the last, rows printing
    a figure and the tight lines after them (the last records, their labels wrapped around
    their figures); above the first, rows below the table's top rule, or (no rule) rows
    whose words stand inside the table's width, are the upper levels of its header.
    """
    runs: list[list[TextRow]] = []
    for group in _close_groups(rows):
        strong = [i for i, row in enumerate(group) if len(row.phrases) >= MIN_PHRASES]
        if not strong:
            continue
        first, last = strong[0], strong[-1]
        x0, x1 = _extent(group[first : last + 1])
        figures = [i for i, row in enumerate(group) if row.has_figure and i > last]
        if figures:  # rows of a wrapped label, its figures on a line of their own
            last = figures[-1]
        while (
            last + 1 < len(group)
            and group[last].has_figure
            and len(group[last + 1].phrases) == 1
            and group[last + 1].top - group[last].bottom <= 0.3 * group[last].size
        ):
            last += 1  # the wrapped tail of the last label
        figures = [i for i, row in enumerate(group) if row.has_figure and i < first]
        if figures:  # a page that begins with records whose labels wrap around their figures
            first = figures[0]
            while first > 0 and _wrapped_head(group[first - 1], group[first]):
                first -= 1
        top_rule = _top_rule(rules or [], group[first], x0, x1)
        while first > 0 and (
            _within(group[first - 1], x0, x1)
            or (top_rule is not None and group[first - 1].top >= top_rule - 1)
        ):
            first -= 1
        if last < len(group) - 1 and last - first < MIN_BODY_ROWS:
            last += 1  # a two-row fragment may end with a row of fewer words
        run = group[first : last + 1]
        if last - first >= MIN_BODY_ROWS or (len(run) == MIN_BODY_ROWS and _is_fragment(run)):
            runs.append(run)
    return runs


def _between(
    rules: list[Rule], upper: TextRow, lower: TextRow, x0: float, x1: float
) -> Rule | None:
    """A real horizontal rule across most of the table between two of its rows."""
    for rule in rules:
        if (
            rule.orientation == "h"
            and upper.bottom - 1 <= rule.pos <= lower.top + 1
            and _overlap(rule.start, rule.end, x0, x1) >= 0.5 * (x1 - x0)
        ):
            return rule
    return None


def header_rows(run: list[TextRow], rules: list[Rule]) -> int:
    """How many rows of the run are its header: those above the first real rule between two
    rows (a ruled header band), else those before the first record printing a figure (its
    label may start a line above the figures)."""
    x0, x1 = _extent(run)
    for index in range(len(run) - 1):
        if _between(rules, run[index], run[index + 1], x0, x1):
            return index + 1
    first = next((i for i, row in enumerate(run) if row.has_figure), 0)
    while first > 0 and _wrapped_head(run[first - 1], run[first]):
        first -= 1
    return first


# ----------------------------------------------------------------------------- columns


def _overlap(a0: float, a1: float, b0: float, b1: float) -> float:
    return min(a1, b1) - max(a0, b0)


def _coverage(words: list[Word], allowed: int) -> list[tuple[float, float]]:
    """x ranges covered by more than ``allowed`` of the words (a gap crossed by a stray word
    or two, a note or an overflowing label, is still a gap)."""
    events = sorted(
        [(w.x0, 1) for w in words] + [(w.x1, -1) for w in words], key=lambda e: (e[0], -e[1])
    )
    out: list[tuple[float, float]] = []
    depth, start = 0, 0.0
    for x, step in events:
        before = depth
        depth += step
        if before <= allowed < depth:
            start = x
        elif depth <= allowed < before:
            if out and start - out[-1][1] <= 0:
                out[-1] = (out[-1][0], x)
            else:
                out.append((start, x))
    return out


def _split_under_header(
    interval: tuple[float, float], header: list[Word], body: list[Word]
) -> list[tuple[float, float]]:
    """An occupied range under two header words or more side by side is as many columns when
    body words stand wholly on each side of the white space between them (two columns whose
    figures touch); a letter-spaced header (项    目) over one label column is not split."""
    x0, x1 = interval
    over = sorted((w for w in header if x0 <= (w.x0 + w.x1) / 2 <= x1), key=lambda w: w.x0)
    parts = [interval]
    for left, right in zip(over, over[1:]):
        if right.x0 < left.x1:  # stacked, not side by side
            continue
        start = parts[-1][0]
        inside = [w for w in body if w.x1 > start and w.x0 < x1]
        lo, hi = left.x1, right.x0
        best: tuple[int, int, float] | None = None
        for x in sorted({lo, hi, *(w.x1 for w in inside if lo <= w.x1 <= hi)}):
            if not start < x < x1:
                continue
            crossing = sum(1 for w in inside if _crosses(w, x))
            clear = min(
                sum(1 for w in inside if not _crosses(w, x) and w.x1 <= x + w.em / 2),
                sum(1 for w in inside if not _crosses(w, x) and w.x0 >= x - w.em / 2),
            )
            if clear and (best is None or (crossing, -clear) < best[:2]):
                best = (crossing, -clear, x)
        if best is not None:
            parts[-1] = (start, best[2])
            parts.append((best[2], x1))
    return parts


def _edge_runs(values: list[float], tolerance: float) -> list[tuple[float, int]]:
    """Positions many words share (right edges of right-aligned figures, left edges of
    left-aligned labels), with how many share each."""
    out: list[tuple[float, int]] = []
    ordered = sorted(values)
    start = 0
    for end in range(1, len(ordered) + 1):
        if end == len(ordered) or ordered[end] - ordered[start] > tolerance:
            out.append((sum(ordered[start:end]) / (end - start), end - start))
            start = end
    return out


def _ragged_left(words: list[Word], em: float) -> bool:
    """Words ending together as amounts do: starting apart (right-aligned), or all printed
    with decimals or thousands separators; not codes of one length printed flush left
    (``20805`` over ``20806``)."""
    if words and all("." in w.text or "," in w.text for w in words):
        return True
    return max((w.x0 for w in words), default=0.0) - min((w.x0 for w in words), default=0.0) > (
        0.3 * em
    )


def _split_at_alignment(
    interval: tuple[float, float], body: list[Word]
) -> list[tuple[float, float]]:
    """A range where right-aligned figures end just where left-aligned labels begin is two
    columns (``11.32`` | ``2020年预算下达`` printed touching, no header above to tell): the
    right edges of several figures of different widths and the left edges of several labels
    line up there."""
    x0, x1 = interval
    inside = [w for w in body if w.x0 >= x0 - 1 and w.x1 <= x1 + 1]
    if len(inside) < 2 * DEFAULT_ALIGNED_EDGES:
        return [interval]
    em = sorted(w.em for w in inside)[len(inside) // 2]
    tolerance = DEFAULT_EDGE_TOLERANCE * em
    figures = [w for w in inside if w.is_figure]
    ends = [
        (x, n)
        for x, n in _edge_runs([w.x1 for w in figures], tolerance)
        if _ragged_left([w for w in figures if abs(w.x1 - x) <= tolerance], em)
    ]
    starts = _edge_runs([w.x0 for w in inside if not w.is_figure], tolerance)
    for right, n_right in sorted(ends, key=lambda e: -e[1]):
        if n_right < DEFAULT_ALIGNED_EDGES or not x0 + em < right < x1 - em:
            continue
        for left, n_left in starts:
            if n_left >= DEFAULT_ALIGNED_EDGES and -tolerance <= left - right <= em / 2:
                cut = (right + max(left, right)) / 2
                return [(x0, cut), *_split_at_alignment((cut, x1), body)]
    return [interval]


def _leaf_words(header: list[Word]) -> list[Word]:
    """Header words that are not group words: a group word (基本支出 over 人员经费 | 公用经费,
    科目编码 over 类 | 款) stands over two header words side by side, within half an em of
    its ends; a cell's wrapped lines stand one under the other."""
    out = []
    for word in header:
        reach = word.em / 2
        under = sorted(
            (
                other
                for other in header
                if other is not word
                and other.top >= word.bottom - 1
                and _overlap(word.x0 - reach, word.x1 + reach, other.x0, other.x1) > 0
            ),
            key=lambda w: w.x0,
        )
        side_by_side = any(
            _overlap(a.x0, a.x1, b.x0, b.x1) <= 0 for a in under for b in under if a is not b
        )
        if not side_by_side:
            out.append(word)
    return out


def _directly_under(upper: Word, lower: Word) -> bool:
    return (
        _overlap(upper.x0, upper.x1, lower.x0, lower.x1) > 0
        and 0 <= lower.top - upper.bottom + 1 <= DEFAULT_HEADER_WRAP_GAP * lower.em + 1
    )


def _chain(upper: Word, words: list[Word]) -> list[Word]:
    """``upper`` and the words each right under the last, one to one: a cell's wrapped lines
    if it is one."""
    chain = [upper]
    while True:
        under = [w for w in words if w is not chain[-1] and _directly_under(chain[-1], w)]
        if len(under) != 1:
            return chain
        chain.append(under[0])


def _over(above: Word, word: Word) -> bool:
    """``above`` stands over ``word``: higher by a quarter em at least, and within half its
    width either side."""
    half = (above.x1 - above.x0) / 2
    return (
        above.bottom <= word.top - 0.25 * word.em
        and _overlap(above.x0 - half, above.x1 + half, word.x0, word.x1) > 0
    )


def _has_orphan_sibling(upper: Word, lower: Word, words: list[Word]) -> bool:
    """A word beside the cell ``lower`` starts (its wrapped lines included), under ``upper``'s
    reach (twice its width either side), with no word anywhere above it, centred level with
    that cell and not with ``upper``'s lines and that cell together: ``upper`` is a group word
    over both (基本支出 over 小计 | 人员经费 | 公用经费; 公务用车购置及运行费 over 小计 |
    公务用车购 / 置费 | 公务用车运行费), not a cell wrapped onto ``lower``'s line
    (用事业基金 / 弥补收支差 / 额 beside 上年结转, both centred in the header)."""
    reach = 2 * (upper.x1 - upper.x0)
    cell = _chain(lower, words)
    cell_middle = (cell[0].top + cell[-1].bottom) / 2
    whole_middle = (upper.top + cell[-1].bottom) / 2
    return any(
        other is not upper
        and other not in cell
        and abs(other.yc - cell_middle) <= DEFAULT_BASELINE_TOLERANCE * other.em
        and abs(other.yc - whole_middle) > DEFAULT_BASELINE_TOLERANCE * other.em
        and _overlap(upper.x0 - reach, upper.x1 + reach, other.x0, other.x1) > 0
        and not any(
            above is not upper
            and above.bottom <= other.top + 1
            and not _over(above, upper)  # a word over both is their common parent
            and _overlap(
                above.x0 - (above.x1 - above.x0),
                above.x1 + (above.x1 - above.x0),
                other.x0,
                other.x1,
            )
            > 0
            for above in words
        )
        for other in words
    )


def _stacks(words: list[Word], header: list[Word]) -> list[list[Word]]:
    """Words stacked one under the other with overlapping extents: the wrapped lines of one
    header cell (``因公出国（`` / ``境）费``), not a group word over one of its columns."""
    stacks: list[list[Word]] = []
    for word in sorted(words, key=lambda w: w.top):
        home = next(
            (
                stack
                for stack in stacks
                if _directly_under(stack[-1], word)
                and not _has_orphan_sibling(stack[-1], word, header)
            ),
            None,
        )
        if home is None:
            stacks.append([word])
        else:
            home.append(word)
    return stacks


def _centred_over_lower(stack: list[Word], header: list[Word]) -> bool:
    """Header words lower than the cell stand on both sides of it, nearer than the words
    beside it on its own level: a group word (收入 over 项目 | 预算数), not a column's header."""
    top, bottom = min(w.top for w in stack), max(w.bottom for w in stack)
    x0, x1 = min(w.x0 for w in stack), max(w.x1 for w in stack)
    level = [w for w in header if w not in stack and _overlap(w.top, w.bottom, top, bottom) > 0]
    left = max((w.x1 for w in level if w.x1 <= x0 + 1), default=-1e9)
    right = min((w.x0 for w in level if w.x0 >= x1 - 1), default=1e9)
    lower = [w for w in header if w.top >= bottom - 1 and left <= w.x0 and w.x1 <= right]
    return any(w.x1 <= x0 + 1 for w in lower) and any(w.x0 >= x1 - 1 for w in lower)


def _blank_columns(
    header: list[Word], occupied: list[tuple[float, float]]
) -> list[tuple[float, float]]:
    """Header cells over white space are columns printed blank in every row (a cell's
    wrapped lines taken together); a group word over lower header words is not one, nor a
    cell beside a column that has no header word over it (its own header, centred in a cell
    whose text is flush left or right)."""
    leaves = _leaf_words(header)

    def headerless(interval: tuple[float, float]) -> bool:
        return not any(_overlap(*interval, w.x0, w.x1) > 0 for w in leaves)

    free = []
    for stack in _stacks(leaves, header):
        x0, x1 = min(w.x0 for w in stack), max(w.x1 for w in stack)
        margin = DEFAULT_BLANK_MARGIN * stack[0].em
        if any(_overlap(a - margin, b + margin, x0, x1) > 0 for a, b in occupied):
            continue
        left = [i for i in occupied if i[1] <= x0]
        right = [i for i in occupied if i[0] >= x1]
        if (left and headerless(left[-1])) or (right and headerless(right[0])):
            continue  # the header of a column beside it, centred off its text (类 over 208)
        if not _centred_over_lower(stack, header):
            free.append((x0, x1))
    return sorted(free)


def column_intervals(body: list[Word], header: list[Word]) -> list[tuple[float, float]]:
    """The x range of each column, left to right: ranges the body occupies (split under two
    header words with body words on both sides), and header words over white space."""
    n_rows = len({round(w.yc) for w in body})
    occupied = _coverage(body, max(0, n_rows // 12))
    columns: list[tuple[float, float]] = []
    for interval in occupied:
        for part in _split_under_header(interval, header, body):
            columns.extend(_split_at_alignment(part, body))
    return sorted(columns + _blank_columns(header, occupied))


def _boundary(
    gap: tuple[float, float], body: list[tuple[float, float]], header: list[tuple[float, float]]
) -> float:
    """Where a column boundary goes inside ``gap``: through the widest stretch that crosses
    the fewest body words, then the fewest header words (a header centred over
    right-aligned figures reaches out beyond them; skewed scans shift words a little)."""
    lo, hi = gap
    if hi - lo < 1.0:
        return (lo + hi) / 2
    points = sorted({lo, hi, *(x for a, b in body + header for x in (a, b) if lo < x < hi)})

    def cost(x: float) -> tuple[int, int]:
        return (
            sum(1 for a, b in body if a < x - 0.5 and b > x + 0.5),
            sum(1 for a, b in header if a < x - 0.5 and b > x + 0.5),
        )

    pieces = [(cost((p + q) / 2), p, q) for p, q in zip(points, points[1:])]
    least = min(c for c, _, _ in pieces)
    runs: list[list[float]] = []
    for c, p, q in pieces:
        if c != least:
            continue
        if runs and abs(runs[-1][1] - p) < 1e-6:
            runs[-1][1] = q
        else:
            runs.append([p, q])
    widest = max(runs, key=lambda r: r[1] - r[0])
    return (widest[0] + widest[1]) / 2


def column_bounds(
    columns: list[tuple[float, float]],
    body: list[tuple[float, float]],
    header: list[tuple[float, float]],
) -> list[float]:
    """Interior column boundaries (x positions, left to right)."""
    bounds = []
    for (_, left_end), (right_start, _) in zip(columns, columns[1:]):
        lo, hi = min(left_end, right_start), max(left_end, right_start)
        bounds.append(_boundary((lo, hi), body, header))
    return bounds


# ----------------------------------------------------------------------------- header cells


def _cell_columns(x0: float, x1: float, edges: list[float]) -> tuple[int, int]:
    """The columns a header word covers: those holding a quarter of its width or half of
    theirs, else the one holding its middle."""
    width = max(x1 - x0, 1.0)
    spanned = [
        k
        for k, (a, b) in enumerate(zip(edges, edges[1:]))
        if _overlap(a, b, x0, x1) >= min(0.25 * width, 0.5 * (b - a))
    ]
    if not spanned:
        middle = bisect.bisect(edges, (x0 + x1) / 2) - 1
        k = min(max(middle, 0), len(edges) - 2)
        return k, k
    return spanned[0], spanned[-1]


def _group_span(
    word: Word,
    own: tuple[int, int],
    lower: dict[Word, tuple[int, int]],
    limits: tuple[int, int],
    edges: list[float],
) -> tuple[tuple[int, int], float]:
    """The columns a word over lower header words is centred over, and how far off centre it
    stands: of the runs of columns within ``limits`` that hold its own and have header words
    under it, the widest centred on it to within :data:`DEFAULT_GROUP_CENTRING` of their
    width (or half an em) beyond the best.  A run's middle is that of the lower words in it:
    the column edges are estimates, the words are printed."""
    below = {k for a, b in lower.values() for k in range(a, b + 1)}
    centre = (word.x0 + word.x1) / 2

    extents: dict[tuple[int, int], tuple[float, float]] = {}

    def extent(span: tuple[int, int]) -> tuple[float, float]:
        if span not in extents:
            inside = [w for w, (a, b) in lower.items() if span[0] <= a and b <= span[1]]
            extents[span] = (
                (min(w.x0 for w in inside), max(w.x1 for w in inside))
                if inside
                else (edges[span[0]], edges[span[1] + 1])
            )
        return extents[span]

    def offset(span: tuple[int, int]) -> float:
        left, right = extent(span)
        return abs((left + right) / 2 - centre)

    if not all(k in below for k in range(own[0], own[1] + 1)):
        return own, abs((edges[own[0]] + edges[own[1] + 1]) / 2 - centre)
    candidates = [own]
    a = own[0]
    while a >= limits[0] and a in below:
        b = own[1]
        while b <= limits[1] and b in below:
            candidates.append((a, b))
            b += 1
        a -= 1

    def slack(span: tuple[int, int]) -> float:
        left, right = extent(span)
        return max(word.em / 2, DEFAULT_GROUP_CENTRING * (right - left))

    nearest = min(offset(span) for span in candidates)
    close = [span for span in candidates if offset(span) <= nearest + slack(span)]
    best = max(close, key=lambda span: (span[1] - span[0], -offset(span)))
    return best, offset(best)


def _row_spans(row: list[Word], lower_of, edges: list[float]) -> dict[Word, tuple[int, int]]:
    """Spans of the words of one header row: the columns between two neighbours' own go to
    one or the other where together they leave the fewest columns under neither and stand
    best centred (收入 over two columns, 支出 over six)."""
    n = len(edges) - 1
    ordered = sorted(row, key=lambda w: w.x0)
    owns = [_cell_columns(w.x0, w.x1, edges) for w in ordered]
    lowers = {w: lower_of(w) for w in ordered}
    limits = [[0, n - 1] for _ in ordered]
    for i in range(len(ordered) - 1):
        left, right = ordered[i], ordered[i + 1]
        first, last = owns[i][1] + 1, owns[i + 1][0]
        if last < first:
            continue
        best: tuple[int, float, int] | None = None
        for cut in range(first, last + 1):
            span_left, off_left = _group_span(
                left, owns[i], lowers[left], (limits[i][0], cut - 1), edges
            )
            span_right, off_right = _group_span(
                right, owns[i + 1], lowers[right], (cut, limits[i + 1][1]), edges
            )
            uncovered = max(0, span_right[0] - span_left[1] - 1)
            if best is None or (uncovered, off_left + off_right) < best[:2]:
                best = (uncovered, off_left + off_right, cut)
        assert best is not None
        limits[i][1], limits[i + 1][0] = best[2] - 1, best[2]
    return {
        word: _group_span(word, own, lowers[word], (lo, hi), edges)[0]
        for word, own, (lo, hi) in zip(ordered, owns, limits)
    }


def _level_siblings(group: Word, stacks: list[list[Word]], words: list[Word]) -> set[Word]:
    """Lower cells centred on the band from ``group``'s own line down to the header's bottom
    (around it: twice its width either side): tall cells that start on its level, its
    siblings under a common parent (合计 and 因公出国（境）费 beside 公务用车购置及运行维护费,
    all under 本年预算), not cells under it (its children are centred lower)."""
    reach = 2 * (group.x1 - group.x0)
    region = [w for w in words if _overlap(group.x0 - reach, group.x1 + reach, w.x0, w.x1) > 0]
    middle = (group.top + max(w.bottom for w in region)) / 2
    out: set[Word] = set()
    for stack in stacks:
        if stack[0].top < group.bottom - 1 or not any(w in region for w in stack):
            continue
        centre = (min(w.top for w in stack) + max(w.bottom for w in stack)) / 2
        if abs(centre - middle) <= DEFAULT_FULL_HEIGHT_SLACK * stack[0].em:
            out.update(stack)
    return out


def _full_height(words: list[Word], top: float, stacks: list[list[Word]]) -> set[Word]:
    """Words of header cells as tall as the header below ``top``: a cell's lines (one or a
    wrapped stack) centred on the middle of that band, as spreadsheets centre them (单位编码
    beside 本年预算 over its columns), with header words above and below its lines in the band
    (it spans levels). Such a cell stands under no group word."""
    inside = [w for w in words if w.top >= top - 1]
    if not inside:
        return set()
    middle = (top + max(w.bottom for w in inside)) / 2
    out: set[Word] = set()
    for stack in stacks:
        if stack[0].top < top - 1:
            continue
        first, last = min(w.top for w in stack), max(w.bottom for w in stack)
        em = stack[0].em
        spans_levels = any(w.top < first - em / 2 for w in inside) and any(
            w.bottom > last + em / 2 for w in inside
        )
        if spans_levels and abs((first + last) / 2 - middle) <= DEFAULT_FULL_HEIGHT_SLACK * em:
            out.update(stack)
    return out


def header_cells(rows: list[TextRow], edges: list[float]) -> list[HeaderCell]:
    """The header's words as cells over the columns.

    Each word covers the columns under its extent; a word over lower header words (科目编码
    over 类 款 项, 收入 over 项目 | 本年预算) covers the run of columns it is centred over.
    Words stacked in a column over the same columns are one cell wrapped onto several lines
    (``一般公共预算拨款`` / ``收入``)."""
    words = [w for row in rows for w in row.phrases]
    spans: dict[Word, tuple[int, int]] = {}
    leaves = set(_leaf_words(words))
    stacks = _stacks([w for w in words if w in leaves], words)
    full = _full_height(words, min((w.top for w in words), default=0.0), stacks)

    wrapped = {w for stack in stacks if len(stack) > 1 for w in stack}

    def lower_of(word: Word) -> dict[Word, tuple[int, int]]:
        if word in wrapped:  # a line of a wrapped cell is over no other cell
            return {}
        below = {w: span for w, span in spans.items() if w.top >= word.bottom - 1 and w not in full}
        beside = {
            w
            for w in _level_siblings(word, stacks, words)
            if _overlap(word.x0 - w.em, word.x1 + w.em, w.x0, w.x1) <= 0
        }
        return {w: span for w, span in below.items() if w not in beside}

    for row in sorted(rows, key=lambda r: -r.top):  # lowest first: groups see their columns
        spans.update(_row_spans(list(row.phrases), lower_of, edges))
    cells: list[HeaderCell] = []
    for word in sorted(words, key=lambda w: w.top):
        joined = [
            c
            for c in cells
            if c.columns == spans[word]
            and 0 <= word.top - c.bottom + 1 <= DEFAULT_HEADER_WRAP_GAP * word.em + 1
        ]
        if joined:
            joined[-1].words.append(word)
        else:
            cells.append(HeaderCell([word], spans[word]))
    return cells


# ----------------------------------------------------------------------------- records


def _column_of(word: Word, edges: list[float]) -> int:
    return min(max(bisect.bisect(edges, word.x0 + 0.5) - 1, 0), len(edges) - 2)


def _continues(upper: Word, lower: Word, right_edge: float) -> bool:
    """``lower`` is the wrapped rest of ``upper``: close below it, upper filled its column to
    the right, and lower does not start an item of its own."""
    em = upper.em
    gap = lower.top - upper.bottom
    return (
        -0.3 * em <= gap <= DEFAULT_WRAP_GAP * em
        and upper.x1 >= right_edge - DEFAULT_WRAP_FILL * em
        and lower.x0 <= upper.x0 + 1.5 * em
        and not upper.is_figure
        and not lower.is_figure
        and not _ITEM_START.match(lower.text)
    )


def _blocks(body: list[Word], edges: list[float]) -> list[Block]:
    """Each body word as a cell's block, wrapped label lines joined."""
    by_column: dict[int, list[Word]] = {}
    for word in body:
        by_column.setdefault(_column_of(word, edges), []).append(word)
    blocks = []
    for column, words in by_column.items():
        right_edge = max((w.x1 for w in words if not w.is_figure), default=0.0)
        current: Block | None = None
        for word in sorted(words, key=lambda w: w.top):
            if current is not None and _continues(current.words[-1], word, right_edge):
                current.words.append(word)
                continue
            current = Block([word], column)
            blocks.append(current)
    return blocks


def _components(blocks: list[Block]) -> list[list[Block]]:
    """Blocks that overlap vertically (by a third of the shorter) are one record."""
    ordered = sorted(blocks, key=lambda b: b.top)
    records: list[list[Block]] = []
    bottom, shortest = -1e9, 0.0
    for block in ordered:
        height = block.bottom - block.top
        if records and block.top < bottom and bottom - block.top >= min(height, shortest) / 3:
            records[-1].append(block)
            bottom, shortest = max(bottom, block.bottom), min(shortest, height)
        else:
            records.append([block])
            bottom, shortest = block.bottom, height
    return records


def _cut_double_figures(record: list[Block]) -> list[list[Block]]:
    """A record holding two figures in one column is two records (labels too close to tell
    apart): cut midway between the figures, each word going to the side of its centre."""
    figures: dict[int, list[Word]] = {}
    for block in record:
        if len(block.words) == 1 and block.words[0].is_figure:
            figures.setdefault(block.column, []).append(block.words[0])
    stacked = max(figures.values(), key=len, default=[])
    if len(stacked) < 2:
        return [record]
    stacked.sort(key=lambda w: w.yc)
    cuts = [(a.yc + b.yc) / 2 for a, b in zip(stacked, stacked[1:])]
    parts: list[list[Block]] = [[] for _ in range(len(cuts) + 1)]
    for block in record:
        for word in block.words:
            parts[bisect.bisect(cuts, word.yc)].append(Block([word], block.column))
    return [part for part in parts if part]


def _cut_at_bounds(word: Word, bounds: list[float]) -> list[Word]:
    """A word crossing column boundaries, cut there where a figure meets its neighbour
    (``323.452020年预算下达`` is ``323.45`` | ``2020年预算下达`` where the amount column ends);
    a label running on into an empty cell stays whole."""
    for x in bounds:
        if _crosses(word, x) and not _overflows(word, x):
            cut = next((i for i, c in enumerate(word.chars) if c.xc >= x), 0)
            if 0 < cut < len(word.chars):
                left, right = Word(word.chars[:cut]), Word(word.chars[cut:])
                return [left, *_cut_at_bounds(right, bounds)] if left.text else [right]
    return [word]


def record_bands(body: list[Word], edges: list[float]) -> list[tuple[float, float]]:
    """The vertical extent of each record of the body, top to bottom (words cut at the
    column boundaries first, so a figure touching the next cell is a figure)."""
    bounds = edges[1:-1]
    body = [part for word in body for part in _cut_at_bounds(word, bounds) if part.text]
    bands = []
    for record in _components(_blocks(body, edges)):
        for part in _cut_double_figures(record):
            bands.append((min(b.top for b in part), max(b.bottom for b in part)))
    return sorted(bands)


# ----------------------------------------------------------------------------- rules


def _crosses(word: Word, x: float) -> bool:
    """The word reaches well past ``x`` on both sides (more than a quarter em: glyph boxes of
    OCR and of touching words stand a point or so off their neighbours')."""
    slack = max(0.5, DEFAULT_CROSS_SLACK * word.em)
    return word.x0 < x - slack and word.x1 > x + slack


def _overflows(word: Word, x: float) -> bool:
    """A label running on into the next (empty) cell, as spreadsheets print it: text on both
    sides of the boundary; a figure cut from its neighbour is not one."""
    left = [c for c in word.chars if c.xc < x]
    right = [c for c in word.chars if c.xc >= x]
    if not left or not right:
        return False
    return not (left[-1].text.isdigit() or right[0].text.isdigit())


def _body_cuts(words: list[Word], bounds: list[float]) -> list[bool]:
    """Per interior boundary, whether a body record is divided there."""
    return [not any(_crosses(w, x) and _overflows(w, x) for w in words) for x in bounds]


def _band_edges(bands: list[tuple[float, float]], top: float, bottom: float) -> list[float]:
    """Horizontal cuts between consecutive bands (midway through the white space)."""
    ys = [top]
    for (_, b0), (t1, _) in zip(bands, bands[1:]):
        ys.append((b0 + t1) / 2)
    ys.append(bottom)
    return ys


def _header_bands(
    cells: list[HeaderCell], n_columns: int, top: float, bottom: float
) -> dict[tuple[int, int], tuple[float, float]]:
    """The band each header cell holds in each of its columns, keyed by (cell index, column):
    from midway to the cell above it in that column (or the header's top) to midway to the
    cell below it (or the header's bottom)."""
    bands: dict[tuple[int, int], tuple[float, float]] = {}
    for k in range(n_columns):
        stacked = sorted(
            (i for i, c in enumerate(cells) if c.columns[0] <= k <= c.columns[1]),
            key=lambda i: cells[i].top,
        )
        upper_edge = top
        for position, i in enumerate(stacked):
            lower_edge = bottom
            if position + 1 < len(stacked):
                below = cells[stacked[position + 1]]
                if below.top >= cells[i].bottom - 1:
                    lower_edge = (cells[i].bottom + below.top) / 2
            bands[(i, k)] = (upper_edge, lower_edge)
            upper_edge = lower_edge if lower_edge < bottom else upper_edge
    return bands


def _header_rules(
    cells: list[HeaderCell], edges: list[float], top: float, bottom: float
) -> list[Rule]:
    """Rules of the header band: between two cells stacked in a column (a parent over its
    children), and between columns wherever no cell spans the boundary."""
    n = len(edges) - 1
    bands = _header_bands(cells, n, top, bottom)
    rules = [
        Rule("h", y1, edges[k], edges[k + 1]) for (_, k), (_, y1) in bands.items() if y1 < bottom
    ]
    levels = sorted({top, bottom, *(y for band in bands.values() for y in band)})
    for y0, y1 in zip(levels, levels[1:]):
        middle = (y0 + y1) / 2
        for k in range(1, n):
            spanning = any(
                c.columns[0] < k <= c.columns[1]
                and bands[(i, k - 1)][0] <= middle <= bands[(i, k - 1)][1]
                and bands[(i, k)][0] <= middle <= bands[(i, k)][1]
                for i, c in enumerate(cells)
            )
            if not spanning:
                rules.append(Rule("v", edges[k], y0, y1))
    return rules


def _joined(rules: list[Rule]) -> list[Rule]:
    """Collinear rule segments that touch, as one (a vertical drawn row by row is one line):
    the grid builder looks rules up by position, fewer segments are found faster."""
    out: list[Rule] = []
    for rule in sorted(rules, key=lambda r: (r.orientation, round(r.pos, 3), r.start)):
        last = out[-1] if out else None
        if (
            last is not None
            and last.orientation == rule.orientation
            and abs(last.pos - rule.pos) < 1e-3
            and rule.start <= last.end + 1e-3
        ):
            out[-1] = Rule(last.orientation, last.pos, last.start, max(last.end, rule.end))
        else:
            out.append(rule)
    return out


def infer_rules(
    run: list[TextRow], n_header: int, rules: list[Rule]
) -> tuple[Box, list[Rule]] | None:
    """The table's box and the rules it would have had (real horizontal rules are kept)."""
    header = [
        TextRow(tuple(p for w in row.phrases for p in _resplit(w, DEFAULT_HEADER_WORD_GAP)))
        for row in run[:n_header]
    ]
    body_words = [w for row in run[n_header:] for w in row.phrases]
    header_words = [w for row in header for w in row.phrases]
    columns = column_intervals(body_words, header_words)
    if len(columns) < MIN_COLUMNS:
        return None
    bounds = column_bounds(
        columns,
        [(w.x0, w.x1) for w in body_words],
        [(w.x0, w.x1) for w in _leaf_words(header_words)],
    )
    x0, x1 = _extent(run)
    x0, x1 = min(x0, columns[0][0]), max(x1, columns[-1][1])
    pad = 0.25 * min(row.size for row in run)
    top, bottom = run[0].top - pad, run[-1].bottom + pad
    for rule in rules:  # rules drawn along the table's top and bottom edges belong to it
        if rule.orientation != "h" or _overlap(rule.start, rule.end, x0, x1) < 0.5 * (x1 - x0):
            continue
        if run[0].top - run[0].size <= rule.pos <= run[0].top:
            top = min(top, rule.pos)
            x0, x1 = min(x0, rule.start), max(x1, rule.end)
        if run[-1].bottom <= rule.pos <= run[-1].bottom + run[-1].size:
            bottom = max(bottom, rule.pos)
            x0, x1 = min(x0, rule.start), max(x1, rule.end)
    edges = [x0, *bounds, x1]
    virtual: list[Rule] = []
    if n_header:
        real = _between(rules, run[n_header - 1], run[n_header], x0, x1)
        split = real.pos if real else (run[n_header - 1].bottom + run[n_header].top) / 2
        virtual.append(Rule("h", split, x0, x1))
        virtual.extend(_header_rules(header_cells(header, edges), edges, top, split))
    else:
        split = top
    bands = record_bands(body_words, edges)
    ys = _band_edges(bands, split, bottom)
    for y in ys[1:-1]:
        virtual.append(Rule("h", y, x0, x1))
    for y0, y1 in zip(ys, ys[1:]):
        words = [w for w in body_words if y0 <= w.yc <= y1]
        cuts = _body_cuts(words, bounds)
        virtual.extend(Rule("v", x, y0, y1) for x, cut in zip(bounds, cuts) if cut)
    return (x0, top, x1, bottom), _joined(virtual)


def find_aligned_tables(page: PageContent, taken: list[Box]) -> list[tuple[Box, list[Rule]]]:
    """Borderless tables among the characters outside the ``taken`` boxes (ruled tables):
    each one's box and the rules to build its grid with (the page's own plus inferred ones)."""
    chars = chars_outside([c for c in page.chars if c.upright], taken)
    out = []
    for run in table_runs(text_rows(chars), page.rules):
        n_header = header_rows(run, page.rules)
        body = run[n_header:]
        if not body or (len(body) < MIN_BODY_ROWS and n_header and not _is_fragment(body)):
            continue  # a header over one row is a table when that row prints figures
        inferred = infer_rules(run, n_header, page.rules)
        if inferred is None:
            continue
        box, virtual = inferred
        out.append((box, page.rules + virtual))
    return out
