"""Run the suites with GX Core 1.x over the whole curated store, and build Data Docs.

Every dataset's Parquet files are loaded into one SQLite database under
``<curated>/_validation/`` (with the reference code lists and template table lists beside
them), which a GX SQLite Data Source reads on an ephemeral context (no project folder).
Column expectations run natively; the row-set checks run as ``UnexpectedRowsExpectation``
SQL over ``{batch}``. The results map onto the same instances as the fast evaluator
(:func:`validation.engine.evaluate_fast`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from .engine import (
    Instance,
    arrow_types,
    column_instance,
    connect,
    create_dataset_table,
    has_table_no,
    insert_rows,
    row_instances,
)
from .suites import GX_SEVERITY, load_suites

log = logging.getLogger(__name__)
VALIDATION_DIR = "_validation"


@dataclass
class GxRun:
    instances: list[Instance]
    doc_ids: list[str]
    data_docs: Path | None = None
    seconds: dict[str, float] = field(default_factory=dict)


def read_dataset(curated: Path, dataset: str) -> pa.Table | None:
    """All of a dataset's files as one table (columns unified; None when there are none)."""
    folder = curated / dataset
    files = sorted(folder.glob("*.parquet")) if folder.is_dir() else []
    tables = []
    for path in files:
        try:
            tables.append(pq.read_table(path))
        except Exception as error:  # a damaged file: its document is redone by the next ingest
            log.warning("cannot read %s: %s", path, error)
    if not tables:
        return None
    return pa.concat_tables(tables, promote_options="permissive")


def load_store(curated: Path, database: Path) -> list[str]:
    """The curated datasets as SQLite tables in ``database``; returns the documents' ids."""
    database.parent.mkdir(parents=True, exist_ok=True)
    if database.exists():
        database.unlink()
    con = connect(str(database))
    doc_ids: list[str] = []
    try:
        for dataset in load_suites():
            table = read_dataset(curated, dataset)
            if table is None:
                continue
            create_dataset_table(con, dataset, arrow_types(table.schema))
            columns = table.column_names
            insert_rows(con, dataset, columns, zip(*(table.column(c).to_pylist() for c in columns)))
            if dataset == "documents":
                doc_ids = table.column("doc_id").to_pylist()
        con.commit()
    finally:
        con.close()
    return doc_ids


def _expectation_config(expectation: dict):
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    return ExpectationConfiguration(
        type=expectation["type"],
        kwargs=dict(expectation["kwargs"]),
        meta=dict(expectation["meta"]),
        severity=expectation.get("severity", GX_SEVERITY["error"]),
    ).to_domain_obj()


def _instances(
    dataset: str, expectation: dict, result, doc_ids: list[str], definition
) -> list[Instance]:
    """The failing instances of one GX expectation result."""
    kind = expectation["type"]
    if result.success:
        return []
    message = _exception(result.exception_info or {})
    if message is not None:
        return [
            Instance(
                d,
                expectation["meta"]["check"],
                "error",
                None,
                f"{dataset}: GX could not evaluate",
                message,
                None,
            )
            for d in doc_ids
        ]
    res = result.result or {}
    if kind in {"expect_table_columns_to_match_ordered_list", "expect_column_values_to_be_of_type"}:
        observed = res.get("observed_value")
        observed = ", ".join(observed) if isinstance(observed, list) else observed
        return [column_instance(dataset, expectation, d, None, observed) for d in doc_ids]
    if kind == "unexpected_rows_expectation":
        records = (res.get("details") or {}).get("unexpected_rows") or []
        if (res.get("observed_value") or 0) > len(records):  # more than GX returns inline
            records = definition.get_unexpected_rows(result.expectation_config.to_domain_obj())
        return row_instances(expectation, records)
    column = expectation["kwargs"].get("column")
    out = []
    for index in res.get("unexpected_index_list") or []:
        value = index.get(column) if column else None
        out.append(
            column_instance(dataset, expectation, index.get("doc_id"), index.get("table_no"), value)
        )
    return out


def run_gx(curated: Path, build_docs: bool = True) -> GxRun:
    """Validate the whole store with GX; instances of every failing check, Data Docs built."""
    import time

    started = time.perf_counter()
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    seconds = {"import": time.perf_counter() - started}
    work = curated / VALIDATION_DIR
    database = work / "batch.sqlite"
    mark = time.perf_counter()
    doc_ids = load_store(curated, database)
    seconds["load"] = time.perf_counter() - mark
    mark = time.perf_counter()
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    docs_dir = work / "data_docs"
    if build_docs:
        context.add_data_docs_site(
            site_name="curated",
            site_config={
                "class_name": "SiteBuilder",
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": str(docs_dir),
                },
            },
        )
    source = context.data_sources.add_sqlite("curated", connection_string=f"sqlite:///{database}")
    instances: list[Instance] = []
    present = set(_tables(database))
    for dataset, suite_dict in load_suites().items():
        if dataset not in present:
            continue
        asset = source.add_table_asset(dataset, table_name=dataset)
        batch = asset.add_batch_definition_whole_table("all")
        suite = context.suites.add(
            gx.ExpectationSuite(
                name=dataset,
                expectations=[_expectation_config(e) for e in suite_dict["expectations"]],
                meta=dict(suite_dict.get("meta", {})),  # (GX adds its version to it)
            )
        )
        definition = context.validation_definitions.add(
            gx.ValidationDefinition(name=f"{dataset}-all", data=batch, suite=suite)
        )
        index_columns = ["doc_id"] + (["table_no"] if has_table_no(dataset) else [])
        results = definition.run(
            result_format={
                "result_format": "COMPLETE",
                "unexpected_index_column_names": index_columns,
            }
        )
        for expectation, result in zip(suite_dict["expectations"], _in_suite_order(suite, results)):
            instances += _instances(dataset, expectation, result, doc_ids, definition)
    seconds["validate"] = time.perf_counter() - mark
    url = None
    if build_docs:
        mark = time.perf_counter()
        context.build_data_docs(site_names=["curated"])
        url = docs_dir / "index.html"
        seconds["data_docs"] = time.perf_counter() - mark
    return GxRun(instances, doc_ids, url, seconds)


def _exception(info: dict) -> str | None:
    """The message of an exception GX caught while evaluating (flat or per metric), if any."""
    if info.get("raised_exception"):
        return str(info.get("exception_message") or "")[:200]
    for value in info.values():
        if isinstance(value, dict) and value.get("raised_exception"):
            return str(value.get("exception_message") or "")[:200]
    return None


def _tables(database: Path) -> list[str]:
    import sqlite3

    con = sqlite3.connect(database)
    try:
        return [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    finally:
        con.close()


def _in_suite_order(suite, results) -> list:
    """GX results in the order of the suite's expectations (matched by expectation id)."""
    by_id = {r.expectation_config.id: r for r in results.results}
    return [by_id[e.id] for e in suite.expectations]
