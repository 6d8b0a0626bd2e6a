"""Plain records the extractors hand to the mappings: pages, text lines, rules, cell grids.

Nothing here knows about budgets.  Coordinates are PDF points with the origin at the top-left
corner of the page (pdfplumber's ``top``/``bottom`` convention).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

TextLayer = Literal["text", "scanned", "garbled"]


@dataclass(frozen=True, slots=True)
class Char:
    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    size: float = 0.0
    upright: bool = True

    @property
    def xc(self) -> float:
        return (self.x0 + self.x1) / 2

    @property
    def yc(self) -> float:
        return (self.top + self.bottom) / 2


def chars_outside(
    chars: list[Char], boxes: Sequence[tuple[float, float, float, float]], margin: float = 0.0
) -> list[Char]:
    """The characters whose centre is in none of the boxes (each widened by ``margin``): the
    text around tables. One pass with the boxes widened once — it runs for every character of
    every page, twice (borderless tables outside the ruled ones, prose outside all tables)."""
    if not boxes:
        return list(chars)
    widened = [
        (x0 - margin, top - margin, x1 + margin, bottom + margin) for x0, top, x1, bottom in boxes
    ]
    outside = []
    for char in chars:
        xc, yc = (char.x0 + char.x1) / 2, (char.top + char.bottom) / 2
        for x0, top, x1, bottom in widened:
            if x0 <= xc <= x1 and top <= yc <= bottom:
                break
        else:
            outside.append(char)
    return outside


@dataclass(frozen=True, slots=True)
class Rule:
    """A ruled line segment: horizontal (``y`` fixed) or vertical (``x`` fixed)."""

    orientation: Literal["h", "v"]
    pos: float  # y for horizontal, x for vertical
    start: float  # x0 for horizontal, top for vertical
    end: float


@dataclass(frozen=True, slots=True)
class TextLine:
    """A run of characters on one baseline, with spaces where the glyph gap is wide."""

    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    size: float = 0.0


@dataclass(slots=True)
class PageContent:
    """Everything later stages need from one page, read once."""

    number: int  # 1-based
    width: float
    height: float
    chars: list[Char]
    rules: list[Rule]
    lines: list[TextLine]
    text_layer: TextLayer
    n_images: int = 0

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)

    @property
    def landscape(self) -> bool:
        return self.width > self.height


@dataclass(frozen=True, slots=True)
class GridCell:
    """One (possibly spanning) cell of a table grid."""

    text: str
    col0: int
    col1: int  # inclusive
    x0: float
    x1: float
    top: float
    bottom: float


@dataclass(slots=True)
class RawGrid:
    """A table as an extractor sees it: rows of spanning cells over a set of columns."""

    page: int
    bbox: tuple[float, float, float, float]
    col_bounds: list[float]
    rows: list[list[GridCell]]
    method: str
    lines_above: list[TextLine] = field(default_factory=list)

    @property
    def n_cols(self) -> int:
        return max(len(self.col_bounds) - 1, 0)

    def row_texts(self, index: int) -> list[str]:
        """The row as one string per atomic column (a spanning cell fills its first column)."""
        out = [""] * self.n_cols
        for cell in self.rows[index]:
            out[cell.col0] = cell.text
        return out


class TableExtractor(Protocol):
    """Anything that turns a page into cell grids (pdfplumber rules, camelot, image grids)."""

    name: str

    def extract(self, pdf_path: str, page: PageContent) -> list[RawGrid]: ...
