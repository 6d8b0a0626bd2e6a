"""Run one document in a child process with a time limit (per-document isolation).

Imports nothing of the pipeline at import time: the command starts its first documents
(:class:`HeadStart`) before it imports anything heavy.

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
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path

from budget_disclosures.curation.document_index import source_index, source_key

from .daemons import current_umask, process_alive
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
        preload = ["budget_disclosures.flows.warm"]
        if "budget_disclosures.flows.cli" in sys.modules:
            preload.insert(0, "budget_disclosures.flows.cli")
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


def adopt_inherited_forkserver() -> None:
    """In a process forked from the one that started the forkserver (a command the flow host
    runs, :mod:`flows.host_process`): use that forkserver, already warm.

    The standard library checks that its forkserver still runs with ``waitpid``, which only
    its parent may call: here that check asks the kernel whether the process exists instead.
    If it is gone, this process starts a forkserver of its own, as a command does.
    """
    from multiprocessing import forkserver

    server = forkserver._forkserver
    standard_check = type(server).ensure_running

    def ensure_running() -> None:
        with server._lock:
            pid = server._forkserver_pid
            if pid is not None and process_alive(pid):
                from multiprocessing import resource_tracker

                resource_tracker.ensure_running()
                return
        if pid is not None:  # gone: forget it (it is not our child to reap)
            os.close(server._forkserver_alive_fd)
            server._forkserver_address = None
            server._forkserver_alive_fd = None
            server._forkserver_pid = None
        # from now on the forkserver is this process's own child: the standard check
        del server.ensure_running
        forkserver.ensure_running = server.ensure_running
        standard_check(server)

    server.ensure_running = ensure_running  # (what a new document process calls)
    forkserver.ensure_running = ensure_running  # (the module's alias, bound at its import)


def _child(
    conn,
    path: str,
    curated: str,
    force: bool,
    reprocess_outdated: bool,
    memory_mb: int,
    place: Place,
    recorded_ids: list[str] | None = None,
) -> None:
    from budget_disclosures.extractors.limits import cap_memory

    from . import pipeline  # (preloaded in the forkserver: flows.warm)

    place.adopt()
    cap_memory(memory_mb)  # a bomb fails this document, not the batch or the machine
    try:
        started = time.time()
        summary = pipeline.ingest_document(
            Path(path),
            Path(curated),
            force=force,
            reprocess_outdated=reprocess_outdated,
            recorded_ids=recorded_ids,
        )
        finished = time.time()
        conn.send(
            ("ok", summary.as_dict() | {"document_started": started, "document_finished": finished})
        )
    except OSError as error:  # writing failed: transient, retry
        conn.send(("transient", f"{type(error).__name__}: {error}"))
    except BaseException as error:  # pragma: no cover - ingest_document catches document errors
        conn.send(("error", f"{type(error).__name__}: {error}"))
    finally:
        conn.close()


@dataclass(frozen=True, slots=True)
class Place:
    """Where a document process works: the command's environment, working directory and
    file mode mask as they are at its launch, not as they were when the forkserver started.
    The command starts the forkserver before it reads its options, and some options reach the
    document through the environment (``--corrections``, ``--no-templates``); a forkserver
    of the flow host (:mod:`flows.host`) was started by another command, elsewhere."""

    environment: dict[str, str]
    working_directory: str
    umask: int

    @classmethod
    def here(cls) -> Place:
        return cls(dict(os.environ), os.getcwd(), current_umask())

    def adopt(self) -> None:
        adopt_environment(self.environment)
        if self.working_directory != os.getcwd():
            os.chdir(self.working_directory)
        os.umask(self.umask)


def adopt_environment(environment: dict[str, str]) -> None:
    """The command's environment as it is now (see :class:`Place`)."""
    if environment != os.environ:
        os.environ.clear()
        os.environ.update(environment)


def _count_pages_child(conn, paths: list[str], place: Place) -> None:
    from budget_disclosures.extractors.pdfium_pages import page_count

    place.adopt()
    try:
        conn.send([page_count(Path(path)) for path in paths])
    finally:
        conn.close()


def page_counts(paths: list[Path], timeout: float = 30.0) -> list[int | None]:
    """Each PDF's page count, to plan the batch (see :func:`submission_order`).

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
        target=_count_pages_child, args=(sender, [str(p) for p in paths], Place.here()), daemon=True
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


def submission_order(paths: list[str], pages: list[int | None]) -> list[int]:
    """The order documents are started in: most pages first, then largest file first.

    A document's work grows with its pages, and a batch on N workers ends when its last
    document does: started last, one 400-page budget keeps one worker busy while the others
    idle. Longest first (LPT scheduling) leaves the short documents to fill the end. Files
    whose page count is unknown (they do not open) go last: they fail at once; if no count
    is known at all, file size alone orders the batch. Ties keep the given order, so the
    plan is the same on every run.
    """

    def size(path: str) -> int:
        try:
            return Path(path).stat().st_size
        except OSError:
            return 0

    return sorted(
        range(len(paths)),
        key=lambda index: (
            pages[index] is None,
            -(pages[index] or 0),
            -size(paths[index]),
        ),
    )


def _failed(path: Path, curated: Path, reason: str) -> dict:
    """Record a document that did not finish as ``failed`` (its partial files are replaced)."""
    from budget_disclosures.curation import store

    from . import pipeline

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


DocumentKey = tuple[str, str, bool, bool]
_HEAD_STARTED: dict[DocumentKey, Launched] = {}
_HEAD_PLANNED: set[DocumentKey] = set()  # to be started by a HeadStart: its task waits for it
_HEAD_LOCK = threading.Condition()


def _document_key(path: Path | str, curated: Path | str, force: bool, again: bool) -> DocumentKey:
    return (str(Path(path)), str(Path(curated)), force, again)  # ("a/" and "a" alike)


@dataclass(frozen=True, slots=True)
class Launched:
    """A document's child process, the pipe its result comes by, and when it was started."""

    process: multiprocessing.process.BaseProcess
    receiver: Connection
    at: float


def _launch(
    path: Path | str,
    curated: Path | str,
    force: bool,
    again: bool,
    recorded_ids: list[str] | None = None,
) -> Launched:
    """A child forked from the forkserver, ingesting one document; its result comes by pipe.
    Its memory limit and environment are this process's now (the forkserver's environment
    is the one it started with). ``recorded_ids``: see ``pipeline.ingest_document``."""
    from budget_disclosures.extractors.limits import memory_limit_mb

    at = time.time()
    start_forkserver()
    context = _context()
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(
        target=_child,
        args=(
            sender,
            str(path),
            str(curated),
            force,
            again,
            memory_limit_mb(),
            Place.here(),
            recorded_ids,
        ),
        daemon=True,
    )
    process.start()
    sender.close()
    return Launched(process, receiver, at)


def run_ahead(path: Path | str, curated: Path | str, force: bool, again: bool) -> bool:
    """Whether the command runs this document itself (:class:`HeadStart`): started, or to be
    started, with the batch's reading of the stored source paths."""
    key = _document_key(path, curated, force, again)
    with _HEAD_LOCK:
        return key in _HEAD_PLANNED or key in _HEAD_STARTED


def recorded_ids_of(sources: dict[str, list[str]], path: Path | str) -> list[str]:
    """The ids stored for one document's file, in the batch's reading of the curated
    folder's source paths (``document_index.source_index``)."""
    return sources.get(source_key(path), [])


def _still_running(launched: list[Launched]) -> list[Launched]:
    """The children not yet ended, told by their sentinels alone: asking ``exitcode`` would
    read the exit status that the task joining the same child reads (two readers: one gets
    255)."""
    ended = set(wait([item.process.sentinel for item in launched], timeout=0))
    return [item for item in launched if item.process.sentinel not in ended]


class HeadStart:
    """The batch's documents, started by the command itself, ahead of the orchestration.

    A command's start-up is mostly importing Prefect and reaching its server (0.5–1 s), all
    of it on one core, while the forkserver, already warm, could be reading; and between two
    documents a task's state changes leave its worker idle. So the command takes the writer
    lock, then a thread reads the page counts and runs the batch in the flow's
    :func:`submission_order`, ``count`` documents at a time, starting the next one as soon
    as a child exits. Each flow task *adopts* its document's child (:func:`ingest_isolated`:
    same time limit, same failure handling), waiting for it to be started if need be; the
    flow still records every document, only the work no longer waits for it. A retried
    task forks its own child.
    """

    def __init__(
        self, paths: list[Path], curated: Path, force: bool, reprocess_outdated: bool, count: int
    ) -> None:
        self.paths, self.curated, self.count = paths, curated, max(count, 1)
        self.force, self.reprocess_outdated = force, reprocess_outdated
        self.pages: list[int | None] | None = None
        self._pages_read = threading.Event()
        self._stopped = threading.Event()
        self._keys = [_document_key(p, curated, force, reprocess_outdated) for p in paths]
        with _HEAD_LOCK:
            _HEAD_PLANNED.update(self._keys)
        self._thread = threading.Thread(target=self._run, name="head-start", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            # the stored source paths are read while the forkserver warms up and the page
            # counts are read (an empty folder: at once; 2 000 documents: ~0.8 s)
            reading: list[dict[str, list[str]]] = []
            reader = threading.Thread(
                target=lambda: reading.append(source_index(Path(self.curated))), daemon=True
            )
            reader.start()
            self.pages = page_counts(self.paths)
            self._pages_read.set()
            reader.join()
            sources = reading[0] if reading else None  # (None: each document reads its own)
            running: list[Launched] = []
            for index in submission_order([str(p) for p in self.paths], self.pages):
                running = self._free_slot(running)
                if self._stopped.is_set():
                    break
                key = self._keys[index]
                path = self.paths[index]
                recorded = None if sources is None else recorded_ids_of(sources, path)
                with _HEAD_LOCK:  # (held while launching: a task never starts it twice)
                    if key not in _HEAD_PLANNED:
                        continue  # its task stopped waiting and runs it itself
                    launched = _launch(path, self.curated, self.force, self.reprocess_outdated,
                                       recorded)  # fmt: skip
                    _HEAD_STARTED[key] = launched
                    _HEAD_PLANNED.discard(key)
                    _HEAD_LOCK.notify_all()
                running.append(launched)
        finally:
            self._pages_read.set()
            self._unplan()

    def _free_slot(self, running: list[Launched]) -> list[Launched]:
        """Wait until fewer than ``count`` of the children started here are alive (or the
        command stops starting documents)."""
        running = _still_running(running)
        while len(running) >= self.count and not self._stopped.is_set():
            wait([launched.process.sentinel for launched in running], timeout=0.5)
            running = _still_running(running)
        return running

    def _unplan(self) -> None:
        """Documents not started here are their tasks' own to start."""
        with _HEAD_LOCK:
            _HEAD_PLANNED.difference_update(self._keys)
            _HEAD_LOCK.notify_all()

    def planned_pages(self) -> list[int | None] | None:
        """The page counts read (waits for them), for the flow's plan."""
        self._pages_read.wait()
        return self.pages

    def finish(self, timeout: float = DEFAULT_TIMEOUT_SECONDS) -> None:
        """Start no more documents; let those no task adopted (the flow never ran, or
        stopped) end within their time limit: each writes its own files atomically, and a
        half-killed document would not."""
        self._stopped.set()
        self._thread.join()
        with _HEAD_LOCK:
            orphans = [_HEAD_STARTED.pop(key) for key in self._keys if key in _HEAD_STARTED]
        for orphan in orphans:
            orphan.receiver.poll(timeout)
            orphan.receiver.close()
            if orphan.process.is_alive():
                orphan.process.kill()
            orphan.process.join()


def ingest_isolated(
    path: Path,
    curated: Path,
    force: bool = False,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
    reprocess_outdated: bool = True,
    recorded_ids: list[str] | None = None,
) -> dict:
    """Ingest one document in a child process; a hang or crash becomes a ``failed`` row.

    The summary carries its timing (:mod:`flows.timing`): ``document_started`` (epoch),
    ``isolated_s`` (this call's wall time) and ``slot`` (the worker slot that ran it).
    ``recorded_ids``: the ids stored for its path, read once for the batch (else the
    document reads every stored one).
    """
    entered = time.time()
    key = _document_key(path, curated, force, reprocess_outdated)
    with _HEAD_LOCK:  # a document the command is about to start: wait for it, then adopt it
        # (a slot frees within a document's time limit; past that, whatever holds it — a task
        # run out of order — this document does not wait any longer and starts its own child)
        if not _HEAD_LOCK.wait_for(lambda: key not in _HEAD_PLANNED, timeout=timeout):
            _HEAD_PLANNED.discard(key)
        adopted = _HEAD_STARTED.pop(key, None)
    summary = _ingest_isolated(
        path, curated, force, timeout, reprocess_outdated, adopted, recorded_ids
    )
    ended = time.time()
    began = adopted.at if adopted is not None else entered
    summary.setdefault("document_started", began)
    # a document started ahead that was done before its task came for it waited for the
    # flow, not for isolation: that idle time is not the isolation's cost
    finished = summary.pop("document_finished", ended)
    idle = max(0.0, entered - finished) if adopted is not None else 0.0
    return summary | {"isolated_s": ended - began - idle, "slot": worker_slot()}


def _ingest_isolated(
    path: Path,
    curated: Path,
    force: bool,
    timeout: float,
    reprocess_outdated: bool,
    adopted: Launched | None = None,
    recorded_ids: list[str] | None = None,
) -> dict:
    """Inside a daemonic process (a Dask worker started by its nanny) children are not
    allowed: the document then runs in-process, and the cluster's own worker management
    applies."""
    if multiprocessing.current_process().daemon:
        from . import pipeline

        try:
            started = time.time()
            summary = pipeline.ingest_document(
                path,
                curated,
                force=force,
                reprocess_outdated=reprocess_outdated,
                recorded_ids=recorded_ids,
            )
            return summary.as_dict() | {"document_started": started}
        except OSError as error:
            raise TransientError(f"{type(error).__name__}: {error}") from error
    launched = adopted or _launch(path, curated, force, reprocess_outdated, recorded_ids)
    process, receiver = launched.process, launched.receiver
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
        from budget_disclosures.extractors.limits import memory_limit_mb

        limit = memory_limit_mb()
        cause += f"; its memory limit is {limit} MB" if limit else ""
        return _failed(path, curated, f"worker crashed ({cause})")
    return _failed(path, curated, f"internal error: {payload}")
