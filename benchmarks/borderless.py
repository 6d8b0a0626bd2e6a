"""Tables without ruling lines: which reader recovers the rows, and at what cost per page.

    python -m benchmarks.borderless [--corpus ../shared/corpus/dev-wide] [--json OUT]

Two measurements on the text-layer documents of a corpus with truth (``MANIFEST.tsv`` gives
each document's grid style: ``ruled``, ``hlines``, ``borderless``):

* **Item recall per reader** on the pages of every non-empty truth table: a truth line item
  counts as recovered when one row of one grid the reader returns for those pages prints the
  item's label (as printed, its code or its name) and its figure as a cell of its own (rows
  cut in two, labels parted from their figures, figures merged with a neighbour all miss).
  Tables whose items are columns (三公, 绩效 forms) are left out: their rows carry no item label.  Readers: ours
  (``extractors.grid.RuledGridExtractor``: ruled grids, and borderless tables from the
  alignment of their text, ``extractors.aligned``), pdfplumber's ``text`` table strategy and
  camelot's ``stream`` flavour.  The curated line items (``make bench``) are the measure that
  counts; this one shows which structure reader gives the mappings whole rows.
* **Seconds per page** of our reader on the same table pages, by grid style, and the ratio
  of borderless to ruled pages (the issue asks for at most 2x); with ``--curated`` (an
  ingest of the corpus), the whole documents' work per page by grid style as well, from the
  last run's ``document_timings`` in ``_state/runs.jsonl``.

Nothing is mocked: the real readers run on the real PDFs.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
import time
import unicodedata
from collections import defaultdict
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "dev-wide"
READERS = ("ours", "pdfplumber-text", "camelot-stream")
# kinds whose items are columns (三公 items, 绩效 forms), not labelled rows: left out
COLUMN_ITEMS = frozenset({"three_public", "perf_project", "perf_unit", "perf_special_fund"})


def _squash(text: str) -> str:
    """Text compared without spaces, line breaks or full-width forms (（二期） = (二期))."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text or ""))


def _label_keys(item: dict) -> list[str]:
    """What a row may print to be this item's row: its printed label, its code, its name."""
    keys = [_squash(item.get("row_label") or ""), item.get("code") or "", _squash(item["name"])]
    return [k for k in keys if k]


def truth_items(truth: dict) -> list[dict]:
    """Truth items with a printed figure: the label keys and the figure each row must hold."""
    return [
        {
            "table_no": item["table_no"],
            "keys": _label_keys(item),
            "figure": _squash(item["amount_printed"]),
            "kind": item["kind"],
        }
        for item in truth["line_items"]
        if item.get("amount_printed") and _label_keys(item) and item["kind"] not in COLUMN_ITEMS
    ]


def _row_holds(cells: list[str], keys: list[str], figure: str) -> bool:
    """The row prints one of the labels and the figure as a cell of its own."""
    squashed = [_squash(c) for c in cells]
    joined = "".join(squashed)
    return figure in squashed and any(key in joined for key in keys)


def grids_ours(path: Path, pages: set[int]) -> tuple[dict[int, list[list[list[str]]]], float]:
    from budget_disclosures.extractors.grid import RuledGridExtractor
    from budget_disclosures.extractors.pdfium_pages import iter_pdfium_pages, open_pdfium

    extractor = RuledGridExtractor("pdfium-grid")
    out: dict[int, list[list[list[str]]]] = {}
    seconds = 0.0
    pdf = open_pdfium(path)
    try:
        for page in iter_pdfium_pages(pdf):
            if page.number not in pages:
                continue
            start = time.perf_counter()
            grids = extractor.extract(str(path), page)
            seconds += time.perf_counter() - start
            out[page.number] = [
                [grid.row_texts(i) for i in range(len(grid.rows))] for grid in grids
            ]
    finally:
        pdf.close()
    return out, seconds


def grids_pdfplumber(path: Path, pages: set[int]) -> tuple[dict, float]:
    import pdfplumber

    settings = {"vertical_strategy": "text", "horizontal_strategy": "text"}
    out: dict[int, list[list[list[str]]]] = {}
    start = time.perf_counter()
    with pdfplumber.open(path) as pdf:
        for number in sorted(pages):
            tables = pdf.pages[number - 1].extract_tables(settings)
            out[number] = [[[c or "" for c in row] for row in table] for table in tables]
    return out, time.perf_counter() - start


def grids_camelot(path: Path, pages: set[int]) -> tuple[dict, float]:
    import camelot

    out: dict[int, list[list[list[str]]]] = defaultdict(list)
    start = time.perf_counter()
    try:
        tables = camelot.read_pdf(
            str(path), pages=",".join(map(str, sorted(pages))), flavor="stream"
        )
    except Exception:  # camelot fails on some layouts: nothing recovered there
        tables = []
    for table in tables:
        out[int(table.page)].append(table.df.astype(str).values.tolist())
    return dict(out), time.perf_counter() - start


READER_FUNCTIONS = {
    "ours": grids_ours,
    "pdfplumber-text": grids_pdfplumber,
    "camelot-stream": grids_camelot,
}


def manifest(corpus: Path) -> dict[str, dict]:
    with (corpus / "MANIFEST.tsv").open(encoding="utf-8") as handle:
        return {row["id"]: row for row in csv.DictReader(handle, delimiter="\t")}


def measure(corpus: Path, readers: tuple[str, ...] = READERS) -> dict:
    """Item recall per reader and grid style, and our seconds per page per grid style."""
    found: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    by_kind: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    timing: dict[str, list[float]] = defaultdict(lambda: [0.0, 0])
    reader_time: dict[str, list[float]] = defaultdict(lambda: [0.0, 0])
    for doc_id, meta in sorted(manifest(corpus).items()):
        if meta["text_layer"] != "text":
            continue
        path = corpus / f"{doc_id}.pdf"
        truth = json.loads((corpus / f"{doc_id}.truth.json").read_text(encoding="utf-8"))
        tables = {
            t["table_no"]: set(range(t["page_first"], t["page_last"] + 1))
            for t in truth["tables"]
            if not t["is_empty"] and t.get("page_first")
        }
        pages = set().union(*tables.values()) if tables else set()
        items = truth_items(truth)
        for reader in readers:
            grids, seconds = READER_FUNCTIONS[reader](path, pages)
            reader_time[reader][0] += seconds
            reader_time[reader][1] += len(pages)
            if reader == "ours":
                timing[meta["grid"]][0] += seconds
                timing[meta["grid"]][1] += len(pages)
            for item in items:
                if item["table_no"] not in tables:
                    continue
                rows = [r for p in tables[item["table_no"]] for g in grids.get(p, []) for r in g]
                hit = any(_row_holds(cells, item["keys"], item["figure"]) for cells in rows)
                for bucket in (found[(reader, meta["grid"])], found[(reader, "all")]):
                    bucket[0] += hit
                    bucket[1] += 1
                by_kind[(reader, item["kind"])][0] += hit
                by_kind[(reader, item["kind"])][1] += 1
    per_page = {style: s / max(n, 1) for style, (s, n) in timing.items()}
    return {
        "item_recall": {f"{r}/{g}": round(h / max(n, 1), 4) for (r, g), (h, n) in found.items()},
        "items": {f"{r}/{g}": n for (r, g), (_, n) in found.items()},
        "item_recall_by_kind": {
            f"{r}/{k}": round(h / max(n, 1), 4) for (r, k), (h, n) in by_kind.items()
        },
        "seconds_per_page": {k: round(v, 4) for k, v in per_page.items()},
        "reader_seconds_per_page": {
            r: round(s / max(n, 1), 4) for r, (s, n) in reader_time.items()
        },
        "borderless_over_ruled": round(
            per_page.get("borderless", 0.0) / max(per_page.get("ruled", 0.0), 1e-9), 2
        ),
    }


def document_seconds_per_page(corpus: Path, curated: Path) -> dict[str, float]:
    """The last ingest's document work per page, text-layer documents, by grid style."""
    rows = manifest(corpus)
    lines = (curated / "_state" / "runs.jsonl").read_text(encoding="utf-8").splitlines()
    run = json.loads(lines[-1])
    totals: dict[str, list[float]] = defaultdict(lambda: [0.0, 0])
    for timing in run.get("document_timings", []):
        meta = rows.get(Path(timing["file"]).stem)
        if meta is None or meta["text_layer"] != "text":
            continue
        totals[meta["grid"]][0] += timing["work_s"]
        totals[meta["grid"]][1] += int(meta["pages"])
    return {style: round(s / max(n, 1), 4) for style, (s, n) in totals.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--readers", default=",".join(READERS), help="comma list of readers")
    parser.add_argument(
        "--curated", type=Path, help="an ingest of the corpus (whole-document s/page)"
    )
    args = parser.parse_args(argv)
    report = measure(args.corpus, tuple(args.readers.split(",")))
    if args.curated:
        report["document_seconds_per_page"] = document_seconds_per_page(args.corpus, args.curated)
    print("item recall (text-layer documents; reader/grid style):")
    for key in sorted(report["item_recall"]):
        print(f"  {key:32} {report['item_recall'][key]:.4f}  of {report['items'][key]} items")
    print("seconds per table page, our reader, by grid style:")
    for style, seconds in sorted(report["seconds_per_page"].items()):
        print(f"  {style:12} {seconds:.4f}")
    print(f"  borderless / ruled = {report['borderless_over_ruled']}x (target <= 2x)")
    print("seconds per table page by reader:", report["reader_seconds_per_page"])
    if "document_seconds_per_page" in report:
        whole = report["document_seconds_per_page"]
        ratio = whole.get("borderless", 0.0) / max(whole.get("ruled", 0.0), 1e-9)
        print(f"whole documents' work per page by grid style: {whole} ({ratio:.2f}x)")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
