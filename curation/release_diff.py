"""The previous release in the output folder, and what changed since (added, replaced, removed).

Split from ``publish.py`` (issue 18): one responsibility per file."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq

from .release_model import (
    Changes,
    PublishError,
)

# --------------------------------------------------------------------------- previous release


DOC_KEYS = (
    "doc_id",
    "source_name",
    "unit_name",
    "fiscal_year",
    "doc_kind",
    "template",
    "pipeline_version",
)


def _doc_key(doc: dict) -> dict:
    return {k: doc.get(k) for k in DOC_KEYS}


@dataclass
class Previous:
    version: str | None
    documents: list[dict]
    base_version: str | None
    base_documents: list[dict] | None


def read_previous(out: Path) -> Previous | None:
    """The release already in ``out`` (its version, documents and the base it was compared with)."""
    descriptor = out / "datapackage.json"
    if not descriptor.exists():
        return None
    try:
        package = json.loads(descriptor.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise PublishError(f"{descriptor} is not a readable data package: {error}") from None
    documents: list[dict] = []
    docs_path = out / "data" / "documents.parquet"
    if docs_path.exists():
        documents = [_doc_key(d) for d in pq.read_table(docs_path).to_pylist()]
    meta = package.get("x_release") or {}
    return Previous(
        package.get("version"),
        documents,
        meta.get("previous_version"),
        meta.get("previous_documents"),
    )


def compute_changes(
    base_version: str | None, base: list[dict] | None, current: list[dict]
) -> Changes:
    """Documents added, replaced (new bytes for the same file or unit-year), re-extracted, removed."""
    changes = Changes(base_version)
    current = sorted(current, key=lambda d: d["doc_id"])
    if base is None:
        changes.added = current
        return changes
    base_by_id = {d["doc_id"]: d for d in base}
    current_ids = {d["doc_id"] for d in current}
    gone = {d["doc_id"]: d for d in base if d["doc_id"] not in current_ids}
    for doc in current:
        old = base_by_id.get(doc["doc_id"])
        if old is not None:
            if old.get("pipeline_version") != doc.get("pipeline_version"):
                changes.reextracted.append((doc, old))
            else:
                changes.unchanged += 1
            continue
        match, why = None, ""
        for candidate in sorted(gone.values(), key=lambda d: d["doc_id"]):
            if doc.get("source_name") and candidate.get("source_name") == doc.get("source_name"):
                match, why = candidate, "same file name"
                break
        if match is None and doc.get("unit_name"):
            for candidate in sorted(gone.values(), key=lambda d: d["doc_id"]):
                same = all(
                    candidate.get(k) == doc.get(k) for k in ("unit_name", "fiscal_year", "doc_kind")
                )
                if same:
                    match, why = candidate, "same unit, year and kind"
                    break
        if match is None:
            changes.added.append(doc)
        else:
            gone.pop(match["doc_id"])
            changes.replaced.append((doc, match, why))
    changes.removed = sorted(gone.values(), key=lambda d: d["doc_id"])
    return changes
