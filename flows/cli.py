"""``disclosures``: the command line.  A thin layer over the flows and the library.

Exit codes: 0 success, 1 when any document failed, 2 for a usage error, 130 when interrupted.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import signal
import sys
import time
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from budget_disclosures.flows.background_cli import server_app
from budget_disclosures.flows.launch import interrupt_requested
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

if TYPE_CHECKING:
    from budget_disclosures.flows.prefect_api import ApiChoice

app = typer.Typer(
    name="disclosures",
    help="Turn government budget-disclosure PDFs into curated, validated, query-ready datasets.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(width=None if sys.stdout.isatty() else 200)
err_console = Console(stderr=True)

app.add_typer(server_app, name="server")

CuratedOption = Annotated[
    Path,
    typer.Option(
        "--curated", help="Output folder of the curated datasets.", envvar="DISCLOSURES_CURATED"
    ),
]
CORRECTIONS_ENV = "BUDGET_DISCLOSURES_CORRECTIONS"  # = mappings.corrections.CORRECTIONS_ENV
CorrectionsOption = Annotated[
    Path,
    typer.Option(
        "--corrections",
        help="Folder of reviewers' corrections, one <sha256>.yaml per PDF (keep it under "
        "version control), applied at every ingest.",
        envvar=CORRECTIONS_ENV,
    ),
]


def _report_corrections_folder(folder: Path, curated: Path) -> None:
    """One line per corrections file that cannot be used: it does not load, or no document
    in ``curated`` has its SHA-256 (nothing else changes because of it)."""
    if not folder.is_dir():
        return
    named = [path.stem for path in folder.glob("*.yaml")]
    if not named:
        return
    from budget_disclosures.curation.store import stored_sha256
    from budget_disclosures.mappings.corrections import validate_folder

    for problem in validate_folder(folder, stored_sha256(curated, named)):
        err_console.print(f"[yellow]corrections:[/yellow] {problem}", highlight=False)


def _use_corrections(folder: Path) -> None:
    """The document processes (and validation) read the corrections folder from the
    environment: set before they start, as an absolute path."""
    os.environ[CORRECTIONS_ENV] = str(folder.resolve())


@app.callback()
def root() -> None:
    """Turn government budget-disclosure PDFs into curated, validated, query-ready datasets."""


def _quiet_prefect(log_file: Path, verbose: bool) -> None:
    """Keep Prefect's logging out of the summary's way: to a log file unless --verbose."""
    from budget_disclosures.flows.prefect_api import QUIET_SERVER_ENV

    for name, value in QUIET_SERVER_ENV.items():
        os.environ.setdefault(name, value)
    # the temporary server may start slowly on a busy machine; don't give up after 20 s
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
    if not verbose:
        os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
        os.environ.setdefault("PREFECT_LOGGING_TO_API_ENABLED", "false")
    log_file.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(log_file, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)


def _detach_console_handlers() -> None:
    for name in (
        "prefect",
        "prefect.flow_runs",
        "prefect.task_runs",
        "prefect.server",
        "uvicorn",
        "httpx",
    ):
        logger = logging.getLogger(name)
        for handler in list(logger.handlers):
            if isinstance(handler, logging.StreamHandler) and not isinstance(
                handler, logging.FileHandler
            ):
                logger.removeHandler(handler)
        logger.addHandler(logging.getLogger().handlers[-1])
        logger.propagate = False


def _status_text(row: dict) -> str:
    """``ok``, ``warn (3)``, ``failed (2 errors, 1 warning)``: the validation findings counted."""
    errors, warnings = row.get("n_errors") or 0, row.get("n_warnings") or 0
    if row["status"] == "warn" and warnings:
        return f"warn ({warnings})"
    if row["status"] == "failed" and errors:
        extra = f", {warnings} warning{'s' if warnings != 1 else ''}" if warnings else ""
        return f"failed ({errors} error{'s' if errors != 1 else ''}{extra})"
    return row["status"]


def _summary_table(rows: list[dict]) -> Table:
    table = Table(title="Ingest summary", show_lines=False)
    for header in (
        "file",
        "unit",
        "year",
        "template",
        "pages",
        "tables",
        "line items",
        "status",
        "reason",
        "seconds",
    ):
        justify = (
            "right" if header in {"year", "pages", "tables", "line items", "seconds"} else "left"
        )
        table.add_column(header, justify=justify, overflow="fold", no_wrap=header == "status")
    for row in rows:
        status = _status_text(row) + (" (skipped)" if row.get("skipped") else "")
        style = (
            "red" if row["status"] == "failed" else ("yellow" if row["status"] == "warn" else None)
        )
        table.add_row(
            row["file"],
            row.get("unit") or "",
            str(row.get("year") or ""),
            row.get("template") or "",
            str(row.get("pages") or 0),
            str(row.get("tables") or 0),
            str(row.get("line_items") or 0),
            status,
            row.get("reason") or "",
            f"{row.get('seconds', 0):.2f}",
            style=style,
        )
    return table


@app.command()
def ingest(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="PDF files or folders (searched recursively). Default: raw/"),
    ] = None,
    curated: CuratedOption = Path("curated"),
    corrections: CorrectionsOption = Path("corrections"),
    force: Annotated[
        bool, typer.Option("--force", help="Redo documents already ingested.")
    ] = False,
    workers: Annotated[
        int,
        typer.Option(
            "--workers", min=1, help="Documents processed in parallel (local process pool)."
        ),
    ] = 1,
    dask_address: Annotated[
        str | None,
        typer.Option(
            "--dask-address", help="Run the tasks on a Dask cluster, e.g. tcp://host:8786."
        ),
    ] = None,
    timeout: Annotated[
        float,
        typer.Option(
            "--timeout", min=1, help="Per-document time limit in seconds (stopped and reported)."
        ),
    ] = 600.0,
    wait: Annotated[
        float,
        typer.Option(
            "--wait", min=0, help="Seconds to wait for another run writing the same curated folder."
        ),
    ] = 0.0,
    reprocess_outdated: Annotated[
        bool,
        typer.Option(
            "--reprocess-outdated/--keep-outdated",
            help="Redo documents ingested by an older pipeline version (default) or keep their rows.",
        ),
    ] = True,
    templates: Annotated[
        bool,
        typer.Option(
            "--templates/--no-templates",
            help="Let family templates refine the generic reading (default), or read every "
            "document with the national lexicon alone (same as BUDGET_DISCLOSURES_TEMPLATES=off).",
        ),
    ] = True,
    temporary_server: Annotated[
        bool,
        typer.Option(
            "--temporary-server",
            help="Report to a Prefect server started for this command alone and stopped with "
            "it, instead of the background server (same as BUDGET_DISCLOSURES_SERVER=temporary).",
        ),
    ] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show Prefect's own log on the terminal.")
    ] = False,
) -> None:
    """Ingest disclosure PDFs into curated Parquet datasets (documents, tables, line_items, ...).

    A document already ingested with the same bytes and pipeline version is skipped.
    With the background server, a flow host left by an earlier ingest runs the command
    (see `disclosures server --help`).
    Exit code 0 when no document failed, 1 when any failed, 2 for a usage error,
    3 when another run is writing the same curated folder, 130 when interrupted (the
    documents finished are kept).
    """
    from budget_disclosures.flows.discover import discover_pdfs
    from budget_disclosures.flows.timing import command_started as started_at

    command_started = started_at()
    _use_corrections(corrections)
    if not templates:  # before the document processes start: they read the setting
        from budget_disclosures.mappings.settings import TEMPLATES_ENV

        os.environ[TEMPLATES_ENV] = "off"
    targets = paths or [Path("raw")]
    try:
        pdfs = discover_pdfs(targets)
    except FileNotFoundError as error:
        err_console.print(f"[red]error:[/red] no such file or folder: {error}")
        raise typer.Exit(2) from None
    if not pdfs:
        err_console.print(f"[yellow]no PDF files found in {', '.join(map(str, targets))}[/yellow]")
        raise typer.Exit(0)
    curated.mkdir(parents=True, exist_ok=True)
    log_file = curated / "_logs" / "ingest.log"
    _quiet_prefect(log_file, verbose)
    # Start-up in parallel: Prefect's temporary server (unless PREFECT_API_URL names one),
    # the document processes' forkserver, and this process's imports of Prefect's client.
    from budget_disclosures.flows.background_cli import background_idle_text
    from budget_disclosures.flows.prefect_api import choose_api, take_early_choice

    choice = take_early_choice() or choose_api(curated, temporary_server)
    if choice.serve_api:
        console.print(
            f"Prefect API: {choice.serve_api} (the server of `disclosures serve` on {curated})"
        )
    if choice.background_started:
        console.print(
            f"Prefect UI: {choice.background.ui_url} — a background server, reused by later "
            f"commands and stopped after {background_idle_text()} idle "
            "(`disclosures server stop` stops it now)",
            highlight=False,
        )
    from budget_disclosures.curation.state import LockBusy, clean_stale_temporaries, writer_lock
    from budget_disclosures.flows.isolation import HeadStart, page_counts, start_forkserver

    with contextlib.ExitStack() as holding:
        # The writer lock first (the flow takes it again): documents may start before the
        # flow does. Then the first documents start in the warm forkserver while this process
        # imports Prefect's client and reaches the server (the flow adopts them).
        try:
            holding.enter_context(writer_lock(curated, wait_seconds=wait))
        except LockBusy as error:
            err_console.print(f"[red]busy:[/red] {error}; try again later or pass --wait SECONDS")
            raise typer.Exit(3) from None
        clean_stale_temporaries(curated)
        head = None
        if not dask_address:
            start_forkserver()
            head = HeadStart(pdfs, curated, force, reprocess_outdated, count=workers)
            holding.callback(head.finish, timeout)
        from budget_disclosures.flows import ingest as ingest_flows

        ingest_flows.preload_flow_engine()
        if interrupt_requested():  # (swallowed during the imports above: stop here)
            raise KeyboardInterrupt
        pages = head.planned_pages() if head is not None else page_counts(pdfs)
        run = functools.partial(
            ingest_flows.run_ingest, pdfs, curated, force, workers, dask_address, timeout,
            wait, reprocess_outdated, command_started, pages,
        )  # fmt: skip
        rows = _run_with_progress(run, ingest_flows.set_progress_hook, choice, len(pdfs), verbose)
    from budget_disclosures.curation.state import read_runs

    last_run = (read_runs(curated, 1) or [{}])[-1]
    console.print(_summary_table(rows))
    failed = sum(1 for r in rows if r["status"] == "failed")
    console.print(
        f"{len(rows)} documents, {failed} failed, {sum(r.get('line_items') or 0 for r in rows)} line items "
        f"in {float(last_run.get('seconds') or 0.0):.1f} s → {curated}/  (log: {log_file})"
    )
    console.print(_timing_text(last_run.get("timing")), highlight=False)
    _report_corrections_folder(corrections, curated)
    raise typer.Exit(1 if failed else 0)


def _run_with_progress(
    run: Callable[[], list[dict]],
    set_progress_hook: Callable[[Callable[[dict], None] | None], None],
    choice: ApiChoice,
    total: int,
    verbose: bool,
) -> list[dict]:
    """Run the ingest flow against the chosen Prefect API, with a progress bar."""
    from budget_disclosures.flows.prefect_api import background_api, prefect_api

    if not verbose:
        _detach_console_handlers()
    with (
        background_api(choice.background) if choice.background else prefect_api(choice.server),
        Progress(
            TextColumn("[bold]ingest"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.description}"),
            console=console,
            transient=True,
            # redrawn 4 times a second (10 by default); not drawn at all when the output is
            # no terminal (a scheduled batch's log), where rich still rendered it 10 times a
            # second for nothing: ~0.07 s of CPU in a 3 s batch, taken from the documents
            refresh_per_second=4,
            disable=not console.is_terminal,
        ) as progress,
    ):
        bar = progress.add_task("starting…", total=total)

        def advance(summary: dict) -> None:
            progress.update(bar, advance=1, description=summary["file"])

        set_progress_hook(advance)
        try:
            return run()
        finally:
            set_progress_hook(None)


def _timing_text(timing: dict | None) -> str:
    """One line on where the run's time went (from the run log's ``timing`` record)."""
    if not timing or timing.get("overhead_share") is None:
        return ""
    startup = timing.get("command_to_first_document_s")
    return (
        f"time: {startup if startup is not None else '?'} s from command start to the first "
        f"document; documents' own work {timing['documents_work_s']} s; overhead "
        f"{timing['overhead_per_document_s']} s per document (isolation "
        f"{timing['isolation_s']} s, Prefect tasks {timing['prefect_tasks_s']} s in all); "
        f"{timing['overhead_share']:.0%} of the run not document work"
    )


@app.command()
def serve(
    inbox: Annotated[Path, typer.Option("--inbox", help="Folder watched for new or changed PDFs.")],
    cron: Annotated[
        str, typer.Option("--cron", help="Schedule (cron syntax, server time zone).")
    ] = "0 2 * * *",
    curated: CuratedOption = Path("curated"),
    corrections: CorrectionsOption = Path("corrections"),
    workers: Annotated[
        int, typer.Option("--workers", min=1, help="Documents processed in parallel.")
    ] = 1,
    reprocess_outdated: Annotated[
        bool,
        typer.Option(
            "--reprocess-outdated", help="Redo documents ingested by an older pipeline version."
        ),
    ] = False,
    run_now: Annotated[
        bool, typer.Option("--run-now", help="Ingest the inbox once right away, then serve.")
    ] = False,
    timeout: Annotated[
        float, typer.Option("--timeout", min=1, help="Per-document time limit in seconds.")
    ] = 600.0,
) -> None:
    """Serve a Prefect deployment that ingests the inbox on a schedule (until Ctrl-C).

    Uses PREFECT_API_URL when set, else starts and manages a local Prefect server; open the
    printed UI address to see runs. A file seen before is skipped; changed bytes replace rows.
    """
    if not inbox.is_dir():
        err_console.print(f"[red]error:[/red] inbox is not a folder: {inbox}")
        raise typer.Exit(2)
    _use_corrections(corrections)
    curated.mkdir(parents=True, exist_ok=True)
    _quiet_prefect(curated / "_logs" / "serve.log", verbose=True)
    from budget_disclosures.flows.serve import prefect_server, serve_inbox

    def stop(signum: int, frame: object) -> None:  # SIGTERM: stop serving, stop our server
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    with prefect_server(curated / "_logs" / "prefect-server.log", curated=curated) as api_url:
        console.print(f"Prefect API: {api_url}  (UI: {api_url.removesuffix('/api')})")
        try:
            serve_inbox(inbox, curated, cron, workers, reprocess_outdated, run_now, timeout)
        except KeyboardInterrupt:
            console.print("stopped")


@app.command()
def status(
    curated: CuratedOption = Path("curated"),
    runs: Annotated[int, typer.Option("--runs", min=1, help="How many recent runs to show.")] = 10,
) -> None:
    """Recent ingest runs, their documents and failures, the registry's counts, and the
    Prefect UI address when `disclosures serve` is running on the folder."""
    from budget_disclosures.curation.state import load_registry, read_runs

    history = read_runs(curated, runs)
    if not history:
        console.print(f"no runs recorded in {curated}/_state/runs.jsonl")
    table = Table(title=f"Recent runs ({curated})")
    for header in ("started", "seconds", "documents", "processed", "failed", "pipeline version"):
        table.add_column(header)
    for run in history:
        table.add_row(
            run["started"],
            str(run["seconds"]),
            str(run["documents"]),
            str(run["processed"]),
            str(len(run["failed"])),
            run["pipeline_version"],
        )
    console.print(table)
    for run in history[-1:]:
        for failure in run["failed"]:
            console.print(f"  [red]failed[/red] {failure['file']}: {failure['reason']}")
    registry = load_registry(curated)
    counts: dict[str, int] = {}
    for entry in registry.values():
        counts[entry.get("status", "?")] = counts.get(entry.get("status", "?"), 0) + 1
    console.print(
        f"registry: {len(registry)} documents "
        + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
    )
    from budget_disclosures.flows.prefect_api import serve_server

    serving = serve_server(curated)
    if serving:
        console.print(
            f"served: `disclosures serve` is running on this folder; runs in the Prefect UI at "
            f"{serving.removesuffix('/api')}"
        )


class OutputFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"
    parquet = "parquet"


@app.command()
def query(
    sql: Annotated[
        str | None,
        typer.Argument(help="SQL to run (DuckDB dialect); '-' reads it from standard input."),
    ] = None,
    curated: CuratedOption = Path("curated"),
    output_format: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="Output format; parquet needs --out.")
    ] = OutputFormat.table,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write the result to this file.")
    ] = None,
    schema: Annotated[
        bool,
        typer.Option(
            "--schema",
            help="List the views and their columns with Chinese and English descriptions.",
        ),
    ] = False,
) -> None:
    """Query the curated datasets with SQL (DuckDB).

    Each dataset folder is a view named after it (line_items, documents, tables, ...), plus
    function_expenditure_wide, three_public_by_unit and the code lists codes_function,
    codes_econ_dept, codes_econ_gov. Bad SQL prints DuckDB's message and exits with code 2.
    """
    from budget_disclosures.curation import query as q

    if not schema and not sql:
        err_console.print("[red]error:[/red] give SQL to run, or --schema (see --help)")
        raise typer.Exit(2)
    if output_format is OutputFormat.parquet and out is None:
        err_console.print("[red]error:[/red] --format parquet needs --out FILE")
        raise typer.Exit(2)
    try:
        con = q.connect(curated)
    except FileNotFoundError as error:
        err_console.print(f"[red]error:[/red] {error}")
        raise typer.Exit(2) from None
    except Exception as error:  # e.g. a damaged Parquet file in curated/
        err_console.print(f"[red]error:[/red] cannot open {curated}: {error}")
        raise typer.Exit(2) from None
    try:
        if schema:
            infos = q.describe(con)
            if output_format is OutputFormat.table:
                text = q.render_schema(infos)
            else:
                result = q.schema_records(infos)
                text = (
                    q.render_json(result)
                    if output_format is OutputFormat.json
                    else q.render_csv(result)
                )
        elif output_format is OutputFormat.parquet:
            import pyarrow.parquet as pq

            table = q.run_arrow(con, sys.stdin.read() if sql == "-" else sql)
            if table is None:
                err_console.print("[red]error:[/red] the statement returns no result to write")
                raise typer.Exit(2)
            pq.write_table(table, out, compression="zstd")
            err_console.print(f"{table.num_rows} rows → {out}")
            return
        else:
            result = q.run(con, sys.stdin.read() if sql == "-" else sql)
            if result is None:
                return
            render = {"table": q.render_table, "csv": q.render_csv, "json": q.render_json}
            text = render[output_format.value](result)
    except q.QueryError as error:
        sys.stderr.write(f"{error}\n")  # DuckDB's own message, unwrapped
        raise typer.Exit(2) from None
    except OSError as error:
        err_console.print(f"[red]error:[/red] {error}")
        raise typer.Exit(2) from None
    finally:
        con.close()
    if out is None:
        sys.stdout.write(text)
        return
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as error:
        err_console.print(f"[red]error:[/red] cannot write {out}: {error}")
        raise typer.Exit(2) from None
    err_console.print(f"schema → {out}" if schema else f"{len(result.rows)} rows → {out}")


@app.command()
def publish(
    out: Annotated[
        Path,
        typer.Argument(
            help="Release folder (created; an earlier release in it is compared and replaced)."
        ),
    ],
    curated: CuratedOption = Path("curated"),
    version: Annotated[
        str | None,
        typer.Option(
            "--version", help="Release version, e.g. 2025.1 (default: snapshot-<content digest>)."
        ),
    ] = None,
    allow_failed: Annotated[
        bool, typer.Option("--allow-failed", help="Also publish documents whose status is failed.")
    ] = False,
    license: Annotated[
        str,
        typer.Option(
            "--license",
            help="Licence of the release, an SPDX id: CC-BY-4.0 (default), CC-BY-SA-4.0, "
            "CC0-1.0, ODC-By-1.0, ODbL-1.0 or PDDL-1.0.",
        ),
    ] = "CC-BY-4.0",
) -> None:
    """Build the open-data release (Frictionless Data Package, CSV + Parquet, catalogue page).

    OUT gets datapackage.json, data/<dataset>.csv and .parquet, the code lists, the data
    dictionary, validation-summary.csv, SHA256SUMS, RELEASE.md and index.html.

    Only documents whose status is not failed are published unless --allow-failed. The same
    curated input gives the same bytes except datapackage.json's `created`.
    """
    from budget_disclosures.curation.publish import PublishError, summary_text
    from budget_disclosures.curation.publish import publish as build_release

    try:
        release = build_release(
            curated, out, version=version, allow_failed=allow_failed, license=license
        )
    except PublishError as error:
        err_console.print(f"[red]error:[/red] {error}")
        raise typer.Exit(2) from None
    console.print(summary_text(release), end="", markup=False, highlight=False)
    console.print(f"catalogue: {release.out / 'index.html'}", markup=False, highlight=False)


@app.command()
def validate(
    curated: CuratedOption = Path("curated"),
    corrections: CorrectionsOption = Path("corrections"),
    docs: Annotated[
        bool, typer.Option("--docs/--no-docs", help="Build GX Data Docs (HTML).")
    ] = True,
) -> None:
    """Re-run the validation suites (GX Core) on every stored document.

    Rewrites the validations dataset and each document's status (ok / warn / failed: an
    error finding fails a document, so publishing excludes it), prints the findings per
    document and the path of the Data Docs. Exit code 1 when any document failed.
    """
    if not (curated / "documents").is_dir():
        err_console.print(f"[red]error:[/red] no curated documents in {curated}")
        raise typer.Exit(2)
    _use_corrections(corrections)
    from budget_disclosures.validation.rerun import validate_store

    started = time.perf_counter()
    # GX's file context needs an absolute folder: `--curated curated` (the default) crashed
    results, run = validate_store(curated.resolve(), build_docs=docs)
    table = Table(title=f"Validation ({curated})")
    for header in ("file", "doc_id", "status", "errors", "warnings", "reason"):
        table.add_column(
            header, justify="right" if header in {"errors", "warnings"} else "left", overflow="fold"
        )
    for result in sorted(results, key=lambda r: r.source_name or ""):
        style = (
            "red" if result.status == "failed" else ("yellow" if result.status == "warn" else None)
        )
        table.add_row(
            result.source_name or "",
            result.doc_id,
            result.status,
            str(result.n_errors),
            str(result.n_warnings),
            result.reason or "",
            style=style,
        )
    console.print(table)
    counts = {s: sum(1 for r in results if r.status == s) for s in ("ok", "warn", "failed")}
    console.print(
        f"{len(results)} documents: {counts['ok']} ok, {counts['warn']} warn, {counts['failed']} failed "
        f"in {time.perf_counter() - started:.1f} s → {curated / 'validations'}/"
    )
    if run.data_docs:
        console.print(f"data docs: {run.data_docs}", markup=False, highlight=False)
    _report_corrections_folder(corrections, curated)
    raise typer.Exit(1 if counts["failed"] else 0)


@app.command()
def review(
    targets: Annotated[
        list[str] | None,
        typer.Argument(help="Documents to review: doc ids, SHA-256s or PDF paths. Default: all."),
    ] = None,
    curated: CuratedOption = Path("curated"),
    out: Annotated[
        Path, typer.Option("--out", help="Folder of the review site (images reused across runs).")
    ] = Path("review"),
    suggest: Annotated[
        bool,
        typer.Option(
            "--suggest",
            help="Print the corrections YAML skeleton of every open finding instead.",
        ),
    ] = False,
    open_site: Annotated[
        bool, typer.Option("--open", help="Open index.html in the default browser.")
    ] = False,
    dpi: Annotated[
        int, typer.Option("--dpi", min=36, max=300, help="Page image resolution.")
    ] = 100,
) -> None:
    """Write a static, offline review site: why each document was flagged, on its pages.

    index.html lists the documents by status (failed first); each document's page shows its
    table pages with the detected grids drawn over them, the extracted rows, the findings
    linked to the rows and cells they concern, and the corrections entry that would settle
    each one (see corrections/). Exit code 2 when a document is not found.
    """
    from budget_disclosures.curation.review import build_site, suggestions

    try:
        if suggest:
            console.print(suggestions(curated, targets or []), markup=False, highlight=False)
            return
        report = build_site(curated, out, targets or [], dpi)
    except LookupError as error:
        err_console.print(f"[red]error:[/red] {error}")
        raise typer.Exit(2) from None
    for name in report.missing_pdfs:
        err_console.print(f"[yellow]no PDF for {name}[/yellow]: pass its path to show its pages")
    console.print(
        f"{report.documents} documents, {report.pages} page images ({report.rendered} rendered, "
        f"the rest reused) in {report.seconds:.1f} s, {report.bytes / 1e6:.1f} MB → "
        f"{out / 'index.html'}",
        highlight=False,
    )
    if open_site:
        import webbrowser

        webbrowser.open((out / "index.html").resolve().as_uri())


INTERRUPTED = 130


def main() -> None:
    """Entry point of the ``disclosures`` script. Ctrl-C ends a command with exit code 130
    and says so (typer turns the interrupt into that exit code without a word)."""
    try:
        app()
    except KeyboardInterrupt:
        say_interrupted()
        sys.exit(INTERRUPTED)
    except SystemExit as stop:
        if stop.code == INTERRUPTED:
            say_interrupted()
        raise


def say_interrupted() -> None:
    err_console.print(
        "interrupted: the documents finished are kept; run the command again to go on",
        highlight=False,
    )


if __name__ == "__main__":
    main()
