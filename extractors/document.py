"""Open a PDF safely and read each page once into :class:`PageContent` records.

Bad input is normal input here: a file that is not a PDF, is truncated, encrypted or empty
raises :class:`DocumentError` with a one-line reason that the run summary shows as is.
"""

from __future__ import annotations

import bisect
import hashlib
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .base import Char, PageContent, Rule, TextLayer, TextLine

log = logging.getLogger(__name__)

# Rules shorter than this are glyph strokes or tick marks, not table borders.
MIN_RULE_LENGTH = 4.0
# Segments closer than this are one rule (office suites draw borders as thin filled rects).
RULE_MERGE_TOLERANCE = 1.5
_PUA = re.compile(r"[\ue000-\uf8ff]")


class DocumentError(Exception):
    """A document that cannot be read; ``str(error)`` is the one-line reason for the summary."""


@dataclass(frozen=True, slots=True)
class FileIdentity:
    sha256: str
    size: int

    @property
    def doc_id(self) -> str:
        return self.sha256[:16]


def identify_file(path: Path) -> FileIdentity:
    """SHA-256 of the file's bytes (read in blocks; the file is never modified)."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
            size += len(block)
    return FileIdentity(digest.hexdigest(), size)


def check_pdf_header(path: Path) -> None:
    """Reject files that are obviously not PDFs before a parser sees them."""
    size = path.stat().st_size
    if size == 0:
        raise DocumentError("empty file (0 bytes)")
    with path.open("rb") as handle:
        head = handle.read(1024)
    if b"%PDF-" not in head:
        raise DocumentError("not a PDF (no %PDF- header)")


def open_pdf(path: Path):  # -> pdfplumber.PDF
    """Open with pdfplumber, turning parser failures into :class:`DocumentError`."""
    import pdfplumber

    check_pdf_header(path)
    try:
        pdf = pdfplumber.open(path)
        n_pages = len(pdf.pages)
    except Exception as error:  # pdfplumber wraps pdfminer's error in PdfminerException.args[0]
        raise DocumentError(describe_open_error(error)) from error
    if n_pages == 0:
        pdf.close()
        raise DocumentError("PDF has no pages")
    return pdf


def describe_open_error(error: Exception) -> str:
    """A one-line reason for a PDF that pdfplumber/pdfminer cannot open."""
    cause = error.args[0] if error.args and isinstance(error.args[0], Exception) else error
    name = type(cause).__name__
    if "Password" in name or "Encrypt" in name:
        return f"encrypted PDF (password required: {name})"
    if name in {"PSEOF", "PSEOFError"} or "EOF" in str(cause):
        return "truncated or damaged PDF (unexpected end of file)"
    message = str(cause).strip() or name
    if "No /Root" in message:
        return "broken PDF: no document catalogue (/Root); is it really a PDF?"
    return f"unreadable PDF ({name}: {message})"


def _merge_rules(rules: list[Rule]) -> list[Rule]:
    """Merge overlapping collinear segments into single rules."""
    merged: list[Rule] = []
    for orientation in ("h", "v"):
        subset = sorted(
            (r for r in rules if r.orientation == orientation), key=lambda r: (r.pos, r.start)
        )
        groups: list[list[Rule]] = []
        for rule in subset:
            if groups and abs(groups[-1][0].pos - rule.pos) <= RULE_MERGE_TOLERANCE:
                groups[-1].append(rule)
            else:
                groups.append([rule])
        for group in groups:
            pos = sum(r.pos for r in group) / len(group)
            spans = sorted((r.start, r.end) for r in group)
            cur_start, cur_end = spans[0]
            for start, end in spans[1:]:
                if start <= cur_end + RULE_MERGE_TOLERANCE:
                    cur_end = max(cur_end, end)
                else:
                    merged.append(Rule(orientation, pos, cur_start, cur_end))
                    cur_start, cur_end = start, end
            merged.append(Rule(orientation, pos, cur_start, cur_end))
    return merged


def read_rules(page) -> list[Rule]:
    """Ruled lines of a pdfplumber page: line objects and the edges of thin rectangles."""
    rules: list[Rule] = []
    for edge in page.edges:
        if edge["orientation"] == "h":
            length = edge["x1"] - edge["x0"]
            if length >= MIN_RULE_LENGTH:
                rules.append(Rule("h", float(edge["top"]), float(edge["x0"]), float(edge["x1"])))
        else:
            length = edge["bottom"] - edge["top"]
            if length >= MIN_RULE_LENGTH:
                rules.append(
                    Rule("v", float(edge["x0"]), float(edge["top"]), float(edge["bottom"]))
                )
    return _merge_rules(rules)


def group_lines(
    chars: list[Char], y_tolerance: float = 2.5, split_gap: float = 2.5
) -> list[TextLine]:
    """Group characters into text lines, with a space where the gap between glyphs is wide;
    a gap wider than ``split_gap`` font sizes starts a separate line on the same baseline."""
    if not chars:
        return []
    ordered = sorted(chars, key=lambda c: (round(c.top), c.x0))
    rows: list[list[Char]] = []
    for char in sorted(ordered, key=lambda c: c.yc):
        if rows and abs(rows[-1][-1].yc - char.yc) <= y_tolerance:
            rows[-1].append(char)
        else:
            rows.append([char])
    lines: list[TextLine] = []
    for row in rows:
        row.sort(key=lambda c: c.x0)
        lines.extend(_split_row(row, split_gap))
    lines.sort(key=lambda line: (round(line.top), line.x0))
    return lines


def _split_row(row: list[Char], split_gap: float = 2.5) -> list[TextLine]:
    """One baseline may hold several separate phrases; join glyphs, spacing wide gaps."""
    parts: list[str] = []
    out: list[TextLine] = []
    lefts = [c.x0 for c in row]  # (the row is in x order)
    start = row[0]
    prev = row[0]
    parts.append(row[0].text)
    for char in row[1:]:
        gap = char.x0 - prev.x1
        size = max(prev.size, char.size, 1.0)
        if gap > size * split_gap:
            out.append(_line(parts, start, prev, row, lefts))
            parts, start = [char.text], char
        else:
            if gap > size * 0.3:
                parts.append(" ")
            parts.append(char.text)
        prev = char
    out.append(_line(parts, start, prev, row, lefts))
    return out


def _line(
    parts: list[str], first: Char, last: Char, row: list[Char], lefts: list[float]
) -> TextLine:
    """The line of the glyphs from ``first`` to ``last``: found by bisection in the row's
    x order (a scan of the whole row per phrase made long table rows quadratic)."""
    members = row[bisect.bisect_left(lefts, first.x0) : bisect.bisect_right(lefts, last.x0)]
    return TextLine(
        "".join(parts).strip(),
        first.x0,
        last.x1,
        min(c.top for c in members),
        max(c.bottom for c in members),
        max(c.size for c in members),
    )


def classify_text_layer(chars: list[Char], raw_text_sample: str, n_images: int) -> TextLayer:
    """``text`` when the page has usable text, ``scanned`` when it is an image only,
    ``garbled`` when the text layer exists but is unmapped glyphs (``(cid:123)``, private use)."""
    if len(chars) < 5:
        return "scanned" if n_images else "text"
    bad = raw_text_sample.count("(cid:") + len(_PUA.findall(raw_text_sample))
    if bad / max(len(chars), 1) > 0.2:
        return "garbled"
    return "text"


def read_page(page) -> PageContent:
    """Read one pdfplumber page into a :class:`PageContent` and free its caches."""
    chars = [
        Char(
            c["text"],
            float(c["x0"]),
            float(c["x1"]),
            float(c["top"]),
            float(c["bottom"]),
            float(c.get("size", 0.0)),
            bool(c.get("upright", True)),
        )
        for c in page.chars
        if c["text"].strip()
    ]
    n_images = len(page.images)
    sample = "".join(c.text for c in chars[:2000])
    layer = classify_text_layer(chars, sample, n_images)
    rules = read_rules(page)
    content = PageContent(
        number=page.page_number,
        width=float(page.width),
        height=float(page.height),
        chars=chars,
        rules=rules,
        lines=group_lines(chars),
        text_layer=layer,
        n_images=n_images,
    )
    page.close()
    return content


def iter_pages(pdf) -> Iterator[PageContent]:
    """Yield pages one at a time so memory stays flat on long documents."""
    for page in pdf.pages:
        try:
            yield read_page(page)
        except Exception as error:  # a damaged page is reported, the rest goes on
            log.warning("page %s unreadable: %s", page.page_number, error)
            yield PageContent(
                page.page_number, float(page.width), float(page.height), [], [], [], "scanned"
            )
