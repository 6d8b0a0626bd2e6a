"""Issue 18 item 7: hostile PDFs fail their own document, with a clear reason, never the batch.

The files are written by tests/fixtures/hostile/build_hostile.py into a temporary folder (no
download, nothing large committed) and read in real document processes (forkserver children
under the memory limit), as the CLI reads them.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd
import pytest
from budget_disclosures.extractors import limits
from budget_disclosures.flows.isolation import ingest_isolated
from conftest import REPO_ROOT, SAMPLE_PDF, run_cli

BUILDER = REPO_ROOT / "tests" / "fixtures" / "hostile" / "build_hostile.py"


def _builder():
    spec = importlib.util.spec_from_file_location("build_hostile", BUILDER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("hostile")
    return {path.name: path for path in _builder().build(folder)}


# --------------------------------------------------------------------------- budgets


def test_render_resolution_is_lowered_to_the_pixel_budget() -> None:
    assert limits.render_dpi(595, 842, 300, 75) == 300  # A4 at 300 dpi: 8.7 M pixels
    lowered = limits.render_dpi(2384, 3370, 300, 75)  # A0 at 300 dpi would be 140 M
    assert 75 <= lowered < 300
    assert (2384 * lowered / 72) * (3370 * lowered / 72) <= limits.DEFAULT_MAX_RENDER_PIXELS
    with pytest.raises(limits.PageTooLarge, match="14400 × 14400 pt is too large"):
        limits.render_dpi(14400, 14400, 200, 75)


def test_an_image_over_the_budget_is_not_decoded() -> None:
    limits.check_image_pixels(7016, 9921)  # a 600-dpi A3 scan
    with pytest.raises(limits.PageTooLarge, match="30000 × 30000 px"):
        limits.check_image_pixels(30000, 30000)


def test_memory_limit_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(limits.MEMORY_LIMIT_ENV, raising=False)
    assert limits.memory_limit_mb() == limits.default_memory_limit_mb() >= 4096
    monkeypatch.setenv(limits.MEMORY_LIMIT_ENV, "0")
    assert limits.memory_limit_mb() == 0
    monkeypatch.setenv(limits.MEMORY_LIMIT_ENV, "lots")
    assert limits.memory_limit_mb() == limits.default_memory_limit_mb()


# --------------------------------------------------------------------------- the files

EXPECTED = {  # status, and words of the reason
    "flate-bomb.pdf": ("warn", "not a budget disclosure"),
    "image-bomb.pdf": ("warn", "30000 × 30000 px is over the budget"),
    "huge-page.pdf": ("warn", "not a budget disclosure"),
    "circular-tree.pdf": ("failed", "circular page tree"),
    "deep-nesting.pdf": ("warn", "not a budget disclosure"),
    "broken-xref.pdf": ("warn", "not a budget disclosure"),
    "many-blank-pages.pdf": ("warn", "not a budget disclosure"),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_hostile_file_gets_its_own_clear_row(
    hostile: dict[str, Path], name: str, tmp_path: Path
) -> None:
    summary = ingest_isolated(hostile[name], tmp_path / "curated", timeout=120)
    status, words = EXPECTED[name]
    assert (summary["status"], words in summary["reason"]) == (status, True), summary["reason"]
    assert "\n" not in summary["reason"]
    document = pd.read_parquet(tmp_path / "curated" / "documents").iloc[0]
    assert document["status"] == status


def test_a_bomb_over_the_memory_limit_fails_only_itself(
    hostile: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The 1 GB flate bomb under a 1 GB limit: its process fails, the reason names the limit,
    and the next document in the same run is read."""
    monkeypatch.setenv(limits.MEMORY_LIMIT_ENV, "1024")
    curated = tmp_path / "curated"
    bomb = ingest_isolated(hostile["flate-bomb.pdf"], curated, timeout=120)
    assert bomb["status"] == "failed" and "1024 MB" in bomb["reason"], bomb["reason"]
    monkeypatch.delenv(limits.MEMORY_LIMIT_ENV)  # (1 GB is below what a document's threads map)
    sample = ingest_isolated(SAMPLE_PDF, curated, timeout=120)
    assert sample["status"] in ("ok", "warn") and sample["line_items"] > 500


def test_the_batch_goes_on_past_hostile_files(hostile: dict[str, Path], tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    for name in ("image-bomb.pdf", "circular-tree.pdf", "huge-page.pdf"):
        (raw / name).symlink_to(hostile[name])
    (raw / SAMPLE_PDF.name).symlink_to(SAMPLE_PDF)
    result = run_cli(["ingest", raw, "--curated", tmp_path / "curated"], None, tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr  # one failed document
    documents = pd.read_parquet(tmp_path / "curated" / "documents").set_index("source_name")
    assert documents.loc[SAMPLE_PDF.name, "n_line_items"] > 500
    assert documents.loc["circular-tree.pdf", "status"] == "failed"
    assert len(documents) == 4
