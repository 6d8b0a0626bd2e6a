"""The narrative of a disclosure: clean sections, the figures it states, and cross-checks.

Every disclosure opens with pages of prose (duties, internal bodies, the year's tasks,
staffing, an explanation of each figure, 三公经费, vehicles, performance targets).  The PDF
text arrives broken: lines cut at every line end, page numbers and running headers inside
paragraphs, paragraphs cut across pages, punctuation printed on its own baseline, text drawn
twice, headings numbered 一、 / （一） / 1. in several styles.  This module repairs it in
three steps, each a plain function of plain records:

1. :func:`narrative_page_lines` — per page, from the page's characters and the grids found
   on it: text lines of the prose only (characters inside table grids, off the page or
   drawn twice are dropped; punctuation printed off the baseline rejoins its line; table
   captions above a grid go too).  Table pages give no lines.
2. :func:`read_paragraphs` — over the pages of one document: table-of-contents pages,
   page numbers, running headers/footers and layout-glitch duplicates removed; broken lines
   joined back into paragraphs (Chinese joins without a space, Latin words with one),
   also across page breaks.
3. :func:`build_sections` — the paragraphs split at the heading hierarchy (第一部分 →
   一、 → （一）/1、 kept in the text) into ``sections`` rows; :func:`extract_facts` reads
   the stated figures into ``facts`` rows by the patterns of ``mappings/facts.yml``;
   :func:`cross_check_totals` (``validation/fact_checks.py``) compares stated totals with the
   tables' ``line_items``.

This module is the document reader; its parts live in ``narrative_lines``, ``narrative_paragraphs``,
``narrative_sections`` and ``narrative_facts`` (the cross-checks in ``validation/fact_checks.py``)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from budget_disclosures.extractors.base import PageContent

from .narrative_facts import (
    extract_facts,
)
from .narrative_paragraphs import (
    NarrativePage,
    Paragraph,
    read_paragraphs,
)
from .narrative_sections import (
    build_sections,
)

# --------------------------------------------------------------------------- document


@dataclass(slots=True)
class Narrative:
    """What the narrative of one document gives: its paragraphs, sections and facts."""

    paragraphs: list[Paragraph]
    sections: list[dict]
    facts: list[dict]


def read_narrative(
    doc_id: str, pages: Iterable[PageContent | NarrativePage], table_pages: Iterable[int] = ()
) -> Narrative:
    """Sections and facts of one document from its pages' narrative lines (the ``lines`` of
    pages made by :func:`narrative_page_lines`); ``table_pages`` are skipped."""
    narrative = [
        p
        if isinstance(p, NarrativePage)
        else NarrativePage(p.number, p.width, p.height, list(p.lines))
        for p in pages
    ]
    paragraphs = read_paragraphs(narrative, table_pages)
    return Narrative(
        paragraphs, build_sections(doc_id, paragraphs), extract_facts(doc_id, paragraphs)
    )
