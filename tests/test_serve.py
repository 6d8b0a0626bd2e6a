"""``disclosures serve``: the scheduled inbox deployment on a local Prefect server it manages,
and an ad-hoc ``ingest`` into the same curated folder reporting to that server.

One real ``serve`` process (``prefect server start`` underneath, ~15–30 s to come up on a
2-core machine); no mocks.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from budget_disclosures.curation.state import read_runs, recorded_server

CLI = Path(sys.executable).parent / "disclosures"


def _env() -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if k not in ("PREFECT_API_URL", "DISCLOSURES_CURATED")
    }
    env["COLUMNS"] = "200"
    return env


def _post(api_url: str, path: str, body: dict) -> list[dict]:
    request = urllib.request.Request(
        f"{api_url}{path}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def _wait_for(condition, process: subprocess.Popen, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        assert process.poll() is None, f"serve exited ({process.returncode}) before {what}"
        time.sleep(0.5)
    raise AssertionError(f"no {what} within {seconds:.0f} s")


def test_serve_runs_the_inbox_and_an_ingest_reports_to_its_server(
    tmp_path: Path, sample_pdf: Path, bad_pdfs: dict[str, Path]
) -> None:
    if not CLI.exists():
        pytest.skip(f"no `disclosures` script beside {sys.executable}")
    inbox, curated = tmp_path / "inbox", tmp_path / "curated"
    inbox.mkdir()
    shutil.copy(sample_pdf, inbox / sample_pdf.name)
    serve = subprocess.Popen(
        [CLI, "serve", "--inbox", inbox, "--curated", curated, "--run-now", "--cron", "0 2 * * *"],
        cwd=tmp_path,
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        # --run-now: the inbox is ingested once right away, through the server serve started
        _wait_for(lambda: read_runs(curated, 1), serve, 300, "run-now batch")
        record = recorded_server(curated)
        assert record is not None and record["pid"] == serve.pid, record
        api_url = record["api_url"]

        # the deployment is registered with its schedule
        def deployment() -> list[dict]:
            found = _post(
                api_url, "/deployments/filter", {"deployments": {"name": {"any_": ["inbox"]}}}
            )
            return [d for d in found if d["name"] == "inbox"]

        registered = _wait_for(deployment, serve, 120, "inbox deployment")
        assert any(s["schedule"].get("cron") == "0 2 * * *" for s in registered[0]["schedules"])

        # an ad-hoc ingest into the same folder reports to serve's server: no temporary one
        extra = bad_pdfs["no-tables.pdf"]
        adhoc = subprocess.run(
            [CLI, "ingest", extra, "--curated", curated, "--wait", "60"],
            cwd=tmp_path,
            env=_env(),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert adhoc.returncode == 0, adhoc.stdout + adhoc.stderr
        assert "the server of `disclosures serve`" in adhoc.stdout
        runs = _post(
            api_url, "/flow_runs/filter", {"sort": "EXPECTED_START_TIME_DESC", "limit": 20}
        )
        # the server's database is Prefect's default, shared with other runs: select ours
        adhoc_runs = [
            r
            for r in runs
            if r["parameters"].get("curated") == str(curated)
            and any(str(p).endswith("no-tables.pdf") for p in r["parameters"].get("paths", []))
        ]
        assert len(adhoc_runs) == 1 and adhoc_runs[0]["state_type"] == "COMPLETED", adhoc_runs
        assert read_runs(curated, 5)[-1]["documents"] == 1

        status = subprocess.run(
            [CLI, "status", "--curated", curated],
            env=_env(),
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        assert api_url.removesuffix("/api") in status.stdout, status.stdout

        serve.send_signal(signal.SIGTERM)  # stop serving: the server and its record go
        serve.wait(timeout=60)
        assert recorded_server(curated) is None
    finally:
        if serve.poll() is None:
            os.killpg(serve.pid, signal.SIGKILL)
            serve.wait()


def test_a_stale_serve_record_is_ignored(tmp_path: Path) -> None:
    """A record left by a serve process that died (SIGKILL), or naming a server that no
    longer answers, is not used: the ingest then starts its own temporary server."""
    from budget_disclosures.curation.state import _write_json_atomic, state_dir
    from budget_disclosures.flows.prefect_api import adopt_serve_server, serve_server

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    record = state_dir(tmp_path) / "prefect-server.json"
    for pid in (dead.pid, os.getpid()):  # a dead process; a live one whose server is gone
        _write_json_atomic(
            record, {"api_url": "http://127.0.0.1:9/api", "pid": pid, "started": "2026-01-01"}
        )
        assert serve_server(tmp_path) is None
    saved = os.environ.pop("PREFECT_API_URL", None)
    try:
        assert adopt_serve_server(tmp_path) is None
        assert "PREFECT_API_URL" not in os.environ
    finally:
        if saved is not None:
            os.environ["PREFECT_API_URL"] = saved
