"""One disclosure published as several files: link the halves so a query sees one disclosure.

Some regions publish a unit's disclosure as two attachments: 附件1 the narrative (情况说明),
附件2 the tables (报表). Each file stays a document; the halves get one ``disclosure_id``
and a ``part`` (``narrative`` / ``tables``), and metadata one half lacks (the tables half
often prints no unit name, sometimes no year) comes from the half that prints it.

Two documents of the same folder are halves of one disclosure when one has tables and the
other none, their unit, year and kind do not disagree, and either their file names are the
same once the part markers are removed (``附件1``/``附件2``, ``情况说明``/``报表``,
``text``/``tables``), or the narrative's stated budget total is a total of the tables' 收支总表.
Linking is idempotent and runs after every batch over the whole curated folder.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from budget_disclosures.extractors.numbers import MONEY_UNIT_FACTORS

from . import store
from .document_index import INDEX_COLUMNS

_PART_MARKERS = re.compile(
    r"附件\s*[0-9一二三四五六七八九十]+|情况说明|报表|表格|说明|正文|"
    r"narrative|tables?|text",
    re.IGNORECASE,
)
_SEPARATORS = re.compile(r"[\s_\-—–:：()（）\[\]【】.]+")
_TOTAL_NAMES = ("合计", "总计")
_TOLERANCE_YUAN = 100.0  # the narrative rounds to 0.01 万元


def name_key(source_name: str) -> str:
    """A file name without its part markers, extension and separators."""
    stem = Path(source_name).stem
    return _SEPARATORS.sub("", _PART_MARKERS.sub("", stem)).lower()


def _agree(a: object, b: object) -> bool:
    return a is None or b is None or a == b


def compatible(narrative: dict, tables: dict) -> bool:
    """Same folder, and unit, year and kind do not disagree."""
    same_folder = Path(narrative["source_path"]).parent == Path(tables["source_path"]).parent
    return (
        same_folder
        and _agree(narrative.get("unit_name"), tables.get("unit_name"))
        and _agree(narrative.get("fiscal_year"), tables.get("fiscal_year"))
        and _agree(narrative.get("doc_kind"), tables.get("doc_kind"))
    )


def _stated_totals(curated: Path, doc_id: str) -> list[float]:
    path = store.doc_file(curated, "facts", doc_id)
    if not path.exists():
        return []
    return [
        row["value"] * MONEY_UNIT_FACTORS.get(row.get("unit") or "万元", 10_000.0)
        for row in store.read_rows(path)
        if row["fact"] == "budget_total" and row.get("value") is not None
    ]


def _table_totals(curated: Path, doc_id: str) -> list[float]:
    path = store.doc_file(curated, "line_items", doc_id)
    if not path.exists():
        return []
    return [
        row["amount_yuan"]
        for row in store.read_rows(path, ["kind", "name", "amount_yuan"])
        if row["kind"] == "budget_summary" and row["name"] in _TOTAL_NAMES
    ]


def totals_agree(curated: Path, narrative: dict, tables: dict) -> bool:
    """The narrative states a budget total that the tables' 收支总表 prints."""
    stated = _stated_totals(curated, narrative["doc_id"])
    printed = _table_totals(curated, tables["doc_id"])
    return any(abs(a - b) <= _TOLERANCE_YUAN for a in stated for b in printed)


# what pairing reads of every stored document (from the folder's document index, which holds
# these columns: every file whole was 1 ms a file, 2 s a batch in a folder of 2 000); a pair
# found is then read whole
PAIRING_COLUMNS = [name for name in INDEX_COLUMNS if name != "sha256"]


def find_pairs(curated: Path, documents: list[dict]) -> list[tuple[dict, dict]]:
    """(narrative, tables) document pairs that are one disclosure (each pair unambiguous)."""
    placed = [d for d in documents if d.get("source_path")]
    # a narrative half reads (not failed) and has no table; a tables half has tables, even
    # when validation failed them (their figures are still the disclosure's)
    narratives = [d for d in placed if not d.get("n_tables") and d.get("status") != "failed"]
    with_tables = [d for d in placed if d.get("n_tables")]
    pairs = []
    for narrative in narratives:
        candidates = [t for t in with_tables if compatible(narrative, t)]
        key = name_key(narrative["source_name"])
        named = [t for t in candidates if name_key(t["source_name"]) == key]
        matched = named or [t for t in candidates if totals_agree(curated, narrative, t)]
        if len(matched) == 1:
            pairs.append((narrative, matched[0]))
    return pairs


def disclosure_id(doc_ids: list[str]) -> str:
    return hashlib.sha256("+".join(sorted(doc_ids)).encode()).hexdigest()[:16]


def _fill(row: dict, other: dict) -> dict:
    """Metadata from whichever half prints it."""
    out = dict(row)
    for key in ("unit_name", "unit_code", "admin_region", "fiscal_year", "published"):
        if out.get(key) is None and other.get(key) is not None:
            out[key] = other[key]
    return out


def _fill_year(curated: Path, doc_id: str, year: int | None) -> None:
    """Line items read before the year was known get the disclosure's year."""
    path = store.doc_file(curated, "line_items", doc_id)
    if year is None or not path.exists():
        return
    rows = store.read_rows(path)
    if not any(row.get("fiscal_year") is None for row in rows):
        return
    for row in rows:
        row["fiscal_year"] = row.get("fiscal_year") or year
    store.write_atomic(store.to_table("line_items", rows), path)


def _apply_links(curated: Path, pairs: list[tuple[dict, dict]]) -> list[dict]:
    """The linked documents rows of ``pairs``, written where they changed (a batch after the
    first finds the same pairs already linked and writes nothing)."""
    linked: list[dict] = []
    for narrative, tables in pairs:
        shared = disclosure_id([narrative["doc_id"], tables["doc_id"]])
        new_tables = _fill(tables, narrative) | {"disclosure_id": shared, "part": "tables"}
        new_narrative = _fill(narrative, tables) | {"disclosure_id": shared, "part": "narrative"}
        if (new_narrative.get("reason") or "").startswith("no table recognised"):
            # a narrative half is complete as published: its tables are the other file
            new_narrative["status"] = "ok"
            new_narrative["reason"] = f"narrative half; its tables: {tables['source_name']}"
        _fill_year(curated, tables["doc_id"], new_tables.get("fiscal_year"))
        for old, row in ((tables, new_tables), (narrative, new_narrative)):
            if row != old:
                path = store.doc_file(curated, "documents", row["doc_id"])
                store.write_atomic(store.to_table("documents", [row]), path)
            linked.append(row)
    return linked


def link_disclosures(curated: Path) -> list[tuple[str, str]]:
    """Link the halves of every disclosure in ``curated``; returns (narrative, tables) files."""
    return link_summaries(curated, [])


def link_summaries(curated: Path, summaries: list[dict]) -> list[tuple[str, str]]:
    """:func:`link_disclosures`, then the run summary's rows of linked documents show the
    unit, year and status they now have."""
    found = find_pairs(curated, store.read_all_documents(curated, columns=PAIRING_COLUMNS))
    pairs = [
        (full_n, full_t)
        for narrative, tables in found
        if (full_n := store.read_document_row(curated, narrative["doc_id"])) is not None
        and (full_t := store.read_document_row(curated, tables["doc_id"])) is not None
    ]
    rows = {row["doc_id"]: row for row in _apply_links(curated, pairs)}
    for summary in summaries:
        row = rows.get(summary.get("doc_id") or "")
        if row is not None:
            summary.update(unit=row.get("unit_name"), year=row.get("fiscal_year"))
            summary.update(status=row["status"], reason=row.get("reason") or "")
    return [(n["source_name"], t["source_name"]) for n, t in pairs]
