"""Pages as a reviewer sees them: the rendered image and the grids the reader found on it.

The review site (:mod:`curation.review`) overlays the detected table areas and cell grids on
each table page. The curated datasets keep no geometry, so the pages are read again here,
with the same page reader and grid builder as the ingest (OCR'd pages come from the OCR
cache when the ingest filled it), and rendered at a modest resolution.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .base import RawGrid
from .grid import RuledGridExtractor
from .limits import render_dpi
from .ocr import DocumentOcr
from .ocr_images import Affine, levelled_to_page
from .pdfium_pages import open_pdfium, read_pdfium_page

DEFAULT_REVIEW_DPI = 100  # legible 9-point figures; a 50-page document's images stay ~5 MB


@dataclass(frozen=True, slots=True)
class ReviewPage:
    """One page: its size in points (as rendered), whether OCR read it, the grids found on
    it, and for an OCR'd page the map from the grids' coordinates (the levelled page OCR
    read: deskewed, turned upright) to the rendered page's (:func:`levelled_to_page`)."""

    number: int
    width: float
    height: float
    ocr: bool
    grids: tuple[RawGrid, ...]
    to_page: Affine | None = None


def read_review_pages(path: Path, numbers: Iterable[int]) -> dict[int, ReviewPage]:
    """The grids of the given pages (1-based), read as the ingest reads them."""
    wanted = sorted(set(numbers))
    pdf = open_pdfium(path)
    ocr = DocumentOcr(path)
    text_grids, ocr_grids = RuledGridExtractor("pdfium-grid"), RuledGridExtractor("ocr-grid")
    out: dict[int, ReviewPage] = {}
    try:
        for number in wanted:
            if not 1 <= number <= len(pdf):
                continue
            handle = pdf[number - 1]
            try:
                printed = read_pdfium_page(handle, number)
                page = ocr.read(printed)
            finally:
                handle.close()
            is_ocr = ocr.is_ocr(number)
            grids = (ocr_grids if is_ocr else text_grids).extract(str(path), page)
            result = ocr.results.get(number) if is_ocr else None
            to_page = (
                levelled_to_page(page.width, page.height, result.angle, result.quarter_turns)
                if result is not None
                else None
            )
            out[number] = ReviewPage(
                number, printed.width, printed.height, is_ocr, tuple(grids), to_page
            )
    finally:
        ocr.close()
        pdf.close()
    return out


def render_page(path: Path, number: int, target: Path, dpi: int = DEFAULT_REVIEW_DPI) -> None:
    """Render one page to a JPEG at ``dpi`` (~80 KB a page at 100 dpi; grey saves only 3 %);
    kept when ``target`` exists (images are named by the PDF's SHA-256 and the resolution,
    so a re-run reuses them)."""
    if target.exists():
        return
    pdf = open_pdfium(path)
    try:
        page = pdf[number - 1]
        try:
            width, height = page.get_size()
            scale = render_dpi(width, height, dpi, lowest=min(dpi, 36)) / 72.0
            image = page.render(scale=scale).to_pil().convert("RGB")
        finally:
            page.close()
    finally:
        pdf.close()
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.tmp")
    image.save(temporary, format="JPEG", quality=70, optimize=True)
    temporary.replace(target)
