"""The ingest flow: one Prefect task per document, on a local process pool or Dask.

Only wiring lives here; the work is :func:`flows.pipeline.ingest_document`, run in an
isolated child process with a time limit (:mod:`flows.isolation`). The pipeline itself is
not imported here: the command's process only orchestrates.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from budget_disclosures.curation import state
from budget_disclosures.curation.document_index import source_index
from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.futures import as_completed
from prefect.task_runners import ThreadPoolTaskRunner

from .isolation import (
    DEFAULT_TIMEOUT_SECONDS,
    TransientError,
    ingest_isolated,
    page_counts,
    recorded_ids_of,
    run_ahead,
    submission_order,
)
from .summary import DocumentSummary, pipeline_version
from .timing import batch_timing

ProgressHook = Callable[[dict], None]
_progress_hook: ProgressHook | None = None


def set_progress_hook(hook: ProgressHook | None) -> None:
    """The CLI's progress bar: called in the flow's process as each document finishes."""
    global _progress_hook
    _progress_hook = hook


def _retry_transient(task, task_run, state_) -> bool:
    """Retry only I/O trouble; a bad PDF is reported, never retried."""
    try:
        state_.result()
    except TransientError:
        return True
    except Exception:
        return False
    return False


@task(
    name="ingest-document",
    task_run_name="ingest {path}",
    retries=2,
    retry_delay_seconds=[2, 10],
    retry_condition_fn=_retry_transient,
    # the curated folder is the result; a cache key and a persisted return value per
    # document would only cost time (Prefect hashes inputs and task source for each run)
    cache_policy=NO_CACHE,
    persist_result=False,
)
def ingest_document_task(
    path: str,
    curated: str,
    force: bool = False,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
    reprocess_outdated: bool = True,
    recorded_ids: list[str] | None = None,
) -> dict:
    return ingest_isolated(
        Path(path), Path(curated), force, timeout, reprocess_outdated, recorded_ids
    )


@task(name="link-disclosure-halves", cache_policy=NO_CACHE)
def link_halves_task(curated: str, summaries: list[dict]) -> None:
    """Link the narrative and tables halves of disclosures published as two files."""
    from budget_disclosures.curation.link import link_summaries

    link_summaries(Path(curated), summaries)


@flow(name="ingest-disclosures", log_prints=False)
def ingest_flow(
    paths: list[str],
    curated: str,
    force: bool = False,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
    lock_wait: float = 0.0,
    reprocess_outdated: bool = True,
    command_started: float | None = None,
    pages: list[int | None] | None = None,
) -> list[dict]:
    """Ingest every PDF in ``paths`` into ``curated``; the batch goes on past bad files.

    Holds the curated folder's writer lock for the whole run, removes temporaries left by a
    killed run, then records every document in the registry and the run in the run log,
    with where the time went (:mod:`flows.timing`; ``command_started`` is the epoch at which
    the calling command started, for its start-up time). ``pages`` are the documents' page
    counts if the caller has read them (the CLI does, while Prefect's server starts), for
    :func:`submission_order`; otherwise they are read here.
    """
    flow_started = time.time()
    curated_dir = Path(curated)
    started = state.now_iso()
    clock = time.perf_counter()
    with state.writer_lock(curated_dir, wait_seconds=lock_wait) as took_lock:
        if took_lock:  # (the command that took it first cleaned before its first documents)
            state.clean_stale_temporaries(curated_dir)
        submitted = [0.0] * len(paths)
        futures = []
        order = {}  # task run → the document's index in ``paths``
        if pages is None or len(pages) != len(paths):
            pages = page_counts([Path(p) for p in paths])
        # the stored source paths, read once (not once per document), for the documents the
        # command does not run ahead (those it runs carry its own reading)
        ahead = [run_ahead(p, curated, force, reprocess_outdated) for p in paths]
        sources = {} if all(ahead) else source_index(curated_dir)
        for index in submission_order(paths, pages):
            submitted[index] = time.time()
            recorded = None if ahead[index] else recorded_ids_of(sources, paths[index])
            future = ingest_document_task.submit(
                paths[index], curated, force, timeout, reprocess_outdated, recorded
            )
            order[future.task_run_id] = index
            futures.append(future)
        results: list[dict | None] = [None] * len(paths)
        done = [0.0] * len(paths)
        for future in as_completed(futures):
            index = order[future.task_run_id]
            done[index] = time.time()
            try:
                summary = future.result()
            except Exception as error:  # retries exhausted or a crashed worker: report, go on
                summary = DocumentSummary(
                    Path(paths[index]).name,
                    None,
                    status="failed",
                    reason=f"{type(error).__name__}: {error}",
                ).as_dict()
            results[index] = summary
            if _progress_hook is not None:
                _progress_hook(summary)
        summaries = [r for r in results if r is not None]
        link_halves_task(curated, summaries)
        timing, document_timings = batch_timing(
            summaries, submitted, done, flow_started, time.time(), command_started
        )
        state.update_registry(curated_dir, summaries, pipeline_version())
        state.append_run(
            curated_dir,
            {
                "started": started,
                "finished": state.now_iso(),
                "seconds": round(time.perf_counter() - clock, 2),
                "documents": len(summaries),
                "processed": sum(1 for s in summaries if not s.get("skipped")),
                "failed": [
                    {"file": s["file"], "reason": s.get("reason", "")}
                    for s in summaries
                    if s["status"] == "failed"
                ],
                "pipeline_version": pipeline_version(),
                "timing": timing,
                "document_timings": document_timings,
            },
        )
    return summaries


def task_runner(workers: int, dask_address: str | None = None):
    """Local: ``workers`` task threads, each driving its document in its own child process
    (forked from a preloaded forkserver, so there is no per-process import cost) — a local
    process pool in effect. Distributed: prefect-dask's DaskTaskRunner on the given cluster."""
    if dask_address:
        from prefect_dask import DaskTaskRunner

        return DaskTaskRunner(address=dask_address)
    return ThreadPoolTaskRunner(max_workers=max(workers, 1))


def run_ingest(
    paths: list[Path],
    curated: Path,
    force: bool,
    workers: int,
    dask_address: str | None = None,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
    lock_wait: float = 0.0,
    reprocess_outdated: bool = True,
    command_started: float | None = None,
    pages: list[int | None] | None = None,
) -> list[dict]:
    configured = ingest_flow.with_options(task_runner=task_runner(workers, dask_address))
    return configured(
        [str(p) for p in paths],
        str(curated),
        force,
        timeout,
        lock_wait,
        reprocess_outdated,
        command_started,
        pages,
    )


def preload_flow_engine() -> None:
    """Import what Prefect imports only when a flow is first called (FastAPI's encoder for
    the run's parameters, the graphviz-backed task tracker: ~0.5 s), so that a command can
    do it while it waits for Prefect's server instead of after."""
    import fastapi.encoders  # noqa: F401
    import prefect.utilities.visualization  # noqa: F401
