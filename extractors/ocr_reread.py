"""Re-reading suspicious cells at a higher resolution, two ways each.

Split from ``ocr.py`` (issue 18): one responsibility per file."""

from __future__ import annotations

import numpy as np

from .ocr_images import (
    DEFAULT_MIN_SKEW,
    render_gray,
)

# --------------------------------------------------------------------------- re-reading cells

# Re-read suspicious cells at twice the page's resolution (bounded).
REREAD_MAX_DPI = 400.0
DEFAULT_RULE_INK = 0.6  # a crop's edge row or column inked over this share is the cell's rule
DEFAULT_CELL_PAD = 1.0  # points: a cell is cropped this far beyond its rules
DEFAULT_INK_MARGIN = 0.3  # the ink is framed with this share of its height around it


def level_gray(pdf_page, dpi: float, quarter_turns: int, angle: float) -> np.ndarray:
    """The page rendered at ``dpi``, turned and levelled as a previous OCR pass found it."""
    from .image_rules import rotate

    gray = render_gray(pdf_page, dpi)
    if quarter_turns % 4:
        gray = np.ascontiguousarray(np.rot90(gray, k=-(quarter_turns % 4)))
    return rotate(gray, angle) if abs(angle) >= DEFAULT_MIN_SKEW else gray


def _erase_border_rules(
    crop: np.ndarray, binary: np.ndarray, paper: int
) -> tuple[np.ndarray, np.ndarray]:
    """Blank the rows and columns near a cell crop's edges that are mostly ink (its rules)."""
    crop = crop.copy()
    binary = binary.copy()
    h, w = binary.shape
    band_y = max(2, h // 5)
    band_x = max(2, min(w // 5, h // 2))
    rows = binary.mean(axis=1) / 255.0
    cols = binary.mean(axis=0) / 255.0
    for y in list(range(band_y)) + list(range(h - band_y, h)):
        if rows[y] > DEFAULT_RULE_INK:
            crop[y, :] = paper
            binary[y, :] = 0
    for x in list(range(band_x)) + list(range(w - band_x, w)):
        if cols[x] > DEFAULT_RULE_INK:
            crop[:, x] = paper
            binary[:, x] = 0
    return crop, binary


def cell_variants(
    gray: np.ndarray, dpi: float, bbox: tuple[float, float, float, float]
) -> list[np.ndarray]:
    """Crops of one cell for a second reading: the ink tightly framed, grey and binarised."""
    import cv2

    from .image_rules import binarize

    scale = dpi / 72.0
    h, w = gray.shape
    x0, top, x1, bottom = bbox
    pad = DEFAULT_CELL_PAD * scale  # beyond the cell's rules, to catch them whole
    xa, xb = max(0, int(x0 * scale - pad)), min(w, int(x1 * scale + pad))
    ya, yb = max(0, int(top * scale - pad)), min(h, int(bottom * scale + pad))
    crop = gray[ya:yb, xa:xb]
    if crop.size == 0:
        return []
    binary = binarize(crop, dpi)
    paper = int(np.median(crop[binary == 0])) if (binary == 0).any() else 255
    crop, binary = _erase_border_rules(crop, binary, paper)
    binary = cv2.morphologyEx(binary, cv2.MORPH_OPEN, np.ones((2, 2), np.uint8))
    n, _labels, stats, _ = cv2.connectedComponentsWithStats(binary)
    keep = [s for s in stats[1:] if s[4] >= max(4, int(scale))]
    if not keep:
        return []
    ix0 = min(s[0] for s in keep)
    iy0 = min(s[1] for s in keep)
    ix1 = max(s[0] + s[2] for s in keep)
    iy1 = max(s[1] + s[3] for s in keep)
    margin = max(2, int((iy1 - iy0) * DEFAULT_INK_MARGIN))
    ch, cw = crop.shape
    tight = crop[
        max(0, iy0 - margin) : min(ch, iy1 + margin), max(0, ix0 - margin) : min(cw, ix1 + margin)
    ]
    if tight.size == 0:
        return []
    _, otsu = cv2.threshold(tight, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    smooth = cv2.GaussianBlur(otsu, (3, 3), 0)
    return [cv2.cvtColor(v, cv2.COLOR_GRAY2BGR) for v in (tight, smooth)]
