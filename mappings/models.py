"""Pydantic models of the mapping rules (frozen, unknown keys rejected).

Everything that varies by province, template, year or layout is data in ``mappings/``;
these models are the only way the engine reads it, so a typo in a rule file fails loudly.
"""

from __future__ import annotations

import re
from functools import cached_property
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .text import fold_width

Layout = Literal[
    "coded_rows",  # rows keyed by a classification code (功能/经济分类 detail tables)
    "side_by_side",  # 收入 | 支出 blocks of (项目, 金额) pairs (收支总表)
    "unit_rows",  # rows are budget units (单位编码, 单位名称)
    "item_columns",  # the items are columns, rows are units ("三公"经费 table)
    "project_rows",  # 专项 / 项目 lists
    "performance",  # 绩效目标 forms
    "catalogue",  # the list of published tables (报表目录)
    "none",  # recognised but not mapped to line items
]


class Rule(BaseModel):
    """Base of every rule: frozen, strict, and it must say what it repairs or maps."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class ColumnRule(Rule):
    """Map a header path (``基本支出/人员经费``) to a column role or a measure id."""

    role: str = Field(description="measure id, or a label role: seq, code, name, alt_code, ...")
    leaf: list[str] = Field(default_factory=list, description="the last header level is one of")
    leaf_contains: list[str] = Field(default_factory=list)
    under: list[str] = Field(default_factory=list, description="some upper level contains one of")
    not_under: list[str] = Field(default_factory=list)
    note: str = ""

    def matches(self, path: list[str]) -> bool:
        if not path:
            return False
        leaf, upper = path[-1], path[:-1]
        if self.leaf and leaf not in self.leaf:
            return False
        if self.leaf_contains and not any(token in leaf for token in self.leaf_contains):
            return False
        if self.under and not any(token in level for level in upper for token in self.under):
            return False
        return not (
            self.not_under and any(token in level for level in upper for token in self.not_under)
        )


class BlockRule(Rule):
    """Which classification a side-by-side block holds, by its header text."""

    header_contains: list[str]
    classification: str
    note: str = ""


class ItemRule(Rule):
    """item_columns layout: header path → (item name, measure)."""

    item: str
    leaf_contains: list[str] = Field(min_length=1)
    under: list[str] = Field(default_factory=list)
    measure: str | None = Field(
        default=None,
        description="the column's measure when its header names it below the item "
        "(决算 预算数 | 决算数 sub-columns); none: from item_groups or the row",
    )
    note: str = ""

    def matches(self, path: list[str]) -> bool:
        leaf, upper = path[-1], path[:-1]
        if not any(token in leaf for token in self.leaf_contains):
            return False
        return not self.under or any(t in level for level in upper for t in self.under)


class GroupRule(Rule):
    """item_columns layout: an upper header level that sets the measure (本年预算 → amount)."""

    header_contains: list[str]
    measure: str


class TotalRule(Rule):
    """Row labels that are grand totals or subtotals, and the contract name they get."""

    labels: list[str]
    name: str
    note: str = ""


class CodedBlock(Rule):
    """coded_rows: one of N (code, name, figures) blocks printed side by side in a row.

    A row of such a table holds N unrelated items (人员经费 codes left, 公用经费 codes right);
    each block is read on its own, left to right, so a figure keeps its own block's code.
    """

    measures: dict[str, str] = Field(
        default_factory=dict,
        description="column role → measure id for this block (决算数 → basic_personnel)",
    )
    note: str = Field(min_length=1, description="what the block holds")


class TableRule(Rule):
    """One table of a template."""

    table_no: str
    kind: str
    titles: list[str] = Field(min_length=1, description="title variants as printed")
    layout: Layout = "none"
    classification: str | None = None
    required: bool = True
    blocks: list[CodedBlock] = Field(
        default_factory=list,
        description="coded_rows: the row repeats these blocks side by side; none: one block",
    )
    by_econ_kind: str | None = Field(
        default=None, description="the kind when the rows' codes are 经济分类 (title ambiguous)"
    )
    by_function_kind: str | None = Field(
        default=None, description="the kind when the rows' codes are 功能分类 (title ambiguous)"
    )
    fallback_classification: str | None = Field(
        default=None,
        description="classification auto: the axis when the rows print no code and no unit",
    )
    header_requires: list[str] = Field(
        default_factory=list, description="a damaged title fits only if the header has one of"
    )
    header_excludes: list[str] = Field(
        default_factory=list, description="a damaged title fits only if the header has none of"
    )
    note: str = ""

    @field_validator("titles")
    @classmethod
    def _normalise(cls, titles: list[str]) -> list[str]:
        return [normalise_title(t) for t in titles]


class Detect(Rule):
    """How a document reveals its template: phrases in its text, scored by count."""

    phrases: list[str] = Field(min_length=1)
    min_hits: int = 1
    note: str = ""


class NumberStyle(Rule):
    """How a template prints its table numbers when they are not the plain digits of table_no.

    ``chinese``: numbers printed as Chinese numerals (表一 … 表十二) or zero-padded digits
    (公开01表) are read as their value and written in digits (``1`` … ``12``), the form the
    other templates give, so 表五, 公开05表 and 表5 are all table 5.
    """

    numerals: Literal["chinese"]
    note: str = Field(min_length=1, description="the printed numbering this repairs")

    def table_no(self, printed: str) -> str:
        """The table_no of a number as printed (``十二`` → ``12``, ``01`` → ``1``, ``3-1`` kept)."""
        from .text import chinese_number

        return "-".join(
            str(int(part)) if part.isdigit() else str(chinese_number(part))
            for part in printed.split("-")
        )


class Template(Rule):
    """A table set (``shaanxi-15``, ``national-9``, ...), one YAML file per template."""

    id: str
    name: str
    doc_kind: Literal["budget", "final_account"]
    note: str = ""
    detect: Detect
    number_pattern: str = Field(
        default=r"^表\s*([0-9]+(?:-[0-9]+)?)$",
        description="regex with one group: the table number as printed above a table",
    )
    number_style: NumberStyle | None = Field(
        default=None, description="how printed numbers become table_no; none: as printed"
    )
    numbering: Literal["rules", "printed"] = Field(
        default="rules",
        description="rules: a table's table_no is its rule's; printed: the number printed "
        "above it, else its order in the document (the generic lexicon, whose rules are kinds)",
    )
    default_unit: str = "万元"
    tables: list[TableRule] = Field(min_length=1)
    columns: list[ColumnRule] = Field(default_factory=list, description="template overrides")
    item_columns: list[ItemRule] = Field(
        default_factory=list, description="template overrides of the vocabulary's item rules"
    )

    @model_validator(mode="after")
    def _numbers_in_style(self) -> Template:
        """A table_no the number style can never produce (``01`` under ``chinese``) is a typo."""
        if self.number_style is not None and self.numbering == "rules":
            for rule in self.tables:
                if self.number_style.table_no(rule.table_no) != rule.table_no:
                    raise ValueError(
                        f"table_no {rule.table_no!r} is not in the {self.number_style.numerals} "
                        f"number style: write {self.number_style.table_no(rule.table_no)!r}"
                    )
        return self

    @cached_property
    def number_regex(self) -> re.Pattern[str]:
        return re.compile(self.number_pattern)

    def table(self, table_no: str) -> TableRule | None:
        if self.numbering == "printed":
            return None  # rules are kinds, not numbered tables
        return next((t for t in self.tables if t.table_no == table_no), None)

    @cached_property
    def rules_by_kind(self) -> dict[str, TableRule]:
        return {rule.kind: rule for rule in self.tables}


class NumberPattern(Rule):
    """One way of printing a table number (``预算01表``, ``公开表7``), a regex with one group."""

    pattern: str
    note: str = Field(min_length=1)


class LexiconKind(Rule):
    """One table kind of the national lexicon and the title variants that name it."""

    kind: str
    titles: list[str] = Field(min_length=1)
    layout: Layout
    classification: str | None = Field(
        default=None, description="row axis; ``auto``: decided by the codes the rows print"
    )
    by_econ_kind: str | None = None
    by_function_kind: str | None = None
    fallback_classification: str | None = None
    header_requires: list[str] = Field(default_factory=list)
    header_excludes: list[str] = Field(default_factory=list)
    note: str = ""


class Lexicon(Rule):
    """The national lexicon (``mappings/lexicon.yml``): the generic reading path's titles."""

    note: str = Field(min_length=1)
    number_patterns: list[NumberPattern] = Field(min_length=1)
    kinds: list[LexiconKind] = Field(min_length=1)

    def as_template(self) -> Template:
        """The lexicon as a template that numbers tables as printed (id ``generic``)."""
        combined = "|".join(f"(?:{p.pattern})" for p in self.number_patterns)
        return Template(
            id="generic",
            name="通用读取（全国表名词表）",
            doc_kind="budget",
            note="the generic reading path: titles from the national lexicon, any numbering",
            detect=Detect(phrases=["表"], min_hits=1, note="chosen on evidence, not phrases"),
            number_pattern=combined,
            number_style=NumberStyle(
                numerals="chinese", note="表一 / 预算01表 read as 1, as the families do"
            ),
            numbering="printed",
            tables=[
                # a kind is a table rule whose table_no is the kind (the printed number wins)
                TableRule(table_no=entry.kind, required=False, **entry.model_dump())
                for entry in self.kinds
            ],
        )


class Vocabulary(Rule):
    """Shared header and label vocabulary (``mappings/vocabulary.yml``)."""

    note: str = ""
    columns: list[ColumnRule]
    blocks: list[BlockRule]
    totals: list[TotalRule]
    item_columns: list[ItemRule]
    item_groups: list[GroupRule]
    empty_markers: list[str]
    measures: dict[str, str] = Field(description="measure id → Chinese header it stands for")


class FormMoneyRule(Rule):
    """绩效目标 forms: a money label (实施期资金总额, 其中：财政拨款) → measure id."""

    label_contains: list[str] = Field(min_length=1)
    measure: str
    note: str = ""


class FormVocabulary(Rule):
    """Vocabulary of label/value forms (``mappings/forms.yml``)."""

    note: str = ""
    name_labels: list[str]
    money: list[FormMoneyRule]
    period_markers: list[str]
    annual_markers: list[str]
    period_measures: dict[str, str] = Field(description="measure → its 实施期 (whole-period) id")
    task_header: list[str]
    task_columns: dict[str, str]
    total_labels: list[str]
    indicator_headers: dict[
        Literal["level1", "level2", "indicator", "target", "relation", "unit", "name", "combined"],
        list[str],
    ] = Field(
        description="header words of the indicator grid's columns: levels, indicator, target; "
        "relation (≥, ＝, 定性) and unit printed apart from the target; a project-name column "
        "(one grid listing many projects); combined (一级, 二级 and the indicator in one cell)"
    )
    indicator_levels: dict[Literal["level1", "level2"], list[str]] = Field(
        default_factory=dict,
        description="level names, to split a combined cell (产出指标数量指标举办… → 产出指标 / 数量指标 / 举办…)",
    )
    indicator_money: dict[str, str] = Field(
        default_factory=dict,
        description="money columns of an indicator grid that lists projects: header → measure",
    )
    indicator_prefix: str
    scopes: dict[str, str]


_TITLE_NOISE = re.compile(r"[\s\"“”'‘’]")


def normalise_title(text: str) -> str:
    """Titles compare without spaces, quotes or bracket width."""
    return _TITLE_NOISE.sub("", fold_width(text))


# --------------------------------------------------------------------------- narrative facts


class FactDefinition(Rule):
    """One fact id of the ``facts`` dataset (``mappings/facts.yml`` → ``facts:``)."""

    family: str = Field(description="group for reporting: staff, budget, three_public, ...")
    kind: Literal["money", "count", "percent"]
    unit: str | None = Field(
        default=None, description="unit of a count (人, 辆); money units are read"
    )
    zh: str
    note: str = ""


class FactRule(Rule):
    """Regular expressions that read facts from one paragraph of the narrative.

    A pattern names its figures with groups: ``v_<fact>`` the value, ``u_<fact>`` its money
    unit, ``d_<fact>`` a direction word (增加 / 减少) that signs it; ``item`` / ``code`` /
    ``code1..3`` name the line an item fact is about.  ``{money:<fact>}``, ``{count:<fact>}``,
    ``{pct:<fact>}``, ``{dir:<fact>}`` and the ``defines`` of the file expand before compiling.
    """

    patterns: list[str] = Field(min_length=1)
    requires: list[str] = Field(default_factory=list, description="the paragraph contains one of")
    excludes: list[str] = Field(default_factory=list, description="the paragraph contains none of")
    repeat: bool = Field(
        default=False, description="every match is a fact (items), not only the first"
    )
    rank: int = Field(default=1, description="a lower rank wins over document order")
    constant: dict[str, float] = Field(
        default_factory=dict, description="facts a match states without a figure"
    )
    note: str = Field(min_length=1)


class FactVocabulary(Rule):
    """The narrative fact patterns (``mappings/facts.yml``)."""

    note: str = ""
    defines: dict[str, str] = Field(default_factory=dict)
    decrease_words: list[str] = Field(min_length=1)
    steady_words: list[str] = Field(default_factory=list)
    facts: dict[str, FactDefinition]
    rules: list[FactRule] = Field(min_length=1)
    checks: list[FactCheck] = Field(default_factory=list)


class FactCheck(Rule):
    """A stated figure and the table figure it must equal (``facts.yml`` → ``checks:``).

    The table figure is the first ``line_items`` row of one of ``kinds`` (and
    ``classification``, ``measures``) whose name is one of ``names`` (in that order), else
    contains one of ``contains`` and none of ``not_contains``; ``by_code`` matches an item
    fact's code instead of a name.
    """

    fact: str
    kinds: list[str] = Field(min_length=1)
    classification: str | None = None
    measures: list[str] = Field(default_factory=lambda: ["amount", "total"])
    names: list[str] = Field(default_factory=list)
    contains: list[str] = Field(default_factory=list)
    not_contains: list[str] = Field(default_factory=list)
    by_code: bool = False
    note: str = Field(min_length=1)


class SummaryRows(Rule):
    """Named rows of the summary tables that validation's arithmetic reads
    (``mappings/summary_rows.yml``)."""

    note: str
    templates: tuple[str, ...]
    top_expenses: tuple[str, ...]
    beyond: tuple[str, ...]
    not_income: tuple[str, ...]
    not_child: tuple[str, ...]
    totals: tuple[str, ...]
    grand_total: str
    heads: tuple[str, ...]
    department: str
    grant_total: str
    carry: str
    carry_parts: tuple[str, ...]
    grant_parts: tuple[str, ...]
    groups: tuple[str, ...]
