"""The mapping engine's entry point: one identified table → contract rows."""

from __future__ import annotations

from .forms import PerformanceTarget, read_performance_form
from .identify import TableInstance
from .normalize import Context, LineItem, normalize_table


def map_table(table: TableInstance, ctx: Context) -> tuple[list[LineItem], list[PerformanceTarget]]:
    """Line items of any table, plus performance targets of the 绩效目标 forms."""
    if table.rule is not None and table.rule.layout == "performance" and not table.is_empty:
        return read_performance_form(table, ctx)
    return normalize_table(table, ctx), []
