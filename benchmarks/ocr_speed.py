"""Seconds per scanned page: the OCR path of one page, one worker, no cache.

Samples pages that need OCR from the corpus's documents (``--per-doc`` pages each, spread
over the document; ``--per-doc 0`` takes every page), runs render → level → detect →
recognise on each, and prints the median, the 90th percentile and a breakdown by step.
The machine is shared, so each page is timed ``--repeat`` times and the fastest run counts.

    python -m benchmarks.ocr_speed [--corpus ../shared/corpus/dev] [--per-doc 4]
        [--threads N] [--repeat 1] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from budget_disclosures.extractors import ocr  # noqa: E402
from budget_disclosures.extractors.pdfium_pages import iter_pdfium_pages, open_pdfium  # noqa: E402


def scanned_pages(corpus: Path, per_doc: int) -> list[tuple[Path, int]]:
    out = []
    for pdf_path in sorted(corpus.glob("*.pdf")):
        try:
            pdf = open_pdfium(pdf_path)
        except Exception:
            continue
        try:
            numbers = [p.number for p in iter_pdfium_pages(pdf) if ocr.needs_ocr(p)]
        finally:
            pdf.close()
        if not numbers:
            continue
        if per_doc and len(numbers) > per_doc:
            step = len(numbers) / per_doc
            numbers = [numbers[int(i * step)] for i in range(per_doc)]
        out.extend((pdf_path, n) for n in numbers)
    return out


def time_page(engine: ocr.OcrEngine, pdf_path: Path, number: int) -> dict:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(pdf_path))
    page = pdf[number - 1]
    try:
        t0 = time.perf_counter()
        dpi = ocr.choose_dpi(page)
        gray = ocr.render_gray(page, dpi)
        t1 = time.perf_counter()
        level = ocr.level_page(gray, dpi)
        t2 = time.perf_counter()
        result = ocr.read_level_page(level, engine)
        t3 = time.perf_counter()
    finally:
        page.close()
        pdf.close()
    return {
        "render": t1 - t0,
        "level": t2 - t1,
        "read": t3 - t2,
        "total": t3 - t0,
        "chars": len(result.chars),
        "dpi": round(dpi),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus" / "dev")
    parser.add_argument("--per-doc", type=int, default=4)
    parser.add_argument(
        "--threads", type=int, default=0, help="ONNX Runtime threads (0: all cores)"
    )
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    if not ocr.engine_available():
        print("rapidocr/onnxruntime not installed")
        return 1
    started = time.perf_counter()
    engine = ocr.OcrEngine(threads=args.threads or None)
    load = time.perf_counter() - started
    pages = scanned_pages(args.corpus, args.per_doc)
    rows = []
    for pdf_path, number in pages:
        runs = [time_page(engine, pdf_path, number) for _ in range(max(args.repeat, 1))]
        best = min(runs, key=lambda r: r["total"])
        best.update(file=pdf_path.name, page=number)
        rows.append(best)
        print(
            f"{pdf_path.name} p{number:<3} {best['total']:6.2f} s  ({best['chars']} chars)",
            flush=True,
        )
    if not rows:
        print("no page needs OCR")
        return 0
    totals = sorted(r["total"] for r in rows)
    summary = {
        "pages": len(rows),
        "engine_load_seconds": round(load, 2),
        "median_seconds": round(statistics.median(totals), 2),
        "p90_seconds": round(totals[int(0.9 * (len(totals) - 1))], 2),
        "mean_seconds": round(statistics.fmean(totals), 2),
        "median_by_step": {
            k: round(statistics.median(r[k] for r in rows), 2) for k in ("render", "level", "read")
        },
    }
    print(json.dumps(summary, indent=2))
    if args.json:
        args.json.write_text(
            json.dumps({"summary": summary, "pages": rows}, indent=2), encoding="utf-8"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
