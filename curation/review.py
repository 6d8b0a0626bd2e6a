"""The review site: why a document was flagged, on its own pages, and how to record a fix.

``disclosures review [DOC_ID|PDF ...] --curated DIR --out DIR`` writes a static, offline
site (no server, no script from the network):

* ``index.html``: the documents by status (failed first, then warn, then ok) with their
  open findings;
* ``<doc_id>.html``: each table page rendered, with the detected table areas, cell grids and
  reading method drawn over it; the extracted rows beside it (code, name, measure, figure as
  printed, unit, yuan, placement, correction); each validation finding linked to the rows
  it names and their cells highlighted on the image; which template or generic rule read
  each table; the narrative facts with their sentences; and for each open finding the
  skeleton of the corrections entry that would settle it (``corrections/<sha256>.yaml``).

Images are JPEGs at 100 dpi under ``img/<sha256 prefix>/``, named by the PDF's bytes and the
resolution, so a second run reuses them.
"""

from __future__ import annotations

import datetime as dt
import html
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from budget_disclosures.extractors.base import GridCell, RawGrid
from budget_disclosures.extractors.page_grids import (
    DEFAULT_REVIEW_DPI,
    ReviewPage,
    read_review_pages,
    render_page,
)
from budget_disclosures.mappings.text import fold_width

from . import store

STATUS_ORDER = {"failed": 0, "warn": 1, "ok": 2}
METHOD_COLOURS = {"ruled": "#1f6fd1", "aligned": "#1a9a48", "camelot": "#8e44ad", "ocr": "#b3541e"}
DATASETS = ("documents", "tables", "line_items", "validations", "facts", "corrections")
ITEM_COLUMNS = ("table_no", "code", "name", "measure", "amount_printed", "unit_printed")


@dataclass
class Finding:
    """An open (failing, not accepted) or accepted validation finding of one document."""

    number: int
    row: dict
    items: list[int] = field(default_factory=list)  # indexes into the document's items


@dataclass
class SiteReport:
    """What a run wrote: documents, pages rendered (and reused), seconds, bytes."""

    out: Path
    documents: int = 0
    pages: int = 0
    rendered: int = 0
    seconds: float = 0.0
    bytes: int = 0
    missing_pdfs: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- reading


def read_curated(curated: Path) -> dict[str, pd.DataFrame]:
    """The datasets the site shows (an absent one is empty)."""
    frames = {}
    for name in DATASETS:
        folder = store.dataset_dir(curated, name)
        files = sorted(folder.glob("*.parquet")) if folder.is_dir() else []
        frames[name] = (
            pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
            if files
            else pd.DataFrame()
        )
    return frames


def select_documents(documents: pd.DataFrame, targets: Sequence[str]) -> tuple[list[dict], dict]:
    """Documents rows named by doc id, SHA-256 or PDF path (all without targets); and the
    PDFs given as paths, by doc id (they win over the stored source path)."""
    rows = _records(documents)
    if not targets:
        return rows, {}
    chosen, pdfs = [], {}
    for target in targets:
        path = Path(target)
        if path.suffix.lower() == ".pdf" and path.exists():
            from budget_disclosures.extractors.document import identify_file

            identity = identify_file(path)
            match = [r for r in rows if r["sha256"] == identity.sha256]
            pdfs.update({r["doc_id"]: path for r in match})
        else:
            match = [r for r in rows if target in (r["doc_id"], r["sha256"])]
        if not match:
            raise LookupError(f"no curated document for {target}")
        chosen += [r for r in match if r not in chosen]
    return chosen, pdfs


def open_findings(validations: pd.DataFrame) -> list[dict]:
    """Failing checks, open ones first (errors, then warnings), accepted ones last."""
    if validations.empty:
        return []
    failing = _records(validations[~validations["success"].astype(bool)])
    return sorted(
        failing,
        key=lambda r: (bool(r.get("accepted")), r["severity"] != "error", r["check"]),
    )


def linked_items(finding: dict, items: list[dict]) -> list[int]:
    """The rows a finding's text names: ``表N`` with the row's code (a whole number, not the
    prefix of a longer one) or its name; where the text names the measure after the name
    (``“三公”经费合计 amount``), only that measure's rows (the detail names its first three
    failing instances)."""
    detail = finding.get("detail") or ""
    named = []
    for index, item in enumerate(items):
        if f"表{item['table_no']} " not in detail:
            continue
        code, name = item.get("code") or "", item.get("name") or ""
        if (code and re.search(rf"(?<!\d){re.escape(code)}(?!\d)", detail)) or (
            name and f" {name}" in detail
        ):
            named.append(index)
    exact = [i for i in named if f"{items[i].get('name')} {items[i]['measure']}" in detail]
    return exact or named


# --------------------------------------------------------------------------- geometry


def _method_class(method: str) -> str:
    if method.startswith("camelot"):
        return "camelot"
    if method.startswith("ocr"):
        return "ocr"
    return "aligned" if method.endswith("-aligned") else "ruled"


def _norm(text: str | None) -> str:
    """Compared without spaces, line breaks or full-width forms."""
    return re.sub(r"\s+", "", fold_width(text or ""))


def _row_names(row: list[GridCell], item: dict) -> bool:
    """The grid row is the item's: a cell prints its code (alone, or before its name), else
    its row label, else the start of its name."""
    texts = [_norm(cell.text) for cell in row]
    code = _norm(item.get("code"))
    if code:
        return any(t.startswith(code) and not t[len(code) : len(code) + 1].isdigit() for t in texts)
    label, name = _norm(item.get("row_label")), _norm(item.get("name"))[:6]
    if label and label in texts:
        return True
    return bool(name) and any(name in t for t in texts)


def _under(grid: RawGrid, row_index: int, cell: GridCell, segments: list[str]) -> bool:
    """The header cells above ``cell`` name the item's column path, in order."""
    path = "/".join(
        _norm(above.text)
        for row in grid.rows[:row_index]
        for above in row
        if above.col0 <= cell.col0 <= above.col1 and above.text.strip()
    )
    position = 0
    for segment in segments:
        found = path.find(segment, position)
        if found < 0:
            return False
        position = found + len(segment)
    return True


def item_cells(grids: Iterable[RawGrid], item: dict) -> list[GridCell]:
    """The cells printing the item's figure on its row; where the row prints the same figure
    in several columns, the one under the item's header path (``本年预算/合计``)."""
    figure = _norm(item.get("amount_printed"))
    segments = [_norm(part) for part in (item.get("column") or "").split("/") if part.strip()]
    out: list[GridCell] = []
    for grid in grids:
        for index, row in enumerate(grid.rows):
            if not figure or not _row_names(row, item):
                continue
            hits = [cell for cell in row if _norm(cell.text) == figure]
            if len(hits) > 1 and segments:
                hits = [cell for cell in hits if _under(grid, index, cell, segments)] or hits
            out += hits
    return out


# --------------------------------------------------------------------------- HTML


def _e(value) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    return html.escape(str(value))


def _rect(x0: float, top: float, x1: float, bottom: float, css: str, extra: str = "") -> str:
    return (
        f'<rect x="{x0:.1f}" y="{top:.1f}" width="{max(x1 - x0, 0.5):.1f}" '
        f'height="{max(bottom - top, 0.5):.1f}" class="{css}"{extra}/>'
    )


def overlay_svg(page: ReviewPage, highlights: dict[int, list[GridCell]]) -> str:
    """The grids over the page image: table area by method, cells, finding highlights."""
    parts = [f'<svg viewBox="0 0 {page.width:.1f} {page.height:.1f}" class="overlay">']
    if page.to_page is not None:  # (an OCR'd page's grids are in the levelled page's frame)
        parts.append(f'<g transform="matrix({" ".join(f"{v:.5g}" for v in page.to_page)})">')
    for grid in page.grids:
        kind = _method_class(grid.method)
        for row in grid.rows:
            for cell in row:
                parts.append(_rect(cell.x0, cell.top, cell.x1, cell.bottom, f"cell {kind}"))
        x0, top, x1, bottom = grid.bbox
        parts.append(_rect(x0, top, x1, bottom, f"table {kind}"))
        parts.append(
            f'<text x="{x0 + 2:.1f}" y="{max(top - 3, 8):.1f}" class="label {kind}">'
            f"{_e(grid.method)}</text>"
        )
    for number, cells in highlights.items():
        for cell in cells:
            parts.append(
                _rect(
                    cell.x0,
                    cell.top,
                    cell.x1,
                    cell.bottom,
                    f"hit finding-{number}",
                    f' data-finding="{number}"',
                )
            )
    if page.to_page is not None:
        parts.append("</g>")
    parts.append("</svg>")
    return "".join(parts)


def suggestion(document: dict, finding: dict, items: list[dict], linked: list[int]) -> str:
    """The corrections entries that would settle a finding: accept it, or correct a cell."""
    today = dt.date.today().isoformat()
    table = finding.get("table_no")
    lines = [
        f"# corrections/{document['sha256']}.yaml",
        f"document: {document['sha256']}",
        f"file: {document.get('source_name') or ''}",
        "corrections:",
        "  - fix: accept            # the PDF itself is inconsistent",
        f"    check: {finding['check']}",
    ]
    if table:
        lines.append(f'    table: "{table}"')
    lines += ["    reason: <why>", "    by: <you>", f"    at: {today}"]
    for index in linked[:1]:
        item = items[index]
        key = f'{{code: "{item["code"]}"}}' if item.get("code") else f"{{name: {item.get('name')}}}"
        lines += [
            "  - fix: cell              # or: the figure was misread",
            f'    table: "{item["table_no"]}"',
            f"    row: {key}",
            f"    measure: {item['measure']}",
            f'    printed: "{item.get("amount_printed") or ""}"   # the figure as printed',
            "    reason: <why>",
            "    by: <you>",
            f"    at: {today}",
        ]
    return "\n".join(lines) + "\n"


CSS = """
body{font:14px/1.45 system-ui,"Noto Sans CJK SC","WenQuanYi Zen Hei",sans-serif;margin:0;color:#222}
header{background:#24313f;color:#fff;padding:10px 18px}header a{color:#cfe3ff}
main{padding:12px 18px}h2{margin:22px 0 8px;border-bottom:1px solid #ddd}
table.rows{border-collapse:collapse;font-size:12px}table.rows td,table.rows th{border:1px solid #ddd;padding:2px 6px}
table.rows td.n{text-align:right;font-variant-numeric:tabular-nums}
.status-failed{color:#b00020;font-weight:600}.status-warn{color:#a66a00;font-weight:600}.status-ok{color:#18794e}
.page{display:flex;gap:16px;align-items:flex-start;margin:12px 0 28px}
.sheet{position:relative;flex:0 0 auto;width:760px;border:1px solid #bbb}
.sheet img{display:block;width:100%}.overlay{position:absolute;left:0;top:0;width:100%;height:100%}
.overlay .table{fill:none;stroke-width:1.6}.overlay .cell{fill:none;stroke-width:.35;opacity:.7}
.overlay .ruled{stroke:#1f6fd1;fill-opacity:0}.overlay .aligned{stroke:#1a9a48}
.overlay .camelot{stroke:#8e44ad}.overlay .ocr{stroke:#b3541e}
.overlay text.label{font-size:7px;stroke:none}.overlay text.ruled{fill:#1f6fd1}.overlay text.aligned{fill:#1a9a48}
.overlay text.camelot{fill:#8e44ad}.overlay text.ocr{fill:#b3541e}
.overlay .hit{fill:#ff5a00;fill-opacity:.35;stroke:#e00000;stroke-width:1.2}
.side{flex:1 1 auto;max-height:980px;overflow:auto}
.finding{border-left:4px solid #e00000;background:#fff4f0;padding:6px 10px;margin:8px 0}
.finding.warn{border-color:#d89000;background:#fffaf0}.finding.accepted{border-color:#888;background:#f4f4f4}
.finding:target{outline:3px solid #ff5a00}tr.linked{background:#ffe3d6}tr:target{outline:2px solid #ff5a00}
pre{background:#f6f8fa;padding:8px;overflow:auto;font-size:12px}
.legend span{display:inline-block;margin-right:14px}.swatch{display:inline-block;width:18px;height:10px;border:2px solid;margin-right:4px;vertical-align:middle}
"""


def _page(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="zh"><head><meta charset="utf-8">'
        f"<title>{_e(title)}</title><style>{CSS}</style></head><body>{body}</body></html>\n"
    )


def index_html(documents: list[dict], findings: dict[str, list[dict]]) -> str:
    ordered = sorted(
        documents,
        key=lambda d: (STATUS_ORDER.get(d.get("status") or "ok", 3), d.get("source_name") or ""),
    )
    rows = []
    for doc in ordered:
        items = [f for f in findings.get(doc["doc_id"], []) if not f.get("accepted")]
        shown = "<br>".join(
            f'<span class="status-{"failed" if f["severity"] == "error" else "warn"}">'
            f"{_e(f['check'])}</span> {_e((f.get('detail') or '')[:140])}"
            for f in items[:4]
        )
        more = f"<br>… {len(items) - 4} more" if len(items) > 4 else ""
        status = doc.get("status") or ""
        rows.append(
            f'<tr><td class="status-{_e(status)}">{_e(status)}</td>'
            f'<td><a href="{_e(doc["doc_id"])}.html">{_e(doc.get("source_name"))}</a></td>'
            f"<td>{_e(doc.get('unit_name'))}</td><td>{_e(doc.get('fiscal_year'))}</td>"
            f"<td>{_e(doc.get('template'))}</td><td>{_e(doc.get('reason'))}<br>{shown}{more}</td></tr>"
        )
    counts = {s: sum(1 for d in documents if d.get("status") == s) for s in STATUS_ORDER}
    body = (
        f"<header><b>budget-disclosures review</b> — {len(documents)} documents: "
        f"{counts['failed']} failed, {counts['warn']} warn, {counts['ok']} ok</header><main>"
        '<table class="rows"><tr><th>status</th><th>file</th><th>unit</th><th>year</th>'
        f"<th>template</th><th>reason and open findings</th></tr>{''.join(rows)}</table></main>"
    )
    return _page("review", body)


def _rows_table(items: list[dict], indexes: list[int], linked: dict[int, list[int]]) -> str:
    head = (
        "<tr><th>表</th><th>code</th><th>name</th><th>measure</th><th>printed</th><th>unit</th>"
        "<th>yuan</th><th>placement</th><th>corrected from</th><th>findings</th></tr>"
    )
    body = []
    for index in indexes:
        item = items[index]
        marks = " ".join(f'<a href="#finding-{n}">#{n}</a>' for n in linked.get(index, []))
        css = ' class="linked"' if marks else ""
        body.append(
            f'<tr id="item-{index}"{css}><td>{_e(item["table_no"])}</td><td>{_e(item.get("code"))}</td>'
            f"<td>{_e(item.get('name'))}</td><td>{_e(item.get('measure'))}</td>"
            f'<td class="n">{_e(item.get("amount_printed"))}</td><td>{_e(item.get("unit_printed"))}</td>'
            f'<td class="n">{_e(item.get("amount_yuan"))}</td><td>{_e(item.get("placement"))}</td>'
            f"<td>{_e(item.get('corrected_from'))}</td><td>{marks}</td></tr>"
        )
    return f'<table class="rows">{head}{"".join(body)}</table>'


def _finding_html(document: dict, finding: Finding, items: list[dict]) -> str:
    row = finding.row
    css = "accepted" if row.get("accepted") else ("error" if row["severity"] == "error" else "warn")
    rows = ", ".join(
        f'<a href="#item-{i}">表{_e(items[i]["table_no"])} {_e(items[i].get("code") or items[i].get("name"))}'
        f" {_e(items[i]['measure'])}</a>"
        for i in finding.items[:12]
    )
    accepted = (
        f"<br><i>accepted: {_e(row.get('accepted_reason'))}</i>" if row.get("accepted") else ""
    )
    skeleton = (
        ""
        if row.get("accepted")
        else "<details><summary>record a decision (corrections YAML)</summary><pre>"
        f"{_e(suggestion(document, row, items, finding.items))}</pre></details>"
    )
    return (
        f'<div class="finding {css}" id="finding-{finding.number}"><b>#{finding.number} '
        f"{_e(row['check'])}</b> ({_e(row['severity'])}, 表{_e(row.get('table_no'))}) "
        f"{_e(row.get('detail'))}{accepted}<br>rows: {rows or '—'}{skeleton}</div>"
    )


# --------------------------------------------------------------------------- one document


def document_html(
    document: dict,
    frames: dict[str, pd.DataFrame],
    pages: dict[int, ReviewPage],
    images: dict[int, str],
) -> str:
    doc_id = document["doc_id"]

    items, tables = _of(frames["line_items"], doc_id), _of(frames["tables"], doc_id)
    facts, failing = _of(frames["facts"], doc_id), open_findings(_frame_of(frames, doc_id))
    findings = [Finding(n, row, linked_items(row, items)) for n, row in enumerate(failing, 1)]
    by_item: dict[int, list[int]] = {}
    for finding in findings:
        for index in finding.items:
            by_item.setdefault(index, []).append(finding.number)
    template = document.get("template") or "generic lexicon (no template)"
    parts = [
        f'<header><a href="index.html">← all documents</a> · <b>{_e(document.get("source_name"))}</b> '
        f"· {_e(document.get('unit_name'))} {_e(document.get('fiscal_year'))} · "
        f'<span class="status-{_e(document.get("status"))}">{_e(document.get("status"))}</span> '
        f"{_e(document.get('reason'))}</header><main>",
        f"<p>doc_id <code>{_e(doc_id)}</code> · SHA-256 <code>{_e(document.get('sha256'))}</code> "
        f"· read by <b>{_e(template)}</b> · {_e(document.get('pages'))} pages · pipeline "
        f"{_e(document.get('pipeline_version'))}</p>",
        '<p class="legend">grid drawn by: '
        + "".join(
            f'<span><i class="swatch" style="border-color:{colour}"></i>{name}</span>'
            for name, colour in METHOD_COLOURS.items()
        )
        + '<span><i class="swatch" style="border-color:#e00000;background:#ff5a0060"></i>'
        "cells a finding names</span></p>",
        f"<h2>Findings ({len(findings)})</h2>",
        "".join(_finding_html(document, f, items) for f in findings) or "<p>None.</p>",
        "<h2>Tables</h2>",
    ]
    for table in sorted(tables, key=lambda t: (t.get("page_first") or 0, t["table_no"])):
        first, last = table.get("page_first"), table.get("page_last")
        numbers = range(int(first), int(last) + 1) if first and last else []
        indexes = [i for i, item in enumerate(items) if item["table_no"] == table["table_no"]]
        parts.append(
            f"<h3>表{_e(table['table_no'])} {_e(table.get('title'))}</h3><p>kind "
            f"<b>{_e(table.get('kind'))}</b> · read by {_e(template)} · method "
            f"{_e(table.get('method'))} · pages {_e(first)}–{_e(last)} · unit "
            f"{_e(table.get('unit_printed'))} · {len(indexes)} line items"
            f"{' · empty form' if table.get('is_empty') else ''}</p>"
        )
        for number in numbers:
            page = pages.get(number)
            on_page = [i for i in indexes if items[i].get("page") == number] or (
                indexes if len(numbers) == 1 else []
            )
            highlights = {
                f.number: [
                    cell
                    for i in f.items
                    if items[i].get("page") == number
                    for cell in item_cells(page.grids, items[i])
                ]
                for f in findings
                if page is not None
            }
            sheet = (
                f'<div class="sheet"><img src="{_e(images[number])}" alt="page {number}">'
                f"{overlay_svg(page, highlights)}</div>"
                if page is not None and number in images
                else "<p><i>page image unavailable (the PDF is not where it was ingested; pass "
                "its path)</i></p>"
            )
            parts.append(
                f'<div class="page" id="page-{number}">{sheet}<div class="side"><b>page {number}</b>'
                f"{_rows_table(items, on_page, by_item)}</div></div>"
            )
    parts.append(f"<h2>Narrative facts ({len(facts)})</h2>")
    parts.append(
        '<table class="rows"><tr><th>fact</th><th>value</th><th>unit</th><th>page</th><th>sentence</th></tr>'
        + "".join(
            f"<tr><td>{_e(f['fact'])}</td><td class='n'>{_e(f.get('value'))}</td><td>{_e(f.get('unit'))}</td>"
            f"<td>{_e(f.get('page'))}</td><td>{_e(f.get('sentence'))}</td></tr>"
            for f in facts
        )
        + "</table></main>"
    )
    return _page(f"review {document.get('source_name')}", "".join(parts))


def _records(frame: pd.DataFrame) -> list[dict]:
    """Rows as dicts, with None (not NaN) where a value is missing."""
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


def _of(frame: pd.DataFrame, doc_id: str) -> list[dict]:
    """A dataset's rows of one document."""
    return _records(frame[frame["doc_id"] == doc_id]) if not frame.empty else []


def _frame_of(frames: dict[str, pd.DataFrame], doc_id: str) -> pd.DataFrame:
    """The document's validations rows as a frame."""
    validations = frames["validations"]
    return validations[validations["doc_id"] == doc_id] if not validations.empty else validations


def _table_pages(tables: pd.DataFrame, doc_id: str) -> list[int]:
    if tables.empty:
        return []
    mine = tables[tables["doc_id"] == doc_id]
    numbers: set[int] = set()
    for first, last in zip(mine["page_first"], mine["page_last"], strict=True):
        if pd.notna(first) and pd.notna(last):
            numbers.update(range(int(first), int(last) + 1))
    return sorted(numbers)


def build_site(
    curated: Path,
    out: Path,
    targets: Sequence[str] = (),
    dpi: int = DEFAULT_REVIEW_DPI,
) -> SiteReport:
    """Write the review site for the chosen documents (all by default) into ``out``."""
    started = time.perf_counter()
    frames = read_curated(curated)
    if frames["documents"].empty:
        raise LookupError(f"no curated documents in {curated}")
    documents, given = select_documents(frames["documents"], targets)
    out.mkdir(parents=True, exist_ok=True)
    report = SiteReport(out)
    findings_by_doc: dict[str, list[dict]] = {}
    for document in documents:
        doc_id = document["doc_id"]
        findings_by_doc[doc_id] = open_findings(_frame_of(frames, doc_id))
        pdf = given.get(doc_id) or Path(document.get("source_path") or "")
        numbers = _table_pages(frames["tables"], doc_id)
        pages: dict[int, ReviewPage] = {}
        images: dict[int, str] = {}
        if pdf.is_file() and numbers:
            pages = read_review_pages(pdf, numbers)
            for number in pages:
                name = f"img/{document['sha256'][:16]}/p{number:04d}-{dpi}dpi.jpg"
                target = out / name
                report.rendered += not target.exists()
                render_page(pdf, number, target, dpi)
                images[number] = name
        elif numbers:
            report.missing_pdfs.append(document.get("source_name") or doc_id)
        report.pages += len(images)
        _write(out / f"{doc_id}.html", document_html(document, frames, pages, images))
        report.documents += 1
    _write(out / "index.html", index_html(documents, findings_by_doc))
    report.seconds = round(time.perf_counter() - started, 2)
    report.bytes = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    return report


def suggestions(curated: Path, targets: Sequence[str] = ()) -> str:
    """The corrections skeletons of every open finding of the chosen documents (YAML)."""
    frames = read_curated(curated)
    documents, _ = select_documents(frames["documents"], targets)
    chunks = []
    for document in documents:
        doc_id = document["doc_id"]
        items = _of(frames["line_items"], doc_id)
        for finding in open_findings(_frame_of(frames, doc_id)):
            if not finding.get("accepted"):
                chunks.append(suggestion(document, finding, items, linked_items(finding, items)))
    return "\n".join(chunks)


def _write(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)
