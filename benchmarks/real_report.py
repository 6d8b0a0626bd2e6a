"""What the pipeline found in documents that have no truth file (the real corpus).

For each document of a curated folder: its template, the tables found (table_no, kind, pages,
line items, empty form or not), how many tables the document lists (its catalogue / 目录
when ``--corpus`` lets us re-read the PDF, else the template's table list), which of the
template's required tables are missing, and arithmetic checks on the line items:

- ``coded``: in 功能/经济分类 tables, children sum to their parent and 类 rows sum to 合计,
  per measure;
- ``row``: across a row, ``total`` = ``basic`` + ``project`` (or 人员经费 + 公用经费, or the
  income sources) when those columns are printed;
- ``totals``: in 收支总表, 收入总计 = 支出总计 (per measure printed on both sides);
- ``three_public``: 合计 = 因公出国(境)费 + 公务接待费 + 公务用车购置及运行维护费, and
  公务用车 = 购置费 + 运行维护费.

CLI::

    python -m benchmarks.real_report --curated DIR [--corpus DIR] [--failures N]
"""

from __future__ import annotations

import argparse
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

TOLERANCE_YUAN = 1.0  # printed figures are rounded to 0.01 万元 at worst per term
INCOME_MEASURES = (
    "fiscal",
    "gpb",
    "gov_fund",
    "state_capital",
    "business_income",
    "operating_income",
    "upper_grant",
    "subsidiary_income",
    "other_income",
    "carryover",
    "reserve_fund",
    "prior_balance",
)
CAR = "公务用车购置及运行维护费"


@dataclass
class Failure:
    check: str
    table_no: str
    detail: str


@dataclass
class DocReport:
    doc_id: str
    source: str
    template: str | None
    tables: pd.DataFrame
    listed: int | None
    listed_from: str
    missing: list[str] = field(default_factory=list)
    checks: int = 0
    failures: list[Failure] = field(default_factory=list)


def _read(curated: Path, name: str) -> pd.DataFrame:
    folder = curated / name
    if not folder.exists() or not any(folder.rglob("*.parquet")):
        return pd.DataFrame()
    return pd.read_parquet(folder)


def _close(a: float, b: float, n_terms: int, unit: str) -> bool:
    # 万元 tables round each term to 0.01 万元 = 100 元
    step = 100.0 if unit == "万元" else 1.0
    return abs(a - b) <= step * max(1, n_terms) * 0.5 + 0.01


def check_coded(items: pd.DataFrame, table_no: str) -> tuple[int, list[Failure]]:
    """Children sum to parents, 类 rows sum to 合计 (per measure)."""
    n, failures = 0, []
    unit = items["unit_printed"].iloc[0] if len(items) else "元"
    for measure, group in items.groupby("measure"):
        # one row per (code, alt_code): a table keyed by two classifications (部门经济分类 ×
        # 政府经济分类) prints a code on several rows; a code's figure is their sum
        rows = group[group["code"].notna()].drop_duplicates(subset=["code", "alt_code"])
        values = rows.groupby("code")["amount_yuan"].sum().to_dict()
        coded = rows.drop_duplicates(subset=["code"])
        children: dict[str, list[str]] = defaultdict(list)
        for code, parent in zip(coded["code"], coded["parent_code"]):
            if parent is not None and parent == parent:  # not NaN
                children[parent].append(code)
        for parent, kids in children.items():
            if parent not in values:
                continue
            n += 1
            total = sum(values[k] for k in kids)
            if not _close(values[parent], total, len(kids), unit):
                failures.append(
                    Failure(
                        "coded",
                        table_no,
                        f"{measure} {parent}={values[parent]:.2f} children {len(kids)} sum={total:.2f}",
                    )
                )
        # the rows a 合计 adds up: those whose parent the table does not print (the 类 rows;
        # every row of a table that prints only 项 codes)
        printed = set(rows["code"])
        top = rows[~rows["parent_code"].isin(printed)]
        classes = set(top["classification"])
        totals = group[
            (group["code"].isna())
            & (group["name"] == "合计")
            & (group["classification"].isin(classes))
        ]
        if len(totals) and len(top):
            n += 1
            grand = totals["amount_yuan"].iloc[0]
            if not _close(grand, top["amount_yuan"].sum(), len(top), unit):
                failures.append(
                    Failure(
                        "coded",
                        table_no,
                        f"{measure} 合计={grand:.2f} sum of top rows={top['amount_yuan'].sum():.2f}",
                    )
                )
    return n, failures


def _printed_rows(frame: pd.DataFrame) -> list[tuple[tuple, pd.DataFrame]]:
    """The line items of each printed row: items come in row order, one per measure, so a row
    ends where the label changes or a measure repeats (a table may print the same code on
    several rows, one per unit, as Beijing's 一般公共预算支出表 does)."""
    rows: list[tuple[tuple, pd.DataFrame]] = []
    start, seen, key = 0, set(), None
    records = frame[["classification", "code", "name", "alt_code", "page", "measure"]]
    for position, record in enumerate(records.itertuples(index=False)):
        this = tuple(record[:5])
        if key is not None and (this != key or record.measure in seen):
            rows.append((key, frame.iloc[start:position]))
            start, seen = position, set()
        key = this
        seen.add(record.measure)
    if key is not None:
        rows.append((key, frame.iloc[start:]))
    return rows


def check_rows(items: pd.DataFrame, table_no: str) -> tuple[int, list[Failure]]:
    """Across a row: total = basic + project, = 人员 + 公用, = the income sources printed."""
    n, failures = 0, []
    unit = items["unit_printed"].iloc[0] if len(items) else "元"
    frame = items.assign(code=items["code"].fillna(""), alt_code=items["alt_code"].fillna(""))
    for key, row in _printed_rows(frame):
        m = dict(zip(row["measure"], row["amount_yuan"]))
        if "total" not in m:
            continue
        parts: list[str] = []
        if "basic" in m and "project" in m:
            parts = ["basic", "project"] + [
                k
                for k in (
                    "reserve",
                    "carry_forward",
                    "upper_remit",
                    "operating_expense",
                    "subsidiary_grant",
                )
                if k in m
            ]
        elif (
            "basic_personnel" in m
            and "basic_public" in m
            and "project" not in m
            and "basic" not in m
        ):
            parts = ["basic_personnel", "basic_public"]
        else:
            income = [
                k
                for k in INCOME_MEASURES
                if k in m and k not in {"gpb", "gov_fund", "state_capital"}
            ]
            grants = [k for k in ("gpb", "gov_fund", "state_capital") if k in m]
            if len(income) >= 2 and "fiscal" in income:
                parts = income
            elif len(grants) >= 2 and not income:
                parts = grants
        if parts:
            n += 1
            total = sum(m[p] for p in parts)
            if not _close(m["total"], total, len(parts), unit):
                failures.append(
                    Failure(
                        "row",
                        table_no,
                        f"{key[1] or key[2]} total={m['total']:.2f} {'+'.join(parts)}={total:.2f}",
                    )
                )
        if "basic" in m and "basic_personnel" in m and "basic_public" in m:
            n += 1
            total = m["basic_personnel"] + m["basic_public"]
            if not _close(m["basic"], total, 2, unit):
                failures.append(
                    Failure(
                        "row",
                        table_no,
                        f"{key[1] or key[2]} basic={m['basic']:.2f} 人员+公用={total:.2f}",
                    )
                )
    return n, failures


def check_summary(items: pd.DataFrame, table_no: str) -> tuple[int, list[Failure]]:
    """收支总表: 收入总计 = 支出总计 (or 收入合计 = 支出合计) for the measures printed on both sides."""
    totals = items[items["name"] == "总计"]
    if totals.empty or set(totals["classification"]) == {"income_source"}:
        totals = items[items["name"] == "合计"]
    if totals.empty:
        return 0, []
    unit = items["unit_printed"].iloc[0]
    income = totals[totals["classification"] == "income_source"]
    spend = totals[totals["classification"] != "income_source"]
    if income.empty or spend.empty:
        return 0, []
    a = income["amount_yuan"].iloc[0]
    b = spend[spend["measure"].isin(["total", "amount"])]["amount_yuan"]
    if b.empty:
        return 0, []
    if _close(a, b.iloc[0], 1, unit):
        return 1, []
    return 1, [Failure("totals", table_no, f"收入={a:.2f} 支出={b.iloc[0]:.2f}")]


def check_three_public(items: pd.DataFrame, table_no: str) -> tuple[int, list[Failure]]:
    n, failures = 0, []
    unit = items["unit_printed"].iloc[0] if len(items) else "万元"
    row_label = (
        items["row_label"].fillna("") if "row_label" in items else pd.Series("", index=items.index)
    )
    for (measure, _page, _label), group in items.groupby(["measure", "page", row_label]):
        m = dict(zip(group["name"], group["amount_yuan"]))
        if "“三公”经费合计" in m:
            parts = [k for k in ("因公出国(境)费", "公务接待费", CAR) if k in m]
            if CAR not in m and ("公务用车购置费" in m or "公务用车运行维护费" in m):
                parts += [k for k in ("公务用车购置费", "公务用车运行维护费") if k in m]
            if parts:
                n += 1
                total = sum(m[p] for p in parts)
                if not _close(m["“三公”经费合计"], total, len(parts), unit):
                    failures.append(
                        Failure(
                            "three_public",
                            table_no,
                            f"{measure} 合计={m['“三公”经费合计']:.2f} parts={total:.2f}",
                        )
                    )
        if CAR in m and ("公务用车购置费" in m or "公务用车运行维护费" in m):
            n += 1
            total = m.get("公务用车购置费", 0.0) + m.get("公务用车运行维护费", 0.0)
            if not _close(m[CAR], total, 2, unit):
                failures.append(
                    Failure(
                        "three_public",
                        table_no,
                        f"{measure} 公务用车={m[CAR]:.2f} 购置+运行={total:.2f}",
                    )
                )
    return n, failures


def check_table(items: pd.DataFrame, table_no: str) -> tuple[int, list[Failure]]:
    if items.empty:
        return 0, []
    n, failures = 0, []
    classes = set(items["classification"])
    checks = []
    if (
        classes & {"function", "econ_dept", "econ_gov"}
        and items["code"].notna().any()
        and items["level"].notna().any()
    ):
        checks.append(check_coded)
    if "three_public" in classes:
        checks.append(check_three_public)
    else:
        checks.append(check_rows)
    if "income_source" in classes:
        checks.append(check_summary)
    for check in checks:
        k, f = check(items, table_no)
        n += k
        failures.extend(f)
    return n, failures


# --------------------------------------------------------------------------- listed tables

_TOC_ENTRY = re.compile(
    r"^\s*(?:\d+|[一二三四五六七八九十]+)\s*[.．、]\s*(.+?)\s*(?:[…\.·]{3,}.*)?$"
)


def page_text(page) -> str:
    words = [line.text for line in page.lines]
    words += [cell.text for grid in page.grids for row in grid.rows for cell in row]
    return re.sub(r"\s+", "", "".join(words))


def catalogue_count(pdf: Path, template_id: str | None) -> tuple[int | None, str]:
    """Tables the document itself lists: its 报表目录 grid, else 目录 lines naming a table title."""
    from budget_disclosures.flows.pipeline import extract_document
    from budget_disclosures.mappings.identify import identify_tables, match_title
    from budget_disclosures.mappings.loader import default_templates

    template = next((t for t in default_templates() if t.id == template_id), None)
    if template is None:
        return None, "-"
    pages, _texts, _layers = extract_document(pdf)
    _tables, catalogue = identify_tables(pages, template)
    if catalogue:
        return len(catalogue), "catalogue"
    listed = set()
    toc_pages = [i for i, page in enumerate(pages[:8]) if "目录" in page_text(page)]
    for page in [pages[j] for i in toc_pages for j in (i, i + 1) if j < len(pages)]:
        lines = [line.text for line in page.lines]
        lines += [cell.text for grid in page.grids for row in grid.rows for cell in row]
        for index, text in enumerate(lines):
            match = _TOC_ENTRY.match(text.replace("\n", ""))
            if match:
                rule = match_title(match.group(1), template)
                if rule is None and index + 1 < len(lines):  # an entry wrapped onto the next line
                    rule = match_title(match.group(1) + lines[index + 1], template)
                if rule is not None:
                    listed.add(rule.table_no)
    return (len(listed), "目录") if listed else (None, "-")


def build_reports(curated: Path, corpus: Path | None = None) -> list[DocReport]:
    from budget_disclosures.mappings.loader import default_templates

    templates = {t.id: t for t in default_templates()}
    documents = _read(curated, "documents")
    tables = _read(curated, "tables")
    items = _read(curated, "line_items")
    reports = []
    for doc in documents.sort_values("source_name").itertuples():
        doc_tables = tables[tables["doc_id"] == doc.doc_id] if not tables.empty else pd.DataFrame()
        doc_items = items[items["doc_id"] == doc.doc_id] if not items.empty else pd.DataFrame()
        template = templates.get(doc.template) if isinstance(doc.template, str) else None
        listed, listed_from = (len(template.tables), "template") if template else (None, "-")
        if corpus is not None and template is not None and (corpus / doc.source_name).exists():
            count, source = catalogue_count(corpus / doc.source_name, doc.template)
            if count is not None:
                listed, listed_from = count, source
        report = DocReport(
            doc.doc_id,
            doc.source_name,
            template.id if template else None,
            doc_tables,
            listed,
            listed_from,
        )
        if template is not None:
            found = set(doc_tables["table_no"]) if not doc_tables.empty else set()
            found_kinds = set(doc_tables["kind"]) if not doc_tables.empty else set()
            report.missing = [
                f"{t.table_no}:{t.kind}"
                for t in template.tables
                if t.required and t.table_no not in found and t.kind not in found_kinds
            ]
        if not doc_items.empty:
            for table_no, group in doc_items.groupby("table_no"):
                n, failures = check_table(group, str(table_no))
                report.checks += n
                report.failures.extend(failures)
        reports.append(report)
    return reports


def print_reports(reports: list[DocReport], max_failures: int = 5) -> None:
    for r in reports:
        n_found = len(r.tables)
        n_items = int(r.tables["n_line_items"].sum()) if n_found else 0
        listed = f"{r.listed} ({r.listed_from})" if r.listed is not None else "-"
        print(
            f"{r.source}  template={r.template}  tables found={n_found} listed={listed}  line_items={n_items}"
            f"  checks={r.checks} failed={len(r.failures)}"
        )
        if r.missing and n_found == 0:
            print("    no tables in this file (a narrative-only half, or tables not recognised)")
        elif r.missing:
            print(f"    missing required: {', '.join(r.missing)}")
        if n_found:
            for t in r.tables.sort_values(["page_first", "table_no"]).itertuples():
                pages = (
                    f"{t.page_first}"
                    if t.page_first == t.page_last
                    else f"{t.page_first}-{t.page_last}"
                )
                empty = " EMPTY" if t.is_empty else ""
                print(
                    f"    {t.table_no:>4}  {t.kind:28} p{pages:7} items={t.n_line_items:<5}{empty}"
                )
        for failure in r.failures[:max_failures]:
            print(f"    ! {failure.check} 表{failure.table_no}: {failure.detail}")
        if len(r.failures) > max_failures:
            print(f"    ! ... {len(r.failures) - max_failures} more")
    with_template = [r for r in reports if r.template]
    print(
        f"\n{len(reports)} documents, {len(with_template)} with a template, "
        f"{sum(len(r.tables) for r in reports)} tables, "
        f"{sum(r.checks for r in reports)} arithmetic checks, {sum(len(r.failures) for r in reports)} failed"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--curated", type=Path, required=True)
    parser.add_argument(
        "--corpus",
        type=Path,
        default=None,
        help="folder of the source PDFs (to read their catalogue)",
    )
    parser.add_argument("--failures", type=int, default=5, help="failures shown per document")
    args = parser.parse_args(argv)
    print_reports(build_reports(args.curated, args.corpus), args.failures)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
