"""The release's catalogue page (index.html) in a real headless browser (Debian's Chromium).

The session fixture installs Chromium with apt-get when /usr/bin/chromium is missing (CI does it
in .ci/run) and skips with the reason when that fails. The screenshot is saved to
tests/output/catalogue.png (gitignored) for a person to look at.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import quote

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from curation import publish as pub

CHROMIUM = Path("/usr/bin/chromium")
OUTPUT = Path(__file__).resolve().parent / "output"
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


@pytest.fixture(scope="module")
def release(tmp_path_factory, sample_pdf) -> Path:
    from flows.pipeline import ingest_document

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


def run_chromium(chromium: Path, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    profile = tmp_path / f"profile-{len(list(tmp_path.iterdir()))}"
    command = [str(chromium), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    return done


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
