"""What validation adds to the ingest: the dev corpus ingested with and without it, one run.

    python -m benchmarks.validation_speed [--corpus ../shared/corpus/dev] [--out /tmp/vs] [--gx]

Ingests the corpus in-process on a pool of 2 workers (as ``/tmp/quick.py`` does), alternating
passes without and with validation (A B B A, so drift in the machine's load cancels), then
reports the wall time of each, the CPU time of extraction and of validation per document
(one process, sequential), and with ``--gx`` the time of a GX Core run over the whole
store (``disclosures validate``): the numbers behind the design choice in the README.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import time
from multiprocessing import Pool
from pathlib import Path


def _ingest(args: tuple[str, str, bool]) -> dict:
    from budget_disclosures.flows.pipeline import ingest_document

    path, out, validate = args
    return ingest_document(Path(path), Path(out), force=True, validate=validate).as_dict()


def ingest_pass(files: list[Path], out: Path, validate: bool) -> float:
    shutil.rmtree(out, ignore_errors=True)
    started = time.perf_counter()
    with Pool(2) as pool:
        list(pool.imap_unordered(_ingest, [(str(f), str(out), validate) for f in files]))
    return time.perf_counter() - started


def cpu_split(files: list[Path]) -> tuple[float, float]:
    """Process time of build_rows and of validation, summed over the documents."""
    from budget_disclosures.extractors.document import identify_file
    from budget_disclosures.flows.pipeline import DocumentSummary, apply_validation, build_rows

    build = check = 0.0
    for path in files:
        identity = identify_file(path)
        mark = time.process_time()
        rows, summary = build_rows(path, identity.doc_id, identity.sha256)
        build += time.process_time() - mark
        mark = time.process_time()
        apply_validation(rows, summary or DocumentSummary(path.name, identity.doc_id))
        check += time.process_time() - mark
    return build, check


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=Path("../shared/corpus/dev"))
    parser.add_argument("--out", type=Path, default=Path("/tmp/validation-speed"))
    parser.add_argument("--gx", action="store_true", help="also time a GX run over the store")
    args = parser.parse_args(argv)
    files = sorted(args.corpus.glob("*.pdf"))
    times: dict[bool, list[float]] = {False: [], True: []}
    for validate in (False, True, True, False):
        seconds = ingest_pass(files, args.out / ("with" if validate else "without"), validate)
        times[validate].append(seconds)
        print(
            f"ingest {'with' if validate else 'without'} validation: {seconds:.1f} s",
            file=sys.stderr,
        )
    without, with_ = statistics.mean(times[False]), statistics.mean(times[True])
    print(f"{len(files)} documents, pool of 2 workers (mean of 2 passes each)")
    print(f"ingest without validation: {without:.1f} s  {[round(t, 1) for t in times[False]]}")
    print(f"ingest with validation:    {with_:.1f} s  {[round(t, 1) for t in times[True]]}")
    print(f"validation adds {with_ - without:+.1f} s = {(with_ - without) / without:+.1%}")
    build, check = cpu_split(files)
    print(
        f"CPU, one process: extraction {build:.1f} s, validation {check:.2f} s "
        f"({check / len(files) * 1000:.0f} ms per document, {check / build:.1%} of extraction)"
    )
    if args.gx:
        from budget_disclosures.validation.gx import run_gx

        run = run_gx(args.out / "with", build_docs=True)
        print(
            "GX Core over the whole store: "
            + ", ".join(f"{k} {v:.1f} s" for k, v in run.seconds.items())
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
