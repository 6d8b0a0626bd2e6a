"""The release documents: the data dictionary and RELEASE.md (changes, exclusions, corrections).

Split from ``publish.py`` (issue 18): one responsibility per file."""

from __future__ import annotations

import csv
from pathlib import Path

import pyarrow.parquet as pq

from . import query as q
from .datapackage import (
    CODE_LIST_FILES,
    VALIDATION_SUMMARY_COLUMNS,
)
from .release_model import (
    DROPPED_COLUMNS,
    PACKAGE_NAME,
    Release,
    _md_table,
)

# --------------------------------------------------------------------------- documents: dictionary, notes


def _code_list_counts(root: Path) -> list[tuple[str, str, int, dict[int, int]]]:
    counts = []
    for classification in CODE_LIST_FILES:
        path = root / "codes" / f"{classification}.csv"
        if not path.exists():
            continue
        with path.open(encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        levels: dict[int, int] = {}
        for row in rows:
            if row.get("level"):
                levels[int(row["level"])] = levels.get(int(row["level"]), 0) + 1
        counts.append((classification, f"codes/{classification}.csv", len(rows), levels))
    return counts


def render_dictionary(release: Release) -> str:
    """curation/dictionary.py's dictionary, plus what this release adds: files, code lists, views."""
    from .dictionary import render

    out = [render().rstrip("\n"), "", "## This release", ""]
    out += [
        f"Release `{release.version}`. Every dataset is `data/<dataset>.csv` (UTF-8, empty cell = null;",
        "a text cell that begins with =, +, -, @, a tab or a carriage return and is not a number gets a",
        "leading apostrophe so a spreadsheet shows it instead of running it as a formula) and",
        "`data/<dataset>.parquet` (same rows, typed). Money is in yuan (`amount_yuan`); the figure and unit",
        "as printed are kept in `amount_printed` and `unit_printed`. Columns that record when or where the",
        "pipeline ran ("
        + ", ".join(f"`{c}`" for c in DROPPED_COLUMNS)
        + ", any `*_at`) are not published; empty text in a nullable text column is null.",
        "Only documents whose status is not `failed` are included (see `RELEASE.md`).",
        "",
    ]
    out += _md_table(
        ["file", "dataset", "中文", "rows", "columns"],
        [
            [f"`data/{d.name}.csv`, `.parquet`", d.name, d.dataset.zh, d.rows, len(d.columns)]
            for d in release.datasets
        ],
    )
    out += ["", "### Code lists (reference)", ""]
    names = {
        "function": "支出功能分类",
        "econ_dept": "部门预算支出经济分类",
        "econ_gov": "政府预算支出经济分类",
    }
    levels_zh = {1: "类", 2: "款", 3: "项"}
    out += _md_table(
        ["file", "classification", "rows", "levels", "query view"],
        [
            [
                f"`{path}`",
                f"{names[c]} (`{c}`)",
                n,
                ", ".join(f"{levels[k]} {levels_zh.get(k, k)}" for k in sorted(levels)),
                f"`codes_{c}`",
            ]
            for c, path, n, levels in _code_list_counts(release.out)
        ],
    )
    out += [
        "",
        "Columns of every code list (provenance and evidence levels: `codes/README.md`):",
        "",
    ]
    out += _md_table(
        ["column", "type", "中文", "description"],
        [[f"`{c.name}`", c.type, c.zh, c.en] for c in q.CODE_LIST_COLUMNS],
    )
    out += ["", "### Convenience views of `disclosures query`", ""]
    for view in q.VIEWS.values():
        out += [f"#### `{view.name}` — {view.zh}", "", view.en + ".", ""]
        out += _md_table(
            ["column", "type", "中文", "description"],
            [
                [f"`{c.name}`", c.type, c.zh, c.en + (f" ({c.unit})" if c.unit else "")]
                for c in view.columns
            ],
        )
        out.append("")
    out += ["### `validation-summary.csv`", ""]
    out += _md_table(
        ["column", "type", "中文", "description"],
        [[f"`{c.name}`", c.type, c.zh, c.en] for c in VALIDATION_SUMMARY_COLUMNS],
    )
    return "\n".join(out) + "\n"


def _doc_label(doc: dict) -> list:
    return [
        f"`{doc['doc_id']}`",
        doc.get("unit_name"),
        doc.get("fiscal_year"),
        doc.get("source_name"),
    ]


def _table_or_none(headers: list[str], rows: list[list]) -> list[str]:
    """A section's table, or "None." when it has no row."""
    return _md_table(headers, rows) if rows else ["None."]


def _corrections_section(release: Release) -> list[str]:
    """The corrections log of the published documents (``data/corrections.*``): every
    reviewer's fix and every finding accepted as the publisher's own inconsistency, which
    stays visible here although it does not block publication."""
    log = next((d for d in release.datasets if d.name == "corrections"), None)
    rows = pq.read_table(log.parquet).to_pylist() if log is not None else []
    out = ["", f"## Corrections ({len(rows)})", ""]
    if not rows:
        return [*out, "None."]
    accepted = sum(1 for row in rows if row["status"] == "accepted")
    unmatched = sum(1 for row in rows if row["status"] == "unmatched")
    out += [
        f"Reviewers' corrections applied at ingest (`corrections/<sha256>.yaml`; full log in "
        f"`data/corrections.csv`): {len(rows) - accepted - unmatched} applied, {accepted} "
        f"finding(s) accepted as the publisher's own inconsistency (they stay in "
        f"`data/validations.csv` with `accepted`), {unmatched} matching nothing.",
        "",
    ]
    return out + _md_table(
        ["doc_id", "#", "fix", "table", "row / check", "status", "before", "after", "reason", "by", "at"],
        [
            [
                f"`{row['doc_id']}`",
                row["entry"],
                row["fix"],
                row["table_no"] or "",
                row["row"] or row["check"] or "",
                row["status"],
                row["value_before"] or "",
                row["value_after"] or "",
                row["reason"],
                row["by"] or "",
                row["at"] or "",
            ]
            for row in rows
        ],
    )  # fmt: skip


def render_release_notes(release: Release, findings: dict[str, dict]) -> str:
    changes = release.changes
    out = [f"# {PACKAGE_NAME} release {release.version}", ""]
    if changes.base_version is None and not (
        changes.replaced or changes.removed or changes.reextracted
    ):
        out += ["First release in this folder: every published document is listed as added.", ""]
    else:
        out += [f"Compared with the previous release `{changes.base_version}`.", ""]
    failed_published = [d for d in release.published if d.get("status") == "failed"]
    out += _md_table(
        ["documents", "count"],
        [
            ["published", len(release.published)],
            ["added", len(changes.added)],
            ["replaced", len(changes.replaced)],
            ["re-extracted (same PDF, new pipeline version)", len(changes.reextracted)],
            ["removed", len(changes.removed)],
            ["unchanged", changes.unchanged],
            ["excluded (status failed)", len(release.excluded)],
        ],
    )
    if failed_published:
        out += [
            "",
            f"Built with `--allow-failed`: {len(failed_published)} document(s) with status `failed` are published.",
        ]
    out += [
        "",
        "In `data/*.csv`, a text cell that a spreadsheet would run as a formula (it begins with =, +,",
        "-, @, a tab or a carriage return and is not a number) starts with an apostrophe; the Parquet",
        "files keep the exact text.",
    ]
    out += ["", f"## Added ({len(changes.added)})", ""]
    out += _table_or_none(
        ["doc_id", "unit", "year", "source file", "template", "status"],
        [[*_doc_label(d), d.get("template"), d.get("status")] for d in changes.added],
    )
    out += ["", f"## Replaced ({len(changes.replaced)})", ""]
    out += _table_or_none(
        ["doc_id", "unit", "year", "source file", "replaces", "matched by"],
        [[*_doc_label(new), f"`{old['doc_id']}`", why] for new, old, why in changes.replaced],
    )
    out += ["", f"## Re-extracted ({len(changes.reextracted)})", ""]
    out += _table_or_none(
        ["doc_id", "unit", "year", "source file", "previous pipeline", "pipeline"],
        [
            [*_doc_label(new), old.get("pipeline_version"), new.get("pipeline_version")]
            for new, old in changes.reextracted
        ],
    )
    excluded_ids = {d["doc_id"]: d for d in release.excluded}
    out += ["", f"## Removed ({len(changes.removed)})", ""]
    out += _table_or_none(
        ["doc_id", "unit", "year", "source file", "why"],
        [
            [
                *_doc_label(d),
                "excluded: " + excluded_ids[d["doc_id"]]["exclusion_reason"]
                if d["doc_id"] in excluded_ids
                else "no longer in curated/",
            ]
            for d in changes.removed
        ],
    )
    out += [
        "",
        f"## Excluded ({len(release.excluded)})",
        "",
        "Documents whose status is `failed` are not published; the reason is the failed",
        "validation checks of severity error, else the pipeline's failure reason.",
        "",
    ]
    out += _table_or_none(
        ["doc_id", "unit", "year", "source file", "reason"],
        [[*_doc_label(d), d["exclusion_reason"]] for d in release.excluded],
    )
    out += _corrections_section(release)
    out += ["", "## Validation summary", ""]
    if release.validations_present:
        checked = list(findings.values())
        out += [
            f"{len(findings)} documents checked, {sum(f['checks'] for f in checked)} checks, "
            f"{sum(f['errors'] for f in checked)} failed errors, {sum(f['warnings'] for f in checked)} failed warnings "
            "(per document: `validation-summary.csv`; every check: `data/validations.csv`).",
        ]
    else:
        out += [
            "The curated input has no `validations` dataset: statuses are the pipeline's own "
            "(`validation-summary.csv` lists them)."
        ]
    statuses: dict[str, int] = {}
    for doc in [*release.published, *release.excluded]:
        statuses[doc["status"]] = statuses.get(doc["status"], 0) + 1
    out += [
        "",
        "Document status: " + ", ".join(f"{k} {v}" for k, v in sorted(statuses.items())) + ".",
    ]
    out += ["", "## Datasets", ""]
    out += _md_table(
        ["dataset", "rows", "CSV", "Parquet"],
        [
            [d.name, d.rows, f"`data/{d.name}.csv`", f"`data/{d.name}.parquet`"]
            for d in release.datasets
        ],
    )
    out += [
        "",
        "## Reproducibility",
        "",
        "The same curated input gives the same bytes except `created` in `datapackage.json` (the build time,",
        "or `SOURCE_DATE_EPOCH` when set). `SHA256SUMS` covers every other file (`sha256sum -c SHA256SUMS`);",
        "`datapackage.json` lists the SHA-256 of each file it describes. Dropped columns: "
        + ", ".join(f"`{c}` ({why})" for c, why in DROPPED_COLUMNS.items())
        + ", any `*_at`.",
    ]
    return "\n".join(out) + "\n"
