"""Validation: suites from the schema, every check made to fail, the gate, mutations, GX parity.

The sample PDF is read once (``build_rows``, no validation); each test corrupts a copy of its
rows the way a misread table would look and validates it with the real suites.
"""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest
from budget_disclosures.curation import store
from budget_disclosures.flows.pipeline import DocumentSummary, apply_validation, ingest_document
from budget_disclosures.validation import CHECKS, CHECKS_BY_ID, validate_rows
from budget_disclosures.validation.checks import ROW_SET_CHECKS
from budget_disclosures.validation.engine import (
    connect,
    contract_types,
    create_dataset_table,
    evaluate_fast,
    insert_rows,
)
from budget_disclosures.validation.suites import VALIDATED, build_suite, load_suites, stale_suites
from conftest import SHARED, dev_pdf_path
from typer.testing import CliRunner

from benchmarks.mutations import build_document, change_amount, drop_row, shift_column, swap_codes


@pytest.fixture(scope="module")
def sample_rows(sample_pdf):
    return build_document(sample_pdf)


# --------------------------------------------------------------------------- helpers


def find(rows: dict, **match) -> int:
    """Index of the first line item whose fields equal ``match``."""
    for index, item in enumerate(rows["line_items"]):
        if all(item.get(k) == v for k, v in match.items()):
            return index
    raise LookupError(match)


def bump(rows: dict, delta: float, **match) -> dict:
    """The figure ``match`` finds, ``delta`` (in the printed unit) larger."""
    index = find(rows, **match)
    printed = float(rows["line_items"][index]["amount_printed"].replace(",", ""))
    return change_amount(rows, index, f"{printed + delta:.2f}")


def edit(rows: dict, dataset: str, index: int, **values) -> dict:
    out = dict(rows)
    out[dataset] = [dict(r) for r in rows[dataset]]
    out[dataset][index].update(values)
    return out


def finding(rows: dict, check: str) -> dict:
    report = validate_rows(rows)
    return next(r for r in report.rows if r["check"] == check)


def sibling_pair(rows: dict) -> tuple[str, str, str]:
    """Two 项 codes of one detail table, under different parents, with different totals."""
    totals = {}
    for item in rows["line_items"]:
        if (
            item["kind"] == "gpb_expenditure_by_function"
            and item["level"] == 3
            and item["measure"] == "total"
        ):
            totals[item["code"]] = (item["table_no"], item["amount_yuan"])
    for a, (table_a, total_a) in totals.items():
        for b, (_, total_b) in totals.items():
            if a[:5] != b[:5] and total_a != total_b:
                return table_a, a, b
    raise LookupError("no pair of 项 codes to swap")


def nonzero_leaf(rows: dict) -> tuple[str, str]:
    for item in rows["line_items"]:
        if (
            item["kind"] == "gpb_expenditure_by_function"
            and item["level"] == 3
            and item["measure"] == "total"
            and item["amount_yuan"]
        ):
            return item["table_no"], item["code"]
    raise LookupError("no non-zero 项 row")


# --------------------------------------------------------------------------- suites


def test_committed_suites_are_current():
    assert stale_suites() == [], (
        "run `python -m budget_disclosures.validation.suites` and commit validation/suites/"
    )


def test_suites_come_from_the_schema_and_the_catalogue():
    from budget_disclosures.curation.schema import DATASETS

    suites = load_suites()
    # the findings and the reviewers' corrections log are results, not data under validation
    assert set(suites) == set(VALIDATED) == set(DATASETS) - {"validations", "corrections"}
    for name in VALIDATED:
        first = suites[name]["expectations"][0]
        assert first["type"] == "expect_table_columns_to_match_ordered_list"
        assert first["kwargs"]["column_list"] == DATASETS[name].column_names
    used = {e["meta"]["check"] for s in suites.values() for e in s["expectations"]}
    assert used == {c.id for c in CHECKS}
    for suite in suites.values():
        for expectation in suite["expectations"]:
            assert expectation["meta"]["severity"] in {"error", "warn"}
            assert expectation["meta"]["check"] in CHECKS_BY_ID
    assert build_suite("line_items") == suites["line_items"]


def test_row_set_queries_name_the_batch_without_an_alias():
    # GX substitutes {batch} by a sub-select; `{batch} x` would not parse, and braces are format fields
    for check in ROW_SET_CHECKS:
        assert "{batch}" in check.sql
        assert check.sql.replace("{batch}", "").count("{") == 0
        for tail in (" l\n", " d\n", " t\n", " d JOIN", " l WHERE"):
            assert "{batch}" + tail not in check.sql, check.id


# --------------------------------------------------------------------------- a correct document


def test_sample_has_no_error_and_its_known_inconsistencies_are_warnings(sample_rows):
    report = validate_rows(sample_rows)
    assert len(report.rows) == len(CHECKS)
    assert {r["check"] for r in report.rows} == {c.id for c in CHECKS}
    assert report.n_errors == 0, [r for r in report.rows if not r["success"]]
    failing = {r["check"]: r for r in report.rows if not r["success"]}
    # the seed's tables disagree by 0.01 万元 (表5 合计 311.45 vs 表6 合计 311.44): a warning
    assert failing["cross.function_econ"]["severity"] == "warn"
    assert {
        failing["cross.function_econ"]["observed"],
        failing["cross.function_econ"]["expected"],
    } == {
        "311.45 万元",
        "311.44 万元",
    }
    # 2010504 信息事务 is not in our 2023 function code list: kept, and a warning
    assert (
        failing["codes.known"]["severity"] == "warn"
        and failing["codes.known"]["observed"] == "2010504"
    )
    assert any(i["code"] == "2010504" for i in sample_rows["line_items"])
    # 表10's project "12345平台管理经费" is read as unit 12345 + "平台管理经费": a misread label
    assert (
        failing["codes.unit"]["severity"] == "warn" and failing["codes.unit"]["observed"] == "12345"
    )
    # the seed's narrative states “三公”经费 0.2万元, its 三公 table's 合计 is 0.00 (raw/samples/README.md)
    narrative = failing["cross.narrative_totals"]
    assert narrative["severity"] == "warn" and narrative["n_failed"] == 1
    assert (narrative["observed"], narrative["expected"], narrative["table_no"]) == (
        "0.2 万元",
        "0.00 万元",
        "12",
    )
    assert "三公" in narrative["detail"] and "p.5" in narrative["detail"]
    assert set(failing) == {
        "cross.function_econ",
        "codes.known",
        "codes.unit",
        "cross.narrative_totals",
    }
    assert report.status == "warn" and report.reason is None
    store.to_table("validations", report.rows)  # the rows fit the dataset's schema


# --------------------------------------------------------------------------- every check fails


def _basic_column(rows: dict) -> dict:
    """表5 with a 基本支出 column (= 人员经费 + 公用经费), as some templates print it."""
    extra = []
    for item in rows["line_items"]:
        if item["table_no"] == "5" and item["measure"] == "basic_personnel":
            public = next(
                i
                for i in rows["line_items"]
                if i["table_no"] == "5"
                and i["code"] == item["code"]
                and i["name"] == item["name"]
                and i["measure"] == "basic_public"
            )
            total = round(float(item["amount_printed"]) + float(public["amount_printed"]), 2)
            extra.append(
                {
                    **item,
                    "measure": "basic",
                    "amount_printed": f"{total:.2f}",
                    "amount_yuan": total * 10000,
                }
            )
    out = dict(rows)
    out["line_items"] = rows["line_items"] + extra
    return out


MUTATIONS = {
    "schema.not_null": lambda r: edit(r, "line_items", 0, name=None),
    "schema.values": lambda r: edit(
        r, "line_items", find(r, table_no="5", code="2010350"), classification="functional"
    ),
    "schema.pattern": lambda r: edit(
        r, "line_items", find(r, table_no="6", measure="total", level=2), alt_code="5O101"
    ),
    "schema.unique_key": lambda r: {**r, "tables": r["tables"] + [dict(r["tables"][0])]},
    "codes.length": lambda r: edit(
        r, "line_items", find(r, table_no="5", code="2010350"), code="201035"
    ),
    "codes.hierarchy": lambda r: edit(
        r, "line_items", find(r, table_no="5", code="2010350"), parent_code="20199"
    ),
    "arith.children_sum": lambda r: bump(r, 1, table_no="5", code="2010350", measure="total"),
    "arith.total_sum": lambda r: bump(r, 1, table_no="5", name="合计", measure="total"),
    "arith.row_total": lambda r: bump(r, 1, table_no="5", code="2010350", measure="project"),
    "arith.basic_parts": lambda r: bump(
        _basic_column(r), 1, table_no="5", code="2010350", measure="basic"
    ),
    "arith.sources_sum": lambda r: bump(r, 1, table_no="2", name="合计", measure="total"),
    "arith.three_public": lambda r: bump(
        r, 1, table_no="12", name="“三公”经费合计", measure="amount"
    ),
    "arith.change": lambda r: bump(r, 1, table_no="12", name="公务接待费", measure="change"),
    "arith.perf_funds": lambda r: bump(r, 1, table_no="14", measure="total"),
    "arith.project_list": lambda r: bump(
        r, 1, table_no="10", classification="project", name="合计"
    ),
    "arith.summary_items": lambda r: bump(
        r, 1, table_no="1", classification="income_source", name="事业收入"
    ),
    "cross.block_totals": lambda r: bump(
        r, 1, table_no="1", classification="econ_gov", name="合计"
    ),
    "cross.summary_totals": lambda r: bump(r, 1, table_no="3", name="合计", measure="total"),
    "cross.gpb_totals": lambda r: bump(r, 1, table_no="2", name="合计", measure="gpb"),
    "cross.function_econ": lambda r: bump(r, 1, table_no="6", name="合计", measure="project"),
    "cross.basic_tables": lambda r: bump(r, 1, table_no="7", code="2010350", measure="total"),
    "completeness.tables": lambda r: {
        **r,
        "tables": [t for t in r["tables"] if t["table_no"] != "5"],
    },
}


def test_every_check_has_a_failing_test():
    table_level = {  # tested below
        "schema.columns",
        "schema.types",
        "codes.known",
        "codes.unit",
        "cross.narrative_totals",
    }
    assert set(MUTATIONS) | table_level == {c.id for c in CHECKS}


@pytest.mark.parametrize("check", sorted(MUTATIONS))
def test_check_fails_on_its_mutation(sample_rows, check):
    assert finding(sample_rows, check)["success"] or check in {"codes.known", "cross.function_econ"}
    row = finding(MUTATIONS[check](sample_rows), check)
    assert not row["success"], row
    assert row["severity"] == CHECKS_BY_ID[check].severity == "error", row
    assert row["detail"] and row["n_failed"] >= 1


def test_unknown_code_is_a_warning_and_is_kept(sample_rows):
    items = []
    for item in sample_rows["line_items"]:
        if item["table_no"] in ("5", "7") and item["code"] == "2010350":
            item = {**item, "code": "2010398"}  # a well-formed 项 under 20103 that no list knows
        items.append(item)
    rows = {**sample_rows, "line_items": items}
    row = finding(rows, "codes.known")
    assert not row["success"] and row["severity"] == "warn"
    assert "2010398" in row["detail"]
    assert validate_rows(rows).n_errors == 0


def test_columns_and_types_are_checked_against_the_contract():
    con = connect()
    for dataset in VALIDATED:
        create_dataset_table(con, dataset, contract_types(dataset))
    types = [
        (n, "REAL" if n == "pages" else t) for n, t in contract_types("documents") if n != "sha256"
    ]
    create_dataset_table(con, "documents", types)
    insert_rows(
        con,
        "documents",
        [n for n, _ in types],
        [tuple("0123456789abcdef" if n == "doc_id" else None for n, _ in types)],
    )
    checks = {i.check: i for i in evaluate_fast(con, ["0123456789abcdef"])}
    assert (
        checks["schema.columns"].subject == "documents"
        and "sha256" not in checks["schema.columns"].observed
    )
    assert (
        checks["schema.types"].observed == "REAL" and checks["schema.types"].expected == "INTEGER"
    )


# --------------------------------------------------------------------------- narrative against the tables

REAL_CORPUS = SHARED / "corpus" / "real"
_DOC = "0123456789abcdef"
_SENTENCE = (
    "上海市普陀区财政局2024年度收入支出总计{}万元。与2023年度相比，收入支出总计各增加300.5万元。"
)


def stated_total(stated: str, printed: str = "2995.39") -> dict[str, list[dict]]:
    """A document whose narrative states 收入支出总计 ``stated`` 万元 (p.3) and whose 表1
    (收支总表) prints 收入总计 ``printed`` 万元."""
    item = {
        "doc_id": _DOC,
        "fiscal_year": 2024,
        "table_no": "1",
        "kind": "budget_summary",
        "classification": "income_source",
        "name": "总计",
        "measure": "amount",
        "amount_yuan": round(float(printed) * 10000, 2),
        "amount_printed": printed,
        "unit_printed": "万元",
        "page": 9,
    }
    fact = {
        "doc_id": _DOC,
        "fact": "budget_total",
        "value": float(stated),
        "unit": "万元",
        "sentence": _SENTENCE.format(stated),
        "page": 3,
        "family": "budget",
        "value_yuan": round(float(stated) * 10000, 2),
    }
    return {
        "documents": [{"doc_id": _DOC, "status": "ok", "pages": 20}],
        "tables": [{"doc_id": _DOC, "table_no": "1", "kind": "budget_summary", "page_first": 9}],
        "line_items": [item],
        "facts": [fact],
    }


def test_a_stated_total_the_table_contradicts_is_a_warning_with_both_values():
    row = finding(stated_total("0"), "cross.narrative_totals")
    assert not row["success"] and row["severity"] == "warn" and row["n_failed"] == 1
    assert (row["observed"], row["expected"], row["table_no"]) == ("0 万元", "2995.39 万元", "1")
    # where the narrative says it: the fact, its page and the words around the figure
    assert row["detail"].startswith("1 failing: 表1 budget_total p.3 “")
    assert "收入支出总计0万元" in row["detail"] and "vs 总计 amount" in row["detail"]


@pytest.mark.parametrize("stated", ["2995.39", "2995.4", "2995"])
def test_a_stated_total_that_agrees_is_no_finding(stated):
    # a figure stated with fewer decimals agrees within half a unit of its last digit
    row = finding(stated_total(stated), "cross.narrative_totals")
    assert row["success"] and row["n_failed"] == 0 and row["detail"] is None


def test_a_stated_total_off_by_its_last_digit_is_a_finding():
    row = finding(stated_total("2995.3"), "cross.narrative_totals")
    assert not row["success"] and (row["observed"], row["expected"]) == (
        "2995.3 万元",
        "2995.39 万元",
    )


def test_the_narrative_check_runs_in_the_facts_suite():
    (expectation,) = [
        e
        for e in load_suites()["facts"]["expectations"]
        if e["meta"]["check"] == "cross.narrative_totals"
    ]
    assert (
        expectation["meta"]["severity"] == CHECKS_BY_ID["cross.narrative_totals"].severity == "warn"
    )
    assert "ref_fact_checks" in expectation["kwargs"]["unexpected_rows_query"]


def _real(name: str):
    path = REAL_CORPUS / name
    if not path.exists():
        pytest.skip(f"real corpus document {path} not found")
    return build_document(path)


@pytest.mark.corpus
def test_the_planted_narrative_error_of_a_real_disclosure_is_found():
    # its text says 收入支出总计0万元, its 表1 prints 2995.39 万元: both stated totals disagree
    row = finding(
        _real("shanghai_putuo_finance_bureau_2024_dept_final_MODIFIED.pdf"),
        "cross.narrative_totals",
    )
    assert not row["success"] and row["severity"] == "warn" and row["n_failed"] == 2
    assert (row["observed"], row["expected"], row["table_no"]) == ("0 万元", "2995.39 万元", "1")
    assert "收入支出总计0万元" in row["detail"]
    assert "budget_total" in row["detail"] and "budget_expenditure_total" in row["detail"]
    original = finding(
        _real("shanghai_putuo_finance_bureau_2024_dept_final.pdf"), "cross.narrative_totals"
    )
    assert original["success"], original


# --------------------------------------------------------------------------- tolerance and the gate


def test_a_rounding_sized_disagreement_is_a_warning_a_larger_one_an_error(sample_rows):
    small = finding(
        bump(sample_rows, 0.01, table_no="5", code="2010350", measure="total"), "arith.children_sum"
    )
    assert not small["success"] and small["severity"] == "warn"
    assert (small["observed"], small["expected"]) == ("276.63 万元", "276.64 万元")
    large = finding(
        bump(sample_rows, 0.05, table_no="5", code="2010350", measure="total"), "arith.children_sum"
    )
    assert large["severity"] == "error"


def test_an_error_finding_fails_the_document(sample_rows):
    rows = {
        k: [dict(r) for r in v]
        for k, v in bump(sample_rows, 1, table_no="5", name="合计", measure="total").items()
    }
    summary = DocumentSummary("sample.pdf", rows["documents"][0]["doc_id"])
    apply_validation(rows, summary)
    document = rows["documents"][0]
    assert document["status"] == summary.status == "failed"
    assert document["reason"] == summary.reason
    assert summary.reason.startswith("validation error arith.total_sum")
    assert summary.n_errors >= 1
    assert len(rows["validations"]) == len(CHECKS)


def test_ingest_writes_validations_and_status(sample_pdf, tmp_path):
    summary = ingest_document(sample_pdf, tmp_path)
    assert (summary.status, summary.n_errors, summary.n_warnings) == ("warn", 0, 4)
    validations = pq.read_table(tmp_path / "validations").to_pylist()
    assert len(validations) == len(CHECKS) and {r["doc_id"] for r in validations} == {
        summary.doc_id
    }
    assert pq.read_table(tmp_path / "documents").to_pylist()[0]["status"] == "warn"
    again = ingest_document(sample_pdf, tmp_path)  # skipped: counts read back from the store
    assert again.skipped and (again.n_errors, again.n_warnings) == (0, 4)


def test_summary_status_shows_the_counts():
    from budget_disclosures.flows.cli import _status_text

    assert _status_text({"status": "warn", "n_warnings": 3}) == "warn (3)"
    assert (
        _status_text({"status": "failed", "n_errors": 2, "n_warnings": 1})
        == "failed (2 errors, 1 warning)"
    )
    assert _status_text({"status": "ok"}) == "ok"


# --------------------------------------------------------------------------- mutation tests


def _mutants(rows: dict) -> dict[str, dict]:
    table_no, code = nonzero_leaf(rows)
    swap_table, code_a, code_b = sibling_pair(rows)
    index = find(rows, table_no=table_no, code=code, measure="total")
    printed = float(rows["line_items"][index]["amount_printed"].replace(",", ""))
    return {
        "change one amount": change_amount(rows, index, f"{printed * 1.5 + 1:.2f}"),
        "drop one row": drop_row(rows, table_no, code),
        "swap two codes": swap_codes(rows, swap_table, code_a, code_b),
        "shift a column": shift_column(rows, table_no, "total"),
    }


def test_mutations_of_the_sample_give_errors(sample_rows):
    assert validate_rows(sample_rows).n_errors == 0
    for name, rows in _mutants(sample_rows).items():
        report = validate_rows(rows)
        assert report.n_errors >= 1, name
        assert report.status == "failed", name


@pytest.mark.corpus
def test_mutations_of_a_dev_document_give_errors():
    rows = build_document(dev_pdf_path("dev-1-0002"))
    assert validate_rows(rows).status == "ok"
    for name, mutant in _mutants(rows).items():
        assert validate_rows(mutant).n_errors >= 1, name


@pytest.mark.corpus
@pytest.mark.parametrize("corpus_id", ["dev-1-0003", "dev-1-0007", "dev-1-0011"])
def test_correctly_extracted_dev_documents_have_no_finding(corpus_id):
    # shaanxi-15 with empty forms declared in the catalogue; national-9; a 元 document
    report = validate_rows(build_document(dev_pdf_path(corpus_id)))
    assert report.status == "ok", [r for r in report.rows if not r["success"]]


# --------------------------------------------------------------------------- GX over the store


def test_gx_validate_command_matches_the_ingest(sample_pdf, sample_rows, tmp_path):
    """`disclosures validate` (GX Core) gives the same rows as the ingest-time evaluator."""
    from budget_disclosures.flows.cli import app

    curated = tmp_path / "curated"
    good = ingest_document(sample_pdf, curated)
    bad_id = "f" * 16
    mutant = bump(sample_rows, 1, table_no="5", code="2010350", measure="total")
    mutant = swap_codes(mutant, *sibling_pair(mutant))
    mutant = {k: [{**r, "doc_id": bad_id} for r in v] for k, v in mutant.items()}
    mutant["documents"][0]["sha256"] = "f" * 64
    mutant["tables"] = mutant["tables"] + [dict(mutant["tables"][0])]
    apply_validation(mutant, DocumentSummary("mutant.pdf", bad_id))
    store.write_document(curated, bad_id, mutant)
    before = {
        r["doc_id"] + r["check"]: r for r in pq.read_table(curated / "validations").to_pylist()
    }
    assert before[bad_id + "arith.children_sum"]["severity"] == "error"

    result = CliRunner().invoke(app, ["validate", "--curated", str(curated)])
    assert result.exit_code == 1, result.output  # the mutant failed
    assert (
        "data docs:" in result.output
        and (curated / "_validation" / "data_docs" / "index.html").exists()
    )
    after = {
        r["doc_id"] + r["check"]: r for r in pq.read_table(curated / "validations").to_pylist()
    }
    assert after == before
    assert not after[good.doc_id + "cross.narrative_totals"]["success"]  # 三公 0.2 vs 0.00, in both
    assert not any(
        "GX could not evaluate" in (r["subject"] if "subject" in r else r["detail"] or "")
        for r in after.values()
    )
    statuses = {r["doc_id"]: r["status"] for r in pq.read_table(curated / "documents").to_pylist()}
    assert statuses == {good.doc_id: "warn", bad_id: "failed"}


def test_issue_18_validate_with_the_default_relative_curated_folder(sample_pdf, tmp_path):
    """`disclosures validate` run from the project root with its default `--curated curated`
    (a relative path) crashed inside great-expectations ("base_directory must be an absolute
    path"): the README's own command."""
    import subprocess
    import sys
    from pathlib import Path

    from budget_disclosures.flows.pipeline import ingest_document

    ingest_document(sample_pdf, tmp_path / "curated")
    cli = Path(sys.executable).with_name("disclosures")
    result = subprocess.run(
        [str(cli), "validate", "--no-docs"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode in (0, 1), result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert "base_directory" not in result.stdout + result.stderr


def test_issue_18_unknown_page_reader_is_an_error(sample_pdf):
    from budget_disclosures.flows.pipeline import extract_document

    with pytest.raises(ValueError, match="unknown page reader"):
        extract_document(sample_pdf, reader="pdfminer")
