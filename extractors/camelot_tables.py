"""Cell grids from camelot: a second opinion for tables our ruled-grid reader may get wrong.

``lattice`` (with camelot's render-free vector engine) reads ruled tables; ``stream`` reads
borderless ones from text alignment. Both are much slower than our own grid builder, so the
pipeline only asks camelot when a table read by the primary extractor fails its own
arithmetic (see ``mappings.scoring``); the best-scoring candidate is kept and named in
``tables.method``.
"""

from __future__ import annotations

import logging
from collections import defaultdict

from .base import GridCell, RawGrid

log = logging.getLogger(__name__)


class _Union:
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


def table_to_grid(
    table, page_number: int, page_height: float, method: str, merge_spans: bool
) -> RawGrid:
    """Convert a camelot table; lattice cells without a dividing edge are merged (spans)."""
    cells = table.cells
    n_rows, n_cols = len(cells), len(cells[0]) if cells else 0
    union = _Union(n_rows * n_cols)
    if merge_spans:
        for r in range(n_rows):
            for c in range(n_cols):
                cell = cells[r][c]
                if c + 1 < n_cols and not cell.right and not cells[r][c + 1].left:
                    union.union(r * n_cols + c, r * n_cols + c + 1)
                if r + 1 < n_rows and not cell.bottom and not cells[r + 1][c].top:
                    union.union(r * n_cols + c, (r + 1) * n_cols + c)
    groups: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for r in range(n_rows):
        for c in range(n_cols):
            groups[union.find(r * n_cols + c)].append((r, c))
    col_bounds = (
        [float(x1) for x1, _ in table.cols] + [float(table.cols[-1][1])] if table.cols else []
    )
    rows_out: list[list[GridCell]] = [[] for _ in range(n_rows)]
    for members in groups.values():
        r0 = min(r for r, _ in members)
        c0, c1 = min(c for _, c in members), max(c for _, c in members)
        text = "\n".join(t for r, c in sorted(members) if (t := cells[r][c].text.strip()))
        first, last = cells[r0][c0], cells[max(r for r, _ in members)][c1]
        rows_out[r0].append(
            GridCell(
                text=text,
                col0=c0,
                col1=c1,
                x0=float(first.x1),
                x1=float(last.x2),
                top=page_height - float(first.y2),
                bottom=page_height - float(last.y1),
            )
        )
    for row in rows_out:
        row.sort(key=lambda cell: cell.col0)
    x1, y1, x2, y2 = table._bbox
    return RawGrid(
        page=page_number,
        bbox=(float(x1), page_height - float(y2), float(x2), page_height - float(y1)),
        col_bounds=col_bounds,
        rows=[row for row in rows_out if row],
        method=method,
    )


class CamelotExtractor:
    """camelot ``lattice`` (vector engine) or ``stream`` as a :class:`TableExtractor`."""

    def __init__(self, flavor: str = "lattice") -> None:
        self.flavor = flavor
        self.name = f"camelot-{flavor}"

    def extract_pages(
        self, pdf_path: str, pages: list[int], page_heights: dict[int, float]
    ) -> list[RawGrid]:
        import camelot

        kwargs = {"engine": "vector"} if self.flavor == "lattice" else {}
        try:
            tables = camelot.read_pdf(
                pdf_path,
                pages=",".join(map(str, pages)),
                flavor=self.flavor,
                suppress_stdout=True,
                **kwargs,
            )
        except Exception as error:  # camelot fails on some layouts; the primary result stands
            log.info("camelot %s failed on %s pages %s: %s", self.flavor, pdf_path, pages, error)
            return []
        return [
            table_to_grid(
                t,
                int(t.page),
                page_heights.get(int(t.page), 842.0),
                self.name,
                self.flavor == "lattice",
            )
            for t in tables
        ]
