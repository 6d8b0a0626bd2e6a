"""Choosing the extraction per table: a second extractor only where the first one fails.

The primary grid reader is fast and right on well-formed tables; when a table's own
arithmetic does not hold on what it read, camelot (lattice, then stream) reads the same pages,
each candidate is mapped and scored (``mappings.scoring``) and the best is kept. The chosen
extractor is recorded in ``tables.method``; a tie keeps the primary reading. The readers are
listed in ``extractors/registry.py``; choosing between their readings by how they map is a
mapping decision, so it lives here.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

from budget_disclosures.extractors.base import RawGrid
from budget_disclosures.extractors.registry import FALLBACK_TABLE_READERS

from .engine import map_table
from .identify import TableInstance
from .normalize import Context, LineItem
from .scoring import TableScore, score_items

log = logging.getLogger(__name__)
CANDIDATE_LAYOUTS = frozenset({"coded_rows", "unit_rows", "side_by_side", "project_rows"})
CANDIDATES = FALLBACK_TABLE_READERS  # (extractors/registry.py)


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    width = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    height = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    area = (a[2] - a[0]) * (a[3] - a[1]) or 1.0
    return width * height / area


def _matching_grids(primary: list[RawGrid], found: list[RawGrid]) -> list[RawGrid] | None:
    """The candidate grid that covers each primary grid (same page, overlapping boxes)."""
    out = []
    for grid in primary:
        best = max(
            (g for g in found if g.page == grid.page),
            key=lambda g: _overlap(grid.bbox, g.bbox),
            default=None,
        )
        if best is None or _overlap(grid.bbox, best.bbox) < 0.5:
            return None
        out.append(dataclasses.replace(best, lines_above=grid.lines_above))
    return out


def choose_extraction(
    path: Path, table: TableInstance, ctx: Context, page_heights: dict[int, float]
) -> tuple[list[LineItem], list, TableInstance]:
    """Map the table as read; if its arithmetic fails, try the candidates and keep the best."""
    items, targets = map_table(table, ctx)
    if table.rule is None or table.rule.layout not in CANDIDATE_LAYOUTS or table.is_empty:
        return items, targets, table
    best = (score_items(items), items, targets, table)
    if best[0].perfect or not items:
        return items, targets, table
    for candidate in CANDIDATES:
        grids = _matching_grids(
            table.grids, candidate.extract_pages(str(path), table.pages, page_heights)
        )
        if not grids:
            continue
        alternative = dataclasses.replace(table, grids=grids)
        alt_items, alt_targets = map_table(alternative, ctx)
        score = score_items(alt_items)
        log.info(
            "table %s: %s scores %s (primary %s)", table.table_no, candidate.name, score, best[0]
        )
        if _better(score, best[0]):
            best = (score, alt_items, alt_targets, alternative)
        if best[0].perfect:
            break
    return best[1], best[2], best[3]


def _better(candidate: TableScore, incumbent: TableScore) -> bool:
    """A candidate wins only with more relations holding, no fewer checked and no fewer figures
    (a reading that loses the codes makes relations uncheckable; that is not an improvement)."""
    return (
        candidate.n_relations >= incumbent.n_relations
        and candidate.n_items >= incumbent.n_items
        and candidate.relations_held > incumbent.relations_held
    )
