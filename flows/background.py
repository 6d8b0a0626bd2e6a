"""A local Prefect server left running in the background and reused by later commands.

Without ``PREFECT_API_URL`` (or a ``disclosures serve`` server for the same curated folder),
``disclosures ingest`` reports to a local Prefect server that outlives the command: the
first command starts it detached on 127.0.0.1 (:mod:`flows.background_server`), later
commands find it through its record and start at once, and it stops itself after an idle
period (30 minutes; ``BUDGET_DISCLOSURES_SERVER_IDLE_MINUTES``). The pattern is Prefect's
``prefect server start --background``, Gradle's daemon, Jupyter's server.

* The record (``server.json``: pid, API URL, start time, log file) and a lock file live in
  ``BUDGET_DISCLOSURES_SERVER_DIR`` (default ``$XDG_STATE_HOME/budget-disclosures``, else
  ``~/.local/state/budget-disclosures``).
* Commands started together take the lock in turn: the first starts the server and records
  it before releasing the lock, the others find the record and wait for the same server.
* A record whose process is gone, is not ours, or never answered is stale: the server is
  replaced.
* ``BUDGET_DISCLOSURES_SERVER=temporary`` (or ``disclosures ingest --temporary-server``)
  gives the older behaviour, a server that lives only as long as the command.

This module imports nothing of Prefect: commands that only ask about the server stay quick.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from budget_disclosures.flows.daemons import (  # noqa: F401 - (named here too)
    DEFAULT_IDLE_MINUTES,
    IDLE_ENV,
    MODE_ENV,
    SERVER_DIR_ENV,
    exclusive,
    idle_minutes,
    runs_module,
    server_dir,
    temporary_mode,
    terminate,
    write_record,
)
from budget_disclosures.flows.prefect_api import (
    QUIET_SERVER_ENV,
    TASK_RUN_BATCHING_ENV,
    await_health,
    free_port,
    healthy,
)

# a server that has not answered this long after its start is stale (migrations on a cold
# database take ~10 s on a 2-core machine; a busy machine more)
STARTUP_SECONDS = 180.0
MODULE = "budget_disclosures.flows.background_server"


@dataclass(frozen=True, slots=True)
class Server:
    """The background server as its record describes it."""

    pid: int
    api_url: str
    started: float
    log_file: Path

    @property
    def ui_url(self) -> str:
        return self.api_url.removesuffix("/api")


def _record_path() -> Path:
    return server_dir() / "server.json"


def _locked() -> contextlib.AbstractContextManager[None]:
    """The server directory's lock: one command at a time decides whether to start."""
    return exclusive(server_dir() / "server.lock")


def read_record() -> Server | None:
    try:
        data = json.loads(_record_path().read_text(encoding="utf-8"))
        return Server(
            int(data["pid"]), str(data["api_url"]), float(data["started"]), Path(data["log"])
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write_record(server: Server) -> None:
    record = {
        "pid": server.pid,
        "api_url": server.api_url,
        "started": server.started,
        "log": str(server.log_file),
    }
    write_record(_record_path(), record)


def _is_ours(pid: int) -> bool:
    """The process is alive and is a background server of ours (not a reused pid)."""
    return runs_module(pid, MODULE)


def is_running_server(pid: int) -> bool:
    """The process is a background server of ours, alive."""
    return _is_ours(pid)


def _stale(server: Server) -> bool:
    if not _is_ours(server.pid):
        return True
    return time.time() - server.started > STARTUP_SECONDS and not healthy(server.api_url, 1.0)


def _spawn() -> Server:
    """Start a detached server (its own session: it outlives the command and its terminal)."""
    directory = server_dir()
    port = free_port()
    log_file = directory / "prefect-server.log"
    with log_file.open("ab") as handle:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                MODULE,
                "--port",
                str(port),
                "--idle-minutes",
                str(idle_minutes()),
                "--record",
                str(_record_path()),
            ],
            stdout=handle,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            close_fds=True,
            env={
                **QUIET_SERVER_ENV,
                **TASK_RUN_BATCHING_ENV,
                **os.environ,
                "PREFECT_UI_ENABLED": "true",
                "PREFECT_SERVER_API_HOST": "127.0.0.1",
                "PREFECT_SERVER_API_PORT": str(port),
            },
        )
    return Server(process.pid, f"http://127.0.0.1:{port}/api", time.time(), log_file)


def _terminate(pid: int, wait_seconds: float = 20.0) -> None:
    """SIGTERM (uvicorn shuts down cleanly), then SIGKILL if it lingers."""
    terminate(pid, _alive, wait_seconds)


def _alive(pid: int) -> bool:
    with contextlib.suppress(ChildProcessError, OSError):
        done, _ = os.waitpid(pid, os.WNOHANG)  # reap it if it is our own child
        if done == pid:
            return False
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def ensure() -> tuple[Server, bool]:
    """The background server, started if there is none (or only a stale one): the server
    and whether this call started it. Does not wait for it to answer."""
    with _locked():
        server = read_record()
        if server is not None and not _stale(server):
            return server, False
        if server is not None and _alive(server.pid) and _is_ours(server.pid):
            _terminate(server.pid)
        server = _spawn()
        _write_record(server)
        return server, True


def wait_until_healthy(server: Server, timeout: float = STARTUP_SECONDS) -> bool:
    """True once the server answers; False if its process is gone (reaped here when it is
    this process's child) or it did not answer in time."""
    return await_health(
        server.api_url, lambda: not (_alive(server.pid) and _is_ours(server.pid)), timeout
    )


def status() -> Server | None:
    """The running background server, if there is one that answers."""
    server = read_record()
    if server is None or not _is_ours(server.pid) or not healthy(server.api_url, 1.0):
        return None
    return server


def stop() -> Server | None:
    """Stop the background server, and the flow host beside it (:mod:`flows.host`); returns
    the server stopped (None when none ran)."""
    from budget_disclosures.flows import host

    host.stop()
    with _locked():
        server = read_record()
        if server is None:
            return None
        if _is_ours(server.pid):
            _terminate(server.pid)
        _record_path().unlink(missing_ok=True)
        return server
