"""The OCR cache: results by page-image digest, on disk, shared by processes.

Split from ``ocr.py`` (issue 18): one responsibility per file."""

from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path

import numpy as np

from .ocr_settings import (
    CACHE_ENV,
    OCR_VERSION,
    log,
)

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
