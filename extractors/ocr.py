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
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from .base import Char, PageContent, Rule
from .document import group_lines
from .limits import check_image_pixels, render_dpi

log = logging.getLogger(__name__)

# Bump when anything that changes OCR output changes: it is part of every cache key.
OCR_VERSION = "ocr-6"
CACHE_ENV = "BUDGET_DISCLOSURES_OCR_CACHE"
THREADS_ENV = "BUDGET_DISCLOSURES_OCR_THREADS"
DISABLE_ENV = "BUDGET_DISCLOSURES_OCR"  # "0"/"off" turns OCR off

# Render scans at their native resolution, within these bounds (dpi).
MIN_DPI = 150.0
MAX_DPI = 300.0
DEFAULT_DPI = 200.0  # pages whose image resolution cannot be told
# The text-line detector sees the page at this resolution (an A4 page: 1024 px high).
DET_DPI = 88.0
DET_MODEL = "PP-OCRv6_det_small.onnx"  # bundled in the rapidocr wheel (models/)
REC_MODEL = "PP-OCRv6_rec_small.onnx"
REC_HEIGHT = 48
# Batches narrower than this are padded to it: the recogniser drops characters of short
# figures in very narrow inputs (PaddleOCR pads to 320, which costs twice as much).
REC_MIN_WIDTH = 160
# Text found outside the detector's boxes is kept only when recognised this surely.
MISSED_MIN_CONFIDENCE = 0.6


class OcrUnavailable(RuntimeError):
    """The OCR engine (rapidocr + onnxruntime) is not installed."""


# --------------------------------------------------------------------------- engine


@dataclass(slots=True)
class Recognized:
    """One recognised text line: characters, their confidences and x centres (crop px)."""

    text: str
    probs: list[float]
    centers: list[float]
    widths: list[float]

    @property
    def score(self) -> float:
        return float(min(self.probs)) if self.probs else 0.0


def _model_dir() -> Path:
    try:
        import rapidocr
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise OcrUnavailable(
            "rapidocr is not installed (pip install rapidocr onnxruntime)"
        ) from error
    return Path(rapidocr.__file__).resolve().parent / "models"


def engine_available() -> bool:
    try:
        import onnxruntime  # noqa: F401

        return (_model_dir() / REC_MODEL).exists()
    except (ImportError, OcrUnavailable):
        return False


def _engine_name(det_model: Path, rec_model: Path) -> str:
    """Models and the package that shipped them: part of every cache key."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        package = f"rapidocr-{version('rapidocr')}"
    except PackageNotFoundError:
        package = "rapidocr-?"
    return f"{package}:{Path(det_model).stem}+{Path(rec_model).stem}"


@lru_cache(maxsize=1)
def default_engine_name() -> str:
    """The default engine's name, without loading it (a cached page needs no engine)."""
    return _engine_name(Path(DET_MODEL), Path(REC_MODEL))


class OcrEngine:
    """PP-OCR detection + recognition on ONNX Runtime, with per-character positions.

    Uses the model files bundled in the ``rapidocr`` package and rapidocr's DB
    post-processing; recognition is decoded here so each character keeps its CTC position
    and probability.
    """

    def __init__(
        self,
        det_model: Path | None = None,
        rec_model: Path | None = None,
        threads: int | None = None,
    ) -> None:
        try:
            import onnxruntime as ort
            from rapidocr.ch_ppocr_det.utils import DBPostProcess
        except ImportError as error:
            raise OcrUnavailable(
                "OCR engine not installed: pip install rapidocr onnxruntime"
            ) from error
        models = _model_dir()
        self.det_model = Path(det_model or models / DET_MODEL)
        self.rec_model = Path(rec_model or models / REC_MODEL)
        if threads is None:
            threads = int(os.environ.get(THREADS_ENV, "0") or 0)
        options = ort.SessionOptions()
        options.log_severity_level = 4
        options.enable_cpu_mem_arena = False
        # idle worker threads sleep instead of spinning: several documents OCR side by side
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.inter_op_num_threads = 1
        if threads > 0:
            options.intra_op_num_threads = threads
        providers = ["CPUExecutionProvider"]
        self._det = ort.InferenceSession(
            str(self.det_model), sess_options=options, providers=providers
        )
        self._rec = ort.InferenceSession(
            str(self.rec_model), sess_options=options, providers=providers
        )
        meta = self._rec.get_modelmeta().custom_metadata_map
        self.characters = ["<blank>", *meta["character"].splitlines(), " "]
        self._post = DBPostProcess(
            thresh=0.3, box_thresh=0.5, max_candidates=2000, unclip_ratio=1.6, use_dilation=True
        )
        self._det_input = self._det.get_inputs()[0].name
        self._rec_input = self._rec.get_inputs()[0].name
        self.lock = threading.Lock()

    @property
    def name(self) -> str:
        return _engine_name(self.det_model, self.rec_model)

    # ---------------------------------------------------------------- detection

    def detect(self, image: np.ndarray, max_side: int = 1024) -> list[np.ndarray]:
        """Text-line quadrilaterals (4×2 float arrays, image px) of a BGR image."""
        import cv2

        h, w = image.shape[:2]
        ratio = min(1.0, max_side / max(h, w))
        rh = max(32, int(round(h * ratio / 32)) * 32)
        rw = max(32, int(round(w * ratio / 32)) * 32)
        resized = cv2.resize(image, (rw, rh))
        blob = (resized.astype(np.float32) / 255.0 - 0.5) / 0.5
        blob = blob.transpose(2, 0, 1)[np.newaxis]
        pred = self._det.run(None, {self._det_input: blob})[0]
        boxes, _scores = self._post(pred, (h, w))
        return [np.asarray(b, dtype=np.float32) for b in boxes]

    # ---------------------------------------------------------------- recognition

    def recognize(
        self, crops: list[np.ndarray], batch: int = 8, min_width: int = REC_MIN_WIDTH
    ) -> list[Recognized]:
        """Recognise text-line crops (BGR).

        Crops are batched by aspect ratio (similar widths, little padding) and padded only to
        the widest of their batch, but to at least ``min_width`` pixels.
        """
        import cv2

        if not crops:
            return []
        out: list[Recognized | None] = [None] * len(crops)
        ratios = [c.shape[1] / max(c.shape[0], 1) for c in crops]
        order = np.argsort(ratios)
        for start in range(0, len(crops), batch):
            idx = order[start : start + batch]
            width = max(int(math.ceil(REC_HEIGHT * max(ratios[i] for i in idx))), min_width)
            blob = np.zeros((len(idx), 3, REC_HEIGHT, width), dtype=np.float32)
            used = []
            for row, i in enumerate(idx):
                rw = max(1, min(width, int(math.ceil(REC_HEIGHT * ratios[i]))))
                resized = cv2.resize(crops[i], (rw, REC_HEIGHT)).astype(np.float32)
                blob[row, :, :, :rw] = (resized.transpose(2, 0, 1) / 255.0 - 0.5) / 0.5
                used.append(rw)
            preds = self._rec.run(None, {self._rec_input: blob})[0]
            steps = preds.shape[1]
            px_per_step = width / steps
            for row, i in enumerate(idx):
                factor = crops[i].shape[1] / max(used[row], 1)
                out[i] = self._decode(preds[row], px_per_step * factor)
        return [r or Recognized("", [], [], []) for r in out]

    def _decode(self, pred: np.ndarray, px_per_step: float) -> Recognized:
        tokens = pred.argmax(axis=1)
        probs = pred.max(axis=1)
        text: list[str] = []
        conf: list[float] = []
        centers: list[float] = []
        widths: list[float] = []
        t = 0
        n = len(tokens)
        while t < n:
            token = int(tokens[t])
            end = t
            while end + 1 < n and tokens[end + 1] == token:
                end += 1
            if token != 0 and token < len(self.characters):
                text.append(self.characters[token])
                conf.append(float(probs[t : end + 1].max()))
                centers.append((t + end + 1) / 2 * px_per_step)
                widths.append((end + 1 - t) * px_per_step)
            t = end + 1
        return Recognized("".join(text), conf, centers, widths)


_ENGINE: OcrEngine | None = None
_ENGINE_LOCK = threading.Lock()


def default_engine() -> OcrEngine:
    """The process-wide engine, loaded on first use (about a second)."""
    global _ENGINE
    with _ENGINE_LOCK:
        if _ENGINE is None:
            _ENGINE = OcrEngine()
        return _ENGINE


def ocr_enabled() -> bool:
    """OCR is on unless ``BUDGET_DISCLOSURES_OCR`` is 0/off/false/no."""
    return os.environ.get(DISABLE_ENV, "1").strip().lower() not in {"0", "off", "false", "no"}


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
        if w_pt * h_pt < 0.25 * width * height or w_pt <= 0 or h_pt <= 0:
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
    if abs(angle) >= 0.02:
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


# --------------------------------------------------------------------------- text lines → chars

_NARROW = set("0123456789.,-+()%:;/!|'\"[] ")
_FIGURE = set("0123456789.,-")


def _natural_width(ch: str, em: float) -> float:
    """Approximate advance of a glyph: ideographs are square, digits about half as wide."""
    if ch in ".,:;'|!":
        return 0.3 * em
    if ch in _NARROW or ch.isascii():
        return 0.55 * em
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
        ruled = band.mean(axis=0) > 0.5
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
        reach = max(2, int(em * 0.6))
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
    lines = [r for r in runs if r[1] - r[0] + 1 >= 0.5 * tall]
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
        cv2.getStructuringElement(cv2.MORPH_RECT, (max(3, int(em * 0.6)), 1)),
    )
    n, _labels, stats, _ = cv2.connectedComponentsWithStats(joined)
    out = []
    h_img, w_img = binary.shape
    for x, y, w, h, area in stats[1:]:
        if not (0.6 * em <= h <= 2.5 * em and w >= 0.6 * em and area >= 0.2 * w * h):
            continue
        pad = em * 0.3
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
    inked = counts > max(0, int(0.05 * counts.max()))
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
    margin = max(2, int(round((last - first + 1) * 0.3)))
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
    # CJK glyphs fill ~0.9 em; digits ~0.72 em
    em = ink_h / (0.9 if has_wide else 0.72)
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
        if gap < 0.6 * em or number:  # one word, one figure: touching boxes, no spurious space
            mid = (centers[i] + centers[i + 1]) / 2
            mid = min(max(mid, lefts[i] + 1), rights[i + 1] - 1)
            rights[i] = mid
            lefts[i + 1] = mid
    size = em / scale
    top = (yc - em * 0.55) / scale
    bottom = (yc + em * 0.55) / scale
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
        covered = (ox >= 0.7 * width[i]) & (oy >= 0.5 * height[i]) & (width > width[i])
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


# --------------------------------------------------------------------------- re-reading cells

# Re-read suspicious cells at twice the page's resolution (bounded).
REREAD_MAX_DPI = 400.0


def level_gray(pdf_page, dpi: float, quarter_turns: int, angle: float) -> np.ndarray:
    """The page rendered at ``dpi``, turned and levelled as a previous OCR pass found it."""
    from .image_rules import rotate

    gray = render_gray(pdf_page, dpi)
    if quarter_turns % 4:
        gray = np.ascontiguousarray(np.rot90(gray, k=-(quarter_turns % 4)))
    return rotate(gray, angle) if abs(angle) >= 0.02 else gray


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
        if rows[y] > 0.6:
            crop[y, :] = paper
            binary[y, :] = 0
    for x in list(range(band_x)) + list(range(w - band_x, w)):
        if cols[x] > 0.6:
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
    pad = 1.0 * scale  # a point beyond the cell's rules, to catch them whole
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
    margin = max(2, int((iy1 - iy0) * 0.3))
    ch, cw = crop.shape
    tight = crop[
        max(0, iy0 - margin) : min(ch, iy1 + margin), max(0, ix0 - margin) : min(cw, ix1 + margin)
    ]
    if tight.size == 0:
        return []
    _, otsu = cv2.threshold(tight, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    smooth = cv2.GaussianBlur(otsu, (3, 3), 0)
    return [cv2.cvtColor(v, cv2.COLOR_GRAY2BGR) for v in (tight, smooth)]


# --------------------------------------------------------------------------- cache


def default_cache_dir() -> Path | None:
    value = os.environ.get(CACHE_ENV, "").strip()
    if value.lower() in {"0", "off", "none", "false"}:
        return None
    if value:
        return Path(value).expanduser()
    base = os.environ.get("XDG_CACHE_HOME", "").strip() or str(Path.home() / ".cache")
    return Path(base) / "budget-disclosures" / "ocr"


class OcrCache:
    """OCR results by page-image digest: ``<dir>/<2 hex>/<sha256>.json``, written atomically."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = Path(directory) if directory else None

    @classmethod
    def default(cls) -> OcrCache:
        return cls(default_cache_dir())

    def _path(self, key: str) -> Path | None:
        if self.directory is None:
            return None
        return self.directory / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict | None:
        path = self._path(key)
        if path is None or not path.exists():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if data.get("version") == OCR_VERSION else None

    def put(self, key: str, data: dict) -> None:
        path = self._path(key)
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
            tmp.write_text(
                json.dumps(data, ensure_ascii=False, separators=(",", ":")), encoding="utf-8"
            )
            os.replace(tmp, path)
        except OSError as error:  # a read-only or full cache never fails the ingest
            log.warning("OCR cache not written (%s): %s", path, error)


def image_key(gray: np.ndarray, dpi: float, engine_name: str, extra: str = "") -> str:
    digest = hashlib.sha256()
    digest.update(f"{OCR_VERSION}|{engine_name}|{dpi:.2f}|{gray.shape}|{extra}|".encode())
    digest.update(np.ascontiguousarray(gray).tobytes())
    return digest.hexdigest()


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
