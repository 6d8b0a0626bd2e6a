"""Issue 7: scale-out on Dask, the writer lock, and crash safety under SIGKILL.

Real Prefect, real Dask (distributed.LocalCluster with 2 worker processes), real PDFs.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import hold_writer_lock

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "raw" / "samples" / "baoji-bigdata-center-2023-budget.pdf"
BAD = ROOT / "tests" / "fixtures" / "bad"
DISCLOSURES = Path(sys.executable).parent / "disclosures"
DATASETS = ("documents", "tables", "line_items", "performance_targets")
VOLATILE = {"ingested_at"}  # the one column that records when, not what


def batch_inputs(tmp_path: Path, copies: int = 4) -> Path:
    """A small batch: copies of the sample with different bytes, plus bad files."""
    folder = tmp_path / "batch"
    folder.mkdir()
    data = SAMPLE.read_bytes()
    for index in range(copies):
        (folder / f"sample-{index}.pdf").write_bytes(data + f"\n% copy {index}\n".encode())
    for bad in ("truncated.pdf", "not-a-pdf.pdf"):
        shutil.copy(BAD / bad, folder / bad)
    return folder


def curated_content(curated: Path) -> dict[str, pd.DataFrame]:
    """The data of every dataset, sorted, without the volatile timestamp column."""
    out = {}
    for dataset in DATASETS:
        folder = curated / dataset
        files = sorted(folder.glob("*.parquet")) if folder.exists() else []
        if not files:
            out[dataset] = pd.DataFrame()
            continue
        frame = pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
        frame = frame.drop(columns=[c for c in VOLATILE if c in frame.columns])
        out[dataset] = frame.sort_values(list(frame.columns)).reset_index(drop=True)
    return out


def assert_same_content(left: Path, right: Path) -> None:
    a, b = curated_content(left), curated_content(right)
    for dataset in DATASETS:
        pd.testing.assert_frame_equal(a[dataset], b[dataset], check_dtype=False)
    leftovers = [p for p in left.rglob("*.tmp")]
    assert not leftovers, leftovers


@pytest.fixture(scope="module")
def harness():
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield


def test_dask_cluster_gives_same_rows_as_serial(harness, tmp_path: Path) -> None:
    from budget_disclosures.flows.ingest import run_ingest
    from budget_disclosures.flows.pipeline import discover_pdfs
    from distributed import LocalCluster

    pdfs = discover_pdfs([batch_inputs(tmp_path, copies=3)])
    serial, dask = tmp_path / "serial", tmp_path / "dask"
    run_ingest(pdfs, serial, force=False, workers=1)
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        summaries = run_ingest(
            pdfs, dask, force=False, workers=1, dask_address=cluster.scheduler_address
        )
    assert len(summaries) == len(pdfs)
    assert sorted(s["status"] for s in summaries).count("failed") == 2
    assert_same_content(serial, dask)


def test_second_writer_is_refused_while_lock_held(tmp_path: Path) -> None:
    """Another process's run is refused (within one process the lock is re-entrant: the
    command holds it and its flow takes it again, tests/test_head_start.py)."""
    import multiprocessing

    from budget_disclosures.curation.state import LockBusy, writer_lock

    curated = tmp_path / "curated"
    fork = multiprocessing.get_context("fork")
    ready, release = fork.Event(), fork.Event()
    holder = fork.Process(target=hold_writer_lock, args=(str(curated), ready, release))
    holder.start()
    try:
        assert ready.wait(30)
        with (
            pytest.raises(LockBusy, match="being written by pid"),
            writer_lock(curated, wait_seconds=0.5),
        ):
            pass
    finally:
        release.set()
        holder.join(30)
    with writer_lock(curated, wait_seconds=0.5):  # released: the next run gets it
        pass


def test_cli_exits_3_when_another_run_writes(tmp_path: Path) -> None:
    from budget_disclosures.curation.state import writer_lock

    curated = tmp_path / "curated"
    with writer_lock(curated):
        result = subprocess.run(
            [str(DISCLOSURES), "ingest", str(SAMPLE), "--curated", str(curated)],
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert result.returncode == 3, result.stdout + result.stderr
    assert "being written by" in result.stderr


@pytest.fixture(scope="module")
def kill_batch(harness, tmp_path_factory) -> tuple[Path, Path, dict]:
    """The batch, and its curated output from one uninterrupted CLI run (shared by the seeds).

    The CLI subprocesses use the harness's Prefect server, so they don't each start one.
    """
    from prefect.settings import PREFECT_API_URL

    root = tmp_path_factory.mktemp("kill")
    inputs = batch_inputs(root, copies=4)
    clean = root / "clean"
    env = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value()}
    subprocess.run(
        [str(DISCLOSURES), "ingest", str(inputs), "--workers", "2", "--curated", str(clean)],
        env=env,
        capture_output=True,
        timeout=600,
    )
    return inputs, clean, env


# `make test` kills 3 times; SIGKILL_ROUNDS=10 for the acceptance run
@pytest.mark.parametrize("seed", range(int(os.environ.get("SIGKILL_ROUNDS", "3"))))
def test_sigkill_then_rerun_equals_uninterrupted_run(kill_batch, tmp_path: Path, seed: int) -> None:
    """Kill the ingest at a random point, re-run: curated/ ends identical to a clean run."""
    inputs, clean, env = kill_batch
    killed = tmp_path / "killed"
    command = [str(DISCLOSURES), "ingest", str(inputs), "--workers", "2", "--curated", str(killed)]
    process = subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    # wait until the run is writing, then kill the whole process group at a random moment
    deadline = time.monotonic() + 300
    while (
        not (killed / "line_items").exists()
        and time.monotonic() < deadline
        and process.poll() is None
    ):
        time.sleep(0.02)
    time.sleep(random.Random(seed).uniform(0.0, 1.0))
    os.killpg(process.pid, signal.SIGKILL)  # the CLI, its forkserver and document children
    process.wait(timeout=30)
    rerun = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert rerun.returncode in (0, 1), rerun.stdout + rerun.stderr
    assert_same_content(killed, clean)


def test_batch_starts_longest_documents_first(tmp_path: Path, bad_pdfs: dict[str, Path]) -> None:
    """LPT order: the most pages first, files that do not open (unknown page count) last — so a 400-page budget does not start last and keep one worker busy alone."""
    from budget_disclosures.flows.ingest import submission_order
    from budget_disclosures.flows.isolation import page_counts

    paths = [
        bad_pdfs["truncated.pdf"],
        bad_pdfs["no-tables.pdf"],
        SAMPLE,
        bad_pdfs["encrypted.pdf"],
        bad_pdfs["not-a-pdf.pdf"],
    ]
    pages = page_counts(paths)
    assert [n is None for n in pages] == [True, False, False, True, True]
    assert pages[2] > pages[1] > 0
    order = submission_order([str(p) for p in paths], pages)
    assert order[:2] == [2, 1] and sorted(order[2:]) == [0, 3, 4]


def test_submission_order_ties_keep_given_order() -> None:
    from budget_disclosures.flows.ingest import submission_order

    assert submission_order(["a", "b", "c", "d"], [3, 10, 3, None]) == [1, 0, 2, 3]


def test_flow_plans_by_the_page_counts_it_is_given(
    harness, tmp_path: Path, bad_pdfs: dict[str, Path]
) -> None:
    """The CLI reads the page counts while Prefect's server starts and hands them over: the
    flow plans by those (here the opposite of the true counts) rather than reading again."""
    from budget_disclosures.flows.ingest import run_ingest

    paths = [SAMPLE, bad_pdfs["no-tables.pdf"]]
    summaries = run_ingest(paths, tmp_path / "curated", force=False, workers=1, pages=[1, 100])
    assert all(s["status"] != "failed" for s in summaries)
    assert summaries[1]["document_started"] < summaries[0]["document_started"]
