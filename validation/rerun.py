"""``disclosures validate``: re-run the suites (GX) on everything stored, rewrite the results.

Each document's ``validations`` file and its ``documents`` row (status, reason) are rewritten
atomically, file by file, as the ingest writes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq
from budget_disclosures.curation import store
from budget_disclosures.mappings.corrections import (
    CorrectionsError,
    accept_findings,
    load_corrections,
)

from .engine import aggregate, report_for
from .gx import GxRun, run_gx

VALIDATION_REASON = "validation error"


@dataclass
class DocumentResult:
    doc_id: str
    source_name: str | None
    status: str
    n_errors: int
    n_warnings: int
    reason: str | None


def _extraction_failed(row: dict) -> bool:
    """A document that could not be read at all keeps its status: there is nothing to validate."""
    reason = row.get("reason") or ""
    return (
        row.get("status") == "failed"
        and not reason.startswith(VALIDATION_REASON)
        and row.get("pages") is None
    )


def accept_reviewed(rows: list[dict], document: dict) -> None:
    """Mark the findings the document's corrections file accepts (as the ingest does), so
    that ``disclosures validate`` agrees with it; a file that does not load accepts nothing
    (the ingest reported it)."""
    sha256 = document.get("sha256")
    if not sha256:
        return
    try:
        fixes = load_corrections(sha256)
    except CorrectionsError:
        return
    if fixes is not None:
        accept_findings(rows, fixes, document["doc_id"], sha256)


def _has_unmatched_corrections(curated: Path, doc_id: str) -> bool:
    path = store.doc_file(curated, "corrections", doc_id)
    if not path.exists():
        return False
    return "unmatched" in pq.read_table(path, columns=["status"]).column("status").to_pylist()


def validate_store(curated: Path, build_docs: bool = True) -> tuple[list[DocumentResult], GxRun]:
    run = run_gx(curated, build_docs=build_docs)
    by_doc = aggregate(run.instances, run.doc_ids)
    results = []
    for doc_id in run.doc_ids:
        path = store.doc_file(curated, "documents", doc_id)
        try:
            document = pq.read_table(path).to_pylist()[0]
        except Exception:
            continue
        if _extraction_failed(document):
            store.write_atomic(
                store.to_table("validations", []), store.doc_file(curated, "validations", doc_id)
            )
            results.append(
                DocumentResult(
                    doc_id, document.get("source_name"), "failed", 0, 0, document.get("reason")
                )
            )
            continue
        rows = by_doc[doc_id]
        accept_reviewed(rows, document)
        report = report_for(rows)
        store.write_atomic(
            store.to_table("validations", report.rows),
            store.doc_file(curated, "validations", doc_id),
        )
        reason = document.get("reason")
        if report.status == "failed":
            reason = report.reason
        elif reason and reason.startswith(VALIDATION_REASON):
            reason = None
        status = report.status
        if status == "ok" and _has_unmatched_corrections(curated, doc_id):
            status = "warn"  # (its reason, from the ingest, stays)
        if document.get("status") != status or document.get("reason") != reason:
            document.update(status=status, reason=reason)
            store.write_atomic(store.to_table("documents", [document]), path)
        results.append(
            DocumentResult(
                doc_id,
                document.get("source_name"),
                status,
                report.n_errors,
                report.n_warnings,
                reason,
            )
        )
    return results, run
