"""Score ``curated/`` datasets against the ``*.truth.json`` files of a test corpus.

Library use::

    from benchmarks.score import score
    report = score("curated", "../shared/corpus/dev", kinds=ISSUE2)

CLI::

    python -m benchmarks.score --curated DIR --corpus DIR [--json OUT]
        [--text-layer all|text|scanned|mixed] [--kinds issue2,three_public]
        [--diff DOC_ID] [--brief]

Documents are matched by ``doc_id`` (first 16 hex digits of the SHA-256 of the PDF
that sits beside each truth file).  Line items are matched as a multiset on

- strict: (table_no, classification, code-or-name, measure, amount in cents)
- loose:  (table_no, code-or-name, measure, amount in cents)

where code-or-name is the row's code when it has one, else its cleaned name.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import re
import sys
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

ISSUE2: frozenset[str] = frozenset(
    {
        "budget_summary",
        "gpb_expenditure_by_function",
        "gpb_expenditure_by_econ",
        "gpb_basic_by_function",
        "gpb_basic_by_econ",
    }
)
KIND_SETS: dict[str, frozenset[str]] = {"issue2": ISSUE2}
META_FIELDS: tuple[str, ...] = (
    "unit_name",
    "unit_code",
    "admin_region",
    "fiscal_year",
    "doc_kind",
    "template",
    "pages",
    "text_layer",
)
INT_FIELDS = {"fiscal_year", "pages"}
# ids and free (continuous) numbers of the variant dict are not knobs to group by
KNOB_EXCLUDE = {
    "id",
    "doc_id",
    "seed",
    "profile",
    "scan_angle",
    "scan_blur",
    "scan_noise",
    "scan_quality",
}
KNOB_MAX_DISTINCT = 12
LINE_COLUMNS = (
    "doc_id",
    "table_no",
    "kind",
    "classification",
    "code",
    "name",
    "measure",
    "amount_yuan",
)
TABLE_COLUMNS = ("doc_id", "table_no", "kind", "is_empty")
DOC_COLUMNS = ("doc_id", *META_FIELDS)
TEXT_LAYERS = ("text", "scanned", "mixed")

_NUMBERING = re.compile(
    r"^(?:[一二三四五六七八九十]+[、.．]|\d+[、．]|\d+\.(?!\d)|[(（][一二三四五六七八九十\d]+[)）])"
)
_SPACE = re.compile(r"\s+")


# --------------------------------------------------------------------------- values


def is_missing(x: Any) -> bool:
    """True for None, NaN, NA and empty strings."""
    if x is None:
        return True
    if isinstance(x, str):
        return x.strip() == ""
    try:
        return bool(pd.isna(x))
    except (TypeError, ValueError):
        return False


@lru_cache(maxsize=200_000)
def clean_name(name: str) -> str:
    """Normalise an item name the way the contract defines a cleaned name."""
    s = unicodedata.normalize("NFKC", name)
    s = _SPACE.sub("", s)
    prev = None
    while prev != s:
        prev, s = s, _NUMBERING.sub("", s)
    return s


def norm_code(x: Any) -> str | None:
    """Codes as strings (no float repair: ``2010350.0`` stays a mismatch)."""
    return None if is_missing(x) else str(x).strip()


def norm_text(x: Any) -> str | None:
    """A stripped string or None."""
    return None if is_missing(x) else str(x).strip()


def amount_key(x: Any) -> int | None:
    """Amount in yuan rounded to 2 decimals, as integer cents."""
    if is_missing(x):
        return None
    try:
        return int(round(float(x) * 100))
    except (TypeError, ValueError):
        return None


def code_or_name(code: Any, name: Any) -> str:
    """The row's identity: its code when it has one, else its cleaned name."""
    c = norm_code(code)
    if c is not None:
        return c
    return clean_name(str(name)) if not is_missing(name) else ""


def strict_key(row: dict) -> tuple:
    """(table_no, classification, code-or-name, measure, amount cents)."""
    return (
        norm_text(row.get("table_no")),
        norm_text(row.get("classification")),
        code_or_name(row.get("code"), row.get("name")),
        norm_text(row.get("measure")),
        amount_key(row.get("amount_yuan")),
    )


def loose_key(row: dict) -> tuple:
    """The strict key without classification."""
    k = strict_key(row)
    return (k[0], k[2], k[3], k[4])


def prf(tp: int, n_pred: int, n_truth: int) -> dict[str, float | int]:
    """Precision, recall, F1 with vacuous 1.0 for empty denominators."""
    p = tp / n_pred if n_pred else 1.0
    r = tp / n_truth if n_truth else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {
        "tp": tp,
        "n_pred": n_pred,
        "n_truth": n_truth,
        "precision": round(p, 6),
        "recall": round(r, 6),
        "f1": round(f, 6),
    }


def multiset_tp(a: Iterable, b: Iterable) -> int:
    """Size of the multiset intersection of two key sequences."""
    return sum((Counter(a) & Counter(b)).values())


# --------------------------------------------------------------------------- loading


@dataclass
class TruthDoc:
    """One truth file and the PDF beside it."""

    corpus_id: str
    doc_id: str
    pdf: Path
    truth: dict = field(repr=False)

    @property
    def text_layer(self) -> str:
        """The document's text layer according to truth."""
        return str(self.truth["document"].get("text_layer"))


def sha256_file(path: Path) -> str:
    """Full hex SHA-256 of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@lru_cache(maxsize=4096)
def _doc_id_cached(path: str, size: int, mtime: float) -> str:
    return sha256_file(Path(path))[:16]


def doc_id_of(path: Path) -> str:
    """The contract's doc_id: first 16 hex digits of the SHA-256 of the bytes."""
    st = path.stat()
    return _doc_id_cached(str(path.resolve()), st.st_size, st.st_mtime)


def load_truth(corpus: Path, text_layer: str = "all") -> list[TruthDoc]:
    """Every ``*.truth.json`` with a PDF beside it, filtered by text layer(s)."""
    layers = parse_text_layer(text_layer)
    docs = []
    for tf in sorted(Path(corpus).rglob("*.truth.json")):
        cid = tf.name[: -len(".truth.json")]
        pdf = tf.with_name(cid + ".pdf")
        if not pdf.exists():
            print(f"warning: no PDF beside {tf}", file=sys.stderr)
            continue
        truth = json.loads(tf.read_text(encoding="utf-8"))
        doc = TruthDoc(cid, doc_id_of(pdf), pdf, truth)
        if layers is None or doc.text_layer in layers:
            docs.append(doc)
    return docs


def parse_text_layer(text_layer: str | None) -> set[str] | None:
    """``all`` -> None, else a set of layers from a comma list."""
    if not text_layer or text_layer == "all":
        return None
    layers = {s.strip() for s in text_layer.split(",") if s.strip()}
    bad = layers - set(TEXT_LAYERS)
    if bad:
        raise ValueError(f"unknown text layer(s) {sorted(bad)}; use {TEXT_LAYERS} or all")
    return layers


def parse_kinds(kinds: str | Iterable[str] | None) -> frozenset[str] | None:
    """None/``all`` -> None; names in KIND_SETS (e.g. ``issue2``) expand to their kinds."""
    if kinds is None:
        return None
    items = [s.strip() for s in kinds.split(",")] if isinstance(kinds, str) else list(kinds)
    items = [s for s in items if s]
    if not items or items == ["all"]:
        return None
    out: set[str] = set()
    for s in items:
        out |= KIND_SETS.get(s, {s})
    return frozenset(out)


def read_dataset(curated: Path, name: str, columns: Iterable[str]) -> pd.DataFrame:
    """Read ``curated/<name>`` with pandas; empty frame when absent; categoricals undone."""
    path = Path(curated) / name
    cols = list(columns)
    df = None
    if path.exists():
        try:
            df = pd.read_parquet(path)
        except Exception as exc:  # noqa: BLE001 - report and score as empty
            print(f"warning: cannot read {path}: {exc}", file=sys.stderr)
    if df is None:
        df = pd.DataFrame(columns=cols)
    for c in df.columns:
        if isinstance(df[c].dtype, pd.CategoricalDtype):
            df[c] = df[c].astype(object)
    for c in cols:
        if c not in df.columns:
            df[c] = None
    df["doc_id"] = df["doc_id"].map(norm_text)
    return df


@dataclass
class Curated:
    """The three curated datasets the scorer reads."""

    line_items: pd.DataFrame
    tables: pd.DataFrame
    documents: pd.DataFrame

    def rows(self, name: str, doc_id: str) -> list[dict]:
        """Records of one dataset for one document."""
        groups = self._groups(name)
        return groups.get(doc_id, [])

    def _groups(self, name: str) -> dict[str, list[dict]]:
        cache = self.__dict__.setdefault("_cache", {})
        if name not in cache:
            df = getattr(self, name)
            grouped: dict[str, list[dict]] = defaultdict(list)
            for rec in df.to_dict("records"):
                grouped[rec["doc_id"]].append(rec)
            cache[name] = dict(grouped)
        return cache[name]


def load_curated(curated: Path) -> Curated:
    """Read line_items, tables and documents of a curated folder."""
    return Curated(
        read_dataset(curated, "line_items", LINE_COLUMNS),
        read_dataset(curated, "tables", TABLE_COLUMNS),
        read_dataset(curated, "documents", DOC_COLUMNS),
    )


# --------------------------------------------------------------------------- cells


def table_kind_map(doc: TruthDoc) -> dict[str, str]:
    """Truth table_no -> kind."""
    return {str(t["table_no"]): t["kind"] for t in doc.truth["tables"]}


def pred_kind(row: dict, kinds_by_no: dict[str, str]) -> str:
    """Kind a predicted row is scored under: truth kind of its table_no, else its own."""
    tn = norm_text(row.get("table_no"))
    if tn in kinds_by_no:
        return kinds_by_no[tn]
    return norm_text(row.get("kind")) or "unknown"


def line_cells(doc: TruthDoc, preds: list[dict]) -> list[dict]:
    """Per (document, kind) counts: n_truth, n_pred, strict and loose matches."""
    kinds_by_no = table_kind_map(doc)
    truth_by: dict[str, list[dict]] = defaultdict(list)
    pred_by: dict[str, list[dict]] = defaultdict(list)
    for r in doc.truth["line_items"]:
        truth_by[kinds_by_no.get(str(r["table_no"]), r.get("kind"))].append(r)
    for r in preds:
        pred_by[pred_kind(r, kinds_by_no)].append(r)
    cells = []
    for kind in sorted(set(truth_by) | set(pred_by)):
        t, p = truth_by.get(kind, []), pred_by.get(kind, [])
        cells.append(
            {
                "corpus_id": doc.corpus_id,
                "kind": kind,
                "n_truth": len(t),
                "n_pred": len(p),
                "tp_strict": multiset_tp(map(strict_key, t), map(strict_key, p)),
                "tp_loose": multiset_tp(map(loose_key, t), map(loose_key, p)),
                "pred_names_clean": sum(1 for r in p if _name_is_clean(r.get("name"))),
            }
        )
    return cells


def _name_is_clean(name: Any) -> bool:
    return not is_missing(name) and clean_name(str(name)) == str(name)


def _table_key(t: dict, with_empty: bool) -> tuple:
    k = (norm_text(t.get("table_no")), norm_text(t.get("kind")))
    return (*k, _as_bool(t.get("is_empty"))) if with_empty else k


def _as_bool(x: Any) -> bool | None:
    return None if is_missing(x) else bool(x)


def table_cells(doc: TruthDoc, preds: list[dict]) -> list[dict]:
    """Per (document, kind) table identification counts."""
    truth_by: dict[str, list[dict]] = defaultdict(list)
    pred_by: dict[str, list[dict]] = defaultdict(list)
    for t in doc.truth["tables"]:
        truth_by[t["kind"]].append(t)
    for t in preds:
        pred_by[norm_text(t.get("kind")) or "unknown"].append(t)
    cells = []
    for kind in sorted(set(truth_by) | set(pred_by)):
        t, p = truth_by.get(kind, []), pred_by.get(kind, [])
        cells.append(
            {
                "corpus_id": doc.corpus_id,
                "kind": kind,
                "n_truth": len(t),
                "n_pred": len(p),
                "tp": multiset_tp(
                    (_table_key(x, False) for x in t), (_table_key(x, False) for x in p)
                ),
                "tp_empty": multiset_tp(
                    (_table_key(x, True) for x in t), (_table_key(x, True) for x in p)
                ),
            }
        )
    return cells


def meta_equal(field_name: str, truth: Any, pred: Any) -> bool:
    """Compare one documents field; ints compare as ints, text stripped, None == None."""
    if is_missing(truth) or is_missing(pred):
        return is_missing(truth) and is_missing(pred)
    if field_name in INT_FIELDS:
        try:
            return int(truth) == int(pred)
        except (TypeError, ValueError):
            return False
    return str(truth).strip() == str(pred).strip()


def printed_in_text_layer(pdf: Path, value: Any) -> bool | None:
    """Whether ``value`` occurs in the PDF's text layer (None: no text layer to tell by).

    The contract defines ``unit_code`` as "单位编码 when printed"; some truth files carry a
    code the document never prints, which no reader can give.
    """
    if is_missing(value) or not pdf.exists():
        return None
    import pypdfium2

    document = pypdfium2.PdfDocument(str(pdf))
    try:
        text = "".join(page.get_textpage().get_text_range() for page in document)
    finally:
        document.close()
    if len(text.strip()) < 50:
        return None
    return str(value) in text.replace(" ", "")


def meta_row(doc: TruthDoc, preds: list[dict]) -> dict:
    """Per-document metadata correctness (a missing document is wrong everywhere).

    ``unit_code_contract`` reads ``unit_code`` as the contract defines it: a code the
    document does not print anywhere in its text layer is correctly left empty.
    """
    pred = preds[0] if preds else {}
    row: dict[str, Any] = {"corpus_id": doc.corpus_id, "found": bool(preds), "n_rows": len(preds)}
    for f in META_FIELDS:
        row[f] = bool(preds) and meta_equal(f, doc.truth["document"].get(f), pred.get(f))
    truth_code = doc.truth["document"].get("unit_code")
    row["unit_code_contract"] = row["unit_code"] or (
        bool(preds)
        and is_missing(pred.get("unit_code"))
        and printed_in_text_layer(doc.pdf, truth_code) is False
    )
    row["wrong"] = {
        f: {"truth": doc.truth["document"].get(f), "pred": jsonable(pred.get(f))}
        for f in META_FIELDS
        if not row[f]
    }
    return row


def jsonable(x: Any) -> Any:
    if is_missing(x):
        return None
    if hasattr(x, "item"):
        return x.item()
    return x


# --------------------------------------------------------------------------- aggregation


def knob_groups(docs: list[TruthDoc]) -> dict[str, dict[str, list[str]]]:
    """knob -> value -> corpus ids, skipping ids, non-scalars and free numbers."""
    values: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    skip: set[str] = set(KNOB_EXCLUDE)
    for d in docs:
        for k, v in d.truth.get("variant", {}).items():
            if isinstance(v, (dict, list)) or (isinstance(v, float) and not v.is_integer()):
                skip.add(k)
                continue
            values[k][str(v)].append(d.corpus_id)
    return {
        k: dict(sorted(v.items()))
        for k, v in values.items()
        if k not in skip and len(v) <= KNOB_MAX_DISTINCT
    }


def sum_lines(cells: pd.DataFrame) -> dict[str, dict]:
    """Strict and loose P/R/F1 over a set of line cells."""
    nt, npred = int(cells["n_truth"].sum()), int(cells["n_pred"].sum())
    return {
        "strict": prf(int(cells["tp_strict"].sum()), npred, nt),
        "loose": prf(int(cells["tp_loose"].sum()), npred, nt),
    }


def sum_tables(cells: pd.DataFrame) -> dict[str, dict]:
    """Table identification P/R/F1 by (table_no, kind) and (table_no, kind, is_empty)."""
    nt, npred = int(cells["n_truth"].sum()), int(cells["n_pred"].sum())
    return {
        "by_no_kind": prf(int(cells["tp"].sum()), npred, nt),
        "by_no_kind_empty": prf(int(cells["tp_empty"].sum()), npred, nt),
    }


def summarize_meta(meta: pd.DataFrame) -> dict[str, Any]:
    """Share correct per field, overall, and share of documents entirely correct."""
    n = len(meta)
    by_field = {f: round(float(meta[f].mean()), 6) if n else 1.0 for f in META_FIELDS}
    all_ok = meta[list(META_FIELDS)].all(axis=1) if n else pd.Series(dtype=bool)
    contract_fields = [f if f != "unit_code" else "unit_code_contract" for f in META_FIELDS]
    has_contract = n and "unit_code_contract" in meta
    return {
        "n_docs": n,
        "by_field": by_field,
        "overall": round(float(meta[list(META_FIELDS)].to_numpy().mean()), 6) if n else 1.0,
        "overall_contract": (
            round(float(meta[contract_fields].to_numpy().mean()), 6) if has_contract else 1.0
        ),
        "docs_all_correct": round(float(all_ok.mean()), 6) if n else 1.0,
        "by_doc": {r["corpus_id"]: r["wrong"] for r in meta.to_dict("records") if r["wrong"]},
    }


def _empty_lines() -> pd.DataFrame:
    return pd.DataFrame(
        columns=[
            "corpus_id",
            "kind",
            "n_truth",
            "n_pred",
            "tp_strict",
            "tp_loose",
            "pred_names_clean",
        ]
    )


def _empty_tables() -> pd.DataFrame:
    return pd.DataFrame(columns=["corpus_id", "kind", "n_truth", "n_pred", "tp", "tp_empty"])


def score_docs(
    docs: list[TruthDoc], cur: Curated, kinds: frozenset[str] | None = None
) -> dict[str, Any]:
    """Score curated datasets against already-loaded truth documents."""
    lines = pd.DataFrame(
        [c for d in docs for c in line_cells(d, cur.rows("line_items", d.doc_id))] or None,
        columns=_empty_lines().columns,
    )
    tabs = pd.DataFrame(
        [c for d in docs for c in table_cells(d, cur.rows("tables", d.doc_id))] or None,
        columns=_empty_tables().columns,
    )
    meta = pd.DataFrame([meta_row(d, cur.rows("documents", d.doc_id)) for d in docs])
    if kinds is not None:
        lines = lines[lines["kind"].isin(kinds)]
        tabs = tabs[tabs["kind"].isin(kinds)]
    found = {
        d.corpus_id
        for d in docs
        if cur.rows("documents", d.doc_id) or cur.rows("line_items", d.doc_id)
    }
    return {
        "n_docs": len(docs),
        "n_docs_found": len(found),
        "line_items": line_report(lines, docs, found),
        "tables": table_report(tabs, docs),
        "metadata": summarize_meta(meta)
        if len(meta)
        else summarize_meta(pd.DataFrame(columns=["corpus_id", "wrong", *META_FIELDS])),
        "duplicate_document_rows": int(
            sum(max(0, len(cur.rows("documents", d.doc_id)) - 1) for d in docs)
        ),
    }


def line_report(lines: pd.DataFrame, docs: list[TruthDoc], found: set[str]) -> dict[str, Any]:
    """Overall, per kind, per document and per knob line-item scores."""
    n_pred = int(lines["n_pred"].sum())
    by_doc = {}
    for d in docs:
        sub = lines[lines["corpus_id"] == d.corpus_id]
        by_doc[d.corpus_id] = {
            "doc_id": d.doc_id,
            "text_layer": d.text_layer,
            "template": d.truth["document"].get("template"),
            "found": d.corpus_id in found,
            **sum_lines(sub),
        }
    by_knob: dict[str, dict[str, Any]] = {}
    for knob, groups in knob_groups(docs).items():
        by_knob[knob] = {
            v: {"n_docs": len(ids), **sum_lines(lines[lines["corpus_id"].isin(ids)])}
            for v, ids in groups.items()
        }
    return {
        "overall": sum_lines(lines),
        "by_kind": {k: sum_lines(g) for k, g in lines.groupby("kind", sort=True)},
        "by_text_layer": {
            tl: sum_lines(
                lines[lines["corpus_id"].isin([d.corpus_id for d in docs if d.text_layer == tl])]
            )
            for tl in sorted({d.text_layer for d in docs})
        },
        "by_doc": by_doc,
        "by_knob": by_knob,
        "pred_names_clean_share": round(int(lines["pred_names_clean"].sum()) / n_pred, 6)
        if n_pred
        else 1.0,
    }


def table_report(tabs: pd.DataFrame, docs: list[TruthDoc]) -> dict[str, Any]:
    """Overall, per kind and per document table identification."""
    return {
        "overall": sum_tables(tabs),
        "by_kind": {k: sum_tables(g) for k, g in tabs.groupby("kind", sort=True)},
        "by_doc": {d.corpus_id: sum_tables(tabs[tabs["corpus_id"] == d.corpus_id]) for d in docs},
    }


def score(
    curated: str | Path,
    corpus: str | Path,
    text_layer: str = "all",
    kinds: str | Iterable[str] | None = None,
) -> dict[str, Any]:
    """Load truth and curated datasets and return the full score report as a dict."""
    docs = load_truth(Path(corpus), text_layer)
    kind_set = parse_kinds(kinds)
    report = score_docs(docs, load_curated(Path(curated)), kind_set)
    report["filters"] = {
        "text_layer": text_layer or "all",
        "kinds": sorted(kind_set) if kind_set else "all",
    }
    report["curated"], report["corpus"] = str(curated), str(corpus)
    return report


# --------------------------------------------------------------------------- diff


def find_doc(docs: list[TruthDoc], ident: str) -> TruthDoc:
    """Look a document up by doc_id (or prefix) or corpus id."""
    hits = [d for d in docs if ident in (d.corpus_id, d.doc_id) or d.doc_id.startswith(ident)]
    if len(hits) != 1:
        raise SystemExit(f"--diff {ident}: {len(hits)} matching documents")
    return hits[0]


def unmatched(rows_a: list[dict], rows_b: list[dict]) -> list[dict]:
    """Rows of ``rows_a`` left over after multiset matching against ``rows_b`` (strict)."""
    left = Counter(map(strict_key, rows_b))
    out = []
    for r in rows_a:
        k = strict_key(r)
        if left[k] > 0:
            left[k] -= 1
        else:
            out.append(r)
    return out


def diff_doc(doc: TruthDoc, cur: Curated, kinds: frozenset[str] | None = None) -> dict:
    """Unmatched truth ('missing') and predicted ('extra') rows, grouped by table_no."""
    kinds_by_no = table_kind_map(doc)
    truth = [
        r
        for r in doc.truth["line_items"]
        if kinds is None or kinds_by_no.get(str(r["table_no"])) in kinds
    ]
    preds = [
        r
        for r in cur.rows("line_items", doc.doc_id)
        if kinds is None or pred_kind(r, kinds_by_no) in kinds
    ]
    missing, extra = unmatched(truth, preds), unmatched(preds, truth)
    loose_extra = Counter(map(loose_key, extra))
    loose_missing = Counter(map(loose_key, missing))
    out: dict[str, dict[str, list]] = defaultdict(lambda: {"missing": [], "extra": []})
    for r in missing:
        out[str(norm_text(r.get("table_no")))]["missing"].append(
            _diff_row(r, loose_extra[loose_key(r)] > 0)
        )
    for r in extra:
        out[str(norm_text(r.get("table_no")))]["extra"].append(
            _diff_row(r, loose_missing[loose_key(r)] > 0)
        )
    return dict(sorted(out.items(), key=lambda kv: _table_sort(kv[0])))


def _table_sort(table_no: str) -> tuple:
    return tuple(int(p) if p.isdigit() else 0 for p in re.split(r"\D+", table_no) if p) or (0,)


def _diff_row(r: dict, loose_hit: bool) -> dict:
    amt = amount_key(r.get("amount_yuan"))
    return {
        "classification": norm_text(r.get("classification")),
        "code": norm_code(r.get("code")),
        "name": norm_text(r.get("name")),
        "measure": norm_text(r.get("measure")),
        "amount_yuan": None if amt is None else amt / 100,
        "where": norm_text(r.get("column"))
        or (f"p{jsonable(r.get('page'))}" if not is_missing(r.get("page")) else None),
        "loose_match": loose_hit,
    }


def print_diff(doc: TruthDoc, diff: dict) -> None:
    """Print a diff from :func:`diff_doc`; '~' marks rows that match loosely."""
    print(
        f"# diff {doc.corpus_id} doc_id={doc.doc_id} "
        f"({doc.truth['document'].get('unit_name')}, {doc.text_layer})"
    )
    print(
        "# '-' truth row not predicted, '+' predicted row not in truth, "
        "'~' matches the other side without classification"
    )
    if not diff:
        print("no differences")
    for table_no, sides in diff.items():
        print(
            f"\n## table {table_no}: {len(sides['missing'])} missing, {len(sides['extra'])} extra"
        )
        for sign, key in (("-", "missing"), ("+", "extra")):
            for r in sorted(
                sides[key],
                key=lambda r: (
                    str(r["classification"]),
                    str(r["code"] or r["name"]),
                    str(r["measure"]),
                ),
            ):
                mark = "~" if r["loose_match"] else " "
                amt = "None" if r["amount_yuan"] is None else f"{r['amount_yuan']:.2f}"
                print(
                    f"{sign}{mark} {r['classification'] or '-':<14} {r['code'] or '-':<8} "
                    f"{_pad(r['name'] or '-', 36)} {r['measure'] or '-':<16} "
                    f"{amt:>14}  {r['where'] or ''}"
                )


def _pad(text: str, width: int) -> str:
    """Cut/pad to a display width, counting East Asian wide characters as 2."""
    out, used = "", 0
    for ch in text:
        w = 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        if used + w > width:
            break
        out, used = out + ch, used + w
    return out + " " * (width - used)


# --------------------------------------------------------------------------- report


def render(title: str, headers: list[str], rows: list[list[Any]]) -> None:
    """Print a table with rich when available, else as aligned plain text."""
    cells = [[_fmt(v) for v in r] for r in rows]
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        widths = [
            max(len(h), *(len(r[i]) for r in cells)) if cells else len(h)
            for i, h in enumerate(headers)
        ]
        print(f"\n{title}")
        print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)))
        for r in cells:
            print("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)))
        return
    table = Table(title=title, title_justify="left")
    for i, h in enumerate(headers):
        table.add_column(h, justify="left" if i == 0 else "right")
    for r in cells:
        table.add_row(*r)
    console = Console() if sys.stdout.isatty() else Console(width=160)
    console.print(table)


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.3f}" if not math.isnan(v) else "-"
    return str(v)


def prf_cols(s: dict) -> list[Any]:
    """Counts and P/R/F1; a vacuous 1.0 (empty denominator) is shown as '-'."""
    p = s["precision"] if s["n_pred"] else "-"
    r = s["recall"] if s["n_truth"] else "-"
    return [s["n_truth"], s["n_pred"], s["tp"], p, r, s["f1"]]


PRF_HEAD = ["truth", "pred", "match", "P", "R", "F1"]


def print_report(rep: dict, brief: bool = False) -> None:
    """Readable report: overall, per kind, per knob, per document, metadata, tables."""
    li = rep["line_items"]
    print(
        f"curated={rep.get('curated')} corpus={rep.get('corpus')} "
        f"filters={rep.get('filters')} docs={rep['n_docs']} found={rep['n_docs_found']}"
    )
    render(
        "Line items (strict = with classification, loose = without)",
        ["score", *PRF_HEAD],
        [[k, *prf_cols(li["overall"][k])] for k in ("strict", "loose")]
        + [[f"strict {tl}", *prf_cols(s["strict"])] for tl, s in li["by_text_layer"].items()],
    )
    render(
        "Line items by table kind",
        ["kind", *PRF_HEAD, "loose F1"],
        [[k, *prf_cols(s["strict"]), s["loose"]["f1"]] for k, s in li["by_kind"].items()],
    )
    md = rep["metadata"]
    render(
        "Metadata (share correct)",
        ["field", "correct"],
        [[f, v] for f, v in md["by_field"].items()]
        + [
            ["ALL FIELDS", md["overall"]],
            ["ALL FIELDS, unit_code when printed (contract)", md.get("overall_contract")],
            ["DOCS FULLY OK", md["docs_all_correct"]],
        ],
    )
    tb = rep["tables"]["overall"]
    render(
        "Table identification",
        ["key", *PRF_HEAD],
        [
            ["table_no+kind", *prf_cols(tb["by_no_kind"])],
            ["+is_empty", *prf_cols(tb["by_no_kind_empty"])],
        ],
    )
    if brief:
        return
    render(
        "Line items by variant knob (strict)",
        ["knob=value", "docs", *PRF_HEAD, "loose F1"],
        [
            [f"{k}={v}", s["n_docs"], *prf_cols(s["strict"]), s["loose"]["f1"]]
            for k, vals in li["by_knob"].items()
            for v, s in vals.items()
        ],
    )
    render(
        "Line items by document (strict)",
        ["doc", "layer", "found", *PRF_HEAD, "loose F1", "tables F1"],
        [
            [
                cid,
                s["text_layer"],
                "yes" if s["found"] else "NO",
                *prf_cols(s["strict"]),
                s["loose"]["f1"],
                rep["tables"]["by_doc"][cid]["by_no_kind_empty"]["f1"],
            ]
            for cid, s in li["by_doc"].items()
        ],
    )
    print_meta_mismatches(md["by_doc"], {c for c, s in li["by_doc"].items() if not s["found"]})


def print_meta_mismatches(by_doc: dict[str, dict], missing: set[str]) -> None:
    """One line per document whose metadata differs from truth."""
    if not by_doc:
        return
    print("\nMetadata mismatches:")
    for cid, wrong in by_doc.items():
        no_row = len(wrong) == len(META_FIELDS) and all(w["pred"] is None for w in wrong.values())
        if cid in missing or no_row:
            print(f"  {cid}: document missing from curated/documents")
            continue
        print(
            f"  {cid}: "
            + "; ".join(f"{f} truth={w['truth']!r} pred={w['pred']!r}" for f, w in wrong.items())
        )


def main(argv: list[str] | None = None) -> int:
    """CLI entry point."""
    ap = argparse.ArgumentParser(
        prog="python -m benchmarks.score",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--curated", required=True, type=Path, help="curated/ folder")
    ap.add_argument("--corpus", required=True, type=Path, help="folder with *.truth.json + PDFs")
    ap.add_argument("--json", type=Path, help="write the full report here")
    ap.add_argument(
        "--text-layer", default="all", help="all (default) or comma list of text,scanned,mixed"
    )
    ap.add_argument(
        "--kinds",
        default=None,
        help="comma list of table kinds; 'issue2' expands to " + ",".join(sorted(ISSUE2)),
    )
    ap.add_argument(
        "--diff",
        metavar="DOC_ID",
        help="print unmatched truth/predicted rows of one document "
        "(doc_id, its prefix, or corpus id such as dev-1-0002)",
    )
    ap.add_argument("--brief", action="store_true", help="skip per-knob and per-document tables")
    args = ap.parse_args(argv)
    if args.diff:
        docs = load_truth(args.corpus, args.text_layer)
        doc = find_doc(docs, args.diff)
        print_diff(doc, diff_doc(doc, load_curated(args.curated), parse_kinds(args.kinds)))
        return 0
    rep = score(args.curated, args.corpus, args.text_layer, args.kinds)
    print_report(rep, brief=args.brief)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps(rep, ensure_ascii=False, indent=1, default=jsonable), encoding="utf-8"
        )
        print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
