"""Speed baseline: plain pdfplumber ``page.extract_tables()`` over every page.

Library: ``pdfplumber_baseline(paths) -> dict``; CLI::

    python -m benchmarks.speed PDF_OR_DIR... [--json OUT]

Each file is opened once; every page gets ``page.extract_tables()`` and is closed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any


def list_pdfs(items: Iterable[str | Path]) -> list[Path]:
    """PDF files named directly or found (recursively) under directories, sorted."""
    out: list[Path] = []
    for item in map(Path, items):
        if item.is_dir():
            out += sorted(p for p in item.rglob("*") if p.suffix.lower() == ".pdf" and p.is_file())
        elif item.is_file():
            out.append(item)
        else:
            raise FileNotFoundError(item)
    return out


def count_pages(paths: Iterable[Path]) -> int:
    """Total page count (pypdfium2 when available, else pdfplumber)."""
    total = 0
    for p in paths:
        try:
            total += _pages_pdfium(p)
        except ImportError:
            total += _pages_pdfplumber(p)
        except Exception as exc:  # noqa: BLE001 - unreadable file counts 0
            print(f"warning: cannot count pages of {p}: {exc}", file=sys.stderr)
    return total


def _pages_pdfium(path: Path) -> int:
    import pypdfium2

    doc = pypdfium2.PdfDocument(str(path))
    try:
        return len(doc)
    finally:
        doc.close()


def _pages_pdfplumber(path: Path) -> int:
    import pdfplumber

    with pdfplumber.open(path) as pdf:
        return len(pdf.pages)


def extract_file(path: Path) -> tuple[int, int]:
    """Run ``extract_tables()`` on every page of one file; return (pages, tables)."""
    import pdfplumber

    pages = tables = 0
    with pdfplumber.open(path) as pdf:
        for page in pdf.pages:
            tables += len(page.extract_tables())
            page.close()
            pages += 1
    return pages, tables


def pdfplumber_baseline(paths: Iterable[str | Path]) -> dict[str, Any]:
    """Time plain pdfplumber table extraction over all pages of all files."""
    files = [Path(p) for p in paths]
    pages = tables = 0
    errors: dict[str, str] = {}
    t0 = time.perf_counter()
    for path in files:
        try:
            n_pages, n_tables = extract_file(path)
        except Exception as exc:  # noqa: BLE001 - record and go on
            errors[str(path)] = f"{type(exc).__name__}: {exc}"
            continue
        pages += n_pages
        tables += n_tables
    seconds = time.perf_counter() - t0
    return {
        "tool": "pdfplumber.extract_tables",
        "files": len(files),
        "pages": pages,
        "tables": tables,
        "seconds": round(seconds, 3),
        "pages_per_s": round(pages / seconds, 3) if seconds > 0 else None,
        "errors": errors,
    }


def main(argv: list[str] | None = None) -> int:
    """CLI entry point."""
    ap = argparse.ArgumentParser(
        prog="python -m benchmarks.speed",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("paths", nargs="+", help="PDF files or folders (searched recursively)")
    ap.add_argument("--json", type=Path, help="write the result here")
    args = ap.parse_args(argv)
    res = pdfplumber_baseline(list_pdfs(args.paths))
    print(
        f"pdfplumber extract_tables: {res['files']} files, {res['pages']} pages, "
        f"{res['tables']} tables in {res['seconds']:.1f}s = {res['pages_per_s']} pages/s"
    )
    for path, err in res["errors"].items():
        print(f"  error {path}: {err}")
    if args.json:
        args.json.write_text(json.dumps(res, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
