"""Read pages with PDFium (pypdfium2): the fast page reader.

Produces the same :class:`PageContent` records as the pdfplumber reader (characters with
their boxes, ruled lines, text lines), about ten times faster, because PDFium parses content
streams in C++.  The grid builder downstream does not care which reader made the page; the
pdfplumber reader stays as the reference implementation and for cross-checks in tests.
"""

from __future__ import annotations

import ctypes
import logging
from collections.abc import Callable, Iterator
from pathlib import Path

from .base import Char, PageContent, Rule
from .document import (
    MIN_RULE_LENGTH,
    DocumentError,
    _merge_rules,
    check_pdf_header,
    classify_text_layer,
    group_lines,
)

log = logging.getLogger(__name__)

# A segment within this slope tolerance (points) counts as horizontal or vertical.
AXIS_TOLERANCE = 0.6
# A loose glyph box taller than this many font sizes spans an outsized declared ascent.
OUTSIZED_ASCENT = 1.5


def has_eof_marker(path: Path) -> bool:
    """A complete PDF ends with ``%%EOF`` (allowing trailing junk); a truncated one does not."""
    with path.open("rb") as handle:
        handle.seek(max(path.stat().st_size - 2048, 0))
        return b"%%EOF" in handle.read()


def open_pdfium(path: Path):  # -> pypdfium2.PdfDocument
    """Open with PDFium, turning load failures into :class:`DocumentError`."""
    import pypdfium2 as pdfium

    check_pdf_header(path)
    try:
        pdf = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as error:
        message = str(error)
        detail = (
            message[message.find("PDFium:") :].rstrip(".)") if "PDFium:" in message else message
        )
        if "password" in message.lower():
            raise DocumentError("encrypted PDF (password required)") from error
        if not has_eof_marker(path):
            raise DocumentError(f"truncated PDF (no %%EOF marker; {detail})") from error
        raise DocumentError(f"damaged PDF ({detail})") from error
    if len(pdf) == 0:
        pdf.close()
        raise DocumentError("PDF has no pages")
    return pdf


def page_count(path: Path) -> int | None:
    """The PDF's page count from its page tree (no page is parsed), or None when the file
    does not open: it is then reported by its own document run, not here."""
    try:
        pdf = open_pdfium(path)
    except (DocumentError, OSError):
        return None
    try:
        return len(pdf)
    finally:
        pdf.close()


Transform = Callable[[float, float], tuple[float, float]]


def display_transform(rotation: int, width: float, height: float) -> Transform:
    """Map PDF user space (origin bottom-left, unrotated) to the displayed page with its origin
    top-left, honouring the page's ``/Rotate`` (pdfplumber/pdfminer apply it too): landscape
    tables printed on portrait pages turned by ``/Rotate 90`` read like any other page.
    ``width``/``height`` are the displayed (rotated) page size."""
    if rotation == 90:
        return lambda x, y: (y, x)
    if rotation == 180:
        return lambda x, y: (width - x, y)
    if rotation == 270:
        return lambda x, y: (width - y, height - x)
    return lambda x, y: (x, height - y)


def _read_chars(page, to_display: Transform) -> list[Char]:
    """Every visible glyph of the page with its box (PDFium's calls bound once: this loop
    runs for every character of every page and is most of a text page's reading)."""
    import pypdfium2.raw as raw

    get_unicode, get_box = raw.FPDFText_GetUnicode, raw.FPDFText_GetLooseCharBox
    get_size = raw.FPDFText_GetFontSize
    textpage = page.get_textpage()
    chars: list[Char] = []
    rect = raw.FS_RECTF()
    box = ctypes.byref(rect)
    try:
        for index in range(textpage.count_chars()):
            code = get_unicode(textpage, index)
            if code in (0, 0xFFFE, 0xFFFF):
                continue
            text = chr(code)
            if text.isspace() or not get_box(textpage, index, box):
                continue
            size = float(get_size(textpage, index))
            xa, ya = to_display(rect.left, rect.top)
            xb, yb = to_display(rect.right, rect.bottom)
            top, bottom = (ya, yb) if ya <= yb else (yb, ya)
            if size > 0 and bottom - top > OUTSIZED_ASCENT * size:
                top = _em_top(textpage, index, to_display, top, bottom, size)
            chars.append(Char(text, min(xa, xb), max(xa, xb), top, bottom, size))
    finally:
        textpage.close()
    return chars


def _em_top(textpage, index: int, to_display: Transform, top: float, bottom: float, size: float):
    """The top of a glyph box one font size tall above its descent, for a font declaring an
    outsized ascent (a FontBBox almost two ems tall): PDFium's loose box then reaches a line
    above the glyph, and under a wrapped label printed across a row rule its first line is
    put into the row above. pdfminer (the reference reader) boxes every glyph one em tall
    from the font's descent; so do we when the box rises from its baseline (upright text)."""
    import pypdfium2.raw as raw

    x = ctypes.c_double()
    y = ctypes.c_double()
    if not raw.FPDFText_GetCharOrigin(textpage, index, ctypes.byref(x), ctypes.byref(y)):
        return top
    _, baseline = to_display(x.value, y.value)
    if top < baseline <= bottom + 0.5 and bottom - baseline <= 0.5 * size:
        return bottom - size
    return top


def _path_rules(obj, to_display: Transform) -> list[Rule]:
    """Horizontal and vertical segments of one path object, in top-left coordinates."""
    import pypdfium2.raw as raw

    fill = ctypes.c_int()
    stroke = ctypes.c_int()
    if raw.FPDFPath_GetDrawMode(obj, ctypes.byref(fill), ctypes.byref(stroke)) and not (
        fill.value or stroke.value
    ):
        return []
    matrix = raw.FS_MATRIX()
    if not raw.FPDFPageObj_GetMatrix(obj, ctypes.byref(matrix)):
        matrix.a, matrix.b, matrix.c, matrix.d, matrix.e, matrix.f = 1, 0, 0, 1, 0, 0
    points: list[tuple[float, float]] = []
    start: tuple[float, float] | None = None
    segments: list[tuple[tuple[float, float], tuple[float, float]]] = []
    x = ctypes.c_float()
    y = ctypes.c_float()
    for index in range(raw.FPDFPath_CountSegments(obj)):
        segment = raw.FPDFPath_GetPathSegment(obj, index)
        raw.FPDFPathSegment_GetPoint(segment, ctypes.byref(x), ctypes.byref(y))
        px = matrix.a * x.value + matrix.c * y.value + matrix.e
        py = matrix.b * x.value + matrix.d * y.value + matrix.f
        point = to_display(px, py)
        kind = raw.FPDFPathSegment_GetType(segment)
        if kind == raw.FPDF_SEGMENT_MOVETO or not points:
            points = [point]
            start = point
        else:
            if kind == raw.FPDF_SEGMENT_LINETO:
                segments.append((points[-1], point))
            points.append(point)
        if raw.FPDFPathSegment_GetClose(segment) and start is not None:
            segments.append((point, start))
    rules: list[Rule] = []
    for (x0, y0), (x1, y1) in segments:
        if abs(y1 - y0) <= AXIS_TOLERANCE and abs(x1 - x0) >= MIN_RULE_LENGTH:
            rules.append(Rule("h", (y0 + y1) / 2, min(x0, x1), max(x0, x1)))
        elif abs(x1 - x0) <= AXIS_TOLERANCE and abs(y1 - y0) >= MIN_RULE_LENGTH:
            rules.append(Rule("v", (x0 + x1) / 2, min(y0, y1), max(y0, y1)))
    return rules


def _read_objects(page, to_display: Transform) -> tuple[list[Rule], int]:
    import pypdfium2.raw as raw

    rules: list[Rule] = []
    n_images = 0
    for obj in page.get_objects(
        filter=[raw.FPDF_PAGEOBJ_PATH, raw.FPDF_PAGEOBJ_IMAGE], max_depth=2
    ):
        if obj.type == raw.FPDF_PAGEOBJ_IMAGE:
            n_images += 1
        else:
            rules.extend(_path_rules(obj, to_display))
    return _merge_rules(rules), n_images


def read_pdfium_page(page, number: int) -> PageContent:
    width, height = page.get_size()
    to_display = display_transform(page.get_rotation(), width, height)
    chars = _read_chars(page, to_display)
    rules, n_images = _read_objects(page, to_display)
    sample = "".join(c.text for c in chars[:2000])
    return PageContent(
        number=number,
        width=float(width),
        height=float(height),
        chars=chars,
        rules=rules,
        lines=group_lines(chars),
        text_layer=classify_text_layer(chars, sample, n_images),
        n_images=n_images,
    )


def iter_pdfium_pages(pdf) -> Iterator[PageContent]:
    """Yield pages one at a time, closing each PDFium page when done (flat memory).

    A page that does not load (a broken or circular page tree) or does not read is yielded
    empty (its OCR attempt then says why); DocumentError when no page loads at all.
    """
    failed = 0
    for index in range(len(pdf)):
        try:
            page = pdf[index]
        except Exception as error:  # pypdfium2's PdfiumError: the page object is unusable
            log.warning("page %s cannot be loaded: %s", index + 1, error)
            failed += 1
            yield PageContent(index + 1, 0.0, 0.0, [], [], [], "scanned")
            continue
        try:
            yield read_pdfium_page(page, index + 1)
        except Exception as error:  # a damaged page is reported, the rest goes on
            log.warning("page %s unreadable: %s", index + 1, error)
            width, height = page.get_size()
            yield PageContent(index + 1, float(width), float(height), [], [], [], "scanned")
        finally:
            page.close()
    if failed and failed == len(pdf):
        raise DocumentError(
            f"none of its {len(pdf)} pages can be loaded (a broken or circular page tree, or "
            "a page over the memory limit)"
        )
