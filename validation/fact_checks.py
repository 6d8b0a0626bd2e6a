"""Cross-checks of the narrative's stated figures against the tables (SQL, run by the
validation suites: check ``cross.narrative_totals``).

Split from ``mappings/narrative.py`` (issue 18): one responsibility per file."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from budget_disclosures.extractors.numbers import (
    MONEY_UNIT_FACTORS,
    stated_tolerance_sql,
    unit_factor_sql,
)
from budget_disclosures.mappings.narrative_facts import FactPatterns, default_fact_patterns

# --------------------------------------------------------------------------- cross-checks
#
# The comparison is one SQL query (SQLite) over the ``facts`` rows (``{batch}``), the
# ``line_items`` table and ``ref_fact_checks`` (the ``checks:`` of ``facts.yml`` as rows), so
# that validation runs the very same query at ingest and under GX (check
# ``cross.narrative_totals``), and :func:`cross_check_totals` runs it on plain rows.

FACT_CHECKS_TABLE = "ref_fact_checks"
_FACT_CHECKS_COLUMNS = (
    "check_no INTEGER, fact TEXT, kind TEXT, classification TEXT, measure TEXT, how TEXT, "
    "word TEXT, rank INTEGER"
)

CROSS_CHECK_CTES = f"""f AS (
  SELECT doc_id, fact, code, value, unit, page, sentence,
         {unit_factor_sql("unit")} AS factor,
         RTRIM(PRINTF('%.6f', ABS(value)), '0') AS digits
  FROM {{batch}}
  WHERE value IS NOT NULL AND unit IN ({", ".join(f"'{u}'" for u in MONEY_UNIT_FACTORS)})
),
candidate AS (
  SELECT f.*, LENGTH(f.digits) - INSTR(f.digits, '.') AS d, l.table_no, l.name AS row_name,
         l.measure, l.amount_yuan,
         ROW_NUMBER() OVER (PARTITION BY r.check_no, f.doc_id, f.fact, f.code, f.value, f.unit,
                                         f.page, f.sentence
                            ORDER BY r.rank, l.rowid) AS k
  FROM f JOIN {FACT_CHECKS_TABLE} r ON r.fact = f.fact AND r.how <> 'not'
  JOIN line_items l ON l.doc_id = f.doc_id AND l.kind = r.kind AND l.measure = r.measure
   AND (r.classification IS NULL OR l.classification = r.classification)
   AND l.amount_yuan IS NOT NULL
   AND CASE r.how WHEN 'code' THEN l.code = f.code
                  WHEN 'name' THEN l.name = r.word
                  ELSE INSTR(l.name, r.word) > 0 AND NOT EXISTS (
                       SELECT 1 FROM {FACT_CHECKS_TABLE} x
                       WHERE x.check_no = r.check_no AND x.how = 'not' AND INSTR(l.name, x.word) > 0)
       END
),
c AS (
  SELECT doc_id, table_no, fact, code, page, unit, row_name, measure, COALESCE(sentence, '') AS sentence,
         value * factor AS observed_yuan, amount_yuan AS expected_yuan,
         {stated_tolerance_sql("d", "factor")} AS tolerance,
         PRINTF('%.*f', d, value) || ' ' || unit AS observed,
         PRINTF('%.*f', MAX(d, 2), amount_yuan / factor) || ' ' || unit AS expected,
         PRINTF('%.*f', d, ABS(value)) || unit AS stated,
         PRINTF('%.*f', d, ABS(value)) || ' ' || unit AS stated_spaced
  FROM candidate WHERE k = 1
),
spot AS (
  SELECT c.*,
         CASE WHEN INSTR(sentence, stated) > 0 THEN INSTR(sentence, stated)
              ELSE INSTR(sentence, stated_spaced) END AS pos,
         CASE WHEN INSTR(sentence, stated) > 0 THEN LENGTH(stated)
              ELSE LENGTH(stated_spaced) END AS span
  FROM c
),
cmp AS (
  SELECT doc_id, table_no, fact, code, page, unit, row_name, measure, observed, expected,
         observed_yuan, expected_yuan,
         ABS(observed_yuan - expected_yuan) <= tolerance AS success,
         ABS(observed_yuan - expected_yuan) / tolerance AS weight,
         fact || COALESCE(' ' || code, '') || ' p.' || COALESCE(page, '?') || ' “'
           || CASE WHEN pos > 0
                   THEN CASE WHEN pos > 31 THEN '…' ELSE '' END
                        || SUBSTR(sentence, MAX(1, pos - 30), MIN(pos - 1, 30) + span)
                        || CASE WHEN pos + span - 1 < LENGTH(sentence) THEN '…' ELSE '' END
                   ELSE SUBSTR(sentence, 1, 40) || CASE WHEN LENGTH(sentence) > 40 THEN '…' ELSE '' END
              END
           || '” vs ' || row_name || ' ' || measure AS subject
  FROM spot
)"""
"""The comparisons as common table expressions ending in ``cmp``: per stated figure the
table row it is compared with (``table_no``, ``row_name``, ``measure``), both values printed
(``observed``: the narrative's, ``expected``: the table's, in the narrative's unit) and in
yuan, ``success``, ``weight`` (the difference in tolerances) and ``subject`` (the fact, its
page, the words around the figure, the table row)."""

CROSS_CHECK_SQL = "WITH " + CROSS_CHECK_CTES + "\nSELECT * FROM cmp"


def fact_check_rows(patterns: FactPatterns | None = None) -> list[tuple]:
    """The ``checks:`` of ``facts.yml`` as rows of :data:`FACT_CHECKS_TABLE`.

    One row per way a table row can be the one a fact is compared with, per kind and measure:
    ``how`` is ``code`` (the row has the fact's code), ``name`` (the row's name is ``word``)
    or ``contains`` (the name contains ``word``); ``rank`` orders the ways (``names`` in their
    order, then ``contains``), the earlier row breaking ties. ``how = 'not'`` rows hold the
    ``not_contains`` words of a check (``check_no``: its position in ``facts.yml``).
    """
    patterns = patterns or default_fact_patterns()
    rows: list[tuple] = []
    for check_no, check in enumerate(patterns.vocabulary.checks):
        if check.by_code:
            ways = [("code", None, 0)]
        else:
            ways = [("name", name, rank) for rank, name in enumerate(check.names)]
            ways += [("contains", word, len(check.names)) for word in check.contains]
        rows += [
            (check_no, check.fact, kind, check.classification, measure, how, word, rank)
            for kind in check.kinds
            for measure in check.measures
            for how, word, rank in ways
        ]
        rows += [
            (check_no, check.fact, None, None, None, "not", word, None)
            for word in check.not_contains
        ]
    return rows


def create_fact_checks(con: sqlite3.Connection, patterns: FactPatterns | None = None) -> None:
    """Create and fill :data:`FACT_CHECKS_TABLE` in ``con`` (beside the datasets' tables)."""
    con.execute(f"CREATE TABLE {FACT_CHECKS_TABLE} ({_FACT_CHECKS_COLUMNS})")
    con.executemany(
        f"INSERT INTO {FACT_CHECKS_TABLE} VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        fact_check_rows(patterns),
    )


_FACT_COLUMNS = ("doc_id", "fact", "code", "value", "unit", "page", "sentence")
_ITEM_COLUMNS = ("doc_id", "table_no", "kind", "classification", "code", "name", "measure")


def _plain(value):
    """NaN (a pandas gap) as None."""
    return None if isinstance(value, float) and value != value else value


def cross_check_totals(
    facts: Iterable[dict], line_items: Iterable[dict], patterns: FactPatterns | None = None
) -> list[dict]:
    """Compare the totals the narrative states with the tables' figures.

    ``facts`` and ``line_items`` are one document's rows (dicts with the datasets' columns).
    Returns one finding per comparison that both sides allow::

        {"check": "narrative.budget_total", "severity": "warn", "success": True,
         "observed": "363.45 万元", "expected": "363.45 万元", "table_no": "1",
         "detail": "…", "fact": "budget_total", "code": None, "page": 4,
         "observed_yuan": 3634500.0, "expected_yuan": 3634500.0}

    ``observed`` is the narrative's figure, ``expected`` the table's (in the narrative's
    unit); they agree when they differ by at most half a unit of the narrative's last
    printed digit.  The pairs compared are data (``checks:`` in ``mappings/facts.yml``);
    the comparison is :data:`CROSS_CHECK_SQL`, the query validation runs
    (``cross.narrative_totals``).
    """
    con = sqlite3.connect(":memory:")
    try:
        create_fact_checks(con, patterns or default_fact_patterns())
        con.execute(f"CREATE TABLE facts ({', '.join(_FACT_COLUMNS)})")
        con.execute(f"CREATE TABLE line_items ({', '.join(_ITEM_COLUMNS)}, amount_yuan REAL)")
        con.executemany(  # one document: its id is not needed
            f"INSERT INTO facts VALUES ({', '.join('?' * len(_FACT_COLUMNS))})",
            [("", *(_plain(f.get(c)) for c in _FACT_COLUMNS[1:])) for f in facts],
        )
        con.executemany(
            f"INSERT INTO line_items VALUES ({', '.join('?' * (len(_ITEM_COLUMNS) + 1))})",
            [
                ("", *(_plain(r.get(c)) for c in (*_ITEM_COLUMNS[1:], "amount_yuan")))
                for r in line_items
            ],
        )
        cursor = con.execute(CROSS_CHECK_SQL.replace("{batch}", "facts"))
        names = [d[0] for d in cursor.description]
        found = [dict(zip(names, row)) for row in cursor.fetchall()]
    finally:
        con.close()
    return [_finding(row) for row in found]


def _finding(row: dict) -> dict:
    """A comparison of :data:`CROSS_CHECK_SQL` as a finding of :func:`cross_check_totals`."""
    success = bool(row["success"])
    unit = row["unit"]
    factor = MONEY_UNIT_FACTORS[unit]
    label = row["fact"] + (f" {row['code']}" if row["code"] else "")
    differs = abs(row["observed_yuan"] - row["expected_yuan"]) / factor
    return {
        "check": f"narrative.{row['fact']}",
        "severity": "warn",
        "success": success,
        "observed": row["observed"],
        "expected": row["expected"],
        "table_no": row["table_no"],
        "detail": (
            f"{label}: the narrative states {row['observed']} (p.{row['page']}), "
            f"表{row['table_no']} {row['row_name']} {row['measure']} is {row['expected']}"
            + ("" if success else f" (differs by {differs:g} {unit})")
        ),
        "fact": row["fact"],
        "code": row["code"],
        "page": row["page"],
        "subject": row["subject"],
        "observed_yuan": round(row["observed_yuan"], 2),
        "expected_yuan": round(row["expected_yuan"], 2),
    }
