"""Table numbers printed in Chinese numerals or zero-padded (表十二, 公开01表) → table_no digits.

The ``number_style`` of a template (``jiangsu-12``: ``numerals: chinese``) makes the table_no
the digits the other templates give (``12``, ``1``); the number as printed is kept in
``tables.table_no_printed``. Parser properties run with Hypothesis; the real Jiangsu files
run from the fixture copy or ``../shared/corpus/real``.
"""

from __future__ import annotations

from pathlib import Path

import pydantic
import pytest
import yaml
from budget_disclosures.mappings.identify import identify_tables, printed_number, table_number
from budget_disclosures.mappings.loader import TEMPLATES_DIR, default_templates
from budget_disclosures.mappings.models import NumberStyle, Template
from budget_disclosures.mappings.text import chinese_number
from conftest import REPO_ROOT, SHARED, page_tables
from hypothesis import given
from hypothesis import strategies as st

DIGITS = "一二三四五六七八九"
REAL_FILES = (REPO_ROOT / "tests" / "fixtures" / "real", SHARED / "corpus" / "real")


def written(n: int) -> str:
    """How a number from 1 to 99 is written in Chinese (an independent reference: 十二, 二十一)."""
    tens, ones = divmod(n, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else DIGITS[tens - 1] + "十")
    return head + (DIGITS[ones - 1] if ones else "")


VALID = {written(n): n for n in range(1, 100)} | {
    "一" + written(n): n for n in range(10, 20)
}  # 一十二: the formal way of writing 12


def _style() -> NumberStyle:
    return NumberStyle(numerals="chinese", note="test")


# --------------------------------------------------------------------------- the parser


@given(st.integers(min_value=1, max_value=99))
def test_chinese_number_reads_every_number_to_99(n):
    assert chinese_number(written(n)) == n


@pytest.mark.parametrize(
    ("text", "value"),
    [("一", 1), ("九", 9), ("十", 10), ("十一", 11), ("十二", 12), ("十三", 13), ("二十", 20),
     ("二十一", 21), ("一十二", 12), ("九十九", 99)],
)  # fmt: skip
def test_chinese_number_examples(text, value):
    assert chinese_number(text) == value


@given(st.text(alphabet="一二三四五六七八九十百零〇", min_size=0, max_size=4))
def test_chinese_number_accepts_exactly_the_written_forms(text):
    """Any string of numeral characters either is a written number or raises: never a guess."""
    if text in VALID:
        assert chinese_number(text) == VALID[text]
    else:
        with pytest.raises(ValueError):
            chinese_number(text)


@given(st.integers(min_value=1, max_value=99), st.sampled_from(["chinese", "padded", "plain"]))
def test_number_style_gives_plain_digits(n, form):
    printed = {"chinese": written(n), "padded": f"{n:02d}", "plain": str(n)}[form]
    assert _style().table_no(printed) == str(n)


def test_number_style_keeps_sub_numbers():
    assert _style().table_no("3-1") == "3-1"
    assert _style().table_no("三-1") == "3-1"
    assert _style().table_no("03-01") == "3-1"


# --------------------------------------------------------------------------- the rule model


def _jiangsu_raw() -> dict:
    return yaml.safe_load((TEMPLATES_DIR / "jiangsu-12.yml").read_text(encoding="utf-8"))


def test_jiangsu_template_declares_chinese_numbers():
    template = next(t for t in default_templates() if t.id == "jiangsu-12")
    assert template.number_style is not None and template.number_style.numerals == "chinese"
    assert template.number_style.note
    assert [t.table_no for t in template.tables] == [str(n) for n in range(1, 13)]
    assert table_number("十二", template) == "12"
    assert printed_number("公开表十二", template) == "十二"
    assert printed_number("公开01表：收支预算总表", template) == "01"


def test_templates_without_a_style_keep_numbers_as_printed():
    template = next(t for t in default_templates() if t.id == "shaanxi-15")
    assert template.number_style is None
    assert table_number("05", template) == "05"


@pytest.mark.parametrize(
    ("style", "message"),
    [
        ({"numerals": "chinese"}, "note"),  # every rule says what it repairs
        ({"numerals": "roman", "note": "x"}, "numerals"),
        ({"numerals": "chinese", "note": "x", "pad": 2}, "pad"),  # unknown key
    ],
)
def test_number_style_is_validated(style, message):
    raw = _jiangsu_raw() | {"number_style": style}
    with pytest.raises(pydantic.ValidationError, match=message):
        Template.model_validate(raw)


def test_table_no_out_of_style_fails_loading():
    """A template table_no the style can never produce (``01`` under chinese) is a typo."""
    raw = _jiangsu_raw()
    raw["tables"][0] = raw["tables"][0] | {"table_no": "01"}
    with pytest.raises(pydantic.ValidationError, match="write '1'"):
        Template.model_validate(raw)


# --------------------------------------------------------------------------- real Jiangsu files


def _real(name: str) -> Path:
    for folder in REAL_FILES:
        if (folder / name).exists():
            return folder / name
    pytest.skip(f"{name} is in neither of {[str(f) for f in REAL_FILES]}")


@pytest.mark.parametrize(
    ("name", "printed"),
    [
        # 公开表一 … 公开表十二, 2018- order
        ("jiangsu_npc_office_2019_dept_budget_tables.pdf", [written(n) for n in range(1, 13)]),
        # 公开01表 … 公开12表
        ("jiangsu_cppcc_office_2018_dept_budget_tables.pdf", [f"{n:02d}" for n in range(1, 13)]),
    ],
)
def test_real_jiangsu_numbers_become_digits(name, printed):
    template = next(t for t in default_templates() if t.id == "jiangsu-12")
    tables, _ = identify_tables(page_tables(_real(name)), template)
    assert [t.number_printed for t in tables] == printed
    assert [t.table_no for t in tables] == [str(n) for n in range(1, 13)]
    # the 2018- order is the template's: each number is the table its title says
    assert [t.kind for t in tables] == [template.table(t.table_no).kind for t in tables]


def test_real_jiangsu_2017_keeps_its_printed_order():
    """2017 sets print 政府性基金 as 表七: table_no is the printed number, the kind its title."""
    template = next(t for t in default_templates() if t.id == "jiangsu-12")
    name = "jiangsu_cppcc_office_2017_dept_budget_tables.pdf"
    tables, _ = identify_tables(page_tables(_real(name)), template)
    by_no = {t.table_no: t for t in tables}
    assert sorted(by_no, key=int) == [str(n) for n in range(1, 13)]
    assert (by_no["7"].number_printed, by_no["7"].kind) == ("七", "gov_fund_expenditure")
    assert (by_no["12"].number_printed, by_no["12"].kind) == ("十二", "gov_procurement")


def test_unreadable_number_stays_as_printed():
    """A heading the pattern accepts but no numeral grammar reads is kept, not guessed."""
    template = next(t for t in default_templates() if t.id == "jiangsu-12")
    assert printed_number("表十十", template) == "十十"
    assert table_number("十十", template) == "十十"
