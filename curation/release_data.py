"""Reading curated/ for a release and writing its datasets (CSV and Parquet, formula-safe text).

Split from ``publish.py`` (issue 18): one responsibility per file."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from . import query as q
from .release_model import (
    _DUCK,
    PARQUET_OPTIONS,
    SORT_KEYS,
    DatasetFile,
    _duck_to_type,
    _quote,
    is_dropped,
)
from .schema import Column, Dataset

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
