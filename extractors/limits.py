"""Bounds on what one document may cost: memory, rendered pixels, decoded image pixels.

A hostile or broken PDF (a content stream that inflates to gigabytes, a 30000 × 30000 image,
a page 200 inches wide) must fail its own document, with a clear reason, and never the batch
or the machine. Three bounds, each a named default that a setting can change:

* every document process runs under an address-space limit (``RLIMIT_AS``,
  ``BUDGET_DISCLOSURES_MEMORY_LIMIT_MB``; 0 switches it off): an allocation beyond it fails in
  that process only. Address space, not resident memory: an OCR'd document maps ~1.5 GB, and
  each thread's stack and malloc arena add to it, so the default grows with the cores
  (4096 MB on up to 12, 2048 + 160 per core beyond); a 1 GB limit is too little for a document;
* a page is never rendered to more than :data:`DEFAULT_MAX_RENDER_PIXELS` (the resolution is
  lowered to fit; below the lowest useful resolution the page is refused);
* a page whose image is bigger than :data:`DEFAULT_MAX_IMAGE_PIXELS` is not rendered at all:
  drawing it would decode the whole image first (900 MB for 30000 × 30000 grey).
"""

from __future__ import annotations

import math
import os

MEMORY_LIMIT_ENV = "BUDGET_DISCLOSURES_MEMORY_LIMIT_MB"
DEFAULT_MEMORY_LIMIT_MB = 4096
MEMORY_PER_CORE_MB = 160  # a thread's stack and malloc arena, with room
# an A3 page at 400 dpi is 31 M pixels; A4 at the OCR's 300 dpi 8.7 M
DEFAULT_MAX_RENDER_PIXELS = 40_000_000
# a 600-dpi A3 scan is 70 M pixels
DEFAULT_MAX_IMAGE_PIXELS = 100_000_000


class PageTooLarge(ValueError):
    """A page that would cost more pixels to render than the budget allows."""


def default_memory_limit_mb() -> int:
    """4096 MB, or more on a machine with many cores (threads map address space)."""
    return max(DEFAULT_MEMORY_LIMIT_MB, 2048 + MEMORY_PER_CORE_MB * (os.cpu_count() or 1))


def memory_limit_mb() -> int:
    """The setting in MB (0: no limit), else the default (also for an unreadable value)."""
    raw = os.environ.get(MEMORY_LIMIT_ENV, "").strip()
    try:
        return max(int(raw), 0) if raw else default_memory_limit_mb()
    except ValueError:
        return default_memory_limit_mb()


def cap_memory(limit: int | None = None) -> int:
    """Limit this process's address space to ``limit`` MB (default: the setting) — a document
    process, before its document; returns the limit set (0: none, or no ``RLIMIT_AS`` here)."""
    limit = memory_limit_mb() if limit is None else limit
    if not limit:
        return 0
    try:
        import resource

        hard = resource.getrlimit(resource.RLIMIT_AS)[1]
        wanted = limit * 1024 * 1024
        if hard != resource.RLIM_INFINITY:
            wanted = min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_AS, (wanted, hard))
    except (ImportError, AttributeError, ValueError, OSError):
        return 0
    return limit


def render_dpi(width_pt: float, height_pt: float, dpi: float, lowest: float) -> float:
    """``dpi``, lowered so that the page renders to at most the pixel budget; PageTooLarge
    when even ``lowest`` would exceed it."""
    area = max(width_pt, 1.0) * max(height_pt, 1.0) / (72.0 * 72.0)  # square inches
    fitting = math.sqrt(DEFAULT_MAX_RENDER_PIXELS / area)
    if fitting >= dpi:
        return dpi
    if fitting < lowest:
        raise PageTooLarge(
            f"page of {width_pt:.0f} × {height_pt:.0f} pt is too large to render "
            f"({area * lowest * lowest / 1e6:.0f} M pixels at {lowest:.0f} dpi, budget "
            f"{DEFAULT_MAX_RENDER_PIXELS / 1e6:.0f} M)"
        )
    return fitting


def check_image_pixels(width_px: int, height_px: int) -> None:
    """PageTooLarge for an image whose decoding alone would exceed the image budget."""
    if width_px * height_px > DEFAULT_MAX_IMAGE_PIXELS:
        raise PageTooLarge(
            f"an image of {width_px} × {height_px} px is over the budget of "
            f"{DEFAULT_MAX_IMAGE_PIXELS / 1e6:.0f} M pixels; not decoded"
        )
