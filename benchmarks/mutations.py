"""Mutation benchmark: corrupt one figure of a correctly extracted document, count the catches.

    python -m benchmarks.mutations [--corpus ../shared/corpus/dev] [--n 300] [--seed 7]

Each trial takes a text-layer dev document (extracted with F1 = 1.000), picks one money figure
at random and corrupts it the way a misread figure looks (a digit replaced, dropped,
doubled or two digits swapped, the decimal point shifted), then validates the document. The
share of trials that give at least one *error* finding is the detection rate (target ≥ 99%).
The helpers (:func:`change_amount`, :func:`drop_row`, :func:`swap_codes`,
:func:`shift_column`) are also the mutation tests' tools.
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import time
from collections import Counter
from pathlib import Path

from budget_disclosures.extractors.numbers import MONEY_UNIT_FACTORS as UNIT_FACTOR

CORRUPTIONS = ("digit", "drop", "double", "transpose", "decimal")


# --------------------------------------------------------------------------- mutations


def _with_items(rows: dict[str, list[dict]], items: list[dict]) -> dict[str, list[dict]]:
    out = dict(rows)
    out["line_items"] = items
    return out


def _printed(value: float) -> str:
    return f"{value:.2f}"


def change_amount(rows: dict, index: int, printed: str) -> dict:
    """Line item ``index`` now reads ``printed`` (amount_yuan follows its unit)."""
    items = list(rows["line_items"])
    item = dict(items[index])
    value = float(printed.replace(",", ""))
    item["amount_printed"] = printed
    item["amount_yuan"] = round(value * UNIT_FACTOR.get(item["unit_printed"], 1.0), 2)
    items[index] = item
    return _with_items(rows, items)


def drop_row(rows: dict, table_no: str, code: str) -> dict:
    """Every figure of one table row is gone."""
    items = [i for i in rows["line_items"] if not (i["table_no"] == table_no and i["code"] == code)]
    return _with_items(rows, items)


def _level_and_parent(code: str) -> tuple[int, str | None]:
    level = (len(code) - 1) // 2
    return level, (code[:-2] if len(code) > 3 else None)


def swap_codes(rows: dict, table_no: str, code_a: str, code_b: str) -> dict:
    """Two rows of a table swap their codes (level and parent follow the code, as extracted)."""
    items = []
    for item in rows["line_items"]:
        if item["table_no"] == table_no and item["code"] in (code_a, code_b):
            item = dict(item)
            item["code"] = code_b if item["code"] == code_a else code_a
            item["level"], item["parent_code"] = _level_and_parent(item["code"])
        items.append(item)
    return _with_items(rows, items)


def shift_column(rows: dict, table_no: str, measure: str) -> dict:
    """One column slides down a row: each row gets the figure printed in the row above."""
    items = [dict(i) for i in rows["line_items"]]
    column = [i for i in items if i["table_no"] == table_no and i["measure"] == measure]
    figures = [(i["amount_yuan"], i["amount_printed"]) for i in column]
    for item, (yuan, printed) in zip(column[1:], figures[:-1]):
        item["amount_yuan"], item["amount_printed"] = yuan, printed
    if column:
        column[0]["amount_yuan"], column[0]["amount_printed"] = 0.0, "0"
    return _with_items(rows, items)


def corrupt(printed: str, kind: str, rng: random.Random) -> str | None:
    """A misread of ``printed``; None when this kind cannot change it."""
    text = printed.replace(",", "")
    negative = text.startswith("-")
    text = text.lstrip("-")
    if "." not in text:
        text += ".00"
    whole, _, cents = text.partition(".")
    cents = (cents + "00")[:2]
    digits = list(whole + cents)
    positions = list(range(len(digits)))
    if kind == "digit":
        i = rng.choice(positions)
        digits[i] = rng.choice([d for d in "0123456789" if d != digits[i]])
    elif kind == "drop":
        if len(digits) < 2:
            return None
        del digits[rng.choice(positions)]
        while len(digits) < 3:
            digits.insert(0, "0")
    elif kind == "double":
        i = rng.choice(positions)
        digits.insert(i, digits[i])
    elif kind == "transpose":
        pairs = [i for i in positions[:-1] if digits[i] != digits[i + 1]]
        if not pairs:
            return None
        i = rng.choice(pairs)
        digits[i], digits[i + 1] = digits[i + 1], digits[i]
    elif kind == "decimal":
        value = float(whole + "." + cents)
        value = value * 10 if rng.random() < 0.5 else value / 10
        out = _printed(-value if negative else value)
        return None if float(out) == float(printed.replace(",", "")) else out
    else:
        raise ValueError(kind)
    new_whole, new_cents = "".join(digits[:-2]) or "0", "".join(digits[-2:])
    out = f"{'-' if negative else ''}{int(new_whole)}.{new_cents}"
    return None if float(out) == float(printed.replace(",", "")) else out


# --------------------------------------------------------------------------- documents


def build_document(path: Path) -> dict[str, list[dict]]:
    """The curated rows of a PDF, as the ingest makes them (before validation)."""
    from budget_disclosures.extractors.document import identify_file
    from budget_disclosures.flows.pipeline import build_rows

    identity = identify_file(path)
    rows, _ = build_rows(path, identity.doc_id, identity.sha256)
    return rows


def text_layer_documents(corpus: Path) -> list[Path]:
    manifest = corpus / "MANIFEST.tsv"
    with manifest.open(encoding="utf-8") as handle:
        return [
            corpus / f"{r['id']}.pdf"
            for r in csv.DictReader(handle, delimiter="\t")
            if r["text_layer"] == "text"
        ]


def has_error(rows: dict) -> tuple[bool, list[str]]:
    from budget_disclosures.validation import validate_rows

    report = validate_rows(rows)
    return report.n_errors > 0, report.errors


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=Path("../shared/corpus/dev"))
    parser.add_argument("--n", type=int, default=300, help="corruptions (at least 200)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--misses", type=int, default=15, help="missed corruptions to list")
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    paths = text_layer_documents(args.corpus)
    started = time.perf_counter()
    documents = {}
    for path in paths:
        rows = build_document(path)
        error, checks = has_error(rows)
        if error:
            print(
                f"skipped {path.name}: error findings before corruption: {checks}", file=sys.stderr
            )
            continue
        if rows["line_items"]:
            documents[path.name] = rows
    print(
        f"{len(documents)} text-layer documents read in {time.perf_counter() - started:.1f} s",
        file=sys.stderr,
    )
    names = sorted(documents)
    caught, by_kind, by_table, misses = 0, Counter(), Counter(), []
    totals_kind, totals_table = Counter(), Counter()
    started = time.perf_counter()
    trials = 0
    while trials < args.n:
        name = rng.choice(names)
        rows = documents[name]
        index = rng.randrange(len(rows["line_items"]))
        item = rows["line_items"][index]
        kind = rng.choice(CORRUPTIONS)
        printed = corrupt(item["amount_printed"], kind, rng)
        if printed is None:
            continue
        trials += 1
        error, _ = has_error(change_amount(rows, index, printed))
        totals_kind[kind] += 1
        totals_table[item["kind"]] += 1
        if error:
            caught += 1
            by_kind[kind] += 1
            by_table[item["kind"]] += 1
        else:
            misses.append(
                f"{name} 表{item['table_no']} {item['kind']} {item['classification']} "
                f"{item['code'] or ''} {item['name']} {item['measure']}: {item['amount_printed']} → {printed} ({kind})"
            )
    seconds = time.perf_counter() - started
    print(
        f"detection rate: {caught}/{trials} = {caught / trials:.1%} of single-figure corruptions give an error finding"
    )
    print(f"({seconds / trials * 1000:.0f} ms per validation)")
    print("by corruption: " + ", ".join(f"{k} {by_kind[k]}/{totals_kind[k]}" for k in CORRUPTIONS))
    print("by table kind:")
    for kind, total in sorted(totals_table.items()):
        print(f"  {kind:32} {by_table[kind]}/{total}")
    if misses:
        print(f"missed ({len(misses)}):")
        for miss in misses[: args.misses]:
            print("  " + miss)
    return 0


if __name__ == "__main__":
    sys.exit(main())
