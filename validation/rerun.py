"""``disclosures validate``: re-run the suites (GX) on everything stored, rewrite the results.

Each document's ``validations`` file and its ``documents`` row (status, reason) are rewritten
atomically, file by file, as the ingest writes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq

from curation import store

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
        report = report_for(by_doc[doc_id])
        store.write_atomic(
            store.to_table("validations", report.rows),
            store.doc_file(curated, "validations", doc_id),
        )
        reason = document.get("reason")
        if report.status == "failed":
            reason = report.reason
        elif reason and reason.startswith(VALIDATION_REASON):
            reason = None
        if document.get("status") != report.status or document.get("reason") != reason:
            document.update(status=report.status, reason=reason)
            store.write_atomic(store.to_table("documents", [document]), path)
        results.append(
            DocumentResult(
                doc_id,
                document.get("source_name"),
                report.status,
                report.n_errors,
                report.n_warnings,
                reason,
            )
        )
    return results, run
