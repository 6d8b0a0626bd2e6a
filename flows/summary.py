"""A document's run summary and the pipeline's version: what the flow records about a batch,
importable without the pipeline itself (the command's process never reads a document, and
importing the pipeline there cost ~0.25 s of CPU next to the documents being read)."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

from budget_disclosures.flows.host import CODE_PACKAGES
from budget_disclosures.mappings.settings import templates_enabled


def _package_version() -> str:
    """The installed distribution's version: pyproject.toml is its one source."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("budget-disclosures")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "0+unknown"


PACKAGE_VERSION = _package_version()


def pipeline_version() -> str:
    """Package version plus a digest of the code and rule files that make the rows.

    A changed rule (``mappings/*.yml``, code lists) or a changed extractor, mapping,
    validation or pipeline module is a new version, so ``--reprocess-outdated`` redoes the
    documents it may change. Read with templates switched off, the same code makes other
    rows: another version. That setting is read at each call, not cached with the digest:
    the forkserver computes the version while it warms up, before the command has read
    ``--no-templates`` (a document so read recorded the templated version, and the next
    default run skipped it as up to date).
    """
    generic_only = "" if templates_enabled() else ".generic-only"
    return f"{PACKAGE_VERSION}+{code_digest()}{generic_only}"


@lru_cache(maxsize=1)
def code_digest() -> str:
    """The first 8 hex digits of the digest of the code and rule files (read once)."""
    digest = hashlib.sha256()
    root = Path(__file__).resolve().parent.parent  # the package: extractors/, mappings/, …
    for package in CODE_PACKAGES:
        for path in sorted((root / package).rglob("*")):
            if path.suffix in {".py", ".yml", ".csv", ".json"} and "__pycache__" not in path.parts:
                digest.update(path.relative_to(root).as_posix().encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:8]


@dataclass(slots=True)
class DocumentSummary:
    """One row of the run summary."""

    file: str
    doc_id: str | None
    unit: str | None = None
    year: int | None = None
    template: str | None = None
    pages: int = 0
    tables: int = 0
    line_items: int = 0
    status: str = "ok"
    reason: str = ""
    seconds: float = 0.0
    skipped: bool = False
    sha256: str | None = None
    n_errors: int = 0
    n_warnings: int = 0

    def as_dict(self) -> dict:
        return asdict(self)
