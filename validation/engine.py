"""Run the suites: load curated rows into SQLite, evaluate, turn failures into ``validations`` rows.

Two evaluators read the same suite files (:mod:`validation.suites`):

* :func:`evaluate_fast` runs each expectation as one SQL statement on an in-memory SQLite
  database (the row-set checks *are* SQL; the column expectations translate one to one). It
  is what every ingest runs, per document, in a few milliseconds and without importing GX;
* :mod:`validation.gx` runs the same suites with GX Core over the whole store
  (``disclosures validate``) and builds Data Docs.

Both produce *instances* (one failing row, relation or value), which :func:`aggregate` turns
into one ``validations`` row per check per document. A test checks that both evaluators
give identical rows.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import pyarrow as pa
from budget_disclosures.curation.schema import DATASETS

from .checks import CHECK_ORDER, CHECKS, ERROR, WARN
from .suites import SQL_TYPES, VALIDATED, load_suites

_ARROW_SQL = {
    pa.string(): "TEXT",
    pa.large_string(): "TEXT",
    pa.int64(): "INTEGER",
    pa.int32(): "INTEGER",
    pa.float64(): "REAL",
    pa.bool_(): "BOOLEAN",
}


@dataclass(frozen=True, slots=True)
class Instance:
    """One failing row, relation or value of a check."""

    doc_id: str
    check: str
    severity: str
    table_no: str | None
    subject: str
    observed: str | None
    expected: str | None
    weight: float = 1.0


@dataclass(slots=True)
class Report:
    """A document's validation result."""

    rows: list[dict]
    status: str = "ok"
    reason: str | None = None
    n_errors: int = 0
    n_warnings: int = 0
    errors: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- SQLite store


def _regexp(pattern: str, value) -> bool:
    return value is not None and _compiled(pattern).search(str(value)) is not None


@lru_cache(maxsize=64)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def reference_rows() -> tuple[list[tuple], list[tuple]]:
    """The code lists and the templates' table lists, as rows for ``ref_codes`` / ``ref_template_tables``."""
    from budget_disclosures.mappings.codelists import CLASSIFICATION_FILES, load_code_list
    from budget_disclosures.mappings.loader import default_templates

    codes = [
        (classification, e.code, e.name, e.valid_from, e.valid_to)
        for classification in CLASSIFICATION_FILES
        for e in load_code_list(classification)
    ]
    tables = [
        (t.id, r.table_no, r.kind, int(r.required)) for t in default_templates() for r in t.tables
    ]
    return codes, tables


def create_reference(con: sqlite3.Connection) -> None:
    """The reference tables the row-set checks join: ``ref_codes``, ``ref_template_tables`` and
    ``ref_fact_checks`` (which table row each stated figure is compared with)."""
    from .fact_checks import create_fact_checks

    codes, tables = reference_rows()
    con.execute(
        "CREATE TABLE ref_codes (classification TEXT, code TEXT, name TEXT, valid_from INTEGER, valid_to INTEGER)"
    )
    con.execute("CREATE INDEX ref_codes_code ON ref_codes (code, classification)")
    con.executemany("INSERT INTO ref_codes VALUES (?, ?, ?, ?, ?)", codes)
    con.execute(
        "CREATE TABLE ref_template_tables (template TEXT, table_no TEXT, kind TEXT, required INTEGER)"
    )
    con.executemany("INSERT INTO ref_template_tables VALUES (?, ?, ?, ?)", tables)
    create_fact_checks(con)
    con.commit()


def connect(path: str = ":memory:") -> sqlite3.Connection:
    con = sqlite3.connect(path, check_same_thread=False)
    con.create_function("regexp", 2, _regexp, deterministic=True)
    create_reference(con)
    return con


def create_dataset_table(
    con: sqlite3.Connection, dataset: str, types: Sequence[tuple[str, str]]
) -> None:
    con.execute(f'DROP TABLE IF EXISTS "{dataset}"')
    columns = ", ".join(f'"{name}" {sql_type}' for name, sql_type in types)
    con.execute(f'CREATE TABLE "{dataset}" ({columns})')


def contract_types(dataset: str) -> list[tuple[str, str]]:
    return [(c.name, SQL_TYPES[c.type]) for c in DATASETS[dataset].columns]


def arrow_types(schema: pa.Schema) -> list[tuple[str, str]]:
    return [(f.name, _ARROW_SQL.get(f.type, str(f.type).upper())) for f in schema]


def insert_rows(
    con: sqlite3.Connection, dataset: str, columns: Sequence[str], rows: Iterable[Sequence]
) -> None:
    marks = ", ".join("?" for _ in columns)
    con.executemany(f'INSERT INTO "{dataset}" VALUES ({marks})', rows)


_local = threading.local()


def _document_connection() -> sqlite3.Connection:
    """One in-memory database per thread, reference tables loaded once."""
    con = getattr(_local, "con", None)
    if con is None:
        con = _local.con = connect()
        for dataset in VALIDATED:
            create_dataset_table(con, dataset, contract_types(dataset))
    return con


# --------------------------------------------------------------------------- descriptions


def _short(value, limit: int = 60) -> str:
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe(expectation: dict) -> str:
    """What a column expectation expects, as the ``expected`` text of its instances."""
    kwargs = expectation["kwargs"]
    kind = expectation["type"]
    if kind == "expect_column_values_to_not_be_null":
        return "not null"
    if kind == "expect_column_values_to_be_in_set":
        return "one of " + ", ".join(map(str, kwargs["value_set"]))
    if kind == "expect_column_values_to_match_regex":
        return "matches " + kwargs["regex"]
    if kind in {"expect_column_values_to_be_unique", "expect_compound_columns_to_be_unique"}:
        return "unique"
    if kind == "expect_table_columns_to_match_ordered_list":
        return ", ".join(kwargs["column_list"])
    if kind == "expect_column_values_to_be_of_type":
        return kwargs["type_"]
    return kind


def subject_of(dataset: str, expectation: dict) -> str:
    kwargs = expectation["kwargs"]
    if "column" in kwargs:
        return f"{dataset}.{kwargs['column']}"
    if (
        "column_list" in kwargs
        and expectation["type"] != "expect_table_columns_to_match_ordered_list"
    ):
        return f"{dataset}.({', '.join(kwargs['column_list'])})"
    return dataset


def has_table_no(dataset: str) -> bool:
    return "table_no" in DATASETS[dataset].column_names


def column_instance(dataset: str, expectation: dict, doc_id, table_no, value) -> Instance:
    meta = expectation["meta"]
    return Instance(
        doc_id=doc_id,
        check=meta["check"],
        severity=meta["severity"],
        table_no=table_no,
        subject=subject_of(dataset, expectation),
        observed=None if value is None else _short(value),
        expected=describe(expectation),
    )


def row_instances(expectation: dict, records: Iterable[dict]) -> list[Instance]:
    meta = expectation["meta"]
    return [
        Instance(
            doc_id=r["doc_id"],
            check=meta["check"],
            severity=r.get("severity") or meta["severity"],
            table_no=None if r.get("table_no") is None else str(r["table_no"]),
            subject=str(r.get("subject") or ""),
            observed=None if r.get("observed") is None else str(r["observed"]),
            expected=None if r.get("expected") is None else str(r["expected"]),
            weight=float(r.get("weight") or 1.0),
        )
        for r in records
    ]


def query_for(expectation: dict, dataset: str) -> str:
    return expectation["kwargs"]["unexpected_rows_query"].replace("{batch}", f'"{dataset}"')


# --------------------------------------------------------------------------- fast evaluator


def _records(con: sqlite3.Connection, sql: str, params: Sequence = ()) -> list[dict]:
    cursor = con.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def evaluate_fast(con: sqlite3.Connection, doc_ids: Sequence[str]) -> list[Instance]:
    """Every expectation of every suite, as SQL, on the datasets loaded in ``con``."""
    instances: list[Instance] = []
    for dataset, suite in load_suites().items():
        info = con.execute(f'PRAGMA table_info("{dataset}")').fetchall()
        declared = {row[1]: row[2] for row in info}
        order = [row[1] for row in info]
        doc_expr = '"doc_id"' if "doc_id" in declared else "NULL"
        table_expr = '"table_no"' if has_table_no(dataset) and "table_no" in declared else "NULL"
        for expectation in suite["expectations"]:
            kind, kwargs = expectation["type"], expectation["kwargs"]
            column = kwargs.get("column")
            if column is not None and column not in declared:
                continue  # reported by schema.columns
            if kind == "expect_table_columns_to_match_ordered_list":
                if order != kwargs["column_list"]:
                    instances += [
                        column_instance(dataset, expectation, d, None, ", ".join(order))
                        for d in doc_ids
                    ]
                continue
            if kind == "expect_column_values_to_be_of_type":
                if declared[column].upper() != kwargs["type_"].upper():
                    instances += [
                        column_instance(dataset, expectation, d, None, declared[column])
                        for d in doc_ids
                    ]
                continue
            if kind == "unexpected_rows_expectation":
                instances += row_instances(
                    expectation, _records(con, query_for(expectation, dataset))
                )
                continue
            params: tuple = ()
            if kind == "expect_column_values_to_not_be_null":
                where = f'"{column}" IS NULL'
            elif kind == "expect_column_values_to_be_in_set":
                values = kwargs["value_set"]
                where = f'"{column}" IS NOT NULL AND "{column}" NOT IN ({", ".join("?" for _ in values)})'
                params = tuple(values)
            elif kind == "expect_column_values_to_match_regex":
                where = f'"{column}" IS NOT NULL AND NOT regexp(?, "{column}")'
                params = (kwargs["regex"],)
            elif kind in {
                "expect_column_values_to_be_unique",
                "expect_compound_columns_to_be_unique",
            }:
                columns = kwargs.get("column_list") or [column]
                if any(c not in declared for c in columns):
                    continue
                key = ", ".join(f'"{c}"' for c in columns)
                where = (
                    f'({key}) IN (SELECT {key} FROM "{dataset}" GROUP BY {key} HAVING COUNT(*) > 1)'
                )
                column = None
            else:
                raise ValueError(f"no fast evaluator for {kind}")
            value_expr = f'"{column}"' if column else "NULL"
            sql = f'SELECT {doc_expr}, {table_expr}, {value_expr} FROM "{dataset}" WHERE {where}'
            for doc_id, table_no, value in con.execute(sql, params):
                instances.append(column_instance(dataset, expectation, doc_id, table_no, value))
    return instances


# --------------------------------------------------------------------------- aggregation

_RANK = {ERROR: 0, WARN: 1}


def _order(instance: Instance) -> tuple:
    return (
        _RANK.get(instance.severity, 2),
        -round(instance.weight, 6),
        instance.table_no or "",
        instance.subject,
        instance.observed or "",
    )


def _where(instance: Instance) -> str:
    return (f"表{instance.table_no} " if instance.table_no else "") + instance.subject


def aggregate(instances: Iterable[Instance], doc_ids: Iterable[str]) -> dict[str, list[dict]]:
    """One ``validations`` row per check per document (catalogue order)."""
    by_key: dict[tuple[str, str], list[Instance]] = {}
    for instance in instances:
        by_key.setdefault((instance.doc_id, instance.check), []).append(instance)
    out: dict[str, list[dict]] = {}
    for doc_id in doc_ids:
        rows = []
        for check in CHECKS:
            found = sorted(set(by_key.get((doc_id, check.id), ())), key=_order)
            if not found:
                rows.append(
                    {
                        "doc_id": doc_id,
                        "check": check.id,
                        "severity": check.severity,
                        "success": True,
                        "observed": None,
                        "expected": None,
                        "table_no": None,
                        "detail": None,
                        "n_failed": 0,
                    }
                )
                continue
            worst = found[0]
            severity = ERROR if worst.severity == ERROR else WARN
            shown = "; ".join(
                f"{_where(i)}: {i.observed} ≠ {i.expected}" if i.observed is not None else _where(i)
                for i in found[:3]
            )
            more = f" (+{len(found) - 3} more)" if len(found) > 3 else ""
            n_errors = sum(1 for i in found if i.severity == ERROR)
            tally = f"{len(found)} failing"
            if check.id.startswith(("arith.", "cross.")) and check.severity == ERROR:
                tally += f", {n_errors} beyond rounding tolerance"
            rows.append(
                {
                    "doc_id": doc_id,
                    "check": check.id,
                    "severity": severity,
                    "success": False,
                    "observed": worst.observed,
                    "expected": worst.expected,
                    "table_no": worst.table_no,
                    "detail": f"{tally}: {shown}{more}",
                    "n_failed": len(found),
                }
            )
        out[doc_id] = rows
    return out


def report_for(rows: list[dict]) -> Report:
    """Status ``failed`` on an error finding (reason: the first error check), ``warn`` on a
    warning; a finding a reviewer accepted (``accepted``) counts as neither."""
    open_rows = [r for r in rows if not r["success"] and not r.get("accepted")]
    errors = [r for r in open_rows if r["severity"] == ERROR]
    warnings = [r for r in open_rows if r["severity"] == WARN]
    errors.sort(key=lambda r: CHECK_ORDER.get(r["check"], 999))
    report = Report(rows=rows, n_errors=len(errors), n_warnings=len(warnings))
    report.errors = [r["check"] for r in errors]
    if errors:
        first = errors[0]
        report.status = "failed"
        report.reason = f"validation error {first['check']}: {first['detail']}"
    elif warnings:
        report.status = "warn"
    return report


# --------------------------------------------------------------------------- one document


def validate_rows(rows_by_dataset: dict[str, list[dict]]) -> Report:
    """Validate one document's rows (as :func:`flows.pipeline.build_rows` makes them)."""
    con = _document_connection()
    try:
        for dataset in VALIDATED:
            columns = DATASETS[dataset].column_names
            con.execute(f'DELETE FROM "{dataset}"')
            insert_rows(
                con,
                dataset,
                columns,
                (tuple(row.get(c) for c in columns) for row in rows_by_dataset.get(dataset, ())),
            )
        doc_ids = [r["doc_id"] for r in rows_by_dataset.get("documents", ())]
        instances = evaluate_fast(con, doc_ids)
    finally:
        con.rollback()
    by_doc = aggregate(instances, doc_ids)
    rows = [row for doc_id in doc_ids for row in by_doc[doc_id]]
    return report_for(rows)
