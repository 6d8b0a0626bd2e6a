"""OCR for pages without a usable text layer: scans, and text layers that are garbage.

A page image becomes the same :class:`~extractors.base.PageContent` record the PDF readers
make: characters with boxes in PDF points (top-left origin) and the ruled lines found in the
image (:mod:`extractors.image_rules`).  The grid builder, the mappings and the repair rules
downstream then treat a scanned table exactly like a text one.

Steps for one page: render (pypdfium2) at the scan's own resolution → binarise → turn a
quarter-turned page upright and deskew (ruled lines, else the text lines' projection
profile) → find the rules and erase them (:mod:`extractors.image_rules`) → detect text lines
(PP-OCR DB detector, at ~88 dpi) → cut each line at the vertical rules it crosses (a figure
printed flush against the next cell's text) and, in tables ruled with horizontal lines only,
at the blank by each column boundary of the ruled header; split boxes holding two stacked
lines; drop slivers of a neighbour's box; box the ink the detector missed → recognise
(PP-OCR CTC recogniser) → one :class:`Char` per character, placed where the recogniser's CTC
alignment saw it and kept inside its piece, so the grid builder puts every character into
its own cell.

The engine is RapidOCR's bundled PP-OCR models run by ONNX Runtime: fully offline, the
models ship inside the ``rapidocr`` wheel.  Results are cached per page image
(:class:`OcrCache`), so a re-run does not OCR again.

Every character keeps its recogniser confidence (``OcrResult.confidences``); a table cell's
confidence is the lowest of its characters' (:func:`cell_confidences`).

This module reads a document's pages through OCR (:class:`DocumentOcr`); its parts:
``ocr_settings``, ``ocr_engine``, ``ocr_images`` (rendering, levelling, rules),
``ocr_segment`` (lines to characters), ``ocr_cache``, ``ocr_pages`` and ``ocr_reread``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .base import PageContent

# the OCR's parts, re-exported: its callers and tests know them as ``extractors.ocr.X``
from .ocr_cache import (  # noqa: F401
    OcrCache,
    default_cache_dir,
    image_key,
)
from .ocr_engine import (  # noqa: F401
    OcrEngine,
    Recognized,
    default_engine,
    engine_available,
    ocr_enabled,
)
from .ocr_images import (  # noqa: F401
    choose_dpi,
    level_page,
    render_gray,
)
from .ocr_pages import (  # noqa: F401
    needs_ocr,
    ocr_image,
    ocr_pdf_page,
    page_from_ocr,
)
from .ocr_reread import (
    REREAD_MAX_DPI,
    cell_variants,
    level_gray,
)
from .ocr_segment import (  # noqa: F401
    OcrResult,
    TextPiece,
    _drop_covered,
    _ink_rows,
    _missed_text,
    _pieces,
    _split_at_columns,
    _split_rows,
    chars_from_recognized,
    read_level_page,
)
from .ocr_settings import (  # noqa: F401
    CACHE_ENV,
    OCR_VERSION,
    OcrUnavailable,
    log,
)

# --------------------------------------------------------------------------- documents


@dataclass(slots=True)
class CellReading:
    """A grid cell read by OCR: where it is, what it says, how sure the recogniser was."""

    page: int
    text: str  # whitespace removed
    row_text: str  # the whole row, whitespace removed (to tell equal figures apart)
    bbox: tuple[float, float, float, float]  # points, level page
    confidence: float


def _squash(text: str) -> str:
    return "".join(text.split())


def cell_confidences(result: OcrResult, grids: list) -> list[CellReading]:
    """Each non-empty cell of ``grids`` with the lowest confidence of its characters."""
    readings: list[CellReading] = []
    pairs = list(zip(result.chars, result.confidences))
    for grid in grids:
        for row in grid.rows:
            row_text = _squash("".join(cell.text for cell in row))
            for cell in row:
                text = _squash(cell.text)
                if not text:
                    continue
                inside = [
                    p
                    for c, p in pairs
                    if cell.x0 - 2 <= c.xc <= cell.x1 + 2
                    and cell.top - 2 <= c.yc <= cell.bottom + 2
                ]
                confidence = min(inside) if inside else 0.0
                readings.append(
                    CellReading(
                        grid.page,
                        text,
                        row_text,
                        (cell.x0, cell.top, cell.x1, cell.bottom),
                        confidence,
                    )
                )
    return readings


class DocumentOcr:
    """OCR for the pages of one document that need it, and what it read there.

    ``read(page)`` returns the page itself when its text layer is usable, else the page as
    OCR read it.  The PDF is opened with PDFium on first need (or the caller's open
    ``pypdfium2`` document is used).
    """

    def __init__(
        self,
        path: Path | None = None,
        pdf=None,
        engine: OcrEngine | None = None,
        cache: OcrCache | None = None,
        enabled: bool | None = None,
    ) -> None:
        self.path = Path(path) if path else None
        self._pdf = pdf
        self._own_pdf = False
        self._engine = engine
        self.cache = cache if cache is not None else OcrCache.default()
        self.enabled = ocr_enabled() if enabled is None else enabled
        self.results: dict[int, OcrResult] = {}
        self.cells: dict[int, list[CellReading]] = {}
        self.errors: dict[int, str] = {}

    @property
    def engine(self) -> OcrEngine:
        if self._engine is None:
            self._engine = default_engine()
        return self._engine

    def _document(self):
        if self._pdf is None:
            import pypdfium2 as pdfium

            if self.path is None:
                raise ValueError("DocumentOcr needs a path or an open pypdfium2 document")
            self._pdf = pdfium.PdfDocument(str(self.path))
            self._own_pdf = True
        return self._pdf

    def read(self, page: PageContent) -> PageContent:
        if not (self.enabled and needs_ocr(page)):
            return page
        try:
            pdf_page = self._document()[page.number - 1]
            try:
                result = ocr_pdf_page(pdf_page, self._engine, self.cache)
            finally:
                pdf_page.close()
        except OcrUnavailable as error:
            log.warning("page %s needs OCR but %s", page.number, error)
            self.errors[page.number] = str(error)
            self.enabled = False
            return page
        except Exception as error:  # one page's OCR failure never fails the document
            log.warning("OCR failed on page %s: %s", page.number, error)
            self.errors[page.number] = f"{type(error).__name__}: {error}"
            return page
        self.results[page.number] = result
        return page_from_ocr(page, result)

    def reread(
        self, number: int, bboxes: list[tuple[float, float, float, float]]
    ) -> list[list[tuple[str, float]]]:
        """Read cells of an OCR page again at a higher resolution, two ways each.

        Returns, per box, the (text, confidence) of each reading (none when the cell holds
        no ink).  Cached like the pages.
        """
        result = self.results.get(number)
        if result is None or not bboxes:
            return [[] for _ in bboxes]
        keys = [
            hashlib.sha256(
                f"{result.key}|reread|{','.join(f'{v:.1f}' for v in box)}".encode()
            ).hexdigest()
            for box in bboxes
        ]
        out: list[list[tuple[str, float]] | None] = []
        for key in keys:
            cached = self.cache.get(key) if result.key else None
            out.append([tuple(r) for r in cached["readings"]] if cached else None)
        todo = [i for i, r in enumerate(out) if r is None]
        if todo:
            dpi = min(result.dpi * 2, REREAD_MAX_DPI)
            was_open = self._pdf is not None
            pdf_page = self._document()[number - 1]
            try:
                gray = level_gray(pdf_page, dpi, result.quarter_turns, result.angle)
            finally:
                pdf_page.close()
                if not was_open:
                    self.close()
            crops: list[np.ndarray] = []
            owners: list[int] = []
            for i in todo:
                for variant in cell_variants(gray, dpi, bboxes[i]):
                    crops.append(variant)
                    owners.append(i)
            readings: dict[int, list[tuple[str, float]]] = {i: [] for i in todo}
            for owner, rec in zip(owners, self.engine.recognize(crops)):
                if rec.text.strip():
                    readings[owner].append((_squash(rec.text), round(rec.score, 4)))
            for i in todo:
                out[i] = readings[i]
                if result.key:
                    self.cache.put(keys[i], {"version": OCR_VERSION, "readings": readings[i]})
        return [r or [] for r in out]

    def is_ocr(self, number: int) -> bool:
        return number in self.results

    def note_grids(self, number: int, grids: list) -> None:
        """Remember the cells of an OCR page's grids with their confidences."""
        if number in self.results:
            self.cells[number] = cell_confidences(self.results[number], grids)

    def cells_for(self, page: int, printed: str, row_label: str = "") -> list[CellReading]:
        """The cells of an OCR page a line item's figure may have come from (same text, and
        the same row label when that tells equal figures apart)."""
        readings = [c for c in self.cells.get(page, []) if c.text == _squash(printed)]
        label = _squash(row_label)
        if label and len(readings) > 1:
            narrowed = [c for c in readings if label in c.row_text]
            readings = narrowed or readings
        return readings

    def item_confidence(self, page: int, printed: str, row_label: str = "") -> float | None:
        """The confidence of the cell a line item's figure was read from (None: text layer)."""
        if page not in self.results:
            return None
        readings = self.cells_for(page, printed, row_label)
        return round(min(c.confidence for c in readings), 4) if readings else 0.0

    def attach_confidence(self, items: list[dict]) -> None:
        """Set ``confidence`` on every line item (None for figures from a text layer)."""
        for item in items:
            if item.get("page") in self.results:
                item["confidence"] = self.item_confidence(
                    item["page"], item.get("amount_printed") or "", item.get("row_label") or ""
                )
            else:
                item["confidence"] = None

    def close(self) -> None:
        if self._own_pdf and self._pdf is not None:
            self._pdf.close()
        self._pdf = None
