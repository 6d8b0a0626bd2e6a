"""End-to-end benchmark: ingest a corpus with the project CLI, time it, score it.

    python -m benchmarks.run --corpus DIR [--out DIR] [--workers 1]
        [--skip-baseline] [--disclosures PATH] [--text-layer-only]

Steps: (1) remove and recreate OUT/curated; (2) run
``disclosures ingest CORPUS --curated OUT/curated --workers N`` (the executable beside
``sys.executable``), timing the wall clock (command start to exit: Prefect's start-up
included), log in OUT/ingest.log; (3) run the plain pdfplumber baseline on the same PDFs;
(4) print pages/s of both and the ratio ingest/baseline, and where the ingest's time went
(the run log's ``timing``: start-up to the first document, the documents' own work, the
overhead per document); (5) when the corpus has truth files, score (all kinds, the issue2
set, text-layer-only) and write everything to OUT/report.json.

``--text-layer-only`` runs both sides on the corpus's text-layer documents only (its
``MANIFEST.tsv``; linked into OUT/corpus-text with their truth files): scanned pages cost
ingest an OCR pass while ``extract_tables()`` finds nothing on them, so only text-layer
pages compare like with like. Both sides always get the same PDFs, so the same pages.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.score import (  # noqa: E402
    ISSUE2,
    PRF_HEAD,
    jsonable,
    prf_cols,
    print_report,
    render,
    score,
)
from benchmarks.speed import count_pages, list_pdfs, pdfplumber_baseline  # noqa: E402

DEFAULT_OUT = Path(__file__).resolve().parent / "out"


def reset_dir(path: Path) -> None:
    """Remove ``path`` if present and create it empty."""
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)


def find_cli(override: str | None = None) -> Path | None:
    """The ``disclosures`` executable: override, beside sys.executable, else on PATH."""
    if override:
        return Path(override)
    beside = Path(sys.executable).parent / "disclosures"
    if beside.exists():
        return beside
    found = shutil.which("disclosures")
    return Path(found) if found else None


def run_ingest(
    cli: Path | None, corpus: Path, curated: Path, workers: int, log: Path
) -> dict[str, Any]:
    """Run the ingest CLI as a subprocess; wall-clock seconds, return code, log path."""
    if cli is None:
        print(
            "error: no `disclosures` executable beside sys.executable or on PATH", file=sys.stderr
        )
        return {"cmd": None, "rc": 127, "seconds": None, "log": None}
    cmd = [str(cli), "ingest", str(corpus), "--curated", str(curated), "--workers", str(workers)]
    print("$ " + " ".join(cmd), flush=True)
    with open(log, "w", encoding="utf-8") as fh:
        t0 = time.perf_counter()
        rc = subprocess.run(cmd, stdout=fh, stderr=subprocess.STDOUT, check=False).returncode
        seconds = time.perf_counter() - t0
    if rc != 0:
        tail = log.read_text(encoding="utf-8", errors="replace").splitlines()[-20:]
        print(f"ingest failed (rc={rc}); last lines of {log}:\n  " + "\n  ".join(tail))
    return {"cmd": cmd, "rc": rc, "seconds": round(seconds, 3), "log": str(log)}


def text_layer_corpus(corpus: Path, out: Path) -> Path:
    """OUT/corpus-text: links to the corpus's text-layer PDFs and their truth files."""
    from benchmarks.prefect_overhead import select_documents

    folder = out / "corpus-text"
    reset_dir(folder)
    for pdf in select_documents(corpus, all_documents=False):
        (folder / pdf.name).symlink_to(pdf)
        truth = pdf.with_name(pdf.stem + ".truth.json")
        if truth.exists():
            (folder / truth.name).symlink_to(truth)
    return folder


def ingest_timing(curated: Path) -> dict[str, Any] | None:
    """The run log's ``timing`` record of the ingest (see flows/timing.py)."""
    try:
        lines = (curated / "_state" / "runs.jsonl").read_text(encoding="utf-8").splitlines()
        return json.loads(lines[-1]).get("timing")
    except (OSError, IndexError, json.JSONDecodeError):
        return None


def curated_pages(curated: Path) -> dict[str, int | None]:
    """Documents and pages recorded in curated/documents (a cross-check)."""
    try:
        docs = pd.read_parquet(curated / "documents", columns=["doc_id", "pages"])
    except Exception:  # noqa: BLE001 - absent or unreadable
        return {"docs": None, "pages": None}
    docs = docs.drop_duplicates("doc_id")
    return {"docs": len(docs), "pages": int(pd.to_numeric(docs["pages"]).fillna(0).sum())}


def speed_summary(ingest: dict, baseline: dict | None, pages: int) -> dict[str, Any]:
    """Pages/s of ingest and baseline and their ratio."""
    ips = pages / ingest["seconds"] if ingest.get("seconds") else None
    bps = baseline.get("pages_per_s") if baseline else None
    return {
        "pages": pages,
        "ingest_pages_per_s": round(ips, 3) if ips else None,
        "baseline_pages_per_s": bps,
        "ratio_ingest_over_baseline": round(ips / bps, 3) if ips and bps else None,
    }


def print_speed(sp: dict, ingest: dict, baseline: dict | None) -> None:
    """One readable block for the timing results."""
    render(
        "Speed",
        ["run", "seconds", "pages", "pages/s"],
        [
            [
                "disclosures ingest",
                ingest.get("seconds") or "-",
                sp["pages"],
                sp["ingest_pages_per_s"] or "-",
            ],
            [
                "pdfplumber extract_tables",
                baseline["seconds"] if baseline else "-",
                baseline["pages"] if baseline else "-",
                sp["baseline_pages_per_s"] or "-",
            ],
            ["ratio ingest/baseline", "", "", sp["ratio_ingest_over_baseline"] or "-"],
        ],
    )
    timing = ingest.get("timing")
    if timing:
        render(
            "Ingest time (run log)",
            ["part", "seconds"],
            [
                ["command start → first document", timing.get("command_to_first_document_s")],
                ["documents' own work (sum)", timing.get("documents_work_s")],
                ["isolation (sum)", timing.get("isolation_s")],
                ["Prefect tasks (sum)", timing.get("prefect_tasks_s")],
                ["overhead per document", timing.get("overhead_per_document_s")],
            ],
        )


def score_all(curated: Path, corpus: Path) -> dict[str, Any]:
    """Scores for all kinds, the issue2 set, and text-layer documents only."""
    return {
        "all": score(curated, corpus),
        "issue2": score(curated, corpus, kinds=ISSUE2),
        "text_only": score(curated, corpus, text_layer="text"),
    }


def print_scores(scores: dict[str, Any]) -> None:
    """Overall, issue2, per kind, metadata, tables, then per knob (all vs issue2)."""
    print_report(scores["all"], brief=True)
    rows = []
    for name in ("all", "issue2", "text_only"):
        li = scores[name]["line_items"]["overall"]
        rows.append([f"{name} strict", *prf_cols(li["strict"])])
        rows.append([f"{name} loose", *prf_cols(li["loose"])])
    render("Line items: all kinds / issue2 kinds / text-layer docs", ["set", *PRF_HEAD], rows)
    knobs_all = scores["all"]["line_items"]["by_knob"]
    knobs_i2 = scores["issue2"]["line_items"]["by_knob"]
    render(
        "Line-item F1 by variant knob",
        ["knob=value", "docs", "F1 all", "loose F1 all", "F1 issue2", "loose F1 issue2"],
        [
            [
                f"{k}={v}",
                s["n_docs"],
                s["strict"]["f1"],
                s["loose"]["f1"],
                knobs_i2[k][v]["strict"]["f1"],
                knobs_i2[k][v]["loose"]["f1"],
            ]
            for k, vals in knobs_all.items()
            for v, s in vals.items()
        ],
    )


def main(argv: list[str] | None = None) -> int:
    """CLI entry point; returns the ingest return code."""
    ap = argparse.ArgumentParser(
        prog="python -m benchmarks.run",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--corpus", required=True, type=Path)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"default {DEFAULT_OUT}")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--skip-baseline", action="store_true", help="do not time pdfplumber")
    ap.add_argument("--disclosures", help="path of the CLI executable (default: beside python)")
    ap.add_argument(
        "--text-layer-only",
        action="store_true",
        help="both sides on the text-layer documents only (by the corpus's MANIFEST.tsv)",
    )
    args = ap.parse_args(argv)
    corpus, out = args.corpus.resolve(), args.out.resolve()
    curated = out / "curated"
    reset_dir(curated)
    if args.text_layer_only:
        corpus = text_layer_corpus(corpus, out)
    ingest = run_ingest(
        find_cli(args.disclosures), corpus, curated, args.workers, out / "ingest.log"
    )
    ingest["timing"] = ingest_timing(curated)
    pdfs = list_pdfs([corpus])
    pages = count_pages(pdfs)
    baseline = None if args.skip_baseline else pdfplumber_baseline(pdfs)
    sp = speed_summary(ingest, baseline, pages)
    print_speed(sp, ingest, baseline)
    report: dict[str, Any] = {
        "corpus": str(corpus),
        "workers": args.workers,
        "files": len(pdfs),
        "ingest": ingest | {"curated": curated_pages(curated)},
        "baseline": baseline,
        "speed": sp,
    }
    if any(corpus.rglob("*.truth.json")):
        report["score"] = score_all(curated, corpus)
        print_scores(report["score"])
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(
        json.dumps(report, ensure_ascii=False, indent=1, default=jsonable), encoding="utf-8"
    )
    print(f"\nwrote {out / 'report.json'}")
    return int(ingest["rc"] or 0)


if __name__ == "__main__":
    sys.exit(main())
