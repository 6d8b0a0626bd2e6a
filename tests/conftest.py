"""Shared fixtures: where the repository, the sample, the bad inputs and the dev corpus live.

Tests that need the shared dev corpus (``../shared`` beside the repository root) are marked
``corpus`` and skip cleanly when it is absent.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = REPO_ROOT.parent / "shared"
DEV_CORPUS = SHARED / "corpus" / "dev"
SAMPLE_PDF = REPO_ROOT / "raw" / "samples" / "baoji-bigdata-center-2023-budget.pdf"
BAD_DIR = REPO_ROOT / "tests" / "fixtures" / "bad"
BAD_FILES = ("not-a-pdf.pdf", "truncated.pdf", "encrypted.pdf", "empty.pdf", "no-tables.pdf")

# ``benchmarks`` is not an installed package: make the repository root importable.
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

# Keep Prefect's home (profiles, local database, logs) out of the user's ~/.prefect.
_PREFECT_HOME = Path(tempfile.mkdtemp(prefix="disclosures-tests-prefect-"))
os.environ.setdefault("PREFECT_HOME", str(_PREFECT_HOME))
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")


# The background Prefect server of commands run by the tests lives in the session's own state
# folder, and is stopped when the session ends: `make test` leaves no process behind.
_SERVER_DIR = Path(tempfile.mkdtemp(prefix="disclosures-tests-server-"))
os.environ.setdefault("BUDGET_DISCLOSURES_SERVER_DIR", str(_SERVER_DIR))
# The flow host (flows.host) is off for the tests' commands: each would otherwise be run by a
# host an earlier test left, or replace it when its environment differs. tests/test_host.py
# switches it on for its own commands.
os.environ.setdefault("BUDGET_DISCLOSURES_HOST", "off")

# The project's corrections/ (the demo's reviewed decisions on the sample) stay out of the tests:
# a test that wants corrections names its own folder.
_CORRECTIONS_DIR = Path(tempfile.mkdtemp(prefix="disclosures-tests-corrections-"))
os.environ["BUDGET_DISCLOSURES_CORRECTIONS"] = str(_CORRECTIONS_DIR)


def pytest_sessionfinish(session, exitstatus):
    from budget_disclosures.flows import background

    background.stop()
    shutil.rmtree(_SERVER_DIR, ignore_errors=True)
    shutil.rmtree(_PREFECT_HOME, ignore_errors=True)


def pytest_collection_modifyitems(config, items):
    """Skip every ``corpus`` test when ../shared/corpus/dev is not there."""
    if DEV_CORPUS.is_dir():
        return
    skip = pytest.mark.skip(reason=f"shared dev corpus not found at {DEV_CORPUS}")
    for item in items:
        if "corpus" in item.keywords:
            item.add_marker(skip)


# --------------------------------------------------------------------------- helpers


def sha256_of(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def dev_pdf_path(corpus_id: str) -> Path:
    """A dev-corpus PDF by id (``dev-1-0002``), skipping the test when it is absent."""
    path = DEV_CORPUS / f"{corpus_id}.pdf"
    if not path.exists():
        pytest.skip(f"dev corpus document {path} not found")
    return path


def read_page(path: Path, number: int, reader: str = "pdfium"):
    """One page (1-based) as a :class:`PageContent`, read by the named page reader."""
    if reader == "pdfplumber":
        from budget_disclosures.extractors.document import open_pdf
        from budget_disclosures.extractors.document import read_page as read_plumber_page

        pdf = open_pdf(path)
        try:
            return read_plumber_page(pdf.pages[number - 1])
        finally:
            pdf.close()
    from budget_disclosures.extractors.pdfium_pages import open_pdfium, read_pdfium_page

    pdf = open_pdfium(path)
    try:
        page = pdf[number - 1]
        try:
            return read_pdfium_page(page, number)
        finally:
            page.close()
    finally:
        pdf.close()


def page_tables(path: Path):
    """Every page of a document as identification input (text lines and grids)."""
    from budget_disclosures.extractors.grid import RuledGridExtractor
    from budget_disclosures.extractors.pdfium_pages import iter_pdfium_pages, open_pdfium
    from budget_disclosures.mappings.identify import PageTables

    extractor = RuledGridExtractor("pdfium-grid")
    pdf = open_pdfium(path)
    try:
        return [
            PageTables(page.number, page.lines, extractor.extract(str(path), page))
            for page in iter_pdfium_pages(pdf)
        ]
    finally:
        pdf.close()


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def sample_pdf() -> Path:
    assert SAMPLE_PDF.exists(), f"sample PDF missing: {SAMPLE_PDF}"
    return SAMPLE_PDF


@pytest.fixture(scope="session")
def bad_pdfs() -> dict[str, Path]:
    paths = {name: BAD_DIR / name for name in BAD_FILES}
    missing = [str(p) for p in paths.values() if not p.exists()]
    assert not missing, f"bad-input fixtures missing: {missing}"
    return paths


@pytest.fixture(scope="session")
def dev_corpus() -> Path:
    if not DEV_CORPUS.is_dir():
        pytest.skip(f"shared dev corpus not found at {DEV_CORPUS}")
    return DEV_CORPUS


@pytest.fixture(scope="session")
def sample_page_tables(sample_pdf):
    """The sample read once for identification and mapping tests (treat as read-only)."""
    return page_tables(sample_pdf)


# --------------------------------------------------------------------------- the command line

CLI = Path(sys.executable).parent / "disclosures"


def run_cli(args, api_url, cwd, timeout=300):
    """Run ``disclosures ARGS`` in ``cwd`` (reporting to ``api_url`` when given), wide output."""
    if not CLI.exists():
        pytest.skip(f"no `disclosures` script beside {sys.executable}")
    env = dict(os.environ)
    if api_url:
        env["PREFECT_API_URL"] = api_url
    env.pop("DISCLOSURES_CURATED", None)
    env["COLUMNS"] = "200"
    return subprocess.run(
        [str(CLI), *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


# --------------------------------------------------------------------------- headless Chromium

CHROMIUM = Path("/usr/bin/chromium")
APT_PACKAGES = ("chromium", "fonts-wqy-zenhei")  # the browser, and a font for the Chinese text
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


def _install_chromium() -> str | None:
    """apt-get install Chromium; returns why it is unavailable, or None."""
    if CHROMIUM.exists():
        return None
    if shutil.which("apt-get") is None:
        return "Chromium is not installed and apt-get is not available"
    if hasattr(os, "geteuid") and os.geteuid() != 0:
        return "Chromium is not installed and apt-get needs root (run: apt-get install -y chromium)"
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for command in (
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "-qq", *APT_PACKAGES],
    ):
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=900, env=env)
        except (OSError, subprocess.TimeoutExpired) as error:
            return f"{' '.join(command)} failed: {error}"
        if done.returncode != 0:
            return f"{' '.join(command)} failed: {(done.stderr or done.stdout).strip()[-300:]}"
    return None if CHROMIUM.exists() else "apt-get install chromium left no /usr/bin/chromium"


@pytest.fixture(scope="session")
def chromium() -> Path:
    reason = _install_chromium()
    if reason:
        pytest.skip(f"headless Chromium unavailable: {reason}")
    return CHROMIUM


def run_chromium(chromium: Path, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    profile = tmp_path / f"profile-{len(list(tmp_path.iterdir()))}"
    command = [str(chromium), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    return done


def hold_writer_lock(curated: str, ready, release) -> None:
    """In a forked process: hold ``curated``'s writer lock until ``release`` is set (another
    run writing the same folder)."""
    from budget_disclosures.curation.state import writer_lock

    with writer_lock(Path(curated)):
        ready.set()
        release.wait(30)
