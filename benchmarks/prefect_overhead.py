"""Prefect overhead (issue 7): start-up and per-document orchestration cost of an ingest.

    python -m benchmarks.prefect_overhead [--corpus DIR] [--runs 3] [--out DIR]
        [--all-documents] [--ocr] [--variant NAME=PYTHONPATH ...] [--running-server]
        [--json FILE]

Each round runs, one after the other (so that a busy machine weighs on all alike):

* ``disclosures ingest BATCH --curated FRESH --workers 1`` through the real CLI, for each
  variant (default: this checkout; ``--variant before=/path`` puts another ``flows``
  package first on PYTHONPATH, for before/after comparisons; ``--running-server`` adds
  a run against an already running Prefect server named by ``PREFECT_API_URL``, started
  once by the benchmark), timed from outside; the run
  log's ``timing`` record (:mod:`flows.timing`) gives the start-up to the first document,
  the documents' own work and the per-document overhead;
* a plain loop over :func:`flows.pipeline.ingest_document` in one process, no Prefect and
  no isolation, timed the same way (interpreter start and imports included).

BATCH is the corpus's text-layer documents (``MANIFEST.tsv`` ``text_layer == text``; all
PDFs with ``--all-documents`` or without a manifest), linked into OUT/batch. OCR is
switched off (``BUDGET_DISCLOSURES_OCR=0``) unless ``--ocr``. Reported: medians over the
rounds of wall time, start-up to the first document, Σ document work, overhead per
document and overhead share = (wall − Σ document work) / wall.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from statistics import median
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus" / "dev"
DEFAULT_OUT = Path(__file__).resolve().parent / "out" / "prefect_overhead"
DISCLOSURES = Path(sys.executable).parent / "disclosures"


def select_documents(corpus: Path, all_documents: bool) -> list[Path]:
    """The corpus's text-layer PDFs (by its manifest), or all of them."""
    pdfs = sorted(corpus.glob("*.pdf"))
    manifest = corpus / "MANIFEST.tsv"
    if all_documents or not manifest.exists():
        return pdfs
    with manifest.open(encoding="utf-8") as handle:
        text = {
            row["id"]
            for row in csv.DictReader(handle, delimiter="\t")
            if row.get("text_layer") == "text"
        }
    return [p for p in pdfs if p.stem in text]


def link_batch(documents: list[Path], batch: Path) -> None:
    """A folder of links to the selected documents (the CLI takes a folder)."""
    shutil.rmtree(batch, ignore_errors=True)
    batch.mkdir(parents=True)
    for path in documents:
        (batch / path.name).symlink_to(path.resolve())


def _env(ocr: bool, pythonpath: str | None, api_url: str | None = None) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if k not in {"DISCLOSURES_CURATED", "PREFECT_API_URL"}
    }
    if not ocr:
        env["BUDGET_DISCLOSURES_OCR"] = "0"
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    if api_url:
        env["PREFECT_API_URL"] = api_url
    return env


def run_cli(batch: Path, curated: Path, env: dict[str, str]) -> dict[str, Any]:
    """One timed ``disclosures ingest`` into a fresh folder, with its run log's timing."""
    shutil.rmtree(curated, ignore_errors=True)
    command = [str(DISCLOSURES), "ingest", str(batch), "--curated", str(curated), "--workers", "1"]
    started = time.perf_counter()
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    runs = (curated / "_state" / "runs.jsonl").read_text(encoding="utf-8").splitlines()
    timing = json.loads(runs[-1]).get("timing") or {}
    work = timing.get("documents_work_s") or 0.0
    return {
        "exit_code": result.returncode,
        "wall_s": round(wall, 3),
        "command_to_flow_s": timing.get("command_to_flow_s"),
        "command_to_first_document_s": timing.get("command_to_first_document_s"),
        "documents_work_s": work,
        "isolation_s": timing.get("isolation_s"),
        "prefect_tasks_s": timing.get("prefect_tasks_s"),
        "overhead_per_document_s": timing.get("overhead_per_document_s"),
        "after_flow_s": round(wall - (timing.get("command_to_flow_s") or 0) - timing["flow_s"], 3)
        if timing.get("flow_s") is not None
        else None,
        "overhead_share": round((wall - work) / wall, 3),
    }


def run_plain_loop(batch: Path, curated: Path, env: dict[str, str]) -> dict[str, Any]:
    """The same documents through ``ingest_document`` in one process (no Prefect)."""
    shutil.rmtree(curated, ignore_errors=True)
    command = [
        sys.executable,
        "-m",
        "benchmarks.prefect_overhead",
        "--plain-loop",
        str(batch),
        str(curated),
    ]
    started = time.perf_counter()
    result = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - started
    inner = json.loads(result.stdout.strip().splitlines()[-1])
    return {
        "wall_s": round(wall, 3),
        "command_to_first_document_s": inner["command_to_first_document_s"],
        "documents_work_s": inner["documents_work_s"],
        "overhead_share": round((wall - inner["documents_work_s"]) / wall, 3),
    }


def plain_loop(batch: Path, curated: Path) -> None:
    """Child side of :func:`run_plain_loop`: print its JSON line."""
    from budget_disclosures.flows.timing import process_started

    command_started = process_started()
    from budget_disclosures.flows.pipeline import discover_pdfs, ingest_document

    first = time.time()
    work = 0.0
    for path in discover_pdfs([batch]):
        work += ingest_document(path, curated).seconds
    print(
        json.dumps(
            {
                "command_to_first_document_s": round(first - command_started, 3),
                "documents_work_s": round(work, 3),
            }
        )
    )


def run_rounds(
    batch: Path, out: Path, variants: dict[str, dict], runs: int, plain: bool, ocr: bool
) -> dict[str, list[dict]]:
    """``runs`` rounds of every variant (and the plain loop), alternating."""
    rows: dict[str, list[dict]] = {name: [] for name in variants}
    if plain:
        rows["plain loop"] = []
    for round_no in range(runs):
        for name, env in variants.items():
            row = run_cli(batch, out / f"curated-{name.replace(' ', '-')}", env)
            rows[name].append(row)
            print(f"round {round_no + 1} {name}: {json.dumps(row)}", flush=True)
        if plain:
            row = run_plain_loop(batch, out / "curated-plain", _env(ocr, None))
            rows["plain loop"].append(row)
            print(f"round {round_no + 1} plain loop: {json.dumps(row)}", flush=True)
    return rows


@contextlib.contextmanager
def running_server(log_file: Path) -> Iterator[str]:
    """A Prefect server up for the whole benchmark, as under ``disclosures serve`` (the
    settings of the servers the pipeline starts: task runs recorded in batches)."""
    from budget_disclosures.flows.prefect_api import (
        start_temporary_server,
        stop,
        wait_until_healthy,
    )

    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    server = start_temporary_server(log_file)
    if server is None or not wait_until_healthy(server, 180):
        raise RuntimeError(f"no Prefect server (see {log_file})")
    try:
        yield server.api_url
    finally:
        stop(server)


def _median(rows: list[dict], key: str) -> float | None:
    values = [r[key] for r in rows if r.get(key) is not None]
    return round(median(values), 3) if values else None


KEYS = (
    "wall_s",
    "command_to_flow_s",
    "command_to_first_document_s",
    "documents_work_s",
    "isolation_s",
    "prefect_tasks_s",
    "overhead_per_document_s",
    "after_flow_s",
    "overhead_share",
)


def summarise(rows: list[dict]) -> dict[str, float | None]:
    return {key: _median(rows, key) for key in KEYS if any(key in r for r in rows)}


def print_table(report: dict) -> None:
    names = list(report["medians"])
    print(
        f"\n{report['documents']} documents, {report['pages']} pages; medians of {report['runs']} runs"
    )
    print(f"{'':34}" + "".join(f"{name:>16}" for name in names))
    for key in KEYS:
        values = [report["medians"][name].get(key) for name in names]
        if all(v is None for v in values):
            continue
        print(f"{key:34}" + "".join(f"{'-' if v is None else v:>16}" for v in values))


def count_pages(documents: list[Path]) -> int:
    from benchmarks.speed import count_pages as count

    return count(documents)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.prefect_overhead",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--all-documents", action="store_true", help="not only text-layer ones")
    parser.add_argument("--ocr", action="store_true", help="leave OCR on")
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="NAME=PYTHONPATH",
        help="also run the CLI with PYTHONPATH (e.g. another checkout's flows package)",
    )
    parser.add_argument("--no-plain-loop", action="store_true")
    parser.add_argument(
        "--running-server",
        action="store_true",
        help="also run against a Prefect server started once beforehand (PREFECT_API_URL)",
    )
    parser.add_argument("--json", type=Path)
    parser.add_argument("--plain-loop", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.plain_loop:
        plain_loop(*args.plain_loop)
        return 0
    documents = select_documents(args.corpus.resolve(), args.all_documents)
    out = args.out.resolve()
    batch = out / "batch"
    link_batch(documents, batch)
    variants = {"current": _env(args.ocr, None)} | {
        name: _env(args.ocr, path) for name, path in (v.split("=", 1) for v in args.variant)
    }
    with contextlib.ExitStack() as stack:
        if args.running_server:
            api_url = stack.enter_context(running_server(out / "prefect-server.log"))
            variants["running server"] = _env(args.ocr, None, api_url)
        rows = run_rounds(batch, out, variants, args.runs, not args.no_plain_loop, args.ocr)
    report = {
        "corpus": str(args.corpus),
        "documents": len(documents),
        "pages": count_pages(documents),
        "runs": args.runs,
        "ocr": args.ocr,
        "medians": {name: summarise(r) for name, r in rows.items()},
        "rounds": rows,
    }
    print_table(report)
    if args.json:
        args.json.write_text(json.dumps(report, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
