"""``disclosures``: the command line.  A thin layer over the flows and the library.

Exit codes: 0 success, 1 when any document failed, 2 for a usage error.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

app = typer.Typer(
    name="disclosures",
    help="Turn government budget-disclosure PDFs into curated, validated, query-ready datasets.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(width=None if sys.stdout.isatty() else 200)
err_console = Console(stderr=True)

CuratedOption = Annotated[
    Path, typer.Option("--curated", help="Output folder of the curated datasets.", envvar="DISCLOSURES_CURATED")
]


@app.callback()
def root() -> None:
    """Turn government budget-disclosure PDFs into curated, validated, query-ready datasets."""


def _quiet_prefect(log_file: Path, verbose: bool) -> None:
    """Keep Prefect's logging out of the summary's way: to a log file unless --verbose."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    # the temporary server may start slowly on a busy machine; don't give up after 20 s
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
    os.environ.setdefault("PREFECT_SERVER_LOGGING_LEVEL", "ERROR")
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
    for name in ("prefect", "prefect.flow_runs", "prefect.task_runs", "prefect.server", "uvicorn", "httpx"):
        logger = logging.getLogger(name)
        for handler in list(logger.handlers):
            if isinstance(handler, logging.StreamHandler) and not isinstance(handler, logging.FileHandler):
                logger.removeHandler(handler)
        logger.addHandler(logging.getLogger().handlers[-1])
        logger.propagate = False


def _summary_table(rows: list[dict]) -> Table:
    table = Table(title="Ingest summary", show_lines=False)
    for header in ("file", "unit", "year", "template", "pages", "tables", "line items", "status", "reason", "seconds"):
        justify = "right" if header in {"year", "pages", "tables", "line items", "seconds"} else "left"
        table.add_column(header, justify=justify, overflow="fold")
    for row in rows:
        status = row["status"] + (" (skipped)" if row.get("skipped") else "")
        style = "red" if row["status"] == "failed" else ("yellow" if row["status"] == "warn" else None)
        table.add_row(
            row["file"], row.get("unit") or "", str(row.get("year") or ""), row.get("template") or "",
            str(row.get("pages") or 0), str(row.get("tables") or 0), str(row.get("line_items") or 0),
            status, row.get("reason") or "", f"{row.get('seconds', 0):.2f}", style=style,
        )
    return table


@app.command()
def ingest(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="PDF files or folders (searched recursively). Default: raw/")
    ] = None,
    curated: CuratedOption = Path("curated"),
    force: Annotated[bool, typer.Option("--force", help="Redo documents already ingested.")] = False,
    workers: Annotated[int, typer.Option("--workers", min=1, help="Documents processed in parallel (local process pool).")] = 1,
    dask_address: Annotated[
        str | None, typer.Option("--dask-address", help="Run the tasks on a Dask cluster, e.g. tcp://host:8786.")
    ] = None,
    timeout: Annotated[
        float, typer.Option("--timeout", min=1, help="Per-document time limit in seconds (stopped and reported).")
    ] = 600.0,
    wait: Annotated[
        float, typer.Option("--wait", min=0, help="Seconds to wait for another run writing the same curated folder.")
    ] = 0.0,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show Prefect's own log on the terminal.")] = False,
) -> None:
    """Ingest disclosure PDFs into curated Parquet datasets (documents, tables, line_items, ...).

    A document already ingested with the same bytes and pipeline version is skipped.
    Exit code 0 when no document failed, 1 when any failed, 2 for a usage error,
    3 when another run is writing the same curated folder.
    """
    from flows.pipeline import discover_pdfs

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
    from curation.state import LockBusy
    from flows import ingest as ingest_flows

    if not verbose:
        _detach_console_handlers()
    started = time.perf_counter()
    with Progress(
        TextColumn("[bold]ingest"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        TextColumn("{task.description}"), console=console, transient=True,
    ) as progress:
        bar = progress.add_task("starting…", total=len(pdfs))

        def advance(summary: dict) -> None:
            progress.update(bar, advance=1, description=summary["file"])

        ingest_flows.set_progress_hook(advance)
        try:
            rows = ingest_flows.run_ingest(pdfs, curated, force, workers, dask_address, timeout, wait)
        except LockBusy as error:
            progress.stop()
            err_console.print(f"[red]busy:[/red] {error}; try again later or pass --wait SECONDS")
            raise typer.Exit(3) from None
        finally:
            ingest_flows.set_progress_hook(None)
    console.print(_summary_table(rows))
    failed = sum(1 for r in rows if r["status"] == "failed")
    console.print(
        f"{len(rows)} documents, {failed} failed, {sum(r.get('line_items') or 0 for r in rows)} line items "
        f"in {time.perf_counter() - started:.1f} s → {curated}/  (log: {log_file})"
    )
    raise typer.Exit(1 if failed else 0)


def main() -> None:
    """Entry point of the ``disclosures`` script."""
    try:
        app()
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)


if __name__ == "__main__":
    main()
