"""What `make demo` prints after ingesting the samples: where the data is and one query."""

from __future__ import annotations

import argparse
from pathlib import Path

import duckdb

EXAMPLE_SQL = """
SELECT d.unit_name, d.fiscal_year, l.code, l.name, l.amount_yuan
FROM read_parquet('{curated}/line_items/*.parquet') l
JOIN read_parquet('{curated}/documents/*.parquet') d USING (doc_id)
WHERE l.kind = 'gpb_expenditure_by_function' AND l.measure = 'total' AND l.level = 1
ORDER BY l.amount_yuan DESC
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--curated", type=Path, default=Path("curated"))
    args = parser.parse_args()
    curated = args.curated.resolve()
    print(f"\nCurated datasets are in {curated}/ :")
    for folder in sorted(p for p in curated.iterdir() if p.is_dir() and not p.name.startswith("_")):
        print(f"  {folder.name}/  ({len(list(folder.glob('*.parquet')))} files)")
    sql = EXAMPLE_SQL.format(curated=curated)
    print("\nExample DuckDB query — general-public-budget expenditure by function class (类):")
    print(sql)
    print(duckdb.sql(sql))
    log = curated / "corrections"
    if any(log.glob("*.parquet")):
        applied = duckdb.sql(
            f"SELECT status, count(*) FROM read_parquet('{log}/*.parquet') GROUP BY status"
        ).fetchall()
        shown = ", ".join(f"{n} {status}" for status, n in applied)
        print(f"Reviewers' corrections (corrections/*.yaml) in the curated rows: {shown}.")
    print(
        "Why a document was flagged, on its pages: .venv/bin/disclosures review → review/index.html"
    )


if __name__ == "__main__":
    main()
