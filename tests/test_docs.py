"""The docs stay true (issue 18 item 3): every CLI command and option is in the README or
docs/, and docs/data-dictionary.md is what `python -m budget_disclosures.curation.dictionary` renders now."""

from __future__ import annotations

import typer.main
from budget_disclosures.curation.dictionary import render
from budget_disclosures.flows.cli import app
from conftest import REPO_ROOT


def _documentation() -> str:
    texts = [(REPO_ROOT / "README.md").read_text(encoding="utf-8")]
    texts += [p.read_text(encoding="utf-8") for p in sorted((REPO_ROOT / "docs").glob("*.md"))]
    return "\n".join(texts)


def _commands(command, prefix: str = ""):
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        full = f"{prefix} {name}".strip()
        yield full, sub
        yield from _commands(sub, full)


def test_every_cli_command_and_option_is_documented():
    docs = _documentation()
    missing = []
    for name, command in _commands(typer.main.get_command(app)):
        if f"disclosures {name}" not in docs:
            missing.append(f"command: disclosures {name}")
        for param in command.params:
            for option in [*param.opts, *getattr(param, "secondary_opts", [])]:
                if option.startswith("--") and option != "--help" and option not in docs:
                    missing.append(f"disclosures {name} {option}")
    assert not missing, "undocumented: " + "; ".join(missing)


def test_data_dictionary_is_current():
    committed = (REPO_ROOT / "docs" / "data-dictionary.md").read_text(encoding="utf-8")
    assert committed == render(), (
        "run: python -m budget_disclosures.curation.dictionary > docs/data-dictionary.md"
    )
