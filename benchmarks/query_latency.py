"""Query latency of `disclosures query` / `curation.query.connect` on a curated folder.

    python -m benchmarks.query_latency --curated /tmp/qc            # an ingested dev corpus
    python -m benchmarks.query_latency --corpus ../shared/corpus/dev  # ingest it first (temp folder)

Reports, for a few typical researcher aggregates over ``line_items``: the time to open the
connection (views created), the first (cold) run and the median / max of warm runs, all
in-process; and the wall time of the whole command (``disclosures query ... --format csv``,
Python start-up included) for the first query. Target: a typical aggregate under 0.5 s.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from multiprocessing import Pool
from pathlib import Path

QUERIES = {
    "sum by year and table kind": """
        SELECT d.fiscal_year, l.kind, count(*) AS n, sum(l.amount_yuan) AS yuan
        FROM line_items l JOIN documents d USING (doc_id)
        WHERE l.measure IN ('total', 'amount')
        GROUP BY ALL ORDER BY ALL""",
    "function classes per region": """
        SELECT d.admin_region, l.code, any_value(l.name) AS name, sum(l.amount_yuan) AS yuan
        FROM line_items l JOIN documents d USING (doc_id)
        WHERE l.kind = 'gpb_expenditure_by_function' AND l.level = 1 AND l.measure = 'total'
        GROUP BY ALL ORDER BY yuan DESC""",
    "wide view, 类 by year": """
        SELECT fiscal_year, code, sum(total) AS total, sum(basic) AS basic, sum(project) AS project
        FROM function_expenditure_wide WHERE level = 1 GROUP BY ALL ORDER BY ALL""",
    "三公 per unit": """
        SELECT unit_name, fiscal_year, three_public_total, vehicles, reception
        FROM three_public_by_unit ORDER BY three_public_total DESC NULLS LAST""",
}
TARGET_SECONDS = 0.5


def _ingest_one(args: tuple[str, str]) -> str:
    from budget_disclosures.flows.pipeline import ingest_document

    pdf, curated = args
    return ingest_document(Path(pdf), Path(curated), force=True).status


def ingest_corpus(corpus: Path, curated: Path, workers: int = 2) -> int:
    pdfs = sorted(str(p) for p in corpus.glob("*.pdf"))
    with Pool(workers) as pool:
        list(pool.imap_unordered(_ingest_one, [(p, str(curated)) for p in pdfs]))
    return len(pdfs)


def measure(curated: Path, repeats: int = 10) -> dict:
    from budget_disclosures.curation.query import connect

    started = time.perf_counter()
    con = connect(curated)
    connect_s = time.perf_counter() - started
    rows = con.execute("SELECT count(*) FROM line_items").fetchone()[0]
    results = {}
    for name, sql in QUERIES.items():
        t0 = time.perf_counter()
        con.execute(sql).fetchall()
        cold = time.perf_counter() - t0
        warm = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            con.execute(sql).fetchall()
            warm.append(time.perf_counter() - t0)
        results[name] = {"cold_s": cold, "median_s": statistics.median(warm), "max_s": max(warm)}
    con.close()
    return {"line_items": rows, "connect_s": connect_s, "queries": results}


def command_wall_time(curated: Path, sql: str) -> float:
    exe = Path(sys.executable).with_name("disclosures")
    command = [str(exe)] if exe.exists() else [sys.executable, "-m", "budget_disclosures.flows.cli"]
    started = time.perf_counter()
    subprocess.run(
        [*command, "query", sql, "--curated", str(curated), "--format", "csv"],
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--curated", type=Path, help="an ingested curated folder")
    source.add_argument("--corpus", type=Path, help="a folder of PDFs to ingest first (temporary)")
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)

    tmp = None
    curated = args.curated
    if args.corpus:
        tmp = Path(tempfile.mkdtemp(prefix="query-latency-"))
        curated = tmp / "curated"
        t0 = time.perf_counter()
        n = ingest_corpus(args.corpus, curated)
        print(f"ingested {n} PDFs in {time.perf_counter() - t0:.1f} s → {curated}")
    try:
        figures = measure(curated, args.repeats)
        figures["command_wall_s"] = command_wall_time(curated, next(iter(QUERIES.values())))
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)

    print(
        f"{figures['line_items']:,} line items; connect (views) {figures['connect_s'] * 1000:.0f} ms"
    )
    print(f"{'query':<30} {'cold ms':>8} {'median ms':>10} {'max ms':>8}")
    worst = 0.0
    for name, r in figures["queries"].items():
        print(
            f"{name:<30} {r['cold_s'] * 1000:>8.1f} {r['median_s'] * 1000:>10.1f} {r['max_s'] * 1000:>8.1f}"
        )
        worst = max(worst, r["cold_s"], r["median_s"])
    print(
        f"whole command (python start-up + connect + first query): {figures['command_wall_s']:.2f} s"
    )
    verdict = "PASS" if worst < TARGET_SECONDS else "FAIL"
    print(
        f"{verdict}: slowest typical aggregate {worst * 1000:.0f} ms (target < {TARGET_SECONDS * 1000:.0f} ms)"
    )
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
