"""Golden tests: a real budget or final-account PDF → the curated rows a person read off its pages (issue 3).

``tests/golden/<family>/<file stem>/`` holds, per real document, one CSV per table
(``<table_no>-<kind>.csv``: every line item of the table) and ``tables.csv`` (its ``tables``
rows), each checked by hand against the page images (see the README beside them). The test
ingests the PDF with the whole pipeline into a temporary curated folder and compares the
curated rows with the CSVs exactly: the same rows, no more, no fewer, every value equal.

The PDFs are small and copied into ``tests/fixtures/real/``; without the copy the test reads
``../shared/corpus/real`` and skips (saying why) when neither is there.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
from budget_disclosures.flows.pipeline import ingest_document
from conftest import REPO_ROOT, SHARED

GOLDEN = REPO_ROOT / "tests" / "golden"
FIXTURES = REPO_ROOT / "tests" / "fixtures" / "real"
REGION_FIXTURES = REPO_ROOT / "tests" / "fixtures" / "real-regions"
REAL_CORPUS = SHARED / "corpus" / "real"
REGIONS_CORPUS = SHARED / "corpus" / "real-regions"
# the generic reading path (no template): one real file per city (issue 14)
GENERIC_CITIES = ("beijing", "shenzhen", "guangzhou", "zhuhai", "yantai")
FLOAT_COLUMNS = ("amount_yuan",)


def _documents() -> list[Path]:
    return sorted(p for p in GOLDEN.glob("*/*") if p.is_dir())


def _table_files() -> list[Path]:
    return sorted(GOLDEN.glob("*/*/[0-9]*-*.csv"))


def _source(stem: str) -> Path:
    """The PDF a golden folder was made from: the fixture copy, else the shared corpus."""
    for folder in (FIXTURES, REGION_FIXTURES, REAL_CORPUS, REGIONS_CORPUS):
        path = folder / f"{stem}.pdf"
        if path.exists():
            return path
    pytest.skip(f"{stem}.pdf is in neither {FIXTURES} nor {REAL_CORPUS}")


@pytest.fixture(scope="module")
def curated(tmp_path_factory):
    """Curated folder of one golden document, ingested once per module (by file stem)."""
    done: dict[str, Path] = {}

    def get(stem: str) -> Path:
        if stem not in done:
            folder = tmp_path_factory.mktemp(stem)
            summary = ingest_document(_source(stem), folder, force=True)
            assert summary.tables > 0, f"{stem}: no tables ({summary.reason})"
            done[stem] = folder
        return done[stem]

    return get


def _cell(value) -> str | float:
    """One value as the CSV holds it: '' for null, ints without '.0', floats kept as floats."""
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _rows(frame: pd.DataFrame, columns: list[str]) -> Counter:
    """The rows as a multiset of tuples (float columns as floats, the rest as CSV text)."""
    out: Counter = Counter()
    for record in frame[columns].to_dict("records"):
        out[
            tuple(float(record[c]) if c in FLOAT_COLUMNS else _cell(record[c]) for c in columns)
        ] += 1
    return out


def _compare(expected: pd.DataFrame, actual: pd.DataFrame, what: str) -> None:
    columns = list(expected.columns)
    want, got = _rows(expected, columns), _rows(actual, columns)
    missing, unexpected = want - got, got - want
    lines = [f"{what}: columns {columns}"]
    lines += [f"  missing    {row}" for row in sorted(missing, key=str)]
    lines += [f"  unexpected {row}" for row in sorted(unexpected, key=str)]
    assert not missing and not unexpected, "\n".join(lines)


@pytest.mark.parametrize("csv", _table_files(), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_line_items_match_golden(csv: Path, curated):
    """Every line item of the table, as read by hand off the page, and nothing else."""
    expected = pd.read_csv(csv, dtype=str, keep_default_na=False)
    table_no = expected["table_no"].iloc[0]
    assert set(expected["table_no"]) == {table_no}, f"{csv.name}: one table per CSV"
    items = pd.read_parquet(curated(csv.parent.name) / "line_items")
    _compare(expected, items[items["table_no"] == table_no], f"{csv.parent.name} 表{table_no}")


@pytest.mark.parametrize("folder", _documents(), ids=lambda p: p.name)
def test_tables_match_golden(folder: Path, curated):
    """The tables listed in tables.csv: number (as printed and normalised), kind, pages, unit."""
    path = folder / "tables.csv"
    if not path.exists():
        pytest.skip(f"no tables.csv in {folder}")
    expected = pd.read_csv(path, dtype=str, keep_default_na=False)
    tables = pd.read_parquet(curated(folder.name) / "tables")
    _compare(
        expected,
        tables[tables["table_no"].isin(expected["table_no"])],
        f"{folder.name} tables",
    )


def test_every_family_has_golden_tables():
    """One real file per family, with its function and economic tables (a renamed folder
    must not turn the tests into nothing)."""
    families = {p.parent.name for p in _documents()}
    assert families >= {"shanghai", "shanghai-final", "jiangsu", "generic"}
    for folder in _documents():
        if folder.parent.name == "generic":
            continue  # one table per city, read without a template: see the next test
        kinds = {p.stem.split("-", 1)[1] for p in folder.glob("[0-9]*-*.csv")}
        assert any("by_function" in k for k in kinds), folder.name
        assert any("by_econ" in k for k in kinds), folder.name


def test_every_city_has_a_generic_golden_table():
    """Issue 14: one golden table per city of real-regions, read by the generic path."""
    cities = {p.name.split("_")[0] for p in (GOLDEN / "generic").iterdir() if p.is_dir()}
    assert cities == set(GENERIC_CITIES)
    for folder in (GOLDEN / "generic").iterdir():
        if folder.is_dir():
            assert list(folder.glob("[0-9]*-*.csv")), folder.name


def test_final_golden_figures_agree_with_each_other():
    """The hand-read figures obey the page's arithmetic: 表6's 人员经费合计 + 公用经费合计 is
    表5's 基本支出 合计, and each block's 合计 is the sum of its 类 rows."""
    folder = GOLDEN / "shanghai-final" / "shanghai_putuo_finance_bureau_2024_dept_final"
    t5 = pd.read_csv(folder / "5-gpb_expenditure_by_function.csv", dtype={"code": str})
    t6 = pd.read_csv(folder / "6-gpb_basic_by_econ.csv", dtype={"code": str})
    basic_total = t5[(t5["name"] == "合计") & (t5["measure"] == "basic")]["amount_yuan"].item()
    totals = t6[t6["name"] == "合计"].set_index("measure")["amount_yuan"]
    assert totals["basic_personnel"] + totals["basic_public"] == pytest.approx(basic_total)
    for measure, total in totals.items():
        top = t6[(t6["measure"] == measure) & (t6["level"] == 1)]["amount_yuan"].sum()
        assert top == pytest.approx(total), measure
