"""Expectation suites, one per curated dataset, generated from the schema and the check catalogue.

``python -m budget_disclosures.validation.suites`` writes ``validation/suites/<dataset>.json`` (GX Core 1.x
expectation configurations: ``type``, ``kwargs``, ``meta``, ``severity``); a test checks that
the committed files are current. Each expectation's ``meta`` names its check id and severity
(``error`` / ``warn``), which map the GX results onto rows of the ``validations`` dataset.
"""

from __future__ import annotations

import json
import logging
import sys
from functools import lru_cache
from pathlib import Path

from budget_disclosures.curation.schema import DATASETS, Dataset

from .checks import ROW_SET_CHECKS

log = logging.getLogger(__name__)
SUITES_DIR = Path(__file__).resolve().parent / "suites"
VALIDATED = tuple(name for name in DATASETS if name not in ("validations", "corrections"))
"""The datasets validated (``validations`` is the output, not an input)."""

# contract type → the column's declared type once loaded into SQLite (the GX batch)
SQL_TYPES = {"string": "TEXT", "int": "INTEGER", "float": "REAL", "bool": "BOOLEAN"}
GX_SEVERITY = {"error": "critical", "warn": "warning"}


def _expectation(type_: str, kwargs: dict, check: str, severity: str = "error", **meta) -> dict:
    return {
        "type": type_,
        "kwargs": kwargs,
        "meta": {"check": check, "severity": severity, **meta},
        "severity": GX_SEVERITY[severity],
    }


def schema_expectations(dataset: Dataset) -> list[dict]:
    """Column list, types, non-null, allowed values, patterns and key, from the schema."""
    out = [
        _expectation(
            "expect_table_columns_to_match_ordered_list",
            {"column_list": dataset.column_names},
            "schema.columns",
        )
    ]
    for column in dataset.columns:
        out.append(
            _expectation(
                "expect_column_values_to_be_of_type",
                {"column": column.name, "type_": SQL_TYPES[column.type]},
                "schema.types",
            )
        )
        if not column.nullable:
            out.append(
                _expectation(
                    "expect_column_values_to_not_be_null",
                    {"column": column.name},
                    "schema.not_null",
                )
            )
        if column.enum:
            out.append(
                _expectation(
                    "expect_column_values_to_be_in_set",
                    {"column": column.name, "value_set": list(column.enum)},
                    "schema.values",
                )
            )
        if column.pattern:
            out.append(
                _expectation(
                    "expect_column_values_to_match_regex",
                    {"column": column.name, "regex": column.pattern},
                    "schema.pattern",
                )
            )
    key = list(dataset.primary_key)
    if key:
        # a GROUP BY query rather than expect_compound_columns_to_be_unique: GX reports no row
        # index for compound keys on SQL, and the finding must name its document
        columns = ", ".join(f'"{c}"' for c in key)
        shown = " || ' / ' || ".join(f"COALESCE(CAST(\"{c}\" AS TEXT), '-')" for c in key)
        table_no = '"table_no"' if "table_no" in dataset.column_names else "NULL"
        query = (
            f"SELECT doc_id, {'MIN(' + table_no + ')' if table_no != 'NULL' else 'NULL'} AS table_no, "
            f"'{dataset.name} ({', '.join(key)})' AS subject, {shown} AS observed, "
            f"'unique' AS expected, 'error' AS severity, COUNT(*) AS weight "
            f"FROM {{batch}} GROUP BY {columns} HAVING COUNT(*) > 1"
        )
        out.append(
            _expectation(
                "unexpected_rows_expectation",
                {
                    "unexpected_rows_query": query,
                    "description": f"the primary key ({', '.join(key)}) is unique",
                },
                "schema.unique_key",
            )
        )
    return out


def row_set_expectations(dataset: str) -> list[dict]:
    return [
        _expectation(
            "unexpected_rows_expectation",
            {"unexpected_rows_query": check.sql.strip(), "description": check.description},
            check.id,
            check.severity,
        )
        for check in ROW_SET_CHECKS
        if check.dataset == dataset
    ]


def build_suite(name: str) -> dict:
    dataset = DATASETS[name]
    return {
        "name": name,
        "meta": {
            "generated_by": "python -m budget_disclosures.validation.suites (from curation/schema.py and validation/checks.py)",
            "dataset": name,
        },
        "expectations": schema_expectations(dataset) + row_set_expectations(name),
    }


def render(suite: dict) -> str:
    return json.dumps(suite, ensure_ascii=False, indent=2) + "\n"


def write_suites(folder: Path = SUITES_DIR) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in VALIDATED:
        path = folder / f"{name}.json"
        path.write_text(render(build_suite(name)), encoding="utf-8")
        paths.append(path)
    return paths


def stale_suites(folder: Path = SUITES_DIR) -> list[str]:
    """Datasets whose committed suite file differs from what the schema generates now."""
    stale = []
    for name in VALIDATED:
        path = folder / f"{name}.json"
        if not path.exists() or path.read_text(encoding="utf-8") != render(build_suite(name)):
            stale.append(name)
    return stale


@lru_cache(maxsize=1)
def load_suites(folder: Path = SUITES_DIR) -> dict[str, dict]:
    """The committed suite files (what both the ingest and ``disclosures validate`` run).

    The schema is the source of truth: when a suite file is stale (the schema changed and
    ``python -m budget_disclosures.validation.suites`` was not run; a test catches it) the suite generated
    from the current schema is used, with a warning, rather than failing every document.
    """
    suites = {}
    for name in VALIDATED:
        generated = build_suite(name)
        path = folder / f"{name}.json"
        committed = json.loads(path.read_text(encoding="utf-8")) if path.exists() else None
        if committed != generated:
            log.warning(
                "validation suite %s is stale: run `python -m budget_disclosures.validation.suites`",
                path,
            )
        suites[name] = generated if committed != generated else committed
    return suites


def main() -> None:
    for path in write_suites():
        print(
            path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path,
            file=sys.stderr,
        )


if __name__ == "__main__":
    main()
