"""Generic reading on provinces without a template: tables found with the right kind, and the
tables' own arithmetic (``real-regions/``: no truth, ``TABLES.tsv`` lists what each file prints).

    python -m benchmarks.regions --curated DIR [--corpus ../shared/corpus/real-regions]

For every money table of ``TABLES.tsv``: found when the curated ``tables`` of the same file
hold a table whose pages overlap the listed pages and whose kind is the kind a person gave
that title (``benchmarks/regions_kinds.tsv``, judged from the printed header and rows, not
from the lexicon). Arithmetic: the checks of :mod:`benchmarks.real_report` (children sum to
parents, row totals, 收支 totals, 三公 items) over every document's line items.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections import defaultdict
from pathlib import Path

import pandas as pd

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.real_report import build_reports  # noqa: E402

KINDS_FILE = Path(__file__).with_name("regions_kinds.tsv")
DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "real-regions"


def expected_kinds() -> dict[str, str]:
    lines = [
        line for line in KINDS_FILE.read_text(encoding="utf-8").splitlines() if line[:1] != "#"
    ]
    return {row["title"]: row["kind"] for row in csv.DictReader(lines, delimiter="\t")}


def _pages(span: str) -> set[int]:
    first, _, last = span.partition("-")
    return set(range(int(first), int(last or first) + 1))


def listed_tables(corpus: Path) -> list[dict]:
    """The money tables of TABLES.tsv with their expected kind."""
    kinds = expected_kinds()
    with (corpus / "TABLES.tsv").open(encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle, delimiter="\t") if r["money"] == "yes"]
    for row in rows:
        row["kind"] = kinds.get(row["title"], "?")
    return rows


def score_tables(curated: Path, corpus: Path) -> tuple[int, int, dict[str, list[int]], list[str]]:
    documents = pd.read_parquet(curated / "documents")
    tables = pd.read_parquet(curated / "tables")
    doc_of = dict(zip(documents["source_name"], documents["doc_id"], strict=True))
    per_file: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    misses = []
    found = total = 0
    for row in listed_tables(corpus):
        total += 1
        per_file[row["file"]][1] += 1
        pages = _pages(row["pages"])
        mine = tables[tables["doc_id"] == doc_of.get(row["file"], "")]
        hit = any(
            t.kind == row["kind"]
            and pages & set(range(int(t.page_first or 0), int(t.page_last or 0) + 1))
            for t in mine.itertuples()
        )
        if hit:
            found += 1
            per_file[row["file"]][0] += 1
        else:
            near = [
                f"{t.table_no}:{t.kind}@{t.page_first}-{t.page_last}"
                for t in mine.itertuples()
                if pages & set(range(int(t.page_first or 0), int(t.page_last or 0) + 1))
            ]
            misses.append(
                f"{row['file']} {row['printed_number']} {row['title']} ({row['kind']}, p{row['pages']}): got {near or 'nothing'}"
            )
    return found, total, per_file, misses


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--curated", type=Path, required=True)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--failures", type=int, default=3)
    args = parser.parse_args(argv)
    found, total, per_file, misses = score_tables(args.curated, args.corpus)
    print(f"money tables found with the right kind: {found}/{total} = {found / max(total, 1):.1%}")
    for name, (hit, n) in sorted(per_file.items()):
        print(f"  {hit:>2}/{n:<2} {name}")
    for miss in misses:
        print("  MISS", miss)
    reports = build_reports(args.curated)
    checks = sum(r.checks for r in reports)
    failed = sum(len(r.failures) for r in reports)
    print(
        f"arithmetic relations holding: {checks - failed}/{checks} = {(checks - failed) / max(checks, 1):.2%}"
    )
    for report in reports:
        items = report.tables["n_line_items"].sum() if not report.tables.empty else 0
        print(
            f"  {report.source[:60]:<60} {report.checks - len(report.failures):>5}/{report.checks:<5} items {items}"
        )
        for failure in report.failures[: args.failures]:
            print(f"      {failure.check} 表{failure.table_no}: {failure.detail[:150]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
