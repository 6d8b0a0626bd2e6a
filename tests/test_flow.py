"""The Prefect ingest flow and the ``disclosures`` command line, against a temporary server.

One Prefect test harness (a temporary API server and database) serves the whole module; the
CLI subprocesses are pointed at it through ``PREFECT_API_URL`` so they do not each start a
server of their own.  Three flow runs in all: one in-process, two through the CLI.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from budget_disclosures.curation.state import read_runs
from conftest import BAD_DIR, BAD_FILES, run_cli


@pytest.fixture(scope="module")
def prefect_api():
    """A temporary Prefect API for every flow run of this module; yields its URL."""
    import prefect.settings
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield prefect.settings.PREFECT_API_URL.value()


@pytest.fixture(scope="module")
def flow_run(prefect_api, sample_pdf, bad_pdfs, tmp_path_factory):
    from budget_disclosures.flows.ingest import run_ingest

    paths = [sample_pdf, *bad_pdfs.values()]
    curated = tmp_path_factory.mktemp("flow-curated")
    summaries = run_ingest(paths, curated, force=False, workers=1)
    return paths, curated, summaries


# --------------------------------------------------------------------------- the flow


def test_flow_returns_one_summary_per_file_in_order(flow_run):
    paths, _, summaries = flow_run
    assert [s["file"] for s in summaries] == [p.name for p in paths]


def test_flow_sample_ok_and_bad_files_failed(flow_run, sample_pdf):
    _, _, summaries = flow_run
    by_file = {s["file"]: s for s in summaries}
    sample = by_file[sample_pdf.name]
    assert sample["status"] in ("ok", "warn"), sample["reason"]
    assert sample["template"] == "shaanxi-15"
    assert sample["tables"] == 15
    assert sample["line_items"] > 0
    assert by_file["no-tables.pdf"]["status"] == "warn"  # no table: never ok (issue 14)
    for name in set(BAD_FILES) - {"no-tables.pdf"}:
        assert by_file[name]["status"] == "failed", name
        assert by_file[name]["reason"] and "\n" not in by_file[name]["reason"]
    assert "encrypted" in by_file["encrypted.pdf"]["reason"].lower()


def test_flow_writes_the_curated_datasets(flow_run, sample_pdf):
    paths, curated, summaries = flow_run
    documents = pd.read_parquet(curated / "documents")
    assert len(documents) == len(paths)
    assert set(documents["doc_id"]) == {s["doc_id"] for s in summaries}
    items = pd.read_parquet(curated / "line_items")
    sample_id = next(s["doc_id"] for s in summaries if s["file"] == sample_pdf.name)
    assert set(items["doc_id"]) == {sample_id}
    total = items[
        (items["table_no"] == "5") & (items["name"] == "合计") & (items["measure"] == "total")
    ]
    assert total["amount_yuan"].tolist() == [3634500.0]


def test_flow_run_log_records_where_the_time_went(flow_run):
    paths, curated, _ = flow_run
    from budget_disclosures.curation.state import read_runs

    run = read_runs(curated, 1)[-1]
    timing = run["timing"]
    assert timing["documents"] == len(paths) and timing["workers"] == 1
    assert timing["command_to_flow_s"] is None  # no command: run_ingest called directly
    assert 0 <= timing["flow_to_first_document_s"] <= timing["flow_s"]
    assert timing["documents_work_s"] > 0
    assert timing["overhead_per_document_s"] >= 0
    assert 0 < timing["overhead_share"] < 1
    assert [d["file"] for d in run["document_timings"]] == [p.name for p in paths]
    for document in run["document_timings"]:  # nested spans: work ⊂ isolation ⊂ task
        assert document["work_s"] <= document["isolated_s"] + 0.01 <= document["task_s"] + 0.06


def test_task_spans_follow_each_worker_slot():
    from budget_disclosures.flows.timing import task_spans

    # one slot, all submitted at 0: each task runs from the previous one's end to its own
    assert task_spans([0, 0, 0], [2, 5, 6], ["a", "a", "a"]) == [2, 3, 1]
    # two slots: each follows its own previous task; unknown slot → since submission
    assert task_spans([0, 0, 0, 1], [2, 3, 7, 4], ["a", "b", "a", None]) == [2, 3, 5, 3]


def test_warm_up_imports_what_a_document_needs(sample_pdf, tmp_path):
    """Documents run in children forked after warm_up(): none should import a heavy
    library of its own (pandas alone took ~0.3-1 s per document)."""
    code = (
        "import sys; from pathlib import Path; from budget_disclosures.flows import pipeline; pipeline.warm_up();"
        "before = set(sys.modules);"
        f"pipeline.ingest_document(Path({str(sample_pdf)!r}), Path({str(tmp_path)!r}));"
        "print(sorted({m.split('.')[0] for m in set(sys.modules) - before}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
        env={**os.environ, "BUDGET_DISCLOSURES_OCR": "0"},
    )
    new = result.stdout.strip().splitlines()[-1]
    for heavy in ("pandas", "pyarrow", "numpy", "pypdfium2", "pdfplumber", "great_expectations"):
        assert f"'{heavy}'" not in new, new


# --------------------------------------------------------------------------- the CLI


def test_cli_help(tmp_path):
    result = run_cli(["--help"], None, tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "ingest" in result.stdout
    result = run_cli(["ingest", "--help"], None, tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "--curated" in result.stdout and "--force" in result.stdout


def test_cli_missing_path_is_a_usage_error(tmp_path):
    result = run_cli(
        ["ingest", tmp_path / "no-such-folder", "--curated", tmp_path / "c"], None, tmp_path
    )
    assert result.returncode == 2
    assert "no-such-folder" in result.stderr + result.stdout
    assert not (tmp_path / "c" / "documents").exists()


def test_cli_bad_option_is_a_usage_error(tmp_path, sample_pdf):
    result = run_cli(
        ["ingest", sample_pdf, "--workers", "0", "--curated", tmp_path / "c"], None, tmp_path
    )
    assert result.returncode == 2


def test_cli_folder_without_pdfs_exits_0(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run_cli(["ingest", empty, "--curated", tmp_path / "c"], None, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "no PDF" in result.stderr + result.stdout


def test_cli_exit_1_when_any_failed_then_0_on_a_clean_rerun(prefect_api, sample_pdf, tmp_path):
    curated = tmp_path / "out"
    raw_before = {p: p.read_bytes() for p in [sample_pdf, *BAD_DIR.glob("*.pdf")]}

    first = run_cli(["ingest", sample_pdf, BAD_DIR, "--curated", curated], prefect_api, tmp_path)
    assert first.returncode == 1, first.stdout + first.stderr
    assert sample_pdf.name in first.stdout
    assert "failed" in first.stdout
    documents = pd.read_parquet(curated / "documents").set_index("source_name")
    shown = documents[["status", "reason"]].to_string()
    assert len(documents) == 1 + len(BAD_FILES), shown
    assert documents.loc[sample_pdf.name, "status"] in ("ok", "warn"), shown
    assert documents.loc["no-tables.pdf", "status"] == "warn", shown
    assert (documents["status"] == "failed").sum() == len(BAD_FILES) - 1, shown
    assert (curated / "_logs" / "ingest.log").exists()
    timing = read_runs(curated, 1)[-1]["timing"]
    # (the first document starts before the flow: flows.isolation.HeadStart)
    assert 0 < timing["command_to_first_document_s"] < timing["command_to_flow_s"]
    assert "from command start to the first document" in first.stdout
    assert not (curated / "_logs" / "prefect-server.log").exists(), "PREFECT_API_URL not used"

    second = run_cli(["ingest", sample_pdf, "--curated", curated], prefect_api, tmp_path)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "skipped" in second.stdout
    assert len(pd.read_parquet(curated / "documents")) == 1 + len(BAD_FILES)

    assert {p: p.read_bytes() for p in raw_before} == raw_before
    assert not [q for q in curated.rglob("*") if q.name.endswith(".tmp")]
    assert not (tmp_path / "curated").exists(), "the CLI wrote outside --curated"


def test_cli_with_temporary_server_runs_its_own_temporary_server(tmp_path, sample_pdf):
    """No PREFECT_API_URL and ``--temporary-server``: the command starts Prefect's temporary
    server itself (not the background one), in parallel
    with its own start-up, points the flow at it and stops it at the end — and every task
    run reaches Prefect's database, although that server records them in batches (flushed
    when it stops: this run is shorter than its 5 s flush interval)."""
    curated = tmp_path / "out"
    env_api = os.environ.pop("PREFECT_API_URL", None)
    try:
        result = run_cli(
            [
                "ingest",
                BAD_DIR / "no-tables.pdf",
                sample_pdf,
                "--curated",
                curated,
                "--temporary-server",
            ],
            None,
            tmp_path,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        task_states = _recorded_task_states(curated, tmp_path / "check-server.log")
    finally:
        if env_api is not None:
            os.environ["PREFECT_API_URL"] = env_api
    assert (curated / "_logs" / "prefect-server.log").exists()
    run = read_runs(curated, 1)[-1]
    assert run["documents"] == 2 and not run["failed"]
    assert run["timing"]["command_to_first_document_s"] > 0
    # one task run per document, and the batch's link-disclosure-halves task
    assert task_states == ["Completed", "Completed", "Completed"]


def _recorded_task_states(curated: Path, log_file: Path) -> list[str]:
    """The task-run states Prefect's database holds for the flow run that wrote
    ``curated``, read through a new temporary server on the same database."""
    from budget_disclosures.flows.prefect_api import (
        start_temporary_server,
        stop,
        wait_until_healthy,
    )
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
    from prefect.client.schemas.sorting import FlowRunSort
    from prefect.settings import PREFECT_API_URL, temporary_settings

    server = start_temporary_server(log_file)
    assert server is not None and wait_until_healthy(server, 120), log_file.read_text()
    try:
        with (
            temporary_settings(updates={PREFECT_API_URL: server.api_url}),
            get_client(sync_client=True) as client,
        ):
            runs = client.read_flow_runs(sort=FlowRunSort.START_TIME_DESC, limit=50)
            (run,) = [r for r in runs if r.parameters.get("curated") == str(curated)]
            tasks = client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run.id]))
            )
            return sorted(t.state_name or "" for t in tasks)
    finally:
        stop(server)


def test_cli_from_a_folder_with_its_own_flows_package(prefect_api, sample_pdf, tmp_path):
    """Run from a folder holding another ``flows`` package (a Prefect project's, an older
    checkout): the document processes still run this pipeline. Python 3.11's forkserver put
    the working directory first on its path and preloaded the decoy — every document failed
    (found while benchmarking from copies of the repository)."""
    decoy = tmp_path / "flows"
    decoy.mkdir()
    (decoy / "__init__.py").write_text("")
    (decoy / "isolation.py").write_text("raise RuntimeError('decoy flows package imported')\n")
    (decoy / "warm.py").write_text("raise RuntimeError('decoy flows package imported')\n")
    curated = tmp_path / "out"
    result = run_cli(["ingest", sample_pdf, "--curated", curated], prefect_api, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    documents = pd.read_parquet(curated / "documents")
    assert documents["status"].tolist() != ["failed"], documents["reason"].tolist()


def test_cli_with_decoy_flows_and_validation_on_pythonpath(sample_pdf, tmp_path, monkeypatch):
    """Issue 18 item 2: another project's ``flows`` and ``validation`` importable (on
    PYTHONPATH, as a Prefect project's often are) do not shadow this pipeline's: it installs
    one import package, ``budget_disclosures``, and no generic top-level name."""
    decoys = tmp_path / "elsewhere"
    for name in ("flows", "validation", "curation", "mappings", "extractors"):
        package = decoys / name
        package.mkdir(parents=True)
        (package / "__init__.py").write_text(f"raise ImportError('decoy {name} imported')\n")
    monkeypatch.setenv("PYTHONPATH", str(decoys))
    curated = tmp_path / "out"
    result = run_cli(["ingest", sample_pdf, "--curated", curated], None, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    documents = pd.read_parquet(curated / "documents")
    assert documents["status"].tolist() in (["ok"], ["warn"]), documents["reason"].tolist()
    assert documents["n_line_items"].iloc[0] > 500


def test_nothing_is_installed_under_a_generic_top_level_name():
    import importlib.metadata

    top = importlib.metadata.distribution("budget-disclosures").read_text("top_level.txt")
    assert top is not None and set(top.split()) == {"budget_disclosures"}
