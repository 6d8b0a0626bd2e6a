"""Where a batch's time goes: document work vs. start-up and per-document orchestration.

Issue 7 asks how long a run takes before its first document starts and how much each
document costs beyond its own work. The ingest flow records, per document, three nested
spans (all wall-clock seconds):

* ``work_s`` — :func:`flows.pipeline.ingest_document` itself (the library's work);
* ``isolated_s`` — the isolation wrapper around it: forking the child, pipes, joining;
* ``task_s`` — the time the Prefect task kept its worker slot busy: task-run setup and
  state changes before the body, the body, result handling after it.

so ``isolated_s − work_s`` is the isolation cost and ``task_s − isolated_s`` Prefect's own.
Wall-clock epochs (``time.time()``) are used, not ``perf_counter``, because the spans are
taken in different processes (the document child, the flow, a Dask worker).
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import asdict, dataclass
from statistics import median

# Set in a command run by the flow host (flows.host_process): the epoch at which the user's
# command started (its client process), and that the host ran it.
HANDED_OVER_AT: float | None = None


def command_started() -> float:
    """Epoch at which the user's command started: its own process's start, or, for a command
    the flow host runs, the start of the client process that handed it over."""
    return HANDED_OVER_AT if HANDED_OVER_AT is not None else process_started()


def process_started() -> float:
    """Epoch at which this process started (the command's start, imports included).

    On Linux, from the kernel's start tick of the process (``/proc/self/stat``) against the
    precise time since boot (``CLOCK_BOOTTIME``): 10 ms resolution. Not psutil's
    ``create_time()``, which adds the start tick to the boot time of ``/proc/stat``, whole
    seconds: every process then appears to start up to a second early, the same error for
    the whole uptime (0.33 s on the machine where it was found, so each command's start-up
    read 0.33 s too long). psutil elsewhere; this module's import time as the last resort.
    """
    started = _linux_process_started()
    if started is not None:
        return started
    try:
        import psutil

        return psutil.Process().create_time()
    except Exception:  # psutil absent or unreadable: the best later point we know
        return _IMPORTED_AT


def _linux_process_started() -> float | None:
    try:
        with open("/proc/self/stat", "rb") as handle:
            fields = handle.read().rsplit(b")", 1)[1].split()
        start_ticks = int(fields[19])  # field 22 of proc(5): starttime, after pid and comm
        since_boot = time.clock_gettime(time.CLOCK_BOOTTIME)
        now = time.time()
        return now - (since_boot - start_ticks / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError, AttributeError):
        return None


_IMPORTED_AT = time.time()


def worker_slot() -> str:
    """The worker slot running a task body (process and thread): tasks on one slot run
    one after another, which is how a task's total time is told from its queueing."""
    return f"{os.getpid()}:{threading.get_ident()}"


@dataclass(slots=True)
class DocumentTiming:
    """One document's nested spans, in seconds (see the module docstring)."""

    file: str
    work_s: float
    isolated_s: float
    task_s: float


def task_spans(submitted: list[float], done: list[float], slots: list[str | None]) -> list[float]:
    """Each task's own time on its worker slot: from when the slot was free for it (its
    submission, or the previous task's end on the same slot) to its end.

    Tasks whose slot is unknown (no result) get ``done − submitted``.
    """
    order = sorted(range(len(done)), key=lambda index: done[index])
    free_since: dict[str, float] = {}
    spans = [0.0] * len(done)
    for index in order:
        slot = slots[index]
        start = submitted[index]
        if slot is not None:
            start = max(start, free_since.get(slot, start))
            free_since[slot] = done[index]
        spans[index] = max(done[index] - start, 0.0)
    return spans


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def run_timing(
    documents: list[DocumentTiming],
    flow_started: float,
    flow_finished: float,
    first_document: float | None,
    workers: int,
    command_started: float | None = None,
) -> dict:
    """The run log's ``timing`` record: start-up, document work and overhead, in seconds.

    ``overhead_per_document_s`` is the mean of ``task_s − work_s``: what orchestration and
    isolation add to each document; ``flow_process_cpu_s`` the CPU the flow's process has
    used (the command's own, when the command runs the flow; ``flow_host``: the command was
    run by the flow host, :mod:`flows.host`). ``overhead_share`` is the share of the flow's capacity
    (its duration × workers) not spent on document work — start-up inside the flow, per-task
    overhead and idle slots at the end included; with ``command_started`` the command's
    start-up (imports, Prefect's server) counts as well.
    """
    n = len(documents)
    work = sum(d.work_s for d in documents)
    isolated = sum(d.isolated_s for d in documents)
    tasks = sum(d.task_s for d in documents)
    origin = command_started if command_started is not None else flow_started
    capacity = (flow_finished - origin) * max(min(workers, n), 1)
    return {
        "workers": workers,
        "documents": n,
        "command_to_flow_s": _rounded(
            flow_started - command_started if command_started is not None else None
        ),
        "command_to_first_document_s": _rounded(
            first_document - command_started
            if command_started is not None and first_document is not None
            else None
        ),
        "flow_to_first_document_s": _rounded(
            first_document - flow_started if first_document is not None else None
        ),
        "flow_s": _rounded(flow_finished - flow_started),
        "documents_work_s": _rounded(work),
        "isolation_s": _rounded(isolated - work),
        "prefect_tasks_s": _rounded(tasks - isolated),
        "overhead_per_document_s": _rounded((tasks - work) / n if n else None),
        "median_overhead_per_document_s": _rounded(
            median(d.task_s - d.work_s for d in documents) if n else None
        ),
        "overhead_share": _rounded(1 - work / capacity if capacity > 0 else None),
        "flow_process_cpu_s": _rounded(process_cpu_seconds()),
        "flow_host": HANDED_OVER_AT is not None,
    }


def process_cpu_seconds() -> float:
    """CPU time (user + system, all threads) of this process so far: for the command, what
    orchestration costs — imports, Prefect's client, the flow and its tasks — since the
    documents run in processes of their own. On a machine with as many workers as cores,
    this is CPU the documents do not get."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def document_timings(documents: list[DocumentTiming]) -> list[dict]:
    """Per-document spans for the run log (rounded to milliseconds)."""
    return [
        {key: round(value, 3) if isinstance(value, float) else value for key, value in row.items()}
        for row in map(asdict, documents)
    ]


def batch_timing(
    summaries: list[dict],
    submitted: list[float],
    done: list[float],
    flow_started: float,
    flow_finished: float,
    command_started: float | None = None,
) -> tuple[dict, list[dict]]:
    """The run log's ``timing`` and ``document_timings`` from the flow's summaries (which
    carry ``seconds``, ``isolated_s``, ``document_started`` and ``slot`` from the task) and
    the flow's submission and completion epochs, all in the same order."""
    slots = [s.get("slot") for s in summaries]
    spans = task_spans(submitted, done, slots)
    documents = [
        DocumentTiming(
            file=s["file"],
            work_s=float(s.get("seconds") or 0.0),
            isolated_s=float(s.get("isolated_s") or s.get("seconds") or 0.0),
            # a document started ahead of its task (flows.isolation.HeadStart) was busy
            # from its start, not from its task's submission
            task_s=max(span, float(s.get("isolated_s") or 0.0)),
        )
        for s, span in zip(summaries, spans, strict=False)
    ]
    starts = [s["document_started"] for s in summaries if s.get("document_started")]
    workers = len({slot for slot in slots if slot}) or 1
    timing = run_timing(
        documents,
        flow_started,
        flow_finished,
        min(starts) if starts else None,
        workers,
        command_started,
    )
    return timing, document_timings(documents)
