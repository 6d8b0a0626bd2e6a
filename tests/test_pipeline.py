"""One document end to end (``flows.pipeline.ingest_document``) into curated Parquet.

The sample is ingested once per module; tests that change the curated folder work on a copy.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest
from budget_disclosures.curation.schema import DATASETS
from budget_disclosures.flows.pipeline import build_rows, ingest_document, pipeline_version
from budget_disclosures.mappings.loader import vocabulary
from budget_disclosures.mappings.text import UNIT_FACTORS, clean_name, parse_amount
from conftest import DEV_CORPUS, dev_pdf_path, sha256_of

CORE = ("documents", "tables", "line_items")
# The contract's columns (../shared/spec/curated-datasets.md): renaming one is a breaking change.
CONTRACT_COLUMNS = {
    "documents": [
        "doc_id",
        "sha256",
        "source_name",
        "unit_name",
        "unit_code",
        "admin_region",
        "fiscal_year",
        "doc_kind",
        "template",
        "pages",
        "text_layer",
        "status",
        "pipeline_version",
    ],
    "tables": [
        "doc_id",
        "table_no",
        "title",
        "kind",
        "page_first",
        "page_last",
        "n_rows",
        "is_empty",
        "method",
    ],
    "line_items": [
        "doc_id",
        "fiscal_year",
        "table_no",
        "kind",
        "classification",
        "code",
        "name",
        "level",
        "parent_code",
        "alt_code",
        "alt_name",
        "measure",
        "amount_yuan",
        "amount_printed",
        "unit_printed",
        "page",
    ],
}


def read(curated: Path, dataset: str) -> pd.DataFrame:
    return pd.read_parquet(curated / dataset)


def snapshot(curated: Path) -> dict[str, bytes]:
    """Every file under ``curated`` (relative path → bytes)."""
    return {
        str(p.relative_to(curated)): p.read_bytes()
        for p in sorted(curated.rglob("*"))
        if p.is_file()
    }


def temp_files(curated: Path) -> list[Path]:
    return [p for p in curated.rglob("*") if p.name.endswith(".tmp")]


def doc_files(curated: Path, doc_id: str) -> list[Path]:
    return sorted(curated.glob(f"*/{doc_id}.parquet"))


@pytest.fixture(scope="module")
def ingested(sample_pdf, tmp_path_factory):
    """The sample ingested once into a fresh curated folder: (summary, curated)."""
    curated = tmp_path_factory.mktemp("curated")
    summary = ingest_document(sample_pdf, curated)
    return summary, curated


@pytest.fixture
def curated_copy(ingested, tmp_path):
    _, curated = ingested
    copy = tmp_path / "curated"
    shutil.copytree(curated, copy)
    return copy


# --------------------------------------------------------------------------- the sample


def test_summary(ingested, sample_pdf):
    summary, _ = ingested
    assert summary.status in ("ok", "warn"), summary.reason
    assert summary.reason == ""
    assert not summary.skipped
    assert summary.file == sample_pdf.name
    assert summary.doc_id == sha256_of(sample_pdf)[:16]
    assert summary.unit == "宝鸡市大数据管理中心"
    assert summary.year == 2023
    assert summary.template == "shaanxi-15"
    assert summary.pages == 23
    assert summary.tables == 15
    assert summary.line_items > 0


def test_one_parquet_file_per_dataset(ingested):
    summary, curated = ingested
    for dataset in CORE:
        assert (curated / dataset / f"{summary.doc_id}.parquet").is_file(), dataset
    assert not temp_files(curated)


def test_documents_row(ingested, sample_pdf):
    summary, curated = ingested
    documents = read(curated, "documents")
    assert len(documents) == 1
    row = documents.iloc[0].to_dict()
    sha = sha256_of(sample_pdf)
    assert row["doc_id"] == sha[:16] == summary.doc_id
    assert row["sha256"] == sha
    assert row["source_name"] == "baoji-bigdata-center-2023-budget.pdf"
    assert row["unit_name"] == "宝鸡市大数据管理中心"
    assert row["unit_code"] == "621002"
    assert row["admin_region"] == "宝鸡市"
    assert row["fiscal_year"] == 2023
    assert row["doc_kind"] == "budget"
    assert row["template"] == "shaanxi-15"
    assert row["pages"] == 23
    assert row["text_layer"] == "text"
    assert row["status"] in (
        "ok",
        "warn",
    )  # the sample warns: its own tables disagree by 0.01 万元 (test_validation)
    assert row["pipeline_version"] == pipeline_version()
    assert row["n_tables"] == 15
    assert row["n_line_items"] == len(read(curated, "line_items"))


def test_parquet_schemas_follow_the_contract(ingested):
    summary, curated = ingested
    for path in curated.glob(f"*/{summary.doc_id}.parquet"):
        dataset = path.parent.name
        assert dataset in DATASETS, f"unexpected dataset folder {dataset}"
        schema = pq.read_schema(path)
        expected = DATASETS[dataset].arrow_schema
        assert schema.names == expected.names, dataset
        assert [f.type for f in schema] == [f.type for f in expected], dataset
    for dataset, columns in CONTRACT_COLUMNS.items():
        names = pq.read_schema(curated / dataset / f"{summary.doc_id}.parquet").names
        missing = [c for c in columns if c not in names]
        assert not missing, f"{dataset}: contract columns missing {missing}"


def test_tables_identified(ingested):
    _, curated = ingested
    tables = read(curated, "tables")
    assert sorted(tables["table_no"], key=int) == [str(n) for n in range(1, 16)]
    assert not tables.duplicated(["doc_id", "table_no", "page_first"]).any()
    by_no = tables.set_index("table_no")
    assert set(by_no.index[by_no["is_empty"]]) == {"9", "11"}
    assert by_no.loc["5", "kind"] == "gpb_expenditure_by_function"
    assert by_no.loc["5", "title"] == "单位综合预算一般公共预算支出明细表(按支出功能分类科目)"
    assert by_no.loc["5", "page_first"] == by_no.loc["5", "page_last"] == 13
    assert by_no.loc["5", "n_rows"] == 15
    assert by_no.loc["1", "kind"] == "budget_summary"
    assert by_no.loc["12", "kind"] == "three_public"
    assert (tables["page_first"] >= 9).all() and (tables["page_last"] <= 23).all()
    assert tables["method"].notna().all() and (tables["method"] != "").all()
    assert (by_no.loc[["9", "11"], "n_line_items"] == 0).all()


def test_table5_figures(ingested):
    """表5's grand total is 363.45 万元 = 3,634,500.00 元, and its rows are what is printed."""
    _, curated = ingested
    items = read(curated, "line_items")
    t5 = items[items["table_no"] == "5"]
    assert len(t5) == 15 * 4
    assert set(t5["classification"]) == {"function"}
    assert set(t5["measure"]) == {"total", "basic_personnel", "basic_public", "project"}
    total = t5[(t5["name"] == "合计") & (t5["measure"] == "total")]
    assert len(total) == 1
    total = total.iloc[0]
    assert total["code"] is None or pd.isna(total["code"])
    assert total["amount_yuan"] == 3634500.0
    assert total["amount_printed"] == "363.45"
    assert total["unit_printed"] == "万元"
    assert total["page"] == 13
    assert total["fiscal_year"] == 2023

    by_code = t5.dropna(subset=["code"]).set_index(["code", "measure"])
    assert by_code.loc[("2010350", "total"), "name"] == "事业运行"
    assert by_code.loc[("2010350", "total"), "amount_yuan"] == 2766300.0
    assert by_code.loc[("2010350", "total"), "level"] == 3
    assert by_code.loc[("2010350", "total"), "parent_code"] == "20103"
    assert by_code.loc[("20103", "total"), "name"] == "政府办公厅(室)及相关机构事务"
    assert by_code.loc[("201", "basic_personnel"), "amount_yuan"] == 2648300.0
    assert by_code.loc[("201", "basic_personnel"), "column"] == "基本支出/人员经费"
    assert by_code.loc[("2050803", "basic_public"), "amount_yuan"] == 2000.0
    assert by_code.loc[("2010350", "project"), "amount_yuan"] == 0.0  # printed 0.00 is a row


def test_table5_arithmetic(ingested):
    """Each row's total is the sum of its parts; the 类 rows add up to the grand total."""
    _, curated = ingested
    items = read(curated, "line_items")
    t5 = items[items["table_no"] == "5"].copy()
    t5["key"] = t5["code"].fillna("合计")
    wide = t5.pivot_table(index="key", columns="measure", values="amount_yuan", aggfunc="sum")
    parts = wide["basic_personnel"] + wide["basic_public"] + wide["project"]
    assert (parts - wide["total"]).abs().max() < 0.5
    classes = wide.loc[[k for k in wide.index if len(k) == 3], "total"].sum()
    assert abs(classes - wide.loc["合计", "total"]) < 0.5


def test_line_items_invariants(ingested):
    _, curated = ingested
    items = read(curated, "line_items")
    tables = read(curated, "tables").set_index("table_no")
    assert len(items) > 0
    assert (items["doc_id"] == ingested[0].doc_id).all()
    codes = items["code"].dropna()
    assert codes.map(lambda c: bool(re.fullmatch(r"\d+", c))).all()
    for column in ("parent_code", "alt_code"):
        assert items[column].dropna().map(lambda c: bool(re.fullmatch(r"\d+", c))).all()
    names = items["name"]
    assert names.notna().all()
    assert (names == names.map(clean_name)).all(), names[names != names.map(clean_name)].tolist()
    assert not names.str.contains(r"\s").any()
    assert set(items["classification"]) <= set(DATASETS["line_items"].columns[4].enum)
    assert set(items["unit_printed"]) <= set(UNIT_FACTORS)
    known = set(vocabulary().measures)
    assert set(items["measure"]) <= known, set(items["measure"]) - known
    recomputed = [
        round(parse_amount(p) * UNIT_FACTORS[u], 2)
        for p, u in zip(items["amount_printed"], items["unit_printed"])
    ]
    assert (items["amount_yuan"] == recomputed).all()
    for _, item in items.iterrows():
        table = tables.loc[item["table_no"]]
        assert table["page_first"] <= item["page"] <= table["page_last"]
        assert item["kind"] == table["kind"]
    per_table = items.groupby("table_no").size()
    assert (tables.loc[per_table.index, "n_line_items"] == per_table).all()


def test_readable_as_one_dataset_by_duckdb_and_pandas(ingested):
    """The contract's one-call reads: pandas over the folder, DuckDB over the glob."""
    _, curated = ingested
    n_items = len(pd.read_parquet(curated / "line_items"))
    con = duckdb.connect()
    try:
        glob = str(curated / "line_items" / "**" / "*.parquet")
        (count,) = con.execute(
            "select count(*) from read_parquet(?, hive_partitioning = true)", [glob]
        ).fetchone()
        assert count == n_items
        docs = str(curated / "documents" / "**" / "*.parquet")
        row = con.execute(
            """
            select d.unit_name, sum(l.amount_yuan)
            from read_parquet(?, hive_partitioning = true) l
            join read_parquet(?, hive_partitioning = true) d using (doc_id)
            where l.table_no = '5' and l.name = '合计' and l.measure = 'total'
            group by d.unit_name
            """,
            [glob, docs],
        ).fetchall()
        assert row == [("宝鸡市大数据管理中心", 3634500.0)]
    finally:
        con.close()


def test_readers_give_identical_rows(sample_pdf):
    """The PDFium reader (default) and the pdfplumber reader make the same rows."""
    doc_id, sha = "f" * 16, "f" * 64
    fast, _ = build_rows(sample_pdf, doc_id, sha, reader="pdfium")
    reference, _ = build_rows(sample_pdf, doc_id, sha, reader="pdfplumber")
    assert fast["line_items"] == reference["line_items"]
    strip = lambda rows, key: [{k: v for k, v in r.items() if k != key} for r in rows]  # noqa: E731
    assert strip(fast["tables"], "method") == strip(reference["tables"], "method")
    assert strip(fast["documents"], "ingested_at") == strip(reference["documents"], "ingested_at")


# --------------------------------------------------------------------------- re-runs


def test_rerun_skips_and_leaves_identical_files(curated_copy, sample_pdf):
    before = snapshot(curated_copy)
    summary = ingest_document(sample_pdf, curated_copy)
    assert summary.skipped
    assert summary.status in (
        "ok",
        "warn",
    )  # the sample warns: its own tables disagree by 0.01 万元 (test_validation)
    assert summary.tables == 15
    assert summary.unit == "宝鸡市大数据管理中心"
    assert snapshot(curated_copy) == before


def test_force_redoes_with_the_same_rows(curated_copy, sample_pdf):
    doc_id = sha256_of(sample_pdf)[:16]
    files_before = doc_files(curated_copy, doc_id)
    before = {d: read(curated_copy, d) for d in CORE}
    summary = ingest_document(sample_pdf, curated_copy, force=True)
    assert not summary.skipped
    assert summary.status in (
        "ok",
        "warn",
    )  # the sample warns: its own tables disagree by 0.01 万元 (test_validation)
    after = {d: read(curated_copy, d) for d in CORE}
    pd.testing.assert_frame_equal(after["line_items"], before["line_items"])
    pd.testing.assert_frame_equal(after["tables"], before["tables"])
    keep = [c for c in before["documents"].columns if c != "ingested_at"]
    pd.testing.assert_frame_equal(after["documents"][keep], before["documents"][keep])
    assert len(after["documents"]) == 1
    assert doc_files(curated_copy, doc_id) == files_before
    assert not temp_files(curated_copy)


def test_changed_copy_replaces_old_rows(sample_pdf, tmp_path):
    """Same file name, different bytes: the new doc_id replaces the old one everywhere."""
    raw = tmp_path / "raw"
    raw.mkdir()
    pdf = raw / "budget.pdf"
    shutil.copyfile(sample_pdf, pdf)
    curated = tmp_path / "curated"
    first = ingest_document(pdf, curated)
    assert first.status in (
        "ok",
        "warn",
    )  # the sample warns: its own tables disagree by 0.01 万元 (test_validation)
    old_id = first.doc_id
    assert doc_files(curated, old_id)

    with pdf.open("ab") as handle:  # a trailing comment: still a valid PDF, new bytes
        handle.write(b"\n% revised copy\n")
    second = ingest_document(pdf, curated)
    assert second.status in ("ok", "warn"), second.reason
    assert not second.skipped
    assert second.doc_id == sha256_of(pdf)[:16] != old_id
    assert doc_files(curated, old_id) == []
    for dataset in CORE:
        frame = read(curated, dataset)
        assert set(frame["doc_id"]) == {second.doc_id}, dataset
    assert len(read(curated, "documents")) == 1
    assert read(curated, "documents")["sha256"].tolist() == [sha256_of(pdf)]
    assert not temp_files(curated)


def test_same_file_name_in_two_folders_keeps_both(sample_pdf, tmp_path):
    other = DEV_CORPUS / "dev-1-0002.pdf"
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    shutil.copyfile(sample_pdf, tmp_path / "a" / "budget.pdf")
    second = tmp_path / "b" / "budget.pdf"
    if other.exists():
        shutil.copyfile(other, second)
    else:  # different bytes without the corpus: the sample with a trailing comment
        second.write_bytes(sample_pdf.read_bytes() + b"\n% another unit\n")
    curated = tmp_path / "curated"
    ids = {ingest_document(p, curated).doc_id for p in (tmp_path / "a" / "budget.pdf", second)}
    assert set(read(curated, "documents")["doc_id"]) == ids
    rerun = [ingest_document(p, curated) for p in (tmp_path / "a" / "budget.pdf", second)]
    assert all(s.skipped for s in rerun)


def test_interrupted_document_is_redone(curated_copy, sample_pdf):
    """``documents`` is the commit marker: without it the document is redone, not duplicated."""
    doc_id = sha256_of(sample_pdf)[:16]
    n_items = len(read(curated_copy, "line_items"))
    (curated_copy / "documents" / f"{doc_id}.parquet").unlink()
    summary = ingest_document(sample_pdf, curated_copy)
    assert not summary.skipped
    assert summary.status in (
        "ok",
        "warn",
    )  # the sample warns: its own tables disagree by 0.01 万元 (test_validation)
    assert len(read(curated_copy, "documents")) == 1
    assert len(read(curated_copy, "line_items")) == n_items


def test_new_pipeline_version_redoes_the_document(curated_copy, sample_pdf):
    doc_id = sha256_of(sample_pdf)[:16]
    marker = curated_copy / "documents" / f"{doc_id}.parquet"
    table = pq.read_table(marker)
    old = table.set_column(
        table.schema.get_field_index("pipeline_version"),
        table.schema.field("pipeline_version"),
        [["0.0.0+old"]],
    )
    pq.write_table(old, marker)
    summary = ingest_document(sample_pdf, curated_copy)
    assert not summary.skipped
    assert read(curated_copy, "documents")["pipeline_version"].tolist() == [pipeline_version()]


def test_damaged_commit_marker_is_redone(curated_copy, sample_pdf):
    doc_id = sha256_of(sample_pdf)[:16]
    (curated_copy / "documents" / f"{doc_id}.parquet").write_bytes(b"not parquet")
    summary = ingest_document(sample_pdf, curated_copy)
    assert not summary.skipped
    assert summary.status in (
        "ok",
        "warn",
    )  # the sample warns: its own tables disagree by 0.01 万元 (test_validation)
    assert len(read(curated_copy, "documents")) == 1


# --------------------------------------------------------------------------- dev corpus accuracy

SMOKE_DOCS = {
    "dev-1-0002": "hlines grid, shaanxi-15",
    "dev-1-0026": "national-9, landscape, a table over two pages without a repeated header",
}
META_FIELDS = (
    "unit_name",
    "admin_region",
    "fiscal_year",
    "doc_kind",
    "template",
    "pages",
    "text_layer",
)


@pytest.fixture(scope="module")
def corpus_ingested(tmp_path_factory):
    paths = {cid: dev_pdf_path(cid) for cid in SMOKE_DOCS}
    curated = tmp_path_factory.mktemp("corpus-curated")
    summaries = {cid: ingest_document(path, curated) for cid, path in paths.items()}
    return paths, curated, summaries


@pytest.mark.corpus
@pytest.mark.parametrize("corpus_id", sorted(SMOKE_DOCS))
def test_dev_corpus_issue2_line_items_match_truth(corpus_ingested, corpus_id):
    from benchmarks.score import ISSUE2, TruthDoc, load_curated, score_docs

    paths, curated, summaries = corpus_ingested
    assert summaries[corpus_id].status == "ok", summaries[corpus_id].reason
    pdf = paths[corpus_id]
    truth = json.loads(pdf.with_name(f"{corpus_id}.truth.json").read_text(encoding="utf-8"))
    doc = TruthDoc(corpus_id, sha256_of(pdf)[:16], pdf, truth)
    report = score_docs([doc], load_curated(curated), ISSUE2)
    strict = report["line_items"]["by_doc"][corpus_id]["strict"]
    assert strict["n_truth"] > 0
    assert strict["f1"] >= 0.99, f"{corpus_id} ({SMOKE_DOCS[corpus_id]}): {strict}"
    tables = report["tables"]["by_doc"][corpus_id]["by_no_kind_empty"]
    assert tables["f1"] >= 0.99, tables


@pytest.mark.corpus
@pytest.mark.parametrize("corpus_id", sorted(SMOKE_DOCS))
def test_dev_corpus_metadata_match_truth(corpus_ingested, corpus_id):
    paths, curated, summaries = corpus_ingested
    truth = json.loads(
        paths[corpus_id].with_name(f"{corpus_id}.truth.json").read_text(encoding="utf-8")
    )["document"]
    documents = read(curated, "documents").set_index("doc_id")
    row = documents.loc[summaries[corpus_id].doc_id]
    for field in META_FIELDS:
        assert row[field] == truth[field], (
            f"{corpus_id} {field}: {row[field]!r} != {truth[field]!r}"
        )


@pytest.mark.corpus
def test_dev_corpus_table_continued_over_pages(corpus_ingested):
    """dev-1-0026 表6 runs over pp. 13–14 without a repeated header: one table, two pages."""
    _, curated, summaries = corpus_ingested
    tables = read(curated, "tables")
    t6 = tables[(tables["doc_id"] == summaries["dev-1-0026"].doc_id) & (tables["table_no"] == "6")]
    assert len(t6) == 1
    assert (t6["page_first"].iloc[0], t6["page_last"].iloc[0]) == (13, 14)
    items = read(curated, "line_items")
    pages = set(
        items[(items["doc_id"] == summaries["dev-1-0026"].doc_id) & (items["table_no"] == "6")][
            "page"
        ]
    )
    assert pages == {13, 14}


def test_issue_18_a_failed_reingest_leaves_no_earlier_rows(sample_pdf, tmp_path, monkeypatch):
    """In process (the Dask path), a re-ingest that fails wrote its ``failed`` row over the
    document's earlier rows but left its old performance_targets and validations visible."""
    from budget_disclosures.flows import pipeline

    curated = tmp_path / "curated"
    first = pipeline.ingest_document(sample_pdf, curated)
    assert read(curated, "performance_targets")["doc_id"].eq(first.doc_id).any()

    def broken(*args, **kwargs):
        raise RuntimeError("simulated extractor bug")

    monkeypatch.setattr(pipeline, "build_rows", broken)
    again = pipeline.ingest_document(sample_pdf, curated, force=True)
    assert again.status == "failed" and "simulated extractor bug" in again.reason
    for dataset in ("line_items", "tables", "performance_targets", "validations", "facts"):
        frame = read(curated, dataset)
        assert frame.empty or not (frame["doc_id"] == first.doc_id).any(), dataset


def test_issue_18_version_comes_from_pyproject():
    """The version string lived in pyproject.toml and in flows/pipeline.py; now only there."""
    import tomllib

    from budget_disclosures.flows.pipeline import PACKAGE_VERSION
    from conftest import REPO_ROOT

    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["project"]["version"] == PACKAGE_VERSION
    assert pipeline_version().startswith(PACKAGE_VERSION + "+")


def test_issue_18_a_misspelt_column_is_an_error_not_a_null_column():
    from budget_disclosures.curation.store import to_table

    table = to_table("facts", [{"doc_id": "a" * 16, "fact": "budget_total", "value": 1.0}])
    assert table.num_rows == 1 and table.column("unit").to_pylist() == [None]
    with pytest.raises(ValueError, match="not in the schema: valeu"):
        to_table("facts", [{"doc_id": "a" * 16, "fact": "budget_total", "valeu": 1.0}])
