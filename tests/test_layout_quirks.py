"""Layout quirks on built pages: each one-page PDF shows one quirk (``tests/fixtures/built``,
made by ``build_pages.py`` there) and goes through the real readers, the grid builder and the
mappings to the rows we expect.

* borderless tables (rules only above and below the header, or no rule at all; a header on two
  levels): read from the alignment of their text (``extractors/aligned.py``, ``tables.method``
  ``*-aligned``);
* landscape pages, by ``/Rotate 90`` / ``/Rotate 270`` or by a landscape media box: read like
  any other page;
* 绩效目标 tables whose tall merged cells hold one character per line (and a vertical-CMap
  string): the cell reads as its word, the indicators keep their levels;
* strings shown right to left in the content stream (``出支本基`` in stream order): the readers
  order glyphs by where they stand on the page, so names read as printed.
"""

from __future__ import annotations

import importlib.util
import sys
from functools import cache
from pathlib import Path

import pdfplumber
import pypdfium2 as pdfium
import pytest
from budget_disclosures.extractors.document import iter_pages, open_pdf
from budget_disclosures.extractors.grid import RuledGridExtractor, find_table_regions
from budget_disclosures.flows.pipeline import build_rows
from budget_disclosures.mappings.normalize import column_paths, split_header
from budget_disclosures.mappings.text import clean_name
from conftest import REPO_ROOT, dev_pdf_path, page_tables, read_page

BUILT = REPO_ROOT / "tests" / "fixtures" / "built"
READERS = ["pdfium", "pdfplumber"]


def _load_builder():
    spec = importlib.util.spec_from_file_location("build_pages", BUILT / "build_pages.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


builder = _load_builder()


def built(name: str) -> Path:
    path = BUILT / name
    assert path.exists(), f"built fixture missing: {path} (run build_pages.py)"
    return path


@cache
def rows_of(name: str, reader: str) -> dict[str, list[dict]]:
    """The curated rows of one built page (read once per reader)."""
    rows, _summary = build_rows(built(name), doc_id=name, sha256="0" * 64, reader=reader)
    return rows


def only_grid(name: str, reader: str):
    page = read_page(built(name), 1, reader)
    grids = RuledGridExtractor(f"{reader}-grid").extract(str(built(name)), page)
    assert len(grids) == 1, f"{name}: expected one table, found {len(grids)}"
    return page, grids[0]


def grid_texts(grid) -> list[list[str]]:
    return [grid.row_texts(i) for i in range(len(grid.rows))]


# --------------------------------------------------------------------------- 表5 expectations

TABLE5_GRID = [list(builder.TABLE5_HEADER)] + [list(row) for row in builder.TABLE5_ROWS]
# (code, name, measure, printed) for every figure of 表5, as the contract names them
TABLE5_ITEMS = [
    (None, "合计", "total", "150.00"),
    (None, "合计", "basic", "100.00"),
    (None, "合计", "project", "50.00"),
    ("201", "一般公共服务支出", "total", "120.00"),
    ("201", "一般公共服务支出", "basic", "100.00"),
    ("201", "一般公共服务支出", "project", "20.00"),
    ("20103", "政府办公厅(室)及相关机构事务", "total", "120.00"),
    ("20103", "政府办公厅(室)及相关机构事务", "basic", "100.00"),
    ("20103", "政府办公厅(室)及相关机构事务", "project", "20.00"),
    ("2010301", "行政运行", "total", "100.00"),
    ("2010301", "行政运行", "basic", "100.00"),
    ("2010302", "一般行政管理事务", "total", "20.00"),
    ("2010302", "一般行政管理事务", "project", "20.00"),
    ("208", "社会保障和就业支出", "total", "30.00"),
    ("208", "社会保障和就业支出", "basic", "0.00"),
    ("208", "社会保障和就业支出", "project", "30.00"),
    ("20805", "行政事业单位养老支出", "total", "30.00"),
    ("20805", "行政事业单位养老支出", "basic", "0.00"),
    ("20805", "行政事业单位养老支出", "project", "30.00"),
    ("2080505", "机关事业单位基本养老保险缴费支出", "total", "30.00"),
    ("2080505", "机关事业单位基本养老保险缴费支出", "basic", "0.00"),
    ("2080505", "机关事业单位基本养老保险缴费支出", "project", "30.00"),
]


def assert_table5_rows(rows: dict[str, list[dict]], method: str) -> None:
    """表5 of national-9 identified once and every figure read, in yuan, with its code levels."""
    (document,) = rows["documents"]
    assert document["template"] == "national-9"
    assert document["fiscal_year"] == builder.YEAR
    (table,) = rows["tables"]
    assert (table["table_no"], table["title"], table["kind"]) == (
        "5",
        builder.TABLE5_TITLE,
        "gpb_expenditure_by_function",
    )
    assert table["method"] == method
    assert table["n_rows"] == len(builder.TABLE5_ROWS)
    assert table["unit_printed"] == "万元"
    items = rows["line_items"]
    assert [(i["code"], i["name"], i["measure"], i["amount_printed"]) for i in items] == (
        TABLE5_ITEMS
    )
    assert all(i["amount_yuan"] == round(float(i["amount_printed"]) * 10_000, 2) for i in items)
    assert {i["classification"] for i in items} == {"function"}
    assert all(i["unit_printed"] == "万元" and i["page"] == 1 for i in items)
    by_code = {i["code"]: i for i in items}
    assert (by_code["2010301"]["level"], by_code["2010301"]["parent_code"]) == (3, "20103")
    assert (by_code["20805"]["level"], by_code["20805"]["parent_code"]) == (2, "208")


# --------------------------------------------------------------------------- the fixtures


def _creator(path: Path) -> str:
    pdf = pdfium.PdfDocument(str(path))
    try:
        return pdf.get_metadata_dict().get("Creator", "")
    finally:
        pdf.close()


@pytest.mark.parametrize("name", sorted(builder.PAGES))
def test_committed_page_is_what_the_builder_writes(name, tmp_path):
    """The builder runs and writes each committed file again: the same bytes with the same
    reportlab version, else (another version) pages that read the same."""
    fresh = builder.build(name, tmp_path)
    committed = built(name)
    if _creator(committed) == builder.CREATOR:
        assert fresh.read_bytes() == committed.read_bytes()
    else:
        old, new = read_page(committed, 1), read_page(fresh, 1)
        assert (old.width, old.height, old.text, old.rules) == (
            new.width,
            new.height,
            new.text,
            new.rules,
        )


# --------------------------------------------------------------------------- borderless tables


@pytest.mark.parametrize("reader", READERS)
def test_header_rules_only_table_is_read_from_its_text(reader):
    """A rule above and below the header, none in the body: the rules alone make a one-column
    band over the header; the columns come from the alignment of the text."""
    name = "borderless-header-rules.pdf"
    page = read_page(built(name), 1, reader)
    assert not [r for r in page.rules if r.orientation == "v"], "no vertical rule at all"
    header_rules = [r for r in page.rules if r.orientation == "h"]
    assert len(header_rules) == 2, "only the header is ruled"
    (band,) = find_table_regions(page.rules)
    assert band[3] - band[1] < 30, "the rules alone give the header band, not the table"
    _, grid = only_grid(name, reader)
    assert grid.method == f"{reader}-aligned"
    assert grid.n_cols == 5
    assert grid_texts(grid) == TABLE5_GRID
    assert grid.bbox[1] == pytest.approx(min(r.pos for r in header_rules), abs=1)


@pytest.mark.parametrize("reader", READERS)
def test_table_without_rules_is_read_from_its_text(reader):
    name = "borderless-no-rules.pdf"
    page = read_page(built(name), 1, reader)
    assert page.rules == []
    assert find_table_regions(page.rules) == []
    _, grid = only_grid(name, reader)
    assert grid.method == f"{reader}-aligned"
    assert grid_texts(grid) == TABLE5_GRID
    # the heading above the table is not part of it
    assert [line.text for line in grid.lines_above][-3:] == [
        builder.TABLE5_TITLE,
        f"编制部门：{builder.UNIT}",
        "单位：万元",
    ]


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize("name", ["borderless-header-rules.pdf", "borderless-no-rules.pdf"])
def test_borderless_tables_give_their_line_items(name, reader):
    assert_table5_rows(rows_of(name, reader), f"{reader}-aligned")


TWO_LEVEL = "borderless-two-level-header.pdf"


@pytest.mark.parametrize("reader", READERS)
def test_borderless_two_level_header_keeps_its_spans(reader):
    """No rule at all, 基本支出 centred over 合计 | 人员经费 | 公用经费 and 科目编码 / 科目名称
    centred across both header levels: the upper word spans the three columns under it, and
    the two words beside it span both header rows, as in a ruled header."""
    page, grid = only_grid(TWO_LEVEL, reader)
    assert page.rules == []
    assert grid.method == f"{reader}-aligned"
    assert [(c.text, c.col0, c.col1) for c in grid.rows[0] if c.text] == [
        ("科目编码", 0, 0),
        ("科目名称", 1, 1),
        ("基本支出", 2, 4),
    ]
    assert [c.text for c in grid.rows[1]] == ["合计", "人员经费", "公用经费"]
    n_header = split_header(grid)
    assert n_header == 2
    assert column_paths(grid, n_header) == [
        ["科目编码"],
        ["科目名称"],
        ["基本支出", "合计"],
        ["基本支出", "人员经费"],
        ["基本支出", "公用经费"],
    ]
    assert grid_texts(grid)[n_header:] == [list(row) for row in builder.TABLE6_ROWS]


@pytest.mark.parametrize("reader", READERS)
def test_borderless_two_level_header_gives_its_line_items(reader):
    rows = rows_of(TWO_LEVEL, reader)
    (table,) = rows["tables"]
    assert (table["table_no"], table["kind"], table["method"]) == (
        "6",
        "gpb_basic_by_econ",
        f"{reader}-aligned",
    )
    measures = ("total", "basic_personnel", "basic_public")
    expected = [
        (code or None, name, measure, printed)
        for code, name, *figures in builder.TABLE6_ROWS
        for measure, printed in zip(measures, figures)
    ]
    items = rows["line_items"]
    assert [(i["code"], i["name"], i["measure"], i["amount_printed"]) for i in items] == expected
    assert {i["classification"] for i in items} == {"econ_dept"}
    assert {i["column"] for i in items} == {
        "基本支出/合计",
        "基本支出/人员经费",
        "基本支出/公用经费",
    }


def test_pages_of_ruled_tables_and_prose_have_no_borderless_table(sample_pdf):
    """The alignment reader finds tables, not prose, captions or ruled tables: the sample's
    23 pages (narrative, catalogue, 15 ruled tables) give no ``*-aligned`` grid."""
    extractor = RuledGridExtractor("pdfplumber-grid")
    pdf = open_pdf(sample_pdf)
    try:
        methods = {g.method for page in iter_pages(pdf) for g in extractor.extract("", page)}
    finally:
        pdf.close()
    assert methods == {"pdfplumber-grid"}


@pytest.mark.corpus
@pytest.mark.parametrize("corpus_id", ["dev-1-0002", "dev-1-0031"])
def test_tables_ruled_with_horizontal_rules_stay_ruled_grids(corpus_id):
    """Tables whose body has horizontal rules only (vertical rules in the header) are still
    read from their rules, on every page: the alignment reader adds nothing there."""
    methods = {g.method for page in page_tables(dev_pdf_path(corpus_id)) for g in page.grids}
    assert methods == {"pdfium-grid"}


# --------------------------------------------------------------------------- landscape pages

LANDSCAPE_PAGES = ["landscape-rotate-90.pdf", "landscape-rotate-270.pdf", "landscape-mediabox.pdf"]


@pytest.mark.parametrize("name", LANDSCAPE_PAGES)
def test_landscape_pages_show_their_quirk(name):
    """/Rotate pages keep a portrait media box and draw the table sideways; the other one has
    a landscape media box."""
    pdf = pdfium.PdfDocument(str(built(name)))
    try:
        page = pdf[0]
        x0, y0, x1, y1 = page.get_mediabox()
        rotation = page.get_rotation()
        page.close()
    finally:
        pdf.close()
    if name == "landscape-mediabox.pdf":
        assert rotation == 0 and x1 - x0 > y1 - y0
    else:
        assert rotation == int(name.split("-")[-1].removesuffix(".pdf"))
        assert x1 - x0 < y1 - y0, "portrait media box"


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize("name", LANDSCAPE_PAGES)
def test_landscape_pages_read_upright(name, reader):
    page, grid = only_grid(name, reader)
    assert page.landscape
    assert (page.width, page.height) == pytest.approx(builder.LANDSCAPE, abs=0.5)
    assert page.lines[0].text == f"{builder.UNIT}{builder.YEAR}年部门预算"
    assert [line.text for line in page.lines].index(builder.TABLE5_TITLE) == 2
    assert all(0 <= c.x0 <= page.width and 0 <= c.top <= page.height for c in page.chars)
    assert grid.method == f"{reader}-grid"
    assert grid_texts(grid) == TABLE5_GRID


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize("name", LANDSCAPE_PAGES)
def test_landscape_pages_give_their_line_items(name, reader):
    assert_table5_rows(rows_of(name, reader), f"{reader}-grid")


# --------------------------------------------------------------------------- vertical text

PERF = "vertical-perf-targets.pdf"


def _column_chars(page, word: str) -> list:
    """The characters of ``word`` stacked in one column (same x, one per line), top down."""
    for start in (c for c in page.chars if c.text == word[0]):
        column = [start]
        for char in word[1:]:
            below = [
                c
                for c in page.chars
                if c.text == char and abs(c.xc - start.xc) < 1 and c.top > column[-1].top
            ]
            if not below:
                break
            column.append(min(below, key=lambda c: c.top))
        if len(column) == len(word):
            return column
    return []


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize("word", ["总体目标", "年度绩效指标", "产出指标", "满意度指标"])
def test_vertical_cells_hold_one_character_per_line(word, reader):
    """The quirk: a tall merged cell holds its label one character per line (年度绩效指标 is
    one string in a vertical CMap); the cell's text is the word, line by line."""
    page, grid = only_grid(PERF, reader)
    column = _column_chars(page, word)
    assert column, f"{word} is not printed one character per line"
    assert all(b.top >= a.bottom - 0.5 for a, b in zip(column, column[1:])), "one per line"
    cells = [cell.text for row in grid.rows for cell in row]
    assert "\n".join(word) in cells
    assert clean_name("\n".join(word)) == word


def _expected_targets() -> list[tuple[str, str, str, str]]:
    return [
        (level1, level2, content.split("：", 1)[1], value)
        for level1, groups in builder.INDICATORS
        for level2, items in groups
        for content, value in items
        if content.split("：", 1)[1]
    ]


@pytest.mark.parametrize("reader", READERS)
def test_vertical_perf_table_gives_targets_and_money(reader):
    rows = rows_of(PERF, reader)
    assert rows["documents"][0]["template"] == "shaanxi-15"
    (table,) = rows["tables"]
    assert (table["table_no"], table["kind"]) == ("13", "perf_project")
    targets = rows["performance_targets"]
    assert [(t["level1"], t["level2"], t["indicator"], t["target"]) for t in targets] == (
        _expected_targets()
    )
    assert {(t["project_name"], t["scope"], t["table_no"], t["page"]) for t in targets} == {
        (builder.PROJECT, "project", "13", 1)
    }
    money = [(i["name"], i["measure"], i["amount_yuan"]) for i in rows["line_items"]]
    assert money == [(builder.PROJECT, "total", 400_000.0), (builder.PROJECT, "fiscal", 400_000.0)]


# --------------------------------------------------------------------------- reversed strings

REVERSED = "reversed-strings.pdf"


def test_reversed_strings_are_reversed_in_the_content_stream():
    """The quirk: pdfplumber's characters come in content-stream order, and there the
    Chinese strings run backwards, while the page shows them as written."""
    with pdfplumber.open(built(REVERSED)) as pdf:
        stream_order = "".join(c["text"] for c in pdf.pages[0].chars)
    assert "出支本基" in stream_order and "基本支出" not in stream_order
    assert builder.TABLE5_TITLE[::-1] in stream_order


@pytest.mark.parametrize("reader", READERS)
def test_reversed_strings_read_as_printed(reader):
    """Both readers order the glyphs of a line and of a cell by their position on the page
    (``group_lines``, ``cell_text``), so no text repair is needed."""
    page, grid = only_grid(REVERSED, reader)
    texts = [line.text for line in page.lines]
    assert builder.TABLE5_TITLE in texts
    assert f"编制部门：{builder.UNIT}" in texts
    assert grid_texts(grid) == TABLE5_GRID


@pytest.mark.parametrize("reader", READERS)
def test_reversed_strings_give_their_line_items(reader):
    assert_table5_rows(rows_of(REVERSED, reader), f"{reader}-grid")
