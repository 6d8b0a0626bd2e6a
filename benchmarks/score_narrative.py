"""Score the narrative datasets (``facts``, ``sections``) of a curated folder against truth.

CLI::

    python -m benchmarks.score_narrative --curated DIR --corpus DIR [--json OUT] [--misses]

Documents are matched by ``doc_id`` (as in :mod:`benchmarks.score`).

facts
    A truth fact is found when the document has a fact with the same id, the same value
    (to 1e-6) and the same unit; each predicted fact matches at most one truth fact.
    Recall is found / truth facts; precision is found / predicted facts whose id the truth
    files use (ids the truth never scores, such as ``function_amount``, are counted apart).
    ``sentence_exact`` is the share of found facts whose sentence equals the truth's.
sections
    Truth sections are keyed by (part, section_no).  Recall is the share of truth keys the
    document has; precision the share of predicted numbered sections the truth has
    (unnumbered rows, the text of a part before its first section, are counted apart).
    For matched sections: heading and text equal after removing whitespace, and the mean
    similarity (difflib ratio) of the texts.
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pandas as pd

from benchmarks.score import TruthDoc, load_truth, prf

_WS = re.compile(r"\s+")


def _norm(text: Any) -> str:
    return _WS.sub("", str(text or ""))


def read(curated: Path, dataset: str) -> pd.DataFrame:
    folder = Path(curated) / dataset
    files = sorted(folder.rglob("*.parquet")) if folder.exists() else []
    if not files:
        return pd.DataFrame()
    return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)


def _rows_by_doc(frame: pd.DataFrame) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = defaultdict(list)
    if not frame.empty:
        for row in frame.to_dict("records"):
            out[row["doc_id"]].append(
                {k: (None if isinstance(v, float) and v != v else v) for k, v in row.items()}
            )
    return out


def _same_value(a: Any, b: Any) -> bool:
    try:
        return abs(float(a) - float(b)) <= 1e-6 * max(1.0, abs(float(b)))
    except (TypeError, ValueError):
        return False


def score_facts(docs: list[TruthDoc], facts: dict[str, list[dict]]) -> dict[str, Any]:
    scored_ids = {f["fact"] for d in docs for f in d.truth.get("facts", [])}
    total = Counter()
    per_fact: dict[str, Counter] = defaultdict(Counter)
    per_layer: dict[str, Counter] = defaultdict(Counter)
    misses: list[dict] = []
    wrong: list[dict] = []
    unscored = Counter()
    for doc in docs:
        truth = doc.truth.get("facts", [])
        preds = [f for f in facts.get(doc.doc_id, []) if f["fact"] in scored_ids]
        for f in facts.get(doc.doc_id, []):
            if f["fact"] not in scored_ids:
                unscored[f["fact"]] += 1
        used: set[int] = set()
        for t in truth:
            match = next(
                (
                    i
                    for i, p in enumerate(preds)
                    if i not in used
                    and p["fact"] == t["fact"]
                    and _same_value(p["value"], t["value"])
                    and p.get("unit") == t.get("unit")
                ),
                None,
            )
            for counter in (total, per_fact[t["fact"]], per_layer[doc.text_layer]):
                counter["truth"] += 1
                counter["tp"] += match is not None
            if match is None:
                misses.append(
                    {
                        "doc": doc.corpus_id,
                        "fact": t["fact"],
                        "truth": t["value"],
                        "unit": t.get("unit"),
                        "got": [
                            (p["value"], p.get("unit")) for p in preds if p["fact"] == t["fact"]
                        ],
                    }
                )
                continue
            used.add(match)
            exact = _norm(preds[match]["sentence"]) == _norm(t["sentence"])
            inside = _norm(t["sentence"]) in _norm(preds[match]["sentence"]) or _norm(
                preds[match]["sentence"]
            ) in _norm(t["sentence"])
            for counter in (total, per_fact[t["fact"]], per_layer[doc.text_layer]):
                counter["sentence_exact"] += exact
                counter["sentence_overlap"] += inside
        for i, p in enumerate(preds):
            for counter in (total, per_fact[p["fact"]], per_layer[doc.text_layer]):
                counter["pred"] += 1
            if i not in used:
                wrong.append(
                    {
                        "doc": doc.corpus_id,
                        "fact": p["fact"],
                        "value": p["value"],
                        "unit": p.get("unit"),
                        "sentence": p["sentence"][:80],
                    }
                )

    def summary(c: Counter) -> dict[str, Any]:
        out = prf(c["tp"], c["pred"], c["truth"])
        out["sentence_exact"] = round(c["sentence_exact"] / c["tp"], 4) if c["tp"] else None
        out["sentence_overlap"] = round(c["sentence_overlap"] / c["tp"], 4) if c["tp"] else None
        return out

    return {
        "overall": summary(total),
        "per_fact": {k: summary(v) for k, v in sorted(per_fact.items())},
        "per_text_layer": {k: summary(v) for k, v in sorted(per_layer.items())},
        "unscored_fact_ids": dict(sorted(unscored.items())),
        "misses": misses,
        "wrong": wrong,
    }


def score_sections(docs: list[TruthDoc], sections: dict[str, list[dict]]) -> dict[str, Any]:
    total = Counter()
    per_layer: dict[str, Counter] = defaultdict(Counter)
    similarity: list[float] = []
    misses: list[dict] = []
    for doc in docs:
        truth = {(s.get("part"), s["section_no"]): s for s in doc.truth.get("sections", [])}
        preds = sections.get(doc.doc_id, [])
        numbered = {(p.get("part"), p["section_no"]): p for p in preds if p.get("section_no")}
        counters = (total, per_layer[doc.text_layer])
        for c in counters:
            c["truth"] += len(truth)
            c["pred"] += len(numbered)
            c["unnumbered"] += sum(1 for p in preds if not p.get("section_no"))
        for key, t in truth.items():
            p = numbered.get(key)
            if p is None:
                misses.append(
                    {
                        "doc": doc.corpus_id,
                        "section": "/".join(filter(None, key)),
                        "heading": t["heading"],
                    }
                )
                continue
            ratio = difflib.SequenceMatcher(
                None, _norm(p["text"]), _norm(t["text"]), autojunk=False
            ).ratio()
            similarity.append(ratio)
            for c in counters:
                c["tp"] += 1
                c["heading_exact"] += _norm(p["heading"]) == _norm(t["heading"])
                c["text_exact"] += _norm(p["text"]) == _norm(t["text"])
                c["similarity"] += ratio
            if _norm(p["text"]) != _norm(t["text"]):
                misses.append(
                    {
                        "doc": doc.corpus_id,
                        "section": "/".join(filter(None, key)),
                        "similarity": round(ratio, 4),
                    }
                )

    def summary(c: Counter) -> dict[str, Any]:
        out = prf(c["tp"], c["pred"], c["truth"])
        for name in ("heading_exact", "text_exact", "similarity"):
            out[name] = round(c[name] / c["tp"], 4) if c["tp"] else None
        out["unnumbered_rows"] = c["unnumbered"]
        return out

    return {
        "overall": summary(total),
        "per_text_layer": {k: summary(v) for k, v in sorted(per_layer.items())},
        "min_similarity": round(min(similarity), 4) if similarity else None,
        "misses": misses,
    }


def score(curated: Path | str, corpus: Path | str, text_layer: str = "all") -> dict[str, Any]:
    docs = load_truth(Path(corpus), text_layer)
    facts = _rows_by_doc(read(Path(curated), "facts"))
    sections = _rows_by_doc(read(Path(curated), "sections"))
    found = {d.doc_id for d in docs if d.doc_id in facts or d.doc_id in sections}
    return {
        "documents": len(docs),
        "documents_with_narrative": len(found),
        "facts": score_facts(docs, facts),
        "sections": score_sections(docs, sections),
    }


def _print(report: dict[str, Any], show_misses: bool) -> None:
    facts, sections = report["facts"], report["sections"]
    o = facts["overall"]
    print(
        f"documents: {report['documents']} (with narrative rows: {report['documents_with_narrative']})"
    )
    print(
        f"facts     recall {o['recall']:.4f}  precision {o['precision']:.4f}  ({o['tp']}/{o['n_truth']} found, "
        f"{o['n_pred']} predicted)  sentence exact {o['sentence_exact']}  overlapping {o['sentence_overlap']}"
    )
    for layer, s in facts["per_text_layer"].items():
        print(
            f"  {layer:8s} recall {s['recall']:.4f}  precision {s['precision']:.4f}  ({s['tp']}/{s['n_truth']})"
        )
    for fact, s in facts["per_fact"].items():
        print(f"  {fact:22s} recall {s['recall']:.4f}  precision {s['precision']:.4f}")
    print(f"  unscored fact ids: {facts['unscored_fact_ids']}")
    o = sections["overall"]
    print(
        f"sections  recall {o['recall']:.4f}  precision {o['precision']:.4f}  ({o['tp']}/{o['n_truth']}, {o['n_pred']} predicted, "
        f"{o['unnumbered_rows']} unnumbered rows)  heading exact {o['heading_exact']}  text exact {o['text_exact']}  "
        f"mean similarity {o['similarity']}  min {sections['min_similarity']}"
    )
    for layer, s in sections["per_text_layer"].items():
        print(
            f"  {layer:8s} recall {s['recall']:.4f}  text exact {s['text_exact']}  similarity {s['similarity']}"
        )
    if show_misses:
        for name, rows in (
            ("fact miss", facts["misses"]),
            ("fact wrong", facts["wrong"]),
            ("section", sections["misses"]),
        ):
            for row in rows:
                print(f"{name}: {json.dumps(row, ensure_ascii=False)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--curated", required=True, type=Path)
    parser.add_argument("--corpus", required=True, type=Path)
    parser.add_argument("--text-layer", default="all")
    parser.add_argument("--json", type=Path, help="write the full report here")
    parser.add_argument("--misses", action="store_true", help="list every miss")
    args = parser.parse_args(argv)
    report = score(args.curated, args.corpus, args.text_layer)
    _print(report, args.misses)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
