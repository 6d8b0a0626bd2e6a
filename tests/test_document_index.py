"""The curated folder's document index (curation/document_index.py): a cache of a few columns
of every stored ``documents`` row, refreshed by the folder's listing, never trusted without it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from budget_disclosures.curation import store
from budget_disclosures.curation.document_index import (
    INDEX_COLUMNS,
    INDEX_FILE,
    indexed_documents,
    source_index,
)
from budget_disclosures.flows.pipeline import failed_document_row
from conftest import SAMPLE_PDF

pytestmark = pytest.mark.skipif(not SAMPLE_PDF.exists(), reason="the sample PDF is missing")


def _store(curated: Path, number: int, source: str, status: str = "failed") -> str:
    doc_id = f"{number:016x}"
    row = failed_document_row(SAMPLE_PDF, doc_id, f"{number:064x}", "made up for a test")
    row.update(source_path=source, status=status)
    store.write_document(curated, doc_id, {"documents": [row]})
    return doc_id


def _index_file(curated: Path) -> Path:
    return curated / "_state" / INDEX_FILE


def test_the_index_follows_the_folder(tmp_path: Path) -> None:
    first = _store(tmp_path, 1, "/raw/a.pdf")
    second = _store(tmp_path, 2, "/raw/b.pdf")
    assert source_index(tmp_path) == {"/raw/a.pdf": [first], "/raw/b.pdf": [second]}
    assert _index_file(tmp_path).exists()
    # a rewritten row (another size or time), a new file, a removed one: all seen
    _store(tmp_path, 2, "/raw/moved/b.pdf", status="ok")
    third = _store(tmp_path, 3, "/raw/a.pdf")
    store.remove_document(tmp_path, first)
    assert source_index(tmp_path) == {"/raw/moved/b.pdf": [second], "/raw/a.pdf": [third]}
    statuses = {row["doc_id"]: row["status"] for row in indexed_documents(tmp_path)}
    assert statuses == {second: "ok", third: "failed"}


def test_a_projection_reads_as_the_files_do(tmp_path: Path) -> None:
    for number in range(5):
        _store(tmp_path, number, f"/raw/{number}.pdf")
    columns = ["doc_id", "sha256", "source_name", "n_tables", "fiscal_year"]
    from_files = [
        {name: row.get(name) for name in columns}
        for path in sorted((tmp_path / "documents").glob("*.parquet"))
        for row in store.read_rows(path)
    ]
    assert store.read_all_documents(tmp_path, columns) == from_files  # built
    assert store.read_all_documents(tmp_path, columns) == from_files  # from the index
    assert set(columns) <= set(INDEX_COLUMNS)


def test_a_damaged_or_foreign_index_is_rebuilt(tmp_path: Path) -> None:
    doc_id = _store(tmp_path, 1, "/raw/a.pdf")
    source_index(tmp_path)
    _index_file(tmp_path).write_text("{not json", encoding="utf-8")
    assert source_index(tmp_path) == {"/raw/a.pdf": [doc_id]}
    data = json.loads(_index_file(tmp_path).read_text(encoding="utf-8"))
    data["files"][f"{doc_id}.parquet"]["rows"][0]["source_path"] = "/elsewhere.pdf"
    data["columns"] = ["doc_id", "source_path"]  # another version's columns: not trusted
    _index_file(tmp_path).write_text(json.dumps(data), encoding="utf-8")
    assert source_index(tmp_path) == {"/raw/a.pdf": [doc_id]}


def test_an_entry_is_trusted_only_with_its_file_size_and_time(tmp_path: Path) -> None:
    doc_id = _store(tmp_path, 1, "/raw/a.pdf")
    source_index(tmp_path)
    path = tmp_path / "documents" / f"{doc_id}.parquet"
    data = json.loads(_index_file(tmp_path).read_text(encoding="utf-8"))
    data["files"][path.name]["rows"][0]["source_path"] = "/stale.pdf"
    _index_file(tmp_path).write_text(json.dumps(data), encoding="utf-8")
    assert source_index(tmp_path) == {"/stale.pdf": [doc_id]}  # (same size and time: cached)
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000))  # touched: read again
    assert source_index(tmp_path) == {"/raw/a.pdf": [doc_id]}


def test_a_folder_where_no_index_can_be_written_still_reads(tmp_path: Path) -> None:
    doc_id = _store(tmp_path, 1, "/raw/a.pdf")
    (tmp_path / "_state").write_text("not a folder", encoding="utf-8")
    assert source_index(tmp_path) == {"/raw/a.pdf": [doc_id]}
    assert source_index(tmp_path) == {"/raw/a.pdf": [doc_id]}
    assert not list(tmp_path.rglob(".*.tmp"))


def test_a_damaged_documents_file_is_not_a_stored_document(tmp_path: Path) -> None:
    doc_id = _store(tmp_path, 1, "/raw/a.pdf")
    (tmp_path / "documents" / "0000000000000009.parquet").write_bytes(b"not parquet")
    assert source_index(tmp_path) == {"/raw/a.pdf": [doc_id]}
