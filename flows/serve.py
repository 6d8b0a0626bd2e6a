"""Scheduled ingestion of an inbox folder: a Prefect deployment served on a cron schedule.

``disclosures serve`` uses the Prefect server named by ``PREFECT_API_URL`` when set;
otherwise it starts a local Prefect server (``prefect server start``) on 127.0.0.1, waits
until it answers, records it in the curated folder's state (an ``ingest`` into that folder
then reports to it), and stops it on exit. The deployment runs :func:`inbox_flow`, which
ingests new or changed PDFs (a file seen before is skipped; a changed file replaces its rows).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from budget_disclosures.curation import state
from prefect import flow

from .discover import discover_pdfs
from .ingest import ingest_flow, task_runner
from .isolation import DEFAULT_TIMEOUT_SECONDS
from .prefect_api import (
    TASK_RUN_BATCHING_ENV,
    TemporaryServer,
    free_port,
    stop,
    wait_until_healthy,
)

DEPLOYMENT_NAME = "inbox"


@flow(name="ingest-inbox")
def inbox_flow(
    inbox: str,
    curated: str,
    workers: int = 1,
    reprocess_outdated: bool = False,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
) -> list[dict]:
    """Ingest the PDFs found in ``inbox`` (recursively); waits for a concurrent run's lock."""
    paths = [str(p) for p in discover_pdfs([Path(inbox)])]
    if not paths:
        return []
    runner = ingest_flow.with_options(task_runner=task_runner(workers))
    return runner(paths, curated, False, timeout, 3600.0, reprocess_outdated)


@contextlib.contextmanager
def prefect_server(
    log_file: Path,
    port: int | None = None,
    startup_seconds: float = 180.0,
    curated: Path | None = None,
) -> Iterator[str]:
    """The API URL of the configured server, or of a local one started (and stopped) here.

    A server started here is recorded in ``curated``'s state while it runs, so that an
    ``ingest`` into the same folder reports to it (:func:`flows.prefect_api.adopt_serve_server`).
    """
    configured = os.environ.get("PREFECT_API_URL")
    if configured:
        yield configured
        return
    port = port or free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "prefect",
                "server",
                "start",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={
                **TASK_RUN_BATCHING_ENV,
                **os.environ,
                "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                "PREFECT_UI_ENABLED": "true",
            },
        )
    server = TemporaryServer(process, api_url, log_file)
    try:
        if not wait_until_healthy(server, startup_seconds):
            if process.poll() is not None:
                raise RuntimeError(
                    f"the Prefect server exited (code {process.returncode}); see {log_file}"
                )
            raise RuntimeError(
                f"the Prefect server did not start within {startup_seconds:.0f} s; see {log_file}"
            )
        os.environ["PREFECT_API_URL"] = api_url
        if curated is not None:
            state.record_server(curated, api_url)
        yield api_url
    finally:
        if curated is not None:
            state.forget_server(curated)
        os.environ.pop("PREFECT_API_URL", None)
        stop(server, wait_seconds=20)


def serve_inbox(
    inbox: Path,
    curated: Path,
    cron: str,
    workers: int = 1,
    reprocess_outdated: bool = False,
    run_now: bool = False,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
) -> None:
    """Register the inbox deployment with its schedule and serve it until interrupted."""
    parameters = {
        "inbox": str(inbox.resolve()),
        "curated": str(curated.resolve()),
        "workers": workers,
        "reprocess_outdated": reprocess_outdated,
        "timeout": timeout,
    }
    if run_now:
        inbox_flow(**parameters)
    inbox_flow.serve(
        name=DEPLOYMENT_NAME, cron=cron, parameters=parameters, print_starting_message=True
    )
