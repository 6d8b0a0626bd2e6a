"""Corrections as data: a reviewer's decisions, kept in version control, applied at every ingest.

A reviewer who finds a misread cell, a wrong label, a table read as the wrong kind, or a
finding that is the publisher's own inconsistency (the sample states 三公经费 0.2 万元 in its
text while its 表12 prints 0.00) records the decision in ``corrections/<sha256>.yaml``, one
file per document, keyed by the PDF's SHA-256 (the same bytes get the same fixes on every
machine and after every pipeline version)::

    document: 0ebd82afcb61b0e1...   # the PDF's SHA-256 (64 hex digits)
    file: baoji-bigdata-center-2023-budget.pdf   # for people; not used to match
    corrections:
      - fix: cell               # a figure: the corrected figure as printed, or in yuan
        table: "5"
        row: {code: "2010301"}  # or {name: 合计} for an uncoded row
        measure: total
        printed: "120.50"       # or yuan: 1205000
        reason: the 0 of 120.50 was read as 6
        by: wang.li
        at: 2026-12-05
      - fix: label              # a row's name and/or code
        table: "5"
        row: {code: "2010301"}
        name: 行政运行
        reason: ...
        by: ...
        at: ...                 # every entry: reason, by and at
      - fix: table              # a table read as the wrong kind, or over too many pages
        table: "9"
        kind: gov_fund_expenditure
        pages: [17, 17]         # optional: rows read from other pages are dropped
        reason: ...
      - fix: column             # a column mapped to the wrong measure
        table: "5"
        column: 基本支出/公用经费
        measure: basic_public
        reason: ...
      - fix: accept             # a finding the PDF itself causes: visible, not blocking
        check: arith.three_public
        table: "12"             # optional: only this table's finding
        reason: the text states 0.2 万元, 表12 prints 0.00
        by: ...
        at: ...

Corrections apply after extraction and before validation (:func:`apply_corrections`,
:func:`accept_findings`); every changed row keeps ``corrected`` and ``corrected_from`` (the
value read before), and each entry is logged in the ``corrections`` dataset with what it
did: ``applied``, ``accepted``, or ``unmatched`` when it matches nothing any more (reported
in the document's reason, never dropped silently). The file is validated by the pydantic
models below (unknown keys forbidden, a reason on every entry); a bad file gives one line.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from pathlib import Path
from typing import Annotated, Literal

import yaml
from budget_disclosures.extractors.numbers import unit_factor
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .text import parse_amount

CORRECTIONS_ENV = "BUDGET_DISCLOSURES_CORRECTIONS"
DEFAULT_FOLDER = Path("corrections")


class CorrectionsError(ValueError):
    """A corrections file that cannot be used; the message is one line, naming the file."""


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RowKey(_Strict):
    """Which row: by its code, or by its name when the row prints no code."""

    code: str | None = None
    name: str | None = None

    @model_validator(mode="after")
    def _one_key(self) -> RowKey:
        if (self.code is None) == (self.name is None):
            raise ValueError("row needs exactly one of code or name")
        return self

    def matches(self, item: dict) -> bool:
        if self.code is not None:
            return (item.get("code") or "") == self.code
        return (item.get("name") or "") == self.name or (item.get("row_label") or "") == self.name

    def describe(self) -> str:
        return f"code {self.code}" if self.code is not None else f"row {self.name}"


class _Entry(_Strict):
    """Every decision says why, who took it and when."""

    reason: Annotated[str, Field(min_length=1)]
    by: Annotated[str, Field(min_length=1)]
    at: dt.date


class CellFix(_Entry):
    """A figure read wrong: the corrected figure as printed (in the table's unit) or in yuan."""

    fix: Literal["cell"]
    table: str
    row: RowKey
    measure: str
    printed: str | None = None
    yuan: float | None = None

    @model_validator(mode="after")
    def _one_value(self) -> CellFix:
        if (self.printed is None) == (self.yuan is None):
            raise ValueError("a cell fix needs exactly one of printed or yuan")
        if self.printed is not None and parse_amount(self.printed) is None:
            raise ValueError(f"printed {self.printed!r} is not a figure")
        return self


class LabelFix(_Entry):
    """A row's name or code read wrong."""

    fix: Literal["label"]
    table: str
    row: RowKey
    name: str | None = None
    code: str | None = None

    @model_validator(mode="after")
    def _something(self) -> LabelFix:
        if self.name is None and self.code is None:
            raise ValueError("a label fix needs a new name or code")
        return self


class TableFix(_Entry):
    """A table identified as the wrong kind, or read over too many pages (the rows read from
    pages outside ``pages`` belong to another table and are dropped from this one)."""

    fix: Literal["table"]
    table: str
    kind: str | None = None
    pages: tuple[int, int] | None = None

    @model_validator(mode="after")
    def _something(self) -> TableFix:
        if self.kind is None and self.pages is None:
            raise ValueError("a table fix needs a kind or pages: [first, last]")
        if self.pages is not None and not 1 <= self.pages[0] <= self.pages[1]:
            raise ValueError("pages must be [first, last] with 1 ≤ first ≤ last")
        return self


class ColumnFix(_Entry):
    """A column mapped to the wrong measure: the figures under the header path ``column``
    (as ``line_items.column`` prints it, e.g. ``基本支出/人员经费``) get ``measure``."""

    fix: Literal["column"]
    table: str
    column: str
    measure: str


class AcceptFinding(_Entry):
    """A validation finding that the PDF itself causes: kept visible, not blocking."""

    fix: Literal["accept"]
    check: str
    table: str | None = None


Correction = Annotated[
    CellFix | LabelFix | TableFix | ColumnFix | AcceptFinding, Field(discriminator="fix")
]


class CorrectionsFile(_Strict):
    document: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    file: str | None = None
    corrections: list[Correction] = Field(default_factory=list)


def corrections_folder() -> Path:
    """The corrections folder: the setting (``BUDGET_DISCLOSURES_CORRECTIONS``) or
    ``corrections/`` in the working directory, beside ``raw/``."""
    return Path(os.environ.get(CORRECTIONS_ENV) or DEFAULT_FOLDER)


def corrections_path(sha256: str, folder: Path | None = None) -> Path:
    return (folder or corrections_folder()) / f"{sha256}.yaml"


def corrections_digest(sha256: str, folder: Path | None = None) -> str | None:
    """SHA-256 of the document's corrections file (None without one): a document whose
    corrections changed is ingested again, even with the same bytes and pipeline version."""
    try:
        return hashlib.sha256(corrections_path(sha256, folder).read_bytes()).hexdigest()
    except OSError:
        return None


def load_corrections(sha256: str, folder: Path | None = None) -> CorrectionsFile | None:
    """The document's corrections, None without a file; CorrectionsError (one line) when the
    file is not valid YAML, does not fit the schema, or names another document."""
    path = corrections_path(sha256, folder)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as error:
        raise CorrectionsError(f"{path}: cannot read: {error.strerror or error}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or "not valid YAML"
        raise CorrectionsError(f"{path}:{where} malformed YAML: {problem}") from None
    try:
        parsed = CorrectionsFile.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise CorrectionsError(f"{path}: {where}: {first['msg']}") from None
    if parsed.document != sha256:
        raise CorrectionsError(f"{path}: names document {parsed.document[:16]}…, not this file")
    return parsed


def validate_folder(folder: Path, known: set[str]) -> list[str]:
    """One line per problem in a corrections folder: a file that does not load, or that
    names a document no curated row has (``known``: the SHA-256s ingested)."""
    problems = []
    for path in sorted(folder.glob("*.yaml")):
        sha256 = path.stem
        try:
            load_corrections(sha256, folder)
        except CorrectionsError as error:
            problems.append(str(error))
            continue
        if sha256 not in known:
            problems.append(f"{path}: unknown document (no ingested PDF has this SHA-256)")
    return problems


# --------------------------------------------------------------------------- applying


def _log_row(doc_id: str, sha256: str, index: int, entry, status: str, **change) -> dict:
    target = getattr(entry, "table", None)
    row = getattr(entry, "row", None)
    where = row.describe() if row is not None else None
    if isinstance(entry, ColumnFix):
        where = f"column {entry.column}"
    return {
        "doc_id": doc_id,
        "sha256": sha256,
        "entry": index,
        "fix": entry.fix,
        "table_no": target,
        "row": where,
        "measure": getattr(entry, "measure", None),
        "check": getattr(entry, "check", None),
        "status": status,
        "value_before": change.get("before"),
        "value_after": change.get("after"),
        "n_rows": change.get("n_rows", 0),
        "reason": entry.reason,
        "by": entry.by,
        "at": entry.at.isoformat(),
    }


def _mark(item: dict, before: str) -> None:
    item["corrected"] = True
    earlier = item.get("corrected_from")
    item["corrected_from"] = f"{earlier}; {before}" if earlier else before


def _fix_cell(items: list[dict], entry: CellFix) -> tuple[int, str | None, str | None]:
    hits = [
        item
        for item in items
        if item.get("table_no") == entry.table
        and item.get("measure") == entry.measure
        and entry.row.matches(item)
    ]
    before = after = None
    for item in hits:
        factor = unit_factor(item.get("unit_printed"))
        before = item.get("amount_printed")
        if entry.printed is not None:
            printed, yuan = entry.printed, parse_amount(entry.printed) * factor
        else:
            yuan = float(entry.yuan)
            printed = f"{yuan / factor:.2f}"
        _mark(item, f"amount_printed={before}")
        item["amount_printed"], item["amount_yuan"] = printed, round(yuan, 2)
        after = printed
    return len(hits), before, after


def _fix_label(items: list[dict], entry: LabelFix) -> tuple[int, str | None, str | None]:
    hits = [i for i in items if i.get("table_no") == entry.table and entry.row.matches(i)]
    before = after = None
    for item in hits:
        before = f"{item.get('code') or ''} {item.get('name') or ''}".strip()
        _mark(item, f"label={before}")
        if entry.code is not None:
            item["code"] = entry.code
        if entry.name is not None:
            item["name"] = entry.name
        after = f"{item.get('code') or ''} {item.get('name') or ''}".strip()
    return len(hits), before, after


def _fix_table(rows: dict[str, list[dict]], entry: TableFix) -> tuple[int, str | None, str]:
    tables = [t for t in rows.get("tables", []) if t.get("table_no") == entry.table]
    items = [i for i in rows.get("line_items", []) if i.get("table_no") == entry.table]
    before = ", ".join(
        f"kind={t.get('kind')} pages={t.get('page_first')}-{t.get('page_last')}" for t in tables
    )
    if entry.pages is not None:
        first, last = entry.pages
        outside = {id(i) for i in items if not first <= (i.get("page") or first) <= last}
        rows["line_items"] = [i for i in rows["line_items"] if id(i) not in outside]
        items = [i for i in items if id(i) not in outside]
        for table in tables:
            table["page_first"], table["page_last"] = first, last
            table["n_line_items"] = len(items)
    if entry.kind is not None:
        for table in tables:
            table["kind"] = entry.kind
        for item in items:
            _mark(item, f"kind={item.get('kind')}")
            item["kind"] = entry.kind
    after = " ".join(
        part
        for part in (
            f"kind={entry.kind}" if entry.kind else "",
            f"pages={entry.pages[0]}-{entry.pages[1]}" if entry.pages else "",
        )
        if part
    )
    return len(tables), before or None, after


def _fix_column(items: list[dict], entry: ColumnFix) -> tuple[int, str | None, str]:
    wanted = _header(entry.column)
    hits = [
        i for i in items if i.get("table_no") == entry.table and _header(i.get("column")) == wanted
    ]
    before = hits[0].get("measure") if hits else None
    for item in hits:
        _mark(item, f"measure={item.get('measure')}")
        item["measure"] = entry.measure
    return len(hits), before, entry.measure


def _header(path: str | None) -> str:
    """A header path compared without spaces or slash spacing."""
    return "/".join(part.strip().replace(" ", "") for part in (path or "").split("/"))


def apply_corrections(rows: dict[str, list[dict]], corrections: CorrectionsFile) -> list[dict]:
    """Apply the cell, label and table fixes to a document's rows (in place), before
    validation; the ``corrections`` log rows (accept entries are logged by
    :func:`accept_findings`, after validation)."""
    document = rows["documents"][0]
    doc_id, sha256 = document["doc_id"], document["sha256"]
    items = rows.get("line_items", [])
    log = []
    for index, entry in enumerate(corrections.corrections, start=1):
        if isinstance(entry, AcceptFinding):
            continue
        if isinstance(entry, CellFix):
            n, before, after = _fix_cell(items, entry)
        elif isinstance(entry, LabelFix):
            n, before, after = _fix_label(items, entry)
        elif isinstance(entry, ColumnFix):
            n, before, after = _fix_column(items, entry)
        else:
            n, before, after = _fix_table(rows, entry)
            items = rows.get("line_items", [])
        status = "applied" if n else "unmatched"
        log.append(
            _log_row(doc_id, sha256, index, entry, status, before=before, after=after, n_rows=n)
        )
    return log


def accept_findings(
    validations: list[dict], corrections: CorrectionsFile, doc_id: str, sha256: str
) -> list[dict]:
    """Mark failing findings the reviewer accepted as the publisher's inconsistency (they stay
    in ``validations`` with ``accepted`` and its reason; the status gate skips them); the
    log rows of the accept entries (``unmatched`` when no failing finding is left to accept)."""
    log = []
    for index, entry in enumerate(corrections.corrections, start=1):
        if not isinstance(entry, AcceptFinding):
            continue
        hits = [
            row
            for row in validations
            if row["check"] == entry.check
            and not row["success"]
            and (entry.table is None or row.get("table_no") == entry.table)
        ]
        for row in hits:
            row["accepted"] = True
            row["accepted_reason"] = entry.reason
        status = "accepted" if hits else "unmatched"
        before = hits[0].get("detail") if hits else None
        log.append(_log_row(doc_id, sha256, index, entry, status, before=before, n_rows=len(hits)))
    return log


def unmatched_reason(log: list[dict]) -> str | None:
    """One line naming the corrections that matched nothing (None when all matched)."""
    missed = [row for row in log if row["status"] == "unmatched"]
    if not missed:
        return None
    shown = "; ".join(
        f"#{row['entry']} {row['fix']} {row['check'] or ''}{'表' + row['table_no'] if row['table_no'] else ''}"
        f" {row['row'] or ''}".strip()
        for row in missed[:3]
    )
    return f"{len(missed)} correction(s) match nothing: {shown}"
