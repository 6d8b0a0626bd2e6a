"""Issue 17: the review site — a flagged document on its own pages, in headless Chromium.

The sample's 表12 prints 0.00 for “三公”经费合计 while its text states 0.2 万元: the finding
``cross.narrative_totals`` must be linked to that row and its cell highlighted on the
rendered page; the site must be static and offline; the YAML it suggests must be a valid
corrections file once a person fills in the reason. Screenshots go to tests/output/.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import yaml
from budget_disclosures.curation.review import build_site, item_cells, linked_items, suggestions
from budget_disclosures.flows.pipeline import ingest_document
from budget_disclosures.mappings.corrections import CorrectionsFile
from conftest import SAMPLE_PDF, run_chromium, run_cli, sha256_of
from PIL import Image

OUTPUT = Path(__file__).resolve().parent / "output"
HIGHLIGHT = (255, 190, 155)  # #ff5a00 at 35 % over the white page
RULED = (31, 111, 209)  # #1f6fd1, the grid of a ruled table
pytestmark = pytest.mark.skipif(not SAMPLE_PDF.exists(), reason="the sample PDF is missing")


@pytest.fixture(scope="module")
def curated(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("review") / "curated"
    ingest_document(SAMPLE_PDF, folder)
    return folder


@pytest.fixture(scope="module")
def site(curated: Path) -> Path:
    out = curated.parent / "site"
    report = build_site(curated, out)
    assert report.documents == 1 and report.pages == 15 and not report.missing_pdfs
    return out


def _pixels_near(image: Image.Image, colour: tuple[int, int, int], tolerance: int) -> int:
    array = np.asarray(image.convert("RGB")).astype(int)
    close = np.all(np.abs(array - np.array(colour)) <= tolerance, axis=-1)
    return int(close.sum())


def test_the_site_is_static_and_offline(site: Path) -> None:
    page = (site / f"{sha256_of(SAMPLE_PDF)[:16]}.html").read_text(encoding="utf-8")
    assert "<script" not in page and "http://" not in page and "https://" not in page
    assert page.count('<svg viewBox="0 0 ') == 15  # one overlay per table page
    assert 'class="table ruled"' in page and 'class="cell ruled"' in page
    index = (site / "index.html").read_text(encoding="utf-8")
    assert f'href="{sha256_of(SAMPLE_PDF)[:16]}.html"' in index


def test_a_finding_is_linked_to_its_row_and_cell(site: Path, curated: Path) -> None:
    page = (site / f"{sha256_of(SAMPLE_PDF)[:16]}.html").read_text(encoding="utf-8")
    finding = re.search(r'id="finding-(\d+)"><b>#\d+ cross\.narrative_totals', page)
    assert finding, "the 三公 finding is listed"
    number = finding.group(1)
    assert page.count(f'data-finding="{number}"') == 1  # one cell: 本年预算 / 合计, not 0.00s
    row = re.search(rf'<tr id="item-(\d+)" class="linked">(?:(?!</tr>).)*#{number}</a>', page)
    assert row and "“三公”经费合计" in row.group(0) and ">amount<" in row.group(0)


def test_cells_are_found_under_the_items_header_path(curated: Path) -> None:
    from budget_disclosures.extractors.page_grids import read_review_pages

    grids = read_review_pages(SAMPLE_PDF, [20])[20].grids
    item = {
        "code": None,
        "name": "“三公”经费合计",
        "row_label": "合计",
        "measure": "prior_year",
        "column": "上年预算/合计",
        "amount_printed": "0.00",
    }
    (cell,) = item_cells(grids, item)
    current = dict(item, column="本年预算/合计", measure="amount")
    (other,) = item_cells(grids, current)
    assert cell.x0 > other.x0  # 上年预算 is printed right of 本年预算
    finding = {"detail": "1 failing: 表12 … vs “三公”经费合计 amount: 0.2 万元 ≠ 0.00 万元"}
    rows = [dict(current, table_no="12"), dict(item, table_no="12")]
    assert linked_items(finding, rows) == [0]  # the measure the text names


def test_the_suggested_yaml_is_a_corrections_file(curated: Path) -> None:
    text = suggestions(curated)
    first = text.split("\n# corrections/")[0]
    data = yaml.safe_load(first.replace("<why>", "the publisher's own inconsistency"))
    data["corrections"] = [{**entry, "by": "reviewer"} for entry in data["corrections"]]
    parsed = CorrectionsFile.model_validate(data)
    assert parsed.document == sha256_of(SAMPLE_PDF)
    assert parsed.corrections[0].fix == "accept"


def test_screenshot_shows_the_overlay_and_the_highlight(site: Path, chromium, tmp_path) -> None:
    OUTPUT.mkdir(exist_ok=True)
    shot = OUTPUT / "review-document.png"
    url = (site / f"{sha256_of(SAMPLE_PDF)[:16]}.html").resolve().as_uri()
    run_chromium(
        chromium,
        tmp_path,
        "--hide-scrollbars",
        "--virtual-time-budget=4000",
        "--window-size=1500,13000",
        f"--screenshot={shot}",
        url,
    )
    image = Image.open(shot)
    sheets = image.crop((0, 0, 790, image.height))  # the page images and their overlays
    assert _pixels_near(sheets, RULED, 40) > 2000, "the ruled grids are drawn"
    assert _pixels_near(sheets, HIGHLIGHT, 30) > 100, "the finding's cells are highlighted"


def test_cli_review_reuses_images_and_suggests(curated: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    first = run_cli(["review", "--curated", curated, "--out", out], None, tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "15 page images (15 rendered" in first.stdout
    again = run_cli(["review", "--curated", curated, "--out", out], None, tmp_path)
    assert "15 page images (0 rendered" in again.stdout
    suggested = run_cli(["review", "--curated", curated, "--suggest"], None, tmp_path)
    assert "fix: accept" in suggested.stdout and "check: cross.narrative_totals" in suggested.stdout
    missing = run_cli(["review", "no-such-doc", "--curated", curated], None, tmp_path)
    assert missing.returncode == 2 and "no curated document for no-such-doc" in missing.stderr
