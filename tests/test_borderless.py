"""Tables without ruling lines (issue 15): the structure reader in ``extractors/aligned.py``.

* unit tests of its parts on characters placed by hand: words split where a figure touches a
  label, header cells (a wrapped cell vs a group word over its columns), blank columns,
  records whose labels wrap around their figures;
* Hypothesis: any amount touching any label is cut back into the two;
* golden pages built by ``tests/fixtures/built/build_pages.py`` (no corpus needed): wrapped
  labels with centred figures, wrapped header cells and blank columns; figures flush with the
  next column's label; and the same page scanned (rendered, skewed, noised, read by OCR)
  gives the rows of its text-layer twin;
* golden pages of ``../shared/corpus/dev-wide`` (marked ``corpus``): a deep header with a
  group word over groups, a 3-level OCR'd header over split codes.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest
from budget_disclosures.extractors import aligned
from budget_disclosures.extractors.base import Char, PageContent
from budget_disclosures.extractors.grid import RuledGridExtractor
from budget_disclosures.extractors.pdfium_pages import iter_pdfium_pages, open_pdfium
from budget_disclosures.flows.pipeline import build_rows
from conftest import REPO_ROOT, SHARED
from hypothesis import given
from hypothesis import strategies as st

BUILT = REPO_ROOT / "tests" / "fixtures" / "built"
DEV_WIDE = SHARED / "corpus" / "dev-wide"
EM = 9.0


def chars(text: str, x: float, top: float, size: float = EM, advance: float | None = None):
    """Glyph boxes of ``text`` set from ``x`` on one baseline (one em per glyph)."""
    step = advance or size
    return [
        Char(c, x + i * step, x + (i + 1) * step, top, top + size, size) for i, c in enumerate(text)
    ]


def word_texts(rows: list[aligned.TextRow]) -> list[list[str]]:
    return [[w.text for w in row.phrases] for row in rows]


# --------------------------------------------------------------------------- words


def test_a_figure_touching_the_next_label_is_two_words():
    line = chars("3,257.44", 100, 50, advance=5) + chars("一、部门预算", 140, 50)
    assert word_texts(aligned.text_rows(line)) == [["3,257.44", "一、部门预算"]]


def test_a_figure_touching_an_enumerated_label_is_cut_before_the_number():
    line = chars("71.09", 100, 50, advance=5) + chars("1、机关工资福利支出", 125, 50, advance=EM)
    assert word_texts(aligned.text_rows(line)) == [["71.09", "1、机关工资福利支出"]]


def test_a_code_a_space_before_its_name_stays_one_word():
    """``208 社会保障和就业支出`` in one cell: a space apart is not touching."""
    line = chars("208", 100, 50, advance=5) + chars("社会保障和就业支出", 118, 50)
    assert word_texts(aligned.text_rows(line)) == [["208社会保障和就业支出"]]


def test_an_integer_touching_a_label_is_cut_only_where_the_glyphs_touch():
    touching = chars("30601089", 100, 50, advance=5) + chars("一、部门预算", 140, 50)
    assert word_texts(aligned.text_rows(touching)) == [["30601089", "一、部门预算"]]


@given(
    whole=st.integers(min_value=0, max_value=10**9),
    cents=st.integers(min_value=0, max_value=99),
    grouped=st.booleans(),
    label=st.text(
        alphabet="一二三四五六七八九十、部门预算支出合计收入其中", min_size=1, max_size=8
    ),
)
def test_any_amount_touching_any_label_is_cut_back_into_the_two(whole, cents, grouped, label):
    amount = f"{whole:,}.{cents:02d}" if grouped else f"{whole}.{cents:02d}"
    line = chars(amount, 100, 50, advance=5) + chars(label, 100 + 5 * len(amount), 50)
    assert word_texts(aligned.text_rows(line)) == [[amount, label]]


# --------------------------------------------------------------------------- header cells


def _header(*rows: list[tuple[str, float, float]]) -> list[aligned.TextRow]:
    """Header rows from (text, x, top) words."""
    return [
        aligned.TextRow(tuple(aligned.Word(tuple(chars(t, x, top))) for t, x, top in row))
        for row in rows
    ]


def test_a_group_word_over_three_columns_is_not_a_wrapped_cell():
    """基本支出 right over 人员经费, with 小计 and 公用经费 beside on that line: a group."""
    rows = _header(
        [("基本支出", 118, 100)],
        [("小计", 70, 114), ("人员经费", 118, 114), ("公用经费", 180, 114)],
    )
    cells = aligned.header_cells(rows, [60, 105, 165, 230])
    spans = {"/".join(w.text for w in c.words): c.columns for c in cells}
    assert spans == {"基本支出": (0, 2), "小计": (0, 0), "人员经费": (1, 1), "公用经费": (2, 2)}


def test_a_header_wrapped_onto_three_lines_beside_a_centred_cell_is_one_cell():
    """用事业基金 / 弥补收支差 / 额 beside 上年结转 centred on the same middle line."""
    rows = _header(
        [("用事业基金", 100, 100)],
        [("弥补收支差", 100, 111), ("上年结转", 170, 111)],
        [("额", 118, 122)],
    )
    cells = aligned.header_cells(rows, [95, 150, 215])
    assert ["/".join(w.text for w in c.words) for c in cells] == [
        "用事业基金/弥补收支差/额",
        "上年结转",
    ]


def test_a_header_over_white_space_is_a_blank_column_and_a_group_word_is_not():
    body = [aligned.Word(tuple(chars("1.00", x, 200, advance=5))) for x in (100, 300)]
    body += [aligned.Word(tuple(chars("2.00", x, 215, advance=5))) for x in (100, 300)]
    heads = [aligned.Word(tuple(chars(t, x, 150))) for t, x in (("合计", 101), ("其他", 301))]
    blank = aligned.Word(tuple(chars("上年结转", 180, 150)))
    columns = aligned.column_intervals(body, [*heads, blank])
    assert len(columns) == 3, "a header over white space keeps its (blank) column"
    group = aligned.Word(tuple(chars("收入", 190, 130)))
    under = [aligned.Word(tuple(chars(t, x, 150))) for t, x in (("项目", 95), ("本年预算", 290))]
    assert len(aligned.column_intervals(body, [group, *under])) == 2, "收入 is a group word"


# --------------------------------------------------------------------------- records


def test_a_label_wrapped_around_its_centred_figure_is_one_record():
    label = chars("2080505机关事", 40, 100, advance=7)
    label += chars("业单位基本养老保险缴", 40, 111, advance=7)
    label += chars("费支出", 40, 122, advance=7)
    figure = chars("519.88", 150, 111, advance=5)
    words = [w for row in aligned.words_of(label + figure) for w in row]
    bands = aligned.record_bands(words, [40, 135, 190])
    assert len(bands) == 1


def test_two_short_labels_stay_two_records():
    rows = chars("213农林水支出", 40, 100, advance=7) + chars("1606.82", 150, 100, advance=5)
    rows += chars("21303水利", 40, 116, advance=7) + chars("1606.82", 150, 116, advance=5)
    words = [w for row in aligned.words_of(rows) for w in row]
    assert len(aligned.record_bands(words, [40, 135, 190])) == 2


# --------------------------------------------------------------------------- built pages


def _load_builder():
    spec = importlib.util.spec_from_file_location("build_pages", BUILT / "build_pages.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


builder = _load_builder()


def _grids(path: Path) -> list:
    pdf = open_pdfium(path)
    try:
        page = next(iter_pdfium_pages(pdf))
        return RuledGridExtractor("pdfium-grid").extract(str(path), page)
    finally:
        pdf.close()


def _items(path: Path) -> set[tuple]:
    rows, _ = build_rows(path, doc_id="b" * 16, sha256="0" * 64)
    return {
        (i["code"], i["name"], i["measure"], i["amount_printed"], i["placement"])
        for i in rows["line_items"]
    }


def test_wrapped_labels_wrapped_headers_and_blank_columns_are_read():
    (grid,) = [g for g in _grids(BUILT / "borderless-wrapped-blank.pdf") if g.n_cols > 1]
    assert grid.method == "pdfium-aligned"
    assert grid.n_cols == 6, "the three blank columns keep their place"
    header = [t.replace("\n", "") for t in grid.row_texts(0)]
    assert header == [
        "功能分类科目编码及名称",
        "合计",
        "上年结转",
        "一般公共预算拨款收入",
        "政府性基金预算拨款收入",
        "其他收入",
    ]
    body = [grid.row_texts(i) for i in range(1, len(grid.rows))]
    assert len(body) == len(builder.TABLE2_ROWS), "one row per record, wrapped labels joined"
    for row, (lines, total, gpb) in zip(body, builder.TABLE2_ROWS):
        assert row[0].replace("\n", "").replace(" ", "") == "".join(lines).replace(" ", "")
        assert row[1:] == [total, "", gpb, "", ""]


def test_wrapped_blank_page_gives_its_line_items():
    items = _items(BUILT / "borderless-wrapped-blank.pdf")
    assert ("2080505", "机关事业单位基本养老保险缴费支出", "gpb", "51.99", "aligned") in items
    assert ("2130314", "防汛", "total", "1242.16", "aligned") in items
    assert len(items) == 2 * len(builder.TABLE2_ROWS)


def test_figures_flush_with_the_next_label_are_cut_from_it():
    (grid,) = [g for g in _grids(BUILT / "borderless-touching.pdf") if g.n_cols > 1]
    assert grid.n_cols == 4
    body = [grid.row_texts(i) for i in range(2, len(grid.rows))]
    assert body == [list(row) for row in builder.TABLE1_ROWS]


def _scan(path: Path, out: Path, dpi: int = 200, angle: float = 0.6) -> Path:
    """The page rendered as a grey scan: turned a little, with noise, in an image-only PDF."""
    import pypdfium2 as pdfium
    from PIL import Image

    pdf = pdfium.PdfDocument(str(path))
    try:
        image = pdf[0].render(scale=dpi / 72, grayscale=True).to_pil().convert("L")
    finally:
        pdf.close()
    image = image.rotate(angle, resample=Image.BICUBIC, fillcolor=255, expand=False)
    pixels = np.asarray(image, dtype=np.int16)
    noise = np.random.default_rng(15).normal(0, 10, pixels.shape)
    image = Image.fromarray(np.clip(pixels + noise, 0, 255).astype(np.uint8))
    image.save(out, "PDF", resolution=dpi)
    return out


def test_a_scanned_borderless_table_gives_the_rows_of_its_text_twin(tmp_path):
    from budget_disclosures.extractors.ocr import engine_available

    if not engine_available():
        pytest.skip("no OCR engine models")
    twin = BUILT / "borderless-wrapped-blank.pdf"
    scanned = _scan(twin, tmp_path / "scanned.pdf")
    page = read_first_page(scanned)
    assert page.text_layer == "scanned" or not page.chars
    text_items = {item[:4] for item in _items(twin)}
    scan_rows, _ = build_rows(scanned, doc_id="c" * 16, sha256="1" * 64)
    scan_items = {
        (i["code"], i["name"], i["measure"], i["amount_printed"]) for i in scan_rows["line_items"]
    }
    assert scan_items == text_items
    assert {i["placement"] for i in scan_rows["line_items"]} == {"aligned"}


def read_first_page(path: Path) -> PageContent:
    pdf = open_pdfium(path)
    try:
        return next(iter_pdfium_pages(pdf))
    finally:
        pdf.close()


# --------------------------------------------------------------------------- dev-wide pages


def _dev_wide_grid(doc: str, number: int, ocr: bool = False):
    path = DEV_WIDE / f"{doc}.pdf"
    if not path.exists():
        pytest.skip(f"dev-wide document {path} not found")
    from budget_disclosures.extractors.ocr import DocumentOcr

    pdf = open_pdfium(path)
    reader = DocumentOcr(path)
    try:
        for page in iter_pdfium_pages(pdf):
            if page.number == number:
                page = reader.read(page) if ocr else page
                name = "ocr-grid" if ocr else "pdfium-grid"
                return [
                    g for g in RuledGridExtractor(name).extract(str(path), page) if g.n_cols > 1
                ]
    finally:
        reader.close()
        pdf.close()
    raise AssertionError(f"{doc} has no page {number}")


def _spans(grid) -> list[tuple[str, int, int]]:
    return [
        (cell.text.replace("\n", ""), cell.col0, cell.col1)
        for row in grid.rows
        for cell in row
        if cell.text and not cell.text.replace(".", "").replace(",", "").isdigit()
    ]


@pytest.mark.corpus
def test_dev_wide_deep_header_groups_over_groups():
    """wide-0014 表2: 部门预算 over everything but the unit columns, 一般公共预算拨款 over
    小计 | 其中, a header wrapped onto three lines beside single-line ones, blank-valued
    columns all kept."""
    (grid,) = _dev_wide_grid("wide-0014", 11)
    spans = _spans(grid)
    assert ("部门预算", 2, 13) in spans
    assert ("一般公共预算拨款", 3, 4) in spans
    assert ("用事业基金弥补收支差额", 10, 10) in spans
    assert grid.n_cols == 14


@pytest.mark.corpus
def test_dev_wide_ocr_header_over_split_codes():
    """wide-0001 表2, a skewed scan: 功能分类科目 over 科目编码 (over 类 款 项) and 科目名称."""
    from budget_disclosures.extractors.ocr import engine_available

    if not engine_available():
        pytest.skip("no OCR engine models")
    (grid,) = _dev_wide_grid("wide-0001", 9, ocr=True)
    spans = _spans(grid)
    assert ("功能分类科目", 0, 3) in spans
    assert ("科目编码", 0, 2) in spans
    assert [s for s in spans if s[0] in {"类", "款", "项"}] == [
        ("类", 0, 0),
        ("款", 1, 1),
        ("项", 2, 2),
    ]


def test_a_rebuilt_table_whose_arithmetic_fails_is_flagged_not_accepted(tmp_path, monkeypatch):
    """The same page with its 合计 printed 100.00 too high: read as printed, and the
    arithmetic check fails as an error (the document fails; nothing is published quietly)."""
    from budget_disclosures.validation import validate_rows

    rows = list(builder.TABLE2_ROWS)
    lines, total, gpb = rows[0]
    rows[0] = (lines, "1786.13", gpb)
    monkeypatch.setattr(builder, "TABLE2_ROWS", tuple(rows))
    path = builder.build("borderless-wrapped-blank.pdf", tmp_path)
    built_rows, _ = build_rows(path, doc_id="d" * 16, sha256="2" * 64)
    assert ("合计", "total", "1786.13") in {
        (i["name"], i["measure"], i["amount_printed"]) for i in built_rows["line_items"]
    }
    failed = [r for r in validate_rows(built_rows).rows if not r["success"]]
    assert any(r["check"].startswith("arith.") and r["severity"] == "error" for r in failed)
