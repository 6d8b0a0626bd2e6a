"""The docs stay true (issue 18 item 3): every CLI command and option is in the README or
docs/, and docs/data-dictionary.md is what `python -m budget_disclosures.curation.dictionary` renders now."""

from __future__ import annotations

import re
from pathlib import Path

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


def _readme_bash_blocks() -> list[str]:
    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```bash\n(.*?)```", text, flags=re.S)
    return [b for b in blocks if not re.search(r"(?m)^make ", b)]


def test_readme_commands_run_as_written(tmp_path, sample_pdf):
    """Issue 18 item 6: every ``bash`` block of the README (but `make`), run as written from a
    project folder holding the sample in raw/, with the default relative paths."""
    import os
    import shutil
    import subprocess
    import sys

    (tmp_path / "raw").mkdir()
    shutil.copy(sample_pdf, tmp_path / "raw" / sample_pdf.name)
    bin_dir = str(Path(sys.executable).parent)
    env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    env.pop("DISCLOSURES_CURATED", None)
    first = subprocess.run(
        ["disclosures", "ingest"], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert first.returncode in (0, 1), first.stdout + first.stderr
    blocks = _readme_bash_blocks()
    assert len(blocks) >= 2
    for block in blocks:
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", block],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode in (0, 1), f"{block}\n{done.stdout}\n{done.stderr}"
        assert "Traceback" not in done.stderr, f"{block}\n{done.stderr}"
