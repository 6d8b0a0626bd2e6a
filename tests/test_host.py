"""The flow host (issue 16): an ingest after an earlier one is run by a long-lived process
with Prefect, the pipeline and a warm forkserver already loaded; the command only hands it
its command line, environment, folder and terminal. Real processes, a real Prefect server
and host, in a server folder of this module's own, stopped at the end."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path
from unittest import mock

import pandas as pd
import pytest
from budget_disclosures.flows import background, host, isolation
from conftest import CLI, SAMPLE_PDF

pytestmark = pytest.mark.skipif(
    not SAMPLE_PDF.exists() or not CLI.exists(), reason="needs the sample PDF and the script"
)
READY_SECONDS = 120.0  # (a host warms up in ~3 s; a loaded test machine may take longer)


def _environment(server_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PREFECT_API_URL",)}
    env.pop(background.MODE_ENV, None)
    env[background.SERVER_DIR_ENV] = str(server_dir)
    env[host.HOST_ENV] = "on"
    env["COLUMNS"] = "200"
    return env | extra


def _ingest(
    env: dict[str, str], cwd: Path, *args: object, **options
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(CLI), "ingest", *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        **options,
    )


def _last_timing(curated: Path) -> dict:
    runs = (curated / "_state" / "runs.jsonl").read_text(encoding="utf-8").splitlines()
    return json.loads(runs[-1])["timing"]


def _ready_host(env: dict[str, str], other_than: int | None = None) -> host.Host:
    """The host of ``env``'s server folder once it takes commands (not ``other_than``)."""
    deadline = time.monotonic() + READY_SECONDS
    with mock.patch.dict(os.environ, env):
        while time.monotonic() < deadline:
            record = host.status()
            if record is not None and record.pid != other_than and record.socket.exists():
                return record
            time.sleep(0.2)
    log = Path(env[background.SERVER_DIR_ENV]) / "host.log"
    pytest.fail(f"no flow host took commands: {log.read_text() if log.exists() else 'no log'}")


def _commands_of(host_pid: int) -> list[int]:
    """The commands a host runs now: its children that are forks of it (not its forkserver
    or resource tracker, which run other programs)."""
    try:
        children = Path(f"/proc/{host_pid}/task/{host_pid}/children").read_text().split()
    except OSError:
        return []
    return [int(pid) for pid in children if host.is_ours(int(pid))]


def _no_commands_within(host_pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not _commands_of(host_pid):
            return True
        time.sleep(0.1)
    return False


@pytest.fixture(scope="module")
def first_run(tmp_path_factory):
    """A first ingest, run by the command itself: it starts the server and, at its end, the
    host; then the module's commands go to the host."""
    folder = tmp_path_factory.mktemp("host")
    env = _environment(folder / "server")
    result = _ingest(env, folder, SAMPLE_PDF, "--curated", folder / "first")
    assert result.returncode == 0, result.stdout + result.stderr
    assert _last_timing(folder / "first")["flow_host"] is False
    yield env, folder
    with mock.patch.dict(os.environ, env):
        background.stop()  # (the host first)


def _rows(curated: Path, dataset: str) -> pd.DataFrame:
    volatile = {"ingested_at", "pipeline_version", "source_path", "run_id", "seconds"}
    frame = pd.concat(pd.read_parquet(p) for p in sorted((curated / dataset).glob("*.parquet")))
    frame = frame.drop(columns=[c for c in frame.columns if c in volatile])
    return frame.sort_values(list(frame.columns[:4])).reset_index(drop=True)


def test_the_next_ingest_is_run_by_the_host_in_the_commands_folder(first_run, tmp_path):
    """Same rows as the command's own run; a relative folder is the command's; its file mode
    mask applies; its output and exit code are the command's."""
    env, folder = first_run
    _ready_host(env)
    result = _ingest(env, tmp_path, SAMPLE_PDF, "--curated", "curated", umask=0o027)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 documents, 0 failed" in result.stdout
    curated = tmp_path / "curated"
    timing = _last_timing(curated)
    assert timing["flow_host"] is True
    assert timing["command_to_first_document_s"] is not None
    for dataset in ("documents", "tables", "line_items"):
        pd.testing.assert_frame_equal(_rows(curated, dataset), _rows(folder / "first", dataset))
    assert stat.S_IMODE((curated / "line_items").stat().st_mode) & 0o007 == 0


def test_a_usage_error_comes_back_from_the_host(first_run, tmp_path):
    env, _ = first_run
    _ready_host(env)
    result = _ingest(env, tmp_path, tmp_path / "missing.pdf")
    assert result.returncode == 2
    assert "no such file or folder" in result.stderr


def _start_batch(env: dict[str, str], folder: Path, count: int) -> subprocess.Popen:
    raw = folder / "raw"
    raw.mkdir()
    for index in range(count):
        (raw / f"copy-{index}.pdf").write_bytes(SAMPLE_PDF.read_bytes() + f"%{index}\n".encode())
    return subprocess.Popen(
        [str(CLI), "ingest", str(raw), "--curated", str(folder / "curated")],
        cwd=folder,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for_a_document(folder: Path, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if list((folder / "curated" / "documents").glob("*.parquet")):
            return
        time.sleep(0.05)
    pytest.fail("no document was written")


def _batch_under_way(first_run, folder: Path) -> tuple[host.Host, subprocess.Popen]:
    """The flow host, and a client whose 12-document batch it runs, a document written."""
    env, _ = first_run
    flow_host = _ready_host(env)
    client = _start_batch(env, folder, 12)
    _wait_for_a_document(folder)
    return flow_host, client


def test_ctrl_c_reaches_the_command_the_host_runs(first_run, tmp_path):
    flow_host, client = _batch_under_way(first_run, tmp_path)
    client.send_signal(signal.SIGINT)
    _, stderr = client.communicate(timeout=120)
    assert client.returncode == 130, stderr
    assert "interrupted: the documents finished are kept" in stderr
    assert len(list((tmp_path / "curated" / "documents").glob("*.parquet"))) < 12
    assert _no_commands_within(flow_host.pid, 30.0)


def test_kill_reaches_the_command_and_the_client_ends_as_it_would(first_run, tmp_path):
    flow_host, client = _batch_under_way(first_run, tmp_path)
    client.terminate()
    _, stderr = client.communicate(timeout=60)
    assert client.returncode == 128 + signal.SIGTERM, stderr
    assert "without an exit code" not in stderr
    assert _no_commands_within(flow_host.pid, 30.0)


def test_a_killed_client_interrupts_its_command(first_run, tmp_path):
    """The command does not run on unwatched: the host's process sees its client gone."""
    flow_host, client = _batch_under_way(first_run, tmp_path)
    assert _commands_of(flow_host.pid), "the host runs the command"
    client.kill()
    client.communicate(timeout=30)
    assert _no_commands_within(flow_host.pid, 60.0)
    assert len(list((tmp_path / "curated" / "documents").glob("*.parquet"))) < 12


def test_another_environment_runs_itself_and_replaces_the_host(first_run, tmp_path):
    """A host imported Prefect's settings with its own environment: a command with other
    settings runs itself, then leaves a host fit for it."""
    env, _ = first_run
    old = _ready_host(env)
    other = env | {"PREFECT_CLIENT_MAX_RETRIES": "3"}
    first = _ingest(other, tmp_path, SAMPLE_PDF, "--curated", "a")
    assert first.returncode == 0, first.stdout + first.stderr
    assert _last_timing(tmp_path / "a")["flow_host"] is False
    new = _ready_host(other, other_than=old.pid)
    assert not host.is_ours(old.pid), "the old host stopped"
    second = _ingest(other, tmp_path, SAMPLE_PDF, "--curated", "b")
    assert second.returncode == 0, second.stdout + second.stderr
    assert _last_timing(tmp_path / "b")["flow_host"] is True
    stopped = subprocess.run(
        [str(CLI), "server", "stop"], env=other, capture_output=True, text=True, check=False
    )
    assert f"stopped the flow host (pid {new.pid})" in stopped.stdout
    assert not host.is_ours(new.pid)
    assert not (Path(env[background.SERVER_DIR_ENV]) / "host.json").exists()


def test_server_start_starts_the_host_for_the_first_ingest(tmp_path):
    env = _environment(tmp_path / "server")
    try:
        started = subprocess.run(
            [str(CLI), "server", "start"], env=env, capture_output=True, text=True, timeout=300
        )
        assert started.returncode == 0, started.stdout + started.stderr
        assert "flow host: pid" in started.stdout
        result = _ingest(env, tmp_path, SAMPLE_PDF, "--curated", "curated")
        assert result.returncode == 0, result.stdout + result.stderr
        assert _last_timing(tmp_path / "curated")["flow_host"] is True
    finally:
        with mock.patch.dict(os.environ, env):
            background.stop()


def test_an_idle_host_stops_itself(tmp_path):
    env = _environment(tmp_path / "server")
    process = subprocess.Popen(
        [sys.executable, "-P", "-m", host.MODULE, "--idle-minutes", "0.02"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        record = _ready_host(env)
        assert record.pid == process.pid
        assert process.wait(timeout=120) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert not (tmp_path / "server" / "host.json").exists()
    assert not (tmp_path / "server" / "host.sock").exists()


# --- without processes of their own


def test_the_fingerprint_follows_settings_read_at_import_only(tmp_path):
    base = {"HOME": "/home/x", "PATH": "/bin", "TERM": "xterm"}
    reference = host.fingerprint(base)
    assert host.fingerprint(base | {"TERM": "dumb", "COLUMNS": "80"}) == reference
    assert host.fingerprint(base | {host.HOST_ENV: "on"}) == reference
    assert host.fingerprint(base | {"PREFECT_API_URL": "http://h/api"}) != reference
    assert host.fingerprint(base | {"BUDGET_DISCLOSURES_TEMPLATES": "off"}) != reference
    assert host.fingerprint(base | {"PATH": "/usr/bin"}) != reference


def test_without_a_host_the_command_runs_itself(tmp_path, monkeypatch):
    monkeypatch.setenv(background.SERVER_DIR_ENV, str(tmp_path))
    monkeypatch.setenv(host.HOST_ENV, "on")
    assert host.hand_over(["ingest", "raw"]) is None  # no record
    host.write_record(host.Host(os.getpid(), tmp_path / "host.sock", "x", time.time()))
    assert host.hand_over(["ingest", "raw"]) is None  # no socket
    monkeypatch.setenv(host.HOST_ENV, "off")
    assert not host.enabled()


def test_a_document_process_works_in_the_commands_folder(tmp_path, monkeypatch):
    """A forkserver started elsewhere (the host's, in its own folder): the document's
    relative paths are the command's."""
    isolation.start_forkserver()
    monkeypatch.chdir(tmp_path)
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "sample.pdf").write_bytes(SAMPLE_PDF.read_bytes())
    summary = isolation.ingest_isolated(Path("in/sample.pdf"), Path("out"), True, 120, True)
    assert summary["status"] in ("ok", "warn"), summary
    assert list((tmp_path / "out" / "line_items").glob("*.parquet"))
