"""The ``disclosures`` script: starts what takes longest first, then hands over to the CLI.

An ingest's longest start-up step is Prefect's temporary server (~8 s of imports and
migrations); it is launched here, before the CLI and its parser are imported, so that it
boots while everything else loads (:func:`flows.prefect_api.launch_early`); before that,
the document processes' forkserver starts warming up, so that the first document can start
as soon as the command line is read. Every other command goes straight to :mod:`flows.cli`.
"""

from __future__ import annotations

import signal
import sys
import threading


def starts_documents(argv: list[str]) -> bool:
    """An ``ingest`` that will read documents on this machine (not ``--help``, not on a
    Dask cluster, whose workers have their own processes)."""
    if not argv or argv[0] != "ingest" or {"--help", "-h"} & set(argv):
        return False
    return not any(a == "--dask-address" or a.startswith("--dask-address=") for a in argv)


_INTERRUPT_REQUESTED = threading.Event()


def _on_interrupt(signum: int, frame: object) -> None:
    _INTERRUPT_REQUESTED.set()
    raise KeyboardInterrupt


def listen_for_interrupts() -> None:
    """Ctrl-C raises KeyboardInterrupt as always, and is remembered: raised inside a C
    extension's callback (pydantic-core building a validator while Prefect is imported) it is
    only printed as "ignored" and the command would go on; :func:`interrupt_requested` lets
    the command stop at its next step. A SIGINT the command was started ignoring (a
    background job) stays ignored."""
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _on_interrupt)


def interrupt_requested() -> bool:
    return _INTERRUPT_REQUESTED.is_set()


def main() -> None:
    listen_for_interrupts()
    try:
        run_command()
    except KeyboardInterrupt:  # before the command line was even read
        from budget_disclosures.flows.cli import INTERRUPTED, say_interrupted

        say_interrupted()
        exit_without_teardown(INTERRUPTED)


def run_command() -> None:
    if starts_documents(sys.argv[1:]):
        # first of all: the document processes' forkserver imports and warms the pipeline
        # (~0.4–0.6 s) while this process reaches Prefect's server and parses the command
        from budget_disclosures.flows.isolation import start_forkserver

        start_forkserver()
    from budget_disclosures.flows.prefect_api import launch_early

    launch_early(sys.argv[1:])
    from budget_disclosures.flows.cli import main as cli_main

    try:
        cli_main()
        code: int | str | None = 0
    except SystemExit as stop:
        code = stop.code
    exit_without_teardown(code)


def exit_without_teardown(code: int | str | None) -> None:
    """End the command as the interpreter would — join its threads, run the exit handlers
    (Prefect's, logging's, multiprocessing's, ``weakref.finalize``), flush the standard
    streams — but skip tearing down the objects of every imported module one by one, which
    took ~0.25 s after an ingest (Prefect, pydantic, pandas loaded), and does nothing an
    exit handler has not done already."""
    import atexit
    import contextlib
    import os

    shutdown = getattr(threading, "_shutdown", None)  # (the interpreter's first step: wait
    if shutdown is not None:  # for non-daemon threads)
        shutdown()
    atexit._run_exitfuncs()
    if isinstance(code, str):
        print(code, file=sys.stderr)
        code = 1
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed or broken pipe
            stream.flush()
    os._exit(code or 0)


if __name__ == "__main__":
    main()
