"""The open-data release: a Frictionless Data Package built from ``curated/``.

``disclosures publish OUT`` (or :func:`publish`) writes into the folder ``OUT``::

    datapackage.json        Frictionless (tabular) Data Package: table schemas from curation/schema.py
    index.html              catalogue page (static, offline: inline CSS, JS and SVG)
    RELEASE.md              documents added, replaced, re-extracted, removed and excluded
    data-dictionary.md      curation/dictionary.py's dictionary + the code lists and views
    validation-summary.csv  one row per curated document: status, checks, errors, warnings
    SHA256SUMS              sha256sum -c compatible, every file except datapackage.json
    data/<dataset>.csv      UTF-8, header row, empty cell = null, formula-like text neutralised
    data/<dataset>.parquet  the same rows, typed
    codes/*.csv             the reference code lists (支出功能分类, 部门/政府预算支出经济分类)

Only documents whose ``status`` is not ``failed`` are published (``allow_failed`` overrides);
every dataset keeps only the rows of published documents, so ``doc_id`` is a valid foreign key
into ``documents`` everywhere.

Reproducibility: the same curated input gives the same bytes, except the ``created`` field of
``datapackage.json`` (the build time, or ``SOURCE_DATE_EPOCH`` when set); that is why
``datapackage.json`` is not listed in ``SHA256SUMS`` (it carries the SHA-256 of every file it
describes itself). Rows are sorted by a fixed key (then every column), Parquet is written with
fixed settings (:data:`PARQUET_OPTIONS`), columns that record when or where the pipeline ran
(``ingested_at``, ``source_path``, any ``*_at``) are dropped, and empty text in a nullable text
column is published as null (CSV cannot tell them apart). The byte identity holds for one
pyarrow version (Parquet's ``created_by`` names it).

This module builds a release; its parts: ``release_model`` (constants, licences, the
dataclasses), ``release_data`` (reading curated/, writing the datasets), ``datapackage`` (the
descriptor, the validation summary), ``release_diff`` (the previous release, the changes),
``release_notes`` (the data dictionary, RELEASE.md) and ``catalogue_page`` (index.html).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
from pathlib import Path

import duckdb
import pyarrow as pa

from . import query as q
from .catalogue_page import (
    render_catalogue,
    render_chart,
)
from .datapackage import (
    CODE_LIST_FILES,
    VALIDATION_SUMMARY_COLUMNS,
    _code_list_resources,
    _dataset_resource,
    _field,
    _resource,
    _write_validation_summary,
)
from .release_data import (
    _exclusion_reason,
    _fetch_dicts,
    _validation_findings,
    _write_dataset,
)
from .release_diff import (
    Previous,
    _doc_key,
    compute_changes,
    read_previous,
)
from .release_model import (
    DATASET_ORDER,
    DEFAULT_LICENSE,
    DROPPED_COLUMNS,
    PACKAGE_NAME,
    PACKAGE_TITLE,
    PARQUET_OPTIONS,
    SOURCE_NOTE,
    PublishError,
    Release,
    _created,
    license_entry,
    sha256_file,
)
from .release_notes import (
    render_dictionary,
    render_release_notes,
)

# --------------------------------------------------------------------------- publish


def _default_version(data_dir: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(data_dir.glob("*.parquet")):
        digest.update(path.name.encode() + b"\0" + sha256_file(path).encode() + b"\n")
    return f"snapshot-{digest.hexdigest()[:12]}"


def _write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8"))


def publish(
    curated: Path | str,
    out: Path | str,
    *,
    version: str | None = None,
    allow_failed: bool = False,
    created: str | None = None,
    license: str = DEFAULT_LICENSE,
) -> Release:
    """Build the release of ``curated`` into the folder ``out`` (replacing a release already there).

    ``out`` must be absent, empty, or hold an earlier release (a ``datapackage.json``): the notes
    compare with that release. Raises :class:`PublishError` for usage errors (nothing written).
    """
    curated, out = Path(curated), Path(out)
    chosen_license = license_entry(license)
    timestamp = _created(created)
    if version is not None and (not version.strip() or any(ch in version for ch in "\n\r")):
        raise PublishError(f"invalid version: {version!r}")
    try:
        con = q.connect(curated)
    except FileNotFoundError as error:
        raise PublishError(str(error)) from None
    if out.exists() and not out.is_dir():
        raise PublishError(f"{out} exists and is not a folder")
    previous = read_previous(out) if out.is_dir() else None
    if previous is None and out.is_dir() and any(out.iterdir()):
        raise PublishError(
            f"{out} is not empty and holds no release (no datapackage.json): refusing to overwrite it"
        )
    tmp = out.parent / f".{out.name}.building-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        release, findings = _build(con, curated, tmp, version, allow_failed, previous)
        release.created = timestamp
        release.license = chosen_license
        _finish(release, tmp, findings, allow_failed)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        con.close()
    # swap the new release into place
    old = out.parent / f".{out.name}.old-{os.getpid()}"
    if out.exists():
        os.replace(out, old)
    os.replace(tmp, out)
    shutil.rmtree(old, ignore_errors=True)
    release.out = out
    return release


def _build(
    con: duckdb.DuckDBPyConnection,
    curated: Path,
    root: Path,
    version: str | None,
    allow_failed: bool,
    previous: Previous | None,
) -> tuple[Release, dict[str, dict]]:
    folders = q.dataset_folders(curated)
    validations_present = "validations" in folders
    findings = _validation_findings(con, validations_present)
    documents = _fetch_dicts(con, "SELECT * FROM documents ORDER BY doc_id")
    published = [d for d in documents if allow_failed or d.get("status") != "failed"]
    published_ids = {d["doc_id"] for d in published}
    excluded = [
        dict(d, exclusion_reason=_exclusion_reason(d, findings))
        for d in documents
        if d["doc_id"] not in published_ids
    ]
    con.execute("CREATE TEMP TABLE _published (doc_id VARCHAR)")
    if published_ids:
        con.executemany("INSERT INTO _published VALUES (?)", [[d] for d in sorted(published_ids)])

    data_dir = root / "data"
    data_dir.mkdir(parents=True)
    names = [n for n in DATASET_ORDER if n in folders] + sorted(
        n for n in folders if n not in DATASET_ORDER
    )
    if "documents" not in names:
        names.insert(0, "documents")  # always published (empty), the target of every doc_id key
    datasets = [_write_dataset(con, name, data_dir) for name in names]

    codes_dir = root / "codes"
    codes_dir.mkdir()
    for classification in CODE_LIST_FILES:
        source = q.code_list_path(f"codes_{classification}")
        if source.exists():
            shutil.copyfile(source, codes_dir / source.name)
    readme = q.CODES_DIR / "README.md"
    if readme.exists():
        shutil.copyfile(readme, codes_dir / "README.md")

    _write_validation_summary(
        root / "validation-summary.csv", documents, findings, published_ids, validations_present
    )

    version = version or _default_version(data_dir)
    current = [_doc_key(d) for d in published]
    if previous is None:
        base_version, base_docs = None, None
    elif previous.version == version:  # a rebuild of the same version: keep its comparison base
        base_version, base_docs = previous.base_version, previous.base_documents
    else:
        base_version, base_docs = previous.version, previous.documents
    changes = compute_changes(base_version, base_docs, current)
    full = {d["doc_id"]: d for d in published}
    changes.added = [full[d["doc_id"]] for d in changes.added]
    release = Release(
        root,
        version,
        "",
        published,
        excluded,
        datasets,
        changes,
        validations_present,
        base_docs,
        _chart_totals(con),
    )
    return release, findings


def _chart_totals(con: duckdb.DuckDBPyConnection) -> list[tuple[int, str, str, float]]:
    return con.execute(
        """
        SELECT fiscal_year, code, min(name) AS name, sum(total) AS total
        FROM function_expenditure_wide
        WHERE level = 1 AND total IS NOT NULL AND fiscal_year IS NOT NULL
          AND doc_id IN (SELECT doc_id FROM _published)
        GROUP BY fiscal_year, code ORDER BY fiscal_year, code
        """
    ).fetchall()


def _finish(release: Release, root: Path, findings: dict[str, dict], allow_failed: bool) -> None:
    _write_text(root / "data-dictionary.md", render_dictionary(release))
    _write_text(root / "RELEASE.md", render_release_notes(release, findings))

    # the chart totals come from the published documents only (the _published filter)
    sizes = {
        p.relative_to(root).as_posix(): p.stat().st_size
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }
    _write_text(
        root / "index.html", render_catalogue(release, render_chart(release.chart_totals), sizes)
    )

    names = {d.name for d in release.datasets}
    resources = [_dataset_resource(d, root, names) for d in release.datasets]
    resources += _code_list_resources(root)
    summary = root / "validation-summary.csv"
    resources.append(
        _resource(
            "validation_summary",
            "校验摘要 (validation_summary)",
            "one row per curated document (published or not): status, checks run, failed errors and warnings",
            summary,
            root,
            {
                "fields": [_field(c, {"doc_id"}) for c in VALIDATION_SUMMARY_COLUMNS],
                "missingValues": [""],
                "primaryKey": ["doc_id"],
            },
        )
    )
    sources = [{"title": SOURCE_NOTE}]
    for doc in sorted(release.published, key=lambda d: d["doc_id"]):
        kind = {"budget": "预算", "final_account": "决算"}.get(
            doc.get("doc_kind"), doc.get("doc_kind") or ""
        )
        label = " ".join(str(v) for v in (doc.get("unit_name"), doc.get("fiscal_year"), kind) if v)
        sources.append(
            {
                "title": f"{label or 'unidentified document'} — {doc.get('source_name')} (sha256 {doc.get('sha256')})"
            }
        )
    package = {
        "profile": "tabular-data-package",
        "name": PACKAGE_NAME,
        "title": PACKAGE_TITLE,
        "description": (
            "Every money figure of every table of the published budget disclosures as a row (line_items), "
            "with the documents, their tables and performance targets; amounts in yuan (元), the printed "
            "figure and unit kept beside them. Built by the budget-disclosures pipeline; see RELEASE.md "
            "and data-dictionary.md."
        ),
        "version": release.version,
        "created": release.created,
        "keywords": ["budget", "预算公开", "government finance", "China", "open data"],
        "licenses": [release.license],
        "sources": sources,
        "resources": resources,
        "x_release": {
            "previous_version": release.changes.base_version,
            "previous_documents": release.base_documents,
            "allow_failed": allow_failed,
            "excluded_documents": [d["doc_id"] for d in release.excluded],
            "dropped_columns": [*DROPPED_COLUMNS, "*_at"],
            "timestamp_field": "created",
            "parquet_writer": {"library": f"pyarrow {pa.__version__}", **PARQUET_OPTIONS},
        },
    }
    _write_text(root / "datapackage.json", json.dumps(package, ensure_ascii=False, indent=2) + "\n")

    lines = [
        f"{sha256_file(p)}  {p.relative_to(root).as_posix()}"
        for p in sorted(root.rglob("*"), key=lambda p: p.relative_to(root).as_posix())
        if p.is_file() and p.name not in {"SHA256SUMS", "datapackage.json"}
    ]
    _write_text(root / "SHA256SUMS", "\n".join(lines) + "\n")


def verify_checksums(root: Path) -> list[str]:
    """Files whose SHA-256 differs from ``SHA256SUMS`` (empty: all good)."""
    bad = []
    for line in (root / "SHA256SUMS").read_text(encoding="utf-8").splitlines():
        digest, _, name = line.partition("  ")
        if sha256_file(root / name) != digest:
            bad.append(name)
    return bad


def summary_text(release: Release) -> str:
    buffer = io.StringIO()
    changes = release.changes
    buffer.write(
        f"release {release.version} → {release.out}/\n"
        f"  {len(release.published)} documents published, {len(release.excluded)} excluded; "
        f"added {len(changes.added)}, replaced {len(changes.replaced)}, re-extracted {len(changes.reextracted)}, "
        f"removed {len(changes.removed)}"
        + (f" (vs {changes.base_version})" if changes.base_version else "")
        + "\n"
    )
    for d in release.datasets:
        buffer.write(f"  {d.name:<22} {d.rows:>9,} rows\n")
    return buffer.getvalue()
