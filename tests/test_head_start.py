"""Issue 16: the command's first documents start before Prefect is ready, and are adopted.

Real forkserver children, real PDFs, the real CLI against the test session's background
server (see conftest).
"""

from __future__ import annotations

import json
import multiprocessing
import time
from pathlib import Path

import pandas as pd
import pytest
from budget_disclosures.curation import state
from budget_disclosures.flows import isolation
from conftest import SAMPLE_PDF, hold_writer_lock, run_cli

pytestmark = pytest.mark.skipif(
    not SAMPLE_PDF.exists(), reason="the project's sample PDF is missing"
)


def test_writer_lock_is_reentrant_in_one_process_only(tmp_path: Path) -> None:
    with state.writer_lock(tmp_path) as took:
        assert took
        with state.writer_lock(tmp_path) as nested:
            assert not nested  # the flow inside the command: held already, nothing cleaned
        # still held after the nested holder left: another holder (a separate open of the
        # lock file, as another process has) is refused
        with pytest.raises(state.LockBusy):
            state._acquire((tmp_path / "_state" / "lock").resolve(), tmp_path, 0.0)
    ready, release = (multiprocessing.get_context("fork").Event() for _ in range(2))
    holder = multiprocessing.get_context("fork").Process(
        target=hold_writer_lock, args=(str(tmp_path), ready, release)
    )
    holder.start()
    try:
        assert ready.wait(30)
        with pytest.raises(state.LockBusy), state.writer_lock(tmp_path):
            pass
    finally:
        release.set()
        holder.join(30)


def test_task_adopts_the_document_started_ahead(tmp_path: Path) -> None:
    curated = tmp_path / "curated"
    head = isolation.HeadStart([SAMPLE_PDF], curated, False, True, count=1)
    assert head.planned_pages() and head.planned_pages()[0] > 0
    time.sleep(0.5)  # the flow is still starting: the document is already reading
    entered = time.time()
    summary = isolation.ingest_isolated(SAMPLE_PDF, curated, False, 120, True)
    assert summary["status"] in ("ok", "warn"), summary
    assert summary["document_started"] < entered  # started ahead, not by this call
    assert summary["isolated_s"] >= summary["seconds"]  # timed from the child's launch
    assert not isolation._HEAD_STARTED  # adopted: no second child for the same document
    head.finish()
    docs = pd.read_parquet(curated / "documents")
    assert list(docs["status"]) in (["ok"], ["warn"])


def _copies(folder: Path, count: int) -> list[Path]:
    """Distinct documents (different bytes) with the sample's content."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index in range(count):
        path = folder / f"copy-{index}.pdf"
        path.write_bytes(SAMPLE_PDF.read_bytes() + f"%{index}\n".encode())
        paths.append(path)
    return paths


def _wait_started(
    paths: list[Path], curated: Path, seconds: float = 60.0, finished: bool = False
) -> None:
    """Until the command has started (or, with ``finished``, run to the end) these documents."""
    keys = {isolation._document_key(p, curated, False, True) for p in paths}
    deadline = time.time() + seconds
    while time.time() < deadline:
        with isolation._HEAD_LOCK:
            started = [isolation._HEAD_STARTED.get(key) for key in keys]
        if all(started) and not (finished and isolation._still_running(started)):
            return
        time.sleep(0.02)
    raise AssertionError("the documents were not started")


def test_a_document_no_task_adopts_still_finishes(tmp_path: Path) -> None:
    """The flow never ran (its server went away): the started document ends whole, and the
    command starts no further document."""
    curated = tmp_path / "curated"
    first, second = _copies(tmp_path / "raw", 2)
    head = isolation.HeadStart([first, second], curated, False, True, count=1)
    _wait_started([first], curated)  # (the larger file goes first; both are the same size)
    head.finish(timeout=120)
    assert not isolation._HEAD_STARTED and not isolation._HEAD_PLANNED
    docs = pd.read_parquet(curated / "documents")
    assert list(docs["status"]) in (["ok"], ["warn"])  # one document: the second never started
    assert not list(curated.rglob(".*.tmp"))


def test_the_whole_batch_runs_ahead_one_slot_at_a_time(tmp_path: Path) -> None:
    """With one slot, the command runs the batch's documents one after another without
    waiting for their tasks; each task adopts its document, even one that finished long
    before the task came, and the documents never overlap."""
    curated = tmp_path / "curated"
    paths = _copies(tmp_path / "raw", 3)
    head = isolation.HeadStart(paths, curated, False, True, count=1)
    _wait_started(paths, curated, 120, finished=True)  # all three ran with no task asking
    entered = time.time()
    order = isolation.submission_order([str(p) for p in paths], head.planned_pages())
    summaries = [isolation.ingest_isolated(paths[i], curated, False, 120, True) for i in order]
    head.finish()
    assert all(s["status"] in ("ok", "warn") for s in summaries), summaries
    assert all(s["document_started"] < entered for s in summaries)
    spans = sorted((s["document_started"], s["document_started"] + s["seconds"]) for s in summaries)
    assert all(end <= next_start + 0.05 for (_, end), (next_start, _) in zip(spans, spans[1:]))
    assert len(pd.read_parquet(curated / "documents")) == 3


def test_a_task_waits_for_its_planned_document(tmp_path: Path) -> None:
    """A task that comes before the command started its document waits and adopts it
    rather than forking a second child for it."""
    curated = tmp_path / "curated"
    paths = _copies(tmp_path / "raw", 2)
    head = isolation.HeadStart(paths, curated, False, True, count=1)
    order = isolation.submission_order([str(p) for p in paths], head.planned_pages())
    last = paths[order[-1]]
    summary = isolation.ingest_isolated(last, curated, False, 120, True)  # before its turn
    head.finish(timeout=120)
    assert summary["status"] in ("ok", "warn"), summary
    assert not isolation._HEAD_STARTED and not isolation._HEAD_PLANNED
    assert len(pd.read_parquet(curated / "documents")) == 2


def test_a_child_reads_the_command_environment_of_its_launch(tmp_path: Path, monkeypatch) -> None:
    """The forkserver starts before the command reads its options; ``--no-templates``
    (an environment setting) set after it started still reaches the document."""
    from budget_disclosures.mappings.loader import TEMPLATES_ENV

    isolation.start_forkserver()
    monkeypatch.setenv(TEMPLATES_ENV, "off")
    curated = tmp_path / "curated"
    summary = isolation.ingest_isolated(SAMPLE_PDF, curated, True, 120, True)
    assert summary["status"] in ("ok", "warn"), summary
    assert summary["template"] == "generic", summary


def test_issue_16_no_templates_set_after_the_forkserver_is_the_documents_version(
    tmp_path: Path, monkeypatch
) -> None:
    """Found on the sample: the forkserver computes the pipeline version while it warms up,
    before the command reads ``--no-templates``; a document so read recorded the templated
    version, and the next default run skipped it as up to date, keeping generic rows."""
    import pandas as pd
    from budget_disclosures.mappings.loader import TEMPLATES_ENV

    monkeypatch.delenv(TEMPLATES_ENV, raising=False)
    isolation.start_forkserver()
    monkeypatch.setenv(TEMPLATES_ENV, "off")
    curated = tmp_path / "curated"
    summary = isolation.ingest_isolated(SAMPLE_PDF, curated, True, 120, True)
    assert summary["template"] == "generic", summary
    documents = pd.concat(pd.read_parquet(p) for p in (curated / "documents").glob("*.parquet"))
    assert documents["pipeline_version"].str.endswith(".generic-only").all()


def test_cli_starts_the_first_document_before_the_flow(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    for index in range(2):
        (raw / f"copy-{index}.pdf").write_bytes(SAMPLE_PDF.read_bytes() + f"%{index}\n".encode())
    curated = tmp_path / "curated"
    result = run_cli(["ingest", raw, "--curated", curated], None, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    run = json.loads((curated / "_state" / "runs.jsonl").read_text().splitlines()[-1])
    timing = run["timing"]
    assert timing["documents"] == 2 and run["processed"] == 2
    assert timing["command_to_first_document_s"] < timing["command_to_flow_s"]
    assert (curated / "_state" / "lock").read_text() == ""  # released
    registry = json.loads((curated / "_state" / "registry.json").read_text())
    assert len(registry) == 2


def test_process_start_is_read_to_the_tick(tmp_path: Path) -> None:
    """The command's start is the kernel's start tick of its process, not psutil's
    ``create_time()`` (boot time in whole seconds: up to a second early, which read as a
    slower start-up)."""
    import subprocess
    import sys

    before = time.time()
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from budget_disclosures.flows.timing import process_started; print(process_started())",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    after = time.time()
    started = float(result.stdout)
    assert before - 0.02 <= started <= after  # (one 10 ms tick of resolution)


def test_forkserver_preload_freezes_the_warm_objects() -> None:
    """Documents forked from the forkserver do not garbage-collect its warm modules."""
    import subprocess
    import sys

    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import gc, budget_disclosures.flows.warm; print(gc.get_freeze_count())",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert int(result.stdout) > 10_000


def test_only_a_local_ingest_starts_the_forkserver_first() -> None:
    from budget_disclosures.flows.launch import starts_documents

    assert starts_documents(["ingest", "raw", "--workers", "2"])
    assert not starts_documents(["ingest", "--help"])
    assert not starts_documents(["ingest", "raw", "--dask-address", "tcp://h:8786"])
    assert not starts_documents(["ingest", "--dask-address=tcp://h:8786"])
    assert not starts_documents(["query", "select 1"])
    assert not starts_documents([])


def test_a_changed_file_replaces_its_rows_through_the_batch_index(tmp_path: Path) -> None:
    """The command reads the stored source paths once for the batch (not every document
    every ``documents`` file); a file whose bytes changed still replaces its old rows."""
    from budget_disclosures.curation.document_index import source_index

    raw = tmp_path / "raw"
    first, other = _copies(raw, 2)
    curated = tmp_path / "curated"
    assert run_cli(["ingest", raw, "--curated", curated], None, tmp_path).returncode == 0
    old_ids = source_index(curated)[str(first.resolve())]
    with first.open("ab") as handle:
        handle.write(b"\n% revised copy\n")
    result = run_cli(["ingest", raw, "--curated", curated], None, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    index = source_index(curated)
    assert len(index) == 2 and index[str(other.resolve())]
    assert index[str(first.resolve())] != old_ids and len(index[str(first.resolve())]) == 1
    assert not list((curated / "line_items").glob(f"{old_ids[0]}.parquet"))


def test_a_task_out_of_order_stops_waiting_and_runs_its_own(tmp_path: Path) -> None:
    """A task that waits for its document longer than a document's time limit (the slot is
    held by a document whose task has not run) starts its own child; the command then never
    starts that document a second time."""
    from budget_disclosures.flows import pipeline  # noqa: F401  (its failed row is written here)

    curated = tmp_path / "curated"
    paths = _copies(tmp_path / "raw", 2)
    head = isolation.HeadStart(paths, curated, False, True, count=1)
    order = isolation.submission_order([str(p) for p in paths], head.planned_pages())
    first, last = paths[order[0]], paths[order[-1]]
    summary = isolation.ingest_isolated(last, curated, False, 0.05, True)  # a tiny limit
    returned = time.time()
    assert summary["status"] == "failed" and "timed out" in summary["reason"], summary
    _wait_started([first], curated)
    adopted = isolation.ingest_isolated(first, curated, False, 120, True)
    # it did not wait for the slot to free: it was back before the first document ended
    assert returned < adopted["document_started"] + adopted["seconds"]
    head.finish(timeout=120)
    assert adopted["status"] in ("ok", "warn"), adopted
    assert not isolation._HEAD_STARTED and not isolation._HEAD_PLANNED
    statuses = dict(pd.read_parquet(curated / "documents")[["source_name", "status"]].values)
    assert statuses[last.name] == "failed"  # not redone behind its task's back
    assert statuses[first.name] in ("ok", "warn")


def test_an_interrupted_ingest_says_so_and_keeps_what_it_finished(tmp_path: Path) -> None:
    """Ctrl-C (SIGINT) ends an ingest with exit code 130 and a line saying what is kept:
    typer turns the interrupt into that exit code silently."""
    import os
    import signal
    import subprocess

    from conftest import CLI

    raw = tmp_path / "raw"
    _copies(raw, 8)
    curated = tmp_path / "curated"
    env = {k: v for k, v in os.environ.items() if k != "DISCLOSURES_CURATED"}
    process = subprocess.Popen(
        [str(CLI), "ingest", str(raw), "--curated", str(curated)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.time() + 120
    while not list((curated / "documents").glob("*.parquet")) and time.time() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=300)
    assert process.returncode == 130, err
    said = " ".join(err.split())
    assert "interrupted" in said and "run the command again" in said
    assert not list(curated.rglob(".*.tmp"))
    finished = len(list((curated / "documents").glob("*.parquet")))
    assert 1 <= finished < 8
