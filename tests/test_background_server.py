"""The background Prefect server (issue 16): started by the first command, reused by later
ones, replaced when it died, shared by commands started together, stopped when idle and by
``disclosures server stop``. Real processes, a real Prefect server; each test has its own
server folder and stops its server at the end (no process is left behind)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from budget_disclosures.flows import background
from conftest import BAD_DIR, CLI, run_cli


@pytest.fixture()
def server_dir(tmp_path, monkeypatch):
    directory = tmp_path / "server"
    monkeypatch.setenv(background.SERVER_DIR_ENV, str(directory))
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.delenv(background.MODE_ENV, raising=False)
    yield directory
    background.stop()


def _servers() -> list[int]:
    """Pids of background servers of this test's folder that are running."""
    folder = os.environ[background.SERVER_DIR_ENV]
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if background.MODULE in cmdline and folder in cmdline:
            out.append(int(entry.name))
    return out


def test_the_first_ingest_starts_the_server_and_the_next_reuses_it(server_dir, tmp_path):
    pdf = BAD_DIR / "no-tables.pdf"
    first = run_cli(["ingest", pdf, "--curated", tmp_path / "a"], None, tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "Prefect UI: http://127.0.0.1:" in first.stdout
    assert "disclosures server stop" in first.stdout
    server = background.status()
    assert server is not None, "the server outlives the command"
    second = run_cli(["ingest", pdf, "--curated", tmp_path / "b"], None, tmp_path)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "Prefect UI" not in second.stdout, "said once, by the command that started it"
    assert background.status() == server
    assert _servers() == [server.pid]
    assert not (tmp_path / "b" / "_logs" / "prefect-server.log").exists()


def test_a_killed_server_is_replaced_by_the_next_command(server_dir, tmp_path):
    server, started = background.ensure()
    assert started and background.wait_until_healthy(server)
    os.kill(server.pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while server.pid in _servers() and time.monotonic() < deadline:
        time.sleep(0.1)
    result = run_cli(
        ["ingest", BAD_DIR / "no-tables.pdf", "--curated", tmp_path / "c"], None, tmp_path
    )
    assert result.returncode == 0, result.stdout + result.stderr
    replacement = background.status()
    assert replacement is not None and replacement.pid != server.pid
    assert _servers() == [replacement.pid]


def test_two_ingests_started_together_share_one_server(server_dir, tmp_path):
    pdf = BAD_DIR / "no-tables.pdf"
    if not CLI.exists():
        pytest.skip(f"no `disclosures` script beside {sys.executable}")
    environment = {**os.environ, "COLUMNS": "200"}
    environment.pop("PREFECT_API_URL", None)
    runs = [
        subprocess.Popen(
            [str(CLI), "ingest", str(pdf), "--curated", str(tmp_path / name)],
            cwd=tmp_path,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("one", "two")
    ]
    outputs = [run.communicate(timeout=300) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    assert sum("Prefect UI" in out for out, _ in outputs) == 1, "one of them started it"
    assert len(_servers()) == 1


def test_server_commands_start_report_and_stop(server_dir, tmp_path):
    assert run_cli(["server", "status"], None, tmp_path).returncode == 1
    started = run_cli(["server", "start"], None, tmp_path)
    assert started.returncode == 0, started.stdout + started.stderr
    assert "started; running: UI http://127.0.0.1:" in started.stdout
    status = run_cli(["server", "status"], None, tmp_path)
    assert status.returncode == 0 and "running: UI" in status.stdout
    (pid,) = _servers()
    stopped = run_cli(["server", "stop"], None, tmp_path)
    assert stopped.returncode == 0 and f"pid {pid}" in stopped.stdout
    assert _servers() == []
    assert run_cli(["server", "stop"], None, tmp_path).stdout.strip() == "not running"


def test_an_idle_server_stops_itself(server_dir, monkeypatch):
    monkeypatch.setenv(background.IDLE_ENV, "0.05")  # 3 seconds
    server, _ = background.ensure()
    assert background.wait_until_healthy(server)
    deadline = time.monotonic() + 60
    while _servers() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _servers() == []
    assert background.read_record() is None, "it removed its own record"


def test_temporary_mode_leaves_nothing_running(server_dir, tmp_path, monkeypatch):
    monkeypatch.setenv(background.MODE_ENV, "temporary")
    result = run_cli(
        ["ingest", BAD_DIR / "no-tables.pdf", "--curated", tmp_path / "t"], None, tmp_path
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert _servers() == [] and background.read_record() is None
    assert (tmp_path / "t" / "_logs" / "prefect-server.log").exists()


def test_an_unwritable_server_folder_falls_back_to_a_temporary_server(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv(background.SERVER_DIR_ENV, str(blocker / "server"))
    result = run_cli(
        ["ingest", BAD_DIR / "no-tables.pdf", "--curated", tmp_path / "u"], None, tmp_path
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "u" / "_logs" / "prefect-server.log").exists()
