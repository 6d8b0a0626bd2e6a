"""`disclosures query` and `curation.query.connect`: views, convenience views, formats, errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from budget_disclosures.curation import query as q
from budget_disclosures.curation.schema import DATASETS
from budget_disclosures.flows.cli import app
from typer.testing import CliRunner

SAMPLE_DOC = "0ebd82afcb61b0e1"
runner = CliRunner()


@pytest.fixture(scope="module")
def curated(tmp_path_factory, sample_pdf) -> Path:
    """The sample disclosure ingested once (treat as read-only)."""
    from budget_disclosures.flows.pipeline import ingest_document

    folder = tmp_path_factory.mktemp("query") / "curated"
    summary = ingest_document(sample_pdf, folder)
    assert summary.doc_id == SAMPLE_DOC and summary.line_items > 0, summary
    return folder


@pytest.fixture(scope="module")
def con(curated):
    connection = q.connect(curated)
    yield connection
    connection.close()


def invoke(*args: str):
    return runner.invoke(app, ["query", *args])


# --------------------------------------------------------------------------- views


def test_one_view_per_dataset_folder_plus_convenience_views(con, curated):
    views = {
        row[0]
        for row in con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()
    }
    folders = {p.name for p in curated.iterdir() if p.is_dir() and not p.name.startswith("_")}
    assert folders <= views
    assert {"line_items", "documents", "tables", "performance_targets", "validations"} <= views
    assert {
        "function_expenditure_wide",
        "three_public_by_unit",
        "codes_function",
        "codes_econ_dept",
        "codes_econ_gov",
    } <= views


def test_dataset_views_read_every_row(con, curated):
    rows = pq.read_table(curated / "line_items").num_rows
    assert con.execute("SELECT count(*) FROM line_items").fetchone()[0] == rows
    unit = con.execute("SELECT unit_name, fiscal_year FROM documents").fetchall()
    assert unit == [("宝鸡市大数据管理中心", 2023)]


def test_function_expenditure_wide(con):
    rows = con.execute(
        "SELECT code, name, level, total, basic, basic_personnel, basic_public, project "
        "FROM function_expenditure_wide WHERE doc_id = ? ORDER BY code NULLS FIRST",
        [SAMPLE_DOC],
    ).fetchall()
    by_code = {r[0]: r for r in rows}
    # the 合计 row (code null) and class 201 of 表5, in yuan
    assert by_code[None][1:4] == ("合计", None, 3634500.0)
    assert by_code["201"] == (
        "201",
        "一般公共服务支出",
        1,
        3166300.0,
        2766300.0,
        2648300.0,
        118000.0,
        400000.0,
    )
    # basic = 人员经费 + 公用经费 where the table prints no 基本支出 total
    assert all(r[4] == pytest.approx((r[5] or 0) + (r[6] or 0)) for r in rows)
    assert {r[0] for r in rows if r[2] == 1} == {"201", "205", "208", "210"}
    # one row per document and code
    assert con.execute(
        "SELECT count(*) = count(DISTINCT (doc_id, code)) FROM function_expenditure_wide"
    ).fetchone()[0]


def test_three_public_by_unit(con):
    rows = con.execute("SELECT * FROM three_public_by_unit").df().to_dict("records")
    assert len(rows) == 1
    row = rows[0]
    assert (row["unit_code"], row["unit_name"], row["fiscal_year"]) == (
        "621002",
        "宝鸡市大数据管理中心",
        2023,
    )
    assert row["three_public_total"] == 0.0
    assert row["training"] == 2000.0
    assert row["vehicles"] == 0.0


def test_code_list_views(con):
    row = con.execute(
        "SELECT code, name, level, parent_code FROM codes_function WHERE code = '201'"
    ).fetchone()
    assert row == ("201", "一般公共服务支出", 1, None)
    assert con.execute(
        "SELECT parent_code FROM codes_function WHERE code = '2010350'"
    ).fetchone() == ("20103",)
    types = {r[0]: r[1] for r in con.execute("DESCRIBE SELECT * FROM codes_econ_dept").fetchall()}
    assert (
        types["code"] == "VARCHAR"
        and types["level"] == "BIGINT"
        and types["valid_from"] == "BIGINT"
    )
    assert con.execute("SELECT count(*) FROM codes_econ_gov").fetchone()[0] > 10


def test_absent_datasets_are_empty_views_with_the_contract_columns(tmp_path, curated):
    partial = tmp_path / "curated"
    (partial / "documents").mkdir(parents=True)
    (partial / "documents" / f"{SAMPLE_DOC}.parquet").write_bytes(
        (curated / "documents" / f"{SAMPLE_DOC}.parquet").read_bytes()
    )
    (partial / "empty_folder").mkdir()  # a folder without Parquet files is no view
    con = q.connect(partial)
    assert con.execute("SELECT count(*) FROM line_items").fetchone()[0] == 0
    assert [r[0] for r in con.execute("DESCRIBE SELECT * FROM line_items").fetchall()] == DATASETS[
        "line_items"
    ].column_names
    assert con.execute("SELECT count(*) FROM validations WHERE NOT success").fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM function_expenditure_wide").fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM three_public_by_unit").fetchone()[0] == 0
    with pytest.raises(Exception, match="empty_folder"):
        con.execute("SELECT * FROM empty_folder")


def test_files_with_fewer_columns_read_by_name(tmp_path, curated):
    """An older file without the extra columns still reads (union_by_name); new datasets get views."""
    folder = tmp_path / "curated"
    for dataset in ("documents", "line_items"):
        (folder / dataset).mkdir(parents=True)
        (folder / dataset / f"{SAMPLE_DOC}.parquet").write_bytes(
            (curated / dataset / f"{SAMPLE_DOC}.parquet").read_bytes()
        )
    old = pq.read_table(curated / "line_items" / f"{SAMPLE_DOC}.parquet").drop_columns(
        ["column", "row_label"]
    )
    old = old.set_column(0, "doc_id", pa.array(["00000000000000aa"] * old.num_rows))
    pq.write_table(old, folder / "line_items" / "00000000000000aa.parquet")
    (folder / "facts").mkdir()
    pq.write_table(
        pa.table({"doc_id": [SAMPLE_DOC], "fact": ["staff_quota"], "value": [12.0]}),
        folder / "facts" / "x.parquet",
    )
    con = q.connect(folder)
    counts = dict(
        con.execute("SELECT doc_id, count(row_label) FROM line_items GROUP BY 1").fetchall()
    )
    assert counts["00000000000000aa"] == 0 and counts[SAMPLE_DOC] > 0
    assert con.execute("SELECT value FROM facts").fetchone() == (12.0,)


def test_connect_missing_folder_raises(tmp_path):
    with pytest.raises(FileNotFoundError):
        q.connect(tmp_path / "nope")


def test_every_view_column_is_described(con):
    for info in q.describe(con):
        assert info.zh and info.en, info.name
        undescribed = [c.name for c in info.columns if not (c.zh and c.en)]
        assert not undescribed, (info.name, undescribed)


# --------------------------------------------------------------------------- the command


def test_query_table_format(curated):
    result = invoke(
        "SELECT code, name, total FROM function_expenditure_wide WHERE level = 1 ORDER BY code",
        "--curated",
        str(curated),
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split("|")[0].strip() == "code"
    assert "一般公共服务支出" in result.output and "3,166,300" in result.output
    assert lines[-1] == "(4 rows)"


def test_query_csv_and_json(curated, tmp_path):
    sql = "SELECT code, total FROM function_expenditure_wide WHERE level = 1 ORDER BY code"
    result = invoke(sql, "--curated", str(curated), "--format", "csv")
    assert result.exit_code == 0
    assert result.output.splitlines()[:2] == ["code,total", "201,3166300.0"]
    out = tmp_path / "r.json"
    result = invoke(sql, "--curated", str(curated), "--format", "json", "--out", str(out))
    assert result.exit_code == 0
    records = json.loads(out.read_text(encoding="utf-8"))
    assert records[0] == {"code": "201", "total": 3166300.0} and len(records) == 4


def test_query_parquet_needs_out_and_writes(curated, tmp_path):
    assert invoke("SELECT 1", "--curated", str(curated), "--format", "parquet").exit_code == 2
    out = tmp_path / "items.parquet"
    result = invoke(
        "SELECT * FROM line_items", "--curated", str(curated), "-f", "parquet", "-o", str(out)
    )
    assert result.exit_code == 0
    assert pq.read_table(out).num_rows == pq.read_table(curated / "line_items").num_rows


def test_query_schema_lists_views_with_descriptions(curated):
    result = invoke("--schema", "--curated", str(curated))
    assert result.exit_code == 0
    text = result.output
    for expected in (
        "line_items",
        "金额明细",
        "amount_yuan",
        "金额（元）",
        "the figure in yuan",
        "function_expenditure_wide",
        "three_public_by_unit",
        "因公出国(境)费",
        "codes_function",
    ):
        assert expected in text
    result = invoke("--schema", "--curated", str(curated), "--format", "json")
    rows = json.loads(result.output)
    assert {
        "view": "documents",
        "kind": "dataset",
        "column": "unit_name",
        "type": "VARCHAR",
        "zh": "单位名称",
        "en": "budget unit, e.g. 宝鸡市大数据管理中心",
    } in rows


def test_query_usage_errors(curated, tmp_path):
    assert invoke("--curated", str(curated)).exit_code == 2
    assert invoke("SELECT 1", "--curated", str(tmp_path / "missing")).exit_code == 2


def test_bad_sql_gives_duckdb_message_and_exit_2(curated):
    for sql, message in (
        ("SELECT * FROM no_such_view", "Catalog Error"),
        ("SELECT amount_yuan + 'x' FROM line_items", "Conversion Error"),
    ):
        result = invoke(sql, "--curated", str(curated))
        assert result.exit_code == 2, (sql, result.output)
        assert message in result.output
        assert not isinstance(result.exception, Exception) or isinstance(
            result.exception, SystemExit
        )


def test_bad_sql_in_a_real_process_has_no_traceback(curated):
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "budget_disclosures.flows.cli",
            "query",
            "SELEC 1",
            "--curated",
            str(curated),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert "Parser Error" in done.stderr and 'syntax error at or near "SELEC"' in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
