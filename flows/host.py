"""The flow host: Prefect, the pipeline and a warm forkserver, loaded once, beside the
background server; ``disclosures ingest`` hands its command to it (Gradle's daemon).

A command that runs its ingest itself spends ~0.7 s before its first document (the
forkserver imports the pipeline) and ~1.4 s of CPU of its own, mostly importing Prefect:
CPU that, with as many workers as cores, the documents do not get. The flow host has done
all of that before the command starts. The command (the *client*) connects to the host's
socket and sends its command line, environment, working directory, file mode mask and its
terminal (standard input, output and error, passed as file descriptors); the host forks a
process that becomes the command — same output, progress bar, exit code — and the client
waits, passing on Ctrl-C and ``kill``. A client that dies interrupts its command.

* The host lives in the background server's folder (``host.json``, ``host.sock``,
  ``host.lock``, ``host.log``), is started by an ingest that ran itself with the background
  server (at its end, for the next command), stops after the server's idle period, and
  stops with ``disclosures server stop``.
* It runs only what it was started for: the installation (this package's code and rule
  files, the Python packages installed, Prefect's profiles) and the environment variables
  read at import time (``PREFECT_*``, ``BUDGET_DISCLOSURES_*``, locale, paths) give a
  *fingerprint*; a command whose fingerprint differs runs itself and replaces the host.
* ``BUDGET_DISCLOSURES_HOST=off`` (or a temporary server) keeps every command to itself.
* Anything that goes wrong before the host has taken the command (no host, a refusal, a
  socket error) leaves the command to run itself, as without a host.

This module imports nothing heavy: it is what a command loads before it knows whether it
will run anything itself.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import socket
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from budget_disclosures.flows import daemons
from budget_disclosures.flows.daemons import MODE_ENV, current_umask, idle_minutes, server_dir

HOST_ENV = "BUDGET_DISCLOSURES_HOST"  # "on" (default) or "off"
MODULE = "budget_disclosures.flows.host_process"
# the code and rule files that make a command's behaviour (flows.summary digests them too)
CODE_PACKAGES = ("extractors", "mappings", "validation", "curation", "flows")
CODE_SUFFIXES = frozenset({".py", ".yml", ".csv", ".json"})
# environment variables read when modules are imported (settings, locale, search paths):
# a host imported with other values would not behave as the command would on its own
FINGERPRINT_ENV_PREFIXES = ("PREFECT_", "BUDGET_DISCLOSURES_", "PYTHON", "LC_", "OMP_")
FINGERPRINT_ENV_NAMES = frozenset(
    {"LANG", "LANGUAGE", "TZ", "HOME", "PATH", "TMPDIR", "TESSDATA_PREFIX", "VIRTUAL_ENV"}
    | {"XDG_STATE_HOME", "XDG_CONFIG_HOME", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"}
)
FORWARDED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
SOCKET_PATH_LIMIT = 100  # (sun_path holds 108 bytes)
CONNECT_SECONDS = 2.0
ACCEPT_SECONDS = 10.0  # (the host forks at once; a loaded machine may take a while)


@dataclass(frozen=True, slots=True)
class Host:
    """The flow host as its record describes it."""

    pid: int
    socket: Path
    fingerprint: str
    started: float


def enabled(environment: Mapping[str, str] | None = None) -> bool:
    """Commands may use (and leave) a flow host: not switched off, no temporary server."""
    environment = os.environ if environment is None else environment
    if environment.get(HOST_ENV, "on").strip().lower() in {"off", "0", "no", "false"}:
        return False
    return environment.get(MODE_ENV, "background").strip().lower() != "temporary"


def host_dir() -> Path:
    return server_dir()


def record_path() -> Path:
    return host_dir() / "host.json"


def socket_path() -> Path:
    return host_dir() / "host.sock"


def lock_path() -> Path:
    """Held by the host while it lives: one host per folder."""
    return host_dir() / "host.lock"


def log_path() -> Path:
    return host_dir() / "host.log"


def _starting_lock_path() -> Path:
    """Held by a command while it decides whether to start (or stop) a host."""
    return host_dir() / "host-start.lock"


def fingerprint(environment: Mapping[str, str]) -> str:
    """What the host must share with a command to run it: the interpreter, this package's
    code and rule files (path, size, time), the installed packages (their folders' times),
    Prefect's profiles file and the environment read at import time. A few milliseconds."""
    digest = hashlib.sha256(f"{sys.executable}\0{sys.version}\0".encode())
    root = Path(__file__).resolve().parent.parent
    for package in CODE_PACKAGES:
        for entry in _code_files(root / package):
            stat = entry.stat()
            digest.update(f"{entry.path}\0{stat.st_size}\0{stat.st_mtime_ns}\0".encode())
    import site

    home = environment.get("PREFECT_HOME") or str(Path(environment.get("HOME", "~")) / ".prefect")
    for path in [*site.getsitepackages(), os.path.join(home, "profiles.toml")]:
        with contextlib.suppress(OSError):
            digest.update(f"{path}\0{os.stat(path).st_mtime_ns}\0".encode())
    for name in sorted(environment):
        if name == HOST_ENV:
            continue  # (whether to use a host is not something a host must share)
        if name in FINGERPRINT_ENV_NAMES or name.startswith(FINGERPRINT_ENV_PREFIXES):
            digest.update(f"{name}={environment[name]}\0".encode())
    return digest.hexdigest()[:20]


def _code_files(folder: Path) -> Iterator[os.DirEntry]:
    with contextlib.suppress(OSError), os.scandir(folder) as entries:
        for entry in sorted(entries, key=lambda e: e.name):
            if entry.is_dir(follow_symlinks=False):
                if entry.name != "__pycache__":
                    yield from _code_files(Path(entry.path))
            elif os.path.splitext(entry.name)[1] in CODE_SUFFIXES:
                yield entry


def read_record() -> Host | None:
    try:
        data = json.loads(record_path().read_text(encoding="utf-8"))
        return Host(
            int(data["pid"]), Path(data["socket"]), str(data["fingerprint"]), float(data["started"])
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_record(host: Host) -> None:
    record = {
        "pid": host.pid,
        "socket": str(host.socket),
        "fingerprint": host.fingerprint,
        "started": host.started,
    }
    daemons.write_record(record_path(), record)


def forget_record(pid: int) -> None:
    """Remove the record and socket if they are this host's (a newer host may own them)."""
    host = read_record()
    if host is not None and host.pid == pid:
        record_path().unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            host.socket.unlink()


def is_ours(pid: int) -> bool:
    """The process is alive and is a flow host of this package (not a reused pid)."""
    return daemons.runs_module(pid, MODULE)


# --- the conversation: one request (length-prefixed JSON and three descriptors), then JSON
# lines back: {"pid": n} when the host has taken the command, {"exit": code} at its end,
# {"refused": reason} when it will not take it.


def send_request(connection: socket.socket, request: dict, descriptors: list[int]) -> None:
    payload = json.dumps(request).encode()
    message = len(payload).to_bytes(8, "big") + payload
    sent = socket.send_fds(connection, [message], descriptors)
    connection.sendall(message[sent:])


def receive_request(connection: socket.socket) -> tuple[dict, list[int]]:
    data, descriptors, _, _ = socket.recv_fds(connection, 1 << 16, 3)
    try:
        while len(data) < 8 or len(data) < 8 + int.from_bytes(data[:8], "big"):
            chunk = connection.recv(1 << 16)
            if not chunk:
                raise EOFError("the command hung up before its request was complete")
            data += chunk
        request = json.loads(data[8 : 8 + int.from_bytes(data[:8], "big")])
        if not isinstance(request, dict) or len(descriptors) != 3:
            raise ValueError("not a command request")
    except BaseException:
        for descriptor in descriptors:
            os.close(descriptor)
        raise
    return request, descriptors


def send_line(connection: socket.socket, message: dict) -> None:
    connection.sendall(json.dumps(message).encode() + b"\n")


class _Lines:
    """JSON lines read from a socket."""

    def __init__(self, connection: socket.socket) -> None:
        self.connection, self.buffer = connection, b""

    def next(self) -> dict | None:
        """The next message; None when the other side hung up."""
        while b"\n" not in self.buffer:
            chunk = self.connection.recv(4096)
            if not chunk:
                return None
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        message = json.loads(line)
        return message if isinstance(message, dict) else None


def hand_over(argv: list[str]) -> int | None:
    """Have the flow host run this command; its exit code, or None when no host took it
    (none runs, it is stale or busy, the socket failed): then the command runs itself."""
    if not enabled() or "--temporary-server" in argv:
        return None
    host = read_record()
    if host is None:
        return None
    try:
        connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    except OSError:
        return None
    with connection:
        try:
            connection.settimeout(CONNECT_SECONDS)
            connection.connect(str(host.socket))
            send_request(connection, _request(argv), [0, 1, 2])
            connection.settimeout(ACCEPT_SECONDS)
            lines = _Lines(connection)
            accepted = lines.next()
        except (OSError, ValueError):  # (no such socket, refused, timed out, closed streams)
            return None
        if not accepted or not isinstance(accepted.get("pid"), int):
            return None
        connection.settimeout(None)
        with _forwarding_signals(accepted["pid"]) as forwarded:
            try:
                finished = lines.next()
            except (OSError, ValueError):
                finished = None
    if (finished is None or "exit" not in finished) and forwarded:
        return 128 + forwarded[-1]  # (killed by the signal passed on, as this process would be)
    if finished is None or not isinstance(finished.get("exit"), int):
        print(
            f"error: the flow host's command ended without an exit code (see {log_path()})",
            file=sys.stderr,
        )
        return 1
    return finished["exit"]


def _request(argv: list[str]) -> dict:
    from budget_disclosures.flows.timing import process_started

    return {
        "argv": argv,
        "cwd": os.getcwd(),
        "env": dict(os.environ),
        "umask": current_umask(),
        "fingerprint": fingerprint(os.environ),
        "started": process_started(),
        "encoding": [  # (a stream is None when its descriptor was closed at start)
            getattr(sys.stdout, "encoding", None),
            getattr(sys.stdout, "errors", None),
            getattr(sys.stderr, "errors", None),
        ],
    }


@contextlib.contextmanager
def _forwarding_signals(pid: int) -> Iterator[list[int]]:
    """Ctrl-C (and ``kill``, a closed terminal) reach the command the host runs, which ends
    as it would on its own; this process waits for its exit code."""

    forwarded: list[int] = []

    def forward(signum: int, frame: object) -> None:
        forwarded.append(signum)
        with contextlib.suppress(OSError):
            os.kill(pid, signum)

    previous = {number: signal.signal(number, forward) for number in FORWARDED_SIGNALS}
    try:
        yield forwarded
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


# --- starting and stopping


def start_for_next_command(argv: list[str], environment: Mapping[str, str]) -> None:
    """After an ingest that ran itself with the background server: make sure a flow host
    fit for ``environment`` (the command's, as it started) runs for the next command —
    replacing one started for another installation or environment. Never waits for it."""
    if "--temporary-server" not in argv:
        ensure(environment)


def ensure(environment: Mapping[str, str]) -> bool:
    """A flow host fit for ``environment`` runs or is starting (started here if need be,
    replacing one of another installation or environment); False when commands of this
    environment run themselves (host switched off, a server of the user's, no background
    server, a folder where no socket can be made or written)."""
    if not enabled(environment) or environment.get("PREFECT_API_URL"):
        return False  # (off; or the commands report to a server of the user's)
    if len(str(socket_path())) > SOCKET_PATH_LIMIT:
        return False
    try:
        from budget_disclosures.flows import background

        server = background.read_record()
        if server is None or not background.is_running_server(server.pid):
            return False
        with daemons.exclusive(_starting_lock_path()):
            host = read_record()
            if host is not None and is_ours(host.pid):
                if host.fingerprint == fingerprint(environment):
                    return True
                terminate(host.pid)  # (its commands in progress run on)
            elif daemons.held(lock_path()):
                return True  # one is starting
            _spawn(environment)
            return True
    except OSError:
        return False  # (the folder is not writable: commands run themselves, as before)


def wait_until_ready(timeout: float = 60.0) -> Host | None:
    """The host once it takes commands; None if none did in time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        host = status()
        if host is not None and host.socket.exists():
            return host
        time.sleep(0.1)
    return None


def _spawn(environment: Mapping[str, str]) -> None:
    import subprocess

    directory = host_dir()
    with log_path().open("ab") as log:
        subprocess.Popen(
            [sys.executable, "-P", "-m", MODULE, "--idle-minutes", str(idle_minutes())],
            cwd=directory,
            env=dict(environment),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
        )


def terminate(pid: int, wait_seconds: float = 10.0) -> None:
    """Stop a host: it stops taking commands and exits; the commands it runs go on."""
    daemons.terminate(pid, is_ours, wait_seconds)


def status() -> Host | None:
    host = read_record()
    return host if host is not None and is_ours(host.pid) else None


def stop() -> Host | None:
    """Stop the flow host; the one stopped (None when none ran)."""
    with daemons.exclusive(_starting_lock_path()):
        host = read_record()
        if host is None:
            return None
        if is_ours(host.pid):
            terminate(host.pid)
        forget_record(host.pid)
        return host
