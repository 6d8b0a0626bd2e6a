"""Sections (一、… 二、…) from the paragraphs: heading, level, text.

Split from ``mappings/narrative.py`` (issue 18): one responsibility per file."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from .narrative_paragraphs import (
    _CLOSING,
    _TERMINAL,
    Paragraph,
)

# --------------------------------------------------------------------------- sections

# A preamble (text under a part or title before its first numbered section) shorter than
# this is a pointer such as （详见附表）, not a section.
MIN_PREAMBLE = 20
_HEADING_END = re.compile(r"[。：:]")


def _split_heading(paragraph: Paragraph) -> tuple[str, str]:
    """A level-1 heading paragraph is ``heading`` or ``heading。body``: split it."""
    heading = paragraph.heading or ""
    match = _HEADING_END.search(heading)
    if match and (match.end() < len(heading) or len(heading) > 60):
        return heading[: match.start()], heading[match.end() :]
    return heading.rstrip("。：:；;，, "), ""


def _join_paragraphs(texts: list[str]) -> str:
    """Paragraphs of a section in one string: directly after a punctuated paragraph, with a
    space after an unpunctuated one (a sub-heading such as ``1、…情况``)."""
    out = ""
    for text in texts:
        if not text:
            continue
        if out and not out.rstrip(_CLOSING).endswith((*_TERMINAL, "：", ":", "，", ",", "、")):
            out += " "
        out += text
    return out


@dataclass(slots=True)
class _Section:
    part: str | None
    part_title: str | None
    section_no: str | None
    heading: str | None
    pages: list[int] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)


def build_sections(doc_id: str, paragraphs: list[Paragraph]) -> list[dict]:
    """``sections`` rows: one per numbered section (一、 within 第X部分 or a page title), plus
    the substantive text of a part before its first numbered section."""
    sections: list[_Section] = []
    part: str | None = None
    part_title: str | None = None
    current: _Section | None = None
    numbered: list[str] = []  # the numbers of the part's sections so far
    nested = False  # the part's numbering restarted at 一: a list inside a section

    def close() -> None:
        nonlocal current
        if current is not None:
            sections.append(current)
        current = None

    for paragraph in paragraphs:
        if paragraph.kind in ("part", "title"):
            close()
            if paragraph.kind == "part":
                part, part_title = paragraph.label, paragraph.heading
            else:
                part, part_title = None, paragraph.heading
            current = _Section(part, part_title, None, part_title, list(paragraph.pages))
            numbered, nested = [], False
        elif (
            paragraph.kind == "level1"
            and current is not None
            and (nested or paragraph.label == "一" and numbered)
        ):
            nested = True  # 一、二、… again inside 三、: the section's own list, kept in its text
            current.texts.append(paragraph.text)
            current.pages.extend(paragraph.pages)
        elif paragraph.kind == "level1":
            numbered.append(paragraph.label or "")
            close()
            heading, rest = _split_heading(paragraph)
            current = _Section(part, part_title, paragraph.label, heading, list(paragraph.pages))
            if rest:
                current.texts.append(rest)
        else:
            if current is None:
                current = _Section(part, part_title, None, part_title, [])
            current.texts.append(paragraph.text)
            current.pages.extend(paragraph.pages)
    close()
    rows: list[dict] = []
    seen: Counter[str] = Counter()
    for section in sections:
        text = _join_paragraphs(section.texts)
        if section.section_no is None and len(text) < MIN_PREAMBLE:
            continue
        if section.section_no is not None and not text:
            continue
        path = [p for p in (section.part or section.part_title, section.section_no) if p]
        section_id = "/".join(path) or "前言"
        seen[section_id] += 1
        if seen[section_id] > 1:
            section_id = f"{section_id}#{seen[section_id]}"
        rows.append(
            {
                "doc_id": doc_id,
                "section_no": section.section_no,
                "heading": section.heading,
                "text": text,
                "page_first": min(section.pages) if section.pages else None,
                "page_last": max(section.pages) if section.pages else None,
                "part": section.part,
                "part_title": section.part_title,
                "section_id": section_id,
                "seq": len(rows) + 1,
            }
        )
    return rows
