"""Cell grids from a page's ruled lines and characters (the ``pdfplumber-grid`` extractor).

Why our own grid builder rather than ``page.extract_tables()``: it reads pdfplumber's chars and
edges once and

* assigns *characters* (not words) to cells, so figures that an office suite prints flush
  against the next cell's text (``282.441、一般公共服务支出``) are split at the rule;
* keeps spanning cells with their column range, so multi-level headers keep their meaning;
* lets rows without interior vertical rules (tables drawn with horizontal rules only) inherit
  the column boundaries ruled in the header;
* builds borderless tables (no vertical rule anywhere) the same way, from the rules their
  text's alignment implies (:mod:`extractors.aligned`).

It is also faster than pdfplumber's table finder, which matters for throughput.
"""

from __future__ import annotations

import bisect
import dataclasses
from collections import defaultdict

from .aligned import find_aligned_tables
from .base import Char, GridCell, PageContent, RawGrid, Rule, TextLine

TOL = 2.0
MIN_TABLE_WIDTH = 80.0
# Horizontal rules of one table drawn without vertical rules are at most this far apart.
MAX_ROW_GAP = 60.0


class _DisjointSet:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _overlap(a0: float, a1: float, b0: float, b1: float) -> float:
    return max(0.0, min(a1, b1) - max(a0, b0))


def find_table_regions(rules: list[Rule]) -> list[tuple[float, float, float, float]]:
    """Bounding boxes of groups of rules that form one table each."""
    hs = [r for r in rules if r.orientation == "h" and r.end - r.start >= 20]
    vs = [r for r in rules if r.orientation == "v"]
    items: list[Rule] = hs + vs
    if not hs:
        return []
    ds = _DisjointSet(len(items))
    nh = len(hs)
    crossed: set[int] = set()  # horizontal rules that meet a vertical rule
    for i, h in enumerate(hs):
        for j, v in enumerate(vs):
            if h.start - TOL <= v.pos <= h.end + TOL and v.start - TOL <= h.pos <= v.end + TOL:
                ds.union(i, nh + j)
                crossed.add(i)
    ordered = sorted(range(nh), key=lambda i: hs[i].pos)
    for a, b in zip(ordered, ordered[1:]):
        ha, hb = hs[a], hs[b]
        if a in crossed and b in crossed:
            # both already belong to boxes ruled with verticals: two separate tables (a small
            # ruled box above a table must not swallow the title printed between them)
            continue
        shorter = min(ha.end - ha.start, hb.end - hb.start)
        if (
            hb.pos - ha.pos <= MAX_ROW_GAP
            and _overlap(ha.start, ha.end, hb.start, hb.end) >= 0.8 * shorter
        ):
            ds.union(a, b)
    groups: dict[int, list[Rule]] = defaultdict(list)
    for index, rule in enumerate(items):
        groups[ds.find(index)].append(rule)
    regions = []
    for members in groups.values():
        n_h = sum(1 for r in members if r.orientation == "h")
        if n_h < 2:
            continue
        x0 = min(r.start if r.orientation == "h" else r.pos for r in members)
        x1 = max(r.end if r.orientation == "h" else r.pos for r in members)
        top = min(r.pos if r.orientation == "h" else r.start for r in members)
        bottom = max(r.pos if r.orientation == "h" else r.end for r in members)
        if x1 - x0 >= MIN_TABLE_WIDTH and bottom - top > 8:
            regions.append((x0, top, x1, bottom))
    # a frame drawn around a table (or a page-sized border) is not a table of its own
    regions = [r for r in regions if not any(o != r and _contains(r, o) for o in regions)]
    regions.sort(key=lambda b: (b[1], b[0]))
    return regions


def _overlap_box(
    a: tuple[float, float, float, float], b: tuple[float, float, float, float]
) -> bool:
    return _overlap(a[0], a[2], b[0], b[2]) > 0 and _overlap(a[1], a[3], b[1], b[3]) > 0


def _contains(
    outer: tuple[float, float, float, float], inner: tuple[float, float, float, float]
) -> bool:
    return (
        outer[0] - TOL <= inner[0]
        and inner[2] <= outer[2] + TOL
        and outer[1] - TOL <= inner[1]
        and inner[3] <= outer[3] + TOL
    )


def _cluster(values: list[float], tol: float = TOL) -> list[float]:
    out: list[float] = []
    for value in sorted(values):
        if out and value - out[-1] <= tol:
            continue
        out.append(value)
    return out


def _covers(rules: list[Rule], pos: float, start: float, end: float, share: float = 0.5) -> bool:
    """True when rules at ``pos`` cover at least ``share`` of the span [start, end]."""
    need = (end - start) * share
    got = 0.0
    for rule in rules:
        if abs(rule.pos - pos) <= TOL:
            got += _overlap(rule.start, rule.end, start, end)
    return got >= need


# Word draws each cell as its own box, a few points inside the next one: the gaps become empty
# slivers of columns and rows narrower than any glyph, merged into the ruled boundary they sit on.
SLIVER = 6.0


def _merge_slivers(bounds: list[float], centres: list[float]) -> list[list[float]]:
    """Group boundaries separated by an empty sliver (no character centre inside)."""
    groups = [[bounds[0]]]
    for prev, bound in zip(bounds, bounds[1:]):
        if bound - prev < SLIVER and not any(prev < c < bound for c in centres):
            groups[-1].append(bound)
        else:
            groups.append([bound])
    if len(groups) < 2:
        return [[b] for b in bounds]
    return groups


def _representatives(groups: list[list[float]]) -> list[float]:
    """One position per boundary group: the outer edges for the first and last, else the middle."""
    out = [sum(g) / len(g) for g in groups]
    out[0], out[-1] = groups[0][0], groups[-1][-1]
    return out


class _RuleIndex:
    """Rules sorted by position, so the ones at a position are found by bisection (a
    borderless table's inferred grid has a rule segment per cell edge)."""

    def __init__(self, rules: list[Rule]) -> None:
        self.rules = sorted(rules, key=lambda r: r.pos)
        self.positions = [r.pos for r in self.rules]

    def near(self, pos: float) -> list[Rule]:
        lo = bisect.bisect_left(self.positions, pos - TOL)
        hi = bisect.bisect_right(self.positions, pos + TOL)
        return self.rules[lo:hi]


def _covers_any(rules: _RuleIndex, positions: list[float], start: float, end: float) -> bool:
    return any(_covers(rules.near(pos), pos, start, end) for pos in positions)


def _sizes_from_boxes(chars: list[Char]) -> float | None:
    """A size to use instead of the chars' font sizes when those are implausible: a font size
    read without the text matrix's scale (239 for 9 pt glyphs) is many times the glyph boxes."""
    sizes = sorted(c.size for c in chars)
    heights = sorted(c.bottom - c.top for c in chars)
    size, height = sizes[len(sizes) // 2], heights[len(heights) // 2]
    return height * 1.2 if height > 0 and size > 4 * height else None


def cell_text(chars: list[Char]) -> str:
    """Text of the characters of one cell: lines top to bottom, glyph gaps as spaces."""
    if not chars:
        return ""
    fixed = _sizes_from_boxes(chars)
    rows: list[list[Char]] = []
    last_yc = 0.0
    for char in sorted(chars, key=lambda c: c.top + c.bottom):
        yc = (char.top + char.bottom) / 2
        size = fixed if fixed is not None else char.size
        if rows and abs(last_yc - yc) <= (size if size > 4.0 else 4.0) * 0.5:
            rows[-1].append(char)
        else:
            rows.append([char])
        last_yc = yc
    lines = []
    for row in rows:
        row.sort(key=lambda c: c.x0)
        parts = [row[0].text]
        for prev, char in zip(row, row[1:]):
            size = fixed if fixed is not None else prev.size
            if char.x0 - prev.x1 > (size if size > 4.0 else 4.0) * 0.3:
                parts.append(" ")
            parts.append(char.text)
        lines.append("".join(parts))
    return "\n".join(lines)


def _same_line(a: Char, b: Char) -> bool:
    """Two glyphs on one text line: their boxes overlap for (nearly) all the shorter one's height
    (the overflowing lines of two wrapped labels printed over each other overlap less)."""
    shorter = min(a.bottom - a.top, b.bottom - b.top)
    return shorter > 0 and _overlap(a.top, a.bottom, b.top, b.bottom) >= 0.9 * shorter


def _line_centres(chars: list[Char], col_of: list[int]) -> list[float]:
    """Per character, the height that chooses its row: the median centre of its text line.

    The glyphs of one line have boxes of different heights: a bracket's (or a descender's)
    box reaches lower than the ideographs beside it. A label wrapped to overflow its cell
    (office suites print the last line of ``(5)资本性支出(基本建设)`` flush on the row rule)
    would lose its closing bracket to the next row if each glyph went by its own centre; the
    glyphs of one line in one column go into one row, the one most of them are in.
    """
    centre = [(char.top + char.bottom) / 2 for char in chars]  # (Char.yc, once each)
    out = list(centre)
    by_col: dict[int, list[int]] = defaultdict(list)
    for index, col in enumerate(col_of):
        by_col[col].append(index)
    for members in by_col.values():
        members.sort(key=centre.__getitem__)
        lines: list[list[int]] = []
        for index in members:
            if lines and _same_line(chars[lines[-1][0]], chars[index]):
                lines[-1].append(index)
            else:
                lines.append([index])
        for line in lines:
            if len(line) > 2:
                centres = sorted(centre[i] for i in line)
                median = centres[len(centres) // 2]
                for i in line:
                    out[i] = median
    return out


def build_grid(
    page: PageContent, bbox: tuple[float, float, float, float], method: str = "pdfplumber-grid"
) -> RawGrid:
    """Cells of the table inside ``bbox`` from the page's rules and characters."""
    x0, top, x1, bottom = bbox
    inside_h = [
        r
        for r in page.rules
        if r.orientation == "h"
        and top - TOL <= r.pos <= bottom + TOL
        and _overlap(r.start, r.end, x0, x1) > 0
    ]
    inside_v = [
        r
        for r in page.rules
        if r.orientation == "v"
        and x0 - TOL <= r.pos <= x1 + TOL
        and _overlap(r.start, r.end, top, bottom) > 0
    ]
    left, right, upper, lower = x0 - TOL, x1 + TOL, top - TOL, bottom + TOL
    inside_chars, xcs, ycs = [], [], []
    for c in page.chars:  # (Char.xc / Char.yc computed once per character)
        xc, yc = (c.x0 + c.x1) / 2, (c.top + c.bottom) / 2
        if left <= xc <= right and upper <= yc <= lower:
            inside_chars.append(c)
            xcs.append(xc)
            ycs.append(yc)
    col_groups = _merge_slivers(_cluster([x0, x1] + [r.pos for r in inside_v]), xcs)
    row_groups = _merge_slivers(_cluster([top, bottom] + [r.pos for r in inside_h]), ycs)
    cols = _representatives(col_groups)
    rows = _representatives(row_groups)
    n_rows, n_cols = len(rows) - 1, len(cols) - 1
    index_h, index_v = _RuleIndex(inside_h), _RuleIndex(inside_v)
    ds = _DisjointSet(n_rows * n_cols)
    for r in range(n_rows):
        y0, y1 = rows[r], rows[r + 1]
        separators = [_covers_any(index_v, col_groups[c + 1], y0, y1) for c in range(n_cols - 1)]
        if not any(separators):
            # a row drawn with horizontal rules only: columns come from the ruled header
            separators = [True] * (n_cols - 1)
        for c, ruled in enumerate(separators):
            if not ruled:
                ds.union(r * n_cols + c, r * n_cols + c + 1)
    for r in range(n_rows - 1):
        for c in range(n_cols):
            if not _covers_any(index_h, row_groups[r + 1], cols[c], cols[c + 1]):
                ds.union(r * n_cols + c, (r + 1) * n_cols + c)
    members: dict[int, list[int]] = defaultdict(list)
    for index in range(n_rows * n_cols):
        members[ds.find(index)].append(index)
    chars_by_root: dict[int, list[Char]] = defaultdict(list)
    in_cols = [min(max(bisect.bisect_right(cols, xc) - 1, 0), n_cols - 1) for xc in xcs]
    for char, c, y in zip(inside_chars, in_cols, _line_centres(inside_chars, in_cols), strict=True):
        r = min(max(bisect.bisect_right(rows, y) - 1, 0), n_rows - 1)
        chars_by_root[ds.find(r * n_cols + c)].append(char)
    grid_rows: list[list[GridCell]] = [[] for _ in range(n_rows)]
    for root, indices in members.items():
        rs = [i // n_cols for i in indices]
        cs = [i % n_cols for i in indices]
        r0, c0, c1 = min(rs), min(cs), max(cs)
        cell = GridCell(
            text=cell_text(chars_by_root.get(root, [])),
            col0=c0,
            col1=c1,
            x0=cols[c0],
            x1=cols[c1 + 1],
            top=rows[r0],
            bottom=rows[max(rs) + 1],
        )
        grid_rows[r0].append(cell)
    for row in grid_rows:
        row.sort(key=lambda cell: cell.col0)
    # drop atomic rows that only continue cells started above (they hold no new cells)
    kept = [row for row in grid_rows if row]
    lines_above: list[TextLine] = [line for line in page.lines if line.bottom <= top + TOL]
    return RawGrid(
        page=page.number,
        bbox=bbox,
        col_bounds=cols,
        rows=kept,
        method=method,
        lines_above=lines_above,
    )


def _on_page(
    regions: list[tuple[float, float, float, float]], page: PageContent
) -> list[tuple[float, float, float, float]]:
    """Regions clipped to the page: what is drawn outside the page box is not shown."""
    if page.width <= 0 or page.height <= 0:
        return regions
    out = []
    for x0, top, x1, bottom in regions:
        top, bottom = max(top, 0.0), min(bottom, page.height)
        if bottom - top > 8 and x1 > 0 and x0 < page.width:
            out.append((x0, top, x1, bottom))
    return out


class RuledGridExtractor:
    """Tables from ruled lines (full grids, or horizontal rules under a ruled header), and
    borderless tables from the alignment of their text (``extractors.aligned``), whose grids
    are named ``<reader>-aligned`` (``pdfium-aligned``)."""

    def __init__(self, name: str = "pdfplumber-grid") -> None:
        self.name = name
        self.aligned_name = name.removesuffix("-grid") + "-aligned"

    def extract(self, pdf_path: str, page: PageContent) -> list[RawGrid]:
        ruled = [
            build_grid(page, bbox, self.name)
            for bbox in _on_page(find_table_regions(page.rules), page)
        ]
        tables = [grid for grid in ruled if grid.n_cols >= 2]
        aligned = [
            build_grid(dataclasses.replace(page, rules=rules), bbox, self.aligned_name)
            for bbox, rules in find_aligned_tables(page, [grid.bbox for grid in tables])
        ]
        # rules without a vertical (a borderless table's header band) are part of the table
        # its text makes; elsewhere (a boxed title, an underlined line) they stay as they were
        boxes = [
            grid
            for grid in ruled
            if grid.n_cols < 2 and not any(_overlap_box(grid.bbox, a.bbox) for a in aligned)
        ]
        grids = sorted(tables + boxes + aligned, key=lambda g: (g.bbox[1], g.bbox[0]))
        previous_bottom = 0.0
        for grid in grids:
            grid.lines_above = [
                line for line in grid.lines_above if line.top >= previous_bottom - TOL
            ]
            previous_bottom = grid.bbox[3]
        return grids
