"""Compare OCR engines and settings on the scanned table pages of the dev corpus.

For each sampled page (tables that fit on one page, from the documents whose truth says
``scanned`` or ``mixed``) the truth gives the exact figures and row labels printed there:

* **figure recall**: share of the truth's printed figures (``amount_printed``) found as a
  number token in the OCR text of the page (multiset match: every occurrence counts);
* **label CER**: character error rate of the row labels, each aligned to its best-matching
  stretch of the page's OCR text (edit distance / label length, summed over labels);
* **seconds per page** (OCR only; the page is rendered once beforehand).

Candidates: ``rapidocr`` (PP-OCRv6 small, what the pipeline uses) at the scan's own
resolution and at 300 dpi; PP-OCRv4 (the models of the ``rapidocr_onnxruntime`` wheel) when
``--v4-models DIR`` points at them; Debian's ``tesseract`` with ``chi_sim`` when installed
(page segmentation modes 4, 6 and 11).  Every engine sees the same level page image with the
ruled lines erased.

    python -m benchmarks.ocr_engines [--corpus ../shared/corpus/dev] [--pages-per-doc 3]
        [--engines v6,v6-300,v4,tesseract] [--v4-models DIR] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from budget_disclosures.extractors import ocr  # noqa: E402
from budget_disclosures.extractors.base import PageContent  # noqa: E402
from budget_disclosures.extractors.grid import RuledGridExtractor  # noqa: E402

NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?")


def squash(text: str) -> str:
    return "".join(text.split())


def fuzzy_distance(needle: str, haystack: str) -> int:
    """Edit distance of ``needle`` to its best-matching substring of ``haystack``."""
    if not needle:
        return 0
    if not haystack:
        return len(needle)
    hay = np.frombuffer(haystack.encode("utf-32-le"), dtype=np.uint32)
    previous = np.zeros(len(hay) + 1, dtype=np.int32)  # free start anywhere
    for i, ch in enumerate(needle, start=1):
        current = np.empty_like(previous)
        current[0] = i
        match = previous[:-1] + (hay != ord(ch))
        current[1:] = np.minimum(match, previous[1:] + 1)
        # a gap in the needle along the row: running minimum of (cost - position) + position
        index = np.arange(len(current), dtype=np.int32)
        previous = np.minimum.accumulate(current - index) + index
    return int(previous.min())


def sample_pages(corpus: Path, per_doc: int) -> list[tuple[Path, int, list[str], list[str]]]:
    """(pdf, page, truth figures, truth labels) for single-page tables of scanned docs."""
    out = []
    for truth_path in sorted(corpus.glob("*.truth.json")):
        truth = json.loads(truth_path.read_text(encoding="utf-8"))
        if truth["document"].get("text_layer") not in {"scanned", "mixed"}:
            continue
        pdf = truth_path.with_name(truth_path.name.replace(".truth.json", ".pdf"))
        single = {
            t["table_no"]: t["page_first"]
            for t in truth["tables"]
            if t["page_first"] == t["page_last"] and not t["is_empty"]
        }
        by_page: dict[int, tuple[list[str], list[str]]] = {}
        for item in truth["line_items"]:
            page = single.get(item["table_no"])
            if page is None:
                continue
            figures, labels = by_page.setdefault(page, ([], []))
            figures.append(item["amount_printed"])
            label = item.get("row_label") or item["name"]
            if label not in labels:
                labels.append(label)
        pages = sorted(by_page)
        if not pages:
            continue
        step = max(len(pages) / per_doc, 1)
        chosen = sorted({pages[int(i * step)] for i in range(min(per_doc, len(pages)))})
        out.extend((pdf, p, *by_page[p]) for p in chosen)
    return out


def score_page(text_lines: list[str], figures: list[str], labels: list[str]) -> dict:
    """``text_lines``: the page's text as segments (table cells, lines); spaces separate."""
    found = Counter(
        tok for line in text_lines for word in line.split() for tok in NUMBER.findall(word)
    )
    want = Counter(squash(f) for f in figures)
    hits = sum(min(n, found[k]) for k, n in want.items())
    hay = "\n".join(squash(line) for line in text_lines)
    errors = sum(fuzzy_distance(squash(label), hay) for label in labels)
    return {
        "figures": sum(want.values()),
        "figure_hits": hits,
        "label_chars": sum(len(squash(label)) for label in labels),
        "label_errors": errors,
    }


# --------------------------------------------------------------------------- candidates


def page_segments(result: ocr.OcrResult) -> list[str]:
    """Cell texts of the page's grids plus the text lines outside them."""
    page = ocr.page_from_ocr(
        PageContent(1, result.width, result.height, [], [], [], "scanned", 1), result
    )
    grids = RuledGridExtractor("ocr-grid").extract("", page)
    segments = [cell.text for grid in grids for row in grid.rows for cell in row if cell.text]
    boxes = [grid.bbox for grid in grids]
    for line in page.lines:
        yc = (line.top + line.bottom) / 2
        if not any(x0 <= line.x0 <= x1 and top <= yc <= bottom for x0, top, x1, bottom in boxes):
            segments.append(line.text)
    return segments


def run_ppocr(engine: ocr.OcrEngine, gray: np.ndarray, dpi: float) -> list[str]:
    return page_segments(ocr.ocr_image(gray, dpi, engine))


def run_tesseract(clean: np.ndarray, psm: int) -> list[str]:
    import cv2

    with tempfile.TemporaryDirectory() as tmp:
        image = Path(tmp) / "page.png"
        cv2.imwrite(str(image), clean)
        proc = subprocess.run(
            ["tesseract", str(image), "-", "-l", "chi_sim", "--psm", str(psm)],
            capture_output=True,
            text=True,
            timeout=300,
        )
    return [line for line in proc.stdout.splitlines() if line.strip()]


def candidates(names: list[str], v4_dir: Path | None) -> dict:
    out = {}
    for name in names:
        if name == "v6":
            engine = ocr.OcrEngine()
            out[name] = (
                "rapidocr PP-OCRv6 small, scan dpi",
                lambda g, d, e=engine: run_ppocr(e, g, d),
                None,
            )
        elif name == "v6-300":
            engine = ocr.OcrEngine()
            out[name] = (
                "rapidocr PP-OCRv6 small, 300 dpi",
                lambda g, d, e=engine: run_ppocr(e, g, d),
                300.0,
            )
        elif name == "v4":
            if v4_dir is None or not (v4_dir / "ch_PP-OCRv4_rec_infer.onnx").exists():
                print("v4: skipped (no --v4-models DIR with ch_PP-OCRv4_*_infer.onnx)")
                continue
            engine = ocr.OcrEngine(
                v4_dir / "ch_PP-OCRv4_det_infer.onnx", v4_dir / "ch_PP-OCRv4_rec_infer.onnx"
            )
            out[name] = (
                "rapidocr_onnxruntime PP-OCRv4, scan dpi",
                lambda g, d, e=engine: run_ppocr(e, g, d),
                None,
            )
        elif name.startswith("tesseract"):
            if shutil.which("tesseract") is None:
                print(f"{name}: skipped (tesseract not installed)")
                continue
            for psm in (4, 6, 11):

                def run(g, d, psm=psm):
                    return run_tesseract(ocr.level_page(g, d).clean, psm)

                out[f"tesseract-psm{psm}"] = (f"tesseract chi_sim --psm {psm}", run, None)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus" / "dev")
    parser.add_argument("--pages-per-doc", type=int, default=3)
    parser.add_argument("--engines", default="v6,v6-300,v4,tesseract")
    parser.add_argument("--v4-models", type=Path, default=None)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    if not ocr.engine_available():
        print("rapidocr/onnxruntime not installed")
        return 1
    import pypdfium2 as pdfium

    pages = sample_pages(args.corpus, args.pages_per_doc)
    engines = candidates(args.engines.split(","), args.v4_models)
    print(f"{len(pages)} pages from {len({p for p, *_ in pages})} documents")
    report = {}
    for key, (label, run, forced_dpi) in engines.items():
        totals = Counter()
        seconds = []
        for pdf_path, number, figures, labels in pages:
            pdf = pdfium.PdfDocument(str(pdf_path))
            page = pdf[number - 1]
            dpi = forced_dpi or ocr.choose_dpi(page)
            gray = ocr.render_gray(page, dpi)
            page.close()
            pdf.close()
            started = time.perf_counter()
            lines = run(gray, dpi)
            seconds.append(time.perf_counter() - started)
            totals.update(score_page(lines, figures, labels))
        row = {
            "engine": label,
            "pages": len(pages),
            "figure_recall": round(totals["figure_hits"] / max(totals["figures"], 1), 4),
            "label_cer": round(totals["label_errors"] / max(totals["label_chars"], 1), 4),
            "median_seconds": round(statistics.median(seconds), 2) if seconds else None,
        }
        report[key] = row
        print(
            f"{key:18} figures {row['figure_recall']:.4f}  label CER {row['label_cer']:.4f}  {row['median_seconds']} s/page  ({label})",
            flush=True,
        )
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
