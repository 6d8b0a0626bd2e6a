"""The release's catalogue page (index.html) in a real headless browser (Debian's Chromium).

The session fixture installs Chromium with apt-get when /usr/bin/chromium is missing (CI does it
in .ci/run) and skips with the reason when that fails. The screenshot is saved to
tests/output/catalogue.png (gitignored) for a person to look at.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from budget_disclosures.curation import publish as pub
from conftest import run_chromium

OUTPUT = Path(__file__).resolve().parent / "output"


@pytest.fixture(scope="module")
def release(tmp_path_factory, sample_pdf) -> Path:
    from budget_disclosures.flows.pipeline import ingest_document

    root = tmp_path_factory.mktemp("catalogue")
    curated = root / "curated"
    doc_id = ingest_document(sample_pdf, curated).doc_id
    # a known status: this test is about the page, not the validation rules
    path = curated / "documents" / f"{doc_id}.parquet"
    table = pq.read_table(path)
    rows = [dict(row, status="ok", reason=None) for row in table.to_pylist()]
    pq.write_table(pa.Table.from_pylist(rows, schema=table.schema), path)
    out = root / "release"
    pub.publish(curated, out, version="catalogue-test")
    return out


def page_url(release: Path, fragment: str = "") -> str:
    return (release / "index.html").resolve().as_uri() + (
        f"#q={quote(fragment)}" if fragment else ""
    )


def test_catalogue_is_self_contained(release):
    text = (release / "index.html").read_text(encoding="utf-8")
    assert "<style>" in text and "<script>" in text and "<svg" in text
    assert not re.search(
        r"""(src|href)=["']https?://""",
        text.replace(pub.license_entry(pub.DEFAULT_LICENSE)["path"], ""),
    ), "external asset"
    assert "<link" not in text and "script src" not in text


def test_screenshot(chromium, release, tmp_path):
    OUTPUT.mkdir(exist_ok=True)
    shot = OUTPUT / "catalogue.png"
    shot.unlink(missing_ok=True)
    run_chromium(
        chromium, tmp_path, f"--screenshot={shot}", "--window-size=1280,2000", page_url(release)
    )
    assert shot.exists() and shot.stat().st_size > 20_000
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_dom_shows_datasets_units_documents_and_chart(chromium, release, tmp_path):
    dom = run_chromium(chromium, tmp_path, "--dump-dom", page_url(release)).stdout
    for dataset in ("documents", "tables", "line_items", "codes_function"):
        assert f"<code>{dataset}</code>" in dom
    assert 'href="data/line_items.csv"' in dom and 'href="data/line_items.parquet"' in dom
    assert "宝鸡市大数据管理中心" in dom and "shaanxi-15" in dom
    chart = re.search(r'<svg id="function-chart".*?</svg>', dom, re.S)
    assert chart, "chart svg missing"
    assert (
        chart.group(0).count("<rect") >= 4
        and "201 一般公共服务支出" in chart.group(0)
        and "2023" in chart.group(0)
    )
    # the script ran: it counts the units shown
    assert re.search(r'<span id="unit-count"[^>]*>1 / 1 units</span>', dom)


def test_unit_filter(chromium, release, tmp_path):
    dom = run_chromium(chromium, tmp_path, "--dump-dom", page_url(release, "no such unit")).stdout
    assert 'data-shown="0"' in dom and "0 / 1 units" in dom
    dom = run_chromium(chromium, tmp_path, "--dump-dom", page_url(release, "宝鸡")).stdout
    assert 'data-shown="1"' in dom and "1 / 1 units" in dom
