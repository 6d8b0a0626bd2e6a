"""Bad input is normal input: every bad file gets a one-line reason and a ``documents`` row."""

from __future__ import annotations

import pandas as pd
import pytest
from budget_disclosures.flows.pipeline import discover_pdfs, ingest_document
from conftest import BAD_FILES, sha256_of

FAILED = {
    # file → words one of which the reason must contain (lower case)
    "not-a-pdf.pdf": ("not a pdf",),
    "truncated.pdf": ("truncated", "damaged", "broken"),
    "encrypted.pdf": ("encrypted",),
    "empty.pdf": ("empty", "0 bytes"),
}


def read(curated, dataset):
    return pd.read_parquet(curated / dataset)


def hashes(paths):
    return {p.name: sha256_of(p) for p in paths}


@pytest.fixture(scope="module")
def bad_batch(bad_pdfs, sample_pdf, tmp_path_factory):
    """All bad files and the sample in one batch, with the raw hashes before and after."""
    inputs = [*bad_pdfs.values(), sample_pdf]
    before = hashes(inputs)
    curated = tmp_path_factory.mktemp("curated-bad")
    summaries = {p.name: ingest_document(p, curated) for p in inputs}
    after = hashes(inputs)
    return summaries, curated, before, after


@pytest.mark.parametrize("name", sorted(FAILED))
def test_bad_file_fails_with_a_clear_one_line_reason(bad_batch, bad_pdfs, name):
    summaries, _, _, _ = bad_batch
    summary = summaries[name]
    assert summary.status == "failed"
    reason = summary.reason
    assert reason and reason.strip() == reason
    assert "\n" not in reason and "\r" not in reason
    assert len(reason) <= 200
    assert "Traceback" not in reason and "internal error" not in reason
    assert any(word in reason.lower() for word in FAILED[name]), reason
    assert summary.doc_id == sha256_of(bad_pdfs[name])[:16]
    assert summary.tables == 0 and summary.line_items == 0


@pytest.mark.parametrize("name", sorted(FAILED))
def test_bad_file_has_a_failed_documents_row(bad_batch, bad_pdfs, name):
    summaries, curated, _, _ = bad_batch
    documents = read(curated, "documents").set_index("source_name")
    row = documents.loc[name]
    assert row["status"] == "failed"
    assert row["reason"] == summaries[name].reason
    assert row["doc_id"] == summaries[name].doc_id
    assert row["sha256"] == sha256_of(bad_pdfs[name])
    assert row["n_tables"] == 0 and row["n_line_items"] == 0
    assert row["pipeline_version"]
    for dataset in ("tables", "line_items"):
        frame = read(curated, dataset)
        assert not (frame["doc_id"] == row["doc_id"]).any(), dataset


def test_empty_file_doc_id_is_the_hash_of_nothing(bad_batch):
    summaries, _, _, _ = bad_batch
    assert summaries["empty.pdf"].doc_id == "e3b0c44298fc1c14"


def test_encrypted_reason_says_encrypted(bad_batch):
    summaries, _, _, _ = bad_batch
    assert "encrypted" in summaries["encrypted.pdf"].reason.lower()


def test_no_tables_pdf_is_warn_with_zero_tables(bad_batch, bad_pdfs):
    """A budget disclosure that yields no table is never ``ok`` (issue 14): ``warn``, with a
    reason that says what was seen."""
    summaries, curated, _, _ = bad_batch
    summary = summaries["no-tables.pdf"]
    assert summary.status == "warn", summary.reason
    assert summary.reason.startswith("no table recognised"), summary.reason
    assert summary.tables == 0
    assert summary.line_items == 0
    assert summary.pages == 1
    row = read(curated, "documents").set_index("source_name").loc["no-tables.pdf"]
    assert row["status"] == "warn"
    assert row["reason"] == summary.reason
    assert row["n_tables"] == 0
    assert row["pages"] == 1
    assert row["text_layer"] == "text"
    assert row["fiscal_year"] == 2023
    assert not (read(curated, "tables")["doc_id"] == summary.doc_id).any()


def test_no_tables_pdf_unit_name_is_not_a_sentence(bad_batch):
    summaries, curated, _, _ = bad_batch
    unit = read(curated, "documents").set_index("source_name").loc["no-tables.pdf", "unit_name"]
    assert unit is None or pd.isna(unit) or not any(p in unit for p in "。，,；;")


def test_batch_goes_on_past_bad_files(bad_batch, sample_pdf):
    summaries, curated, _, _ = bad_batch
    sample = summaries[sample_pdf.name]
    assert sample.status in ("ok", "warn"), sample.reason
    assert sample.tables == 15
    documents = read(curated, "documents")
    assert len(documents) == len(BAD_FILES) + 1
    assert documents["doc_id"].is_unique
    assert set(documents.loc[documents["status"] == "failed", "source_name"]) == set(FAILED)
    items = read(curated, "line_items")
    assert set(items["doc_id"]) == {sample.doc_id}
    assert not [p for p in curated.rglob("*") if p.name.endswith(".tmp")]


def test_raw_files_are_unchanged(bad_batch):
    _, _, before, after = bad_batch
    assert after == before


def test_rerun_of_a_failed_file_reports_the_same_failure(bad_batch, bad_pdfs):
    summaries, curated, _, _ = bad_batch
    again = ingest_document(bad_pdfs["encrypted.pdf"], curated)
    assert again.status == "failed"
    assert again.reason == summaries["encrypted.pdf"].reason
    assert len(read(curated, "documents")) == len(BAD_FILES) + 1


def test_missing_file_is_reported_not_raised(tmp_path):
    summary = ingest_document(tmp_path / "gone.pdf", tmp_path / "curated")
    assert summary.status == "failed"
    assert summary.doc_id is None
    assert "\n" not in summary.reason and summary.reason


def test_a_folder_named_pdf_is_reported_not_raised(tmp_path):
    folder = tmp_path / "folder.pdf"
    folder.mkdir()
    summary = ingest_document(folder, tmp_path / "curated")
    assert summary.status == "failed"
    assert "\n" not in summary.reason and summary.reason


def test_discover_pdfs(bad_pdfs, sample_pdf, tmp_path):
    found = discover_pdfs([sample_pdf.parent, next(iter(bad_pdfs.values())).parent, sample_pdf])
    names = [p.name for p in found]
    assert sample_pdf.name in names and names.count(sample_pdf.name) == 1
    assert set(BAD_FILES) <= set(names)
    assert all(p.suffix.lower() == ".pdf" for p in found)
    with pytest.raises(FileNotFoundError):
        discover_pdfs([tmp_path / "nowhere"])
