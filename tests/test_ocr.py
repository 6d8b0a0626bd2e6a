"""OCR building blocks that need no OCR engine: rules and skew from page images, characters
from recognised lines, the page cache, the arithmetic review, text-layer detection."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest
from budget_disclosures.extractors import ocr
from budget_disclosures.extractors.base import Char, GridCell, PageContent, RawGrid, Rule
from budget_disclosures.extractors.image_rules import (
    binarize,
    estimate_skew,
    find_lines,
    rotate,
    text_axis_vertical,
)
from budget_disclosures.extractors.ocr_review import find_relations, parse_figure, review_items

cv2 = pytest.importorskip("cv2")

DPI = 150.0
SCALE = DPI / 72.0


def table_image(angle: float = 0.0) -> tuple[np.ndarray, list[int], list[int]]:
    """A ruled 4×5 table with a few figures in it, turned by ``angle`` degrees."""
    image = np.full((900, 1200), 235, np.uint8)
    xs = [100, 420, 600, 850, 1100]
    ys = [150, 210, 270, 330, 390, 450]
    for y in ys:
        cv2.line(image, (xs[0], y), (xs[-1], y), 30, 2)
    for x in xs:
        cv2.line(image, (x, ys[0]), (x, ys[-1]), 30, 2)
    for r, y in enumerate(ys[:-1]):
        for c, x in enumerate(xs[:-1]):
            cv2.putText(
                image, f"{r * 7 + c}.05", (x + 12, y + 42), cv2.FONT_HERSHEY_SIMPLEX, 1.0, 25, 2
            )
    # a line of "text" above the table: must not become a rule
    cv2.putText(image, "12345 67890 1234", (100, 110), cv2.FONT_HERSHEY_SIMPLEX, 1.2, 25, 3)
    return rotate(image, angle), xs, ys


def test_skew_is_measured_from_the_rules():
    image, _, _ = table_image(angle=-0.8)  # turned clockwise by 0.8°
    angle = estimate_skew(binarize(image, DPI), DPI)
    assert angle == pytest.approx(0.8, abs=0.05)


def test_skew_of_a_page_without_rules_comes_from_the_text_lines():
    image = np.full((1000, 1000), 240, np.uint8)
    for y in range(120, 900, 45):
        cv2.putText(
            image, "8888 8888 8888 8888 8888", (60, y), cv2.FONT_HERSHEY_SIMPLEX, 1.0, 20, 2
        )
    turned = rotate(image, 1.2)
    assert estimate_skew(binarize(turned, DPI), DPI) == pytest.approx(-1.2, abs=0.15)


def test_rules_are_found_in_points_and_glyphs_are_not_rules():
    image, xs, ys = table_image()
    lines = find_lines(binarize(image, DPI), DPI)
    hs = sorted(r.pos for r in lines.rules if r.orientation == "h")
    vs = sorted(r.pos for r in lines.rules if r.orientation == "v")
    assert hs == pytest.approx([y / SCALE for y in ys], abs=1.5)
    assert vs == pytest.approx([x / SCALE for x in xs], abs=1.5)
    for rule in lines.rules:
        if rule.orientation == "h":
            assert rule.start == pytest.approx(xs[0] / SCALE, abs=2) and rule.end == pytest.approx(
                xs[-1] / SCALE, abs=2
            )


def test_deskewed_table_gives_the_same_grid():
    from budget_disclosures.extractors.grid import RuledGridExtractor

    image, xs, ys = table_image(angle=0.9)
    binary = binarize(image, DPI)
    level = rotate(image, estimate_skew(binary, DPI))
    lines = find_lines(binarize(level, DPI), DPI)
    page = PageContent(1, 1200 / SCALE, 900 / SCALE, [], lines.rules, [], "scanned", 1)
    (grid,) = RuledGridExtractor("ocr-grid").extract("", page)
    assert len(grid.rows) == len(ys) - 1
    assert grid.n_cols == len(xs) - 1


@pytest.mark.parametrize("quarter_turns", [0, 1, 3])
@pytest.mark.parametrize("angle", [0.0, 0.9, -1.4])
def test_a_levelled_point_maps_back_to_the_rendered_page(quarter_turns, angle):
    """The review draws OCR'd grids (levelled page coordinates) on the rendered page image:
    a mark at a known place on the rendered page, levelled as OCR levels it, maps back."""
    from budget_disclosures.extractors.ocr_images import level_page, levelled_to_page

    rendered = np.full((900, 1200), 240, np.uint8)
    rendered[298:303, 998:1003] = 0  # a mark centred at (1000.5, 300.5) px
    level = level_page(rendered, DPI, quarter_turns=quarter_turns, angle=angle)
    ys, xs = np.nonzero(level.gray < 128)
    height, width = level.gray.shape
    a, b, c, d, e, f = levelled_to_page(width / SCALE, height / SCALE, angle, quarter_turns)
    x, y = (xs.mean() + 0.5) / SCALE, (ys.mean() + 0.5) / SCALE
    assert a * x + c * y + e == pytest.approx(1000.5 / SCALE, abs=1.0)
    assert b * x + d * y + f == pytest.approx(300.5 / SCALE, abs=1.0)


def test_quarter_turned_text_is_recognised():
    image = np.full((900, 1200), 240, np.uint8)
    for y in range(100, 850, 40):
        cv2.putText(image, "8888 888 88888 8888", (60, y), cv2.FONT_HERSHEY_SIMPLEX, 0.9, 20, 2)
    binary = binarize(image, DPI)
    assert not text_axis_vertical(binary)
    assert text_axis_vertical(np.ascontiguousarray(np.rot90(binary)))


def test_line_boxes_are_cut_at_vertical_rules():
    mask = np.zeros((100, 400), np.uint8)
    mask[:, 200:203] = 255  # an erased vertical rule
    quad = np.array([[120, 40], [300, 40], [300, 70], [120, 70]], np.float32)
    pieces = ocr._pieces([quad], mask, 400, 100)
    assert [(p.x0, p.x1) for p in pieces] == [(120, 199), (204, 300)]


def test_characters_follow_the_recogniser_positions():
    rec = ocr.Recognized(
        "532.38一、社会", [0.99] * 10, [6, 18, 30, 38, 46, 58, 80, 100, 122, 144], [8] * 10
    )
    piece = ocr.TextPiece(100, 50, 260, 80)
    chars, confidences = ocr.chars_from_recognized(
        rec, piece, crop_x0=100, ink=(55.0, 75.0), scale=SCALE
    )
    assert "".join(c.text for c in chars) == "532.38一、社会"
    assert confidences == [0.99] * 10
    # left to right, touching within a word (no spurious spaces), all on one line
    assert all(a.x0 < b.x0 for a, b in zip(chars, chars[1:]))
    assert len({round(c.yc, 3) for c in chars}) == 1
    figure, text = chars[:6], chars[6:]
    assert all(a.x1 == pytest.approx(b.x0) for a, b in zip(figure, figure[1:]))
    # an ideograph is wider than a digit
    assert (text[0].x1 - text[0].x0) > (figure[0].x1 - figure[0].x0)


def test_a_recognised_space_leaves_a_gap():
    rec = ocr.Recognized("项 目", [0.9, 0.9, 0.9], [10, 60, 110], [8, 8, 8])
    chars, _ = ocr.chars_from_recognized(rec, ocr.TextPiece(0, 0, 130, 30), 0, (5.0, 25.0), SCALE)
    assert [c.text for c in chars] == ["项", "目"]
    assert chars[1].x0 - chars[0].x1 > 0.3 * chars[0].size


def test_cache_round_trip(tmp_path, monkeypatch):
    result = ocr.OcrResult(
        595.0,
        842.0,
        [Char("5", 10, 15, 20, 30, 10.0), Char("元", 15, 25, 20, 30, 10.0)],
        [0.91, 0.99],
        [Rule("h", 100.0, 10.0, 500.0), Rule("v", 10.0, 100.0, 300.0)],
        150.0,
        0.27,
        0,
    )
    cache = ocr.OcrCache(tmp_path)
    key = ocr.image_key(np.zeros((4, 4), np.uint8), 150.0, "engine")
    assert cache.get(key) is None
    cache.put(key, result.to_json())
    back = ocr.OcrResult.from_json(cache.get(key))
    assert back.chars == result.chars and back.rules == result.rules
    assert back.confidences == result.confidences and back.angle == result.angle
    # another version of the OCR code never reads an old entry
    from budget_disclosures.extractors import ocr_cache

    monkeypatch.setattr(ocr_cache, "OCR_VERSION", "ocr-test-other")  # (read where it is used)
    assert cache.get(key) is None
    # the cache is configurable and can be switched off
    monkeypatch.setenv(ocr.CACHE_ENV, str(tmp_path / "elsewhere"))
    assert ocr.default_cache_dir() == tmp_path / "elsewhere"
    monkeypatch.setenv(ocr.CACHE_ENV, "off")
    assert ocr.default_cache_dir() is None
    ocr.OcrCache(None).put(key, result.to_json())  # a disabled cache is a no-op


def test_image_key_depends_on_pixels_and_settings():
    a = np.zeros((4, 4), np.uint8)
    b = a.copy()
    b[0, 0] = 1
    assert ocr.image_key(a, 150, "e") != ocr.image_key(b, 150, "e")
    assert ocr.image_key(a, 150, "e") != ocr.image_key(a, 300, "e")
    assert ocr.image_key(a, 150, "e") == ocr.image_key(a.copy(), 150, "e")


@pytest.mark.parametrize(
    ("layer", "images", "expected"),
    [
        ("text", 0, False),
        ("text", 1, False),
        ("scanned", 1, True),
        ("scanned", 0, False),
        ("garbled", 0, True),
    ],
)
def test_only_pages_without_usable_text_are_ocred(layer, images, expected):
    page = PageContent(1, 595, 842, [], [], [], layer, images)
    assert ocr.needs_ocr(page) is expected


def test_a_text_page_is_returned_untouched():
    page = PageContent(1, 595, 842, [Char("表", 1, 2, 3, 4, 10)], [], [], "text", 0)
    reader = ocr.DocumentOcr(enabled=True)
    assert reader.read(page) is page
    assert not reader.is_ocr(1)


# --------------------------------------------------------------------------- confidence and review


def _result_with(chars: list[tuple[str, float, float, float]]) -> ocr.OcrResult:
    return ocr.OcrResult(
        595,
        842,
        [Char(t, x0, x0 + 5, top, top + 10, 10) for t, x0, top, _ in chars],
        [p for *_, p in chars],
        [],
        150,
        0,
        0,
    )


def test_cell_confidence_is_its_weakest_character():
    result = _result_with([("3", 100, 100, 0.99), ("3", 105, 100, 0.62), ("一", 20, 100, 0.98)])
    cells = [
        GridCell("一", 0, 0, 10, 90, 95, 115),
        GridCell("33", 1, 1, 90, 200, 95, 115),
    ]
    grid = RawGrid(3, (10, 95, 200, 115), [10, 90, 200], [cells], "ocr-grid")
    readings = ocr.cell_confidences(result, [grid])
    assert [(r.text, r.confidence) for r in readings] == [("一", 0.98), ("33", 0.62)]
    reader = ocr.DocumentOcr(enabled=True)
    reader.results[3] = result
    reader.cells[3] = readings
    items = [
        {"page": 3, "amount_printed": "33", "row_label": "一"},
        {"page": 4, "amount_printed": "1"},
    ]
    reader.attach_confidence(items)
    assert items[0]["confidence"] == 0.62
    assert items[1]["confidence"] is None  # read from a text layer


class FakeOcr:
    """An OCR document whose page 1 was OCR'd; each figure sits in a cell of its own."""

    def is_ocr(self, page):
        return page == 1

    def cells_for(self, page, printed, row_label=""):
        return [
            ocr.CellReading(page, printed, row_label, (0.0, 0.0, 10.0, float(len(row_label))), 0.9)
        ]

    def reread(self, page, boxes):
        return [[] for _ in boxes]


def _item(code, parent, printed, level, confidence=0.99, **extra):
    value = parse_figure(printed)
    return {
        "table_no": "5",
        "classification": "function",
        "code": code,
        "parent_code": parent,
        "level": level,
        "name": extra.pop("name", code),
        "measure": "total",
        "column": "合计",
        "page": 1,
        "unit_printed": "万元",
        "amount_printed": printed,
        "amount_yuan": float(value) * 1e4,
        "row_label": code or "",
        "confidence": confidence,
        **extra,
    }


def test_relations_cover_codes_totals_and_column_groups():
    items = [
        _item(None, None, "40.00", None, name="合计"),
        _item("208", None, "40.00", 1),
        _item("20805", "208", "30.00", 2),
        _item("20808", "208", "10.00", 2),
        {**_item("208", None, "25.00", 1), "measure": "basic", "column": "基本支出"},
        {**_item("208", None, "20.00", 1), "measure": "basic_staff", "column": "基本支出/人员经费"},
        {**_item("208", None, "5.00", 1), "measure": "basic_office", "column": "基本支出/公用经费"},
    ]
    kinds = sorted((r.kind, r.parent, r.children) for r in find_relations(items))
    assert ("codes", 1, (2, 3)) in kinds
    assert ("totals", 0, (1,)) in kinds
    assert ("columns", 4, (5, 6)) in kinds


def test_a_misread_that_breaks_the_sum_is_reread_and_replaced():
    items = [
        _item("208", None, "38.05", 1, confidence=0.97),  # printed 33.05, misread
        _item("20805", "208", "22.02", 2),
        _item("20808", "208", "11.03", 2),
    ]

    class Reader(FakeOcr):
        def reread(self, page, boxes):
            return [[("33.05", 0.99), ("33.05", 0.98)] for _ in boxes]

    report = review_items(items, Reader())
    assert report.failing_before == 1 and report.failing_after == 0
    assert items[0]["amount_printed"] == "33.05" and items[0]["amount_yuan"] == pytest.approx(
        330500.0
    )
    assert items[0]["confidence"] == pytest.approx(0.99 * 2 / 3, abs=1e-3)
    assert report.changed[0]["before"] == "38.05"


def test_a_reading_that_does_not_fix_the_sum_is_not_taken():
    items = [
        _item("208", None, "38.05", 1),
        _item("20805", "208", "22.02", 2),
        _item("20808", "208", "11.03", 2),
    ]

    class Reader(FakeOcr):
        def reread(self, page, boxes):
            return [[("36.05", 0.6)] for _ in boxes]

    report = review_items(items, Reader())
    assert items[0]["amount_printed"] == "38.05"  # never "corrected" from the arithmetic
    assert report.failing_after == 1 and report.still_failing[0]["row"] == "208"
    # readings that disagree with the kept value lower its confidence
    assert items[0]["confidence"] < 0.9


def test_consistent_figures_are_not_reread():
    items = [
        _item("208", None, "33.05", 1),
        _item("20805", "208", "22.02", 2),
        _item("20808", "208", "11.03", 2),
    ]

    class Reader(FakeOcr):
        def reread(self, page, boxes):
            raise AssertionError("nothing to re-read")

    report = review_items(items, Reader())
    assert report.reread == 0 and report.failing_before == 0


def test_parse_figure():
    assert parse_figure("1,234.50") == Decimal("1234.50")
    assert parse_figure("(5)") == Decimal("-5")
    assert parse_figure("一、") is None


def test_subtotal_columns_count_where_they_hold_somewhere():
    def row(label, total, a, b):
        base = {"classification": "three_public", "name": label, "row_label": label}
        return [
            {
                **_item(None, None, total, None, **base),
                "column": "本年预算/公务用车/小计",
                "measure": "car",
            },
            {
                **_item(None, None, a, None, **base),
                "column": "本年预算/公务用车/购置费",
                "measure": "car_buy",
            },
            {
                **_item(None, None, b, None, **base),
                "column": "本年预算/公务用车/运行维护费",
                "measure": "car_run",
            },
        ]

    items = row("合计", "4.93", "1.00", "3.93") + row("单位", "4.93", "1.00", "8.93")

    class Reader(FakeOcr):
        def reread(self, page, boxes):
            return [[("3.93", 0.99), ("3.93", 0.99)] for _ in boxes]

    report = review_items(items, Reader())
    assert report.failing_before == 1
    assert items[5]["amount_printed"] == "3.93"
    # a relation that holds in no row of its table is not a relation there
    items = row("合计", "9.99", "1.00", "3.93")
    assert review_items(items, FakeOcr()).checked == 0


def test_figures_of_neighbouring_cells_part_at_the_column_boundary():
    binary = np.zeros((30, 200), np.uint8)
    binary[8:20, 10:58] = 255  # "0.22", right-aligned against the boundary at x = 60
    binary[8:20, 63:100] = 255  # "0.50", left of its own cell
    piece = ocr.TextPiece(5, 2, 105, 26)
    parts = ocr._split_at_columns(piece, binary, [60.0])
    assert [(p.x0, p.x1) for p in parts] == [(5, 60), (61, 105)]
    # text running across the boundary without a blank (an overflowing name) stays whole
    binary[8:20, 55:66] = 255
    assert ocr._split_at_columns(piece, binary, [60.0]) == [piece]


def test_ink_the_detector_missed_is_boxed_for_a_second_look():
    binary = np.zeros((200, 400), np.uint8)
    binary[20:32, 20:120] = 255  # a detected line
    binary[100:112, 200:226] = 255  # a short word the detector missed
    binary[150:152, 300:302] = 255  # a speck
    detected = ocr.TextPiece(15, 15, 125, 37)
    quad = np.array([[15, 15], [125, 15], [125, 37], [15, 37]], np.float32)
    (box,) = ocr._missed_text(binary, [detected], [quad])
    assert (
        box[:, 0].min() < 200 < 226 < box[:, 0].max()
        and box[:, 1].min() < 100 < 112 < box[:, 1].max()
    )


def test_a_sliver_of_the_neighbouring_box_is_dropped():
    # two detector boxes overlap across a rule; cut at the rule, the second box's left end
    # is a sliver inside the first box: it is the first cell's last glyph, read already
    first = ocr.TextPiece(1084, 263, 1177, 287)
    sliver = ocr.TextPiece(1170, 262, 1177, 285)
    second = ocr.TextPiece(1184, 262, 1276, 285)
    assert ocr._drop_covered([first, sliver, second]) == [first, second]


def test_a_box_holding_two_lines_is_cut_between_them():
    binary = np.zeros((40, 60), np.uint8)
    binary[4:15, 5:55] = 255  # 因公出国（
    binary[17:28, 15:45] = 255  # 境）费
    piece = ocr.TextPiece(0, 0, 60, 32)
    upper, lower = ocr._split_rows(piece, binary)
    assert upper.y1 <= 17 and lower.y0 >= 15
    assert ocr._ink_rows(binary, upper) == (4.0, 15.0) and ocr._ink_rows(binary, lower) == (
        17.0,
        28.0,
    )
