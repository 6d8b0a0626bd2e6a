"""``disclosures server status|start|stop``: the background Prefect server by hand.

Ingest starts the server when it needs one; these commands show it, start it ahead of a
batch, or stop it now (it stops itself after the idle period otherwise).
"""

from __future__ import annotations

import os
import time

import typer
from budget_disclosures.flows import background
from rich.console import Console

server_app = typer.Typer(
    help="The background Prefect server that ingest reports to (started on first use, "
    "stopped after an idle period), and the flow host beside it that runs the next ingests "
    "with Prefect and the pipeline already loaded (BUDGET_DISCLOSURES_HOST=off: none).",
    no_args_is_help=True,
)
console = Console()


def background_idle_text() -> str:
    minutes = background.idle_minutes()
    return f"{minutes:g} min" if minutes >= 1 else f"{minutes * 60:g} s"


def _describe(server: background.Server) -> str:
    age = time.time() - server.started
    return (
        f"running: UI {server.ui_url}, API {server.api_url}, pid {server.pid}, up {age:.0f} s, "
        f"stops after {background_idle_text()} idle; log {server.log_file}"
    )


@server_app.command()
def status() -> None:
    """Show whether the background server runs, where its UI is and its log.

    Exit code 0 when it runs, 1 when it does not."""
    from budget_disclosures.flows import host

    server = background.status()
    if server is None:
        console.print(f"not running (state in {background.server_dir()})", highlight=False)
        raise typer.Exit(1)
    console.print(_describe(server), highlight=False)
    flow_host = host.status()
    if flow_host is not None:
        age = time.time() - flow_host.started
        console.print(
            f"flow host: pid {flow_host.pid}, up {age:.0f} s (runs ingest commands with Prefect "
            f"and the pipeline loaded; log {host.log_path()})",
            highlight=False,
        )


@server_app.command()
def start() -> None:
    """Start the background server now (or find the running one) and wait until it answers;
    and the flow host beside it, for the next ingest."""
    try:
        server, started = background.ensure()
    except OSError as error:
        console.print(f"[red]error:[/red] cannot keep the server's state: {error}")
        raise typer.Exit(1) from None
    if not background.wait_until_healthy(server):
        console.print(f"[red]error:[/red] the server did not start; see {server.log_file}")
        raise typer.Exit(1)
    console.print(("started; " if started else "") + _describe(server), highlight=False)
    from budget_disclosures.flows import host

    # the flow host too, so that the next ingest starts at once (and not only the one after)
    if host.ensure(dict(os.environ)):
        flow_host = host.wait_until_ready()
        if flow_host is None:
            console.print(f"the flow host did not start; see {host.log_path()}", highlight=False)
        else:
            console.print(f"flow host: pid {flow_host.pid}", highlight=False)


@server_app.command()
def stop() -> None:
    """Stop the background server and the flow host beside it (nothing to do when none runs)."""
    from budget_disclosures.flows import host

    try:
        flow_host = host.stop()
        if flow_host is not None:
            console.print(f"stopped the flow host (pid {flow_host.pid})", highlight=False)
        server = background.stop()
    except OSError as error:
        console.print(f"[red]error:[/red] cannot read the server's state: {error}")
        raise typer.Exit(1) from None
    if server is None:
        console.print("not running", highlight=False)
        return
    console.print(f"stopped the server at {server.ui_url} (pid {server.pid})", highlight=False)
