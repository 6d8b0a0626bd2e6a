"""The ``disclosures`` script: starts what takes longest first, then hands over to the CLI.

An ingest's longest start-up step is Prefect's temporary server (~8 s of imports and
migrations); it is launched here, before the CLI and its parser are imported, so that it
boots while everything else loads (:func:`flows.prefect_api.launch_early`). Every other
command goes straight to :mod:`flows.cli`.
"""

from __future__ import annotations

import sys


def main() -> None:
    from budget_disclosures.flows.prefect_api import launch_early

    launch_early(sys.argv[1:])
    from budget_disclosures.flows.cli import main as cli_main

    cli_main()


if __name__ == "__main__":
    main()
