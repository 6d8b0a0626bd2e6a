"""The Prefect API of one ``disclosures ingest``: the configured server, or a temporary one.

Without ``PREFECT_API_URL`` Prefect starts a temporary server itself, but only when the flow
starts, after importing the whole server in the command's own process just to launch it
(``prefect.server.api.server``, ~4 s) — start-up paid twice, one after the other, before the
first document. Here the same temporary server (the uvicorn command and settings Prefect
uses for its own) is launched as the command's first step, so that it starts while the
command imports the pipeline and Prefect's client and warms the document processes; the
flow then waits only for what is left of its start-up. A configured server
(``PREFECT_API_URL`` in the environment or the active profile, e.g. a ``prefect server
start``) is used as it is and nothing is started; so is the local server of a running
``disclosures serve`` on the same curated folder (recorded in its ``_state/``).

This module imports nothing of Prefect at import time: that is the point.
"""

from __future__ import annotations

import atexit
import contextlib
import inspect
import logging
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from budget_disclosures.flows.background import Server

log = logging.getLogger(__name__)


# A server started for the pipeline sends no analytics and logs errors only, unless the
# environment says otherwise (defaults, also set by the CLI for Prefect's own servers).
QUIET_SERVER_ENV = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_SERVER_LOGGING_LEVEL": "ERROR",
}


# A server the pipeline starts (a command's temporary one, ``disclosures serve``'s) records
# task runs in batches — flushed every 5 s and when the server stops — rather than in one
# database transaction per state change, Prefect's default. Over an 80-document batch with 2
# workers that cut the server's CPU while documents run from 6.4 s to 3.7 s, CPU the
# documents share on a 2-core machine; the cost is a task run's state showing in the UI up
# to 5 s late. The environment can still say otherwise.
TASK_RUN_BATCHING_ENV = {
    "PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_BATCH_SIZE": "200",
}


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
                **QUIET_SERVER_ENV,
                **TASK_RUN_BATCHING_ENV,
                **os.environ,
                "PREFECT_UI_ENABLED": "0",
                "PREFECT__SERVER_EPHEMERAL": "1",
                "PREFECT__SERVER_FINAL": "1",
            },
        )
    return TemporaryServer(process, f"http://127.0.0.1:{port}/api", log_file)


@dataclass(slots=True)
class ApiChoice:
    """Where an ingest's flow reports: the server of a running ``disclosures serve``
    (``serve_api``, already in ``PREFECT_API_URL``), a temporary server launched for it
    (``server``), the background server (``background``; ``background_started`` when this
    command started it), or none of these (a configured ``PREFECT_API_URL`` or profile)."""

    serve_api: str | None
    server: TemporaryServer | None
    background: Server | None = None
    background_started: bool = False


TEMPORARY_FLAG = "--temporary-server"


def choose_api(curated: Path, temporary: bool = False) -> ApiChoice:
    """Adopt a running serve's server for ``curated``; else, unless ``PREFECT_API_URL``
    names a server, the background server (started if none runs), or with ``temporary``
    (``--temporary-server``, ``BUDGET_DISCLOSURES_SERVER=temporary``) a server for this
    command alone, its log in ``<curated>/_logs``."""
    from budget_disclosures.flows import background

    serve_api = adopt_serve_server(curated)
    if serve_api or os.environ.get("PREFECT_API_URL"):
        return ApiChoice(serve_api, None)
    if not (temporary or background.temporary_mode()):
        try:
            server, started = background.ensure()
            return ApiChoice(None, None, server, started)
        except OSError as error:  # an unwritable state folder: this command's own server
            log.warning("background Prefect server unavailable (%s); using a temporary one", error)
    return ApiChoice(None, start_temporary_server(curated / "_logs" / "prefect-server.log"))


_early_choice: ApiChoice | None = None


def curated_argument(argv: list[str]) -> Path:
    """The ``--curated`` folder named on a command line (else the environment's, or the
    default), read without the CLI parser, which is not imported yet."""
    curated = os.environ.get("DISCLOSURES_CURATED", "curated")
    for index, argument in enumerate(argv):
        if argument == "--curated" and index + 1 < len(argv):
            curated = argv[index + 1]
        elif argument.startswith("--curated="):
            curated = argument.partition("=")[2]
    return Path(curated)


def serve_server(curated: Path) -> str | None:
    """The API URL of the server a running ``disclosures serve`` started for ``curated``
    (its record in ``_state/``), if that process is alive and the server answers."""
    from budget_disclosures.curation.state import recorded_server

    recorded = recorded_server(curated)
    if recorded is None:
        return None
    try:
        os.kill(int(recorded.get("pid", 0)), 0)
    except (OSError, ValueError, TypeError):
        return None  # the serve process is gone: its record is stale
    api_url = str(recorded["api_url"])
    return api_url if healthy(api_url, timeout=1.0) else None


def adopt_serve_server(curated: Path) -> str | None:
    """Report to the server of a ``disclosures serve`` on the same curated folder, when no
    server is configured: the ingest's runs then appear in the same UI as the scheduled
    ones, and no temporary server is started (its ~8 s start-up is saved). Sets
    ``PREFECT_API_URL`` for this process; returns the URL adopted, if any."""
    if os.environ.get("PREFECT_API_URL"):
        return None
    api_url = serve_server(curated)
    if api_url:
        os.environ["PREFECT_API_URL"] = api_url
    return api_url


def launch_early(argv: list[str]) -> None:
    """For ``disclosures ingest``, make the :func:`choose_api` choice — and so launch the
    temporary server — before the command line is even parsed (importing and running the
    CLI parser takes ~0.7 s): the server's start-up is the longest step before the first
    document. Taken by :func:`take_early_choice`; a server is stopped at exit if the command
    never got that far (a usage error, no PDFs)."""
    global _early_choice
    if not argv or argv[0] != "ingest" or {"--help", "-h"} & set(argv):
        return
    try:
        _early_choice = choose_api(curated_argument(argv[1:]), TEMPORARY_FLAG in argv)
    except OSError:  # an unwritable --curated: the command reports it, in its own words
        return
    if _early_choice.server is not None:
        atexit.register(_stop_unused_early_server)


def take_early_choice() -> ApiChoice | None:
    """The choice :func:`launch_early` made, handed over once (None if it made none)."""
    global _early_choice
    choice, _early_choice = _early_choice, None
    return choice


def _stop_unused_early_server() -> None:
    choice = take_early_choice()
    if choice is not None and choice.server is not None:
        stop(choice.server)


def await_health(api_url: str, exited: Callable[[], bool], timeout: float) -> bool:
    """True once the server at ``api_url`` answers; False if ``exited()`` says its process
    is gone, or it did not answer in time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if exited():
            return False
        if healthy(api_url, timeout=1.0):
            return True
        time.sleep(0.05)
    return False


def wait_until_healthy(server: TemporaryServer, timeout: float) -> bool:
    """True once the server answers; False if it exited or did not answer in time."""
    return await_health(server.api_url, lambda: server.process.poll() is not None, timeout)


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
def _reporting_to(api_url: str) -> Iterator[None]:
    """Prefect's client points at ``api_url`` for the block; the events and logs it still
    holds are sent before the block ends.

    Flow-run heartbeats are off: they let a lasting server mark a run whose process died as
    crashed, but stopping their thread costs up to a second at the end of every run (it
    sleeps in 1 s steps), and the isolation layer already reports a dead document process.
    """
    import prefect.context

    profile = prefect.context.get_settings_context().profile
    with prefect.context.SettingsContext(profile=profile, settings=reporting_settings(api_url)):
        yield
        drain_prefect_workers()


# (the settings they were made from, the API URL, the settings made): see reporting_settings
_REPORTING_SETTINGS: list[tuple[object, str, object]] = []


def reporting_settings(api_url: str):
    """Prefect's current settings, reporting to ``api_url`` without heartbeats. Making them
    validates every setting again (~0.1 s of CPU); the flow host makes them for the
    background server before its commands come (:mod:`flows.host_process`), and a command
    reuses them when its settings are the ones they were made from."""
    import prefect.context
    from prefect.settings import PREFECT_API_URL, PREFECT_FLOWS_HEARTBEAT_FREQUENCY

    current = prefect.context.get_settings_context().settings
    for base, url, made in _REPORTING_SETTINGS:
        if base is current and url == api_url:
            return made
    made = current.copy_with_update(
        updates={PREFECT_API_URL: api_url, PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}
    )
    _REPORTING_SETTINGS[:] = [(current, api_url, made)]
    return made


@contextlib.contextmanager
def background_api(server: Server) -> Iterator[str | None]:
    """Point Prefect at the background server for the block (it keeps running after);
    when it does not answer, or the active profile names an API URL, Prefect's own choice
    applies. Yields the API URL used, or None."""
    from budget_disclosures.flows import background
    from prefect.settings import get_current_settings

    if get_current_settings().api.url:
        yield None
        return
    if not background.wait_until_healthy(server):
        log.warning("background Prefect server did not answer (see %s)", server.log_file)
        yield None
        return
    with _reporting_to(server.api_url):
        yield server.api_url


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
    from prefect.settings import get_current_settings

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
        with _reporting_to(server.api_url):
            yield server.api_url
    finally:
        stop(server)
