"""Self-test of the scorer: datasets built from the truth files must score 1.0.

Run: ``python -m benchmarks.selftest [--corpus DIR] [--n 3]`` (a few seconds).
Builds a temporary corpus of N truth documents (symlinks to the PDFs and truth
files), writes ``line_items`` (hive-partitioned by fiscal_year), ``tables`` and
``documents`` Parquet from their truth, scores them, checks every number is 1.0,
then perturbs one row and one field and checks the scores drop.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import pandas as pd

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.score import (  # noqa: E402
    ISSUE2,
    TruthDoc,
    load_truth,
    score,
)

DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "dev"


def pick_docs(corpus: Path, n: int) -> list[TruthDoc]:
    """N documents, preferring different templates and text layers."""
    docs = load_truth(corpus)
    chosen: list[TruthDoc] = []
    seen: set[tuple] = set()
    for d in docs:
        key = (d.truth["document"]["template"], d.text_layer)
        if key not in seen:
            seen.add(key)
            chosen.append(d)
    chosen += [d for d in docs if d not in chosen]
    return chosen[:n]


def link_corpus(docs: list[TruthDoc], dest: Path) -> None:
    """Symlink PDFs and truth files of ``docs`` into ``dest``."""
    dest.mkdir(parents=True)
    for d in docs:
        (dest / d.pdf.name).symlink_to(d.pdf.resolve())
        truth = d.pdf.with_name(d.corpus_id + ".truth.json")
        (dest / truth.name).symlink_to(truth.resolve())


def truth_frames(docs: list[TruthDoc]) -> dict[str, pd.DataFrame]:
    """line_items, tables and documents frames made from truth, with doc_id added."""
    li, tb, dc = [], [], []
    for d in docs:
        meta = d.truth["document"]
        li += [
            {**r, "doc_id": d.doc_id, "fiscal_year": meta["fiscal_year"]}
            for r in d.truth["line_items"]
        ]
        tb += [{**t, "doc_id": d.doc_id} for t in d.truth["tables"]]
        dc.append(
            {k: v for k, v in meta.items() if not isinstance(v, (list, dict))}
            | {"doc_id": d.doc_id, "status": "ok"}
        )
    return {
        "line_items": pd.DataFrame(li),
        "tables": pd.DataFrame(tb),
        "documents": pd.DataFrame(dc),
    }


def write_curated(frames: dict[str, pd.DataFrame], curated: Path) -> None:
    """Write frames as Parquet datasets; line_items hive-partitioned by fiscal_year."""
    for name, df in frames.items():
        out = curated / name
        out.mkdir(parents=True, exist_ok=True)
        if name == "line_items":
            df.to_parquet(out, partition_cols=["fiscal_year"], index=False)
        else:
            df.to_parquet(out / "part-0.parquet", index=False)


def all_perfect(rep: dict) -> list[str]:
    """Paths of every precision/recall/f1/share in the report that is not 1.0."""
    bad: list[str] = []

    def walk(x: object, path: str) -> None:
        if isinstance(x, dict):
            for k, v in x.items():
                if (
                    k
                    in (
                        "precision",
                        "recall",
                        "f1",
                        "overall",
                        "docs_all_correct",
                        "pred_names_clean_share",
                    )
                    and isinstance(v, float)
                    and v != 1.0
                ):
                    bad.append(f"{path}.{k}={v}")
                elif k == "by_field":
                    bad.extend(f"{path}.by_field.{f}={s}" for f, s in v.items() if s != 1.0)
                else:
                    walk(v, f"{path}.{k}")

    walk(rep, "")
    if rep["metadata"]["by_doc"]:
        bad.append(f"metadata mismatches {rep['metadata']['by_doc']}")
    return bad


def run(corpus: Path, n: int) -> int:
    """Build, score, check; return 0 on success."""
    docs = pick_docs(corpus, n)
    with tempfile.TemporaryDirectory(prefix="bench-selftest-") as tmp:
        tmpdir = Path(tmp)
        link_corpus(docs, tmpdir / "corpus")
        frames = truth_frames(docs)
        write_curated(frames, tmpdir / "curated")
        failures: list[str] = []
        for kinds in (None, ISSUE2):
            rep = score(tmpdir / "curated", tmpdir / "corpus", kinds=kinds)
            failures += all_perfect(rep)
            if rep["n_docs_found"] != len(docs):
                failures.append(f"found {rep['n_docs_found']} of {len(docs)} docs")
        rep_text = score(tmpdir / "curated", tmpdir / "corpus", text_layer="text")
        failures += all_perfect(rep_text)
        failures += check_perturbed(frames, tmpdir)
        ov = rep["line_items"]["overall"]["strict"]
    print(
        f"selftest: {len(docs)} docs ({', '.join(d.corpus_id for d in docs)}), "
        f"issue2 line items {ov['n_truth']}"
    )
    for f in failures:
        print("FAIL", f)
    print("selftest OK" if not failures else f"selftest FAILED ({len(failures)})")
    return 0 if not failures else 1


def check_perturbed(frames: dict[str, pd.DataFrame], tmpdir: Path) -> list[str]:
    """Change one amount, one classification and one unit_name: scores must drop as expected."""
    li = frames["line_items"].copy()
    li.loc[0, "amount_yuan"] = li.loc[0, "amount_yuan"] + 1.0
    li.loc[1, "classification"] = "bogus"
    dc = frames["documents"].copy()
    dc.loc[0, "unit_name"] = "wrong"
    write_curated(
        {"line_items": li, "tables": frames["tables"], "documents": dc}, tmpdir / "curated2"
    )
    rep = score(tmpdir / "curated2", tmpdir / "corpus")
    strict, loose = rep["line_items"]["overall"]["strict"], rep["line_items"]["overall"]["loose"]
    n = strict["n_truth"]
    fails = []
    if strict["tp"] != n - 2:
        fails.append(f"perturbed strict tp {strict['tp']} != {n - 2}")
    if loose["tp"] != n - 1:
        fails.append(f"perturbed loose tp {loose['tp']} != {n - 1}")
    if rep["metadata"]["by_field"]["unit_name"] >= 1.0:
        fails.append("perturbed unit_name not detected")
    return fails


def main(argv: list[str] | None = None) -> int:
    """CLI entry point."""
    ap = argparse.ArgumentParser(prog="python -m benchmarks.selftest")
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--n", type=int, default=3)
    args = ap.parse_args(argv)
    return run(args.corpus, args.n)


if __name__ == "__main__":
    sys.exit(main())
