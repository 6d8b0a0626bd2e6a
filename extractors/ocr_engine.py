"""The OCR engine: RapidOCR (PP-OCR models, ONNX Runtime) behind a small interface, loaded once.

Split from ``ocr.py`` (issue 18): one responsibility per file."""

from __future__ import annotations

import math
import os
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from .ocr_settings import (
    DET_MODEL,
    DISABLE_ENV,
    REC_HEIGHT,
    REC_MIN_WIDTH,
    REC_MODEL,
    THREADS_ENV,
    OcrUnavailable,
)

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
