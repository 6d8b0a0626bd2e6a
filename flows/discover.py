"""Finding the PDFs of a batch: plain pathlib, so the CLI can list them before importing
the pipeline (it starts Prefect's server first, see :mod:`flows.prefect_api`)."""

from __future__ import annotations

from pathlib import Path


def discover_pdfs(paths: list[Path]) -> list[Path]:
    """PDF files named, or found (recursively) in folders named; sorted, de-duplicated."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(
                p for p in sorted(path.rglob("*")) if p.is_file() and p.suffix.lower() == ".pdf"
            )
        elif path.exists():
            found.append(path)
        else:
            raise FileNotFoundError(str(path))
    seen: set[Path] = set()
    unique = []
    for path in found:
        key = path.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(path)
    return unique
