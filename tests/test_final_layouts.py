"""Layout options of the Shanghai 部门决算 tables (issue 3), declared in YAML and read on a real PDF.

* ``coded_rows`` with ``blocks``: a row printing N (code, name, figures) blocks side by side
  (表6 一般公共预算财政拨款基本支出决算表: 人员经费 codes left, 公用经费 codes right) is read
  block by block, each figure with its own block's code and the block's measure;
* total labels printed across the code columns (``合计``, ``人员经费合计``) make 合计 rows;
* template ``item_columns`` rules with a ``measure``: the 三公 决算 table's items over
  预算数 | 决算数 sub-columns give ``budget`` and ``amount``.

The real PDF is 中共上海市普陀区委社会工作部 2024 年度部门决算 (a public disclosure, 246 KB, copied
from ``../shared/corpus/real`` into ``tests/fixtures/real/``).
"""

from __future__ import annotations

from functools import cache

import pydantic
import pytest
import yaml
from budget_disclosures.mappings.identify import TableInstance, detect_template, identify_tables
from budget_disclosures.mappings.loader import (
    TEMPLATES_DIR,
    default_templates,
    load_templates,
    vocabulary,
)
from budget_disclosures.mappings.models import CodedBlock, TableRule, Template
from budget_disclosures.mappings.normalize import (
    LABEL_ROLES,
    LineItem,
    block_columns,
    coded_blocks,
    frames_of,
    item_rules,
    make_context,
    normalize_table,
)
from conftest import REPO_ROOT, page_tables

SOCIAL_WORK = (
    REPO_ROOT
    / "tests"
    / "fixtures"
    / "real"
    / "shanghai_putuo_social_work_dept_2024_dept_final.pdf"
)


@cache
def _page_tables():
    assert SOCIAL_WORK.exists(), f"fixture missing: {SOCIAL_WORK}"
    return tuple(page_tables(SOCIAL_WORK))


def _tables(template: Template) -> dict[str, TableInstance]:
    tables, _ = identify_tables(list(_page_tables()), template)
    return {t.table_no: t for t in tables}


def _shipped() -> Template:
    return next(t for t in default_templates() if t.id == "shanghai-final-9")


def _items(template: Template, table_no: str) -> list[LineItem]:
    return normalize_table(_tables(template)[table_no], make_context("0" * 16, 2024, template))


# --------------------------------------------------------------------------- block_columns


@pytest.mark.parametrize(
    ("roles", "blocks"),
    [
        # 类 | 款 | 名称 | 决算数, twice (普陀区财政局)
        (
            ["code_lei", "code_kuan", "name", "amount"] * 2,
            [[0, 1, 2, 3], [4, 5, 6, 7]],
        ),
        # whole code | 名称 | 决算数, twice (社会工作部)
        (["code", "name", "amount"] * 2, [[0, 1, 2], [3, 4, 5]]),
        # the national 决算 form: 人员经费 block and two 公用经费 blocks
        (["code", "name", "amount"] * 3, [[0, 1, 2], [3, 4, 5], [6, 7, 8]]),
        # one block with several figure columns and an alt code before them stays one block
        (
            ["code", "name", "alt_code", "alt_name", "total", "basic_personnel"],
            [[0, 1, 2, 3, 4, 5]],
        ),
        # an unlabelled column (None) joins the block it stands in
        (["code", "name", None, "amount", "code", "name", "amount"], [[0, 1, 2, 3], [4, 5, 6]]),
    ],
)
def test_block_columns_start_a_block_at_a_label_after_a_figure(roles, blocks):
    assert block_columns(roles) == blocks


def test_coded_blocks_without_a_declaration_keep_the_frame():
    template = _shipped()
    table = _tables(template)["6"]
    (frame,) = frames_of(table, make_context("0" * 16, 2024, template))
    assert coded_blocks(frame, []) == [frame]
    left, right = coded_blocks(frame, list(template.table("6").blocks))
    assert left.roles == ["code", "name", "basic_personnel"]
    assert right.roles == ["code", "name", "basic_public"]
    assert len(left.body) == len(right.body) == len(frame.body)


# --------------------------------------------------------------------------- rules as data


def test_coded_block_rules_are_strict():
    with pytest.raises(pydantic.ValidationError):
        CodedBlock.model_validate({"measures": {"amount": "basic_public"}})  # no note
    with pytest.raises(pydantic.ValidationError):
        CodedBlock.model_validate({"measure": "basic_public", "note": "typo'd key"})
    rule = TableRule.model_validate(
        {
            "table_no": "6",
            "kind": "gpb_basic_by_econ",
            "titles": ["一般公共预算财政拨款基本支出决算表"],
            "layout": "coded_rows",
            "blocks": [{"measures": {"amount": "basic_personnel"}, "note": "人员经费 block"}],
        }
    )
    assert rule.blocks[0].measures == {"amount": "basic_personnel"}
    with pytest.raises(pydantic.ValidationError):
        rule.blocks[0].note = "frozen"


def test_template_measures_are_vocabulary_measures():
    """Block renames and item rule measures name measure ids the vocabulary lists (and so the
    data dictionary); a block renames a column role the vocabulary can give."""
    vocab = vocabulary()
    roles = {rule.role for rule in vocab.columns} | {
        rule.role for t in default_templates() for rule in t.columns
    }
    for template in default_templates():
        for rule in template.item_columns:
            assert rule.measure is None or rule.measure in vocab.measures, (template.id, rule)
        for table in template.tables:
            for block in table.blocks:
                for role, measure in block.measures.items():
                    assert role in roles and role not in LABEL_ROLES, (template.id, role)
                    assert measure in vocab.measures, (template.id, measure)
    assert "budget" in vocab.measures


# --------------------------------------------------------------------------- the real table


def test_two_block_table_reads_each_block_with_its_own_codes():
    items = _items(_shipped(), "6")
    assert items and {i.classification for i in items} == {"econ_dept"}
    by_measure: dict[str, dict[str | None, LineItem]] = {}
    for item in items:
        by_measure.setdefault(item.measure, {})[item.code] = item
    assert set(by_measure) == {"basic_personnel", "basic_public"}
    # every figure keeps its own block's code: 人员经费 301/303, 公用经费 302/310
    assert {c[:3] for c in by_measure["basic_personnel"] if c} == {"301", "303"}
    assert {c[:3] for c in by_measure["basic_public"] if c} == {"302", "310"}
    assert by_measure["basic_personnel"]["301"].amount_printed == "95.36"
    assert by_measure["basic_personnel"]["30101"].name == "基本工资"
    assert by_measure["basic_personnel"]["30101"].parent_code == "301"
    assert by_measure["basic_public"]["302"].amount_printed == "10.23"
    assert by_measure["basic_public"]["30201"].amount_printed == "3.78"
    assert by_measure["basic_public"]["30201"].name == "办公费"
    assert by_measure["basic_public"]["31099"].amount_printed == "0.00"  # printed 0: a row
    # the block totals, printed in a cell spanning code and name: 合计 rows, code null
    personnel, public = by_measure["basic_personnel"][None], by_measure["basic_public"][None]
    assert (personnel.name, personnel.row_label, personnel.amount_yuan) == (
        "合计",
        "人员经费合计",
        953600.0,
    )
    assert (public.name, public.row_label, public.amount_yuan) == ("合计", "公用经费合计", 102300.0)
    # one row per (code, measure): nothing read twice
    assert len({(i.code, i.measure) for i in items}) == len(items)


def test_function_table_total_label_across_the_code_columns_is_the_total_row():
    items = _items(_shipped(), "5")
    totals = {i.measure: i for i in items if i.code is None}
    assert set(totals) and {i.name for i in totals.values()} == {"合计"}
    level1 = [i for i in items if i.level == 1 and i.measure == "total"]
    assert sum(i.amount_yuan for i in level1) == pytest.approx(totals["total"].amount_yuan)


def test_blocks_in_yaml_drive_the_output(tmp_path):
    """The block measures are data: swapping them in a copied template swaps the output."""
    data = yaml.safe_load((TEMPLATES_DIR / "shanghai-final-9.yml").read_text(encoding="utf-8"))
    data["id"] = "tmp-final-copy"
    table6 = next(t for t in data["tables"] if t["table_no"] == "6")
    table6["blocks"] = list(reversed(table6["blocks"]))
    (tmp_path / "tmp-final-copy.yml").write_text(
        yaml.safe_dump(data, allow_unicode=True), encoding="utf-8"
    )
    (template,) = load_templates(tmp_path)
    assert detect_template(list(_page_tables()), (template,)) is template
    items = _items(template, "6")
    assert {i.code[:3] for i in items if i.code and i.measure == "basic_public"} == {"301", "303"}


def test_final_three_public_header_maps_budget_and_outturn_columns():
    """Items over 预算数 | 决算数: the template's rules give 预算数 → budget, the vocabulary's
    决算数 → the item's amount (the group or row decides, none here: ``amount``)."""
    template = _shipped()
    table = _tables(template)["7"]
    ctx = make_context("0" * 16, 2024, template)
    (frame,) = frames_of(table, ctx)
    rules = item_rules(ctx)
    read = set()
    for path in frame.paths:
        rule = next(r for r in rules if r.matches(path))
        read.add((rule.item, rule.measure or "amount", path[-1]))
    items = ["“三公”经费合计", "因公出国(境)费", "公务用车购置及运行维护费", "公务用车购置费"]
    items += ["公务用车运行维护费", "公务接待费"]
    expected = {(i, "budget", "预算数") for i in items} | {(i, "amount", "决算数") for i in items}
    assert read == expected
