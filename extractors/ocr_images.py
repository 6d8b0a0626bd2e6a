"""Page images for OCR: resolution, rendering within the pixel budget, levelling, rules found and erased.

Split from ``ocr.py`` (issue 18): one responsibility per file."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .base import Rule
from .limits import check_image_pixels, render_dpi
from .ocr_settings import (
    DEFAULT_DPI,
    MAX_DPI,
    MIN_DPI,
)

# an image over this share of the page is its scan (the page's resolution is the image's)
DEFAULT_SCAN_COVER = 0.25
DEFAULT_MIN_SKEW = 0.02  # degrees: a page turned less than this is left as it is

# --------------------------------------------------------------------------- page images


def native_dpi(pdf_page) -> float | None:
    """Resolution of the image that covers the page (a scan), or None; PageTooLarge when an
    image of the page is over the pixel budget (rendering would decode it whole)."""
    import pypdfium2.raw as raw

    width, height = pdf_page.get_size()
    best = None
    for obj in pdf_page.get_objects(filter=[raw.FPDF_PAGEOBJ_IMAGE], max_depth=2):
        try:
            left, bottom, right, top = obj.get_bounds()
            px_w, px_h = obj.get_px_size()
        except Exception:  # a broken image object: no resolution to tell
            continue
        check_image_pixels(px_w, px_h)
        w_pt, h_pt = right - left, top - bottom
        if w_pt * h_pt < DEFAULT_SCAN_COVER * width * height or w_pt <= 0 or h_pt <= 0:
            continue
        # the image may be placed turned a quarter: compare its long side with the long side
        dpi = max(px_w, px_h) / (max(w_pt, h_pt) / 72.0)
        best = max(best or 0.0, dpi)
    return best


def choose_dpi(pdf_page) -> float:
    """Render a scan at its own resolution (clamped); a garbled text page at the default."""
    dpi = native_dpi(pdf_page)
    if dpi is None:
        return DEFAULT_DPI
    return float(min(max(dpi, MIN_DPI), MAX_DPI))


def render_gray(pdf_page, dpi: float) -> np.ndarray:
    """The page in grey at ``dpi``, lowered to the render budget (PageTooLarge past it)."""
    width, height = pdf_page.get_size()
    dpi = render_dpi(width, height, dpi, lowest=min(dpi, MIN_DPI / 2))
    bitmap = pdf_page.render(scale=dpi / 72.0, grayscale=True)
    array = bitmap.to_numpy()
    if array.ndim == 3:
        array = array[..., 0]
    return np.ascontiguousarray(array)


@dataclass(slots=True)
class LevelPage:
    """A page image made level and upright, with its ruled lines found and erased."""

    gray: np.ndarray  # level, upright, rules kept (re-reading crops come from here)
    clean: np.ndarray  # rules erased: what the recogniser sees
    binary: np.ndarray  # ink mask of ``clean``
    dpi: float
    angle: float
    quarter_turns: int  # 90° clockwise turns applied before levelling
    rules: list[Rule]
    mask: np.ndarray  # pixels of the erased rules

    @property
    def scale(self) -> float:
        return self.dpi / 72.0


Affine = tuple[float, float, float, float, float, float]  # SVG matrix(a b c d e f)


def levelled_to_page(width: float, height: float, angle: float, quarter_turns: int) -> Affine:
    """The map from a levelled page's coordinates (points; the page is ``width`` × ``height``
    once levelled) back to the page as rendered, undoing :func:`level_page`: first its
    deskew (a rotation about the centre), then its quarter turns. As an SVG ``matrix(a b c d
    e f)``: ``x = a·x' + c·y' + e``, ``y = b·x' + d·y' + f``. The review draws OCR'd grids
    on the page image with it: without it a scan skewed by a degree showed its grid off by
    a few points at the page's edges, and a page turned a quarter showed it across the page.
    """
    matrix: Affine = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
    if abs(angle) >= DEFAULT_MIN_SKEW:
        # OpenCV turned the image by ``angle`` counter-clockwise about its centre
        # (q = A(p - c) + c, A = [[cos, sin], [-sin, cos]], y down): p = Aᵀ(q - c) + c
        cos, sin = math.cos(math.radians(angle)), math.sin(math.radians(angle))
        cx, cy = width / 2, height / 2
        matrix = (cos, sin, -sin, cos, cx - cos * cx + sin * cy, cy - sin * cx - cos * cy)
    turned_width, turned_height = width, height
    for _ in range(quarter_turns % 4):
        # undo one clockwise quarter turn of a page now turned_width wide: (x', y') →
        # (y', turned_width - x'); the page before it was as wide as this one is high
        matrix = _then(matrix, (0.0, -1.0, 1.0, 0.0, 0.0, turned_width))
        turned_width, turned_height = turned_height, turned_width
    return matrix


def _then(first: Affine, second: Affine) -> Affine:
    """``second`` applied after ``first``."""
    a1, b1, c1, d1, e1, f1 = first
    a2, b2, c2, d2, e2, f2 = second
    return (
        a2 * a1 + c2 * b1,
        b2 * a1 + d2 * b1,
        a2 * c1 + c2 * d1,
        b2 * c1 + d2 * d1,
        a2 * e1 + c2 * f1 + e2,
        b2 * e1 + d2 * f1 + f2,
    )


def level_page(
    gray: np.ndarray, dpi: float, quarter_turns: int | None = None, angle: float | None = None
) -> LevelPage:
    """Turn upright, deskew, find the rules and erase them (``angle``: known skew)."""
    import cv2

    from .image_rules import binarize, estimate_skew, find_lines, rotate, text_axis_vertical

    binary = binarize(gray, dpi)
    if quarter_turns is None:
        quarter_turns = 1 if text_axis_vertical(binary) else 0
    if quarter_turns % 4:
        gray = np.ascontiguousarray(np.rot90(gray, k=-(quarter_turns % 4)))
        binary = binarize(gray, dpi)
    if angle is None:
        angle = estimate_skew(binary, dpi)
    if abs(angle) >= DEFAULT_MIN_SKEW:
        gray = rotate(gray, angle)
        binary = binarize(gray, dpi)
    lines = find_lines(binary, dpi)
    clean = gray.copy()
    # erase with the paper's own tone: a white stripe beside a figure reads as a "1"
    paper = int(np.median(gray[binary == 0])) if (binary == 0).any() else 255
    clean[lines.mask > 0] = paper
    clean_binary = binary.copy()
    clean_binary[lines.mask > 0] = 0
    # specks left by the erased rules' anti-aliased edges are not ink
    clean_binary = cv2.morphologyEx(clean_binary, cv2.MORPH_OPEN, np.ones((2, 2), np.uint8))
    return LevelPage(gray, clean, clean_binary, dpi, angle, quarter_turns, lines.rules, lines.mask)
