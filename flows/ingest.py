"""The ingest flow: one Prefect task per document, on a local process pool or Dask.

Only wiring lives here; the work is :func:`flows.pipeline.ingest_document`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from prefect import flow, task
from prefect.futures import as_completed
from prefect.task_runners import ProcessPoolTaskRunner, ThreadPoolTaskRunner

from . import pipeline

ProgressHook = Callable[[dict], None]
_progress_hook: ProgressHook | None = None


def set_progress_hook(hook: ProgressHook | None) -> None:
    """The CLI's progress bar: called in the flow's process as each document finishes."""
    global _progress_hook
    _progress_hook = hook


@task(name="ingest-document", task_run_name="ingest {path}")
def ingest_document_task(path: str, curated: str, force: bool = False) -> dict:
    return pipeline.ingest_document(Path(path), Path(curated), force=force).as_dict()


@flow(name="ingest-disclosures", log_prints=False)
def ingest_flow(paths: list[str], curated: str, force: bool = False) -> list[dict]:
    """Ingest every PDF in ``paths`` into ``curated``; the batch goes on past bad files."""
    futures = [ingest_document_task.submit(path, curated, force) for path in paths]
    order = {future.task_run_id: index for index, future in enumerate(futures)}
    results: list[dict | None] = [None] * len(futures)
    for future in as_completed(futures):
        try:
            summary = future.result()
        except Exception as error:  # a crashed worker process: report, go on
            index = order[future.task_run_id]
            summary = pipeline.DocumentSummary(
                Path(paths[index]).name, None, status="failed", reason=f"worker crashed: {error}"
            ).as_dict()
        results[order[future.task_run_id]] = summary
        if _progress_hook is not None:
            _progress_hook(summary)
    return [r for r in results if r is not None]


def task_runner(workers: int, dask_address: str | None = None):
    """Threads for one worker (no process start-up cost), a process pool for more, or Dask."""
    if dask_address:
        from prefect_dask import DaskTaskRunner

        return DaskTaskRunner(address=dask_address)
    if workers <= 1:
        return ThreadPoolTaskRunner(max_workers=1)
    return ProcessPoolTaskRunner(max_workers=workers)


def run_ingest(paths: list[Path], curated: Path, force: bool, workers: int, dask_address: str | None = None) -> list[dict]:
    configured = ingest_flow.with_options(task_runner=task_runner(workers, dask_address))
    return configured([str(p) for p in paths], str(curated), force)
