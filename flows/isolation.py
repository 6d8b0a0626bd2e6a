"""Run one document in a child process with a time limit (per-document isolation).

A pathological PDF can hang a parser or crash it (PDFium is C++): each document runs in a
child forked from a clean *forkserver* process (cheap: the pipeline modules are preloaded),
which is killed when the time limit passes. Memory stays flat over long batches because
every document's pages die with its child.
"""

from __future__ import annotations

import multiprocessing
import signal
from pathlib import Path

from curation import store

from . import pipeline

_CONTEXT: multiprocessing.context.BaseContext | None = None
DEFAULT_TIMEOUT_SECONDS = 600.0


class TransientError(RuntimeError):
    """A failure worth retrying (I/O trouble while writing), unlike a bad PDF."""


def _context() -> multiprocessing.context.BaseContext:
    global _CONTEXT
    if _CONTEXT is None:
        _CONTEXT = multiprocessing.get_context("forkserver")
        _CONTEXT.set_forkserver_preload(["flows.warm"])
    return _CONTEXT


def _child(conn, path: str, curated: str, force: bool, reprocess_outdated: bool) -> None:
    try:
        summary = pipeline.ingest_document(
            Path(path), Path(curated), force=force, reprocess_outdated=reprocess_outdated
        )
        conn.send(("ok", summary.as_dict()))
    except OSError as error:  # writing failed: transient, retry
        conn.send(("transient", f"{type(error).__name__}: {error}"))
    except BaseException as error:  # pragma: no cover - ingest_document catches document errors
        conn.send(("error", f"{type(error).__name__}: {error}"))
    finally:
        conn.close()


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

    Inside a daemonic process (a Dask worker started by its nanny) children are not allowed:
    the document then runs in-process, and the cluster's own worker management applies.
    """
    if multiprocessing.current_process().daemon:
        try:
            return pipeline.ingest_document(
                path, curated, force=force, reprocess_outdated=reprocess_outdated
            ).as_dict()
        except OSError as error:
            raise TransientError(f"{type(error).__name__}: {error}") from error
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
