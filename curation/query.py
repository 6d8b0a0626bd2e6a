"""Researchers' queries: a DuckDB connection with one view per curated dataset.

``connect(curated)`` returns an in-memory DuckDB connection on which every dataset folder of
``curated/`` is a view named after it (``line_items``, ``documents``, ``tables``,
``performance_targets``, ``validations``, … whatever folders exist), read with
``read_parquet(..., union_by_name = true)`` so files written by older pipeline versions (fewer
columns) still read. A dataset of the contract whose folder is absent is an empty view with the
contract's columns, so queries and the convenience views below never fail on a fresh or partial
``curated/``.

Convenience views (derived here, described in :data:`VIEWS`):

* ``function_expenditure_wide`` — 一般公共预算支出 by 支出功能分类, one row per document and code,
  with ``total`` / ``basic`` / ``project`` columns;
* ``three_public_by_unit`` — "三公"经费 per unit and year, one column per item;
* ``codes_function``, ``codes_econ_dept``, ``codes_econ_gov`` — the reference code lists.

The views read the Parquet files at query time: a notebook's connection sees documents
ingested after it was opened.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb
from budget_disclosures.mappings.codelists import CLASSIFICATION_FILES, CODES_DIR

from .schema import DATASETS, DOC_ID, LINE_ITEMS, Column, Dataset

_DUCK_TYPES = {"string": "VARCHAR", "int": "BIGINT", "float": "DOUBLE", "bool": "BOOLEAN"}
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def contract_datasets() -> dict[str, Dataset]:
    """The datasets every curated folder is expected to offer (``curation/schema.py``)."""
    return dict(DATASETS)


# --------------------------------------------------------------------------- code lists

CODE_LIST_COLUMNS = (
    Column(
        "code", "string", "科目编码", "classification code, digits only", False, pattern=r"^\d+$"
    ),
    Column("name", "string", "科目名称", "name, cleaned as printed", False),
    Column("level", "int", "科目级次", "1, 2, 3 for 类, 款, 项 (from the code's length)", False),
    Column(
        "parent_code",
        "string",
        "上级科目编码",
        "code one level up; empty for a 类",
        pattern=r"^\d+$",
    ),
    Column(
        "valid_from",
        "int",
        "起始年度",
        "first fiscal year the name is valid (inclusive); empty: open-ended",
    ),
    Column(
        "valid_to",
        "int",
        "终止年度",
        "last fiscal year the name is valid (inclusive); empty: open-ended",
    ),
    Column(
        "evidence",
        "string",
        "证据等级",
        "how the pair is attested (mappings/codes/README.md)",
        False,
    ),
    Column("source", "string", "来源", "where the pair was printed or seeded", False),
)
CODE_LISTS: dict[str, Dataset] = {
    f"codes_{classification}": Dataset(
        f"codes_{classification}",
        zh,
        en,
        (),
        CODE_LIST_COLUMNS,
    )
    for classification, zh, en in (
        (
            "function",
            "支出功能分类科目",
            "reference code list: 支出功能分类 (expenditure by function), year-aware",
        ),
        (
            "econ_dept",
            "部门预算支出经济分类科目",
            "reference code list: 部门预算支出经济分类 (departmental economic classification), year-aware",
        ),
        (
            "econ_gov",
            "政府预算支出经济分类科目",
            "reference code list: 政府预算支出经济分类 (government economic classification), year-aware",
        ),
    )
}


def code_list_path(view: str) -> Path:
    """``codes_function`` → mappings/codes/function.csv."""
    return CODES_DIR / CLASSIFICATION_FILES[view.removeprefix("codes_")]


# --------------------------------------------------------------------------- convenience views


@dataclass(frozen=True)
class View:
    """A derived view: its SQL and a description of every column it returns."""

    name: str
    zh: str
    en: str
    sql: str
    columns: tuple[Column, ...]


def _li(name: str) -> Column:
    return next(c for c in LINE_ITEMS.columns if c.name == name)


def _doc(name: str) -> Column:
    return next(c for c in DATASETS["documents"].columns if c.name == name)


def _yuan(name: str, zh: str, en: str) -> Column:
    return Column(name, "float", zh, en, unit="元")


FUNCTION_EXPENDITURE_WIDE = View(
    "function_expenditure_wide",
    "一般公共预算支出功能分类（宽表）",
    "general-public-budget expenditure by function classification (一般公共预算支出表), one row per "
    "document and code (all levels, plus the 合计 row with code null), measures as columns in yuan; "
    "filter level = 1 for 类",
    """
    SELECT l.doc_id, d.unit_name, d.unit_code, d.admin_region, l.fiscal_year, d.doc_kind, d.template,
           l.code, l.name, l.level, l.parent_code,
           sum(l.amount_yuan) FILTER (WHERE l.measure = 'total') AS total,
           coalesce(
               sum(l.amount_yuan) FILTER (WHERE l.measure = 'basic'),
               sum(l.amount_yuan) FILTER (WHERE l.measure IN ('basic_personnel', 'basic_public'))
           ) AS basic,
           sum(l.amount_yuan) FILTER (WHERE l.measure = 'basic_personnel') AS basic_personnel,
           sum(l.amount_yuan) FILTER (WHERE l.measure = 'basic_public') AS basic_public,
           sum(l.amount_yuan) FILTER (WHERE l.measure = 'project') AS project,
           min(l.unit_printed) AS unit_printed
    FROM line_items l LEFT JOIN documents d USING (doc_id)
    WHERE l.kind = 'gpb_expenditure_by_function' AND l.classification = 'function'
    GROUP BY ALL
    """,
    (
        DOC_ID,
        _doc("unit_name"),
        _doc("unit_code"),
        _doc("admin_region"),
        _li("fiscal_year"),
        _doc("doc_kind"),
        _doc("template"),
        _li("code"),
        _li("name"),
        _li("level"),
        _li("parent_code"),
        _yuan("total", "合计", "total (合计)"),
        _yuan(
            "basic",
            "基本支出",
            "basic expenditure (基本支出); 人员经费 + 公用经费 where only those are printed",
        ),
        _yuan("basic_personnel", "人员经费", "basic: personnel (人员经费), where printed"),
        _yuan("basic_public", "公用经费", "basic: public (公用经费), where printed"),
        _yuan("project", "项目支出", "project expenditure (项目支出)"),
        Column(
            "unit_printed",
            "string",
            "原文单位",
            "unit the table printed its figures in (元, 万元 …)",
        ),
    ),
)

# Row labels of the 三公 table: "621002宝鸡市大数据管理中心" (a unit row: code then name),
# "合计" (the document total), or "2024年预算数" (national-9: one row per year).
THREE_PUBLIC_BY_UNIT = View(
    "three_public_by_unit",
    "“三公”经费（按单位、年度）",
    '"三公" expenditure (因公出国(境)费, 公务用车购置及运行维护费, 公务接待费) plus 会议费 and 培训费, '
    "one row per unit and year: the unit rows of the table where it lists units (单位编码+名称), "
    "otherwise the document's own unit; budget-year figures in yuan",
    """
    WITH rows AS (
        SELECT l.doc_id, l.fiscal_year, l.measure, l.amount_yuan,
               CASE WHEN regexp_matches(coalesce(l.row_label, ''), '^[0-9]{5,}') THEN 'unit'
                    WHEN l.row_label IN ('合计', '总计') THEN 'total' ELSE 'other' END AS row_kind,
               CASE WHEN l.name LIKE '%三公%' THEN 'total'
                    WHEN l.name LIKE '%出国%' THEN 'outbound'
                    WHEN l.name LIKE '%购置及运行%' THEN 'vehicles'
                    WHEN l.name LIKE '%购置%' THEN 'vehicle_purchase'
                    WHEN l.name LIKE '%运行%' THEN 'vehicle_operation'
                    WHEN l.name LIKE '%接待%' THEN 'reception'
                    WHEN l.name LIKE '%会议%' THEN 'meetings'
                    WHEN l.name LIKE '%培训%' THEN 'training' END AS item,
               l.row_label
        FROM line_items l
        WHERE l.kind = 'three_public' AND l.classification = 'three_public'
    ), ranked AS (
        SELECT *, bool_or(row_kind = 'unit') OVER (PARTITION BY doc_id) AS has_units,
                  bool_or(row_kind = 'total') OVER (PARTITION BY doc_id) AS has_total
        FROM rows
    ), kept AS (
        SELECT r.*, d.admin_region,
               CASE WHEN row_kind = 'unit' THEN regexp_extract(row_label, '^([0-9]+)', 1) ELSE d.unit_code END AS unit_code,
               CASE WHEN row_kind = 'unit' THEN trim(regexp_replace(row_label, '^[0-9]+', '')) ELSE d.unit_name END AS unit_name
        FROM ranked r LEFT JOIN documents d USING (doc_id)
        WHERE (has_units AND row_kind = 'unit')
           OR (NOT has_units AND has_total AND row_kind = 'total')
           OR (NOT has_units AND NOT has_total)
    )
    SELECT doc_id, fiscal_year, admin_region, unit_code, unit_name,
           sum(amount_yuan) FILTER (WHERE item = 'total' AND measure = 'amount') AS three_public_total,
           sum(amount_yuan) FILTER (WHERE item = 'outbound' AND measure = 'amount') AS outbound_travel,
           sum(amount_yuan) FILTER (WHERE item = 'vehicles' AND measure = 'amount') AS vehicles,
           sum(amount_yuan) FILTER (WHERE item = 'vehicle_purchase' AND measure = 'amount') AS vehicle_purchase,
           sum(amount_yuan) FILTER (WHERE item = 'vehicle_operation' AND measure = 'amount') AS vehicle_operation,
           sum(amount_yuan) FILTER (WHERE item = 'reception' AND measure = 'amount') AS reception,
           sum(amount_yuan) FILTER (WHERE item = 'meetings' AND measure = 'amount') AS meetings,
           sum(amount_yuan) FILTER (WHERE item = 'training' AND measure = 'amount') AS training,
           sum(amount_yuan) FILTER (WHERE item = 'total' AND measure = 'prior_year') AS three_public_total_prior_year
    FROM kept
    GROUP BY ALL
    """,
    (
        DOC_ID,
        _li("fiscal_year"),
        _doc("admin_region"),
        Column(
            "unit_code",
            "string",
            "单位编码",
            "the unit's code (from the table's unit row, else the document's)",
        ),
        Column(
            "unit_name",
            "string",
            "单位名称",
            "the unit (from the table's unit row, else the document's)",
        ),
        _yuan("three_public_total", "“三公”经费合计", '"三公" total, budget year'),
        _yuan("outbound_travel", "因公出国(境)费", "official travel abroad, budget year"),
        _yuan(
            "vehicles",
            "公务用车购置及运行维护费",
            "official vehicles, purchase and operation, budget year",
        ),
        _yuan("vehicle_purchase", "公务用车购置费", "official vehicle purchase, budget year"),
        _yuan("vehicle_operation", "公务用车运行维护费", "official vehicle operation, budget year"),
        _yuan("reception", "公务接待费", "official reception, budget year"),
        _yuan(
            "meetings", "会议费", "meetings, budget year (not one of the 三公, printed beside them)"
        ),
        _yuan(
            "training", "培训费", "training, budget year (not one of the 三公, printed beside them)"
        ),
        _yuan(
            "three_public_total_prior_year",
            "上年“三公”经费合计",
            '"三公" total of the prior year as printed',
        ),
    ),
)

VIEWS: dict[str, View] = {v.name: v for v in (FUNCTION_EXPENDITURE_WIDE, THREE_PUBLIC_BY_UNIT)}


# --------------------------------------------------------------------------- the connection


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def dataset_folders(curated: Path) -> dict[str, Path]:
    """Dataset folders of ``curated`` that hold Parquet files (``_logs`` and hidden ones skipped)."""
    curated = Path(curated)
    found: dict[str, Path] = {}
    if not curated.is_dir():
        return found
    for folder in sorted(curated.iterdir()):
        if (
            not folder.is_dir()
            or folder.name.startswith(("_", "."))
            or not _IDENTIFIER.match(folder.name)
        ):
            continue
        if (
            next((p for p in folder.rglob("*.parquet") if not p.name.startswith(".")), None)
            is not None
        ):
            found[folder.name] = folder
    return found


def _empty_view_sql(dataset: Dataset) -> str:
    columns = ", ".join(
        f"CAST(NULL AS {_DUCK_TYPES[c.type]}) AS {_quote(c.name)}" for c in dataset.columns
    )
    return f"SELECT {columns} WHERE false"


_CODE_CSV_COLUMNS = "{" + ", ".join(f"'{c.name}': 'VARCHAR'" for c in CODE_LIST_COLUMNS) + "}"


def _code_list_sql(path: Path) -> str:
    return f"""
    SELECT code, name, TRY_CAST(level AS BIGINT) AS level, NULLIF(parent_code, '') AS parent_code,
           TRY_CAST(valid_from AS BIGINT) AS valid_from, TRY_CAST(valid_to AS BIGINT) AS valid_to,
           evidence, source
    FROM read_csv({_literal(str(path))}, header = true, auto_detect = false, delim = ',', quote = '"',
                  columns = {_CODE_CSV_COLUMNS})
    """


def create_views(con: duckdb.DuckDBPyConnection, curated: Path) -> list[str]:
    """(Re)create every view on ``con`` for the datasets in ``curated``; returns the view names."""
    curated = Path(curated).resolve()
    names: list[str] = []
    folders = dataset_folders(curated)
    expected = contract_datasets()
    for name in sorted(set(folders) | set(expected)):
        if name in folders:
            pattern = (folders[name] / "**" / "*.parquet").as_posix()
            sql = f"SELECT * FROM read_parquet({_literal(pattern)}, union_by_name = true)"
        else:
            sql = _empty_view_sql(expected[name])
        con.execute(f"CREATE OR REPLACE VIEW {_quote(name)} AS {sql}")
        names.append(name)
    for view in VIEWS.values():
        con.execute(f"CREATE OR REPLACE VIEW {_quote(view.name)} AS {view.sql}")
        names.append(view.name)
    for view in CODE_LISTS:
        path = code_list_path(view)
        sql = _code_list_sql(path) if path.exists() else _empty_view_sql(CODE_LISTS[view])
        con.execute(f"CREATE OR REPLACE VIEW {_quote(view)} AS {sql}")
        names.append(view)
    return names


def connect(curated: str | Path = "curated") -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with one view per curated dataset and the convenience views.

    >>> con = connect("curated")
    >>> con.sql("SELECT fiscal_year, sum(total) FROM function_expenditure_wide WHERE level = 1 GROUP BY 1").df()

    Raises :class:`FileNotFoundError` when ``curated`` is not a folder.
    """
    path = Path(curated)
    if not path.is_dir():
        raise FileNotFoundError(f"curated folder not found: {path}")
    con = duckdb.connect(":memory:")
    # each view binds its Parquet footers; cache them (DuckDB re-reads a file whose mtime changed)
    con.execute("SET parquet_metadata_cache = true")
    create_views(con, path)
    return con


# --------------------------------------------------------------------------- describing the views


@dataclass(frozen=True)
class ViewColumn:
    name: str
    type: str
    zh: str
    en: str


@dataclass(frozen=True)
class ViewInfo:
    name: str
    kind: str  # dataset | view | code list
    zh: str
    en: str
    columns: tuple[ViewColumn, ...]


def _described(view: str) -> tuple[str, str, str, dict[str, Column]]:
    datasets = contract_datasets()
    if view in datasets:
        d = datasets[view]
        return "dataset", d.zh, d.en, {c.name: c for c in d.columns}
    if view in VIEWS:
        v = VIEWS[view]
        return "view", v.zh, v.en, {c.name: c for c in v.columns}
    if view in CODE_LISTS:
        d = CODE_LISTS[view]
        return "code list", d.zh, d.en, {c.name: c for c in d.columns}
    return "dataset", "", "", {}


def describe(con: duckdb.DuckDBPyConnection) -> list[ViewInfo]:
    """Every view on ``con`` with its columns (as DuckDB types them) and their descriptions."""
    views = [
        row[0]
        for row in con.execute(
            "SELECT view_name FROM duckdb_views() WHERE NOT internal AND schema_name = 'main'"
        ).fetchall()
    ]
    order = {name: i for i, name in enumerate([*contract_datasets(), *VIEWS, *CODE_LISTS])}
    views.sort(key=lambda v: (order.get(v, len(order)), v))
    out: list[ViewInfo] = []
    for view in views:
        kind, zh, en, columns = _described(view)
        described = []
        for name, duck_type, *_ in con.execute(f"DESCRIBE SELECT * FROM {_quote(view)}").fetchall():
            column = columns.get(name)
            en_text = column.en if column else ""
            if column and column.unit:
                en_text += f" (unit: {column.unit})"
            described.append(ViewColumn(name, duck_type, column.zh if column else "", en_text))
        out.append(ViewInfo(view, kind, zh, en, tuple(described)))
    return out


# --------------------------------------------------------------------------- results


class QueryError(Exception):
    """DuckDB refused the SQL (the message is DuckDB's own)."""


@dataclass
class Result:
    columns: list[str]
    types: list[str]
    rows: list[tuple]


def run(con: duckdb.DuckDBPyConnection, sql: str) -> Result | None:
    """Run ``sql`` (several statements: the last one's result); ``None`` when it returns no rows set."""
    try:
        relation = con.sql(sql)
        if relation is None:
            return None
        return Result(list(relation.columns), [str(t) for t in relation.types], relation.fetchall())
    except duckdb.Error as error:
        raise QueryError(str(error).strip()) from None


def run_arrow(con: duckdb.DuckDBPyConnection, sql: str):
    """Like :func:`run`, as a pyarrow Table (for Parquet output)."""
    try:
        relation = con.sql(sql)
        return None if relation is None else arrow_table(relation)
    except duckdb.Error as error:
        raise QueryError(str(error).strip()) from None


def arrow_table(relation: duckdb.DuckDBPyRelation):
    """A relation's rows as a pyarrow Table (``to_arrow_table`` on DuckDB ≥ 1.4, else ``fetch_arrow_table``)."""
    method = getattr(relation, "to_arrow_table", None) or relation.fetch_arrow_table
    return method()


# a text cell a spreadsheet would run as a formula (OWASP "CSV injection"): = + - @ tab CR
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"^[+-]?(?:\d[\d,]*)?(?:\.\d+)?%?$")


def spreadsheet_safe(text: str) -> str:
    """Text a spreadsheet would run as a formula, with a leading apostrophe (OWASP's advice);
    a number written as text (``-5.00``, ``+3%``) is left alone. CSV only: Parquet keeps the
    exact value."""
    if text.startswith(_FORMULA_START) and not _PLAIN_NUMBER.match(text):
        return "'" + text
    return text


def csv_value(value) -> str:
    """A cell as CSV text: empty for null, ``true``/``false``, floats in Python's shortest
    round-trip form, text that would run as a spreadsheet formula neutralised."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return ""
        return repr(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, str):
        return spreadsheet_safe(value)
    return str(value)


def _float_style(values: list) -> int:
    """Decimals for a column of floats: 0 when every value is whole, 2 when large, else 4."""
    numbers = [float(v) for v in values if isinstance(v, float | Decimal) and float(v) == float(v)]
    if all(n == int(n) and abs(n) < 1e15 for n in numbers):
        return 0
    return 2 if max(abs(n) for n in numbers) >= 1 else 4


def _display(value, decimals: int = 2) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float | Decimal):
        number = float(value)
        if number != number:
            return "NaN"
        return f"{number:,.{decimals}f}"
    return str(value).replace("\n", " ")


def _is_number(duck_type: str) -> bool:
    return duck_type.upper().split("(")[0] in {
        "TINYINT",
        "SMALLINT",
        "INTEGER",
        "BIGINT",
        "HUGEINT",
        "UTINYINT",
        "USMALLINT",
        "UINTEGER",
        "UBIGINT",
        "UHUGEINT",
        "FLOAT",
        "DOUBLE",
        "DECIMAL",
    }


def render_table(result: Result) -> str:
    """A plain aligned text table (CJK-width aware), numbers right-aligned, with a row count."""
    from rich.cells import cell_len

    columns = list(zip(*result.rows)) or [()] * len(result.columns)
    decimals = [_float_style(list(values)) for values in columns]
    cells = [[_display(v, d) for v, d in zip(row, decimals)] for row in result.rows]
    widths = [cell_len(c) for c in result.columns]
    for row in cells:
        widths = [max(w, cell_len(c)) for w, c in zip(widths, row)]
    numeric = [_is_number(t) for t in result.types]

    def line(values: list[str]) -> str:
        parts = []
        for value, width, right in zip(values, widths, numeric):
            pad = " " * (width - cell_len(value))
            parts.append(pad + value if right else value + pad)
        return " | ".join(parts).rstrip()

    out = [line(result.columns), "-+-".join("-" * w for w in widths)]
    out += [line(row) for row in cells]
    out.append(f"({len(cells)} row{'s' if len(cells) != 1 else ''})")
    return "\n".join(out) + "\n"


def render_csv(result: Result) -> str:
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(result.columns)
    writer.writerows([csv_value(v) for v in row] for row in result.rows)
    return buffer.getvalue()


def _json_value(value):
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, float) and value != value:
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    return value


def render_json(result: Result) -> str:
    import json

    records = [
        json.dumps({c: _json_value(v) for c, v in zip(result.columns, row)}, ensure_ascii=False)
        for row in result.rows
    ]
    return "[\n" + ",\n".join(records) + "\n]\n" if records else "[]\n"


def render_schema(infos: list[ViewInfo]) -> str:
    """``disclosures query --schema``: every view, its columns, their Chinese and English descriptions."""
    from rich.cells import cell_len

    out: list[str] = []
    for info in infos:
        title = f"{info.name}  ({info.kind})"
        if info.zh or info.en:
            title += f" — {info.zh}: {info.en}"
        out += [title]
        rows = [(c.name, c.type, c.zh, c.en) for c in info.columns]
        widths = [max([cell_len(r[i]) for r in rows] + [0]) for i in range(3)]
        for row in rows:
            cells = [
                value + " " * (width - cell_len(value)) for value, width in zip(row[:3], widths)
            ]
            out.append(("    " + "  ".join(cells) + "  " + row[3]).rstrip())
        out.append("")
    return "\n".join(out)


def schema_records(infos: list[ViewInfo]) -> Result:
    rows = [(i.name, i.kind, c.name, c.type, c.zh, c.en) for i in infos for c in i.columns]
    return Result(["view", "kind", "column", "type", "zh", "en"], ["VARCHAR"] * 6, rows)
