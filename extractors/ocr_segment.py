"""From recognised text lines to characters: lines cut at rules and gaps, glyph boxes, confidences.

Split from ``ocr.py`` (issue 18): one responsibility per file."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .base import Char, Rule
from .ocr_engine import (
    OcrEngine,
    Recognized,
)
from .ocr_images import (
    LevelPage,
)
from .ocr_settings import (
    DET_DPI,
    MISSED_MIN_CONFIDENCE,
    OCR_VERSION,
)

# --------------------------------------------------------------------------- text lines → chars

_NARROW = set("0123456789.,-+()%:;/!|'\"[] ")
_FIGURE = set("0123456789.,-")

# The geometry of recognised text, named as pdfplumber names its settings (``DEFAULT_*``): in
# ems of the text line (page pixels) unless said; each says which layout feature it handles.
DEFAULT_PUNCT_WIDTH = 0.3  # a period or comma is this many ems wide
DEFAULT_LATIN_WIDTH = 0.55  # a digit or Latin letter is this many ems wide (an ideograph one)
DEFAULT_RULED_SHARE = 0.5  # a pixel column inked over this share of a box's height is a rule
DEFAULT_CUT_REACH = 0.6  # a box is cut at a column bound within this many ems of it
DEFAULT_LINE_SHARE = 0.5  # an ink band this share as tall as the tallest is a line of its own
DEFAULT_MISSED_HEIGHT = (0.6, 2.5)  # ink the detector missed: a word this many ems tall
DEFAULT_MISSED_FILL = 0.2  # ... whose ink fills at least this share of its box
DEFAULT_MISSED_PAD = 0.3  # ... read with this many ems around it
DEFAULT_FAINT_ROW = 0.05  # a pixel row under this share of the fullest row's ink parts two lines
DEFAULT_ROW_MARGIN = 0.3  # a piece trimmed to its line of ink plus this share of the line height
DEFAULT_INK_EM = (0.9, 0.72)  # ideographs fill this share of an em, digits this share
DEFAULT_SPACE_GAP = 0.6  # a gap under this many ems between glyphs is no space
DEFAULT_GLYPH_HALF_HEIGHT = 0.55  # a glyph box reaches this many ems above and below the centre
DEFAULT_COVERED = (0.7, 0.5)  # a box inside a wider one over these shares of its width, height


def _natural_width(ch: str, em: float) -> float:
    """Approximate advance of a glyph: ideographs are square, digits about half as wide."""
    if ch in ".,:;'|!":
        return DEFAULT_PUNCT_WIDTH * em
    if ch in _NARROW or ch.isascii():
        return DEFAULT_LATIN_WIDTH * em
    return em


@dataclass(slots=True)
class TextPiece:
    """One stretch of a text line between two vertical rules (image px, level page)."""

    x0: int
    y0: int
    x1: int
    y1: int


def _pieces(boxes: list[np.ndarray], mask: np.ndarray, width: int, height: int) -> list[TextPiece]:
    """Axis-aligned line boxes, cut where an (erased) vertical rule crosses them.

    A column of the box whose rows are mostly rule pixels is a vertical rule: the box is cut
    there and the rule's own columns are left out of both sides.
    """
    out: list[TextPiece] = []
    for quad in boxes:
        x0 = int(max(0, math.floor(quad[:, 0].min())))
        x1 = int(min(width, math.ceil(quad[:, 0].max())))
        y0 = int(max(0, math.floor(quad[:, 1].min())))
        y1 = int(min(height, math.ceil(quad[:, 1].max())))
        if x1 - x0 < 3 or y1 - y0 < 3:
            continue
        band = mask[y0:y1, x0:x1] > 0
        ruled = band.mean(axis=0) > DEFAULT_RULED_SHARE
        start = None
        for offset in range(x1 - x0 + 1):
            inside = offset < x1 - x0 and not ruled[offset]
            if inside and start is None:
                start = offset
            elif not inside and start is not None:
                # one pixel of clearance from the erased rule on each side
                a = x0 + start + (1 if start > 0 else 0)
                b = x0 + offset - (1 if offset < x1 - x0 else 0)
                if b - a >= 4:
                    out.append(TextPiece(a, y0, b, y1))
                start = None
    return out


def _split_at_columns(piece: TextPiece, binary: np.ndarray, bounds: list[float]) -> list[TextPiece]:
    """Cut a piece at the blank nearest each column boundary it crosses.

    In a table ruled with horizontal lines only, the columns come from the ruled header and
    two figures of neighbouring cells come out of the detector as one line; the blank between
    them (the cells' padding) next to the header's column boundary is where they part.  Text
    that runs across a boundary without a blank (an overflowing name) is left whole.
    """
    inside = [b for b in bounds if piece.x0 + 2 < b < piece.x1 - 2]
    if not inside:
        return [piece]
    region = binary[piece.y0 : piece.y1, piece.x0 : piece.x1]
    rows = np.nonzero(region.sum(axis=1) > 0)[0]
    if len(rows) == 0:
        return [piece]
    em = float(rows[-1] - rows[0] + 1)
    blank = region.sum(axis=0) == 0
    cuts = []
    for bound in inside:
        reach = max(2, int(em * DEFAULT_CUT_REACH))
        centre = int(round(bound)) - piece.x0
        candidates = [
            c
            for c in range(max(0, centre - reach), min(len(blank), centre + reach + 1))
            if blank[c]
        ]
        if candidates:
            cuts.append(min(candidates, key=lambda c: abs(c - centre)))
    out = []
    start = 0
    for cut in sorted(set(cuts)):
        if cut - start >= 3:
            out.append(TextPiece(piece.x0 + start, piece.y0, piece.x0 + cut, piece.y1))
        start = cut + 1
    if len(region[0]) - start >= 3:
        out.append(TextPiece(piece.x0 + start, piece.y0, piece.x1, piece.y1))
    return out or [piece]


def _split_rows(piece: TextPiece, binary: np.ndarray) -> list[TextPiece]:
    """Cut a box that holds two lines of text (a wrapped header in tiny print) into lines."""
    runs = _ink_runs(binary, piece)
    if len(runs) < 2:
        return [piece]
    tall = max(b - a + 1 for a, b, _ink in runs)
    lines = [r for r in runs if r[1] - r[0] + 1 >= DEFAULT_LINE_SHARE * tall]
    if len(lines) < 2:
        return [piece]
    out = []
    top = piece.y0
    for upper, lower in zip(lines, lines[1:]):
        cut = (upper[1] + lower[0]) // 2
        out.append(TextPiece(piece.x0, top, piece.x1, cut + 1))
        top = cut + 1
    out.append(TextPiece(piece.x0, top, piece.x1, piece.y1))
    return out


def _missed_text(
    binary: np.ndarray, pieces: list[TextPiece], boxes: list[np.ndarray]
) -> list[np.ndarray]:
    """Boxes around ink the detector left out (a short header word in a tiny-print table)."""
    import cv2

    if not pieces:
        return []
    heights = [r[1] - r[0] for p in pieces if (r := _ink_rows(binary, p))]
    em = float(np.median(heights)) if heights else 0.0
    if em < 4:
        return []
    covered = np.zeros_like(binary)
    for quad in boxes:
        cv2.fillPoly(covered, [np.round(quad).astype(np.int32)], 255)
    for p in pieces:
        covered[p.y0 : p.y1, p.x0 : p.x1] = 255
    covered = cv2.dilate(covered, np.ones((3, 3), np.uint8))
    residual = cv2.bitwise_and(binary, cv2.bitwise_not(covered))
    joined = cv2.morphologyEx(
        residual,
        cv2.MORPH_CLOSE,
        cv2.getStructuringElement(cv2.MORPH_RECT, (max(3, int(em * DEFAULT_SPACE_GAP)), 1)),
    )
    n, _labels, stats, _ = cv2.connectedComponentsWithStats(joined)
    out = []
    h_img, w_img = binary.shape
    for x, y, w, h, area in stats[1:]:
        low, high = DEFAULT_MISSED_HEIGHT
        if not (
            low * em <= h <= high * em and w >= low * em and area >= DEFAULT_MISSED_FILL * w * h
        ):
            continue
        pad = em * DEFAULT_MISSED_PAD
        x0, y0 = max(0, x - pad), max(0, y - pad)
        x1, y1 = min(w_img, x + w + pad), min(h_img, y + h + pad)
        out.append(np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float32))
    return out


def _ink_runs(binary: np.ndarray, piece: TextPiece) -> list[tuple[int, int, int]]:
    """Bands of inked rows in a piece: (first row, last row, ink) in page px."""
    region = binary[piece.y0 : piece.y1, piece.x0 : piece.x1]
    if region.size == 0:
        return []
    counts = (region > 0).sum(axis=1)
    if counts.max() == 0:
        return []
    # blurred print leaves a pixel or two between lines: a near-empty row parts them
    inked = counts > max(0, int(DEFAULT_FAINT_ROW * counts.max()))
    runs: list[tuple[int, int, int]] = []
    start = None
    for row, on in enumerate([*inked, False]):
        if on and start is None:
            start = row
        elif not on and start is not None:
            runs.append((piece.y0 + start, piece.y0 + row - 1, int(counts[start:row].sum())))
            start = None
    return runs


def _ink_rows(binary: np.ndarray, piece: TextPiece) -> tuple[float, float] | None:
    """Top and bottom (px) of the piece's main band of ink, or None when it holds no ink.

    Detector boxes of stacked lines overlap: the strokes of the line above or below that
    reach into a box are not its text."""
    runs = _ink_runs(binary, piece)
    if not runs:
        return None
    first, last, _ink = max(runs, key=lambda r: r[2])
    return float(first), float(last + 1)


def _fit_rows(piece: TextPiece, binary: np.ndarray) -> TextPiece:
    """The piece trimmed to its main line of ink plus a margin, clear of its neighbours'."""
    runs = _ink_runs(binary, piece)
    if len(runs) < 2:
        return piece
    main = max(range(len(runs)), key=lambda i: runs[i][2])
    first, last, _ink = runs[main]
    margin = max(2, int(round((last - first + 1) * DEFAULT_ROW_MARGIN)))
    top = max(first - margin, runs[main - 1][1] + 1 if main > 0 else piece.y0, piece.y0)
    bottom = min(
        last + 1 + margin, runs[main + 1][0] if main + 1 < len(runs) else piece.y1, piece.y1
    )
    return TextPiece(piece.x0, top, piece.x1, bottom)


def chars_from_recognized(
    rec: Recognized, piece: TextPiece, crop_x0: int, ink: tuple[float, float] | None, scale: float
) -> tuple[list[Char], list[float]]:
    """Characters placed by their CTC positions, in points; spaces become gaps."""
    if not rec.text:
        return [], []
    top_px, bottom_px = ink if ink else (float(piece.y0), float(piece.y1))
    ink_h = max(bottom_px - top_px, 1.0)
    has_wide = any(not (c in _NARROW or c.isascii()) for c in rec.text)
    wide_ink, narrow_ink = DEFAULT_INK_EM
    em = ink_h / (wide_ink if has_wide else narrow_ink)
    yc = (top_px + bottom_px) / 2
    centers = [crop_x0 + c for c in rec.centers]
    n = len(rec.text)
    nat = [_natural_width(ch, em) for ch in rec.text]
    lefts = [centers[i] - nat[i] / 2 for i in range(n)]
    rights = [centers[i] + nat[i] / 2 for i in range(n)]
    for i in range(n - 1):
        if rec.text[i] == " " or rec.text[i + 1] == " ":
            continue
        gap = centers[i + 1] - centers[i] - (nat[i] + nat[i + 1]) / 2
        number = rec.text[i] in _FIGURE and rec.text[i + 1] in _FIGURE
        if (
            gap < DEFAULT_SPACE_GAP * em or number
        ):  # one word, one figure: touching boxes, no spurious space
            mid = (centers[i] + centers[i + 1]) / 2
            mid = min(max(mid, lefts[i] + 1), rights[i + 1] - 1)
            rights[i] = mid
            lefts[i + 1] = mid
    size = em / scale
    top = (yc - em * DEFAULT_GLYPH_HALF_HEIGHT) / scale
    bottom = (yc + em * DEFAULT_GLYPH_HALF_HEIGHT) / scale
    chars: list[Char] = []
    confidences: list[float] = []
    for i, ch in enumerate(rec.text):
        if not ch.strip():
            continue
        # a piece never crosses a rule: its characters stay inside it (and so in its cell)
        x0 = min(max(lefts[i], piece.x0), piece.x1 - 1)
        x1 = max(min(rights[i], piece.x1), x0 + 1)
        # rounded as the cache stores them: a cached page gives exactly the same rows
        chars.append(
            Char(
                ch,
                round(x0 / scale, 2),
                round(x1 / scale, 2),
                round(top, 2),
                round(bottom, 2),
                round(size, 2),
            )
        )
        confidences.append(round(float(rec.probs[i]), 4))
    return chars, confidences


@dataclass(slots=True)
class OcrResult:
    """What OCR read on one page: characters (points), their confidences, and the rules."""

    width: float
    height: float
    chars: list[Char]
    confidences: list[float]
    rules: list[Rule]
    dpi: float
    angle: float
    quarter_turns: int
    seconds: float = 0.0
    engine: str = ""
    key: str = ""  # the page image's cache key (set by ocr_pdf_page)

    def mean_confidence(self) -> float:
        return float(np.mean(self.confidences)) if self.confidences else 0.0

    def to_json(self) -> dict:
        return {
            "version": OCR_VERSION,
            "engine": self.engine,
            "width": self.width,
            "height": self.height,
            "dpi": self.dpi,
            "angle": self.angle,
            "quarter_turns": self.quarter_turns,
            "seconds": self.seconds,
            "chars": [[c.text, c.x0, c.x1, c.top, c.bottom, c.size] for c in self.chars],
            "confidences": self.confidences,
            "rules": [[r.orientation, r.pos, r.start, r.end] for r in self.rules],
        }

    @classmethod
    def from_json(cls, data: dict) -> OcrResult:
        return cls(
            width=data["width"],
            height=data["height"],
            chars=[
                Char(t, x0, x1, top, bottom, size) for t, x0, x1, top, bottom, size in data["chars"]
            ],
            confidences=list(data["confidences"]),
            rules=[Rule(o, pos, start, end) for o, pos, start, end in data["rules"]],
            dpi=data["dpi"],
            angle=data["angle"],
            quarter_turns=data["quarter_turns"],
            seconds=data.get("seconds", 0.0),
            engine=data.get("engine", ""),
        )


def _crop(image: np.ndarray, piece: TextPiece, pad: int) -> tuple[np.ndarray, int]:
    import cv2

    h, w = image.shape[:2]
    x0 = max(0, piece.x0 - pad)
    x1 = min(w, piece.x1 + pad)
    y0 = max(0, piece.y0 - pad)
    y1 = min(h, piece.y1 + pad)
    crop = image[y0:y1, x0:x1]
    if crop.ndim == 2:
        crop = cv2.cvtColor(crop, cv2.COLOR_GRAY2BGR)
    return crop, x0


def _drop_covered(pieces: list[TextPiece]) -> list[TextPiece]:
    """Drop pieces lying mostly inside a wider piece of the same line.

    Detector boxes of neighbouring cells overlap; cut at the rule between them, the overlap
    leaves a sliver of the other cell's last glyph (read as "1" or "，")."""
    if len(pieces) < 2:
        return pieces
    box = np.array([(p.x0, p.y0, p.x1, p.y1) for p in pieces], dtype=np.float64)
    width = box[:, 2] - box[:, 0]
    height = box[:, 3] - box[:, 1]
    keep = []
    for i, piece in enumerate(pieces):
        ox = np.minimum(box[:, 2], box[i, 2]) - np.maximum(box[:, 0], box[i, 0])
        oy = np.minimum(box[:, 3], box[i, 3]) - np.maximum(box[:, 1], box[i, 1])
        share_w, share_h = DEFAULT_COVERED
        covered = (ox >= share_w * width[i]) & (oy >= share_h * height[i]) & (width > width[i])
        covered[i] = False
        if not covered.any():
            keep.append(piece)
    return keep


def _column_bounds(
    rules: list[Rule], scale: float
) -> list[tuple[float, float, float, float, list[float]]]:
    """Per table region (px): its box and the x of every vertical rule in it."""
    from .grid import find_table_regions

    out = []
    for x0, top, x1, bottom in find_table_regions(rules):
        xs = sorted(
            {
                round(r.pos * scale, 1)
                for r in rules
                if r.orientation == "v"
                and x0 - 2 <= r.pos <= x1 + 2
                and r.end >= top - 2
                and r.start <= bottom + 2
            }
        )
        out.append((x0 * scale, top * scale, x1 * scale, bottom * scale, xs))
    return out


def _text_pieces(boxes: list[np.ndarray], page: LevelPage) -> list[TextPiece]:
    """Line boxes → pieces cut at the rules and at column boundaries, each holding ink."""
    h, w = page.clean.shape
    tables = _column_bounds(page.rules, page.scale)
    out = []
    for piece in _drop_covered(_pieces(boxes, page.mask, w, h)):
        yc = (piece.y0 + piece.y1) / 2
        bounds = [b for x0, top, x1, bottom, xs in tables if top <= yc <= bottom for b in xs]
        for line in _split_rows(piece, page.binary):
            line = _fit_rows(line, page.binary)
            parts = _split_at_columns(line, page.binary, bounds) if bounds else [line]
            out.extend(p for p in parts if _ink_rows(page.binary, p) is not None)
    return out


def read_level_page(page: LevelPage, engine: OcrEngine) -> OcrResult:
    """Detect, cut at rules, recognise: the characters of one level page."""
    import cv2

    h, w = page.clean.shape
    bgr = cv2.cvtColor(page.clean, cv2.COLOR_GRAY2BGR)
    # the detector finds lines of body text as well at ~90 dpi as at 300, in a tenth the time
    boxes = engine.detect(bgr, max_side=int(max(h, w) * min(1.0, DET_DPI / page.dpi)))
    pieces = _text_pieces(boxes, page)
    extra = _text_pieces(_missed_text(page.binary, pieces, boxes), page)
    crops = [_crop(page.clean, piece, pad=0)[0] for piece in pieces + extra]
    recognized = engine.recognize(crops)
    chars: list[Char] = []
    confidences: list[float] = []
    for n, (piece, rec) in enumerate(zip(pieces + extra, recognized)):
        if n >= len(pieces) and rec.score < MISSED_MIN_CONFIDENCE:
            continue  # specks and stamps the detector was right to leave out
        piece_chars, piece_conf = chars_from_recognized(
            rec, piece, piece.x0, _ink_rows(page.binary, piece), page.scale
        )
        chars.extend(piece_chars)
        confidences.extend(piece_conf)
    return OcrResult(
        width=w / page.scale,
        height=h / page.scale,
        chars=chars,
        confidences=confidences,
        rules=page.rules,
        dpi=page.dpi,
        angle=page.angle,
        quarter_turns=page.quarter_turns,
        engine=engine.name,
    )
