"""Ingest into a large curated folder: does a document's cost grow with the folder?

    python -m benchmarks.large_folder [--documents 2000] [--corpus DIR] [--out DIR]

A data department's curated folder holds thousands of documents. A document whose file
changed must find its old rows by its source path; until issue 16's second round each
document read every stored ``documents`` file for that (quadratic over a batch). Now a
batch reads the stored source paths once (``curation.document_index.source_index``).
Measured here:

1. a folder of ``--documents`` stored ``documents`` rows (failed rows of made-up files:
   the same one Parquet file each, as small as a real one);
2. reading every ``documents`` file with all columns (what each document did before), the
   folder's document index built (``curation.document_index``: the first batch after the
   upgrade) and refreshed when nothing changed (every later batch);
3. ``disclosures ingest`` of the corpus's first 12 text-layer documents into an empty
   folder, into a copy of the large one with its index, and into one without (one worker,
   the benchmark's own background server): neither the documents' own work nor the start
   should grow with the folder once it has its index.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import startup  # noqa: E402
from benchmarks.prefect_overhead import link_batch, select_documents  # noqa: E402
from benchmarks.startup import DEFAULT_CORPUS, ROOT, stop_server  # noqa: E402

DEFAULT_OUT = ROOT / "benchmarks" / "out" / "large-folder"
SAMPLE = ROOT / "raw" / "samples" / "baoji-bigdata-center-2023-budget.pdf"


def build_folder(curated: Path, count: int) -> float:
    """``count`` stored documents (their ``documents`` rows only); seconds to build."""
    from budget_disclosures.curation import store
    from budget_disclosures.flows.pipeline import failed_document_row

    shutil.rmtree(curated, ignore_errors=True)
    started = time.perf_counter()
    for number in range(count):
        doc_id = f"{number:016x}"
        row = failed_document_row(SAMPLE, doc_id, f"{number:064x}", "made up for the benchmark")
        row["source_path"] = f"/data/raw/unit-{number}.pdf"
        store.write_document(curated, doc_id, {"documents": [row]})
    return round(time.perf_counter() - started, 2)


def lookups(curated: Path) -> dict[str, float]:
    """What each document read before (every file, all columns), the folder's document
    index built (no index yet: every file read once) and then refreshed (nothing changed)."""
    from budget_disclosures.curation import store
    from budget_disclosures.curation.document_index import INDEX_FILE, source_index

    (curated / "_state" / INDEX_FILE).unlink(missing_ok=True)
    started = time.perf_counter()
    store.read_all_documents(curated)
    full = time.perf_counter() - started
    started = time.perf_counter()
    source_index(curated)
    built = time.perf_counter() - started
    started = time.perf_counter()
    source_index(curated)
    refreshed = time.perf_counter() - started
    return {
        "every_file_all_columns_s": round(full, 3),
        "index_built_s": round(built, 3),
        "index_refreshed_s": round(refreshed, 3),
    }


def ingest(batch: Path, curated: Path, env: dict[str, str]) -> dict[str, Any]:
    """One ``disclosures ingest`` (1 worker) into ``curated`` as it is (a copy of the large
    folder), or into a new folder (``empty``, ``warm-up``)."""
    fresh = curated.name in ("empty", "warm-up")
    return startup.ingest(batch, curated, 1, env, fresh=fresh)


def measure(corpus: Path, out: Path, count: int) -> dict[str, Any]:
    batch = out / "batch-12"
    link_batch(select_documents(corpus, all_documents=False)[:12], batch)
    large = out / f"folder-{count}"
    built = build_folder(large, count)
    reads = lookups(large)  # (leaves the folder with its document index)
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env["BUDGET_DISCLOSURES_SERVER_DIR"] = str(out / "server")
    env.pop("BUDGET_DISCLOSURES_SERVER", None)
    try:
        ingest(batch, out / "warm-up", env)  # (starts the benchmark's server)
        empty = ingest(batch, out / "empty", env)
        shutil.rmtree(out / "large-copy", ignore_errors=True)
        shutil.copytree(large, out / "large-copy")  # (copy2: sizes and times kept)
        into_large = ingest(batch, out / "large-copy", env)
        shutil.rmtree(out / "large-no-index", ignore_errors=True)
        shutil.copytree(large, out / "large-no-index")
        (out / "large-no-index" / "_state" / "documents-index.json").unlink()
        into_unindexed = ingest(batch, out / "large-no-index", env)
    finally:
        stop_server(env)
    return {
        "stored_documents": count,
        "build_s": built,
        **reads,
        "ingest_12_into_empty": empty,
        f"ingest_12_into_{count}": into_large,
        f"ingest_12_into_{count}_first_time_no_index": into_unindexed,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m benchmarks.large_folder",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--documents", type=int, default=2000, help="stored documents to make")
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    report = measure(args.corpus, args.out, args.documents)
    print(json.dumps(report, indent=2))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
