"""Golden tests of the ruled-grid extractor: a real PDF page → the table rows we expect.

Every page is read by both page readers (PDFium, the default, and pdfplumber, the reference);
the grids must be the same whichever reader made the page.
"""

from __future__ import annotations

import pdfplumber
import pytest
from budget_disclosures.extractors.grid import RuledGridExtractor, find_table_regions
from budget_disclosures.mappings.loader import vocabulary
from budget_disclosures.mappings.normalize import column_paths, column_roles, split_header
from conftest import dev_pdf_path, read_page

READERS = ["pdfium", "pdfplumber"]


def grids_of(path, number, reader):
    page = read_page(path, number, reader)
    return page, RuledGridExtractor(f"{reader}-grid").extract(str(path), page)


def only_grid(path, number, reader):
    page, grids = grids_of(path, number, reader)
    assert len(grids) == 1, f"p{number}: expected one table, found {len(grids)}"
    return page, grids[0]


def rows_as_text(grid, start=0):
    return [grid.row_texts(i) for i in range(start, len(grid.rows))]


# --------------------------------------------------------------------------- the sample

SAMPLE_TABLE5_BODY = [
    ["1", "合计", "", "363.45", "311.45", "12.00", "40.00"],
    ["2", "201", "一般公共服务支出", "316.63", "264.83", "11.80", "40.00"],
    ["3", "20103", "政府办公厅(室)及相关机构事务", "276.63", "264.83", "11.80", "0.00"],
    ["4", "2010350", "事业运行", "276.63", "264.83", "11.80", "0.00"],
    ["5", "20105", "统计信息事务", "40.00", "0.00", "0.00", "40.00"],
    ["6", "2010504", "信息事务", "40.00", "0.00", "0.00", "40.00"],
    ["7", "205", "教育支出", "0.20", "0.00", "0.20", "0.00"],
    ["8", "20508", "进修及培训", "0.20", "0.00", "0.20", "0.00"],
    ["9", "2050803", "培训支出", "0.20", "0.00", "0.20", "0.00"],
    ["10", "208", "社会保障和就业支出", "29.80", "29.80", "0.00", "0.00"],
    ["11", "20805", "行政事业单位养老支出", "29.80", "29.80", "0.00", "0.00"],
    ["12", "2080505", "机关事业单位基本养老保险缴费支出", "29.80", "29.80", "0.00", "0.00"],
    ["13", "210", "卫生健康支出", "16.82", "16.82", "0.00", "0.00"],
    ["14", "21011", "行政事业单位医疗", "16.82", "16.82", "0.00", "0.00"],
    ["15", "2101102", "事业单位医疗", "16.82", "16.82", "0.00", "0.00"],
]


@pytest.mark.parametrize("reader", READERS)
def test_sample_table5_body_rows(sample_pdf, reader):
    """表5 (p13): 一般公共预算支出明细表（按支出功能分类科目）, fully ruled, two header rows."""
    page, grid = only_grid(sample_pdf, 13, reader)
    assert not page.landscape
    assert grid.page == 13
    assert grid.method == f"{reader}-grid"
    assert grid.n_cols == 7
    n_header = split_header(grid)
    assert n_header == 2
    assert rows_as_text(grid, n_header) == SAMPLE_TABLE5_BODY


@pytest.mark.parametrize("reader", READERS)
def test_sample_table5_header_cells_and_paths(sample_pdf, reader):
    _, grid = only_grid(sample_pdf, 13, reader)
    top = [(c.text, c.col0, c.col1) for c in grid.rows[0]]
    assert top == [
        ("序号", 0, 0),
        ("科目编码", 1, 1),
        ("科目名称", 2, 2),
        ("合计", 3, 3),
        ("基本支出", 4, 5),  # merged over 人员经费 | 公用经费
        ("项目支出", 6, 6),
    ]
    assert [c.text for c in grid.rows[1]] == ["人员经费", "公用经费"]
    paths = column_paths(grid, split_header(grid))
    assert paths == [
        ["序号"],
        ["科目编码"],
        ["科目名称"],
        ["合计"],
        ["基本支出", "人员经费"],
        ["基本支出", "公用经费"],
        ["项目支出"],
    ]
    assert column_roles(paths, vocabulary().columns) == [
        "seq",
        "code",
        "name",
        "total",
        "basic_personnel",
        "basic_public",
        "project",
    ]


@pytest.mark.parametrize("reader", READERS)
def test_sample_table5_heading_lines_above_the_grid(sample_pdf, reader):
    _, grid = only_grid(sample_pdf, 13, reader)
    above = [line.text for line in grid.lines_above]
    assert "表5" in above
    assert "单位综合预算一般公共预算支出明细表（按支出功能分类科目）" in above
    assert "单位：万元" in above


def test_sample_narrative_page_has_no_grid(sample_pdf):
    _, grids = grids_of(sample_pdf, 2, "pdfium")
    assert grids == []


def test_readers_agree_on_every_sample_page(sample_pdf):
    """PDFium and pdfplumber pages give the same cells on every page of the sample."""
    with pdfplumber.open(sample_pdf) as pdf:
        n_pages = len(pdf.pages)
    for number in range(1, n_pages + 1):
        by_reader = {}
        for reader in READERS:
            _, grids = grids_of(sample_pdf, number, reader)
            by_reader[reader] = [
                [[(c.text, c.col0, c.col1) for c in row] for row in g.rows] for g in grids
            ]
        assert by_reader["pdfium"] == by_reader["pdfplumber"], f"page {number}"


# --------------------------------------------------------------------------- dev corpus quirks


@pytest.mark.corpus
@pytest.mark.parametrize("reader", READERS)
def test_hlines_grid_body_inherits_header_columns(reader):
    """dev-1-0002 p16 (表6): vertical rules only in the header, horizontal rules in the body.

    Body rows have no vertical rule at all; their columns come from the ruled header.
    """
    path = dev_pdf_path("dev-1-0002")
    page, grid = only_grid(path, 16, reader)
    n_header = split_header(grid)
    assert n_header == 2
    header_bottom = grid.rows[n_header][0].top
    verticals = [r for r in page.rules if r.orientation == "v"]
    assert verticals, "the header is ruled"
    assert all(v.end <= header_bottom + 2 for v in verticals), "no vertical rule in the body"
    assert grid.n_cols == 9
    body = rows_as_text(grid, n_header)
    assert len(body) == 22
    assert all(len(row) == 9 for row in body)
    # every body row is split into all nine columns
    assert all(len(grid.rows[i]) == 9 for i in range(n_header, len(grid.rows)))
    assert body[0] == ["1", "合计", "", "", "", "282.44", "156.56", "40.89", "84.99"]
    assert body[1] == ["2", "301", "工资福利支出", "", "", "156.56", "156.56", "0", "0"]
    assert body[2] == [
        "3",
        "30101",
        "基本工资",
        "50101",
        "工资奖金津补贴",
        "77.23",
        "77.23",
        "0",
        "0",
    ]
    assert body[-1] == [
        "22",
        "31007",
        "信息网络及软件购置更新",
        "50306",
        "设备购置",
        "23.79",
        "0",
        "0",
        "23.79",
    ]


@pytest.mark.corpus
@pytest.mark.parametrize("reader", READERS)
def test_hlines_grid_two_level_header_paths(reader):
    path = dev_pdf_path("dev-1-0002")
    _, grid = only_grid(path, 16, reader)
    paths = column_paths(grid, split_header(grid))
    assert paths == [
        ["序号"],
        ["部门经济分类", "科目编码"],
        ["部门经济分类", "科目名称"],
        ["政府经济分类", "科目编码"],
        ["政府经济分类", "科目名称"],
        ["合计"],
        ["基本支出", "人员经费"],
        ["基本支出", "公用经费"],
        ["项目支出"],
    ]
    assert column_roles(paths, vocabulary().columns) == [
        "seq",
        "code",
        "name",
        "alt_code",
        "alt_name",
        "total",
        "basic_personnel",
        "basic_public",
        "project",
    ]


@pytest.mark.corpus
def test_summary_table_figures_printed_flush_against_the_next_cell():
    """dev-1-0002 p9 (表1): the figure and the next cell's label touch (``282.441、一般…``).

    pdfplumber's words run them together; the grid assigns characters to cells at the rule.
    """
    path = dev_pdf_path("dev-1-0002")
    with pdfplumber.open(path) as pdf:
        words = [w["text"] for w in pdf.pages[8].extract_words()]
    assert "282.441、一般公共服务支出" in words, "the layout quirk is in the PDF"
    for reader in READERS:
        page, grid = only_grid(path, 9, reader)
        assert page.landscape
        assert grid.n_cols == 8
        body = rows_as_text(grid, split_header(grid))
        assert body[0] == ["一、部门预算", "282.44"] * 4
        assert body[1] == [
            "1、财政拨款",
            "282.44",
            "1、一般公共服务支出",
            "0",
            "1、人员经费和公用经费支出",
            "197.45",
            "1、机关工资福利支出",
            "156.56",
        ]
        flat = [cell for row in body for cell in row]
        assert not any("282.44" in cell and cell != "282.44" for cell in flat)


@pytest.mark.corpus
def test_summary_table_side_by_side_header():
    path = dev_pdf_path("dev-1-0002")
    _, grid = only_grid(path, 9, "pdfium")
    assert [(c.text, c.col0, c.col1) for c in grid.rows[0]] == [("收入", 0, 1), ("支出", 2, 7)]
    paths = column_paths(grid, split_header(grid))
    assert paths[0] == ["收入", "项目"]
    assert paths[1] == ["收入", "预算数"]
    assert paths[4] == ["支出", "项目(按支出性质和经济分类)"]
    assert paths[7] == ["支出", "预算数"]


@pytest.mark.corpus
@pytest.mark.parametrize("reader", READERS)
def test_three_level_header_path(reader):
    """dev-1-0002 p11 (表2 收入总表): 部门预算 / 一般公共预算拨款 / 小计 → gpb."""
    path = dev_pdf_path("dev-1-0002")
    _, grid = only_grid(path, 11, reader)
    n_header = split_header(grid)
    assert n_header == 3
    paths = column_paths(grid, n_header)
    roles = column_roles(paths, vocabulary().columns)
    by_path = {"/".join(p): r for p, r in zip(paths, roles, strict=True)}
    assert by_path["部门预算/一般公共预算拨款/小计"] == "gpb"
    assert by_path["部门预算/一般公共预算拨款/其中:专项资金列入部门预算项目"] == "gpb_special"
    assert by_path["部门预算/合计"] == "total"
    assert by_path["部门预算/政府性基金拨款"] == "gov_fund"  # header wrapped mid-word
    assert by_path["单位编码"] == "code"
    body = rows_as_text(grid, n_header)
    assert body[1][:4] == ["833001", "汉中市城市管理执法局", "282.44", "282.44"]


# --------------------------------------------------------------------------- regions


def test_find_table_regions_ignores_lone_and_short_rules():
    from budget_disclosures.extractors.base import Rule

    # a single rule under a heading, and a short tick: not tables
    assert find_table_regions([Rule("h", 100, 50, 500)]) == []
    assert find_table_regions([Rule("h", 100, 50, 60), Rule("h", 120, 50, 60)]) == []
    # two rules and verticals joining them: one table
    box = [
        Rule("h", 100, 50, 500),
        Rule("h", 140, 50, 500),
        Rule("v", 50, 100, 140),
        Rule("v", 500, 100, 140),
    ]
    assert find_table_regions(box) == [(50, 100, 500, 140)]


# --------------------------------------------------------------------------- rows of glyphs


def _glyphs(text, x, top, bottom, tall="()", tall_bottom=None):
    """One text line of 12 pt glyphs; brackets' boxes reach ``tall_bottom`` (below the rest)."""
    from budget_disclosures.extractors.base import Char

    out = []
    for ch in text:
        low = tall_bottom if ch in tall and tall_bottom is not None else bottom
        out.append(Char(ch, x, x + 12, top, low, 12.0))
        x += 12
    return out


def test_a_text_line_goes_into_one_row_though_its_bracket_hangs_below_the_rule():
    """A wrapped label printed flush on the row rule (``(5)资本性支出(基本建设)``, its last line
    overflowing its cell): the closing bracket's box reaches lower than the ideographs beside
    it, its own centre falls below the rule; the line still goes whole into its row."""
    from budget_disclosures.extractors.base import PageContent, Rule
    from budget_disclosures.extractors.grid import build_grid

    rules = [Rule("h", y, 100, 400) for y in (100, 120, 140.25, 160)]
    rules += [Rule("v", x, 100, 160) for x in (100, 300, 400)]
    chars = (
        _glyphs("(5)资本性支出(基", 102, 116.8, 127.8, tall_bottom=129.4)
        + _glyphs("本建设)", 102, 134.0, 144.9, tall_bottom=146.6)  # ')' centre 140.3
        + _glyphs("(6)资本性支出", 102, 145.6, 156.6, tall_bottom=158.2)
    )
    page = PageContent(1, 500, 300, chars, rules, [], "text")
    grid = build_grid(page, (100, 100, 400, 160))
    assert [grid.row_texts(i)[0] for i in range(len(grid.rows))] == [
        "",
        "(5)资本性支出(基\n本建设)",
        "(6)资本性支出",
    ]
