"""`disclosures publish`: the Frictionless release, its reproducibility, exclusions and notes."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from budget_disclosures.curation import publish as pub
from budget_disclosures.curation import query as q
from budget_disclosures.flows.cli import app
from typer.testing import CliRunner

SAMPLE_DOC = "0ebd82afcb61b0e1"
FAILED_DOC = "f00d000000000001"
CREATED = "2024-01-01T00:00:00Z"


# --------------------------------------------------------------------------- building curated input


def clone_document(curated: Path, source: str, new_id: str, **document) -> None:
    """Copy a document's rows under another doc_id (its documents row updated with ``document``)."""
    document.setdefault("sha256", new_id + "0" * 48)
    for folder in sorted(p for p in curated.iterdir() if p.is_dir()):
        path = folder / f"{source}.parquet"
        if not path.exists():
            continue
        table = pq.read_table(path)
        rows = table.to_pylist()
        for row in rows:
            row["doc_id"] = new_id
            if folder.name == "documents":
                row.update(document)
        pq.write_table(
            pa.Table.from_pylist(rows, schema=table.schema), folder / f"{new_id}.parquet"
        )


def set_document(curated: Path, doc_id: str, **values) -> None:
    """Overwrite fields of a document's ``documents`` row (e.g. its status)."""
    path = curated / "documents" / f"{doc_id}.parquet"
    table = pq.read_table(path)
    rows = [dict(row, **values) for row in table.to_pylist()]
    pq.write_table(pa.Table.from_pylist(rows, schema=table.schema), path)


def known_sample(curated: Path) -> None:
    """The sample with status ok and no validation findings: these tests are about publishing a
    given status, not about the validation rules (tested with the validation code)."""
    set_document(curated, SAMPLE_DOC, status="ok", reason=None)
    shutil.rmtree(curated / "validations", ignore_errors=True)


def write_validations(curated: Path, doc_id: str, rows: list[dict]) -> None:
    schema = q.contract_datasets()["validations"].arrow_schema
    full = [{name: row.get(name) for name in schema.names} for row in rows]
    (curated / "validations").mkdir(exist_ok=True)
    pq.write_table(
        pa.Table.from_pylist(full, schema=schema), curated / "validations" / f"{doc_id}.parquet"
    )


def check(doc_id, name, severity, success, detail=None, table_no=None):
    return {
        "doc_id": doc_id,
        "check": name,
        "severity": severity,
        "success": success,
        "observed": None,
        "expected": None,
        "table_no": table_no,
        "detail": detail,
    }


@pytest.fixture(scope="module")
def sample_curated(tmp_path_factory, sample_pdf) -> Path:
    from budget_disclosures.flows.pipeline import ingest_document

    folder = tmp_path_factory.mktemp("publish") / "curated"
    assert ingest_document(sample_pdf, folder).doc_id == SAMPLE_DOC
    known_sample(folder)
    return folder


@pytest.fixture(scope="module")
def curated(sample_curated, tmp_path_factory) -> Path:
    """The sample, plus a failed document (an error finding) and a validations dataset."""
    folder = tmp_path_factory.mktemp("mixed") / "curated"
    shutil.copytree(sample_curated, folder)
    clone_document(
        folder,
        SAMPLE_DOC,
        FAILED_DOC,
        status="failed",
        unit_name="测试失败单位",
        source_name="broken.pdf",
        reason=None,
    )
    write_validations(
        folder,
        SAMPLE_DOC,
        [
            check(SAMPLE_DOC, "totals_add_up", "error", True, table_no="5"),
            check(
                SAMPLE_DOC,
                "codes_known",
                "warn",
                False,
                "2010504 信息事务 not in code list 2023",
                "5",
            ),
        ],
    )
    write_validations(
        folder,
        FAILED_DOC,
        [
            check(
                FAILED_DOC, "budget_balance", "error", False, "收入总计 ≠ 支出总计 (差 100.00)", "1"
            ),
            check(FAILED_DOC, "totals_add_up", "error", True, table_no="5"),
        ],
    )
    return folder


@pytest.fixture(scope="module")
def release(curated, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("release") / "release"
    pub.publish(curated, out, version="test-1", created=CREATED)
    return out


def package(root: Path) -> dict:
    return json.loads((root / "datapackage.json").read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- the package


def test_release_layout(release):
    for name in (
        "datapackage.json",
        "index.html",
        "RELEASE.md",
        "data-dictionary.md",
        "validation-summary.csv",
        "SHA256SUMS",
        "codes/function.csv",
        "codes/econ_dept.csv",
        "codes/econ_gov.csv",
        "codes/README.md",
    ):
        assert (release / name).is_file(), name
    for dataset in ("documents", "tables", "line_items", "validations"):
        assert (release / "data" / f"{dataset}.csv").is_file()
        assert (release / "data" / f"{dataset}.parquet").is_file()
    assert not list(release.parent.glob(".release.*")), "temporary build folders left behind"


def test_frictionless_validate_passes(release):
    from frictionless import validate

    report = validate(str(release / "datapackage.json"))
    assert report.valid, report.flatten(["type", "note"])[:10]
    assert {task.name for task in report.tasks} >= {
        "documents",
        "line_items",
        "validations",
        "codes_function",
    }


def test_frictionless_cli_validate_passes(release):
    exe = Path(sys.executable).with_name("frictionless")
    command = [str(exe)] if exe.exists() else [sys.executable, "-m", "frictionless"]
    done = subprocess.run(
        [*command, "validate", "--json", "datapackage.json"],
        cwd=release,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert json.loads(done.stdout)["valid"] is True


def test_descriptor_keys_licence_sources_and_units(release):
    descriptor = package(release)
    assert descriptor["profile"] == "tabular-data-package"
    assert descriptor["version"] == "test-1" and descriptor["created"] == CREATED
    assert descriptor["licenses"][0]["name"] == "CC-BY-4.0"
    assert any("宝鸡市大数据管理中心 2023" in s["title"] for s in descriptor["sources"])
    resources = {r["name"]: r for r in descriptor["resources"]}
    assert resources["documents"]["schema"]["primaryKey"] == ["doc_id"]
    for name in ("tables", "line_items", "performance_targets", "validations"):
        if name not in resources:
            continue
        keys = resources[name]["schema"]["foreignKeys"]
        assert {
            "fields": ["doc_id"],
            "reference": {"resource": "documents", "fields": ["doc_id"]},
        } in keys
    for resource in resources.values():
        assert resource["schema"]["missingValues"] == [""]
        assert resource["hash"].startswith("sha256:") and resource["encoding"] == "utf-8"
    fields = {f["name"]: f for f in resources["line_items"]["schema"]["fields"]}
    amount = fields["amount_yuan"]
    assert amount["type"] == "number" and amount["x_unit"] == "CNY"
    assert "yuan" in amount["description"] and "unit_printed" in amount["description"]
    assert fields["unit_printed"]["constraints"]["enum"][:3] == ["元", "万元", "千元"]
    assert fields["code"]["constraints"]["pattern"] == r"\d+"
    assert fields["name"]["title"] == "科目名称"
    assert resources["line_items"]["x_parquet"]["path"] == "data/line_items.parquet"


def test_run_columns_are_dropped(release):
    """When and where the pipeline ran is not published: ingestion time, the file's local path."""
    descriptor = package(release)
    names = {f["name"] for r in descriptor["resources"] for f in r["schema"]["fields"]}
    assert not names & {"ingested_at", "source_path"}
    columns = pq.read_table(release / "data" / "documents.parquet").column_names
    assert "ingested_at" not in columns and "source_path" not in columns
    assert "source_name" in columns
    assert "raw/samples/" not in (release / "data" / "documents.csv").read_text(encoding="utf-8")


def test_csv_round_trips_to_the_parquet_values(release):
    from frictionless import Package

    descriptor = package(release)
    frictionless_package = Package(str(release / "datapackage.json"))
    for resource in descriptor["resources"]:
        if "x_parquet" not in resource:
            continue
        parquet = pq.read_table(release / resource["x_parquet"]["path"])
        types = pa.schema([pa.field(f.name, f.type) for f in parquet.schema])
        from_csv = pacsv.read_csv(
            release / resource["path"],
            convert_options=pacsv.ConvertOptions(
                column_types=types,
                null_values=[""],
                strings_can_be_null=True,
                true_values=["true"],
                false_values=["false"],
            ),
        )
        assert from_csv.column_names == parquet.column_names
        for name in parquet.column_names:
            assert from_csv.column(name).to_pylist() == parquet.column(name).to_pylist(), (
                resource["name"],
                name,
            )
        # and read through the descriptor's own table schema
        rows = [
            r.to_dict() for r in frictionless_package.get_resource(resource["name"]).read_rows()
        ]
        assert rows == parquet.to_pylist(), resource["name"]


def test_failed_documents_are_excluded_with_the_validation_reason(release):
    documents = pq.read_table(release / "data" / "documents.parquet").column("doc_id").to_pylist()
    assert documents == [SAMPLE_DOC]
    for dataset in ("line_items", "tables", "validations"):
        ids = set(
            pq.read_table(release / "data" / f"{dataset}.parquet").column("doc_id").to_pylist()
        )
        assert ids == {SAMPLE_DOC}, dataset
    notes = (release / "RELEASE.md").read_text(encoding="utf-8")
    excluded = notes.split("## Excluded (1)")[1].split("##")[0]
    assert FAILED_DOC in excluded and "broken.pdf" in excluded
    assert "budget_balance (表1): 收入总计 ≠ 支出总计 (差 100.00)" in excluded
    summary = list(pacsv.read_csv(release / "validation-summary.csv").to_pylist())
    by_id = {row["doc_id"]: row for row in summary}
    assert by_id[FAILED_DOC]["published"] is False and by_id[FAILED_DOC]["errors"] == 1
    assert by_id[SAMPLE_DOC]["published"] is True and by_id[SAMPLE_DOC]["warnings"] == 1
    assert by_id[SAMPLE_DOC]["checks"] == 2


def test_allow_failed_publishes_them(curated, tmp_path):
    out = tmp_path / "release"
    pub.publish(curated, out, version="t", allow_failed=True, created=CREATED)
    documents = set(pq.read_table(out / "data" / "documents.parquet").column("doc_id").to_pylist())
    assert documents == {SAMPLE_DOC, FAILED_DOC}
    assert "--allow-failed" in (out / "RELEASE.md").read_text(encoding="utf-8")


def test_same_input_gives_identical_bytes_except_created(curated, release, tmp_path):
    other = tmp_path / "again"
    pub.publish(curated, other, version="test-1", created="2030-06-30T12:00:00Z")
    files = sorted(p.relative_to(release).as_posix() for p in release.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(other).as_posix() for p in other.rglob("*") if p.is_file())
    differing = [f for f in files if (release / f).read_bytes() != (other / f).read_bytes()]
    assert differing == ["datapackage.json"]
    first, second = package(release), package(other)
    assert first.pop("created") != second.pop("created")
    assert first == second
    # rebuilding the same version in place changes nothing but `created` either
    pub.publish(curated, other, version="test-1", created=CREATED)
    assert all((release / f).read_bytes() == (other / f).read_bytes() for f in files)


def test_checksums(release):
    assert pub.verify_checksums(release) == []
    listed = [line.split("  ", 1)[1] for line in (release / "SHA256SUMS").read_text().splitlines()]
    assert (
        "data/line_items.csv" in listed
        and "index.html" in listed
        and "datapackage.json" not in listed
    )
    if shutil.which("sha256sum"):
        done = subprocess.run(
            ["sha256sum", "--strict", "-c", "SHA256SUMS"],
            cwd=release,
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stdout + done.stderr


def test_data_dictionary_is_included_and_lists_the_code_lists(release):
    text = (release / "data-dictionary.md").read_text(encoding="utf-8")
    assert text.startswith("# Data dictionary")
    for expected in (
        "`line_items`",
        "amount_yuan",
        "### Code lists (reference)",
        "`codes/function.csv`",
        "支出功能分类 (`function`)",
        "`codes/econ_dept.csv`",
        "`codes/econ_gov.csv`",
        "valid_from",
        "function_expenditure_wide",
        "three_public_by_unit",
    ):
        assert expected in text, expected


def test_release_notes_against_the_previous_release(sample_curated, tmp_path):
    """Second release into the same folder: added, replaced (same file name), removed."""
    curated = tmp_path / "curated"
    shutil.copytree(sample_curated, curated)
    clone_document(curated, SAMPLE_DOC, "0000000000000aaa", source_name="a.pdf", unit_name="甲单位")
    clone_document(curated, SAMPLE_DOC, "0000000000000bbb", source_name="b.pdf", unit_name="乙单位")
    out = tmp_path / "release"
    pub.publish(curated, out, version="2025.1", created=CREATED)
    first = (out / "RELEASE.md").read_text(encoding="utf-8")
    assert "First release" in first and "## Added (3)" in first

    for doc_id in ("0000000000000aaa", "0000000000000bbb"):
        for path in curated.glob(f"*/{doc_id}.parquet"):
            path.unlink()
    clone_document(
        curated, SAMPLE_DOC, "0000000000000ccc", source_name="a.pdf", unit_name="甲单位"
    )  # new bytes of a.pdf
    clone_document(curated, SAMPLE_DOC, "0000000000000ddd", source_name="d.pdf", unit_name="丁单位")
    release = pub.publish(curated, out, version="2025.2", created=CREATED)
    notes = (out / "RELEASE.md").read_text(encoding="utf-8")
    assert "Compared with the previous release `2025.1`" in notes
    assert [d["doc_id"] for d in release.changes.added] == ["0000000000000ddd"]
    assert [(n["doc_id"], o["doc_id"]) for n, o, _ in release.changes.replaced] == [
        ("0000000000000ccc", "0000000000000aaa")
    ]
    assert [d["doc_id"] for d in release.changes.removed] == ["0000000000000bbb"]
    assert release.changes.unchanged == 1
    assert "## Replaced (1)" in notes and "same file name" in notes and "## Removed (1)" in notes
    # a rebuild of 2025.2 keeps comparing with 2025.1
    pub.publish(curated, out, version="2025.2", created=CREATED)
    assert (out / "RELEASE.md").read_text(encoding="utf-8") == notes


def test_refuses_a_folder_that_is_not_a_release(curated, tmp_path):
    out = tmp_path / "busy"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(pub.PublishError, match="not empty"):
        pub.publish(curated, out)
    assert (out / "keep.txt").read_text() == "mine"
    result = CliRunner().invoke(app, ["publish", str(out), "--curated", str(curated)])
    assert result.exit_code == 2


def test_cli_publish(curated, tmp_path):
    out = tmp_path / "cli-release"
    result = CliRunner().invoke(
        app, ["publish", str(out), "--curated", str(curated), "--version", "9.9"]
    )
    assert result.exit_code == 0, result.output
    assert "1 documents published, 1 excluded" in result.output
    assert package(out)["version"] == "9.9"
    default = tmp_path / "default-version"
    assert (
        CliRunner().invoke(app, ["publish", str(default), "--curated", str(curated)]).exit_code == 0
    )
    assert package(default)["version"].startswith("snapshot-")


def test_issue_18_csv_cells_never_run_as_spreadsheet_formulas(sample_curated, tmp_path):
    """A unit name read from a PDF that begins with = (or +, -, @, tab, CR) is written to
    documents.csv with a leading apostrophe; Parquet keeps the exact text; numbers as text stay."""
    from budget_disclosures.curation.query import spreadsheet_safe

    formula = '=HYPERLINK("http://example.invalid","click")'
    assert spreadsheet_safe(formula) == "'" + formula
    for text in ("+SUM(A1)", "-2+3+cmd|' /C calc'!A0", "@SUM(1)", "\tx", "\rx"):
        assert spreadsheet_safe(text) == "'" + text
    for text in ("-5.00", "+3%", "1,234.50", "行政运行", ""):
        assert spreadsheet_safe(text) == text
    curated = tmp_path / "curated"
    shutil.copytree(sample_curated, curated)
    set_document(curated, SAMPLE_DOC, unit_name=formula)
    out = tmp_path / "release"
    pub.publish(curated, out, version="test-csv", created=CREATED)
    text = (out / "data" / "documents.csv").read_text(encoding="utf-8")
    assert "'=HYPERLINK" in text and ",=HYPERLINK" not in text
    parquet = pq.read_table(out / "data" / "documents.parquet").to_pylist()
    assert parquet[0]["unit_name"] == formula
    assert "apostrophe" in (out / "RELEASE.md").read_text(encoding="utf-8")


def test_issue_18_licence_is_chosen_by_spdx_id(sample_curated, tmp_path):
    """CC-BY-4.0 by default; `--license` takes another SPDX id; an unknown id is refused."""
    out = tmp_path / "cc0"
    pub.publish(sample_curated, out, version="lic", created=CREATED, license="CC0-1.0")
    (licence,) = package(out)["licenses"]
    assert licence["name"] == "CC0-1.0" and "publicdomain/zero" in licence["path"]
    assert "Creative Commons Zero" in (out / "index.html").read_text(encoding="utf-8")
    with pytest.raises(pub.PublishError, match="unknown licence"):
        pub.publish(sample_curated, tmp_path / "bad", license="GPL-3.0-or-later")
    assert not (tmp_path / "bad").exists()


def test_default_licence_is_cc_by_4(release):
    (licence,) = package(release)["licenses"]
    assert licence == {
        "name": "CC-BY-4.0",
        "path": "https://creativecommons.org/licenses/by/4.0/",
        "title": "Creative Commons Attribution 4.0 International",
    }
