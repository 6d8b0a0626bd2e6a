"""The check catalogue: every validation check, its id, its severity and what it verifies.

Two kinds of checks make up the suites (``validation/suites/*.json``):

* **schema checks** come from :mod:`curation.schema` (the single source of truth): columns,
  types, non-null columns, allowed values, patterns and keys, one GX expectation per column
  constraint;
* **row-set checks** span rows or tables (codes, arithmetic, cross-table totals,
  completeness). Each is one SQL query (SQLite dialect) over ``{batch}`` that returns the
  failing *instances*, run by GX as an ``UnexpectedRowsExpectation``.

Every row-set query returns the same columns (:data:`INSTANCE_COLUMNS`): ``doc_id``,
``table_no``, ``subject`` (where), ``observed``, ``expected``, ``severity`` and ``weight`` (how
far outside the rounding tolerance; the worst instance is reported).

Amounts are compared in yuan. A printed figure is off its true value by up to half a unit of
its last digit (0.01 万元 = 100 yuan when a table prints two decimals; 1 yuan when a 元 table
prints whole yuan), and a printed zero is exact: a relation with ``n`` non-zero addends can
disagree by up to ``(n + 1) / 2`` last-digit units from rounding alone. A disagreement within
that tolerance is a ``warn`` (the publication is inconsistent, as real ones sometimes are); a
larger one is an ``error``.
"""

from __future__ import annotations

from dataclasses import dataclass

from budget_disclosures.extractors.numbers import (
    ROUNDING_SLACK,
    printing_step_sql,
    sum_tolerance_sql,
    unit_factor_sql,
)
from budget_disclosures.mappings.loader import summary_rows

from .fact_checks import CROSS_CHECK_CTES

ERROR, WARN = "error", "warn"
INSTANCE_COLUMNS = ("doc_id", "table_no", "subject", "observed", "expected", "severity", "weight")


@dataclass(frozen=True)
class Check:
    id: str
    severity: str  # nominal severity: error or warn (a small arithmetic disagreement is a warn)
    dataset: str  # the curated dataset whose suite holds it
    description: str
    sql: str | None = None  # row-set checks: the unexpected-rows query (SQLite, ``{batch}``)


# --------------------------------------------------------------------------- SQL building blocks

# every money figure with its unit factor (yuan per printed unit)
_MONEY = """m AS (
  SELECT doc_id, fiscal_year, table_no, kind, classification, code, name, level, parent_code,
         measure, row_label, unit_printed AS unit, amount_yuan AS v,
         UNIT_FACTOR_SQL AS f
  FROM {batch}
),
prec AS (
  SELECT doc_id, table_no,
         MAX(CASE WHEN INSTR(amount_printed, '.') > 0
                  THEN LENGTH(amount_printed) - INSTR(amount_printed, '.') ELSE 0 END) AS d
  FROM {batch} WHERE amount_yuan <> 0 GROUP BY doc_id, table_no
)""".replace("UNIT_FACTOR_SQL", unit_factor_sql("unit_printed"))

# a relation ``rel(doc_id, table_no, subject, observed, expected, n, f, unit)`` → instances
_VERDICT = (
    """
SELECT rel.doc_id, rel.table_no, subject,
       printf('%.2f', observed / f) || ' ' || unit AS observed,
       printf('%.2f', expected / f) || ' ' || unit AS expected,
       CASE WHEN ABS(observed - expected) > TOLERANCE
            THEN 'error' ELSE 'warn' END AS severity,
       ABS(observed - expected) / TOLERANCE AS weight
FROM rel
LEFT JOIN (SELECT doc_id, table_no, STEP AS step
           FROM prec) s ON s.doc_id = rel.doc_id AND s.table_no = rel.table_no
WHERE ABS(observed - expected) > f * COALESCE(s.step, 0.01) * SLACK""".replace(
        "TOLERANCE", sum_tolerance_sql("f", "COALESCE(s.step, 0.01)", "n")
    )
    .replace("STEP", printing_step_sql("d"))
    .replace("SLACK", repr(ROUNDING_SLACK))
)


def _relation(*ctes: str) -> str:
    return "WITH " + ",\n".join((_MONEY, *ctes)) + _VERDICT


_CODED = "('function', 'econ_dept', 'econ_gov')"

# coded rows × the measures of their table, blank cells as 0
_GRID = f"""rk AS (
  SELECT doc_id, table_no, classification, code, MAX(parent_code) AS parent_code,
         MAX(level) AS level, MAX(f) AS f, MAX(unit) AS unit
  FROM m WHERE classification IN {_CODED} AND code IS NOT NULL
  GROUP BY doc_id, table_no, classification, code
),
ms AS (SELECT DISTINCT doc_id, table_no, classification, measure FROM m WHERE classification IN {_CODED}),
cell AS (
  SELECT doc_id, table_no, classification, code, measure, SUM(v) AS v
  FROM m WHERE classification IN {_CODED} AND code IS NOT NULL
  GROUP BY doc_id, table_no, classification, code, measure
),
g AS (
  SELECT rk.doc_id, rk.table_no, rk.classification, rk.code, rk.parent_code, rk.level, rk.f,
         rk.unit, ms.measure, COALESCE(cell.v, 0) AS v
  FROM rk JOIN ms ON ms.doc_id = rk.doc_id AND ms.table_no = rk.table_no
                 AND ms.classification = rk.classification
  LEFT JOIN cell ON cell.doc_id = rk.doc_id AND cell.table_no = rk.table_no
                AND cell.classification = rk.classification AND cell.code = rk.code
                AND cell.measure = ms.measure
)"""

CHILDREN_SUM = _relation(
    _GRID,
    """rel AS (
  SELECT p.doc_id, p.table_no, p.code || ' ' || p.measure AS subject, p.v AS observed,
         SUM(k.v) AS expected, SUM(k.v <> 0) AS n, p.f, p.unit
  FROM g p JOIN g k ON k.doc_id = p.doc_id AND k.table_no = p.table_no
                   AND k.classification = p.classification AND k.measure = p.measure
                   AND k.parent_code = p.code
  GROUP BY p.doc_id, p.table_no, p.classification, p.code, p.measure
)""",
)

TOTAL_SUM = _relation(
    _GRID,
    f"""tot AS (
  SELECT doc_id, table_no, classification, measure, SUM(v) AS v, MAX(f) AS f, MAX(unit) AS unit
  FROM m WHERE classification IN {_CODED} AND code IS NULL AND name = '合计'
  GROUP BY doc_id, table_no, classification, measure
),
-- the rows the 合计 adds up: those whose parent the table does not print (the 类 rows; the
-- 项 rows of a table that prints only 项 codes, as some regions' 支出总表 do)
roots AS (
  SELECT g.* FROM g
  WHERE NOT EXISTS (SELECT 1 FROM rk p WHERE p.doc_id = g.doc_id AND p.table_no = g.table_no
                    AND p.classification = g.classification AND p.code = g.parent_code)
),
rel AS (
  SELECT t.doc_id, t.table_no, '合计 ' || t.classification || ' ' || t.measure AS subject,
         t.v AS observed, COALESCE(SUM(g.v), 0) AS expected, COALESCE(SUM(g.v <> 0), 0) AS n, t.f, t.unit
  FROM tot t JOIN roots g ON g.doc_id = t.doc_id AND g.table_no = t.table_no
                         AND g.classification = t.classification AND g.measure = t.measure
  GROUP BY t.doc_id, t.table_no, t.classification, t.measure
)""",
)

_DETAIL_KINDS = "('gpb_expenditure_by_function', 'gpb_expenditure_by_econ', 'gpb_basic_by_function', 'gpb_basic_by_econ')"

# one row per table row of the 一般公共预算 detail tables, the measures side by side
_ROWS = f"""has AS (
  SELECT doc_id, table_no, MAX(measure = 'basic') AS hb,
         MAX(measure IN ('basic_personnel', 'basic_public')) AS hp, MAX(measure = 'total') AS ht
  FROM m WHERE kind IN {_DETAIL_KINDS} GROUP BY doc_id, table_no
),
r AS (
  SELECT doc_id, table_no, COALESCE(code, name) AS rkey, MAX(f) AS f, MAX(unit) AS unit,
         SUM(CASE WHEN measure = 'total' THEN v ELSE 0 END) AS total,
         SUM(CASE WHEN measure = 'basic' THEN v ELSE 0 END) AS basic,
         SUM(CASE WHEN measure = 'basic_personnel' THEN v ELSE 0 END) AS pers,
         SUM(CASE WHEN measure = 'basic_public' THEN v ELSE 0 END) AS pub,
         SUM(CASE WHEN measure = 'project' THEN v ELSE 0 END) AS project
  FROM m WHERE kind IN {_DETAIL_KINDS}
  GROUP BY doc_id, table_no, classification, code, name
)"""

ROW_TOTAL = _relation(
    _ROWS,
    """rel AS (
  SELECT r.doc_id, r.table_no, r.rkey || ' total' AS subject, r.total AS observed,
         CASE WHEN h.hb THEN r.basic + r.project ELSE r.pers + r.pub + r.project END AS expected,
         CASE WHEN h.hb THEN (r.basic <> 0) + (r.project <> 0)
              ELSE (r.pers <> 0) + (r.pub <> 0) + (r.project <> 0) END AS n, r.f, r.unit
  FROM r JOIN has h ON h.doc_id = r.doc_id AND h.table_no = r.table_no
  WHERE h.ht AND (h.hb OR h.hp)
)""",
)

BASIC_PARTS = _relation(
    _ROWS,
    """rel AS (
  SELECT r.doc_id, r.table_no, r.rkey || ' basic' AS subject, r.basic AS observed,
         r.pers + r.pub AS expected, (r.pers <> 0) + (r.pub <> 0) AS n, r.f, r.unit
  FROM r JOIN has h ON h.doc_id = r.doc_id AND h.table_no = r.table_no
  WHERE h.hb AND h.hp
)""",
)

# measures that are not parts of a row's total: the total itself, "of which" columns
# (其中：专项资金, 其中：政府采购, 扣除基建项目后), single-figure and other-year columns
_NOT_PARTS = (
    "('total', 'gpb_special', 'amount', 'procurement', 'procurement_part', "
    "'project_excl_capital', 'prior_year', 'change')"
)

SOURCES_SUM = _relation(
    """ms AS (
  SELECT doc_id, table_no, COUNT(DISTINCT measure) AS n_measures FROM m
  WHERE kind IN ('income_summary', 'expenditure_summary', 'fiscal_grant_summary')
    AND measure NOT IN {_NOT_PARTS}
  GROUP BY doc_id, table_no
),
r0 AS (
  SELECT doc_id, table_no, COALESCE(code, name) AS rkey, MAX(f) AS f, MAX(unit) AS unit,
         SUM(CASE WHEN measure = 'total' THEN v END) AS total,
         SUM(CASE WHEN measure NOT IN {_NOT_PARTS} THEN v ELSE 0 END) AS leaves,
         SUM(CASE WHEN measure NOT IN {_NOT_PARTS} AND v <> 0 THEN 1 ELSE 0 END) AS nz,
         -- subtotals printed beside their own parts are not parts of the total:
         -- 财政拨款 小计 beside 一般公共预算 | 政府性基金 | 国有资本经营, 上年结转 小计 beside its
         -- funds, 本年收入 小计 beside the income sources
         CASE WHEN SUM(measure IN ('gpb', 'gov_fund', 'state_capital')) > 0
              THEN COALESCE(SUM(CASE WHEN measure = 'fiscal' THEN v END), 0) ELSE 0 END
         + CASE WHEN SUM(SUBSTR(measure, 1, 10) = 'carryover_') > 0
              THEN COALESCE(SUM(CASE WHEN measure = 'carryover' THEN v END), 0) ELSE 0 END
         + CASE WHEN SUM(measure NOT IN {_NOT_PARTS} AND measure NOT IN ('income', 'carryover')
                         AND SUBSTR(measure, 1, 10) <> 'carryover_') > 0
              THEN COALESCE(SUM(CASE WHEN measure = 'income' THEN v END), 0) ELSE 0 END
           AS subtotals
  FROM m WHERE kind IN ('income_summary', 'expenditure_summary', 'fiscal_grant_summary')
         AND measure <> 'amount'
  GROUP BY doc_id, table_no, classification, code, name
),
r AS (SELECT doc_id, table_no, rkey, f, unit, total, leaves - subtotals AS parts, nz FROM r0),
rel AS (
  SELECT r.doc_id, r.table_no, r.rkey || ' total' AS subject, COALESCE(r.total, 0) AS observed,
         r.parts AS expected, r.nz AS n, r.f, r.unit
  FROM r JOIN ms ON ms.doc_id = r.doc_id AND ms.table_no = r.table_no
  WHERE r.total IS NOT NULL OR r.parts <> 0
)""".replace("{_NOT_PARTS}", _NOT_PARTS),
)

# a 三公 table prints its items as columns (one printed row holds them all: group by the row)
# or as rows (行政经费 / “三公”经费 / 其中：因公出国 …, one item per row: group the table)
_THREE_PUBLIC_ROWS = """per_row AS (
  SELECT doc_id, table_no, measure, COALESCE(row_label, '') AS rl, COUNT(DISTINCT name) AS n
  FROM m WHERE kind = 'three_public' GROUP BY doc_id, table_no, measure, COALESCE(row_label, '')
),
shape AS (SELECT doc_id, table_no, MAX(n) AS widest FROM per_row GROUP BY doc_id, table_no),
tp AS (
  SELECT m.doc_id, m.table_no, m.measure, m.name, m.f, m.unit, m.v,
         CASE WHEN shape.widest = 1 THEN '' ELSE COALESCE(m.row_label, '') END AS rl
  FROM m JOIN shape ON shape.doc_id = m.doc_id AND shape.table_no = m.table_no
  WHERE m.kind = 'three_public'
)"""

THREE_PUBLIC = _relation(
    _THREE_PUBLIC_ROWS,
    """t AS (
  SELECT doc_id, table_no, measure, rl, MAX(f) AS f, MAX(unit) AS unit,
         SUM(CASE WHEN name LIKE '%三公%合计%' THEN v END) AS tot,
         SUM(CASE WHEN name LIKE '因公出国%' THEN v END) AS abroad,
         SUM(CASE WHEN name = '公务用车购置及运行维护费' THEN v END) AS car,
         SUM(CASE WHEN name = '公务用车购置费' THEN v END) AS car_buy,
         SUM(CASE WHEN name LIKE '公务用车运行%' THEN v END) AS car_run,
         SUM(CASE WHEN name LIKE '公务接待%' THEN v END) AS reception
  FROM tp GROUP BY doc_id, table_no, measure, rl
),
rel AS (
  SELECT doc_id, table_no, '“三公”经费合计 ' || measure || ' ' || rl AS subject,
         COALESCE(tot, 0) AS observed,
         COALESCE(abroad, 0) + COALESCE(car, 0) + COALESCE(reception, 0) AS expected,
         (COALESCE(abroad, 0) <> 0) + (COALESCE(car, 0) <> 0) + (COALESCE(reception, 0) <> 0) AS n, f, unit
  FROM t WHERE COALESCE(tot, abroad, car, reception) IS NOT NULL
  UNION ALL
  SELECT doc_id, table_no, '公务用车购置及运行维护费 ' || measure || ' ' || rl AS subject,
         COALESCE(car, 0) AS observed, COALESCE(car_buy, 0) + COALESCE(car_run, 0) AS expected,
         (COALESCE(car_buy, 0) <> 0) + (COALESCE(car_run, 0) <> 0) AS n, f, unit
  FROM t WHERE COALESCE(car, car_buy, car_run) IS NOT NULL
)""",
)

CHANGE = _relation(
    """t AS (
  SELECT doc_id, table_no, name, COALESCE(row_label, '') AS rl, MAX(f) AS f, MAX(unit) AS unit,
         SUM(CASE WHEN measure = 'change' THEN v END) AS change,
         SUM(CASE WHEN measure = 'amount' THEN v ELSE 0 END) AS amount,
         SUM(CASE WHEN measure = 'prior_year' THEN v ELSE 0 END) AS prior
  FROM m WHERE kind = 'three_public' GROUP BY doc_id, table_no, name, COALESCE(row_label, '')
),
has AS (SELECT DISTINCT doc_id, table_no FROM m WHERE kind = 'three_public' AND measure = 'change'),
rel AS (
  SELECT t.doc_id, t.table_no, t.name || ' change' AS subject, COALESCE(t.change, 0) AS observed,
         t.amount - t.prior AS expected, (t.amount <> 0) + (t.prior <> 0) AS n, t.f, t.unit
  FROM t JOIN has USING (doc_id, table_no)
)""",
)

PERF_FUNDS = _relation(
    """t AS (
  SELECT doc_id, table_no, name, MAX(f) AS f, MAX(unit) AS unit,
         SUM(CASE WHEN measure = 'total' THEN v END) AS total,
         SUM(CASE WHEN measure IN ('fiscal', 'other_funds') THEN v END) AS parts,
         SUM(CASE WHEN measure = 'period_total' THEN v END) AS ptotal,
         SUM(CASE WHEN measure IN ('period_fiscal', 'period_other') THEN v END) AS pparts
  FROM m WHERE kind LIKE 'perf%' GROUP BY doc_id, table_no, name
),
rel AS (
  SELECT doc_id, table_no, name || ' total' AS subject, COALESCE(total, 0) AS observed,
         COALESCE(parts, 0) AS expected, 2 AS n, f, unit
  FROM t WHERE total IS NOT NULL AND parts IS NOT NULL
  UNION ALL
  SELECT doc_id, table_no, name || ' period_total' AS subject, COALESCE(ptotal, 0) AS observed,
         COALESCE(pparts, 0) AS expected, 2 AS n, f, unit
  FROM t WHERE ptotal IS NOT NULL AND pparts IS NOT NULL
)""",
)

# 收支总表 / 财政拨款收支总表: the expenditure blocks (功能分类, 支出性质, 政府经济分类) print the
# same 合计 and 总计, and 收入总计 = 支出总计
BLOCK_TOTALS = _relation(
    """b AS (
  SELECT doc_id, table_no, classification, name, SUM(v) AS v, MAX(f) AS f, MAX(unit) AS unit
  FROM m WHERE kind IN ('budget_summary', 'fiscal_grant_summary') AND code IS NULL
         AND name IN ('合计', '总计') AND measure IN ('amount', 'total')
  GROUP BY doc_id, table_no, classification, name
),
rel AS (
  SELECT o.doc_id, o.table_no, o.classification || ' ' || o.name AS subject, o.v AS observed,
         fn.v AS expected, 1 AS n, MAX(o.f, fn.f) AS f, fn.unit
  FROM b o JOIN b fn ON fn.doc_id = o.doc_id AND fn.table_no = o.table_no
                    AND fn.classification = 'function'
                    AND (fn.name = o.name OR (o.classification = 'income_source' AND fn.name = '总计'))
  WHERE o.classification IN ('expense_type', 'econ_gov')
     OR (o.classification = 'income_source' AND o.name = '总计')
)""",
)


def _sql_list(values: tuple[str, ...]) -> str:
    """An SQL list of text literals (the rule file's names hold no quote)."""
    return "(" + ", ".join("'" + value.replace("'", "''") + "'" for value in values) + ")"


# the row names these rules rely on (mappings/summary_rows.yml), verified on its templates only
_ROWS = summary_rows()
_NAMED_ROW_TEMPLATES = (
    f"(SELECT doc_id FROM documents WHERE template IN {_sql_list(_ROWS.templates)})"
)
_TOP_EXPENSES = _sql_list(_ROWS.top_expenses)
_BEYOND = _sql_list(_ROWS.beyond)
_NOT_INCOME = _sql_list(_ROWS.not_income)
_NOT_CHILD = _sql_list(_ROWS.not_child)
_TOTALS, _HEADS = _sql_list(_ROWS.totals), _sql_list(_ROWS.heads)
_GRAND, _DEPARTMENT = _sql_list((_ROWS.grand_total,)), _sql_list((_ROWS.department,))
_GRANT, _CARRY = _sql_list((_ROWS.grant_total,)), _sql_list((_ROWS.carry,))
_CARRY_PARTS, _GRANT_PARTS = _sql_list(_ROWS.carry_parts), _sql_list(_ROWS.grant_parts)
_GROUPS = _sql_list(_ROWS.groups)

# 收支总表 / 财政拨款收支总表 rows named, not coded: income items, 支出性质 groups, 总计
SUMMARY_ITEMS = _relation(
    f"""b AS (
  SELECT doc_id, table_no, classification, name, SUM(v) AS v, MAX(f) AS f, MAX(unit) AS unit
  FROM m WHERE kind IN ('budget_summary', 'fiscal_grant_summary') AND code IS NULL
         AND measure IN ('amount', 'total') AND doc_id IN {_NAMED_ROW_TEMPLATES}
  GROUP BY doc_id, table_no, classification, name
),
k AS (
  SELECT doc_id, table_no, classification, MAX(f) AS f, MAX(unit) AS unit,
         SUM(CASE WHEN name IN {_TOTALS} THEN v END) AS tot,
         SUM(CASE WHEN name IN {_GRAND} THEN v END) AS grand,
         SUM(CASE WHEN name IN {_BEYOND} THEN v ELSE 0 END) AS beyond,
         COUNT(CASE WHEN name IN {_BEYOND} AND v <> 0 THEN 1 END) AS n_beyond,
         SUM(CASE WHEN classification <> 'income_source' AND name IN {_HEADS} THEN v END) AS head,
         SUM(CASE WHEN name IN {_DEPARTMENT} THEN v END) AS dept,
         SUM(CASE WHEN classification = 'income_source' AND name NOT IN {_NOT_INCOME}
                   AND name NOT IN {_BEYOND} AND name NOT LIKE '其中%' THEN v ELSE 0 END) AS incomes,
         COUNT(CASE WHEN classification = 'income_source' AND name NOT IN {_NOT_INCOME}
                     AND name NOT IN {_BEYOND} AND name NOT LIKE '其中%' THEN 1 END) AS n_incomes,
         COUNT(CASE WHEN classification = 'income_source' AND name NOT IN {_NOT_INCOME}
                     AND name NOT IN {_BEYOND} AND name NOT LIKE '其中%' AND v <> 0 THEN 1 END) AS nz_incomes,
         SUM(CASE WHEN classification = 'income_source' AND name IN {_GRANT} THEN v END) AS grant_total,
         SUM(CASE WHEN classification = 'income_source' AND name IN {_CARRY} THEN v END) AS carry,
         SUM(CASE WHEN classification = 'income_source'
                   AND name IN {_CARRY_PARTS} THEN v END) AS carry_parts,
         COUNT(CASE WHEN classification = 'income_source'
                     AND name IN {_CARRY_PARTS} AND v <> 0 THEN 1 END) AS nz_carry,
         SUM(CASE WHEN classification = 'income_source'
                   AND name IN {_GRANT_PARTS} THEN v ELSE 0 END) AS grant_parts,
         SUM(CASE WHEN classification = 'expense_type' AND name IN {_TOP_EXPENSES} THEN v ELSE 0 END) AS tops,
         COUNT(CASE WHEN classification = 'expense_type' AND name IN {_TOP_EXPENSES} THEN 1 END) AS n_tops,
         COUNT(CASE WHEN classification = 'expense_type' AND name IN {_TOP_EXPENSES} AND v <> 0 THEN 1 END) AS nz_tops,
         SUM(CASE WHEN classification = 'expense_type'
                   AND name IN {_GROUPS} THEN v ELSE 0 END) AS groups,
         SUM(CASE WHEN classification = 'expense_type' AND name NOT IN {_TOP_EXPENSES}
                   AND name NOT IN {_NOT_CHILD} AND name NOT IN {_BEYOND} THEN v ELSE 0 END) AS members,
         COUNT(CASE WHEN classification = 'expense_type' AND name NOT IN {_TOP_EXPENSES}
                     AND name NOT IN {_NOT_CHILD} AND name NOT IN {_BEYOND} THEN 1 END) AS n_members,
         COUNT(CASE WHEN classification = 'expense_type' AND name NOT IN {_TOP_EXPENSES}
                     AND name NOT IN {_NOT_CHILD} AND name NOT IN {_BEYOND} AND v <> 0 THEN 1 END) AS nz_members
  FROM b GROUP BY doc_id, table_no, classification
),
rel AS (
  SELECT doc_id, table_no, classification || ' 总计' AS subject, grand AS observed,
         tot + beyond AS expected, n_beyond + 1 AS n, f, unit
  FROM k WHERE grand IS NOT NULL AND tot IS NOT NULL
  UNION ALL
  SELECT doc_id, table_no, classification || ' 合计' AS subject, tot, incomes, nz_incomes, f, unit
  FROM k WHERE classification = 'income_source' AND tot IS NOT NULL AND n_incomes > 0
  UNION ALL
  SELECT doc_id, table_no, '财政拨款', grant_total, grant_parts, 3, f, unit
  FROM k WHERE grant_total IS NOT NULL
  UNION ALL
  SELECT doc_id, table_no, '上年结转', COALESCE(carry, 0), carry_parts, nz_carry, f, unit
  FROM k WHERE carry_parts IS NOT NULL
  UNION ALL
  SELECT doc_id, table_no, classification || ' 部门预算', dept, tot, 1, f, unit
  FROM k WHERE classification = 'income_source' AND dept IS NOT NULL AND tot IS NOT NULL
  UNION ALL
  SELECT doc_id, table_no, classification || ' 部门预算/财政拨款', head, tot, 1, f, unit
  FROM k WHERE head IS NOT NULL AND tot IS NOT NULL
  UNION ALL
  SELECT doc_id, table_no, 'expense_type 合计', tot, tops, nz_tops, f, unit
  FROM k WHERE classification = 'expense_type' AND tot IS NOT NULL AND n_tops > 0
  UNION ALL
  SELECT doc_id, table_no, 'expense_type 人员经费和公用经费支出 + 专项业务经费支出', groups, members,
         nz_members, f, unit
  FROM k WHERE classification = 'expense_type' AND n_members > 0
)""",
)

# 专项业务经费支出表: 合计 = the department rows = the 专项 groups = the projects under them
PROJECT_LIST = _relation(
    """p AS (
  SELECT doc_id, table_no, MAX(f) AS f, MAX(unit) AS unit,
         SUM(CASE WHEN classification = 'project' AND name = '合计' THEN v END) AS tot,
         MIN(CASE WHEN classification = 'unit' THEN LENGTH(code) END) AS dept_len
  FROM m WHERE kind = 'project_expenditure' AND doc_id IN """
    + _NAMED_ROW_TEMPLATES
    + """
  GROUP BY doc_id, table_no
),
parts AS (
  SELECT p.doc_id, p.table_no, 'departments' AS part,
         SUM(m.v) AS v, SUM(m.v <> 0) AS n
  FROM p JOIN m ON m.doc_id = p.doc_id AND m.table_no = p.table_no
  WHERE m.classification = 'unit' AND LENGTH(m.code) = p.dept_len
  GROUP BY p.doc_id, p.table_no
  UNION ALL
  SELECT m.doc_id, m.table_no, '专项 groups', SUM(m.v), SUM(m.v <> 0) FROM m
  WHERE m.kind = 'project_expenditure' AND m.classification = 'project' AND m.name LIKE '%专项'
  GROUP BY m.doc_id, m.table_no
  UNION ALL
  SELECT p.doc_id, p.table_no, 'units', SUM(m.v), SUM(m.v <> 0)
  FROM p JOIN m ON m.doc_id = p.doc_id AND m.table_no = p.table_no
  WHERE m.classification = 'unit' AND LENGTH(m.code) > p.dept_len AND EXISTS (
        SELECT 1 FROM m d WHERE d.doc_id = m.doc_id AND d.table_no = m.table_no
          AND d.classification = 'unit' AND LENGTH(d.code) = p.dept_len
          AND SUBSTR(m.code, 1, p.dept_len) = d.code)
  GROUP BY p.doc_id, p.table_no
  UNION ALL
  SELECT m.doc_id, m.table_no, '项目 categories', SUM(m.v), SUM(m.v <> 0) FROM m
  WHERE m.kind = 'project_expenditure' AND m.classification = 'project' AND m.name LIKE '%项目'
  GROUP BY m.doc_id, m.table_no
  UNION ALL
  SELECT m.doc_id, m.table_no, 'projects', SUM(m.v), SUM(m.v <> 0) FROM m
  JOIN p ON p.doc_id = m.doc_id AND p.table_no = m.table_no
  WHERE m.kind = 'project_expenditure' AND m.name <> '合计'
    AND m.name NOT LIKE '%专项' AND m.name NOT LIKE '%项目'
    AND (m.classification = 'project' OR (m.classification = 'unit' AND NOT EXISTS (
         SELECT 1 FROM m d WHERE d.doc_id = m.doc_id AND d.table_no = m.table_no
           AND d.classification = 'unit' AND LENGTH(d.code) = p.dept_len
           AND SUBSTR(m.code, 1, p.dept_len) = d.code)))
  GROUP BY m.doc_id, m.table_no
),
rel AS (
  SELECT p.doc_id, p.table_no, '合计 = ' || parts.part AS subject, p.tot AS observed,
         parts.v AS expected, parts.n AS n, p.f, p.unit
  FROM p JOIN parts ON parts.doc_id = p.doc_id AND parts.table_no = p.table_no
  WHERE p.tot IS NOT NULL
)""",
)

# a scalar per (document, name): the 合计 row of a table kind, one measure
_SCALARS = """s AS (
  SELECT doc_id, kind, classification, name, measure, MIN(table_no) AS table_no, SUM(v) AS v,
         MAX(f) AS f, MAX(unit) AS unit
  FROM m WHERE code IS NULL GROUP BY doc_id, kind, classification, name, measure
)"""


def _compare(pairs: list[tuple[str, str, str]]) -> str:
    """Instances for scalar equalities ``(subject, left condition, right condition)`` on ``s``."""
    selects = [
        f"""  SELECT a.doc_id, a.table_no, '{subject}' AS subject, a.v AS observed, b.v AS expected,
         1 AS n, MAX(a.f, b.f) AS f, a.unit
  FROM s a JOIN s b ON b.doc_id = a.doc_id AND {right}
  WHERE {left}"""
        for subject, left, right in pairs
    ]
    return _relation(_SCALARS, "rel AS (\n" + "\n  UNION ALL\n".join(selects) + "\n)")


SUMMARY_TOTALS = _compare(
    [
        (
            "支出总表合计 = 收支总表支出合计",
            "a.kind = 'expenditure_summary' AND a.name = '合计' AND a.measure = 'total'",
            "b.kind = 'budget_summary' AND b.classification = 'function' AND b.name = '合计' AND b.measure IN ('amount', 'total')",
        ),
        (
            "专项业务经费支出表合计 = 收支总表专项业务经费支出",
            "a.kind = 'project_expenditure' AND a.classification = 'project' AND a.name = '合计'",
            "b.kind = 'budget_summary' AND b.classification = 'expense_type' AND b.name = '专项业务经费支出'",
        ),
        (
            "收入总表合计 = 支出总表合计",
            "a.kind = 'income_summary' AND a.name = '合计' AND a.measure = 'total'"
            " AND a.doc_id IN (SELECT doc_id FROM documents WHERE doc_kind = 'budget')",
            "b.kind = 'expenditure_summary' AND b.name = '合计' AND b.measure = 'total'",
        ),
    ]
)

GPB_TOTALS = _compare(
    [
        (
            "一般公共预算支出合计 = 收入总表一般公共预算拨款",
            "a.kind = 'gpb_expenditure_by_function' AND a.name = '合计' AND a.measure = 'total'",
            "b.kind = 'income_summary' AND b.name = '合计' AND b.measure = 'gpb'",
        ),
        (
            "一般公共预算支出合计 = 财政拨款收支总表一般公共预算拨款",
            "a.kind = 'gpb_expenditure_by_function' AND a.name = '合计' AND a.measure = 'total'",
            "b.kind = 'fiscal_grant_summary' AND b.classification = 'income_source' AND b.name = '一般公共预算拨款' AND b.measure IN ('amount', 'total')",
        ),
    ]
)

FUNCTION_ECON = _compare(
    [
        (
            "按功能分类合计 = 按经济分类合计",
            "a.kind = 'gpb_expenditure_by_function' AND a.name = '合计'",
            "b.kind = 'gpb_expenditure_by_econ' AND b.name = '合计' AND b.measure = a.measure",
        ),
        (
            "基本支出按功能分类合计 = 按经济分类合计",
            "a.kind = 'gpb_basic_by_function' AND a.name = '合计'",
            "b.kind = 'gpb_basic_by_econ' AND b.name = '合计' AND b.measure = a.measure",
        ),
    ]
)

# 基本支出 tables against the 基本支出 columns of the expenditure tables, per code and in total
BASIC_TABLES = _relation(
    """basic_of AS (
  SELECT doc_id, kind, classification, COALESCE(code, name) AS rkey, MIN(table_no) AS table_no,
         MAX(f) AS f, MAX(unit) AS unit,
         CASE WHEN MAX(measure = 'basic') THEN SUM(CASE WHEN measure = 'basic' THEN v ELSE 0 END)
              ELSE SUM(CASE WHEN measure IN ('basic_personnel', 'basic_public') THEN v ELSE 0 END) END AS v
  FROM m WHERE kind IN ('gpb_expenditure_by_function', 'gpb_expenditure_by_econ')
  GROUP BY doc_id, kind, classification, code, name
),
total_of AS (
  -- a 基本支出 table printed as 人员经费 | 公用经费 blocks has no total column: its parts add up;
  -- one headed 基本支出 over 小计 | 人员经费 | 公用经费 has its total as the 基本支出 小计
  SELECT doc_id, kind, classification, COALESCE(code, name) AS rkey, MIN(table_no) AS table_no,
         MAX(f) AS f, MAX(unit) AS unit,
         CASE WHEN MAX(measure = 'total') THEN SUM(CASE WHEN measure = 'total' THEN v ELSE 0 END)
              WHEN MAX(measure = 'basic') THEN SUM(CASE WHEN measure = 'basic' THEN v ELSE 0 END)
              ELSE SUM(CASE WHEN measure IN ('basic_personnel', 'basic_public') THEN v ELSE 0 END) END AS v
  FROM m WHERE kind IN ('gpb_basic_by_function', 'gpb_basic_by_econ')
  GROUP BY doc_id, kind, classification, code, name
),
pairs(exp_kind, basic_kind) AS (
  VALUES ('gpb_expenditure_by_function', 'gpb_basic_by_function'),
         ('gpb_expenditure_by_econ', 'gpb_basic_by_econ')
),
both_tables AS (
  SELECT DISTINCT e.doc_id, p.exp_kind, p.basic_kind
  FROM basic_of e JOIN pairs p ON p.exp_kind = e.kind
  JOIN total_of t ON t.doc_id = e.doc_id AND t.kind = p.basic_kind
),
keys AS (
  SELECT b.doc_id, b.exp_kind, b.basic_kind, t.classification, t.rkey FROM both_tables b
  JOIN total_of t ON t.doc_id = b.doc_id AND t.kind = b.basic_kind
  UNION
  SELECT b.doc_id, b.exp_kind, b.basic_kind, e.classification, e.rkey FROM both_tables b
  JOIN basic_of e ON e.doc_id = b.doc_id AND e.kind = b.exp_kind AND e.v <> 0
),
rel AS (
  SELECT k.doc_id, COALESCE(t.table_no, e.table_no) AS table_no,
         k.rkey || ' 基本支出' AS subject, COALESCE(t.v, 0) AS observed, COALESCE(e.v, 0) AS expected,
         2 AS n, MAX(COALESCE(t.f, e.f), COALESCE(e.f, t.f)) AS f, COALESCE(t.unit, e.unit) AS unit
  FROM keys k
  LEFT JOIN total_of t ON t.doc_id = k.doc_id AND t.kind = k.basic_kind AND t.rkey = k.rkey
  LEFT JOIN basic_of e ON e.doc_id = k.doc_id AND e.kind = k.exp_kind AND e.rkey = k.rkey
  UNION ALL
  SELECT a.doc_id, a.table_no, '一般公共预算支出基本支出合计 = 基本支出表合计' AS subject,
         a.v AS observed, b.v AS expected, 2 AS n, MAX(a.f, b.f) AS f, a.unit
  FROM basic_of a JOIN total_of b ON b.doc_id = a.doc_id AND b.rkey = '合计'
  WHERE a.kind = 'gpb_expenditure_by_function' AND a.rkey = '合计'
    AND b.kind = CASE WHEN EXISTS (SELECT 1 FROM total_of x WHERE x.doc_id = a.doc_id
                                    AND x.kind = 'gpb_basic_by_function')
                      THEN 'gpb_basic_by_function' ELSE 'gpb_basic_by_econ' END
    AND NOT EXISTS (SELECT 1 FROM both_tables z WHERE z.doc_id = a.doc_id AND z.exp_kind = a.kind)
)""",
)

CODE_LENGTH = """
SELECT doc_id, table_no, classification || ' ' || code || ' ' || name AS subject,
       code AS observed,
       CASE classification WHEN 'econ_gov' THEN '3 or 5 digits' ELSE '3, 5 or 7 digits' END
         AS expected,
       'error' AS severity, 1.0 AS weight
FROM {batch}
WHERE code IS NOT NULL AND (
      (classification IN ('function', 'econ_dept') AND LENGTH(code) NOT IN (3, 5, 7))
   OR (classification = 'econ_gov' AND LENGTH(code) NOT IN (3, 5)))
UNION ALL
SELECT doc_id, table_no, 'alt_code ' || alt_code || ' ' || COALESCE(alt_name, '') AS subject,
       alt_code AS observed, '3, 5 or 7 digits' AS expected, 'error' AS severity, 1.0 AS weight
FROM {batch} WHERE alt_code IS NOT NULL AND LENGTH(alt_code) NOT IN (3, 5, 7)"""

CODE_HIERARCHY = """
SELECT doc_id, table_no, classification || ' ' || code || ' ' || name AS subject,
       'level ' || COALESCE(level, '-') || ', parent ' || COALESCE(parent_code, '-') AS observed,
       'level ' || ((LENGTH(code) - 1) / 2) || ', parent '
         || CASE WHEN LENGTH(code) > 3 THEN SUBSTR(code, 1, LENGTH(code) - 2) ELSE '-' END AS expected,
       'error' AS severity, 1.0 AS weight
FROM {batch}
WHERE code IS NOT NULL AND classification IN ('function', 'econ_dept', 'econ_gov')
  AND LENGTH(code) IN (3, 5, 7)
  AND (COALESCE(level, 0) <> (LENGTH(code) - 1) / 2
       OR COALESCE(parent_code, '') <> CASE WHEN LENGTH(code) > 3
                                            THEN SUBSTR(code, 1, LENGTH(code) - 2) ELSE '' END)"""

# unit rows (单位编码) extend their department's code: 621 → 621002
CODE_UNIT = """
WITH u AS (SELECT * FROM {batch} WHERE classification = 'unit' AND code IS NOT NULL),
dept AS (SELECT doc_id, table_no, MIN(LENGTH(code)) AS n FROM u GROUP BY doc_id, table_no)
SELECT DISTINCT u.doc_id, u.table_no, 'unit ' || u.code || ' ' || u.name AS subject, u.code AS observed,
       'a code under department ' || (SELECT MIN(x.code) FROM u x WHERE x.doc_id = u.doc_id
                                      AND x.table_no = u.table_no AND LENGTH(x.code) = dept.n) AS expected,
       'warn' AS severity, 1.0 AS weight
FROM u JOIN dept ON dept.doc_id = u.doc_id AND dept.table_no = u.table_no
WHERE NOT EXISTS (SELECT 1 FROM u d WHERE d.doc_id = u.doc_id AND d.table_no = u.table_no
                  AND LENGTH(d.code) = dept.n AND SUBSTR(u.code, 1, dept.n) = d.code)"""

_KNOWN = """EXISTS (SELECT 1 FROM ref_codes r WHERE r.classification = {cls} AND r.code = {code}
        AND (r.valid_from IS NULL OR l.fiscal_year IS NULL OR r.valid_from <= l.fiscal_year)
        AND (r.valid_to IS NULL OR l.fiscal_year IS NULL OR r.valid_to >= l.fiscal_year))"""

CODE_KNOWN = (
    """
WITH l AS (SELECT * FROM {batch})
SELECT doc_id, table_no, subject, observed, expected, 'warn' AS severity, 1.0 AS weight FROM (
  SELECT DISTINCT l.doc_id, l.table_no, l.classification || ' ' || l.code || ' ' || l.name AS subject,
         l.code AS observed, l.classification || ' code valid in ' || COALESCE(l.fiscal_year, '?') AS expected
  FROM l
  WHERE l.code IS NOT NULL AND l.classification IN ('function', 'econ_dept', 'econ_gov')
    AND NOT """
    + _KNOWN.replace("{cls}", "l.classification").replace("{code}", "l.code")
    + """
  UNION
  SELECT DISTINCT l.doc_id, l.table_no, 'econ_gov ' || l.alt_code || ' ' || COALESCE(l.alt_name, ''),
         l.alt_code, 'econ_gov code valid in ' || COALESCE(l.fiscal_year, '?')
  FROM l
  WHERE l.alt_code IS NOT NULL AND NOT """
    + _KNOWN.replace("{cls}", "'econ_gov'").replace("{code}", "l.alt_code")
    + """
)"""
)

# the figures the narrative states against the tables (``checks:`` in mappings/facts.yml, as the
# table ref_fact_checks): one instance per stated figure that its table row contradicts
NARRATIVE_TOTALS = (
    "WITH "
    + CROSS_CHECK_CTES
    + """
SELECT doc_id, table_no, subject, observed, expected, 'warn' AS severity, weight
FROM cmp WHERE NOT success"""
)

# a document without any table (a narrative half published apart) is not checked here
TABLES_PRESENT = """
WITH d AS (SELECT * FROM {batch})
SELECT d.doc_id, r.table_no, '表' || r.table_no || ' ' || r.kind AS subject, 'missing' AS observed,
       'present or declared empty' AS expected, 'error' AS severity, 1.0 AS weight
FROM d JOIN ref_template_tables r ON r.template = d.template AND r.required = 1
WHERE EXISTS (SELECT 1 FROM tables t WHERE t.doc_id = d.doc_id)
  AND NOT EXISTS (SELECT 1 FROM tables t WHERE t.doc_id = d.doc_id AND t.table_no = r.table_no)"""


ROW_SET_CHECKS: tuple[Check, ...] = (
    Check(
        "codes.length",
        ERROR,
        "line_items",
        "codes have a valid length for their classification (功能分类 3/5/7 digits, 经济分类 3/5)",
        CODE_LENGTH,
    ),
    Check(
        "codes.hierarchy",
        ERROR,
        "line_items",
        "level and parent_code agree with the code (类/款/项 from its length, parent its prefix)",
        CODE_HIERARCHY,
    ),
    Check(
        "codes.unit",
        WARN,
        "line_items",
        "unit rows (单位编码) extend their department's code; another code is a misread row label",
        CODE_UNIT,
    ),
    Check(
        "codes.known",
        WARN,
        "line_items",
        "codes exist in the reference code lists for the fiscal year (unknown codes are kept, not dropped)",
        CODE_KNOWN,
    ),
    Check(
        "arith.children_sum",
        ERROR,
        "line_items",
        "children sum to their parent in every column: 项 to 款, 款 to 类",
        CHILDREN_SUM,
    ),
    Check(
        "arith.total_sum",
        ERROR,
        "line_items",
        "类 sum to the 合计 row in every column (detail tables and 收支总表 blocks)",
        TOTAL_SUM,
    ),
    Check(
        "arith.row_total",
        ERROR,
        "line_items",
        "total = basic + project (or 人员经费 + 公用经费 + 项目支出) in every row",
        ROW_TOTAL,
    ),
    Check(
        "arith.basic_parts",
        ERROR,
        "line_items",
        "basic = basic_personnel + basic_public in every row",
        BASIC_PARTS,
    ),
    Check(
        "arith.sources_sum",
        ERROR,
        "line_items",
        "收入总表 / 支出总表 / 财政拨款收支总表: the total column is the sum of the other columns",
        SOURCES_SUM,
    ),
    Check(
        "arith.three_public",
        ERROR,
        "line_items",
        "“三公”经费合计 = 因公出国(境)费 + 公务用车购置及运行维护费 + 公务接待费; 小计 = 购置费 + 运行维护费",
        THREE_PUBLIC,
    ),
    Check("arith.change", ERROR, "line_items", "三公 table: change = amount − prior_year", CHANGE),
    Check(
        "arith.perf_funds",
        ERROR,
        "line_items",
        "绩效目标表: total = fiscal + other_funds; period_total = period_fiscal + period_other",
        PERF_FUNDS,
    ),
    Check(
        "arith.project_list",
        ERROR,
        "line_items",
        "专项业务经费支出表: 合计 = the department rows = the 专项 groups = the projects",
        PROJECT_LIST,
    ),
    Check(
        "arith.summary_items",
        ERROR,
        "line_items",
        "收支总表 / 财政拨款收支总表 named rows: income items sum to 合计, 财政拨款 to its parts, 支出性质 groups to 合计 and to their items, 合计 + 结转 to 总计",
        SUMMARY_ITEMS,
    ),
    Check(
        "cross.block_totals",
        ERROR,
        "line_items",
        "收支总表 / 财政拨款收支总表: the expenditure blocks print the same 合计 and 总计; 收入总计 = 支出总计",
        BLOCK_TOTALS,
    ),
    Check(
        "cross.summary_totals",
        ERROR,
        "line_items",
        "收入总表 合计 = 支出总表 合计 = 收支总表 本年支出合计",
        SUMMARY_TOTALS,
    ),
    Check(
        "cross.gpb_totals",
        ERROR,
        "line_items",
        "一般公共预算支出表 合计 = 收入总表 一般公共预算拨款 = 财政拨款收支总表 一般公共预算拨款",
        GPB_TOTALS,
    ),
    Check(
        "cross.function_econ",
        ERROR,
        "line_items",
        "by-function and by-economic-classification tables have the same 合计 in every column",
        FUNCTION_ECON,
    ),
    Check(
        "cross.basic_tables",
        ERROR,
        "line_items",
        "基本支出 tables equal the 基本支出 columns of the 一般公共预算支出 tables, per code and in total",
        BASIC_TABLES,
    ),
    Check(
        "cross.narrative_totals",
        WARN,
        "facts",
        "totals the narrative states (收支总计, 一般公共预算拨款, “三公”经费 and its items, 会议费, "
        "培训费, each explained 功能分类 line) equal their table row, within half a unit of the "
        "stated figure's last digit; a warning: the tables are read right, it is the "
        "publication that contradicts itself (or a stated figure misread), which must be seen "
        "but does not keep the tables from publication",
        NARRATIVE_TOTALS,
    ),
    Check(
        "completeness.tables",
        ERROR,
        "documents",
        "every table the template requires is present (or published as an empty form)",
        TABLES_PRESENT,
    ),
)

SCHEMA_CHECKS: tuple[Check, ...] = (
    Check(
        "schema.columns", ERROR, "*", "every dataset has exactly the contract's columns, in order"
    ),
    Check("schema.types", ERROR, "*", "every column has the contract's type"),
    Check("schema.not_null", ERROR, "*", "key and required columns are never null"),
    Check("schema.values", ERROR, "*", "enumerated columns hold allowed values only"),
    Check(
        "schema.pattern",
        ERROR,
        "*",
        "identifiers and codes match their pattern (codes are ASCII digit strings)",
    ),
    Check("schema.unique_key", ERROR, "*", "the primary key is unique"),
)

CHECKS: tuple[Check, ...] = SCHEMA_CHECKS + ROW_SET_CHECKS
CHECK_ORDER = {check.id: index for index, check in enumerate(CHECKS)}
CHECKS_BY_ID = {check.id: check for check in CHECKS}
