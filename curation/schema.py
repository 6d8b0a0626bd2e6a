"""One definition per curated dataset: the single source of truth.

The Parquet schema, the data dictionary, the expectation suites and the published data
package are all derived from :data:`DATASETS`.  Names follow the public contract
(``../shared/spec/curated-datasets.md``); columns marked ``extra`` are additions to it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa

_ARROW = {
    "string": pa.string(),
    "int": pa.int64(),
    "float": pa.float64(),
    "bool": pa.bool_(),
}


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # string | int | float | bool
    zh: str
    en: str
    nullable: bool = True
    enum: tuple[str, ...] = ()
    pattern: str | None = None
    unit: str | None = None
    extra: bool = False  # not in the contract: an addition

    @property
    def arrow_type(self) -> pa.DataType:
        return _ARROW[self.type]


@dataclass(frozen=True)
class Dataset:
    name: str
    zh: str
    en: str
    primary_key: tuple[str, ...]
    columns: tuple[Column, ...]
    foreign_keys: tuple[tuple[str, str, str], ...] = field(default_factory=tuple)

    @property
    def arrow_schema(self) -> pa.Schema:
        return pa.schema(
            [pa.field(c.name, c.arrow_type, nullable=c.nullable) for c in self.columns]
        )

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


DOC_ID = Column(
    "doc_id",
    "string",
    "文档标识",
    "first 16 hex digits of the PDF's SHA-256",
    False,
    pattern=r"^[0-9a-f]{16}$",
)
CLASSIFICATIONS = (
    "function",
    "econ_dept",
    "econ_gov",
    "income_source",
    "expense_type",
    "project",
    "three_public",
    "unit",
)

DOCUMENTS = Dataset(
    "documents",
    "文档",
    "one row per PDF",
    ("doc_id",),
    (
        DOC_ID,
        Column(
            "sha256",
            "string",
            "SHA-256 摘要",
            "full hex digest of the PDF",
            False,
            pattern=r"^[0-9a-f]{64}$",
        ),
        Column("source_name", "string", "文件名", "the file's name as received", False),
        Column("unit_name", "string", "单位名称", "budget unit, e.g. 宝鸡市大数据管理中心"),
        Column(
            "unit_code",
            "string",
            "单位编码",
            "unit code when printed, e.g. 621002",
            pattern=r"^\d+$",
        ),
        Column("admin_region", "string", "行政区划", "city or county, e.g. 宝鸡市"),
        Column("fiscal_year", "int", "预算年度", "fiscal year"),
        Column(
            "doc_kind",
            "string",
            "文档类型",
            "budget (预算) or final_account (决算)",
            enum=("budget", "final_account"),
        ),
        Column(
            "template",
            "string",
            "报表模板",
            "table set id from mappings (shaanxi-15, national-9, ...)",
        ),
        Column("pages", "int", "页数", "page count"),
        Column(
            "text_layer",
            "string",
            "文字层",
            "text, scanned or mixed",
            enum=("text", "scanned", "mixed"),
        ),
        Column(
            "status",
            "string",
            "状态",
            "ok, warn (validation warnings) or failed",
            False,
            enum=("ok", "warn", "failed"),
        ),
        Column(
            "pipeline_version",
            "string",
            "流水线版本",
            "version of the code that made the rows",
            False,
        ),
        Column(
            "source_path",
            "string",
            "文件路径",
            "absolute path the file was read from (identifies re-sent files)",
            extra=True,
        ),
        Column(
            "reason",
            "string",
            "状态原因",
            "one-line reason when status is failed or warn (what was seen, what is missing)",
            extra=True,
        ),
        Column(
            "disclosure_id",
            "string",
            "公开标识",
            "one disclosure published as several files (narrative 附件1 + tables 附件2) shares "
            "this id; a single-file disclosure's is its doc_id",
            extra=True,
            pattern=r"^[0-9a-f]{16}$",
        ),
        Column(
            "part",
            "string",
            "组成部分",
            "whole (one file), narrative or tables (one half of a disclosure in two files)",
            extra=True,
            enum=("whole", "narrative", "tables"),
        ),
        Column("n_tables", "int", "表格数", "tables found", extra=True),
        Column("n_line_items", "int", "明细行数", "line items extracted", extra=True),
        Column("ingested_at", "string", "处理时间", "UTC time of ingestion (ISO 8601)", extra=True),
        Column(
            "published",
            "string",
            "发布日期",
            "date the cover prints: 2024-02 or 2018-02-24",
            extra=True,
        ),
        Column(
            "corrections_sha256",
            "string",
            "更正文件摘要",
            "SHA-256 of the corrections file applied (corrections/<sha256>.yaml); empty without "
            "one. A changed file makes the next ingest redo the document",
            extra=True,
            pattern=r"^[0-9a-f]{64}$",
        ),
    ),
)

TABLES = Dataset(
    "tables",
    "表格",
    "one row per table found, including tables published empty",
    ("doc_id", "table_no", "page_first"),
    (
        DOC_ID,
        Column("table_no", "string", "表号", "table number as printed: 5, 3-1", False),
        Column("title", "string", "表名", "title as printed, cleaned"),
        Column("kind", "string", "表类型", "canonical table kind from mappings", False),
        Column("page_first", "int", "起始页", "first page"),
        Column("page_last", "int", "结束页", "last page"),
        Column("n_rows", "int", "行数", "body rows read"),
        Column("is_empty", "bool", "是否空表", "published as an empty form (空表)", False),
        Column("method", "string", "提取方法", "which extractor produced it"),
        Column(
            "unit_printed", "string", "金额单位", "元, 万元 or 千元 as the table states", extra=True
        ),
        Column("n_line_items", "int", "明细行数", "line items from this table", extra=True),
        Column(
            "table_no_printed",
            "string",
            "表号（原样）",
            "the table number as printed (表十二 → 十二, 公开01表 → 01; table_no has it in "
            "digits: 12, 1); null when none is printed (table_no then comes from the template)",
            extra=True,
        ),
    ),
    foreign_keys=(("doc_id", "documents", "doc_id"),),
)

LINE_ITEMS = Dataset(
    "line_items",
    "金额明细",
    "every money figure of every table, long format",
    (),
    (
        DOC_ID,
        Column("fiscal_year", "int", "预算年度", "fiscal year"),
        Column("table_no", "string", "表号", "table number as printed", False),
        Column("kind", "string", "表类型", "canonical table kind", False),
        Column(
            "classification",
            "string",
            "分类",
            "which axis the row belongs to",
            False,
            enum=CLASSIFICATIONS,
        ),
        Column(
            "code",
            "string",
            "科目编码",
            "the row's classification code, digits only",
            pattern=r"^\d+$",
        ),
        Column("name", "string", "科目名称", "the row's item name, cleaned", False),
        Column("level", "int", "科目级次", "1, 2, 3 for 类, 款, 项"),
        Column(
            "parent_code", "string", "上级科目编码", "code of the level above", pattern=r"^\d+$"
        ),
        Column(
            "alt_code",
            "string",
            "政府经济分类编码",
            "second code on the row (政府预算经济分类)",
            pattern=r"^\d+$",
        ),
        Column("alt_name", "string", "政府经济分类名称", "its name"),
        Column(
            "measure", "string", "指标", "canonical column id (total, basic, project, ...)", False
        ),
        Column("amount_yuan", "float", "金额（元）", "the figure in yuan", False, unit="元"),
        Column("amount_printed", "string", "原文金额", "the figure as printed", False),
        Column(
            "unit_printed",
            "string",
            "原文单位",
            "元, 万元 or 千元 as the table states",
            False,
            enum=("元", "万元", "千元", "亿元"),
        ),
        Column("page", "int", "页码", "page the row was read from", False),
        Column(
            "column",
            "string",
            "表头路径",
            "header path above the figure, e.g. 基本支出/人员经费",
            extra=True,
        ),
        Column("row_label", "string", "行标签", "the row label as printed", extra=True),
        Column(
            "confidence",
            "float",
            "识别置信度",
            "OCR confidence of the figure (0-1, lowest of its characters); empty when read from the PDF's text layer",
            extra=True,
        ),
        Column(
            "placement",
            "string",
            "定位方式",
            "how the figure's cell was placed: ruled (by the rules drawn on the page), aligned "
            "(rebuilt from the alignment of the text, the table has no rules there), or the "
            "fallback reader that read the table (camelot-lattice, camelot-stream); OCR'd "
            "figures also carry a confidence",
            extra=True,
        ),
        Column(
            "corrected",
            "bool",
            "是否更正",
            "a reviewer's correction changed this row (corrections/<sha256>.yaml); empty when not",
            extra=True,
        ),
        Column(
            "corrected_from",
            "string",
            "更正前",
            "what the row read before its correction, e.g. amount_printed=6.00, label=2010301 "
            "行政运衍, measure=total or kind=…",
            extra=True,
        ),
    ),
    foreign_keys=(("doc_id", "documents", "doc_id"),),
)

PERFORMANCE_TARGETS = Dataset(
    "performance_targets",
    "绩效目标",
    "the indicators of the 绩效目标 tables, one row per indicator",
    (),
    (
        DOC_ID,
        Column("table_no", "string", "表号", "table number as printed", False),
        Column(
            "scope",
            "string",
            "范围",
            "project (专项业务), unit (整体支出) or special_fund (专项资金)",
            False,
        ),
        Column("project_name", "string", "项目名称", "project, or the unit for 整体支出 targets"),
        Column(
            "level1", "string", "一级指标", "first-level indicator (产出指标, 效益指标, 满意度指标)"
        ),
        Column("level2", "string", "二级指标", "second-level indicator (数量指标, 质量指标, ...)"),
        Column(
            "indicator", "string", "指标内容", "the indicator, without its 指标1： prefix", False
        ),
        Column("target", "string", "指标值", "the target value as printed"),
        Column("page", "int", "页码", "page the row was read from", extra=True),
    ),
    foreign_keys=(("doc_id", "documents", "doc_id"),),
)

VALIDATIONS = Dataset(
    "validations",
    "校验结果",
    "one row per check per document: the validation findings",
    ("doc_id", "check"),
    (
        DOC_ID,
        Column(
            "check",
            "string",
            "校验项",
            "check id, e.g. arith.children_sum (catalogue: validation/checks.py)",
            False,
        ),
        Column(
            "severity",
            "string",
            "严重程度",
            "error (the document fails) or warn",
            False,
            enum=("error", "warn"),
        ),
        Column("success", "bool", "是否通过", "the check passed", False),
        Column("observed", "string", "实际值", "observed value of the worst failing instance"),
        Column("expected", "string", "期望值", "expected value of the worst failing instance"),
        Column("table_no", "string", "表号", "table of the worst failing instance"),
        Column("detail", "string", "说明", "what failed, where, and how many instances"),
        Column(
            "n_failed",
            "int",
            "未通过数",
            "failing instances of the check in the document",
            extra=True,
        ),
        Column(
            "accepted",
            "bool",
            "已接受",
            "a reviewer accepted this finding as the publisher's own inconsistency: it stays "
            "visible but does not fail the document; empty when not",
            extra=True,
        ),
        Column("accepted_reason", "string", "接受理由", "the reviewer's reason", extra=True),
    ),
    foreign_keys=(("doc_id", "documents", "doc_id"),),
)

SECTIONS = Dataset(
    "sections",
    "说明章节",
    "the narrative, one row per numbered section, page breaks and broken lines repaired",
    ("doc_id", "section_id"),
    (
        DOC_ID,
        Column(
            "section_no",
            "string",
            "章节编号",
            "the section's number as printed, without punctuation: 一, 十一; null for a part's text before its first numbered section",
        ),
        Column(
            "heading",
            "string",
            "章节标题",
            "the heading without its number (the part or page title for a part's own text)",
        ),
        Column(
            "text",
            "string",
            "正文",
            "the section's text: lines and pages joined, page numbers, running headers and tables removed, no line breaks",
            False,
        ),
        Column("page_first", "int", "起始页", "first page"),
        Column("page_last", "int", "结束页", "last page"),
        Column(
            "part",
            "string",
            "部分",
            "the part as printed: 第一部分 (null when the document has no parts)",
            extra=True,
        ),
        Column(
            "part_title",
            "string",
            "部分标题",
            "the part's title (单位概况), or the page title the section sits under",
            extra=True,
        ),
        Column(
            "section_id",
            "string",
            "章节标识",
            "id following the heading hierarchy, unique in the document: 第二部分/三",
            False,
            extra=True,
        ),
        Column("seq", "int", "顺序", "order in the document, from 1", False, extra=True),
    ),
    foreign_keys=(("doc_id", "documents", "doc_id"),),
)

FACTS = Dataset(
    "facts",
    "说明中的数字",
    "figures the narrative states, one row per fact (per line for item facts)",
    (),
    (
        DOC_ID,
        Column(
            "fact",
            "string",
            "事实",
            "fact id from mappings/facts.yml: staff_quota, budget_total, three_public_total, ...",
            False,
        ),
        Column(
            "value",
            "float",
            "数值",
            "the figure as stated; a change is signed (减少 is negative)",
            False,
        ),
        Column(
            "unit",
            "string",
            "单位",
            "元, 万元, 千元 or 亿元 for money; 人, 辆, 台（套）, 个 or % otherwise",
        ),
        Column(
            "sentence",
            "string",
            "原文",
            "the paragraph stating it (the sentences around it when long), cleaned",
            False,
        ),
        Column("page", "int", "页码", "page the figure was printed on"),
        Column(
            "family",
            "string",
            "类别",
            "group of facts: staff, budget, three_public, meeting_training, ...",
            False,
            extra=True,
        ),
        Column("value_yuan", "float", "金额（元）", "a money fact in yuan", unit="元", extra=True),
        Column(
            "item", "string", "科目名称", "item facts: the line explained (行政运行)", extra=True
        ),
        Column(
            "code",
            "string",
            "科目编码",
            "item facts: its classification code when printed",
            pattern=r"^\d+$",
            extra=True,
        ),
    ),
    foreign_keys=(("doc_id", "documents", "doc_id"),),
)

CORRECTIONS = Dataset(
    "corrections",
    "更正记录",
    "the corrections log: one row per entry of a document's corrections file, with what it did",
    ("doc_id", "entry"),
    (
        DOC_ID,
        Column("sha256", "string", "文件摘要", "SHA-256 of the PDF the file corrects", False),
        Column("entry", "int", "条目", "the entry's position in the file (from 1)", False),
        Column(
            "fix",
            "string",
            "更正类型",
            "cell (a figure), label (a name or code), table (a table's kind or pages), column "
            "(the measure of a header column), accept (a finding accepted as the publisher's "
            "own inconsistency)",
            False,
            enum=("cell", "label", "table", "column", "accept"),
        ),
        Column("table_no", "string", "表号", "the table it concerns"),
        Column("row", "string", "行", "the row it matches: code … or row …"),
        Column("measure", "string", "度量", "the figure's measure (cell fixes)"),
        Column("check", "string", "校验项", "the finding's check id (accept entries)"),
        Column(
            "status",
            "string",
            "结果",
            "applied, accepted, or unmatched (it matches nothing any more: reported in the "
            "document's reason)",
            False,
            enum=("applied", "accepted", "unmatched"),
        ),
        Column("value_before", "string", "更正前", "what was read (or the finding accepted)"),
        Column("value_after", "string", "更正后", "the value the correction set"),
        Column("n_rows", "int", "影响行数", "rows (or findings) it changed", False),
        Column("reason", "string", "理由", "the reviewer's reason", False),
        Column("by", "string", "更正人", "who decided", False),
        Column("at", "string", "日期", "when (ISO date)", False),
    ),
    foreign_keys=(("doc_id", "documents", "doc_id"),),
)

DATASETS: dict[str, Dataset] = {
    d.name: d
    for d in (
        DOCUMENTS,
        TABLES,
        LINE_ITEMS,
        PERFORMANCE_TARGETS,
        VALIDATIONS,
        SECTIONS,
        FACTS,
        CORRECTIONS,
    )
}
