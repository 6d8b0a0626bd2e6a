"""Run one document in a child process with a time limit (per-document isolation).

A pathological PDF can hang a parser or crash it (PDFium is C++): each document runs in a
child forked from a clean *forkserver* process (cheap: the pipeline modules are preloaded),
which is killed when the time limit passes. Memory stays flat over long batches because
every document's pages die with its child.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
import time
from pathlib import Path

from curation import store

from . import pipeline
from .timing import worker_slot

_CONTEXT: multiprocessing.context.BaseContext | None = None
_LAUNCH_LOCK = threading.Lock()
DEFAULT_TIMEOUT_SECONDS = 600.0


class TransientError(RuntimeError):
    """A failure worth retrying (I/O trouble while writing), unlike a bad PDF."""


def _context() -> multiprocessing.context.BaseContext:
    """The forkserver context, preloading the warm pipeline — and the CLI when it is this
    process's entry point: each child re-runs the main script before its document (the
    ``disclosures`` script imports the CLI, typer and rich: ~0.12 s per document), and
    Python 3.11's forkserver ignores ``"__main__"`` in the preload list."""
    global _CONTEXT
    if _CONTEXT is None:
        _CONTEXT = multiprocessing.get_context("forkserver")
        preload = ["flows.warm"]
        if "flows.cli" in sys.modules:
            preload.insert(0, "flows.cli")
        _CONTEXT.set_forkserver_preload(preload)
    return _CONTEXT


def start_forkserver() -> None:
    """Start the forkserver now rather than at the first document: it imports and warms
    the pipeline (~2 s), which the command overlaps with Prefect's start-up.

    The forkserver is ``python -c …``, which puts the working directory first on its
    ``sys.path``, and Python 3.11 drops the parent's path it is handed: run from a folder
    that has a ``flows/`` (a Prefect project's, an older checkout of this one), it would
    preload and run *that* package. ``PYTHONSAFEPATH`` (Python ≥ 3.11) keeps the working
    directory off its path; it is set for the launch only.
    """
    if multiprocessing.current_process().daemon:
        return
    _context()
    from multiprocessing import forkserver

    with _LAUNCH_LOCK:  # the task threads of one flow call this at once
        saved = os.environ.get("PYTHONSAFEPATH")
        os.environ["PYTHONSAFEPATH"] = "1"
        try:
            forkserver.ensure_running()  # (a quick check once it runs)
        finally:
            if saved is None:
                del os.environ["PYTHONSAFEPATH"]
            else:
                os.environ["PYTHONSAFEPATH"] = saved


def _child(conn, path: str, curated: str, force: bool, reprocess_outdated: bool) -> None:
    try:
        started = time.time()
        summary = pipeline.ingest_document(
            Path(path), Path(curated), force=force, reprocess_outdated=reprocess_outdated
        )
        conn.send(("ok", summary.as_dict() | {"document_started": started}))
    except OSError as error:  # writing failed: transient, retry
        conn.send(("transient", f"{type(error).__name__}: {error}"))
    except BaseException as error:  # pragma: no cover - ingest_document catches document errors
        conn.send(("error", f"{type(error).__name__}: {error}"))
    finally:
        conn.close()


def _count_pages_child(conn, paths: list[str]) -> None:
    from extractors.pdfium_pages import page_count

    try:
        conn.send([page_count(Path(path)) for path in paths])
    finally:
        conn.close()


def page_counts(paths: list[Path], timeout: float = 30.0) -> list[int | None]:
    """Each PDF's page count, to plan the batch (see :func:`flows.ingest.submission_order`).

    Read in one child process: PDFium is C++, and a file that crashes it must not take the
    flow down with it. Everything is None (unknown) when the child crashes or overruns
    ``timeout``, or inside a daemonic process, where children are not allowed.
    """
    unknown: list[int | None] = [None] * len(paths)
    if not paths or multiprocessing.current_process().daemon:
        return unknown
    start_forkserver()
    context = _context()
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(
        target=_count_pages_child, args=(sender, [str(p) for p in paths]), daemon=True
    )
    process.start()
    sender.close()
    counts = unknown
    try:
        if receiver.poll(timeout):
            try:
                counts = receiver.recv()
            except EOFError:  # the child crashed
                counts = unknown
    finally:
        receiver.close()
        if process.is_alive():
            process.kill()
        process.join()
    return counts


def _failed(path: Path, curated: Path, reason: str) -> dict:
    """Record a document that did not finish as ``failed`` (its partial files are replaced)."""
    try:
        identity = pipeline.identify_file(path)
    except OSError:
        return pipeline.DocumentSummary(path.name, None, status="failed", reason=reason).as_dict()
    row = pipeline.failed_document_row(path, identity.doc_id, identity.sha256, reason)
    store.remove_document(curated, identity.doc_id)
    store.write_document(
        curated, identity.doc_id, {"documents": [row], "line_items": [], "tables": []}
    )
    summary = pipeline.DocumentSummary(path.name, identity.doc_id, status="failed", reason=reason)
    summary.sha256 = identity.sha256
    return summary.as_dict()


def ingest_isolated(
    path: Path,
    curated: Path,
    force: bool = False,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
    reprocess_outdated: bool = True,
) -> dict:
    """Ingest one document in a child process; a hang or crash becomes a ``failed`` row.

    The summary carries its timing (:mod:`flows.timing`): ``document_started`` (epoch),
    ``isolated_s`` (this call's wall time) and ``slot`` (the worker slot that ran it).
    """
    entered = time.time()
    summary = _ingest_isolated(path, curated, force, timeout, reprocess_outdated)
    summary.setdefault("document_started", entered)
    return summary | {"isolated_s": time.time() - entered, "slot": worker_slot()}


def _ingest_isolated(
    path: Path, curated: Path, force: bool, timeout: float, reprocess_outdated: bool
) -> dict:
    """Inside a daemonic process (a Dask worker started by its nanny) children are not
    allowed: the document then runs in-process, and the cluster's own worker management
    applies."""
    if multiprocessing.current_process().daemon:
        try:
            started = time.time()
            summary = pipeline.ingest_document(
                path, curated, force=force, reprocess_outdated=reprocess_outdated
            )
            return summary.as_dict() | {"document_started": started}
        except OSError as error:
            raise TransientError(f"{type(error).__name__}: {error}") from error
    start_forkserver()
    context = _context()
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(
        target=_child,
        args=(sender, str(path), str(curated), force, reprocess_outdated),
        daemon=True,
    )
    process.start()
    sender.close()
    try:
        if receiver.poll(timeout):
            try:
                kind, payload = receiver.recv()
            except EOFError:
                kind, payload = "crash", None
        else:
            process.kill()
            process.join()
            return _failed(path, curated, f"timed out after {timeout:.0f} s (stopped)")
    finally:
        receiver.close()
    process.join()
    if kind == "ok":
        return payload
    if kind == "transient":
        raise TransientError(payload)
    if kind == "crash":
        code = process.exitcode or 0
        cause = f"signal {signal.Signals(-code).name}" if code < 0 else f"exit code {code}"
        return _failed(path, curated, f"worker crashed ({cause})")
    return _failed(path, curated, f"internal error: {payload}")
