"""The Prefect API of one ``disclosures ingest``: the configured server, or a temporary one.

Without ``PREFECT_API_URL`` Prefect starts a temporary server itself, but only when the flow
starts, after importing the whole server in the command's own process just to launch it
(``prefect.server.api.server``, ~4 s) — start-up paid twice, one after the other, before the
first document. Here the same temporary server (the uvicorn command and settings Prefect
uses for its own) is launched as the command's first step, so that it starts while the
command imports the pipeline and Prefect's client and warms the document processes; the
flow then waits only for what is left of its start-up. A configured server
(``PREFECT_API_URL`` in the environment or the active profile, e.g. a ``disclosures serve``
or ``prefect server start``) is used as it is and nothing is started.

This module imports nothing of Prefect at import time: that is the point.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)


@dataclass(slots=True)
class TemporaryServer:
    """A Prefect API server process started for one command."""

    process: subprocess.Popen
    api_url: str
    log_file: Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def healthy(api_url: str, timeout: float = 2.0) -> bool:
    """The server answers its health check."""
    try:
        with urllib.request.urlopen(f"{api_url}/health", timeout=timeout) as response:
            return response.status == 200
    except OSError:
        return False


def start_temporary_server(log_file: Path) -> TemporaryServer | None:
    """Launch (without waiting for it) a temporary server, unless PREFECT_API_URL is set.

    The command is Prefect's own for its temporary server (``SubprocessASGIServer``): the
    API app in ephemeral mode (no UI, only the services a flow run needs).
    """
    if os.environ.get("PREFECT_API_URL"):
        return None
    port = free_port()
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as handle:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                "prefect.server.api.server:create_app",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--log-level",
                "error",
                "--lifespan",
                "on",
            ],
            stdout=handle,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={
                **os.environ,
                "PREFECT_UI_ENABLED": "0",
                "PREFECT__SERVER_EPHEMERAL": "1",
                "PREFECT__SERVER_FINAL": "1",
            },
        )
    return TemporaryServer(process, f"http://127.0.0.1:{port}/api", log_file)


def wait_until_healthy(server: TemporaryServer, timeout: float) -> bool:
    """True once the server answers; False if it exited or did not answer in time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            return False
        if healthy(server.api_url, timeout=1.0):
            return True
        time.sleep(0.05)
    return False


def stop(server: TemporaryServer, wait_seconds: float = 5.0) -> None:
    """Stop the server (SIGTERM, then SIGKILL if it does not exit in time)."""
    if server.process.poll() is None:
        server.process.terminate()
    try:
        server.process.wait(timeout=wait_seconds)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()


def drain_prefect_workers(timeout: float = 10.0) -> None:
    """Send the events and logs Prefect still holds, while the server is there to take
    them (Prefect's own temporary server is stopped only at interpreter exit, after
    these workers drained)."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    for worker in (EventsWorker, APILogWorker):
        with contextlib.suppress(Exception):
            result = worker.drain_all(timeout=timeout)
            if inspect.isawaitable(result):  # pragma: no cover - only from async code
                result.close()


@contextlib.contextmanager
def prefect_api(server: TemporaryServer | None) -> Iterator[str | None]:
    """Point Prefect at ``server`` for the block; drain and stop it afterwards.

    When the active Prefect profile names an API URL, or forbids temporary servers, the
    temporary server is stopped unused and Prefect's own choice applies (as it does when it
    did not come up: Prefect then starts its own). Yields the API URL used, or None.
    """
    if server is None:
        yield None
        return
    from prefect.settings import PREFECT_API_URL, get_current_settings, temporary_settings

    settings = get_current_settings()
    if settings.api.url or not settings.server.ephemeral.enabled:
        stop(server)
        yield None
        return
    if not wait_until_healthy(server, float(settings.server.ephemeral.startup_timeout_seconds)):
        log.warning("temporary Prefect server did not start (see %s)", server.log_file)
        stop(server)
        yield None
        return
    try:
        with temporary_settings(updates={PREFECT_API_URL: server.api_url}):
            yield server.api_url
            drain_prefect_workers()
    finally:
        stop(server)
