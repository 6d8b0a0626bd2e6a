"""OCR with the real engine on real pages: one scanned table page of the dev corpus, a PDF
whose text layer is garbage, and the same scan turned a quarter.  Each reads one page or
less (a few seconds each on two cores)."""

from __future__ import annotations

import importlib.util
import json
import time
from pathlib import Path

import numpy as np
import pytest
from budget_disclosures.extractors import ocr
from budget_disclosures.extractors.grid import RuledGridExtractor
from budget_disclosures.extractors.pdfium_pages import iter_pdfium_pages, open_pdfium
from budget_disclosures.flows.pipeline import document_text_layer
from conftest import DEV_CORPUS, REPO_ROOT, dev_pdf_path

pytestmark = pytest.mark.skipif(
    not ocr.engine_available(), reason="OCR engine not installed (pip install rapidocr onnxruntime)"
)

GARBLED = REPO_ROOT / "tests" / "fixtures" / "ocr" / "garbled-table.pdf"
MIXED = "dev-1-0035"  # national-9, table pages scanned at 150 dpi
SUMMARY_PAGE = 8  # 表1 收支总表


def squash(text: str) -> str:
    return "".join(text.split())


def label_figure_pairs(grids) -> set[tuple[str, str]]:
    """(row label, figure) side by side in a row: 收支总表's income and expense halves."""
    pairs = set()
    for grid in grids:
        for index in range(len(grid.rows)):
            texts = [squash(t) for t in grid.row_texts(index)]
            for a, b in zip(texts, texts[1:]):
                if a and b and b.replace(".", "").isdigit() and not a.replace(".", "").isdigit():
                    pairs.add((a.replace("(", "（").replace(")", "）"), b))
    return pairs


def truth_pairs(corpus_id: str, table_no: str) -> set[tuple[str, str]]:
    truth = json.loads((DEV_CORPUS / f"{corpus_id}.truth.json").read_text(encoding="utf-8"))
    return {
        (squash(i["row_label"]).replace("(", "（").replace(")", "）"), i["amount_printed"])
        for i in truth["line_items"]
        if i["table_no"] == table_no
    }


@pytest.fixture(scope="module")
def summary_page(tmp_path_factory):
    """Page 8 of the mixed document, OCR'd once (with a private cache) for the tests below."""
    path = dev_pdf_path(MIXED)
    cache = ocr.OcrCache(tmp_path_factory.mktemp("ocr-cache"))
    reader = ocr.DocumentOcr(path, cache=cache, enabled=True)
    pdf = open_pdfium(path)
    try:
        page = next(p for p in iter_pdfium_pages(pdf) if p.number == SUMMARY_PAGE)
    finally:
        pdf.close()
    started = time.perf_counter()
    page = reader.read(page)
    seconds = time.perf_counter() - started
    grids = RuledGridExtractor("ocr-grid").extract(str(path), page)
    reader.note_grids(page.number, grids)
    yield path, reader, page, grids, cache, seconds
    reader.close()


@pytest.mark.corpus
def test_mixed_and_scanned_documents_are_told_apart():
    for corpus_id, expected in (
        (MIXED, "mixed"),
        ("dev-1-0000", "scanned"),
        ("dev-1-0001", "text"),
    ):
        pdf = open_pdfium(dev_pdf_path(corpus_id))
        try:
            assert document_text_layer(list(iter_pdfium_pages(pdf))) == expected, corpus_id
        finally:
            pdf.close()


@pytest.mark.corpus
def test_scanned_table_page_reads_like_the_truth(summary_page):
    _path, reader, page, grids, _cache, _seconds = summary_page
    assert page.text_layer == "scanned" and reader.is_ocr(SUMMARY_PAGE)
    assert len(grids) == 1
    # the title and the unit line are text lines above the grid, as on a text page
    above = [squash(line.text) for line in grids[0].lines_above]
    assert "收支总表" in above and "单位名称：安康市城市管理执法局" in above
    assert truth_pairs(MIXED, "1") <= label_figure_pairs(grids)
    # every figure carries the recogniser's confidence
    figures = [c for c in reader.cells[SUMMARY_PAGE] if c.text[0].isdigit()]
    assert figures and all(0.5 < c.confidence <= 1.0 for c in figures)


@pytest.mark.corpus
def test_a_cell_is_read_again_at_twice_the_resolution(summary_page):
    _path, reader, _page, _grids, _cache, _seconds = summary_page
    (cell,) = [c for c in reader.cells[SUMMARY_PAGE] if c.text == "471.46"]
    (readings,) = reader.reread(SUMMARY_PAGE, [cell.bbox])
    assert readings and all(text == "471.46" for text, _conf in readings)


@pytest.mark.corpus
def test_a_second_run_reads_the_page_from_the_cache(summary_page, monkeypatch):
    path, reader, _page, _grids, cache, _seconds = summary_page
    import pypdfium2 as pdfium

    def no_engine():
        raise AssertionError("a cached page needs no OCR engine")

    from budget_disclosures.extractors import ocr_pages

    monkeypatch.setattr(ocr, "default_engine", no_engine)
    monkeypatch.setattr(ocr_pages, "default_engine", no_engine)
    pdf = pdfium.PdfDocument(str(path))
    try:
        started = time.perf_counter()
        again = ocr.ocr_pdf_page(pdf[SUMMARY_PAGE - 1], None, cache)
        assert time.perf_counter() - started < 2.0
    finally:
        pdf.close()
    assert again.chars == reader.results[SUMMARY_PAGE].chars
    assert again.confidences == reader.results[SUMMARY_PAGE].confidences


@pytest.mark.corpus
def test_a_quarter_turned_scan_reads_the_same(summary_page):
    path, reader, _page, grids, _cache, _seconds = summary_page
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(path))
    try:
        page = pdf[SUMMARY_PAGE - 1]
        gray = ocr.render_gray(page, 150.0)
        page.close()
    finally:
        pdf.close()
    top = gray[: gray.shape[0] // 2]  # the table: half the page is enough
    turned = np.ascontiguousarray(np.rot90(top))  # text now runs bottom to top
    result = ocr.ocr_image(turned, 150.0, reader.engine)
    assert result.quarter_turns % 2 == 1
    page = ocr.page_from_ocr(ocr.PageContent(1, 0, 0, [], [], [], "scanned", 1), result)
    assert label_figure_pairs(
        RuledGridExtractor("ocr-grid").extract("", page)
    ) == label_figure_pairs(grids)


def test_a_garbled_text_layer_is_read_by_ocr(tmp_path):
    spec = importlib.util.spec_from_file_location(
        "build_garbled", GARBLED.with_name("build_garbled.py")
    )
    builder = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(builder)
    pdf = open_pdfium(GARBLED)
    try:
        (page,) = list(iter_pdfium_pages(pdf))
    finally:
        pdf.close()
    assert page.text_layer == "garbled"  # glyphs mapped to private-use code points
    reader = ocr.DocumentOcr(Path(GARBLED), cache=ocr.OcrCache(tmp_path), enabled=True)
    page = reader.read(page)
    reader.close()
    assert reader.is_ocr(1) and page.text_layer == "garbled"
    assert "单位名称：测试市测试局" in [squash(line.text) for line in page.lines]
    (grid,) = RuledGridExtractor("ocr-grid").extract(str(GARBLED), page)
    rows = [tuple(squash(t) for t in grid.row_texts(i)) for i in range(len(grid.rows))]
    assert rows == list(builder.ROWS)
