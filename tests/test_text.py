"""Unit and property tests of ``mappings/text.py``: printed figures and names → clean forms."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from budget_disclosures.mappings.text import (
    UNIT_FACTORS,
    clean_label,
    clean_name,
    find_money_unit,
    fold_width,
    is_amount,
    is_code,
    parse_amount,
    split_code_name,
    to_yuan,
)
from hypothesis import example, given
from hypothesis import strategies as st


def to_fullwidth(text: str) -> str:
    """Print ASCII as full-width forms (``1,234.50`` → ``１，２３４．５０``)."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


# --------------------------------------------------------------------------- parse_amount


@pytest.mark.parametrize(
    ("printed", "expected"),
    [
        ("363.45", 363.45),
        ("0.00", 0.0),
        ("0", 0.0),
        ("1,234.56", 1234.56),
        ("1,234,567", 1234567.0),
        ("12,345,678.90", 12345678.9),
        ("１２３．４５", 123.45),
        ("１，２３４．５０", 1234.5),
        (" 363.45 ", 363.45),
        ("363.45\n", 363.45),
        ("3 63.45", 363.45),  # a figure broken by justified spacing
        ("+3", 3.0),
        ("-5", -5.0),
        ("-0.80", -0.8),
        ("－5", -5.0),  # full-width hyphen-minus
        ("(5)", -5.0),
        ("（５）", -5.0),
        ("(1,234.50)", -1234.5),
        ("２０１０３５０", 2010350.0),
    ],
)
def test_parse_amount_values(printed, expected):
    assert parse_amount(printed) == expected


@pytest.mark.parametrize("blank", [None, "", " ", "\n", "-", "—", "–", "－", "——", "--", "/", "*"])
def test_parse_amount_blank_markers_are_none(blank):
    assert parse_amount(blank) is None
    assert not is_amount(blank)


@pytest.mark.parametrize(
    "not_money",
    ["12%", "abc", "合计", "12.3.4", "1,23", "12,34.5", "1e5", "(5", "5)", "2023年", "一"],
)
def test_parse_amount_rejects_text_that_is_not_a_figure(not_money):
    assert parse_amount(not_money) is None


def test_parse_amount_unicode_minus_sign():
    assert parse_amount("\u22125") == -5.0
    assert parse_amount("\u22120.80") == -0.8


amounts = st.decimals(
    min_value=Decimal("-1e12"), max_value=Decimal("1e12"), places=2, allow_nan=False
)


@given(amounts)
@example(Decimal("0.00"))
@example(Decimal("-0.01"))
@example(Decimal("999999.99"))
def test_parse_amount_round_trips_formatted_figures(value):
    expected = float(value)
    assert parse_amount(f"{value:.2f}") == expected
    assert parse_amount(f"{value:,.2f}") == expected
    assert parse_amount(to_fullwidth(f"{value:,.2f}")) == expected


@given(st.floats(min_value=-1e9, max_value=1e9, allow_nan=False, allow_infinity=False))
def test_parse_amount_round_trips_formatted_floats(x):
    for printed in (f"{x:.2f}", f"{x:,.2f}", f"{x:,.4f}"):
        assert parse_amount(printed) == float(printed.replace(",", ""))


@given(amounts.filter(lambda d: d > 0))
def test_parentheses_and_minus_are_the_same_negative(value):
    printed = f"{value:,.2f}"
    assert parse_amount(f"({printed})") == -parse_amount(printed)
    assert parse_amount(f"-{printed}") == -parse_amount(printed)


@given(st.integers(min_value=0, max_value=10**12))
def test_integers_with_and_without_separators(n):
    assert parse_amount(f"{n:,}") == parse_amount(str(n)) == float(n)


# --------------------------------------------------------------------------- clean_name


@pytest.mark.parametrize(
    ("printed", "clean"),
    [
        ("一、一般公共服务支出", "一般公共服务支出"),
        ("十二、城乡社区支出", "城乡社区支出"),
        ("1、财政拨款", "财政拨款"),
        ("10、卫生健康支出", "卫生健康支出"),
        ("1. 财政拨款", "财政拨款"),
        ("1、 一般公共预算拨款", "一般公共预算拨款"),
        ("(1)一般公共预算拨款", "一般公共预算拨款"),
        ("（１）工资福利支出", "工资福利支出"),
        ("（一）工资福利支出", "工资福利支出"),
        ("（二十一）其他支出", "其他支出"),
        ("①工资福利支出", "工资福利支出"),
        ("1、(1)工资福利支出", "工资福利支出"),  # stacked prefixes
        ("政府办公厅（室）及相关机构事务", "政府办公厅(室)及相关机构事务"),
        ("３、机关资本性支出（一）", "机关资本性支出(一)"),  # trailing (一) is not numbering
        ("一 般 公 共 服 务 支 出", "一般公共服务支出"),  # justified spacing
        ("因 公 出 国 （ 境 ） 费", "因公出国(境)费"),
        ("事业\n运行", "事业运行"),
        ("机关事业单位基本养老保险\n缴费支出", "机关事业单位基本养老保险缴费支出"),
        ("\u3000行政运行\u3000", "行政运行"),
        ("ＩＴ运维费", "IT运维费"),
        ("Office 365 软件", "Office 365软件"),  # one space kept between Latin words
        ("一般公共服务支出", "一般公共服务支出"),  # 一 followed by 般 is not a number
        ("1.5万元以下设备", "1.5万元以下设备"),  # a decimal is not a numbering prefix
        ("2020年预算数", "2020年预算数"),
        ("", ""),
        (None, ""),
    ],
)
def test_clean_name(printed, clean):
    assert clean_name(printed) == clean


def test_clean_label_keeps_numbering_but_folds_and_squeezes():
    assert clean_label("（一） 工资 福利") == "(一)工资福利"
    assert clean_label("1、 财政拨款") == "1、财政拨款"
    assert clean_label(None) == ""


def test_fold_width():
    assert fold_width("（１）ＡＢＣ：，") == "(1)ABC:,"
    assert fold_width("\u3000") == " "
    assert fold_width("中文不变") == "中文不变"


NAME_CHARS = "一般公共服务支出事业运行社会保障和就业卫生健康行政单位医疗机关养老保险缴费"
PREFIXES = [
    "一、",
    "二、",
    "十一、",
    "1、",
    "2.",
    "12、",
    "(1)",
    "（1）",
    "（一）",
    "(十)",
    "①",
    "⑳",
]
cjk_names = st.text(alphabet=st.sampled_from(NAME_CHARS), min_size=1, max_size=20)
messy = st.text(
    alphabet=st.sampled_from(list("一二十、.．()（）１2３ 　\n,，：:事业运行abcＡ①-")), max_size=24
)


@given(st.sampled_from(PREFIXES), cjk_names)
def test_numbering_prefix_is_removed(prefix, name):
    assert clean_name(prefix + name) == name
    assert clean_name(prefix + " " + name) == name


@given(cjk_names, st.lists(st.sampled_from([" ", "\u3000", "\n", "  "]), max_size=5), st.data())
def test_spaces_inside_chinese_are_removed(name, gaps, data):
    spaced = list(name)
    for gap in gaps:
        spaced.insert(data.draw(st.integers(0, len(spaced))), gap)
    assert clean_name("".join(spaced)) == name


@given(messy)
def test_clean_name_is_idempotent_and_one_line(text):
    once = clean_name(text)
    assert clean_name(once) == once
    assert "\n" not in once
    assert once == once.strip()
    assert not re.search(r"[\uff01-\uff5e\u3000]", once), "full-width ASCII left in a clean name"


# --------------------------------------------------------------------------- codes


@pytest.mark.parametrize(
    ("printed", "expected"),
    [
        ("2010350 事业运行", ("2010350", "事业运行")),
        ("2010350事业运行", ("2010350", "事业运行")),
        ("2010350\n事业运行", ("2010350", "事业运行")),
        ("20103\n政府办公厅(室)\n及相关机构事务", ("20103", "政府办公厅(室)及相关机构事务")),
        ("30101 基本工资", ("30101", "基本工资")),
        ("２０１ 一般公共服务支出", ("201", "一般公共服务支出")),
        ("2010350 1、事业运行", ("2010350", "事业运行")),
        ("201", ("201", "")),
        ("20103 ", ("20103", "")),
        ("事业运行", (None, "事业运行")),
        ("一、 事业 运行", (None, "事业运行")),
        ("合计", (None, "合计")),
        ("2023", (None, "2023")),  # 4 digits: a year, not a code
        ("301011", (None, "301011")),  # 6 digits is not a 3/5/7 digit code
    ],
)
def test_split_code_name(printed, expected):
    assert split_code_name(printed) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("201", True),
        ("20103", True),
        ("2010350", True),
        ("２０１", True),
        (" 30101 ", True),
        ("2010", False),
        ("301011", False),
        ("20103501", False),
        ("", False),
        (None, False),
        ("20a", False),
    ],
)
def test_is_code(text, expected):
    assert is_code(text) is expected


@given(
    st.sampled_from(["201", "20103", "2010350", "301", "30101", "505"]),
    cjk_names,
    st.sampled_from([" ", "", "\n", "  ", "\u3000"]),
)
def test_split_code_name_property(code, name, sep):
    assert split_code_name(code + sep + name) == (code, name)


# --------------------------------------------------------------------------- units


@pytest.mark.parametrize(
    ("text", "unit"),
    [
        ("单位：万元", "万元"),
        ("单位:元", "元"),
        ("金额单位：千元", "千元"),
        ("单位：亿元", "亿元"),
        ("单位 ： 万 元", "万元"),
        ("（单位：万元）", "万元"),
        ("单位：万元  第 1 页", "万元"),
        ("单位：元", "元"),
        ("单位名称：宝鸡市大数据管理中心", None),
        ("万元", None),
        ("单位：美元", None),
        ("", None),
    ],
)
def test_find_money_unit(text, unit):
    assert find_money_unit(text) == unit


@pytest.mark.parametrize(
    ("amount", "unit", "yuan"),
    [
        (363.45, "万元", 3634500.0),
        (0.07, "万元", 700.0),
        (0.2, "万元", 2000.0),
        (-0.8, "万元", -8000.0),
        (12.345, "千元", 12345.0),
        (1234.56, "元", 1234.56),
        (3.0, "亿元", 300000000.0),
        (0.0, "万元", 0.0),
    ],
)
def test_to_yuan(amount, unit, yuan):
    assert to_yuan(amount, unit) == yuan


@given(st.sampled_from(sorted(UNIT_FACTORS)), st.data())
def test_to_yuan_is_exact_to_the_fen(unit, data):
    # figures up to a trillion yuan: beyond that a float cannot hold the fen anyway
    factor = Decimal(str(UNIT_FACTORS[unit]))
    bound = Decimal("1e12") / factor
    value = data.draw(st.decimals(min_value=-bound, max_value=bound, places=2))
    expected = float(value * factor)
    assert to_yuan(float(value), unit) == pytest.approx(expected, abs=0.005)
    assert round(to_yuan(float(value), unit), 2) == to_yuan(float(value), unit)


def test_to_yuan_unknown_unit_raises():
    with pytest.raises(KeyError):
        to_yuan(1.0, "美元")


@given(st.text())
@example("一般\u3000公共")
@example("a\u00a0b")
@example("x\u2028y")
def test_the_space_test_of_squeeze_spaces_is_str_isspace(text: str) -> None:
    """``squeeze_spaces`` skips text without whitespace by a regular expression: it must agree
    with ``str.isspace`` on every character (ideographic, no-break and line separators too)."""
    from budget_disclosures.mappings.text import _ANY_SPACE

    assert (_ANY_SPACE.search(text) is not None) == any(char.isspace() for char in text)
