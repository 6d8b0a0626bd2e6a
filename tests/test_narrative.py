"""Narrative text: sections repaired from broken PDF lines, stated figures, cross-checks.

The sample (``raw/samples``) always runs; the dev corpus (truth files) and the real corpus
(``../shared/corpus/real``) run when ``../shared`` is there.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from budget_disclosures.extractors.base import PageContent, TextLine
from budget_disclosures.flows.pipeline import build_rows
from budget_disclosures.mappings.narrative_facts import (
    default_fact_patterns,
    extract_facts,
    load_fact_patterns,
)
from budget_disclosures.mappings.narrative_lines import _ocr_punctuation as ocr_punctuation
from budget_disclosures.mappings.narrative_lines import clean_text, join_text
from budget_disclosures.mappings.narrative_paragraphs import NarrativePage, read_paragraphs
from budget_disclosures.validation.fact_checks import cross_check_totals
from conftest import DEV_CORPUS, SHARED

REAL_CORPUS = SHARED / "corpus" / "real"
CJK = "\u4e00-\u9fff"
# A space between Chinese characters is only ever printed after a sub-heading that carries
# no punctuation (``1、…情况 本单位…``); a sentence broken by a bad line join would leave one
# inside a sentence, after a comma.
_CJK_SPACE = re.compile(rf"(?<=[{CJK}%）)])\s(?=[{CJK}（(])")
_SENTENCE_END = re.compile(r"[。；！？：:）…]")
_PAGE_MARKS = re.compile(r"第\s*\d+\s*页|[-—─]\s*\d{1,3}\s*[-—─]")


def assert_clean(section: dict) -> None:
    """No line break, no page number, no break inside a sentence."""
    text = section["text"]
    where = f"{section['section_id']}: {text[:60]}"
    assert "\n" not in text and "\r" not in text, where
    assert not _PAGE_MARKS.search(text), where
    for match in _CJK_SPACE.finditer(text):
        starts = [m.end() for m in _SENTENCE_END.finditer(text, 0, match.start())]
        start = max(starts[-1] if starts else 0, text.rfind(" ", 0, match.start()) + 1)
        segment = text[start : match.start()]  # since the last sentence end or paragraph
        assert "，" not in segment and len(segment) <= 60, (
            f"{where}: a sentence broken at …{text[max(0, match.start() - 20) : match.end() + 10]}…"
        )


# --------------------------------------------------------------------------- text helpers


def test_joins_chinese_without_space_and_latin_words_with_one():
    assert join_text("本单位预算收入", "363.45万元") == "本单位预算收入363.45万元"
    assert join_text("按照综合预算", "的原则") == "按照综合预算的原则"
    assert join_text("the budget", "disclosure") == "the budget disclosure"
    assert join_text("12345市民热线APP", "使用") == "12345市民热线APP使用"
    assert join_text("infor-", "mation") == "information"


def test_clean_text_drops_layout_spaces_only():
    assert (
        clean_text("本单位 2024 年预算收入 244.15 万元，其中")
        == "本单位2024年预算收入244.15万元，其中"
    )
    assert clean_text("( 1) 事业运行( 2010350 )276.63 万元") == "(1)事业运行(2010350)276.63万元"
    assert clean_text("Open  Data  portal") == "Open Data portal"


def test_ocr_punctuation_is_full_width_next_to_chinese():
    assert (
        ocr_punctuation("因公出国(境)经费0.00万元;公务接待费")
        == "因公出国（境）经费0.00万元；公务接待费"
    )
    assert ocr_punctuation("行政运行(2040601)73.18万元") == "行政运行（2040601）73.18万元"
    assert ocr_punctuation("1.5, 2.0 and (a)") == "1.5, 2.0 and (a)"


def _page(
    number: int, lines: list[tuple[str, float, float, float]], width=595.0, height=842.0
) -> NarrativePage:
    """A page of (text, x0, x1, top) lines in a 14 pt body font."""
    return NarrativePage(
        number,
        width,
        height,
        [TextLine(t, x0, x1, top, top + 14, 14.0) for t, x0, x1, top in lines],
    )


def test_paragraph_crossing_a_page_with_page_numbers_and_running_header_is_joined():
    header = ("某某单位2024年单位预算公开", 200.0, 395.0, 40.0)
    pages = [
        _page(
            1,
            [
                header,
                ("一、单位概况", 102.0, 190.0, 100.0),
                ("本单位共有车辆2辆，单价20万元以上的设备9台（套）。当年部门", 104.7, 524.4, 130.0),
                ("预算安排购置车辆0辆；安排购置单价20万以上的设", 76.7, 524.3, 160.0),
                ("1", 292.0, 298.0, 800.0),
            ],
        ),
        _page(
            2,
            [
                header,
                ("备0台（套）。", 76.7, 170.0, 100.0),
                ("二、其他", 102.0, 160.0, 130.0),
                ("本单位无政府性基金预算收支。", 104.7, 390.0, 160.0),
                ("2", 292.0, 298.0, 800.0),
            ],
        ),
        _page(
            3,
            [
                header,
                ("本单位当年无政府采购预算，并已公开空表。", 104.7, 390.0, 100.0),
                ("3", 292.0, 298.0, 800.0),
            ],
        ),
    ]
    paragraphs = read_paragraphs(pages)
    texts = [p.text for p in paragraphs]
    assert (
        "本单位共有车辆2辆，单价20万元以上的设备9台（套）。当年部门预算安排购置车辆0辆；安排购置单价20万以上的设备0台（套）。"
        in texts
    )
    assert not any("某某单位" in t or t in {"1", "2", "3"} for t in texts)
    assert [p.kind for p in paragraphs] == ["level1", "body", "level1", "body", "body"]
    crossing = paragraphs[1]
    assert crossing.pages == [1, 2] and crossing.page_at(len(crossing.text) - 2) == 2


# --------------------------------------------------------------------------- rules


def test_fact_rules_load_and_every_rule_says_what_it_reads():
    patterns = default_fact_patterns()
    assert patterns.rules and all(c.rule.note for c in patterns.rules)
    families = {d.family for d in patterns.vocabulary.facts.values()}
    assert {
        "staff",
        "budget",
        "three_public",
        "meeting_training",
        "assets",
        "procurement",
        "function_items",
    } <= families


def test_a_rule_naming_an_unknown_fact_fails_loudly(tmp_path):
    text = (Path(__file__).resolve().parents[1] / "mappings" / "facts.yml").read_text(
        encoding="utf-8"
    )
    broken = tmp_path / "facts.yml"
    broken.write_text(
        text.replace("{count:staff_quota}", "{count:staff_quotaa}", 1), encoding="utf-8"
    )
    with pytest.raises(ValueError, match="staff_quotaa"):
        load_fact_patterns(str(broken))


def test_facts_from_paragraphs_sign_changes_and_keep_units():
    def paragraph(text: str):
        return read_paragraphs([_page(1, [(text, 104.7, 400.0, 100.0)])])[0]

    facts = extract_facts(
        "d",
        [
            paragraph("本单位当年一般公共预算“三公”经费预算支出5.06万元，较上年减少1.93万元。"),
            paragraph(
                "截止上年底，本单位人员编制7人，其中行政编制7人；实有人员6人。单位管理的离退休人员0人。"
            ),
            paragraph("本单位当年无政府采购预算，并已公开空表。"),
            paragraph(
                "1、公共安全支出（204类）司法（06款）行政运行（01项）1672.67万元。主要用于：行政单位的基本支出。2025年当年预算执行数为1690.69万元，2026年预算安排1672.67万元，比2025年预算执行数减少1.07%。"
            ),
        ],
    )
    got = {(f["fact"], f.get("code")): (f["value"], f["unit"], f["value_yuan"]) for f in facts}
    assert got[("three_public_total", None)] == (5.06, "万元", 50600.0)
    assert got[("three_public_change", None)] == (-1.93, "万元", -19300.0)
    assert got[("staff_quota", None)] == (7.0, "人", None)
    assert got[("staff_actual", None)] == (6.0, "人", None)
    assert got[("retirees", None)] == (0.0, "人", None)
    assert got[("gov_procurement_total", None)][0] == 0.0
    assert got[("function_amount", "2040601")] == (1672.67, "万元", 16726700.0)
    assert got[("function_prior", "2040601")] == (1690.69, "万元", 16906900.0)
    assert got[("function_change_pct", "2040601")] == (-1.07, "%", None)


# --------------------------------------------------------------------------- the sample (always runs)


@pytest.fixture(scope="module")
def sample_rows(sample_pdf):
    rows, _summary = build_rows(sample_pdf, "f" * 16, "f" * 64)
    return rows


def test_sample_sections_follow_the_heading_hierarchy(sample_rows):
    ids = [s["section_id"] for s in sample_rows["sections"]]
    assert ids == ["第一部分/一", "第一部分/二", "第一部分/三"] + [
        f"第二部分/{n}"
        for n in ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一"]
    ]
    by_id = {s["section_id"]: s for s in sample_rows["sections"]}
    assert (
        by_id["第二部分/六"]["heading"] == "一般公共预算“三公”经费及会议费、培训费支出预算情况说明"
    )
    assert by_id["第一部分/一"]["part_title"] == "单位概况"
    assert (by_id["第一部分/一"]["page_first"], by_id["第一部分/一"]["page_last"]) == (2, 3)


def test_sample_section_text_is_repaired(sample_rows):
    by_id = {s["section_id"]: s for s in sample_rows["sections"]}
    for section in sample_rows["sections"]:
        assert_clean(section)
    duties = by_id["第一部分/一"]["text"]
    # a line broken at "绩" / "效测评" in the PDF, an item broken over three lines
    assert (
        "（一）负责市政府门户网站的建设、管理、维护和全市政府网站的日常监测、绩效测评工作；"
        in duties
    )
    assert (
        "负责全市电子政务外网、市行政中心网络运行维护及网络安全技术支持与服务工作；（三）" in duties
    )
    assert by_id["第一部分/三"]["text"] == (
        "截止上年底，本单位人员编制30人，其中行政编制0人，事业编制30人；实有人员30人，"
        "其中行政0人，事业30人，单位管理的退休人员5人。"
    )


def test_sample_embedded_table_is_not_text(sample_rows):
    text = "".join(s["text"] for s in sample_rows["sections"])
    assert "会议费培训费明细" not in text and "专业技术人员继续教育业务培训" not in text
    assert "13人" not in text


def test_sample_facts(sample_rows):
    facts = {(f["fact"], f["code"]): f for f in sample_rows["facts"]}
    expected = {
        "staff_quota": (30, "人"),
        "staff_actual": (30, "人"),
        "retirees": (5, "人"),
        "budget_total": (363.45, "万元"),
        "budget_total_change": (106.46, "万元"),
        "gpb_total": (363.45, "万元"),
        "three_public_total": (0.2, "万元"),
        "three_public_change": (-0.6, "万元"),
        "meeting_fee": (0.0, "万元"),
        "training_fee": (0.2, "万元"),
        "training_fee_change": (-0.4, "万元"),
        "vehicles": (0, "辆"),
        "public_funds": (12.5, "万元"),
        "gov_procurement_total": (0.0, "万元"),
    }
    for fact, (value, unit) in expected.items():
        assert (facts[(fact, None)]["value"], facts[(fact, None)]["unit"]) == (value, unit), fact
    assert facts[("budget_total", None)]["value_yuan"] == 3634500.0
    assert facts[("function_amount", "2010350")]["item"] == "事业运行"
    assert facts[("function_amount", "2010350")]["value"] == 276.63
    assert facts[("staff_quota", None)]["sentence"].startswith("截止上年底，本单位人员编制30人")
    assert all(f["page"] in range(2, 8) for f in sample_rows["facts"])


def test_sample_metadata_from_the_cover(sample_rows):
    document = sample_rows["documents"][0]
    assert document["published"] == "2023-02"
    assert document["unit_name"] == "宝鸡市大数据管理中心"


def test_sample_stated_totals_agree_with_the_tables(sample_rows):
    findings = cross_check_totals(sample_rows["facts"], sample_rows["line_items"])
    by_check = {f["check"]: f for f in findings if not f["code"]}
    assert by_check["narrative.budget_total"]["success"], by_check["narrative.budget_total"]
    assert by_check["narrative.gpb_total"]["success"]
    # the seed's own inconsistency (raw/samples/README.md): the narrative says “三公”经费 0.2万元,
    # the 三公 table's 合计 is 0.00 (the 0.20 is 培训费, not a 三公 item)
    three_public = by_check["narrative.three_public_total"]
    assert not three_public["success"] and (three_public["observed"], three_public["expected"]) == (
        "0.2 万元",
        "0.00 万元",
    )
    assert three_public["table_no"] == "12"
    assert {f["check"] for f in findings} >= {"narrative.function_amount", "narrative.training_fee"}
    for finding in findings:
        assert {
            "check",
            "severity",
            "success",
            "observed",
            "expected",
            "table_no",
            "detail",
        } <= set(finding)


def test_a_stated_total_that_differs_is_a_finding():
    facts = [{"fact": "budget_total", "value": 363.45, "unit": "万元", "page": 4, "code": None}]
    items = [
        {
            "kind": "budget_summary",
            "classification": "income_source",
            "name": "总计",
            "measure": "amount",
            "amount_yuan": 3634400.0,
            "table_no": "1",
        }
    ]
    (finding,) = cross_check_totals(facts, items)
    assert (
        not finding["success"]
        and finding["observed"] == "363.45 万元"
        and finding["expected"] == "363.44 万元"
    )
    items[0]["amount_yuan"] = 3634520.0  # within half a unit of the last printed digit
    assert cross_check_totals(facts, items)[0]["success"]


def test_a_stated_figure_keeps_its_digits():
    facts = [{"fact": "budget_total", "value": 123456.78, "unit": "万元", "page": 2, "code": None}]
    items = [
        {
            "kind": "budget_summary",
            "classification": "income_source",
            "name": "总计",
            "measure": "amount",
            "amount_yuan": 1234567800.0,
            "table_no": "1",
        }
    ]
    (finding,) = cross_check_totals(facts, items)
    assert finding["success"] and finding["observed"] == finding["expected"] == "123456.78 万元"


def test_readers_give_the_same_narrative(sample_pdf, sample_rows):
    reference, _ = build_rows(sample_pdf, "f" * 16, "f" * 64, reader="pdfplumber")
    assert reference["sections"] == sample_rows["sections"]
    assert reference["facts"] == sample_rows["facts"]


# --------------------------------------------------------------------------- dev corpus (truth)


@pytest.mark.corpus
@pytest.mark.parametrize("corpus_id", ["dev-1-0001", "dev-1-0007", "dev-1-0036", "dev-1-0038"])
def test_dev_facts_and_sections_match_truth(corpus_id):
    path = DEV_CORPUS / f"{corpus_id}.pdf"
    truth = json.loads((DEV_CORPUS / f"{corpus_id}.truth.json").read_text(encoding="utf-8"))
    rows, _ = build_rows(path, "0" * 16, "0" * 64)
    facts = {f["fact"]: f for f in rows["facts"] if not f["code"]}
    for fact in truth["facts"]:
        got = facts[fact["fact"]]
        assert (got["value"], got["unit"]) == (fact["value"], fact["unit"]), fact["fact"]
    sections = {(s["part"], s["section_no"]): s for s in rows["sections"]}
    for section in truth["sections"]:
        got = sections[(section["part"], section["section_no"])]
        assert got["heading"] == section["heading"]
        assert re.sub(r"\s", "", got["text"]) == re.sub(r"\s", "", section["text"])
        assert_clean(got)


# --------------------------------------------------------------------------- real corpus


REAL_PAGES = 30  # the narrative comes first; the long tables after it are not needed here


def _real_narrative(path: Path):
    """Sections and facts of a real PDF from its first pages (grids found as the pipeline does)."""
    from budget_disclosures.extractors.grid import RuledGridExtractor
    from budget_disclosures.extractors.pdfium_pages import iter_pdfium_pages, open_pdfium
    from budget_disclosures.mappings.narrative import read_narrative
    from budget_disclosures.mappings.narrative_lines import narrative_page_lines

    extractor = RuledGridExtractor("pdfium-grid")
    pdf = open_pdfium(path)
    pages: list[PageContent] = []
    try:
        for page in iter_pdfium_pages(pdf):
            if page.number > REAL_PAGES:
                break
            grids = extractor.extract(str(path), page) if page.rules else []
            pages.append(
                PageContent(
                    page.number,
                    page.width,
                    page.height,
                    [],
                    [],
                    narrative_page_lines(page, grids),
                    page.text_layer,
                )
            )
    finally:
        pdf.close()
    return read_narrative(path.stem, pages), pages


def _real_pdfs() -> list[Path]:
    return sorted(REAL_CORPUS.glob("*.pdf")) if REAL_CORPUS.is_dir() else []


@pytest.mark.skipif(not REAL_CORPUS.is_dir(), reason=f"real corpus not found at {REAL_CORPUS}")
@pytest.mark.parametrize("path", _real_pdfs(), ids=lambda p: p.stem)
def test_real_sections_have_no_page_numbers_or_broken_sentences(path):
    narrative, pages = _real_narrative(path)
    for section in narrative.sections:
        assert_clean(section)
    # every page number printed at a page's foot is gone from the text it interrupted
    for page, following in zip(pages, pages[1:]):
        numbers = [
            line
            for line in page.lines
            if re.fullmatch(r"[-—─]?\s*\d{1,3}\s*[-—─]?", line.text.strip())
        ]
        body = [line for line in page.lines if line not in numbers]
        if not numbers or not body or not following.lines:
            continue
        tail, head = clean_text(body[-1].text)[-4:], clean_text(following.lines[0].text)[:4]
        for number in numbers:
            junction = tail + re.sub(r"\D", "", number.text) + head
            assert not any(junction in s["text"] for s in narrative.sections), junction


@pytest.mark.skipif(not REAL_CORPUS.is_dir(), reason=f"real corpus not found at {REAL_CORPUS}")
def test_real_shanghai_function_explanations_and_glitch_duplicates():
    narrative, _ = _real_narrative(REAL_CORPUS / "shanghai_putuo_justice_2026_dept_budget.pdf")
    items = {(f["fact"], f["code"]): f["value"] for f in narrative.facts if f["code"]}
    assert items[("function_amount", "2040601")] == 1672.67
    assert items[("function_prior", "2040601")] == 1690.69
    assert items[("function_change_pct", "2040601")] == -1.07
    duties = next(s for s in narrative.sections if s["heading"] == "上海市普陀区司法局主要职能")
    assert (
        duties["text"].count("（十）完成区委、区政府交办的其他任务。") == 1
    )  # page 5 repeats page 4
