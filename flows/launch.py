"""The ``disclosures`` script: starts what takes longest first, then hands over to the CLI.

An ingest's longest start-up step is Prefect's temporary server (~8 s of imports and
migrations); it is launched here, before the CLI and its parser are imported, so that it
boots while everything else loads (:func:`flows.prefect_api.launch_early`); before that,
the document processes' forkserver starts warming up, so that the first document can start
as soon as the command line is read. Every other command goes straight to :mod:`flows.cli`.

When a flow host runs (:mod:`flows.host`), an ingest goes there instead: this process only
hands over its command line, environment and terminal, and waits for the exit code.
"""

from __future__ import annotations

import os
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
        code = run_command(sys.argv[1:])
    except KeyboardInterrupt:  # (outside the CLI: handing over, starting the forkserver)
        code = _interrupted()
    exit_without_teardown(code)


def run_command(argv: list[str]) -> int | str | None:
    """Run the command; its exit code. An ingest goes to the flow host when one runs that
    matches this installation and environment (:mod:`flows.host`): it starts its first
    document at once, with Prefect and the pipeline already imported. Otherwise this process
    runs it, and leaves a flow host started for the next command."""
    reads_documents = starts_documents(argv)
    environment = dict(os.environ)  # (before the command sets options in it)
    if reads_documents:
        from budget_disclosures.flows.host import hand_over

        handed = hand_over(argv)
        if handed is not None:
            return handed
        # first of all: the document processes' forkserver imports and warms the pipeline
        # (~0.4–0.6 s) while this process reaches Prefect's server and parses the command
        from budget_disclosures.flows.isolation import start_forkserver

        start_forkserver()
    code = run_cli(argv)
    if reads_documents and code in (0, 1):
        from budget_disclosures.flows.host import start_for_next_command

        start_for_next_command(argv, environment)
    return code


def run_cli(argv: list[str]) -> int | str | None:
    """The CLI on ``argv`` (a script's, or one the flow host runs); its exit code. Ctrl-C
    before the command line was even read ends it too, saying so."""
    try:
        from budget_disclosures.flows.prefect_api import launch_early

        launch_early(argv)
        from budget_disclosures.flows.cli import main as cli_main

        cli_main()
        return 0
    except SystemExit as stop:
        return stop.code
    except KeyboardInterrupt:
        return _interrupted()


def _interrupted() -> int:
    """Say the command was interrupted; its exit code."""
    from budget_disclosures.flows.cli import INTERRUPTED, say_interrupted

    say_interrupted()
    return INTERRUPTED


def finish_command(code: int | str | None) -> int:
    """End the command as the interpreter would — join its threads, run the exit handlers
    (Prefect's, logging's, multiprocessing's, ``weakref.finalize``), flush the standard
    streams — but not tear down the objects of every imported module one by one, which
    took ~0.25 s after an ingest (Prefect, pydantic, pandas loaded), and does nothing an
    exit handler has not done already. Returns the exit status to end the process with."""
    import atexit
    import contextlib

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
    return code or 0


def exit_without_teardown(code: int | str | None) -> None:
    """:func:`finish_command`, then end the process."""
    os._exit(finish_command(code))


if __name__ == "__main__":
    main()
