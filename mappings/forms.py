"""绩效目标 forms → line items (money cells) and ``performance_targets`` rows.

These tables are forms, not grids: label/value cells (项目名称 | X, 实施期资金总额 | 40), a
task sub-table (任务名称 | 主要内容 | 总额 | 财政拨款 | 其他资金), and an indicator grid whose
first two levels are tall merged cells, often written one character per line.  The words
that drive the reading are data in ``mappings/forms.yml``.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from budget_disclosures.extractors.base import GridCell, RawGrid

from .identify import TableInstance
from .loader import form_vocabulary
from .models import FormVocabulary
from .normalize import Context, Frame, LineItem, _make_item, header_text
from .text import clean_label, clean_name, fold_width, parse_amount


@dataclass(slots=True)
class PerformanceTarget:
    doc_id: str
    table_no: str
    scope: str
    project_name: str
    level1: str
    level2: str
    indicator: str
    target: str
    page: int

    def as_dict(self) -> dict:
        return asdict(self)


def _label(text: str) -> str:
    return header_text(text).rstrip(":：")


def _matches(label: str, words: list[str]) -> bool:
    folded = fold_width(label)
    return any(fold_width(word) in folded for word in words)


@dataclass(slots=True)
class _Money:
    label: str
    col: int
    measure: str
    printed: str
    grid: RawGrid


class _FormReader:
    def __init__(self, table: TableInstance, ctx: Context, vocab: FormVocabulary) -> None:
        self.table, self.ctx, self.vocab = table, ctx, vocab
        self.name = ""
        self.money: list[_Money] = []
        self.items: list[LineItem] = []
        self.targets: list[PerformanceTarget] = []
        self.task_name_col: int | None = None
        self.task_cols: dict[int, str] = {}
        self.indicator_cols: dict[str, int] = {}
        self.money_cols: dict[int, str] = {}
        self.carry = {"level1": "", "level2": "", "name": ""}

    # -- sections ---------------------------------------------------------------
    def read(self) -> None:
        for grid in self.table.grids:
            for index, row in enumerate(grid.rows):
                self._read_row(grid, index, sorted(row, key=lambda c: c.col0))
        self._emit_money()

    def _read_row(self, grid: RawGrid, index: int, cells: list[GridCell]) -> None:
        labels = [_label(c.text) for c in cells]
        headers = self.vocab.indicator_headers
        if self._is_indicator_header(labels):
            self.indicator_cols = {
                role: cell.col0
                for cell, label in zip(cells, labels)
                for role, words in headers.items()
                if label in words
            }
            self._read_indicator_money_columns(cells, labels)
            self.task_name_col = None
            return
        if self.indicator_cols and self._read_indicator_money_columns(cells, labels):
            return  # the header's second row (其中： 财政资金 | 其他资金)
        if self.indicator_cols:
            self._read_indicator(grid, index)
            return
        if any(label in self.vocab.task_header for label in labels):
            self.task_name_col = next(
                c.col0 for c, lab in zip(cells, labels) if lab in self.vocab.task_header
            )
            self._read_task_columns(cells, labels)
            return
        if self.task_name_col is not None and not self.task_cols:
            self._read_task_columns(cells, labels)
            if self.task_cols:
                return
        if self.task_name_col is not None and self.task_cols:
            self._read_task(grid, index)
            return
        self._read_pairs(grid, cells, labels)

    def _is_indicator_header(self, labels: list[str]) -> bool:
        """The indicator grid's header row: 一级指标 …, or 绩效指标 beside 指标值 / 指标性质 (a
        row whose first cell says 绩效指标 and then prints an indicator is data, not header)."""
        headers = self.vocab.indicator_headers
        if any(label in headers["level1"] for label in labels):
            return True
        values = headers.get("target", []) + headers.get("relation", [])
        return any(label in headers.get("combined", []) for label in labels) and any(
            label in values for label in labels
        )

    def _read_indicator_money_columns(self, cells: list[GridCell], labels: list[str]) -> bool:
        """Money columns of an indicator grid listing projects (项目总额, 财政资金 …); True when
        the row is a header row holding only such labels."""
        found = {
            cell.col0: self.vocab.indicator_money[label]
            for cell, label in zip(cells, labels)
            if label in self.vocab.indicator_money
        }
        self.money_cols.update(found)
        return bool(found) and all(
            not label or label in self.vocab.indicator_money or label.startswith("其中")
            for label in labels
        )

    def _read_task_columns(self, cells: list[GridCell], labels: list[str]) -> None:
        for cell, label in zip(cells, labels):
            if label in self.vocab.task_columns:
                self.task_cols[cell.col0] = self.vocab.task_columns[label]

    def _read_pairs(self, grid: RawGrid, cells: list[GridCell], labels: list[str]) -> None:
        for position, (cell, label) in enumerate(zip(cells, labels)):
            if position + 1 >= len(cells):
                break
            value = cells[position + 1].text
            if not self.name and _matches(label, self.vocab.name_labels) and len(label) <= 10:
                self.name = clean_name(value)
                continue
            rule = next((r for r in self.vocab.money if _matches(label, r.label_contains)), None)
            if rule and parse_amount(value.replace("\n", "")) is not None:
                self.money.append(_Money(label, cell.col0, rule.measure, value, grid))

    def _read_task(self, grid: RawGrid, index: int) -> None:
        texts = grid.row_texts(index)
        label = texts[self.task_name_col] if self.task_name_col < len(texts) else ""
        name = clean_name(label)
        if not name:
            return
        if header_text(name) in self.vocab.total_labels:
            name = "合计"
        self._column_items(grid, texts, self.task_cols, name, label)

    def _read_indicator(self, grid: RawGrid, index: int) -> None:
        texts = grid.row_texts(index)

        def cell(role: str) -> str:
            col = self.indicator_cols.get(role)
            return texts[col] if col is not None and col < len(texts) else ""

        if clean_name(cell("name")):  # a grid listing projects: a new project starts
            self.carry["name"] = clean_name(cell("name"))
            self._read_project_money(grid, texts)
        for level in ("level1", "level2"):
            if clean_name(cell(level)):
                self.carry[level] = clean_name(cell(level))
                if level == "level1":
                    self.carry["level2"] = ""
        indicator = clean_name(cell("indicator"))
        if "combined" in self.indicator_cols:
            level1, level2, indicator = self._split_levels(clean_name(cell("combined")))
            self.carry.update(level1=level1, level2=level2)
        indicator = re.sub(self.vocab.indicator_prefix, "", indicator)
        if not indicator:
            return
        self.targets.append(
            PerformanceTarget(
                doc_id=self.ctx.doc_id,
                table_no=self.table.table_no,
                scope=self.vocab.scopes.get(self.table.kind, self.table.kind),
                project_name=self.carry["name"] or self.name,
                level1=self.carry["level1"],
                level2=self.carry["level2"],
                indicator=indicator,
                target=self._target(cell("relation"), cell("target"), cell("unit")),
                page=grid.page,
            )
        )

    @staticmethod
    def _target(relation: str, value: str, unit: str) -> str:
        """≥ 90 % as printed in three columns → ``≥90%``; a 定性 (qualitative) relation is no
        part of the target (``好``)."""
        relation = clean_label(relation).replace(" ", "")
        relation = "" if relation in {"定性", "定量"} else relation
        parts = (relation, clean_label(value), clean_label(unit))
        return "".join(part.replace(" ", "") for part in parts)

    def _split_levels(self, text: str) -> tuple[str, str, str]:
        """``产出指标数量指标举办…`` → (产出指标, 数量指标, 举办…), by the known level names."""
        levels = self.vocab.indicator_levels
        found = ["", ""]
        for position, key in enumerate(("level1", "level2")):
            name = next(
                (
                    n
                    for n in sorted(levels.get(key, []), key=len, reverse=True)
                    if text.startswith(n)
                ),
                None,
            )
            if name:
                found[position], text = name, text[len(name) :]
        return found[0], found[1], text

    def _read_project_money(self, grid: RawGrid, texts: list[str]) -> None:
        """The money a project row prints in a grid listing projects (项目总额, 财政资金 …)."""
        name = self.carry["name"]
        self._column_items(grid, texts, self.money_cols, name, name)

    def _column_items(
        self, grid: RawGrid, texts: list[str], columns: dict[int, str], name: str, label: str
    ) -> None:
        """One line item per money column (col → measure) of a task or project row."""
        for col, measure in columns.items():
            if col < len(texts):
                self._project_item(grid, name, measure, texts[col], label)

    def _project_item(
        self, grid: RawGrid, name: str, measure: str, printed: str, label: str
    ) -> None:
        """A figure of a 绩效目标 form as a line item of its project (blank figures: none)."""
        item = _make_item(
            self.ctx,
            self.table,
            Frame(grid, [], [], [], set()),
            "project",
            None,
            name,
            measure,
            printed,
            [],
            label,
        )
        if item:
            self.items.append(item)

    # -- money ------------------------------------------------------------------
    def _emit_money(self) -> None:
        """实施期 and 年度 blocks side by side: the 实施期 column's figures get the period ids."""
        has_period = any(_matches(m.label, self.vocab.period_markers) for m in self.money)
        has_annual = any(_matches(m.label, self.vocab.annual_markers) for m in self.money)
        period_cols = (
            {m.col for m in self.money if _matches(m.label, self.vocab.period_markers)}
            if has_period and has_annual
            else set()
        )
        for money in self.money:
            measure = money.measure
            if money.col in period_cols:
                measure = self.vocab.period_measures.get(measure, measure)
            self._project_item(money.grid, self.name, measure, money.printed, money.label)


def read_performance_form(
    table: TableInstance, ctx: Context
) -> tuple[list[LineItem], list[PerformanceTarget]]:
    """Line items and performance targets of one 绩效目标 table."""
    reader = _FormReader(table, ctx, form_vocabulary())
    reader.read()
    return reader.items, reader.targets
