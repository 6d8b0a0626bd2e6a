"""The open-data release: a Frictionless Data Package built from ``curated/``.

``disclosures publish OUT`` (or :func:`publish`) writes into the folder ``OUT``::

    datapackage.json        Frictionless (tabular) Data Package: table schemas from curation/schema.py
    index.html              catalogue page (static, offline: inline CSS, JS and SVG)
    RELEASE.md              documents added, replaced, re-extracted, removed and excluded
    data-dictionary.md      curation/dictionary.py's dictionary + the code lists and views
    validation-summary.csv  one row per curated document: status, checks, errors, warnings
    SHA256SUMS              sha256sum -c compatible, every file except datapackage.json
    data/<dataset>.csv      UTF-8, header row, empty cell = null, formula-like text neutralised
    data/<dataset>.parquet  the same rows, typed
    codes/*.csv             the reference code lists (支出功能分类, 部门/政府预算支出经济分类)

Only documents whose ``status`` is not ``failed`` are published (``allow_failed`` overrides);
every dataset keeps only the rows of published documents, so ``doc_id`` is a valid foreign key
into ``documents`` everywhere.

Reproducibility: the same curated input gives the same bytes, except the ``created`` field of
``datapackage.json`` (the build time, or ``SOURCE_DATE_EPOCH`` when set); that is why
``datapackage.json`` is not listed in ``SHA256SUMS`` (it carries the SHA-256 of every file it
describes itself). Rows are sorted by a fixed key (then every column), Parquet is written with
fixed settings (:data:`PARQUET_OPTIONS`), columns that record when or where the pipeline ran
(``ingested_at``, ``source_path``, any ``*_at``) are dropped, and empty text in a nullable text
column is published as null (CSV cannot tell them apart). The byte identity holds for one
pyarrow version (Parquet's ``created_by`` names it).
"""

from __future__ import annotations

import csv
import hashlib
import html
import io
import json
import os
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from string import Template

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from . import query as q
from .schema import Column, Dataset

CATALOGUE_DIR = Path(__file__).resolve().parent / "catalogue"

PACKAGE_NAME = "budget-disclosures"
PACKAGE_TITLE = "Chinese government budget disclosures (预算公开), curated"
# licences a release may carry, by SPDX id (datapackage.json `licenses`); CC-BY-4.0 is the default
LICENSES = {
    "CC-BY-4.0": (
        "https://creativecommons.org/licenses/by/4.0/",
        "Creative Commons Attribution 4.0 International",
    ),
    "CC-BY-SA-4.0": (
        "https://creativecommons.org/licenses/by-sa/4.0/",
        "Creative Commons Attribution Share Alike 4.0 International",
    ),
    "CC0-1.0": (
        "https://creativecommons.org/publicdomain/zero/1.0/",
        "Creative Commons Zero v1.0 Universal",
    ),
    "ODC-By-1.0": (
        "https://opendatacommons.org/licenses/by/1-0/",
        "Open Data Commons Attribution License v1.0",
    ),
    "ODbL-1.0": (
        "https://opendatacommons.org/licenses/odbl/1-0/",
        "Open Data Commons Open Database License v1.0",
    ),
    "PDDL-1.0": (
        "https://opendatacommons.org/licenses/pddl/1-0/",
        "Open Data Commons Public Domain Dedication & License 1.0",
    ),
}
DEFAULT_LICENSE = "CC-BY-4.0"


def license_entry(spdx_id: str) -> dict[str, str]:
    """The datapackage.json licence object of an SPDX id; an id not listed is a usage error."""
    if spdx_id not in LICENSES:
        raise PublishError(f"unknown licence {spdx_id!r}: one of {', '.join(LICENSES)} (SPDX ids)")
    path, title = LICENSES[spdx_id]
    return {"name": spdx_id, "path": path, "title": title}


SOURCE_NOTE = (
    "Budget disclosure PDFs (预算公开 / 决算公开) published by Chinese government units under the "
    "Regulations on Open Government Information (政府信息公开条例); figures as printed, read by the "
    "budget-disclosures pipeline"
)

PARQUET_OPTIONS = {
    "compression": "zstd",
    "compression_level": 9,
    "use_dictionary": True,
    "write_statistics": True,
    "version": "2.6",
    "data_page_version": "1.0",
    "data_page_size": 1 << 20,
    "row_group_size": 1 << 17,
    "store_schema": True,
}

# Leading sort columns per dataset (then every other column, so the order is total).
SORT_KEYS = {
    "documents": ("doc_id",),
    "tables": ("doc_id", "page_first", "table_no"),
    "line_items": (
        "doc_id",
        "page",
        "table_no",
        "kind",
        "classification",
        "code",
        "name",
        "measure",
    ),
    "performance_targets": ("doc_id", "page", "table_no"),
    "validations": ("doc_id", "check"),
    "sections": ("doc_id", "seq", "section_id"),
    "facts": ("doc_id", "page", "fact"),
    "corrections": ("doc_id", "entry"),
}
# Columns about the pipeline run rather than the data: when it ran, and where the file sat on
# the ingesting machine. Dropped from releases (with any other ``*_at`` column).
DROPPED_COLUMNS = {
    "ingested_at": "UTC time of ingestion",
    "source_path": "path on the ingesting machine",
}
DATASET_ORDER = (
    "documents",
    "tables",
    "line_items",
    "performance_targets",
    "validations",
    "sections",
    "facts",
    "corrections",
)
_TYPES = {"string": "string", "int": "integer", "float": "number", "bool": "boolean"}
_DUCK = {"string": "VARCHAR", "int": "BIGINT", "float": "DOUBLE", "bool": "BOOLEAN"}


class PublishError(Exception):
    """A release cannot be built (usage error: nothing was written)."""


def is_dropped(column: str) -> bool:
    """Columns that record when or where the pipeline ran: not published (not a property of the data)."""
    return column in DROPPED_COLUMNS or column.endswith("_at")


# --------------------------------------------------------------------------- small helpers


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _created(created: str | None) -> str:
    if created:
        return created
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and not epoch.strip().isdigit():
        raise PublishError(f"SOURCE_DATE_EPOCH must be seconds since 1970, not {epoch!r}")
    moment = datetime.fromtimestamp(int(epoch), UTC) if epoch else datetime.now(UTC)
    return moment.replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def _md(value) -> str:
    """A Markdown table cell."""
    if value is None:
        return ""
    return str(value).replace("|", "\\|").replace("\n", " ")


def _md_table(headers: list[str], rows: list[list]) -> list[str]:
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(_md(v) for v in row) + " |" for row in rows]
    return out


def _human_bytes(size: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size} B"


def _duck_to_type(duck_type: str) -> str:
    base = duck_type.upper().split("(")[0]
    if base in {
        "TINYINT",
        "SMALLINT",
        "INTEGER",
        "BIGINT",
        "UTINYINT",
        "USMALLINT",
        "UINTEGER",
        "UBIGINT",
    }:
        return "int"
    if base in {"FLOAT", "DOUBLE", "DECIMAL", "HUGEINT"}:
        return "float"
    if base == "BOOLEAN":
        return "bool"
    return "string"


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


# --------------------------------------------------------------------------- the release model


@dataclass
class DatasetFile:
    name: str
    dataset: Dataset
    columns: tuple[Column, ...]
    rows: int
    csv: Path
    parquet: Path


@dataclass
class Changes:
    base_version: str | None
    added: list[dict] = field(default_factory=list)
    replaced: list[tuple[dict, dict, str]] = field(default_factory=list)  # (new, old, why)
    reextracted: list[tuple[dict, dict]] = field(default_factory=list)  # (new, old)
    removed: list[dict] = field(default_factory=list)
    unchanged: int = 0


@dataclass
class Release:
    out: Path
    version: str
    created: str
    published: list[dict]
    excluded: list[dict]  # documents rows + "exclusion_reason"
    datasets: list[DatasetFile]
    changes: Changes
    validations_present: bool
    base_documents: list[dict] | None = None
    chart_totals: list[tuple[int, str, str, float]] = field(default_factory=list)
    license: dict[str, str] = field(default_factory=lambda: license_entry(DEFAULT_LICENSE))


# --------------------------------------------------------------------------- reading curated/


def _fetch_dicts(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict]:
    relation = con.sql(sql)
    columns = relation.columns
    return [dict(zip(columns, row)) for row in relation.fetchall()]


def _view_columns(con: duckdb.DuckDBPyConnection, view: str) -> dict[str, str]:
    return {
        row[0]: row[1] for row in con.execute(f"DESCRIBE SELECT * FROM {_quote(view)}").fetchall()
    }


def _validation_findings(con: duckdb.DuckDBPyConnection, present: bool) -> dict[str, dict]:
    """Per document: checks run, passed, failed errors and warnings, and the failed checks' text."""
    if not present:
        return {}
    columns = _view_columns(con, "validations")
    if not {"doc_id", "check", "severity", "success"} <= set(columns):
        return {}
    detail = "detail" if "detail" in columns else "NULL"
    table_no = "table_no" if "table_no" in columns else "NULL"
    rows = _fetch_dicts(
        con,
        f"""SELECT doc_id, "check", severity, success, {table_no} AS table_no, {detail} AS detail
            FROM validations ORDER BY doc_id, severity, "check", table_no NULLS FIRST, detail NULLS FIRST""",
    )
    summary: dict[str, dict] = {}
    for row in rows:
        entry = summary.setdefault(
            row["doc_id"],
            {
                "checks": 0,
                "passed": 0,
                "errors": 0,
                "warnings": 0,
                "failed": [],
                "failed_errors": [],
            },
        )
        entry["checks"] += 1
        if row["success"]:
            entry["passed"] += 1
            continue
        text = str(row["check"]) + (f" (表{row['table_no']})" if row["table_no"] else "")
        text += f": {row['detail']}" if row["detail"] else ""
        if row["severity"] == "error":
            entry["errors"] += 1
            entry["failed_errors"].append(text)
        else:
            entry["warnings"] += 1
        entry["failed"].append(f"[{row['severity']}] {text}")
    return summary


def _exclusion_reason(document: dict, findings: dict[str, dict]) -> str:
    errors = findings.get(document["doc_id"], {}).get("failed_errors") or []
    if errors:
        return "; ".join(errors)
    return document.get("reason") or "status failed"


# --------------------------------------------------------------------------- writing datasets


def release_columns(name: str, present: dict[str, str]) -> tuple[Dataset, tuple[Column, ...]]:
    """The dataset's definition and the columns a release publishes (schema order, run columns dropped).

    Columns of the files that the schema does not define yet are kept (typed from the Parquet),
    after the schema's; schema columns absent from every file are published empty.
    """
    defined = q.contract_datasets().get(name)
    if defined is None:
        defined = Dataset(name, "", f"the curated dataset {name}", (), ())
    columns = [c for c in defined.columns if not is_dropped(c.name)]
    known = {c.name for c in defined.columns}
    for column, duck_type in present.items():
        if column not in known and not is_dropped(column):
            columns.append(Column(column, _duck_to_type(duck_type), "", "", extra=True))
    return defined, tuple(columns)


def _arrow_schema(columns: tuple[Column, ...]) -> pa.Schema:
    fields = []
    for column in columns:
        metadata = {"description": column.en, "description_zh": column.zh}
        if column.unit:
            metadata["unit"] = column.unit
        fields.append(
            pa.field(column.name, column.arrow_type, nullable=column.nullable, metadata=metadata)
        )
    return pa.schema(fields)


def write_csv(table: pa.Table, path: Path) -> None:
    """UTF-8, ``\\n`` line ends, minimal quoting, empty cell = null, floats round-trip exactly."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(table.column_names)
        for batch in table.to_batches(max_chunksize=65536):
            columns = [column.to_pylist() for column in batch.columns]
            writer.writerows([q.csv_value(v) for v in row] for row in zip(*columns))


def _column_sql(column: Column, present: bool) -> str:
    """The published value: typed; empty text in a nullable text column is null (CSV cannot tell them apart)."""
    if not present:
        return f"CAST(NULL AS {_DUCK[column.type]})"
    value = f"CAST({_quote(column.name)} AS {_DUCK[column.type]})"
    if column.type == "string" and column.nullable:
        value = f"NULLIF({value}, '')"
    return value


def _write_dataset(con: duckdb.DuckDBPyConnection, name: str, data_dir: Path) -> DatasetFile:
    present = _view_columns(con, name)
    dataset, columns = release_columns(name, present)
    select = ", ".join(f"{_column_sql(c, c.name in present)} AS {_quote(c.name)}" for c in columns)
    leading = [
        k for k in SORT_KEYS.get(name, ()) if k in present and any(c.name == k for c in columns)
    ]
    order = leading + [c.name for c in columns if c.name not in leading]
    order_sql = ", ".join(f"{_quote(c)} ASC NULLS FIRST" for c in order)
    where = "WHERE doc_id IN (SELECT doc_id FROM _published)" if "doc_id" in present else ""
    table = q.arrow_table(
        con.sql(f"SELECT {select} FROM {_quote(name)} {where} ORDER BY {order_sql}")
    )
    table = table.cast(_arrow_schema(columns))
    parquet_path = data_dir / f"{name}.parquet"
    csv_path = data_dir / f"{name}.csv"
    pq.write_table(table, parquet_path, **PARQUET_OPTIONS)
    write_csv(table, csv_path)
    return DatasetFile(name, dataset, columns, table.num_rows, csv_path, parquet_path)


# --------------------------------------------------------------------------- the descriptor


def _field(column: Column, key_fields: set[str]) -> dict:
    descriptor: dict = {"name": column.name, "type": _TYPES[column.type]}
    if column.zh:
        descriptor["title"] = column.zh
    description = column.en
    if column.unit == "元":
        description += (
            " — in yuan (元, CNY); converted from the printed figure (amount_printed) in the unit the "
            "table states (unit_printed: 元, 万元 or 千元)"
        )
    elif column.unit:
        description += f" (unit: {column.unit})"
    if column.extra:
        description += " [addition to the public contract]"
    if description:
        descriptor["description"] = description
    if column.type == "float":
        descriptor["floatNumber"] = True  # frictionless-py: read as float, not Decimal
    if column.unit:
        descriptor["x_unit"] = {"元": "CNY"}.get(column.unit, column.unit)
    constraints: dict = {}
    if not column.nullable or column.name in key_fields:
        constraints["required"] = True
    if column.enum:
        constraints["enum"] = list(column.enum)
    if column.pattern:
        constraints["pattern"] = column.pattern.removeprefix("^").removesuffix("$")
    if constraints:
        descriptor["constraints"] = constraints
    return descriptor


def _resource(
    name: str, title: str, description: str, path: Path, root: Path, schema: dict, **extra
) -> dict:
    resource = {
        "name": name,
        "title": title,
        "description": description,
        "profile": "tabular-data-resource",
        "path": path.relative_to(root).as_posix(),
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8",
        "bytes": path.stat().st_size,
        "hash": "sha256:" + sha256_file(path),
        "schema": schema,
    }
    resource.update(extra)
    return resource


def _dataset_resource(item: DatasetFile, root: Path, names: set[str]) -> dict:
    pk = [k for k in item.dataset.primary_key if any(c.name == k for c in item.columns)]
    schema: dict = {
        "fields": [_field(c, set(pk)) for c in item.columns],
        "missingValues": [""],
    }
    if pk:
        schema["primaryKey"] = pk
    foreign = list(item.dataset.foreign_keys)
    doc_key = ("doc_id", "documents", "doc_id")
    if (
        item.name != "documents"
        and any(c.name == "doc_id" for c in item.columns)
        and doc_key not in foreign
    ):
        foreign.append(doc_key)
    keys = [
        {"fields": [src], "reference": {"resource": target, "fields": [target_field]}}
        for src, target, target_field in foreign
        if target in names and any(c.name == src for c in item.columns)
    ]
    if keys:
        schema["foreignKeys"] = keys
    title = f"{item.dataset.zh} ({item.name})" if item.dataset.zh else item.name
    return _resource(
        item.name,
        title,
        item.dataset.en,
        item.csv,
        root,
        schema,
        x_parquet={
            "path": item.parquet.relative_to(root).as_posix(),
            "bytes": item.parquet.stat().st_size,
            "hash": "sha256:" + sha256_file(item.parquet),
        },
        x_rows=item.rows,
    )


CODE_LIST_FILES = ("function", "econ_dept", "econ_gov")


def _code_list_resources(root: Path) -> list[dict]:
    resources = []
    for classification in CODE_LIST_FILES:
        view = f"codes_{classification}"
        path = root / "codes" / f"{classification}.csv"
        if not path.exists():
            continue
        spec = q.CODE_LISTS[view]
        schema = {
            "fields": [_field(c, set()) for c in spec.columns],
            "missingValues": [""],
            "foreignKeys": [
                {"fields": ["parent_code"], "reference": {"resource": "", "fields": ["code"]}}
            ],
        }
        resources.append(_resource(view, f"{spec.zh} ({view})", spec.en, path, root, schema))
    return resources


VALIDATION_SUMMARY_COLUMNS = (
    q.DOC_ID,
    Column("unit_name", "string", "单位名称", "budget unit"),
    Column("fiscal_year", "int", "预算年度", "fiscal year"),
    Column("status", "string", "状态", "ok, warn or failed", False, enum=("ok", "warn", "failed")),
    Column(
        "published", "bool", "是否发布", "whether the document's rows are in this release", False
    ),
    Column("checks", "int", "校验数", "checks run (empty: no validations dataset)"),
    Column("passed", "int", "通过数", "checks passed"),
    Column("errors", "int", "错误数", "failed checks of severity error"),
    Column("warnings", "int", "警告数", "failed checks of severity warn"),
    Column(
        "failed_checks",
        "string",
        "未通过的校验",
        "the failed checks, '; '-separated: [severity] check (表): detail",
    ),
    Column("reason", "string", "原因", "why the document is not published, or its failure reason"),
)


def _write_validation_summary(
    path: Path,
    documents: list[dict],
    findings: dict[str, dict],
    published_ids: set[str],
    present: bool,
) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow([c.name for c in VALIDATION_SUMMARY_COLUMNS])
        for doc in documents:
            found = findings.get(doc["doc_id"])
            counts = (
                [found["checks"], found["passed"], found["errors"], found["warnings"]]
                if found
                else ([0, 0, 0, 0] if present else [None, None, None, None])
            )
            published = doc["doc_id"] in published_ids
            reason = None
            if doc["status"] == "failed":
                reason = _exclusion_reason(doc, findings)
            writer.writerow(
                q.csv_value(v)
                for v in [
                    doc["doc_id"],
                    doc.get("unit_name"),
                    doc.get("fiscal_year"),
                    doc["status"],
                    published,
                    *counts,
                    "; ".join(found["failed"]) if found else None,
                    reason,
                ]
            )


# --------------------------------------------------------------------------- previous release


DOC_KEYS = (
    "doc_id",
    "source_name",
    "unit_name",
    "fiscal_year",
    "doc_kind",
    "template",
    "pipeline_version",
)


def _doc_key(doc: dict) -> dict:
    return {k: doc.get(k) for k in DOC_KEYS}


@dataclass
class Previous:
    version: str | None
    documents: list[dict]
    base_version: str | None
    base_documents: list[dict] | None


def read_previous(out: Path) -> Previous | None:
    """The release already in ``out`` (its version, documents and the base it was compared with)."""
    descriptor = out / "datapackage.json"
    if not descriptor.exists():
        return None
    try:
        package = json.loads(descriptor.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise PublishError(f"{descriptor} is not a readable data package: {error}") from None
    documents: list[dict] = []
    docs_path = out / "data" / "documents.parquet"
    if docs_path.exists():
        documents = [_doc_key(d) for d in pq.read_table(docs_path).to_pylist()]
    meta = package.get("x_release") or {}
    return Previous(
        package.get("version"),
        documents,
        meta.get("previous_version"),
        meta.get("previous_documents"),
    )


def compute_changes(
    base_version: str | None, base: list[dict] | None, current: list[dict]
) -> Changes:
    """Documents added, replaced (new bytes for the same file or unit-year), re-extracted, removed."""
    changes = Changes(base_version)
    current = sorted(current, key=lambda d: d["doc_id"])
    if base is None:
        changes.added = current
        return changes
    base_by_id = {d["doc_id"]: d for d in base}
    current_ids = {d["doc_id"] for d in current}
    gone = {d["doc_id"]: d for d in base if d["doc_id"] not in current_ids}
    for doc in current:
        old = base_by_id.get(doc["doc_id"])
        if old is not None:
            if old.get("pipeline_version") != doc.get("pipeline_version"):
                changes.reextracted.append((doc, old))
            else:
                changes.unchanged += 1
            continue
        match, why = None, ""
        for candidate in sorted(gone.values(), key=lambda d: d["doc_id"]):
            if doc.get("source_name") and candidate.get("source_name") == doc.get("source_name"):
                match, why = candidate, "same file name"
                break
        if match is None and doc.get("unit_name"):
            for candidate in sorted(gone.values(), key=lambda d: d["doc_id"]):
                same = all(
                    candidate.get(k) == doc.get(k) for k in ("unit_name", "fiscal_year", "doc_kind")
                )
                if same:
                    match, why = candidate, "same unit, year and kind"
                    break
        if match is None:
            changes.added.append(doc)
        else:
            gone.pop(match["doc_id"])
            changes.replaced.append((doc, match, why))
    changes.removed = sorted(gone.values(), key=lambda d: d["doc_id"])
    return changes


# --------------------------------------------------------------------------- documents: dictionary, notes


def _code_list_counts(root: Path) -> list[tuple[str, str, int, dict[int, int]]]:
    counts = []
    for classification in CODE_LIST_FILES:
        path = root / "codes" / f"{classification}.csv"
        if not path.exists():
            continue
        with path.open(encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        levels: dict[int, int] = {}
        for row in rows:
            if row.get("level"):
                levels[int(row["level"])] = levels.get(int(row["level"]), 0) + 1
        counts.append((classification, f"codes/{classification}.csv", len(rows), levels))
    return counts


def render_dictionary(release: Release) -> str:
    """curation/dictionary.py's dictionary, plus what this release adds: files, code lists, views."""
    from .dictionary import render

    out = [render().rstrip("\n"), "", "## This release", ""]
    out += [
        f"Release `{release.version}`. Every dataset is `data/<dataset>.csv` (UTF-8, empty cell = null;",
        "a text cell that begins with =, +, -, @, a tab or a carriage return and is not a number gets a",
        "leading apostrophe so a spreadsheet shows it instead of running it as a formula) and",
        "`data/<dataset>.parquet` (same rows, typed). Money is in yuan (`amount_yuan`); the figure and unit",
        "as printed are kept in `amount_printed` and `unit_printed`. Columns that record when or where the",
        "pipeline ran ("
        + ", ".join(f"`{c}`" for c in DROPPED_COLUMNS)
        + ", any `*_at`) are not published; empty text in a nullable text column is null.",
        "Only documents whose status is not `failed` are included (see `RELEASE.md`).",
        "",
    ]
    out += _md_table(
        ["file", "dataset", "中文", "rows", "columns"],
        [
            [f"`data/{d.name}.csv`, `.parquet`", d.name, d.dataset.zh, d.rows, len(d.columns)]
            for d in release.datasets
        ],
    )
    out += ["", "### Code lists (reference)", ""]
    names = {
        "function": "支出功能分类",
        "econ_dept": "部门预算支出经济分类",
        "econ_gov": "政府预算支出经济分类",
    }
    levels_zh = {1: "类", 2: "款", 3: "项"}
    out += _md_table(
        ["file", "classification", "rows", "levels", "query view"],
        [
            [
                f"`{path}`",
                f"{names[c]} (`{c}`)",
                n,
                ", ".join(f"{levels[k]} {levels_zh.get(k, k)}" for k in sorted(levels)),
                f"`codes_{c}`",
            ]
            for c, path, n, levels in _code_list_counts(release.out)
        ],
    )
    out += [
        "",
        "Columns of every code list (provenance and evidence levels: `codes/README.md`):",
        "",
    ]
    out += _md_table(
        ["column", "type", "中文", "description"],
        [[f"`{c.name}`", c.type, c.zh, c.en] for c in q.CODE_LIST_COLUMNS],
    )
    out += ["", "### Convenience views of `disclosures query`", ""]
    for view in q.VIEWS.values():
        out += [f"#### `{view.name}` — {view.zh}", "", view.en + ".", ""]
        out += _md_table(
            ["column", "type", "中文", "description"],
            [
                [f"`{c.name}`", c.type, c.zh, c.en + (f" ({c.unit})" if c.unit else "")]
                for c in view.columns
            ],
        )
        out.append("")
    out += ["### `validation-summary.csv`", ""]
    out += _md_table(
        ["column", "type", "中文", "description"],
        [[f"`{c.name}`", c.type, c.zh, c.en] for c in VALIDATION_SUMMARY_COLUMNS],
    )
    return "\n".join(out) + "\n"


def _doc_label(doc: dict) -> list:
    return [
        f"`{doc['doc_id']}`",
        doc.get("unit_name"),
        doc.get("fiscal_year"),
        doc.get("source_name"),
    ]


def _corrections_section(release: Release) -> list[str]:
    """The corrections log of the published documents (``data/corrections.*``): every
    reviewer's fix and every finding accepted as the publisher's own inconsistency, which
    stays visible here although it does not block publication."""
    log = next((d for d in release.datasets if d.name == "corrections"), None)
    rows = pq.read_table(log.parquet).to_pylist() if log is not None else []
    out = ["", f"## Corrections ({len(rows)})", ""]
    if not rows:
        return [*out, "None."]
    accepted = sum(1 for row in rows if row["status"] == "accepted")
    unmatched = sum(1 for row in rows if row["status"] == "unmatched")
    out += [
        f"Reviewers' corrections applied at ingest (`corrections/<sha256>.yaml`; full log in "
        f"`data/corrections.csv`): {len(rows) - accepted - unmatched} applied, {accepted} "
        f"finding(s) accepted as the publisher's own inconsistency (they stay in "
        f"`data/validations.csv` with `accepted`), {unmatched} matching nothing.",
        "",
    ]
    return out + _md_table(
        ["doc_id", "#", "fix", "table", "row / check", "status", "before", "after", "reason", "by", "at"],
        [
            [
                f"`{row['doc_id']}`",
                row["entry"],
                row["fix"],
                row["table_no"] or "",
                row["row"] or row["check"] or "",
                row["status"],
                row["value_before"] or "",
                row["value_after"] or "",
                row["reason"],
                row["by"] or "",
                row["at"] or "",
            ]
            for row in rows
        ],
    )  # fmt: skip


def render_release_notes(release: Release, findings: dict[str, dict]) -> str:
    changes = release.changes
    out = [f"# {PACKAGE_NAME} release {release.version}", ""]
    if changes.base_version is None and not (
        changes.replaced or changes.removed or changes.reextracted
    ):
        out += ["First release in this folder: every published document is listed as added.", ""]
    else:
        out += [f"Compared with the previous release `{changes.base_version}`.", ""]
    failed_published = [d for d in release.published if d.get("status") == "failed"]
    out += _md_table(
        ["documents", "count"],
        [
            ["published", len(release.published)],
            ["added", len(changes.added)],
            ["replaced", len(changes.replaced)],
            ["re-extracted (same PDF, new pipeline version)", len(changes.reextracted)],
            ["removed", len(changes.removed)],
            ["unchanged", changes.unchanged],
            ["excluded (status failed)", len(release.excluded)],
        ],
    )
    if failed_published:
        out += [
            "",
            f"Built with `--allow-failed`: {len(failed_published)} document(s) with status `failed` are published.",
        ]
    out += [
        "",
        "In `data/*.csv`, a text cell that a spreadsheet would run as a formula (it begins with =, +,",
        "-, @, a tab or a carriage return and is not a number) starts with an apostrophe; the Parquet",
        "files keep the exact text.",
    ]
    out += ["", f"## Added ({len(changes.added)})", ""]
    out += (
        _md_table(
            ["doc_id", "unit", "year", "source file", "template", "status"],
            [[*_doc_label(d), d.get("template"), d.get("status")] for d in changes.added],
        )
        if changes.added
        else ["None."]
    )
    out += ["", f"## Replaced ({len(changes.replaced)})", ""]
    out += (
        _md_table(
            ["doc_id", "unit", "year", "source file", "replaces", "matched by"],
            [[*_doc_label(new), f"`{old['doc_id']}`", why] for new, old, why in changes.replaced],
        )
        if changes.replaced
        else ["None."]
    )
    out += ["", f"## Re-extracted ({len(changes.reextracted)})", ""]
    out += (
        _md_table(
            ["doc_id", "unit", "year", "source file", "previous pipeline", "pipeline"],
            [
                [*_doc_label(new), old.get("pipeline_version"), new.get("pipeline_version")]
                for new, old in changes.reextracted
            ],
        )
        if changes.reextracted
        else ["None."]
    )
    excluded_ids = {d["doc_id"]: d for d in release.excluded}
    out += ["", f"## Removed ({len(changes.removed)})", ""]
    out += (
        _md_table(
            ["doc_id", "unit", "year", "source file", "why"],
            [
                [
                    *_doc_label(d),
                    "excluded: " + excluded_ids[d["doc_id"]]["exclusion_reason"]
                    if d["doc_id"] in excluded_ids
                    else "no longer in curated/",
                ]
                for d in changes.removed
            ],
        )
        if changes.removed
        else ["None."]
    )
    out += [
        "",
        f"## Excluded ({len(release.excluded)})",
        "",
        "Documents whose status is `failed` are not published; the reason is the failed",
        "validation checks of severity error, else the pipeline's failure reason.",
        "",
    ]
    out += (
        _md_table(
            ["doc_id", "unit", "year", "source file", "reason"],
            [[*_doc_label(d), d["exclusion_reason"]] for d in release.excluded],
        )
        if release.excluded
        else ["None."]
    )
    out += _corrections_section(release)
    out += ["", "## Validation summary", ""]
    if release.validations_present:
        checked = list(findings.values())
        out += [
            f"{len(findings)} documents checked, {sum(f['checks'] for f in checked)} checks, "
            f"{sum(f['errors'] for f in checked)} failed errors, {sum(f['warnings'] for f in checked)} failed warnings "
            "(per document: `validation-summary.csv`; every check: `data/validations.csv`).",
        ]
    else:
        out += [
            "The curated input has no `validations` dataset: statuses are the pipeline's own "
            "(`validation-summary.csv` lists them)."
        ]
    statuses: dict[str, int] = {}
    for doc in [*release.published, *release.excluded]:
        statuses[doc["status"]] = statuses.get(doc["status"], 0) + 1
    out += [
        "",
        "Document status: " + ", ".join(f"{k} {v}" for k, v in sorted(statuses.items())) + ".",
    ]
    out += ["", "## Datasets", ""]
    out += _md_table(
        ["dataset", "rows", "CSV", "Parquet"],
        [
            [d.name, d.rows, f"`data/{d.name}.csv`", f"`data/{d.name}.parquet`"]
            for d in release.datasets
        ],
    )
    out += [
        "",
        "## Reproducibility",
        "",
        "The same curated input gives the same bytes except `created` in `datapackage.json` (the build time,",
        "or `SOURCE_DATE_EPOCH` when set). `SHA256SUMS` covers every other file (`sha256sum -c SHA256SUMS`);",
        "`datapackage.json` lists the SHA-256 of each file it describes. Dropped columns: "
        + ", ".join(f"`{c}` ({why})" for c, why in DROPPED_COLUMNS.items())
        + ", any `*_at`.",
    ]
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- catalogue page


CHART_COLORS = (
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
)


def _nice_ceiling(value: float) -> float:
    if value <= 0:
        return 1.0
    exponent = len(str(int(value))) - 1
    base = 10**exponent
    for step in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if step * base >= value:
            return step * base
    return 10 * base


def render_chart(totals: list[tuple[int, str, str, float]]) -> str:
    """Inline SVG: stacked bars of totals by function class (类) per year, in 万元."""
    e = html.escape
    if not totals:
        return (
            '<svg id="function-chart" xmlns="http://www.w3.org/2000/svg" width="640" height="60" role="img" '
            'aria-label="no data"><text x="10" y="35">No function-classification figures in this release.</text></svg>'
        )
    by_class: dict[tuple[str, str], float] = {}
    for _, code, name, total in totals:
        by_class[(code, name)] = by_class.get((code, name), 0.0) + total
    ranked = sorted(by_class, key=lambda k: (-by_class[k], k[0]))
    top = ranked[: len(CHART_COLORS) - 1]
    other = ("", "其他")
    classes = top + ([other] if len(ranked) > len(top) else [])
    colour = {k: CHART_COLORS[i] for i, k in enumerate(classes)}
    years = sorted({t[0] for t in totals})
    stacks: dict[int, dict[tuple[str, str], float]] = {y: {} for y in years}
    for year, code, name, total in totals:
        key = (code, name) if (code, name) in colour else other
        stacks[year][key] = stacks[year].get(key, 0.0) + total / 10000
    peak = _nice_ceiling(max(sum(s.values()) for s in stacks.values()))
    left, top_margin, plot_h, bar_w, gap = 90, 20, 300, 56, 28
    plot_w = max(len(years) * (bar_w + gap) + gap, 300)
    legend_x = left + plot_w + 30
    width = legend_x + 260
    height = max(top_margin + plot_h + 50, 30 + 22 * len(classes))
    parts = [
        f'<svg id="function-chart" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="一般公共预算支出 by function class and year (万元)">',
        f'<text x="{left}" y="12" class="axis-title">万元</text>',
    ]
    for i in range(5):
        value = peak * i / 4
        y = top_margin + plot_h - plot_h * i / 4
        parts.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
        )
        parts.append(
            f'<text x="{left - 8}" y="{y + 4:.1f}" text-anchor="end" class="tick">{value:,.0f}</text>'
        )
    for index, year in enumerate(years):
        x = left + gap + index * (bar_w + gap)
        y = top_margin + plot_h
        for key in classes:
            value = stacks[year].get(key, 0.0)
            if value <= 0:
                continue
            h = plot_h * value / peak
            y -= h
            label = f"{year} · {key[0]} {key[1]}".replace("  ", " ").strip()
            parts.append(
                f'<rect x="{x}" y="{y:.2f}" width="{bar_w}" height="{h:.2f}" fill="{colour[key]}">'
                f"<title>{e(label)}: {value:,.2f} 万元</title></rect>"
            )
        total = sum(stacks[year].values())
        parts.append(
            f'<text x="{x + bar_w / 2}" y="{y - 4:.1f}" text-anchor="middle" class="tick">{total:,.0f}</text>'
        )
        parts.append(
            f'<text x="{x + bar_w / 2}" y="{top_margin + plot_h + 18}" text-anchor="middle" class="year">{year}</text>'
        )
    for index, key in enumerate(classes):
        y = 30 + index * 22
        parts.append(
            f'<rect x="{legend_x}" y="{y - 11}" width="14" height="14" fill="{colour[key]}"/>'
        )
        parts.append(
            f'<text x="{legend_x + 20}" y="{y}" class="legend">{e((key[0] + " " + key[1]).strip())}</text>'
        )
    parts.append("</svg>")
    return "\n".join(parts)


def _html_table(
    table_id: str, headers: list[str], rows: list[list], numeric: set[int] = frozenset()
) -> str:
    e = html.escape
    head = "".join(f"<th>{e(h)}</th>" for h in headers)
    body = []
    for row in rows:
        cells = []
        for i, value in enumerate(row):
            css = ' class="num"' if i in numeric else ""
            cells.append(
                f"<td{css}>{value if isinstance(value, Markup) else e('' if value is None else str(value))}</td>"
            )
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (
        f'<table id="{table_id}"><thead><tr>{head}</tr></thead><tbody>\n'
        + "\n".join(body)
        + "\n</tbody></table>"
    )


class Markup(str):
    """HTML that is already escaped."""


def _link(path: str, label: str) -> Markup:
    return Markup(f'<a href="{html.escape(path)}">{html.escape(label)}</a>')


def render_catalogue(release: Release, chart_svg: str, file_sizes: dict[str, int]) -> str:
    def size(path: str) -> str:
        return _human_bytes(file_sizes[path]) if path in file_sizes else ""

    dataset_rows = []
    for d in release.datasets:
        csv_path, parquet_path = f"data/{d.name}.csv", f"data/{d.name}.parquet"
        dataset_rows.append(
            [
                Markup(f"<code>{html.escape(d.name)}</code>"),
                d.dataset.zh,
                d.dataset.en,
                f"{d.rows:,}",
                len(d.columns),
                Markup(
                    f"{_link(csv_path, 'CSV')} <small>{size(csv_path)}</small> · "
                    f"{_link(parquet_path, 'Parquet')} <small>{size(parquet_path)}</small>"
                ),
            ]
        )
    for view, spec in q.CODE_LISTS.items():
        path = f"codes/{view.removeprefix('codes_')}.csv"
        if path in file_sizes:
            dataset_rows.append(
                [
                    Markup(f"<code>{html.escape(view)}</code>"),
                    spec.zh,
                    spec.en,
                    "",
                    len(spec.columns),
                    Markup(f"{_link(path, 'CSV')} <small>{size(path)}</small>"),
                ]
            )
    datasets_html = _html_table(
        "datasets",
        ["dataset", "中文", "description", "rows", "columns", "download"],
        dataset_rows,
        {3, 4},
    )
    documents = sorted(
        release.published,
        key=lambda d: (
            d.get("admin_region") or "",
            d.get("unit_name") or "",
            d.get("fiscal_year") or 0,
            d["doc_id"],
        ),
    )
    document_rows = [
        [
            d.get("unit_name") or "—",
            d.get("fiscal_year"),
            {"budget": "预算", "final_account": "决算"}.get(d.get("doc_kind"), d.get("doc_kind")),
            d.get("template") or "—",
            Markup(
                f'<span class="status {html.escape(str(d.get("status")))}">{html.escape(str(d.get("status")))}</span>'
            ),
            f"{d.get('n_line_items') or 0:,}",
            d.get("source_name"),
            Markup(f"<code>{d['doc_id']}</code>"),
        ]
        for d in documents
    ]
    documents_html = _html_table(
        "documents",
        [
            "单位 unit",
            "年度 year",
            "类型",
            "模板 template",
            "状态 status",
            "明细行 line items",
            "file",
            "doc_id",
        ],
        document_rows,
        {1, 5},
    )
    units: dict[tuple, dict] = {}
    for d in documents:
        key = (d.get("admin_region") or "", d.get("unit_name") or "", d.get("unit_code") or "")
        entry = units.setdefault(key, {"years": set(), "docs": 0})
        if d.get("fiscal_year"):
            entry["years"].add(d["fiscal_year"])
        entry["docs"] += 1
    unit_rows = [
        [name or "—", code, region, ", ".join(str(y) for y in sorted(v["years"])), v["docs"]]
        for (region, name, code), v in sorted(units.items())
    ]
    units_html = _html_table(
        "units",
        ["单位 unit", "单位编码 code", "行政区划 region", "年度 years", "文档 documents"],
        unit_rows,
        {4},
    )
    files = [
        (
            "datapackage.json",
            "Frictionless Data Package descriptor (table schemas, keys, licence, sources)",
        ),
        (
            "data-dictionary.md",
            "data dictionary: every column in Chinese and English, code lists, views",
        ),
        ("RELEASE.md", "release notes: documents added, replaced, removed, excluded"),
        ("validation-summary.csv", "per document: status, checks, errors, warnings"),
        ("codes/README.md", "code lists: provenance and evidence levels"),
        ("SHA256SUMS", "checksums (sha256sum -c SHA256SUMS)"),
    ]
    files_html = "\n".join(
        f"<li>{_link(path, path)} <small>{size(path)}</small> — {html.escape(text)}</li>"
        for path, text in files
    )
    template = Template((CATALOGUE_DIR / "index.html").read_text(encoding="utf-8"))
    return template.substitute(
        title=html.escape(f"{PACKAGE_TITLE} — {release.version}"),
        version=html.escape(release.version),
        css=(CATALOGUE_DIR / "catalogue.css").read_text(encoding="utf-8"),
        js=(CATALOGUE_DIR / "catalogue.js").read_text(encoding="utf-8"),
        n_documents=len(release.published),
        n_units=len(units),
        n_excluded=len(release.excluded),
        years=html.escape(_year_span(release.published)),
        license=_link(release.license["path"], release.license["title"]),
        source_note=html.escape(SOURCE_NOTE),
        datasets_table=datasets_html,
        files_list=files_html,
        chart=chart_svg,
        units_table=units_html,
        documents_table=documents_html,
    )


def _year_span(documents: list[dict]) -> str:
    years = sorted({d["fiscal_year"] for d in documents if d.get("fiscal_year")})
    if not years:
        return "—"
    return str(years[0]) if len(years) == 1 else f"{years[0]}–{years[-1]}"


# --------------------------------------------------------------------------- publish


def _default_version(data_dir: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(data_dir.glob("*.parquet")):
        digest.update(path.name.encode() + b"\0" + sha256_file(path).encode() + b"\n")
    return f"snapshot-{digest.hexdigest()[:12]}"


def _write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8"))


def publish(
    curated: Path | str,
    out: Path | str,
    *,
    version: str | None = None,
    allow_failed: bool = False,
    created: str | None = None,
    license: str = DEFAULT_LICENSE,
) -> Release:
    """Build the release of ``curated`` into the folder ``out`` (replacing a release already there).

    ``out`` must be absent, empty, or hold an earlier release (a ``datapackage.json``): the notes
    compare with that release. Raises :class:`PublishError` for usage errors (nothing written).
    """
    curated, out = Path(curated), Path(out)
    chosen_license = license_entry(license)
    timestamp = _created(created)
    if version is not None and (not version.strip() or any(ch in version for ch in "\n\r")):
        raise PublishError(f"invalid version: {version!r}")
    try:
        con = q.connect(curated)
    except FileNotFoundError as error:
        raise PublishError(str(error)) from None
    if out.exists() and not out.is_dir():
        raise PublishError(f"{out} exists and is not a folder")
    previous = read_previous(out) if out.is_dir() else None
    if previous is None and out.is_dir() and any(out.iterdir()):
        raise PublishError(
            f"{out} is not empty and holds no release (no datapackage.json): refusing to overwrite it"
        )
    tmp = out.parent / f".{out.name}.building-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        release, findings = _build(con, curated, tmp, version, allow_failed, previous)
        release.created = timestamp
        release.license = chosen_license
        _finish(release, tmp, findings, allow_failed)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        con.close()
    # swap the new release into place
    old = out.parent / f".{out.name}.old-{os.getpid()}"
    if out.exists():
        os.replace(out, old)
    os.replace(tmp, out)
    shutil.rmtree(old, ignore_errors=True)
    release.out = out
    return release


def _build(
    con: duckdb.DuckDBPyConnection,
    curated: Path,
    root: Path,
    version: str | None,
    allow_failed: bool,
    previous: Previous | None,
) -> tuple[Release, dict[str, dict]]:
    folders = q.dataset_folders(curated)
    validations_present = "validations" in folders
    findings = _validation_findings(con, validations_present)
    documents = _fetch_dicts(con, "SELECT * FROM documents ORDER BY doc_id")
    published = [d for d in documents if allow_failed or d.get("status") != "failed"]
    published_ids = {d["doc_id"] for d in published}
    excluded = [
        dict(d, exclusion_reason=_exclusion_reason(d, findings))
        for d in documents
        if d["doc_id"] not in published_ids
    ]
    con.execute("CREATE TEMP TABLE _published (doc_id VARCHAR)")
    if published_ids:
        con.executemany("INSERT INTO _published VALUES (?)", [[d] for d in sorted(published_ids)])

    data_dir = root / "data"
    data_dir.mkdir(parents=True)
    names = [n for n in DATASET_ORDER if n in folders] + sorted(
        n for n in folders if n not in DATASET_ORDER
    )
    if "documents" not in names:
        names.insert(0, "documents")  # always published (empty), the target of every doc_id key
    datasets = [_write_dataset(con, name, data_dir) for name in names]

    codes_dir = root / "codes"
    codes_dir.mkdir()
    for classification in CODE_LIST_FILES:
        source = q.code_list_path(f"codes_{classification}")
        if source.exists():
            shutil.copyfile(source, codes_dir / source.name)
    readme = q.CODES_DIR / "README.md"
    if readme.exists():
        shutil.copyfile(readme, codes_dir / "README.md")

    _write_validation_summary(
        root / "validation-summary.csv", documents, findings, published_ids, validations_present
    )

    version = version or _default_version(data_dir)
    current = [_doc_key(d) for d in published]
    if previous is None:
        base_version, base_docs = None, None
    elif previous.version == version:  # a rebuild of the same version: keep its comparison base
        base_version, base_docs = previous.base_version, previous.base_documents
    else:
        base_version, base_docs = previous.version, previous.documents
    changes = compute_changes(base_version, base_docs, current)
    full = {d["doc_id"]: d for d in published}
    changes.added = [full[d["doc_id"]] for d in changes.added]
    release = Release(
        root,
        version,
        "",
        published,
        excluded,
        datasets,
        changes,
        validations_present,
        base_docs,
        _chart_totals(con),
    )
    return release, findings


def _chart_totals(con: duckdb.DuckDBPyConnection) -> list[tuple[int, str, str, float]]:
    return con.execute(
        """
        SELECT fiscal_year, code, min(name) AS name, sum(total) AS total
        FROM function_expenditure_wide
        WHERE level = 1 AND total IS NOT NULL AND fiscal_year IS NOT NULL
          AND doc_id IN (SELECT doc_id FROM _published)
        GROUP BY fiscal_year, code ORDER BY fiscal_year, code
        """
    ).fetchall()


def _finish(release: Release, root: Path, findings: dict[str, dict], allow_failed: bool) -> None:
    _write_text(root / "data-dictionary.md", render_dictionary(release))
    _write_text(root / "RELEASE.md", render_release_notes(release, findings))

    # the chart totals come from the published documents only (the _published filter)
    sizes = {
        p.relative_to(root).as_posix(): p.stat().st_size
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }
    _write_text(
        root / "index.html", render_catalogue(release, render_chart(release.chart_totals), sizes)
    )

    names = {d.name for d in release.datasets}
    resources = [_dataset_resource(d, root, names) for d in release.datasets]
    resources += _code_list_resources(root)
    summary = root / "validation-summary.csv"
    resources.append(
        _resource(
            "validation_summary",
            "校验摘要 (validation_summary)",
            "one row per curated document (published or not): status, checks run, failed errors and warnings",
            summary,
            root,
            {
                "fields": [_field(c, {"doc_id"}) for c in VALIDATION_SUMMARY_COLUMNS],
                "missingValues": [""],
                "primaryKey": ["doc_id"],
            },
        )
    )
    sources = [{"title": SOURCE_NOTE}]
    for doc in sorted(release.published, key=lambda d: d["doc_id"]):
        kind = {"budget": "预算", "final_account": "决算"}.get(
            doc.get("doc_kind"), doc.get("doc_kind") or ""
        )
        label = " ".join(str(v) for v in (doc.get("unit_name"), doc.get("fiscal_year"), kind) if v)
        sources.append(
            {
                "title": f"{label or 'unidentified document'} — {doc.get('source_name')} (sha256 {doc.get('sha256')})"
            }
        )
    package = {
        "profile": "tabular-data-package",
        "name": PACKAGE_NAME,
        "title": PACKAGE_TITLE,
        "description": (
            "Every money figure of every table of the published budget disclosures as a row (line_items), "
            "with the documents, their tables and performance targets; amounts in yuan (元), the printed "
            "figure and unit kept beside them. Built by the budget-disclosures pipeline; see RELEASE.md "
            "and data-dictionary.md."
        ),
        "version": release.version,
        "created": release.created,
        "keywords": ["budget", "预算公开", "government finance", "China", "open data"],
        "licenses": [release.license],
        "sources": sources,
        "resources": resources,
        "x_release": {
            "previous_version": release.changes.base_version,
            "previous_documents": release.base_documents,
            "allow_failed": allow_failed,
            "excluded_documents": [d["doc_id"] for d in release.excluded],
            "dropped_columns": [*DROPPED_COLUMNS, "*_at"],
            "timestamp_field": "created",
            "parquet_writer": {"library": f"pyarrow {pa.__version__}", **PARQUET_OPTIONS},
        },
    }
    _write_text(root / "datapackage.json", json.dumps(package, ensure_ascii=False, indent=2) + "\n")

    lines = [
        f"{sha256_file(p)}  {p.relative_to(root).as_posix()}"
        for p in sorted(root.rglob("*"), key=lambda p: p.relative_to(root).as_posix())
        if p.is_file() and p.name not in {"SHA256SUMS", "datapackage.json"}
    ]
    _write_text(root / "SHA256SUMS", "\n".join(lines) + "\n")


def verify_checksums(root: Path) -> list[str]:
    """Files whose SHA-256 differs from ``SHA256SUMS`` (empty: all good)."""
    bad = []
    for line in (root / "SHA256SUMS").read_text(encoding="utf-8").splitlines():
        digest, _, name = line.partition("  ")
        if sha256_file(root / name) != digest:
            bad.append(name)
    return bad


def summary_text(release: Release) -> str:
    buffer = io.StringIO()
    changes = release.changes
    buffer.write(
        f"release {release.version} → {release.out}/\n"
        f"  {len(release.published)} documents published, {len(release.excluded)} excluded; "
        f"added {len(changes.added)}, replaced {len(changes.replaced)}, re-extracted {len(changes.reextracted)}, "
        f"removed {len(changes.removed)}"
        + (f" (vs {changes.base_version})" if changes.base_version else "")
        + "\n"
    )
    for d in release.datasets:
        buffer.write(f"  {d.name:<22} {d.rows:>9,} rows\n")
    return buffer.getvalue()
