"""Borderless tables: columns from the alignment of the text, rows from its lines.

Some disclosures print tables without vertical rules: a rule above and below the header and
none in the body, or no rule at all.  The ruled-grid reader finds nothing there (or the header
band alone, as one column).  This reader finds such tables in the text that no ruled grid holds:

* a table is a run of text rows close together that starts and ends with rows printed as three
  or more separate phrases (prose, titles and captions are one or two phrases per line), with
  the upper levels of its header above;
* its body is the rows below the header: below the first rule drawn between two of its rows,
  else from the first row that prints a figure;
* a column is an x range that body phrases of at least two rows occupy; the boundary between
  two columns runs through the white space between them, where no header word stands if it
  can (a header centred over right-aligned figures stays in its column);
* a header word over header words of a lower row (基本支出 over 人员经费 | 公用经费) spans the
  columns it is centred over.

It returns the rules such a table would have had (a vertical between columns wherever the row
does not cross it, a horizontal between text rows that no real rule separates), and
:class:`extractors.grid.RuledGridExtractor` builds the grid from them with the ruled-grid
builder, so characters, spans and headers are read exactly as in a ruled table.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from .base import Char, PageContent, Rule, TextLine
from .document import group_lines

# Glyphs of one row more than this many font sizes apart are separate phrases (cells).
PHRASE_GAP = 0.6
# Rows of one table are at most this many font sizes apart.
ROW_GAP = 2.5
MIN_COLUMNS = 3
MIN_PHRASES = 3  # phrases of the rows a table starts and ends with
MIN_BODY_ROWS = 2
_FIGURE = re.compile(r"^[-+(（]?\d[\d,，.．]*[)）%]?$")

Box = tuple[float, float, float, float]


@dataclass(frozen=True, slots=True)
class TextRow:
    """The phrases printed on one baseline, left to right."""

    phrases: tuple[TextLine, ...]

    @property
    def top(self) -> float:
        return min(p.top for p in self.phrases)

    @property
    def bottom(self) -> float:
        return max(p.bottom for p in self.phrases)

    @property
    def size(self) -> float:
        return max(max(p.size for p in self.phrases), self.bottom - self.top, 4.0)

    @property
    def has_figure(self) -> bool:
        return any(_FIGURE.match(p.text.replace(" ", "")) for p in self.phrases)


def _em(phrase: TextLine) -> float:
    return max(phrase.size, phrase.bottom - phrase.top)


def _extent(rows: list[TextRow]) -> tuple[float, float]:
    """Left and right edge of the rows' text."""
    return (
        min(p.x0 for row in rows for p in row.phrases),
        max(p.x1 for row in rows for p in row.phrases),
    )


def text_rows(chars: list[Char]) -> list[TextRow]:
    """Characters as rows of phrases, top to bottom (phrases split at gaps of an em or so)."""
    phrases = sorted(group_lines(chars, split_gap=PHRASE_GAP), key=lambda p: (p.top + p.bottom) / 2)
    rows: list[list[TextLine]] = []
    for phrase in phrases:
        centre = (phrase.top + phrase.bottom) / 2
        if rows and abs(centre - (rows[-1][-1].top + rows[-1][-1].bottom) / 2) <= 2.5:
            rows[-1].append(phrase)
        else:
            rows.append([phrase])
    return [TextRow(tuple(sorted(row, key=lambda p: p.x0))) for row in rows]


def _close_groups(rows: list[TextRow]) -> list[list[TextRow]]:
    """Rows split where the white space between two is wider than :data:`ROW_GAP` sizes."""
    groups: list[list[TextRow]] = []
    for row in rows:
        if groups and row.top - groups[-1][-1].bottom <= ROW_GAP * row.size:
            groups[-1].append(row)
        else:
            groups.append([row])
    return groups


def _within(row: TextRow, x0: float, x1: float) -> bool:
    """Every phrase of the row stands inside [x0, x1], clear of both edges (a header word
    over columns, not a caption flush with the table's left or right edge)."""
    return all(p.x0 > x0 + row.size and p.x1 < x1 - row.size for p in row.phrases)


def table_runs(rows: list[TextRow]) -> list[list[TextRow]]:
    """Runs of close rows from the first to the last row of at least three phrases.

    Rows of fewer phrases between those stay (wrapped names and header words, or a heading
    between two tables, where identification cuts the grid); above the first, rows whose
    words stand inside the table's width are the upper levels of its header.
    """
    runs: list[list[TextRow]] = []
    for group in _close_groups(rows):
        strong = [i for i, row in enumerate(group) if len(row.phrases) >= MIN_PHRASES]
        if not strong:
            continue
        first, last = strong[0], strong[-1]
        x0, x1 = _extent(group[first : last + 1])
        while first > 0 and _within(group[first - 1], x0, x1):
            first -= 1
        if last - first >= MIN_BODY_ROWS:
            runs.append(group[first : last + 1])
    return runs


def _between(
    rules: list[Rule], upper: TextRow, lower: TextRow, x0: float, x1: float
) -> Rule | None:
    """A real horizontal rule across most of the table between two of its rows."""
    width = x1 - x0
    for rule in rules:
        if (
            rule.orientation == "h"
            and upper.bottom - 1 <= rule.pos <= lower.top + 1
            and min(rule.end, x1) - max(rule.start, x0) >= 0.5 * width
        ):
            return rule
    return None


def header_rows(run: list[TextRow], rules: list[Rule]) -> int:
    """How many rows of the run are its header: those above the first real rule between two
    rows (a ruled header band), else those before the first row printing a figure."""
    x0, x1 = _extent(run)
    for index in range(len(run) - 1):
        if _between(rules, run[index], run[index + 1], x0, x1):
            return index + 1
    return next((i for i, row in enumerate(run) if row.has_figure), 0)


def _occupied(rows: list[TextRow], support: int) -> list[tuple[float, float]]:
    """x ranges that phrases of at least ``support`` rows cover."""
    events: list[tuple[float, int]] = []
    for row in rows:
        spans: list[list[float]] = []
        for phrase in row.phrases:  # a row counts once where its phrases overlap
            if spans and phrase.x0 <= spans[-1][1]:
                spans[-1][1] = max(spans[-1][1], phrase.x1)
            else:
                spans.append([phrase.x0, phrase.x1])
        events.extend((x, +1) for x, _ in spans)
        events.extend((x, -1) for _, x in spans)
    out: list[tuple[float, float]] = []
    depth, start = 0, 0.0
    for x, step in sorted(events, key=lambda e: (e[0], -e[1])):
        if step > 0:
            depth += 1
            if depth == support:
                start = x
        else:
            if depth == support:
                out.append((start, x))
            depth -= 1
    return out


def _boundary(gap: tuple[float, float], obstacles: list[tuple[float, float]]) -> float:
    """Where a column boundary goes inside ``gap``: the middle of its widest part that no
    other phrase covers, else the middle of the gap (the phrases there span both columns)."""
    free = [list(gap)]
    for a, b in obstacles:
        pieces = []
        for f0, f1 in free:
            if b <= f0 or a >= f1:
                pieces.append([f0, f1])
                continue
            if a > f0:
                pieces.append([f0, a])
            if b < f1:
                pieces.append([b, f1])
        free = pieces
    widest = max(free, key=lambda f: f[1] - f[0], default=None)
    if widest is None or widest[1] - widest[0] < 1.0:
        return (gap[0] + gap[1]) / 2
    return (widest[0] + widest[1]) / 2


def _is_parent(phrase: TextLine, lower: list[TextRow]) -> bool:
    """A header word standing over header words of a lower row (基本支出 over 人员经费 |
    公用经费): it reaches to within one em of one of them."""
    em = _em(phrase)
    return any(
        min(phrase.x1 + em, q.x1) > max(phrase.x0 - em, q.x0) for row in lower for q in row.phrases
    )


def _obstacles(run: list[TextRow], n_header: int) -> list[tuple[float, float]]:
    """Phrases a column boundary should not cut: all but the header words over others."""
    return [
        (p.x0, p.x1)
        for index, row in enumerate(run)
        for p in row.phrases
        if index >= n_header or not _is_parent(p, run[index + 1 : n_header])
    ]


def column_bounds(run: list[TextRow], n_header: int) -> list[float]:
    """Interior column boundaries of a run (x positions, left to right)."""
    body = run[n_header:]
    columns = _occupied(body, 2 if len(body) >= 4 else 1)
    obstacles = _obstacles(run, n_header)
    bounds = []
    for (_, left_end), (right_start, _) in zip(columns, columns[1:]):
        inside = [(a, b) for a, b in obstacles if b > left_end and a < right_start]
        bounds.append(_boundary((left_end, right_start), inside))
    return bounds


def _columns_of(phrase: TextLine, bounds: list[float]) -> tuple[int, int]:
    """The columns a phrase's extent reaches."""
    return bisect.bisect(bounds, phrase.x0 + 0.5), bisect.bisect(bounds, phrase.x1 - 0.5)


def header_span(
    phrase: TextLine, row: TextRow, lower: list[TextRow], edges: list[float]
) -> tuple[int, int]:
    """The columns a header word covers: those its extent reaches; a word over lower header
    words (部门经济分类 over 科目编码 | 科目名称) is centred over its columns, so it takes the
    run of columns with a word in the header's last row, up to the words beside it, whose
    middle is nearest its own (the widest of those within half an em of the nearest: the
    column edges are estimates, and a word centred over three columns is centred over the
    middle one too)."""
    bounds = edges[1:-1]
    c0, c1 = _columns_of(phrase, bounds)
    if not _is_parent(phrase, lower):
        return c0, c1
    beside = [_columns_of(p, bounds) for p in row.phrases if p is not phrase]
    first = max((b + 1 for _, b in beside if b < c0), default=0)
    last = min((a - 1 for a, _ in beside if a > c1), default=len(bounds))
    under = {bisect.bisect(bounds, (q.x0 + q.x1) / 2) for q in lower[-1].phrases}
    centre = (phrase.x0 + phrase.x1) / 2

    def offset(span: tuple[int, int]) -> float:
        return abs((edges[span[0]] + edges[span[1] + 1]) / 2 - centre)

    candidates = [(c0, c1)]
    for a in range(c0, first - 1, -1):
        if a < c0 and a not in under:
            break
        for b in range(c1, last + 1):
            if b > c1 and b not in under:
                break
            candidates.append((a, b))
    nearest = min(offset(span) for span in candidates)
    close = [span for span in candidates if offset(span) <= nearest + _em(phrase) / 2]
    return max(close, key=lambda span: (span[1] - span[0], -offset(span)))


def _cut(run: list[TextRow], n_header: int, index: int, edges: list[float]) -> list[bool]:
    """Per interior boundary, whether row ``index`` is divided there: a body row wherever no
    phrase crosses the boundary, a header row wherever no header word spans it."""
    bounds = edges[1:-1]
    row = run[index]
    if index >= n_header:
        return [not any(p.x0 < x - 0.5 and p.x1 > x + 0.5 for p in row.phrases) for x in bounds]
    spans = [header_span(p, row, run[index + 1 : n_header], edges) for p in row.phrases]
    return [not any(c0 <= k < c1 for c0, c1 in spans) for k in range(len(bounds))]


def infer_rules(
    run: list[TextRow], n_header: int, bounds: list[float], rules: list[Rule]
) -> tuple[Box, list[Rule]]:
    """The table's box and the rules it would have had (real horizontal rules are kept)."""
    x0, x1 = _extent(run)
    pad = 0.25 * min(row.size for row in run)
    top, bottom = run[0].top - pad, run[-1].bottom + pad
    for rule in rules:  # rules drawn along the table's top and bottom edges belong to it
        if rule.orientation != "h" or min(rule.end, x1) - max(rule.start, x0) < 0.5 * (x1 - x0):
            continue
        if run[0].top - run[0].size <= rule.pos <= run[0].top:
            top = min(top, rule.pos)
            x0, x1 = min(x0, rule.start), max(x1, rule.end)
        if run[-1].bottom <= rule.pos <= run[-1].bottom + run[-1].size:
            bottom = max(bottom, rule.pos)
            x0, x1 = min(x0, rule.start), max(x1, rule.end)
    ys = [top]  # the rows' upper and lower edges
    virtual: list[Rule] = []
    for upper, lower in zip(run, run[1:]):
        real = _between(rules, upper, lower, x0, x1)
        y = real.pos if real else (upper.bottom + lower.top) / 2
        if real is None:
            virtual.append(Rule("h", y, x0, x1))
        ys.append(y)
    ys.append(bottom)
    columns = [x0, *bounds, x1]
    for index, (y0, y1) in enumerate(zip(ys, ys[1:])):
        cuts = _cut(run, n_header, index, columns)
        virtual.extend(Rule("v", x, y0, y1) for x, cut in zip(bounds, cuts) if cut)
    return (x0, top, x1, bottom), virtual


def _inside(char: Char, boxes: list[Box]) -> bool:
    return any(x0 <= char.xc <= x1 and top <= char.yc <= bottom for x0, top, x1, bottom in boxes)


def find_aligned_tables(page: PageContent, taken: list[Box]) -> list[tuple[Box, list[Rule]]]:
    """Borderless tables among the characters outside the ``taken`` boxes (ruled tables):
    each one's box and the rules to build its grid with (the page's own plus inferred ones)."""
    chars = [c for c in page.chars if c.upright and not _inside(c, taken)]
    out = []
    for run in table_runs(text_rows(chars)):
        n_header = header_rows(run, page.rules)
        if len(run) - n_header < MIN_BODY_ROWS:
            continue
        bounds = column_bounds(run, n_header)
        if len(bounds) + 1 < MIN_COLUMNS:
            continue
        box, virtual = infer_rules(run, n_header, bounds, page.rules)
        out.append((box, page.rules + virtual))
    return out
