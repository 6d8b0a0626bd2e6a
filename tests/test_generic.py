"""The generic reading path (issue 14): the national lexicon of table kinds, any numbering,
kinds settled by the rows' codes, damaged titles, honest status and linked halves.

Unit tests build their inputs in code; the integration tests read the real disclosures of
``../shared/corpus/real-regions`` and skip without them.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest
from budget_disclosures.curation.link import find_pairs, link_disclosures, name_key
from budget_disclosures.extractors.base import GridCell, RawGrid, TextLine
from budget_disclosures.flows.pipeline import ingest_document
from budget_disclosures.mappings.coverage import no_data_reason, titles_seen
from budget_disclosures.mappings.identify import (
    TableInstance,
    fuzzy_lexicon_title,
    match_lexicon_title,
    printed_number,
    table_number,
)
from budget_disclosures.mappings.loader import (
    TEMPLATES_ENV,
    generic_template,
    lexicon,
    templates_enabled,
)
from budget_disclosures.mappings.refine import code_axis, refine_by_rows, row_axis_votes
from budget_disclosures.mappings.text import split_code_name
from conftest import SHARED
from hypothesis import given
from hypothesis import strategies as st

REGIONS = SHARED / "corpus" / "real-regions"


# --------------------------------------------------------------------------- the lexicon


def test_lexicon_kinds_are_unique_and_every_title_names_one_kind():
    kinds = [entry.kind for entry in lexicon().kinds]
    assert len(kinds) == len(set(kinds))
    owners: dict[str, str] = {}
    for rule in generic_template().tables:
        for title in rule.titles:
            assert owners.setdefault(title, rule.kind) == rule.kind, title


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        ("收支总表", "budget_summary"),
        ("2026年广州市统计局收支总体情况表", "budget_summary"),
        ("预算01表收支总表", "budget_summary"),
        ("收入支出决算总表", "budget_summary"),
        ("财政拨款收支总表", "fiscal_grant_summary"),
        ("财政拨款收入支出决算总表", "fiscal_grant_summary"),
        ("本年支出总体情况表", "expenditure_summary"),
        ("一般公共预算支出表", "gpb_expenditure_by_function"),
        ("一般公共预算支出情况表（按功能分类科目）", "gpb_expenditure_by_function"),
        ("一般公共预算支出表（按经济分类）", "gpb_expenditure_by_econ"),
        ("一般公共预算基本支出情况表", "gpb_basic_by_econ"),
        ("一般公共预算项目支出情况表（按经济分类科目）", "gpb_project_by_econ"),
        ("财政拨款安排的行政经费及“三公”经费预算表", "three_public"),
        ("一般公共预算“三公”经费支出情况表", "three_public"),
        ("基本支出总表", "basic_expenditure"),
        ("部门预算项目支出及其他支出预算表", "project_expenditure"),
        ("政府采购预算明细表", "gov_procurement"),
        ("财政拨款政府购买服务明细表", "gov_purchase_services"),
        ("政府性基金预算财政拨款支出表", "gov_fund_expenditure"),
        ("国有资本经营预算支出情况表", "state_capital_expenditure"),
        ("部门整体支出绩效目标表", "perf_unit"),
        ("政策和项目预算绩效目标表", "perf_project"),
        ("收支总表 单位：万元", "budget_summary"),
        # worded a little differently (预算 / 情况 / 决算 / 部门 added or left out)
        ("收入预算情况表", "income_summary"),
        ("财政拨款收支预算情况表", "fiscal_grant_summary"),
        ("一般公共预算财政拨款支出预算表", "gpb_expenditure_by_function"),
        ("一般公共预算拨款支出预算表", "gpb_expenditure_by_function"),
        ("一般公共预算支出预算表（按经济分类科目）", "gpb_expenditure_by_econ"),
        ("一般公共预算支出表（按经济科目）", "gpb_expenditure_by_econ"),
        ("一般公共预算基本支出表（按功能分类）", "gpb_basic_by_function"),
        ("政府性基金预算支出预算表", "gov_fund_expenditure"),
        ("国有资本经营预算支出预算表", "state_capital_expenditure"),
        ("项目支出表", "project_expenditure"),
        ("一般公共预算财政拨款项目支出决算表", "gpb_project_by_econ"),
        ("机关运行经费支出决算表", "operating_expense"),
        ("一般公共预算财政拨款“三公”经费支出决算表", "three_public"),
    ],
)
def test_titles_of_any_province_name_their_kind(line: str, kind: str):
    """Prefixes (year, unit, 预算01表), qualifiers (按功能分类科目) and a unit statement on
    the same line are allowed; the longest known title wins."""
    rule = match_lexicon_title(line, generic_template())
    assert rule is not None and rule.kind == kind


@pytest.mark.parametrize(
    "line",
    [
        "一般公共预算支出",
        "一、收支预算总表情况说明",
        "收支总表的编制说明如下",
        "项目支出",
        "上年结转结余情况表",
    ],
)
def test_labels_and_sentences_are_no_titles(line: str):
    """A row label or a sentence that mentions a table does not end with its title."""
    assert match_lexicon_title(line, generic_template()) is None


@pytest.mark.parametrize(
    ("line", "table_no"),
    [
        ("表1", "1"),
        ("表 10", "10"),
        ("表一", "1"),
        ("表十二", "12"),
        ("预算01表收支总表", "1"),
        ("预算表12", "12"),
        ("公开表7", "7"),
        ("部门公开表7", "7"),
        ("公开01表", "1"),
        ("表3-1", "3-1"),
        ("附表2", "2"),
    ],
)
def test_any_numbering_style(line: str, table_no: str):
    template = generic_template()
    printed = printed_number(line, template)
    assert printed is not None
    assert table_number(printed, template) == table_no


def test_no_number_in_ordinary_lines():
    template = generic_template()
    assert printed_number("表格部分", template) is None
    assert printed_number("二、表格部分", template) is None


def _grid(rows: list[list[str]], page: int = 1) -> RawGrid:
    cells = [
        [
            GridCell(text, col, col, col * 50.0, col * 50.0 + 50, index * 20.0, index * 20.0 + 20)
            for col, text in enumerate(row)
        ]
        for index, row in enumerate(rows)
    ]
    n_cols = max(len(row) for row in rows)
    return RawGrid(
        page,
        (0.0, 0.0, 50.0 * n_cols, 20.0 * len(rows)),
        [50.0 * i for i in range(n_cols + 1)],
        cells,
        "test",
    )


def _line(text: str) -> TextLine:
    return TextLine(text, 0.0, 100.0, -30.0, -18.0)


def test_a_title_ocr_damaged_is_matched_by_similarity_and_header_words():
    """``一般公共预1基本支出表`` (OCR read 算 as 1) is a 基本支出 table: its header prints
    人员经费 | 公用经费 and no 项目支出 (layout feature: OCR-damaged title)."""
    grid = _grid(
        [
            ["科目编码", "科目名称", "合计", "人员经费", "公用经费"],
            ["301", "工资福利支出", "1.00", "1.00", ""],
        ]
    )
    found = fuzzy_lexicon_title([_line("一般公共预1基本支出表")], grid, generic_template())
    assert found is not None and found[0].kind == "gpb_basic_by_econ"
    spending = _grid(
        [
            ["科目编码", "科目名称", "合计", "基本支出", "项目支出"],
            ["201", "一般公共服务支出", "1.00", "", "1.00"],
        ]
    )
    found = fuzzy_lexicon_title([_line("一般公共预1支出表")], spending, generic_template())
    assert found is not None and found[0].kind == "gpb_expenditure_by_function"
    assert fuzzy_lexicon_title([_line("单位：万元")], grid, generic_template()) is None


# --------------------------------------------------------------------------- rows decide


def _table(kind: str, rows: list[list[str]]) -> TableInstance:
    rule = generic_template().rules_by_kind[kind]
    return TableInstance("1", kind, rule, grids=[_grid(rows)], pages=[1])


def test_economic_codes_turn_an_ambiguous_title_into_its_econ_kind():
    """一般公共预算支出表 whose rows print 301/30101 codes is by 经济分类."""
    table = _table(
        "gpb_expenditure_by_function",
        [
            ["科目编码", "科目名称", "合计"],
            ["301", "工资福利支出", "3.00"],
            ["30101", "基本工资", "3.00"],
        ],
    )
    refine_by_rows(table, generic_template())
    assert table.kind == "gpb_expenditure_by_econ"


def test_auto_classification_from_unit_header_codes_and_fallback():
    template = generic_template()
    units = _table(
        "income_summary",
        [
            ["单位编码", "单位名称", "合计"],
            ["", "合计", "244.15"],
            ["629001", "渭南市司法局", "244.15"],
        ],
    )
    refine_by_rows(units, template)
    assert units.rule.classification == "unit"
    coded = _table(
        "income_summary",
        [
            ["科目编码", "科目名称", "合计"],
            ["201", "一般公共服务支出", "9.00"],
            ["20101", "人大事务", "9.00"],
        ],
    )
    refine_by_rows(coded, template)
    assert coded.rule.classification == "function"
    sources = _table(
        "income_summary", [["项目", "金额"], ["一般公共预算资金", "5.00"], ["合计", "5.00"]]
    )
    refine_by_rows(sources, template)
    assert sources.rule.classification == "income_source"


def test_figures_are_not_code_votes():
    """``244.15`` splits into 244 + .15 as a code and a name; it is a figure, not a code."""
    table = _table("income_summary", [["单位名称", "合计"], ["合计", "244.15"], ["某局", "244.15"]])
    assert code_axis(row_axis_votes(table)) is None


_CODES = st.from_regex(r"2[0-9]{2}([0-9]{2}){0,2}", fullmatch=True)
_NAMES = st.text(alphabet="一般公共服务支出行政运行事业人大", min_size=1, max_size=8)


@given(code=_CODES, name=_NAMES)
def test_code_and_name_in_one_cell_any_joiner(code: str, name: str):
    """``[201]一般公共服务支出`` (brackets), ``2050803-培训支出`` (hyphen), ``201 名称``."""
    for text in (f"[{code}]{name}", f"【{code}】{name}", f"{code}-{name}", f"{code} {name}"):
        assert split_code_name(text) == (code, name), text


# --------------------------------------------------------------------------- status, setting


def test_reason_says_what_was_seen():
    assert no_data_reason([], ["some letter with no budget words"], 0).startswith(
        "not a budget disclosure"
    )
    texts = ["2026年部门预算\n收支总体情况表\n第一部分 部门概况"]
    reason = no_data_reason([], texts, 3)
    assert reason.startswith("no table recognised: narrative only (3 sections")
    assert "收支总体情况表" in reason
    assert titles_seen(["甲\n收支总表\n这是一个句子，不是表\n"]) == ["收支总表"]


def test_templates_setting(monkeypatch):
    monkeypatch.delenv(TEMPLATES_ENV, raising=False)
    assert templates_enabled()
    for off in ("off", "0", "false", "no", "OFF"):
        monkeypatch.setenv(TEMPLATES_ENV, off)
        assert not templates_enabled()


# --------------------------------------------------------------------------- two files


def test_part_markers_removed_from_file_names():
    assert name_key("附件1：北京市公安局2026年度部门预算情况说明.pdf") == name_key(
        "附件2：北京市公安局2026年度部门预算报表.pdf"
    )
    assert name_key("x_2026_dept_budget_text.pdf") == name_key("x_2026_dept_budget_tables.pdf")
    assert name_key("北京市公安局.pdf") != name_key("北京市医保局.pdf")


def _doc(doc_id: str, name: str, n_tables: int, **extra) -> dict:
    return {
        "doc_id": doc_id,
        "source_name": name,
        "source_path": f"/in/{name}",
        "n_tables": n_tables,
        "status": "ok",
        **extra,
    }


def test_pairs_need_agreeing_metadata_and_one_match(tmp_path: Path):
    text = _doc("a" * 16, "unit_text.pdf", 0, unit_name="某局", fiscal_year=2026)
    tables = _doc("b" * 16, "unit_tables.pdf", 12, unit_name=None, fiscal_year=2026)
    assert find_pairs(tmp_path, [text, tables]) == [(text, tables)]
    other_year = dict(tables, fiscal_year=2025)
    assert find_pairs(tmp_path, [text, other_year]) == []
    elsewhere = dict(tables, source_path="/other/unit_tables.pdf")
    assert find_pairs(tmp_path, [text, elsewhere]) == []


def _regions(*names: str) -> list[Path]:
    paths = [REGIONS / name for name in names]
    if not all(path.exists() for path in paths):
        pytest.skip(f"{REGIONS} is not there")
    return paths


def test_issue_14_two_files_are_one_disclosure(tmp_path: Path):
    """Beijing publishes 附件1 (narrative) and 附件2 (tables): the tables file prints no unit
    name; linked, both rows carry the unit and one disclosure_id, and the narrative half is
    ok (its tables are the other file)."""
    text, tables = _regions(
        "beijing_military_civilian_integration_office_2026_dept_budget_text.pdf",
        "beijing_military_civilian_integration_office_2026_dept_budget_tables.pdf",
    )
    curated = tmp_path / "curated"
    first = ingest_document(text, curated)
    second = ingest_document(tables, curated)
    assert first.status == "warn" and first.reason.startswith("no table recognised: narrative")
    assert second.template == "generic" and second.tables == 13
    assert link_disclosures(curated) == [(text.name, tables.name)]
    docs = pd.read_parquet(curated / "documents").set_index("source_name")
    assert docs.loc[tables.name, "unit_name"] == "中共北京市委军民融合发展委员会办公室"
    assert docs.loc[tables.name, "fiscal_year"] == 2026
    assert docs.loc[text.name, "disclosure_id"] == docs.loc[tables.name, "disclosure_id"]
    assert set(docs["part"]) == {"narrative", "tables"}
    assert docs.loc[text.name, "status"] == "ok"
    items = pd.read_parquet(curated / "line_items")
    assert (items["fiscal_year"] == 2026).all()
    assert link_disclosures(curated) == [(text.name, tables.name)]  # idempotent


def test_issue_14_templates_off_reads_a_family_document_the_same(tmp_path: Path, monkeypatch):
    """Ablation on a real Jiangsu file: the generic path alone reads its 12 tables with the
    family's kinds and the same figures."""
    from conftest import REPO_ROOT

    pdf = (
        REPO_ROOT / "tests" / "fixtures" / "real" / "jiangsu_npc_office_2019_dept_budget_tables.pdf"
    )
    with_family = ingest_document(pdf, tmp_path / "on")
    monkeypatch.setenv(TEMPLATES_ENV, "off")
    generic = ingest_document(pdf, tmp_path / "off", force=True)
    assert with_family.template == "jiangsu-12" and generic.template == "generic"
    on = pd.read_parquet(tmp_path / "on" / "tables").set_index("table_no")["kind"]
    off = pd.read_parquet(tmp_path / "off" / "tables").set_index("table_no")["kind"]
    assert off.to_dict() == on.to_dict()
    key = ["table_no", "code", "name", "measure", "amount_yuan"]
    items_on = pd.read_parquet(tmp_path / "on" / "line_items")[key].astype(str)
    items_off = pd.read_parquet(tmp_path / "off" / "line_items")[key].astype(str)
    merged = items_on.merge(items_off, how="outer", indicator=True)
    assert (merged["_merge"] == "both").all(), merged[merged["_merge"] != "both"].to_string()
    assert os.environ[TEMPLATES_ENV] == "off"


# --------------------------------------------------------------------------- 绩效目标 forms

REGION_FIXTURES = Path(__file__).resolve().parent / "fixtures" / "real-regions"


def _fixture(name: str) -> Path:
    path = REGION_FIXTURES / name
    if not path.exists():
        pytest.skip(f"{path} is not there")
    return path


def test_issue_14_performance_grids_listing_projects_and_combined_levels():
    """Beijing prints one indicator grid listing every project (项目名称 | 项目总额 | 财政资金 |
    … | 一级 | 二级 | 三级指标 | 绩效指标性质 | 本年绩效指标值 | 绩效度量单位) and a 部门整体
    form whose 绩效指标 cell holds all three levels; Yantai prints one form per project whose
    rows are labelled 绩效指标 (data rows, not a header)."""
    from budget_disclosures.flows.pipeline import build_rows

    rows, _ = build_rows(
        _fixture("beijing_veterans_affairs_bureau_2026_dept_budget_tables.pdf"), "b" * 16, "c" * 64
    )
    targets = pd.DataFrame(rows["performance_targets"])
    assert targets.groupby("scope").size().to_dict() == {"project": 135, "unit": 24}
    first = targets.iloc[0]
    assert (first.level1, first.level2, first.indicator, first.target) == (
        "产出指标",
        "时效指标",
        "平均故障修复时间",
        "≤12小时",
    )
    assert first.project_name.endswith("0843-信息系统运维类项目")
    unit = targets[targets["scope"] == "unit"].iloc[0]
    assert (unit.project_name, unit.level1, unit.level2, unit.target) == (
        "北京市退役军人事务局",
        "产出指标",
        "数量指标",
        "=1场",
    )
    money = [
        (i["measure"], i["amount_printed"]) for i in rows["line_items"] if i["table_no"] == "12"
    ]
    assert money[:3] == [
        ("total", "675.970000"),
        ("fiscal", "435.970000"),
        ("other_funds", "240.000000"),
    ]

    rows, _ = build_rows(_fixture("yantai_audit_bureau_2026_dept_budget.pdf"), "d" * 16, "e" * 64)
    targets = pd.DataFrame(rows["performance_targets"])
    assert len(targets) == 88
    assert tuple(targets.iloc[0][["project_name", "level1", "indicator", "target"]]) == (
        "审计业务经费",
        "成本指标",
        "项目总成本",
        "≤31万元",
    )
