"""Which readers there are: page readers by name, and the fallback table readers.

One place that says which extractor reads what, so that the pipeline picks by name and the
choice between readings (``mappings/candidates.py``) takes its candidates from here, rather
than an if/else in the wiring. Adding a reader is an entry here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .base import PageContent
from .camelot_tables import CamelotExtractor
from .document import iter_pages, open_pdf
from .pdfium_pages import iter_pdfium_pages, open_pdfium


@dataclass(frozen=True, slots=True)
class PageReader:
    """A page reader: how to open a PDF, how to walk its pages, the grids' method name."""

    name: str
    open: Callable[[Path], object]
    pages: Callable[[object], Iterator[PageContent]]
    grid_method: str


PAGE_READERS: dict[str, PageReader] = {
    reader.name: reader
    for reader in (
        PageReader("pdfium", open_pdfium, iter_pdfium_pages, "pdfium-grid"),  # fast, default
        PageReader("pdfplumber", open_pdf, iter_pages, "pdfplumber-grid"),  # the reference
    )
}
DEFAULT_PAGE_READER = "pdfium"

# where a table's own arithmetic fails on the primary reading, these read it again, in order
FALLBACK_TABLE_READERS = (CamelotExtractor("lattice"), CamelotExtractor("stream"))


def page_reader(name: str = DEFAULT_PAGE_READER) -> PageReader:
    """The page reader of that name; ValueError naming the known ones otherwise."""
    try:
        return PAGE_READERS[name]
    except KeyError:
        known = ", ".join(PAGE_READERS)
        raise ValueError(f"unknown page reader {name!r}: one of {known}") from None
