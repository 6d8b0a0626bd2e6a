"""Issue 17: corrections as data — a reviewer's fix applied at every ingest, logged, published.

The sample states 三公经费 0.2 万元 in its text while its 表12 prints 0.00 (the 0.20 is
培训费): ``cross.narrative_totals`` flags it, and a reviewer accepts it as the publisher's own
inconsistency. Real PDFs, the real pipeline, GX and DuckDB.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from budget_disclosures.curation.publish import publish
from budget_disclosures.flows import cli
from budget_disclosures.flows.pipeline import ingest_document
from budget_disclosures.mappings import corrections as corr
from budget_disclosures.validation.rerun import validate_store
from conftest import SAMPLE_PDF, run_cli, sha256_of

SHA = sha256_of(SAMPLE_PDF) if SAMPLE_PDF.exists() else "0" * 64
ACCEPT = """\
  - fix: accept
    check: cross.narrative_totals
    table: "12"
    reason: 说明 states 三公经费 0.2 万元, 表12 prints 0.00; the publisher's own inconsistency
    by: reviewer
    at: 2026-12-05
"""
CELL = """\
  - fix: cell
    table: "12"
    row: {name: “三公”经费合计}
    measure: amount
    printed: "0.20"
    reason: as the text states
    by: reviewer
    at: 2026-12-05
"""
MISSING_ROW = """\
  - fix: cell
    table: "5"
    row: {code: "2999999"}
    measure: total
    yuan: 5
    reason: a row that does not exist
    by: reviewer
    at: 2026-12-05
"""
pytestmark = pytest.mark.skipif(not SAMPLE_PDF.exists(), reason="the sample PDF is missing")


def write_corrections(folder: Path, *entries: str, document: str = SHA) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{SHA}.yaml"
    body = "".join(entries) if entries else " []\n"
    path.write_text(f"document: {document}\ncorrections:\n{body}", encoding="utf-8")
    return path


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "corrections"
    monkeypatch.setenv(corr.CORRECTIONS_ENV, str(path))
    return path


def read(curated: Path, dataset: str) -> pd.DataFrame:
    return pd.read_parquet(curated / dataset)


# --------------------------------------------------------------------------- the schema


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("document: [unclosed\n", "malformed YAML"),
        (f"document: {SHA}\ncorrections:\n  - fix: cell\n    table: '5'\n", "reason"),
        (f"document: {SHA}\ncorrections:\n  - fix: accept\n    check: x\n    reason: r\n    by: b\n    at: 2026-12-05\n    who: a\n", "who"),
        (f"document: {SHA}\ncorrections:\n  - fix: shrug\n    reason: r\n", "fix"),
        (f"document: {SHA}\ncorrections:\n  - fix: accept\n    check: x\n    reason: r\n", "by"),
        (f"document: {SHA}\ncorrections:\n{CELL}    yuan: 2000\n", "exactly one of printed or yuan"),
        (f"document: {'a' * 64}\ncorrections: []\n", "names document aaaaaaaaaaaaaaaa"),
    ],
)  # fmt: skip
def test_a_bad_file_gives_one_line_naming_it(folder: Path, text: str, says: str) -> None:
    folder.mkdir(parents=True)
    (folder / f"{SHA}.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(corr.CorrectionsError) as caught:
        corr.load_corrections(SHA)
    message = str(caught.value)
    assert "\n" not in message and says in message and f"{SHA}.yaml" in message


def test_the_cli_and_the_library_read_one_setting() -> None:
    assert cli.CORRECTIONS_ENV == corr.CORRECTIONS_ENV


# --------------------------------------------------------------------------- the round trip


def test_accepting_the_publishers_inconsistency_round_trip(folder: Path, tmp_path: Path) -> None:
    curated = tmp_path / "curated"
    before = ingest_document(SAMPLE_PDF, curated)
    flagged = read(curated, "validations").set_index("check").loc["cross.narrative_totals"]
    assert not flagged["success"] and not flagged["accepted"]

    write_corrections(folder, ACCEPT)
    again = ingest_document(SAMPLE_PDF, curated)  # same bytes and version: the file changed
    assert not again.skipped
    finding = read(curated, "validations").set_index("check").loc["cross.narrative_totals"]
    assert not finding["success"] and finding["accepted"]  # still visible
    assert "publisher's own inconsistency" in finding["accepted_reason"]
    assert again.n_warnings == before.n_warnings - 1  # no longer counted
    log = read(curated, "corrections")
    assert list(log["status"]) == ["accepted"] and list(log["by"]) == ["reviewer"]
    document = read(curated, "documents").iloc[0]
    assert document["corrections_sha256"] == corr.corrections_digest(SHA)

    assert ingest_document(SAMPLE_PDF, curated).skipped  # nothing changed: skipped
    forced = ingest_document(SAMPLE_PDF, curated, force=True)
    assert not forced.skipped
    assert list(read(curated, "corrections")["status"]) == ["accepted"]  # survives --force
    # a new pipeline version re-extracts the document, and the decision still holds
    path = curated / "documents" / f"{SHA[:16]}.parquet"
    stale = pd.read_parquet(path).assign(pipeline_version="0.0.1+old")
    stale.to_parquet(path)
    assert not ingest_document(SAMPLE_PDF, curated).skipped
    assert list(read(curated, "corrections")["status"]) == ["accepted"]

    # `disclosures validate` (GX) agrees with the ingest
    results, _ = validate_store(curated.resolve(), build_docs=False)
    (result,) = results
    assert result.status == read(curated, "documents").iloc[0]["status"]
    assert result.n_warnings == again.n_warnings
    validations = read(curated, "validations").set_index("check")
    assert validations.loc["cross.narrative_totals", "accepted"]

    release = tmp_path / "release"
    publish(curated, release)
    notes = (release / "RELEASE.md").read_text(encoding="utf-8")
    assert "## Corrections (1)" in notes and "cross.narrative_totals" in notes
    published = pd.read_csv(release / "data" / "corrections.csv")
    assert list(published["status"]) == ["accepted"]
    package = json.loads((release / "datapackage.json").read_text(encoding="utf-8"))
    assert "corrections" in {resource["name"] for resource in package["resources"]}


def test_a_cell_correction_changes_the_figure_and_keeps_what_was_read(
    folder: Path, tmp_path: Path
) -> None:
    curated = tmp_path / "curated"
    write_corrections(folder, CELL)
    ingest_document(SAMPLE_PDF, curated)
    items = read(curated, "line_items")
    total = items[(items["table_no"] == "12") & (items["name"] == "“三公”经费合计")]
    fixed = total[total["measure"] == "amount"].iloc[0]
    assert fixed["amount_printed"] == "0.20" and fixed["amount_yuan"] == 2000.0
    assert fixed["corrected"] and fixed["corrected_from"] == "amount_printed=0.00"
    assert not total[total["measure"] != "amount"]["corrected"].fillna(False).any()
    finding = read(curated, "validations").set_index("check").loc["cross.narrative_totals"]
    assert finding["success"]  # the text and the table agree now
    (row,) = read(curated, "corrections").to_dict("records")
    assert (row["status"], row["value_before"], row["value_after"]) == ("applied", "0.00", "0.20")


def test_a_correction_matching_nothing_is_reported_not_dropped(
    folder: Path, tmp_path: Path
) -> None:
    curated = tmp_path / "curated"
    write_corrections(folder, ACCEPT, MISSING_ROW)
    summary = ingest_document(SAMPLE_PDF, curated)
    assert summary.status == "warn"
    assert summary.reason.startswith("1 correction(s) match nothing: #2 cell 表5 code 2999999")
    log = read(curated, "corrections")
    assert list(log["status"]) == ["accepted", "unmatched"]  # the rest still applies
    results, _ = validate_store(curated.resolve(), build_docs=False)
    assert results[0].status == "warn"  # validate keeps it visible too


def test_a_malformed_file_changes_nothing_else(folder: Path, tmp_path: Path) -> None:
    plain, broken = tmp_path / "plain", tmp_path / "broken"
    ingest_document(SAMPLE_PDF, plain)
    folder.mkdir()
    (folder / f"{SHA}.yaml").write_text(f"document: {SHA}\ncorrections: [\n", encoding="utf-8")
    summary = ingest_document(SAMPLE_PDF, broken)
    assert summary.status == "warn"
    assert summary.reason.startswith(f"corrections not applied: {folder / SHA}.yaml")
    assert "malformed YAML" in summary.reason
    columns = ["table_no", "code", "name", "measure", "amount_printed"]
    assert read(broken, "line_items")[columns].equals(read(plain, "line_items")[columns])
    assert read(broken, "corrections").empty


def test_cli_reports_a_file_for_an_unknown_document(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / SAMPLE_PDF.name).write_bytes(SAMPLE_PDF.read_bytes())
    folder = tmp_path / "corrections"
    write_corrections(folder, ACCEPT)
    stranger = "b" * 64
    (folder / f"{stranger}.yaml").write_text(
        f"document: {stranger}\ncorrections:\n{ACCEPT}", encoding="utf-8"
    )
    curated = tmp_path / "curated"
    result = run_cli(["ingest", raw, "--curated", curated, "--corrections", folder], None, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("corrections:")]
    assert len(lines) == 1 and f"{stranger}.yaml: unknown document" in lines[0]
    assert list(read(curated, "corrections")["status"]) == ["accepted"]  # the other applied


def test_column_and_table_fixes(folder: Path, tmp_path: Path) -> None:
    """A column mapped to the wrong measure, a table read over too many pages."""
    curated = tmp_path / "curated"
    write_corrections(
        folder,
        """\
  - fix: column
    table: "5"
    column: 基本支出/人员经费
    measure: basic_staff
    reason: this province's 人员经费 column
    by: reviewer
    at: 2026-12-05
  - fix: table
    table: "1"
    pages: [10, 10]
    reason: the rows on page 9 belong to another table
    by: reviewer
    at: 2026-12-05
""",
    )
    summary = ingest_document(SAMPLE_PDF, curated)
    items = read(curated, "line_items")
    five = items[items["table_no"] == "5"]
    moved = five[five["measure"] == "basic_staff"]
    assert len(moved) and (moved["corrected_from"] == "measure=basic_personnel").all()
    assert not (five["measure"] == "basic_personnel").any()
    assert not (items["table_no"] == "1").any()  # all of 表1 is printed on page 9
    table = read(curated, "tables").set_index("table_no").loc["1"]
    assert (table["page_first"], table["page_last"], table["n_line_items"]) == (10, 10, 0)
    assert summary.line_items == len(items)
    log = read(curated, "corrections")
    assert list(log["status"]) == ["applied", "applied"]
    assert log["row"].iloc[0] == "column 基本支出/人员经费" and pd.isna(log["row"].iloc[1])


def test_a_failed_document_with_a_corrections_file_is_not_redone_every_run(
    folder: Path, tmp_path: Path
) -> None:
    from conftest import BAD_DIR

    bad = tmp_path / "truncated.pdf"
    bad.write_bytes((BAD_DIR / "truncated.pdf").read_bytes())
    sha = sha256_of(bad)
    folder.mkdir()
    (folder / f"{sha}.yaml").write_text(f"document: {sha}\ncorrections: []\n", encoding="utf-8")
    curated = tmp_path / "curated"
    assert ingest_document(bad, curated).status == "failed"
    assert ingest_document(bad, curated).skipped
