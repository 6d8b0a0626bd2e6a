"""The release model: licences, constants, small helpers, the dataclasses of a release.

Split from ``publish.py`` (issue 18): one responsibility per file."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

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
