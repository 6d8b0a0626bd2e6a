"""One document end to end, as plain Python (no Prefect): the library-level wiring.

raw PDF → extractors (pages, grids) → mappings (identify, normalise) → datasets (Parquet).
The Prefect flow calls :func:`ingest_document` once per document; tests and notebooks can
call it directly.
"""

from __future__ import annotations

import logging
import time
import traceback
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from budget_disclosures.curation import store
from budget_disclosures.curation.document_index import source_index, source_key
from budget_disclosures.extractors.base import PageContent
from budget_disclosures.extractors.document import (
    DocumentError,
    identify_file,
)
from budget_disclosures.extractors.grid import RuledGridExtractor
from budget_disclosures.extractors.limits import MEMORY_LIMIT_ENV, memory_limit_mb
from budget_disclosures.extractors.ocr import DocumentOcr
from budget_disclosures.extractors.ocr_review import review_items
from budget_disclosures.extractors.registry import page_reader
from budget_disclosures.flows.discover import discover_pdfs  # noqa: F401  (re-exported: serve, tests)
from budget_disclosures.flows.summary import (  # noqa: F401  (re-exported)
    PACKAGE_VERSION,
    DocumentSummary,
    pipeline_version,
)
from budget_disclosures.mappings.candidates import choose_extraction
from budget_disclosures.mappings.corrections import (
    CorrectionsError,
    CorrectionsFile,
    accept_findings,
    apply_corrections,
    corrections_digest,
    load_corrections,
    unmatched_reason,
)
from budget_disclosures.mappings.coverage import is_zero_form, no_data_reason
from budget_disclosures.mappings.identify import (
    PageTables,
    TableInstance,
    choose_template,
    printed_heading,
)
from budget_disclosures.mappings.loader import (
    default_templates,
    generic_template,
    templates_enabled,
)
from budget_disclosures.mappings.metadata import read_metadata
from budget_disclosures.mappings.narrative import read_narrative
from budget_disclosures.mappings.narrative_lines import narrative_page_lines
from budget_disclosures.mappings.normalize import make_context, split_header
from budget_disclosures.mappings.refine import refine_tables

log = logging.getLogger(__name__)


def document_text_layer(pages: list[PageContent]) -> str:
    """``text``, ``scanned`` (no usable text anywhere) or ``mixed``."""
    kinds = {p.text_layer for p in pages if p.chars or p.n_images}
    unusable = kinds & {"scanned", "garbled"}
    if not unusable:
        return "text"
    return "scanned" if kinds <= {"scanned", "garbled"} else "mixed"


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def extract_document(
    path: Path, reader: str = "pdfium", ocr: DocumentOcr | None = None
) -> tuple[list[PageTables], list[str], list[PageContent]]:
    """Read every page once; keep its text lines and grids, drop its characters.

    ``reader`` picks the page reader: PDFium (fast, default) or pdfplumber (reference).
    Pages without a usable text layer (scans, garbled text) are read by OCR instead
    (``ocr`` keeps what it read, for the line items' confidence).
    """
    chosen = page_reader(reader)  # (extractors/registry.py; ValueError for an unknown one)
    pdf, pages = chosen.open(path), chosen.pages
    extractor = RuledGridExtractor(chosen.grid_method)
    ocr_extractor = RuledGridExtractor("ocr-grid")
    if ocr is None:
        ocr = DocumentOcr(path)
    page_tables: list[PageTables] = []
    texts: list[str] = []
    layers: list[PageContent] = []
    try:
        for page in pages(pdf):
            page = ocr.read(page)
            grid_reader = ocr_extractor if ocr.is_ocr(page.number) else extractor
            grids = grid_reader.extract(str(path), page)
            ocr.note_grids(page.number, grids)
            page_tables.append(PageTables(page.number, page.lines, grids))
            texts.append(page.text)
            prose = narrative_page_lines(
                page, grids, ocr=ocr.is_ocr(page.number)
            )  # the narrative's lines
            layers.append(
                PageContent(
                    page.number,
                    page.width,
                    page.height,
                    page.chars[:1],
                    [],
                    prose,
                    page.text_layer,
                    page.n_images,
                )
            )
    finally:
        ocr.close()
        pdf.close()
    return page_tables, texts, layers


def _unit_code(items: list[dict], unit_name: str | None) -> str | None:
    """The unit's code as printed in the unit-row tables (表2/表3 单位编码)."""
    candidates = [i for i in items if i["classification"] == "unit" and i["code"]]
    for item in candidates:
        if unit_name and item["name"] == unit_name and len(item["code"]) >= 6:
            return item["code"]
    long_codes = [i["code"] for i in candidates if len(i["code"]) >= 6]
    return long_codes[0] if long_codes else None


def _table_row(doc_id: str, table: TableInstance, items: list[dict]) -> dict:
    n_items = len(items)
    n_rows = sum(max(len(g.rows) - split_header(g), 0) for g in table.grids)
    return {
        "doc_id": doc_id,
        "table_no": table.table_no,
        "table_no_printed": table.number_printed,
        "title": table.title,
        "kind": table.kind,
        "page_first": table.page_first,
        "page_last": table.page_last,
        "n_rows": n_rows,
        "is_empty": table.is_empty
        or is_zero_form(table, items)
        or n_items == 0
        and table.rule is not None
        and table.rule.layout not in {"performance", "none", "project_rows"}
        and _looks_empty(table),
        "method": ",".join(sorted({g.method for g in table.grids})),
        "unit_printed": table.unit,
        "n_line_items": n_items,
    }


def _looks_empty(table: TableInstance) -> bool:
    """An empty form: a table whose body holds no figure at all."""
    return all(split_header(g) >= len(g.rows) for g in table.grids)


def build_rows(
    path: Path, doc_id: str, sha256: str, reader: str = "pdfium"
) -> tuple[dict[str, list[dict]], DocumentSummary]:
    """All curated rows of one readable document."""
    ocr = DocumentOcr(path)
    page_tables, texts, layers = extract_document(path, reader, ocr)
    families = default_templates() if templates_enabled() else ()
    template, tables, catalogue = choose_template(page_tables, families, generic_template())
    meta = read_metadata(texts)
    if template is not None:
        refine_tables(tables, template)
    narrative = read_narrative(doc_id, layers, table_pages={n for t in tables for n in t.pages})
    items: list[dict] = []
    targets: list[dict] = []
    table_rows: list[dict] = []
    if template is not None:
        ctx = make_context(doc_id, meta.fiscal_year, template)
        page_heights = {page.number: page.height for page in layers}
        for index, table in enumerate(tables):
            table_items, table_targets, table = choose_extraction(path, table, ctx, page_heights)
            tables[index] = table
            table_items = [i.as_dict() for i in table_items]
            targets.extend(t.as_dict() for t in table_targets)
            items.extend(table_items)
            table_rows.append(_table_row(doc_id, table, table_items))
        table_rows.extend(
            _declared_empty_rows(doc_id, template, catalogue, table_rows, page_tables)
        )
    ocr.attach_confidence(items)
    if ocr.results:  # figures read by OCR: the tables' arithmetic picks cells to read again
        review = review_items(items, ocr)
        summary_ = {k: v for k, v in asdict(review).items() if k != "still_failing"}
        log.info("%s: OCR review %s", path.name, summary_)
    unit_code = _unit_code(items, meta.unit_name)
    document = {
        "doc_id": doc_id,
        "sha256": sha256,
        "source_name": path.name,
        "source_path": source_key(path),
        "unit_name": meta.unit_name,
        "unit_code": unit_code,
        "admin_region": meta.admin_region,
        "fiscal_year": meta.fiscal_year,
        "doc_kind": template.doc_kind
        if template is not None and template.numbering == "rules"
        else meta.doc_kind,
        "published": meta.published,
        "template": template.id if template is not None and table_rows else None,
        "pages": len(page_tables),
        "text_layer": document_text_layer(layers),
        "status": "ok" if items or targets else "warn",
        "pipeline_version": pipeline_version(),
        "reason": None
        if items or targets
        else no_data_reason(table_rows, texts, len(narrative.sections)),
        "n_tables": len(table_rows),
        "n_line_items": len(items),
        "disclosure_id": doc_id,
        "part": "whole",
        "ingested_at": _now(),
    }
    summary = DocumentSummary(
        file=path.name,
        doc_id=doc_id,
        unit=meta.unit_name,
        year=meta.fiscal_year,
        template=document["template"],
        pages=document["pages"],
        tables=len(table_rows),
        line_items=len(items),
        status=document["status"],
        reason=document["reason"] or "",
    )
    if ocr.errors:  # pages not read: say which and why (a bomb, a broken page, no OCR)
        _warn(document, summary, pages_not_read(ocr.errors))
    rows = {
        "line_items": items,
        "performance_targets": targets,
        "tables": table_rows,
        "sections": narrative.sections,
        "facts": narrative.facts,
        "documents": [document],
    }
    return rows, summary


def pages_not_read(errors: dict[int, str]) -> str:
    """One line naming the pages whose reading failed, with the first reasons."""
    shown = "; ".join(f"p.{number}: {errors[number]}" for number in sorted(errors)[:2])
    more = f" (+{len(errors) - 2} more)" if len(errors) > 2 else ""
    return f"{len(errors)} page(s) not read: {shown}{more}"


def _declared_empty_rows(doc_id, template, catalogue, table_rows, page_tables) -> list[dict]:
    """Tables the catalogue (是否空表) declares empty that print no grid (a heading and a note)."""
    found = {row["table_no"] for row in table_rows}
    out = []
    for table_no, empty in catalogue.items():
        if not empty or table_no in found:
            continue
        page, printed, rule, title = printed_heading(page_tables, template, table_no)
        if rule is None:
            continue
        out.append(
            {
                "doc_id": doc_id,
                "table_no": table_no,
                "table_no_printed": printed,
                "title": title or rule.titles[0],
                "kind": rule.kind,
                "page_first": page,
                "page_last": page,
                "n_rows": 0,
                "is_empty": True,
                "method": "catalogue",
                "unit_printed": None,
                "n_line_items": 0,
            }
        )
    return out


def apply_document_corrections(
    rows: dict[str, list[dict]], summary: DocumentSummary
) -> CorrectionsFile | None:
    """Apply the reviewer's corrections file of this PDF (``corrections/<sha256>.yaml``) to
    its rows, before validation; the ``corrections`` log rows go with the document.

    A file that does not load changes nothing and makes the document ``warn`` with its one
    line; a correction matching nothing is reported the same way (never dropped silently).
    """
    document = rows["documents"][0]
    document["corrections_sha256"] = corrections_digest(document["sha256"])
    rows["corrections"] = []
    try:
        fixes = load_corrections(document["sha256"])
    except CorrectionsError as error:
        _warn(document, summary, f"corrections not applied: {error}")
        return None
    if fixes is not None:
        rows["corrections"] = apply_corrections(rows, fixes)
        document["n_line_items"] = summary.line_items = len(rows.get("line_items", []))
    return fixes


def _warn(document: dict, summary: DocumentSummary, reason: str) -> None:
    """At least ``warn``, with ``reason`` (first, unless the document failed: then its
    failure's reason stays first)."""
    if document["status"] == "ok":
        document["status"] = summary.status = "warn"
    earlier = document.get("reason")
    if not earlier:
        combined = reason
    elif document["status"] == "failed":
        combined = f"{earlier}; {reason}"
    else:
        combined = f"{reason}; {earlier}"
    document["reason"] = summary.reason = combined


def apply_validation(
    rows: dict[str, list[dict]], summary: DocumentSummary, fixes: CorrectionsFile | None = None
) -> None:
    """Run the validation suites on a document's rows: ``validations`` rows and the status gate.

    An error finding fails the document (reason: the first error check), so publishing
    excludes it; warnings make it ``warn``. Findings the corrections accept as the
    publisher's own inconsistency stay in ``validations`` (``accepted``) but gate nothing.
    """
    from budget_disclosures.validation import validate_rows
    from budget_disclosures.validation.engine import report_for

    document = rows["documents"][0]
    try:
        report = validate_rows(rows)
    except Exception as error:  # a validation bug must not pass unvalidated rows as ok
        log.error("validation crashed on %s:\n%s", summary.file, traceback.format_exc())
        rows["validations"] = []
        document["status"] = summary.status = "failed"
        document["reason"] = summary.reason = f"validation crashed: {type(error).__name__}: {error}"
        return
    if fixes is not None:
        rows["corrections"] += accept_findings(
            report.rows, fixes, document["doc_id"], document["sha256"]
        )
        rows["corrections"].sort(key=lambda row: row["entry"])
        report = report_for(report.rows)
    rows["validations"] = report.rows
    summary.n_errors, summary.n_warnings = report.n_errors, report.n_warnings
    if report.status != "ok":
        document["status"] = summary.status = report.status
    if report.status == "failed":
        document["reason"] = summary.reason = report.reason
    missed = unmatched_reason(rows.get("corrections", []))
    if missed:
        _warn(document, summary, missed)


def validation_counts(curated: Path, doc_id: str) -> tuple[int, int]:
    """Error and warning findings stored for a document (0, 0 when none are stored)."""
    path = store.doc_file(curated, "validations", doc_id)
    if not path.exists():
        return 0, 0
    try:
        rows = store.read_rows(path, ["severity", "success"])
    except Exception:
        return 0, 0
    failed = [r["severity"] for r in rows if not r["success"]]
    return failed.count("error"), failed.count("warn")


def _failed_rows(
    path: Path, doc_id: str, sha256: str, reason: str
) -> tuple[dict[str, list[dict]], DocumentSummary]:
    """A failed document's rows (its ``documents`` row, no data rows) and summary."""
    # every dataset, empty: a re-ingest that fails leaves none of the document's earlier rows
    # (performance_targets and validations included), as the isolated path does
    rows: dict[str, list[dict]] = {name: [] for name in store.DATASETS}
    rows["documents"] = [failed_document_row(path, doc_id, sha256, reason)]
    return rows, DocumentSummary(path.name, doc_id, status="failed", reason=reason)


def failed_document_row(path: Path, doc_id: str, sha256: str, reason: str) -> dict:
    return {
        "doc_id": doc_id,
        "sha256": sha256,
        "source_name": path.name,
        "source_path": source_key(path),
        "status": "failed",
        "pipeline_version": pipeline_version(),
        "reason": reason,
        "disclosure_id": doc_id,
        "part": "whole",
        "n_tables": 0,
        "n_line_items": 0,
        "ingested_at": _now(),
        "pages": None,
        # (a failed document is not redone on every run because a corrections file exists)
        "corrections_sha256": corrections_digest(sha256),
    }


RETRYABLE_REASONS = ("worker crashed", "internal error")  # not the document's fault


def already_ingested(
    curated: Path, doc_id: str, sha256: str, reprocess_outdated: bool = True
) -> bool:
    """Same bytes already ingested (and, unless outdated rows are kept, by this version)."""
    row = store.read_document_row(curated, doc_id)
    if not row or row.get("sha256") != sha256:
        return False
    if row.get("status") == "failed" and (row.get("reason") or "").startswith(RETRYABLE_REASONS):
        return False  # the process was killed (OOM killer, operator): try again next run
    if row.get("corrections_sha256") != corrections_digest(sha256):
        return False  # the reviewer's corrections changed: apply them
    return not reprocess_outdated or row.get("pipeline_version") == pipeline_version()


def replace_changed_source(
    curated: Path, source_path: str, doc_id: str, recorded_ids: list[str] | None = None
) -> None:
    """A file whose bytes changed replaces its old rows everywhere (matched by its path, so
    two files of the same name in different folders are two documents). ``recorded_ids``:
    the ids stored for this path, when the batch read them once (:func:`source_index`);
    else they are read here (from the folder's document index)."""
    if recorded_ids is None:
        recorded_ids = source_index(curated).get(source_path, [])
    for old_id in recorded_ids:
        if old_id != doc_id:
            store.remove_document(curated, old_id)


def ingest_document(
    path: Path,
    curated: Path,
    force: bool = False,
    reprocess_outdated: bool = True,
    validate: bool = True,
    recorded_ids: list[str] | None = None,
) -> DocumentSummary:
    """Ingest one PDF into ``curated``; never raises for bad input (the reason is reported).

    Skipped when the same bytes were already ingested — by the current pipeline version, or
    by any version when ``reprocess_outdated`` is false (scheduled runs keep old rows until
    asked to reprocess). ``validate`` runs the validation suites (the publication gate).
    ``recorded_ids``: the document ids stored for this file's path, read once for a batch
    (:func:`document_index.source_index`); None reads them here.
    """
    started = time.perf_counter()
    path = Path(path)
    try:
        identity = identify_file(path)
    except OSError as error:
        return DocumentSummary(
            path.name, None, status="failed", reason=f"cannot read file: {error.strerror or error}"
        )
    doc_id = identity.doc_id
    if not force and already_ingested(curated, doc_id, identity.sha256, reprocess_outdated):
        row = store.read_document_row(curated, doc_id) or {}
        return DocumentSummary(
            path.name,
            doc_id,
            row.get("unit_name"),
            row.get("fiscal_year"),
            row.get("template"),
            row.get("pages") or 0,
            row.get("n_tables") or 0,
            row.get("n_line_items") or 0,
            row.get("status", "ok"),
            row.get("reason") or "",
            0.0,
            skipped=True,
            sha256=identity.sha256,
            n_errors=(counts := validation_counts(curated, doc_id))[0],
            n_warnings=counts[1],
        )
    replace_changed_source(curated, source_key(path), doc_id, recorded_ids)
    try:
        rows, summary = build_rows(path, doc_id, identity.sha256)
        fixes = apply_document_corrections(rows, summary)
        if validate:
            apply_validation(rows, summary, fixes)
    except DocumentError as error:
        rows, summary = _failed_rows(path, doc_id, identity.sha256, str(error))
    except MemoryError:  # over the document process's limit (extractors.limits)
        reason = f"needs more memory than its limit ({memory_limit_mb()} MB, {MEMORY_LIMIT_ENV})"
        rows, summary = _failed_rows(path, doc_id, identity.sha256, reason)
    except Exception as error:  # a bug on one document never stops the batch
        log.error("internal error on %s:\n%s", path.name, traceback.format_exc())
        reason = f"internal error: {type(error).__name__}: {error}"
        rows, summary = _failed_rows(path, doc_id, identity.sha256, reason)
    store.write_document(curated, doc_id, rows)
    summary.seconds = round(time.perf_counter() - started, 3)
    summary.sha256 = identity.sha256
    return summary


# Imported lazily on a document's path, and slow to import: pandas (~0.2 s) because
# ``pa.array`` imports it to ask whether a list is a pandas object. Not pyarrow.dataset: a
# document reads its few stored rows through ``store.read_rows``. OCR (RapidOCR, ONNX
# Runtime, OpenCV) and camelot stay lazy: only some documents need them.
DOCUMENT_IMPORTS = (
    "numpy",
    "pandas",
    "pyarrow",
    "pyarrow.parquet",
    "pyarrow.pandas_compat",
    "pypdfium2",
    "pypdfium2.raw",
)


def warm_up() -> None:
    """Import what a document needs and load every rule file, code list and suite once, so
    that processes forked afterwards (one per document, from the forkserver) start warm:
    without the imports each document paid ~1.5 s of pandas/pyarrow import in its child."""
    import importlib

    from budget_disclosures.mappings.codelists import CLASSIFICATION_FILES, load_code_list
    from budget_disclosures.mappings.loader import form_vocabulary, vocabulary
    from budget_disclosures.mappings.narrative_facts import default_fact_patterns
    from budget_disclosures.validation.suites import load_suites

    for module in DOCUMENT_IMPORTS:
        importlib.import_module(module)
    pipeline_version()
    default_templates()
    generic_template()
    vocabulary()
    form_vocabulary()
    default_fact_patterns()
    load_suites()
    for classification in CLASSIFICATION_FILES:
        load_code_list(classification)
    for dataset in store.DATASETS:  # pyarrow's lazy imports on a first conversion
        store.to_table(dataset, [{}])
