"""The Frictionless descriptor (datapackage.json) and the validation summary of a release.

Split from ``publish.py`` (issue 18): one responsibility per file."""

from __future__ import annotations

import csv
from pathlib import Path

from . import query as q
from .release_data import (
    _exclusion_reason,
)
from .release_model import (
    _TYPES,
    DatasetFile,
    sha256_file,
)
from .schema import Column

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
