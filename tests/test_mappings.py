"""Mapping rules as data: templates, vocabulary, code lists, identification and normalisation."""

from __future__ import annotations

import pydantic
import pytest
import yaml
from budget_disclosures.mappings.codelists import (
    code_for_name,
    code_level,
    is_known_code,
    load_code_list,
    parent_code,
)
from budget_disclosures.mappings.identify import detect_template, identify_tables, match_title
from budget_disclosures.mappings.loader import (
    TEMPLATES_DIR,
    default_templates,
    load_templates,
    vocabulary,
)
from budget_disclosures.mappings.models import ColumnRule, Template, TotalRule
from budget_disclosures.mappings.normalize import (
    column_roles,
    header_text,
    make_context,
    normalize_table,
)
from budget_disclosures.mappings.text import clean_name

SHAANXI_KINDS = {
    "1": "budget_summary",
    "2": "income_summary",
    "3": "expenditure_summary",
    "4": "fiscal_grant_summary",
    "5": "gpb_expenditure_by_function",
    "6": "gpb_expenditure_by_econ",
    "7": "gpb_basic_by_function",
    "8": "gpb_basic_by_econ",
    "9": "gov_fund_summary",
    "10": "project_expenditure",
    "11": "gov_procurement",
    "12": "three_public",
    "13": "perf_project",
    "14": "perf_unit",
    "15": "perf_special_fund",
}
CONTRACT_KINDS = {
    "budget_summary",
    "income_summary",
    "expenditure_summary",
    "fiscal_grant_summary",
    "gpb_expenditure_by_function",
    "gpb_expenditure_by_econ",
    "gpb_basic_by_function",
    "gpb_basic_by_econ",
    "gov_fund_summary",
    "gov_fund_expenditure",
    "state_capital_expenditure",
    "project_expenditure",
    "gov_procurement",
    "three_public",
    "perf_project",
    "perf_unit",
    "perf_special_fund",
}
CONTRACT_CLASSIFICATIONS = {
    "function",
    "econ_dept",
    "econ_gov",
    "income_source",
    "expense_type",
    "project",
    "three_public",
    "unit",
}


def templates_by_id():
    return {t.id: t for t in default_templates()}


def copy_template(tmp_path, source_id="shaanxi-15", new_id="tmp-shaanxi-copy", edit=None):
    """Copy a shipped template into ``tmp_path`` under a new id, optionally editing its data."""
    data = yaml.safe_load((TEMPLATES_DIR / f"{source_id}.yml").read_text(encoding="utf-8"))
    data["id"] = new_id
    if edit:
        edit(data)
    path = tmp_path / f"{new_id}.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


# --------------------------------------------------------------------------- templates


def test_shipped_templates_load_and_are_valid():
    by_id = templates_by_id()
    assert {"shaanxi-15", "national-9"} <= set(by_id)
    shaanxi = by_id["shaanxi-15"]
    assert {t.table_no: t.kind for t in shaanxi.tables} == SHAANXI_KINDS
    assert len(by_id["national-9"].tables) == 9
    for template in by_id.values():
        numbers = [t.table_no for t in template.tables]
        assert len(numbers) == len(set(numbers)), f"{template.id}: duplicate table numbers"
        for table in template.tables:
            if table.classification is not None:
                assert table.classification in CONTRACT_CLASSIFICATIONS, (template.id, table)


def test_shaanxi_and_national_kinds_are_contract_kinds():
    by_id = templates_by_id()
    for template_id in ("shaanxi-15", "national-9"):
        kinds = {t.kind for t in by_id[template_id].tables}
        assert kinds <= CONTRACT_KINDS, kinds - CONTRACT_KINDS


def test_templates_are_frozen():
    template = templates_by_id()["shaanxi-15"]
    with pytest.raises(pydantic.ValidationError):
        template.id = "changed"
    with pytest.raises(pydantic.ValidationError):
        template.tables[0].kind = "changed"
    with pytest.raises(pydantic.ValidationError):
        vocabulary().columns[0].role = "changed"


def test_template_model_forbids_unknown_keys():
    data = yaml.safe_load((TEMPLATES_DIR / "shaanxi-15.yml").read_text(encoding="utf-8"))
    Template.model_validate(data)  # the shipped file is valid
    with pytest.raises(pydantic.ValidationError, match="colour"):
        Template.model_validate({**data, "colour": "red"})
    with pytest.raises(pydantic.ValidationError):
        ColumnRule.model_validate({"role": "total", "leafs": ["合计"]})  # typo of ``leaf``


def test_yaml_with_an_unknown_key_raises(tmp_path):
    copy_template(tmp_path, edit=lambda d: d.update(colour="red"))
    with pytest.raises(ValueError, match=r"(?s)tmp-shaanxi-copy\.yml.*colour.*[Ee]xtra"):
        load_templates(tmp_path)


def test_yaml_with_an_unknown_key_in_a_table_rule_raises(tmp_path):
    copy_template(tmp_path, edit=lambda d: d["tables"][4].update(layuot="coded_rows"))
    with pytest.raises(ValueError, match="layuot"):
        load_templates(tmp_path)


@pytest.mark.parametrize(
    "edit",
    [
        pytest.param(lambda d: d.pop("detect"), id="missing-detect"),
        pytest.param(lambda d: d.update(tables=[]), id="no-tables"),
        pytest.param(lambda d: d["tables"][0].update(layout="sideways"), id="unknown-layout"),
        pytest.param(lambda d: d.update(doc_kind="report"), id="unknown-doc-kind"),
        pytest.param(lambda d: d["tables"][0].update(titles=[]), id="no-titles"),
    ],
)
def test_invalid_template_files_raise(tmp_path, edit):
    copy_template(tmp_path, edit=edit)
    with pytest.raises(ValueError, match=r"tmp-shaanxi-copy\.yml"):
        load_templates(tmp_path)


def test_duplicate_template_ids_raise(tmp_path):
    copy_template(tmp_path, new_id="dup")
    data = yaml.safe_load((tmp_path / "dup.yml").read_text(encoding="utf-8"))
    (tmp_path / "dup-again.yml").write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    with pytest.raises(ValueError, match="duplicate template ids"):
        load_templates(tmp_path)


def test_yaml_that_is_not_a_mapping_raises(tmp_path):
    (tmp_path / "list.yml").write_text("- just\n- a list\n", encoding="utf-8")
    with pytest.raises(ValueError, match="list.yml"):
        load_templates(tmp_path)


def test_empty_template_folder_gives_no_templates(tmp_path):
    assert load_templates(tmp_path) == ()


def test_template_from_a_temporary_folder_identifies_and_normalises(tmp_path, sample_page_tables):
    """Adding a template is adding a YAML file: a copy under a new id works end to end."""
    copy_template(tmp_path)
    templates = load_templates(tmp_path)
    assert [t.id for t in templates] == ["tmp-shaanxi-copy"]
    template = detect_template(sample_page_tables, templates)
    assert template is not None and template.id == "tmp-shaanxi-copy"

    tables, catalogue = identify_tables(sample_page_tables, template)
    assert [t.table_no for t in tables] == [str(n) for n in range(1, 16)]
    assert {t.table_no: t.kind for t in tables} == SHAANXI_KINDS
    assert {t.table_no for t in tables if t.is_empty} == {"9", "11"}
    assert catalogue["9"] is True and catalogue["5"] is False
    table5 = next(t for t in tables if t.table_no == "5")
    assert table5.pages == [13]
    assert table5.unit == "万元"
    assert table5.title == "单位综合预算一般公共预算支出明细表(按支出功能分类科目)"

    items = normalize_table(table5, make_context("0" * 16, 2023, template))
    assert len(items) == 15 * 4
    total = next(i for i in items if i.name == "合计" and i.measure == "total")
    assert total.code is None
    assert total.amount_yuan == 3634500.0
    assert total.amount_printed == "363.45"
    row = {i.measure: i for i in items if i.code == "2010350"}
    assert set(row) == {"total", "basic_personnel", "basic_public", "project"}
    assert row["total"].name == "事业运行"
    assert row["total"].level == 3 and row["total"].parent_code == "20103"
    assert row["basic_personnel"].amount_yuan == 2648300.0
    assert row["basic_personnel"].column == "基本支出/人员经费"


def test_template_data_drives_the_output(tmp_path, sample_page_tables):
    """A changed kind or title in the YAML shows up in the result without code changes."""

    def edit(data):
        data["tables"][4]["kind"] = "renamed_kind"
        data["tables"][5]["layout"] = "none"

    copy_template(tmp_path, edit=edit)
    (template,) = load_templates(tmp_path)
    tables, _ = identify_tables(sample_page_tables, template)
    by_no = {t.table_no: t for t in tables}
    ctx = make_context("0" * 16, 2023, template)
    items5 = normalize_table(by_no["5"], ctx)
    assert items5 and {i.kind for i in items5} == {"renamed_kind"}
    assert normalize_table(by_no["6"], ctx) == []  # layout none: recognised, not mapped


def test_detect_template_picks_shaanxi_for_the_sample(sample_page_tables):
    assert detect_template(sample_page_tables, ()) is None
    assert detect_template(sample_page_tables, default_templates()).id == "shaanxi-15"


@pytest.mark.parametrize(
    ("printed", "table_no"),
    [
        ("单位综合预算收支总表", "1"),
        ("单位综合预算 收支总表", "1"),
        ("单位综合预算一般公共预算支出明细表（按支出功能分类科目）", "5"),
        ("单位综合预算一般公共预算支出明细表(按支出经济分类科目)", "6"),
        ("单位综合预算一般公共预算拨款“三公”经费及会议费、培训费支出预算表", "12"),
        ("2023年单位综合预算收支总表", "1"),  # a year prefix still matches
    ],
)
def test_match_title(printed, table_no):
    rule = match_title(printed, templates_by_id()["shaanxi-15"])
    assert rule is not None and rule.table_no == table_no


@pytest.mark.parametrize("printed", ["单位名称：宝鸡市大数据管理中心", "单位：万元", "表", ""])
def test_match_title_ignores_other_lines(printed):
    assert match_title(printed, templates_by_id()["shaanxi-15"]) is None


# --------------------------------------------------------------------------- vocabulary


@pytest.mark.parametrize(
    ("path", "role"),
    [
        (["基本支出", "人员经费"], "basic_personnel"),
        (["基本支出", "公用经费"], "basic_public"),
        (["基本支出", "小计"], "basic"),
        (["基本支出"], "basic"),
        (["部门预算", "一般公共预算拨款", "小计"], "gpb"),
        (["一般公共预算拨款"], "gpb"),
        (["政府经济分类", "科目编码"], "alt_code"),
        (["政府经济分类", "科目名称"], "alt_name"),
        (["部门经济分类", "科目编码"], "code"),
        (["部门经济分类", "科目名称"], "name"),
        (["科目编码"], "code"),
        (["单位编码"], "code"),
        (["科目编码及名称"], "code_name"),
        (["类"], "code_lei"),
        (["款"], "code_kuan"),
        (["项"], "code_xiang"),
        (["序号"], "seq"),
        (["合计"], "total"),
        (["小计"], "total"),
        (["项目支出"], "project"),
        (["政府性基金拨款"], "gov_fund"),
        (["事业收入"], "business_income"),
        (["上年结转"], "carryover"),
        (["收入", "预算数"], "amount"),
        (["上年预算", "合计"], "total"),
        (["增减变化"], "change"),
        (["项目（按功能分类）"], "name"),
        ([], None),
        (["无关表头"], None),
    ],
)
def test_vocabulary_column_rules(path, role):
    assert column_roles([path], vocabulary().columns) == [role]


def test_header_text_joins_wrapped_headers():
    assert header_text("政府性基金\n拨款") == "政府性基金拨款"
    assert header_text("用事业基金\n弥补收支差\n额") == "用事业基金弥补收支差额"
    roles = column_roles([[header_text("上年实户资\n金余额")]], vocabulary().columns)
    assert roles == ["prior_balance"]


def test_vocabulary_measures_cover_the_column_roles():
    from budget_disclosures.mappings.normalize import LABEL_ROLES

    vocab = vocabulary()
    label_roles = set(LABEL_ROLES)
    measure_roles = {rule.role for rule in vocab.columns} - label_roles
    assert measure_roles <= set(vocab.measures), measure_roles - set(vocab.measures)


def test_vocabulary_totals():
    totals = {label: rule.name for rule in vocabulary().totals for label in rule.labels}
    assert totals["合计"] == "合计"
    assert totals["本年收入合计"] == "合计"
    assert totals["收入总计"] == "总计"
    with pytest.raises(pydantic.ValidationError):
        TotalRule.model_validate({"labels": ["合计"], "name": "合计", "extra": 1})


# --------------------------------------------------------------------------- code lists


@pytest.mark.parametrize(
    ("classification", "code", "level", "parent"),
    [
        ("function", "201", 1, None),
        ("function", "20103", 2, "201"),
        ("function", "2010350", 3, "20103"),
        ("econ_dept", "301", 1, None),
        ("econ_dept", "30101", 2, "301"),
        ("econ_gov", "50101", 2, "501"),
        # 部门经济分类 stops at 款 nationally; some regions print a third level (3021101 差旅费)
        ("econ_dept", "3021101", 3, "30211"),
        ("econ_gov", "5010101", None, None),  # 政府经济分类 stops at 款
        ("function", None, None, None),
        ("unit", "621002", None, None),
        ("income_source", "201", None, None),
    ],
)
def test_code_level_and_parent(classification, code, level, parent):
    assert code_level(classification, code) == level
    assert parent_code(classification, code) == parent


@pytest.mark.parametrize(
    ("name", "year", "code"),
    [
        ("文化旅游体育与传媒支出", 2019, "207"),
        ("文化体育与传媒支出", 2018, "207"),
        ("卫生健康支出", 2019, "210"),
        ("卫生健康支出", 2023, "210"),
        ("医疗卫生与计划生育支出", 2018, "210"),
        ("自然资源海洋气象等支出", 2020, "220"),
        ("国土海洋气象等支出", 2017, "220"),
        ("资源勘探工业信息等支出", 2019, "215"),
        ("灾害防治及应急管理支出", 2019, "224"),
        ("10、卫生健康支出", 2023, "210"),  # printed with its outline number
        ("一般公共服务支出", None, "201"),
        ("不存在的支出", 2023, None),
    ],
)
def test_code_for_name_is_year_aware(name, year, code):
    assert code_for_name("function", name, year) == code


def test_code_for_name_at_the_kuan_level_across_the_2020_rename():
    assert code_for_name("function", "行政事业单位离退休", 2019, level=2) == "20805"
    assert code_for_name("function", "行政事业单位养老支出", 2020, level=2) == "20805"
    assert code_for_name("function", "行政事业单位养老支出", 2020) is None  # not a 类


def test_is_known_code_respects_validity_years():
    assert is_known_code("function", "224", 2019)
    assert not is_known_code("function", "224", 2018)  # created in the 2019 reform
    assert is_known_code("function", "2010350", 2023)
    assert not is_known_code("function", "2999999", 2023)


@pytest.mark.parametrize("classification", ["function", "econ_dept", "econ_gov"])
def test_code_lists_are_consistent(classification):
    entries = load_code_list(classification)
    assert entries, f"{classification}: empty code list"
    codes = {e.code for e in entries}
    for entry in entries:
        assert entry.code.isascii() and entry.code.isdigit(), entry
        assert entry.level == code_level(classification, entry.code), entry
        assert entry.parent_code == parent_code(classification, entry.code), entry
        if entry.parent_code:
            assert entry.parent_code in codes, f"{entry.code}: parent {entry.parent_code} unknown"
        assert entry.name == clean_name(entry.name), entry
    # for a given (code, year) at most one name is valid
    for year in range(2015, 2031):
        valid = [e.code for e in entries if e.valid_in(year)]
        assert len(valid) == len(set(valid)), f"{classification} {year}: overlapping names"


def test_a_total_row_numbered_in_a_row_number_column_keeps_its_label():
    """``1 | 合计 | | | 198.94``: the 合计 spans the 类/款/项 columns after a 序号 column; the
    row number is not the label."""
    from budget_disclosures.mappings.normalize import _label_total

    roles = ["seq", "code_lei", "code_kuan", "code_xiang", "name", "total"]
    texts = ["1", "合计", "", "", "", "198.94"]
    assert _label_total(texts, roles, vocabulary()) == "合计"
