"""OCR settings: the cache version, environment switches, resolutions and model names.

Split from ``ocr.py`` (issue 18): one responsibility per file."""

from __future__ import annotations

import logging

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
