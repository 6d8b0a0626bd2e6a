"""Curated Parquet storage: one file per document per dataset, written atomically.

A document's files are written dataset by dataset, ``documents`` last: its row is the
commit marker, so a run killed half-way leaves a document that the next run redoes. Each
file is written to a hidden temporary name and renamed into place, so readers never see a
half-written Parquet file.
"""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from .document_index import INDEX_COLUMNS, indexed_documents
from .schema import DATASETS, DOCUMENTS

WRITE_ORDER = ("line_items", "performance_targets", "tables", "documents")


def dataset_dir(curated: Path, dataset: str) -> Path:
    return curated / dataset


def doc_file(curated: Path, dataset: str, doc_id: str) -> Path:
    return dataset_dir(curated, dataset) / f"{doc_id}.parquet"


def to_table(dataset: str, rows: list[dict]) -> pa.Table:
    """Rows as an Arrow table with the dataset's schema.

    A key the schema does not know is an error, not a dropped column: a misspelt column
    would otherwise become a column of nulls with no error. Keys the schema has but a row
    lacks are null.
    """
    schema = DATASETS[dataset].arrow_schema
    known = set(schema.names)
    unknown = sorted({key for row in rows for key in row} - known)
    if unknown:
        raise ValueError(f"{dataset}: columns not in the schema: {', '.join(unknown)}")
    columns = {name: [row.get(name) for row in rows] for name in schema.names}
    return pa.table(columns, schema=schema)


def write_atomic(table: pa.Table, path: Path) -> None:
    """Write then rename: the final name only ever holds a complete file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    pq.write_table(table, tmp, compression="zstd")
    with tmp.open("rb") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def write_document(curated: Path, doc_id: str, rows_by_dataset: dict[str, list[dict]]) -> None:
    """Write every dataset's rows of one document; ``documents`` goes last (commit marker)."""
    order = [d for d in WRITE_ORDER if d in rows_by_dataset] + [
        d for d in rows_by_dataset if d not in WRITE_ORDER
    ]
    if "documents" in order:
        order.remove("documents")
        order.append("documents")
    # the commit marker goes first on removal, last on write
    marker = doc_file(curated, "documents", doc_id)
    if marker.exists():
        marker.unlink()
    for dataset in order:
        write_atomic(
            to_table(dataset, rows_by_dataset[dataset]), doc_file(curated, dataset, doc_id)
        )


def remove_document(curated: Path, doc_id: str) -> None:
    """Delete a document's rows everywhere (its bytes changed, or it is re-ingested)."""
    marker = doc_file(curated, "documents", doc_id)
    if marker.exists():
        marker.unlink()
    for folder in curated.iterdir() if curated.exists() else []:
        path = folder / f"{doc_id}.parquet"
        if folder.is_dir() and path.exists():
            path.unlink()


def read_rows(path: Path, columns: list[str] | None = None) -> list[dict]:
    """One curated file's rows (only ``columns``, those it has, when given). Through
    ``ParquetFile``, not ``pq.read_table``, which goes through ``pyarrow.dataset``: a
    document process reads a few rows back and need not import the dataset machinery."""
    with pq.ParquetFile(path) as parquet:
        if columns is not None:  # a file written before a column existed lacks it: None
            present = set(parquet.schema_arrow.names)
            columns = [name for name in columns if name in present]
        return parquet.read(columns=columns).to_pylist()


def read_document_row(curated: Path, doc_id: str) -> dict | None:
    path = doc_file(curated, "documents", doc_id)
    if not path.exists():
        return None
    try:
        rows = read_rows(path)
    except Exception:  # a damaged marker means: redo the document
        return None
    return rows[0] if rows else None


def stored_sha256(curated: Path, sha256s: list[str]) -> set[str]:
    """Which of these SHA-256s a stored document has (looked up by its id, the digest's
    first 16 characters: a few files read, not the whole folder)."""
    found = set()
    for sha256 in sha256s:
        path = doc_file(curated, DOCUMENTS.name, sha256[:16])
        if not path.exists():
            continue
        try:
            rows = read_rows(path, ["sha256"])
        except Exception:
            continue
        if any(row.get("sha256") == sha256 for row in rows):
            found.add(sha256)
    return found


def read_all_documents(curated: Path, columns: list[str] | None = None) -> list[dict]:
    """Every stored ``documents`` row (only ``columns`` of it, when given: from the
    folder's document index when it holds them, see :mod:`curation.document_index`)."""
    if columns is not None and set(columns) <= set(INDEX_COLUMNS):
        return [{name: row.get(name) for name in columns} for row in indexed_documents(curated)]
    folder = dataset_dir(curated, DOCUMENTS.name)
    if not folder.exists():
        return []
    rows = []
    for path in sorted(folder.glob("*.parquet")):
        try:
            rows.extend(read_rows(path, columns))
        except Exception:
            continue
    return rows
