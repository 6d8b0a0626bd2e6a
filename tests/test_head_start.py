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


def test_a_document_no_task_adopts_still_finishes(tmp_path: Path) -> None:
    """The flow never ran (its server went away): the started document ends whole."""
    curated = tmp_path / "curated"
    head = isolation.HeadStart([SAMPLE_PDF], curated, False, True, count=1)
    head.finish(timeout=120)
    assert not isolation._HEAD_STARTED
    docs = pd.read_parquet(curated / "documents")
    assert list(docs["status"]) in (["ok"], ["warn"])
    assert not list(curated.rglob(".*.tmp"))


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
