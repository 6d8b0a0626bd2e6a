"""The flow host's process (``python -P -m budget_disclosures.flows.host_process``): see
:mod:`flows.host`.

It warms up — the forkserver with the pipeline preloaded, Prefect and the ingest flow, the
CLI's libraries — then takes commands on its socket. Each command is run by a process
forked from the host (everything already imported) that takes over the command's terminal,
working directory, file mode mask and environment, and runs the CLI as the ``disclosures``
script would. The host itself starts no thread (a fork copies only the forking thread: a
lock held by another thread would stay held forever in the child), refuses commands of
another installation or environment (its fingerprint), reaps its children, and exits after
its idle period, on SIGTERM, or when its forkserver is gone.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import gc
import io
import os
import select
import signal
import socket
import sys
import threading
import time
import traceback

from budget_disclosures.flows import host as host_record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m " + host_record.MODULE)
    parser.add_argument("--idle-minutes", type=float, default=30.0)
    options = parser.parse_args(argv)
    directory = host_record.host_dir()
    directory.mkdir(parents=True, exist_ok=True)
    lock = host_record.lock_path().open("a")
    if not _take(lock, wait_seconds=15.0):
        return 0  # another host runs (or a stopped one has not exited yet)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # (its own session: Ctrl-C is not for it)
    stopping: list[int] = []
    signal.signal(signal.SIGTERM, lambda signum, frame: stopping.append(signum))
    fingerprint = host_record.fingerprint(os.environ)
    forkserver_pid = _warm_up()
    listener = _listen(host_record.socket_path())
    host = host_record.Host(os.getpid(), host_record.socket_path(), fingerprint, time.time())
    host_record.write_record(host)
    print(f"{time.strftime('%F %T')} flow host {os.getpid()} ready", flush=True)
    try:
        _serve(listener, lock, fingerprint, forkserver_pid, options.idle_minutes * 60, stopping)
    finally:
        host_record.forget_record(os.getpid())
        listener.close()
    return 0


def _take(lock: io.TextIOWrapper, wait_seconds: float) -> bool:
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)


def _warm_up() -> int | None:
    """Import what a command would (the forkserver first: it warms on the other core) and
    return the forkserver's pid."""
    from multiprocessing import forkserver

    from budget_disclosures.flows import isolation

    isolation.start_forkserver()
    from budget_disclosures.flows import ingest as ingest_flows

    ingest_flows.preload_flow_engine()
    # the CLI's libraries; the CLI module itself is imported by each command, after it has
    # taken the command's terminal (its consoles read the terminal when they are made)
    import rich.console  # noqa: F401
    import rich.progress  # noqa: F401
    import rich.table  # noqa: F401
    import rich.traceback  # noqa: F401
    import typer  # noqa: F401
    import typer._click.decorators  # noqa: F401
    import typer.rich_utils  # noqa: F401 - (markdown-it, rich's markdown and panels)
    from budget_disclosures.curation import link, state  # noqa: F401 - (the batch's end)
    from budget_disclosures.flows import background, discover, prefect_api  # noqa: F401

    server = background.read_record()
    if server is not None:  # (Prefect's settings for it: ~0.1 s a command otherwise)
        prefect_api.reporting_settings(server.api_url)
    # the collector of each command (forked from here) must not scan the host's ~10⁶
    # objects: that costs CPU, and copies every page it touches (flows.warm does the same)
    gc.collect()
    gc.freeze()

    return forkserver._forkserver._forkserver_pid


def _listen(path: os.PathLike) -> socket.socket:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)  # (a dead host's: this one holds the lock)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    mask = os.umask(0o177)  # (the socket is the user's alone from its creation)
    try:
        listener.bind(os.fspath(path))
    finally:
        os.umask(mask)
    listener.listen(16)
    return listener


def _serve(
    listener: socket.socket,
    lock: io.TextIOWrapper,
    fingerprint: str,
    forkserver_pid: int | None,
    idle_seconds: float,
    stopping: list[int],
) -> None:
    children: set[int] = set()
    last_activity = time.monotonic()
    while not stopping:
        readable, _, _ = select.select([listener], [], [], 1.0)
        children = {pid for pid in children if not _reaped(pid)}
        if children:
            last_activity = time.monotonic()
        if forkserver_pid is not None and _reaped(forkserver_pid):
            print(f"{time.strftime('%F %T')} the forkserver is gone: stopping", flush=True)
            return
        if readable:
            try:
                connection, _ = listener.accept()
            except OSError:  # (the client gave up; out of descriptors)
                continue
            child = _take_command(connection, listener, lock, fingerprint)
            if child is not None:
                children.add(child)
            last_activity = time.monotonic()
        elif not children and time.monotonic() - last_activity > idle_seconds:
            print(f"{time.strftime('%F %T')} idle: stopping", flush=True)
            return


def _reaped(pid: int) -> bool:
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return done == pid


def _take_command(
    connection: socket.socket, listener: socket.socket, lock: io.TextIOWrapper, fingerprint: str
) -> int | None:
    """Fork the process that runs the command; its pid (None: refused or broken)."""
    with connection:
        connection.settimeout(5.0)
        try:
            request, descriptors = host_record.receive_request(connection)
        except (OSError, ValueError, EOFError):
            return None
        try:
            refusal = None
            if request.get("fingerprint") != fingerprint:
                refusal = "another installation or environment"
            elif threading.active_count() != 1:  # pragma: no cover - a bug of ours
                refusal = "the host has threads: it cannot fork safely"
            pid = None
            if refusal is None:
                try:
                    pid = os.fork()
                except OSError as error:  # (out of processes or memory)
                    refusal = f"cannot fork: {error}"
            if pid is None:
                with contextlib.suppress(OSError):
                    host_record.send_line(connection, {"refused": refusal})
                return None
            if pid == 0:
                code = 70
                try:
                    listener.close()
                    lock.close()  # (the lock stays with the host)
                    code = _run_command(connection, request, descriptors)
                except BaseException:
                    with contextlib.suppress(Exception):
                        traceback.print_exc()
                finally:
                    os._exit(code)
            argv = " ".join(map(str, request.get("argv", [])))[:200]
            print(f"{time.strftime('%F %T')} command {pid}: {argv}", flush=True)
            return pid
        finally:
            for descriptor in descriptors:
                os.close(descriptor)


def _run_command(connection: socket.socket, request: dict, descriptors: list[int]) -> int:
    """In the forked process: become the command (terminal, place, environment), run the
    CLI, tell the client the exit code. Returns the exit status. A failure before the
    command is taken goes to the host's log, and the client runs the command itself."""
    host_log = os.dup(2)
    try:
        _become_the_command(request, descriptors)
    except BaseException:
        os.dup2(host_log, 2)
        sys.stderr = sys.__stderr__ = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115
        raise
    os.close(host_log)
    from budget_disclosures.flows import launch

    connection.settimeout(None)
    host_record.send_line(connection, {"pid": os.getpid()})
    finished = threading.Event()
    threading.Thread(
        target=_interrupt_when_client_leaves, args=(connection, finished), daemon=True
    ).start()
    launch.listen_for_interrupts()
    try:
        code = launch.run_cli(list(request["argv"]))
    except KeyboardInterrupt:  # (between the CLI's end and here)
        code = 130
    finished.set()
    status = launch.finish_command(code)
    with contextlib.suppress(OSError):
        host_record.send_line(connection, {"exit": status})
    return status


def _become_the_command(request: dict, descriptors: list[int]) -> None:
    from budget_disclosures.flows import isolation, timing

    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for target, descriptor in enumerate(descriptors):
        os.dup2(descriptor, target)
    for descriptor in set(descriptors) - {0, 1, 2}:
        os.close(descriptor)
    _adopt_terminal(request.get("encoding"))
    os.chdir(request["cwd"])
    os.umask(int(request["umask"]))  # (document processes take it at their launch)
    os.environ.clear()
    os.environ.update(request["env"])
    sys.argv = ["disclosures", *request["argv"]]
    timing.HANDED_OVER_AT = float(request["started"])
    isolation.adopt_inherited_forkserver()


def _adopt_terminal(encoding: list | None) -> None:
    """Standard streams on the command's descriptors, buffered as Python would for them."""
    out_encoding, out_errors, err_errors = (encoding or [None, None, None])[:3]
    for number, name, errors in ((1, "stdout", out_errors), (2, "stderr", err_errors)):
        stream = open(  # noqa: SIM115 - the process's stream for its remaining life
            number,
            "w",
            encoding=out_encoding or "utf-8",
            errors=errors or "strict",
            closefd=False,
            buffering=1 if os.isatty(number) or number == 2 else -1,  # (1: by line)
        )
        setattr(sys, name, stream)
        setattr(sys, f"__{name}__", stream)
    sys.stdin = sys.__stdin__ = open(0, closefd=False)  # noqa: SIM115


def _interrupt_when_client_leaves(connection: socket.socket, finished: threading.Event) -> None:
    """A client killed (or its terminal closed) hangs up: the command is interrupted, as
    by Ctrl-C (the documents finished are kept), instead of running on unwatched."""
    with contextlib.suppress(OSError):
        while connection.recv(1024):
            pass
    if not finished.is_set():
        os.kill(os.getpid(), signal.SIGINT)


if __name__ == "__main__":
    sys.exit(main())
