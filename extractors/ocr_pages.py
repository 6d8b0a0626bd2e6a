"""One page through OCR (via the cache) and the page as the text readers would give it.

Split from ``ocr.py`` (issue 18): one responsibility per file."""

from __future__ import annotations

import time

import numpy as np

from .base import PageContent
from .document import group_lines
from .ocr_cache import (
    OcrCache,
    image_key,
)
from .ocr_engine import (
    OcrEngine,
    default_engine,
    default_engine_name,
)
from .ocr_images import (
    choose_dpi,
    level_page,
    render_gray,
)
from .ocr_segment import (
    OcrResult,
    read_level_page,
)

# --------------------------------------------------------------------------- pages


def needs_ocr(page: PageContent) -> bool:
    """A page with an image but no usable text (scan), or a garbled text layer."""
    return page.text_layer == "garbled" or (page.text_layer == "scanned" and page.n_images > 0)


# Below this mean character confidence a page is read again in the other orientations.
ORIENTATION_CONFIDENCE = 0.8


def ocr_image(gray: np.ndarray, dpi: float, engine: OcrEngine) -> OcrResult:
    """OCR one page image: upright, level, rules, characters (the work behind the cache).

    The quarter turn is guessed from the shape of the ink; a page that then reads poorly
    (upside down, or turned the other way) is read in the remaining orientations and the
    orientation that reads best is kept.
    """
    started = time.perf_counter()
    level = level_page(gray, dpi)
    result = read_level_page(level, engine)
    if result.chars and result.mean_confidence() < ORIENTATION_CONFIDENCE:
        first = level.quarter_turns
        for turns in ((first + 2) % 4, (first + 1) % 4, (first + 3) % 4):
            other = read_level_page(level_page(gray, dpi, quarter_turns=turns), engine)
            if other.mean_confidence() > result.mean_confidence():
                result = other
            if result.mean_confidence() >= ORIENTATION_CONFIDENCE:
                break
    result.seconds = round(time.perf_counter() - started, 3)
    return result


def ocr_pdf_page(
    pdf_page, engine: OcrEngine | None = None, cache: OcrCache | None = None
) -> OcrResult:
    """OCR a pypdfium2 page, through the cache (``result.key`` is the page image's key).

    Without an ``engine`` the default one is loaded only when the page is not cached.
    """
    cache = cache if cache is not None else OcrCache.default()
    dpi = choose_dpi(pdf_page)
    gray = render_gray(pdf_page, dpi)
    key = image_key(gray, dpi, engine.name if engine else default_engine_name())
    cached = cache.get(key)
    if cached is not None:
        result = OcrResult.from_json(cached)
    else:
        result = ocr_image(gray, dpi, engine or default_engine())
        cache.put(key, result.to_json())
    result.key = key
    return result


def page_from_ocr(page: PageContent, result: OcrResult) -> PageContent:
    """The page as the text readers would have given it, from what OCR read."""
    return PageContent(
        number=page.number,
        width=result.width,
        height=result.height,
        chars=result.chars,
        rules=result.rules,
        lines=group_lines(result.chars),
        text_layer=page.text_layer,
        n_images=page.n_images,
    )
