"""Issue 16: one-off commands against the background server, as a new user runs them.

    python -m benchmarks.startup [--corpus DIR] [--out DIR] [--rounds 3] [--demo]
        [--json FILE]

Everything in one run, on a server folder of its own (``BUDGET_DISCLOSURES_SERVER_DIR``
under OUT, so the first command really is cold and the user's own server is left alone):

1. plain pdfplumber ``extract_tables()`` over every page of the corpus's first 12
   text-layer documents (its ``MANIFEST.tsv``), in this process;
2. ``disclosures ingest`` of the same 12 documents, ``--workers 1``, into a fresh curated
   folder: first **cold** (no server: the command starts the background server), then
   ``--rounds`` times **warm** (the server running); wall time from outside, and the run
   log's ``timing`` (command start → first document, documents' own work);
   The cold command leaves a flow host (``flows.host``) for the next ones; the bench waits
   until it takes commands, as a user's next command would come later;
3. the first 16 text-layer documents with 1 and with 2 workers, ``--rounds`` pairs
   alternating which goes first (ABBA), warm server: the median speed-up;
4. steps 2 (warm) and 3 again with ``BUDGET_DISCLOSURES_HOST=off`` (each command runs
   itself, as before the flow host), and the 16 documents 1 vs 2 at a time with no command
   and no Prefect (forkserver children back to back, as the command runs them): the
   speed-up's ceiling;
5. with ``--demo``, ``make demo`` twice (the second run is the one the issue times);
6. the bench's server is stopped at the end.

Reported: seconds, pages/s, the ratio pdfplumber / ingest (≥ 3 is issue 16's bar, warm),
start-up to the first document (≤ 1.0 s), document pages/s (≥ 60), the command's own CPU
(run log ``flow_process_cpu_s``), the 2-worker speed-up (≥ 1.8) and its ceiling with the
documents alone, and the second ``make demo`` (≤ 5 s).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from statistics import median
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.prefect_overhead import link_batch, select_documents  # noqa: E402
from benchmarks.speed import count_pages, pdfplumber_baseline  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus" / "dev"
DEFAULT_OUT = ROOT / "benchmarks" / "out" / "startup"
DISCLOSURES = Path(sys.executable).parent / "disclosures"


def ingest(
    batch: Path, curated: Path, workers: int, env: dict[str, str], fresh: bool = True
) -> dict[str, Any]:
    """One ``disclosures ingest`` (into a fresh folder unless not ``fresh``): wall seconds
    and the run's timing."""
    if fresh:
        shutil.rmtree(curated, ignore_errors=True)
    command = [str(DISCLOSURES), "ingest", str(batch), "--curated", str(curated)]
    command += ["--workers", str(workers)]
    started = time.perf_counter()
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if result.returncode not in (0, 1):
        raise SystemExit(f"ingest failed ({result.returncode}):\n{result.stdout}{result.stderr}")
    runs = (curated / "_state" / "runs.jsonl").read_text(encoding="utf-8").splitlines()
    timing = json.loads(runs[-1])["timing"]
    return {
        "wall_s": round(wall, 3),
        "first_document_s": timing["command_to_first_document_s"],
        "documents_work_s": timing["documents_work_s"],
        "command_cpu_s": timing.get("flow_process_cpu_s"),
        "flow_host": bool(timing.get("flow_host")),
        "server_started": "Prefect UI:" in result.stdout,
    }


def make_demo(env: dict[str, str]) -> float:
    """Seconds of one ``make demo`` from the project root."""
    started = time.perf_counter()
    subprocess.run(["make", "-s", "demo"], cwd=ROOT, env=env, capture_output=True, check=True)
    return round(time.perf_counter() - started, 3)


def scale_rounds(batch: Path, out: Path, rounds: int, env: dict[str, str]) -> dict[str, Any]:
    """1 vs 2 workers, ``rounds`` pairs, ABBA order; the median speed-up of wall time, and
    the command's own CPU (orchestration: on 2 cores with 2 workers, CPU the documents lose)."""
    pairs = []
    for number in range(rounds):
        order = (1, 2) if number % 2 == 0 else (2, 1)
        runs = {w: ingest(batch, out / f"scale-{w}", w, env) for w in order}
        walls = {w: run["wall_s"] for w, run in runs.items()}
        pairs.append(
            {
                "one": walls[1],
                "two": walls[2],
                "speedup": round(walls[1] / walls[2], 3),
                "command_cpu_s": {w: runs[w]["command_cpu_s"] for w in (1, 2)},
                "flow_host": {w: runs[w]["flow_host"] for w in (1, 2)},
            }
        )
    return {"pairs": pairs, "median_speedup": round(median(p["speedup"] for p in pairs), 3)}


def documents_alone(batch: Path, out: Path, rounds: int) -> dict[str, Any]:
    """The same 16 documents, 1 vs 2 at a time, with no command and no Prefect: children of
    the forkserver run back to back (``flows.isolation.HeadStart`` and ``ingest_isolated``,
    as the command runs them). The ceiling of the command's 2-worker speed-up: what is left
    of it once start-up, orchestration and exit are taken away."""
    from budget_disclosures.flows import isolation

    paths = sorted(batch.glob("*.pdf"))
    isolation.start_forkserver()

    def run(workers: int) -> float:
        curated = out / f"alone-{workers}"
        shutil.rmtree(curated, ignore_errors=True)
        started = time.perf_counter()
        head = isolation.HeadStart(paths, curated, False, True, count=workers)
        order = isolation.submission_order([str(p) for p in paths], head.planned_pages())
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(lambda i: isolation.ingest_isolated(paths[i], curated), order))
        head.finish()
        return round(time.perf_counter() - started, 3)

    run(1)  # (the forkserver's warm-up is not the documents' time)
    pairs = []
    for number in range(rounds):
        order = (1, 2) if number % 2 == 0 else (2, 1)
        walls = {w: run(w) for w in order}
        pairs.append({"one": walls[1], "two": walls[2], "speedup": round(walls[1] / walls[2], 3)})
    return {"pairs": pairs, "median_speedup": round(median(p["speedup"] for p in pairs), 3)}


def wait_for_host(env: dict[str, str], timeout: float = 60.0) -> float | None:
    """Seconds until the flow host left by the cold command takes commands (a user's next
    command comes later than the bench's); None if none did."""
    saved = dict(os.environ)
    os.environ.update(env)
    started = time.perf_counter()
    try:
        from budget_disclosures.flows import host

        while time.perf_counter() - started < timeout:
            record = host.status()
            if record is not None and record.socket.exists():
                return round(time.perf_counter() - started, 3)
            time.sleep(0.1)
        return None
    finally:
        os.environ.clear()
        os.environ.update(saved)


def stop_server(env: dict[str, str]) -> None:
    subprocess.run([str(DISCLOSURES), "server", "stop"], env=env, capture_output=True, check=False)


def measure(corpus: Path, out: Path, rounds: int, demo: bool) -> dict[str, Any]:
    """All of issue 16's numbers, in one run on one machine."""
    texts = select_documents(corpus, all_documents=False)
    batch12, batch16 = out / "batch-12", out / "batch-16"
    link_batch(texts[:12], batch12)  # (the command reads a folder, like a user's)
    link_batch(texts[:16], batch16)
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env["BUDGET_DISCLOSURES_SERVER_DIR"] = str(out / "server")
    env.pop("BUDGET_DISCLOSURES_SERVER", None)
    stop_server(env)  # a cold start really is cold
    pages = count_pages(sorted(batch12.glob("*.pdf")))
    baseline = pdfplumber_baseline(sorted(batch12.glob("*.pdf")))
    no_host = env | {"BUDGET_DISCLOSURES_HOST": "off"}
    try:
        cold = ingest(batch12, out / "curated-cold", 1, env)
        host_ready = wait_for_host(env)
        warm = [ingest(batch12, out / "curated-warm", 1, env) for _ in range(rounds)]
        scale = scale_rounds(batch16, out, rounds, env)
        warm_no_host = [ingest(batch12, out / "curated-warm", 1, no_host) for _ in range(rounds)]
        scale_no_host = scale_rounds(batch16, out, rounds, no_host)
        alone = documents_alone(batch16, out, rounds)
        demo_runs = [make_demo(env), make_demo(env)] if demo else []
    finally:
        stop_server(env)
    warm_wall = median(run["wall_s"] for run in warm)
    warm_work = median(run["documents_work_s"] for run in warm)
    no_host_wall = median(run["wall_s"] for run in warm_no_host)
    return {
        "documents": 12,
        "pages": pages,
        "pdfplumber_s": baseline["seconds"],
        "cold": cold | {"ratio": round(baseline["seconds"] / cold["wall_s"], 3)},
        "warm": warm,
        "warm_median_wall_s": warm_wall,
        "warm_ratio": round(baseline["seconds"] / warm_wall, 3),
        "warm_first_document_s": median(run["first_document_s"] for run in warm),
        "document_pages_per_s": round(pages / warm_work, 1),
        "warm_command_cpu_s": median(run["command_cpu_s"] or 0.0 for run in warm),
        "host_ready_after_cold_s": host_ready,
        "warm_no_host": warm_no_host,
        "warm_no_host_median_wall_s": no_host_wall,
        "warm_no_host_ratio": round(baseline["seconds"] / no_host_wall, 3),
        "warm_no_host_first_document_s": median(r["first_document_s"] for r in warm_no_host),
        "scale_16": scale,
        "scale_16_no_host": scale_no_host,
        "scale_16_documents_alone": alone,
        "make_demo_s": demo_runs,
    }


def print_report(report: dict[str, Any]) -> None:
    """The numbers against issue 16's bars."""
    cold, scale = report["cold"], report["scale_16"]
    rows = [
        ("pages (12 text documents)", report["pages"], ""),
        ("pdfplumber extract_tables", f"{report['pdfplumber_s']} s", ""),
        ("ingest, cold (starts the server)", f"{cold['wall_s']} s", f"{cold['ratio']}×"),
        ("ingest, warm (median)", f"{report['warm_median_wall_s']} s", "bar ≥ 3×"),
        ("  pdfplumber / ingest warm", f"{report['warm_ratio']}×", ""),
        ("  command start → first document", f"{report['warm_first_document_s']} s", "≤ 1.0 s"),
        ("  document work", f"{report['document_pages_per_s']} pages/s", "≥ 60"),
        ("  the command's own CPU", f"{report['warm_command_cpu_s']} s", ""),
        (
            "  run by the flow host (every warm run)",
            all(r["flow_host"] for r in report["warm"]),
            "",
        ),
        ("  the host ready after the cold command", f"{report['host_ready_after_cold_s']} s", ""),
        ("ingest, warm, no flow host (median)", f"{report['warm_no_host_median_wall_s']} s", ""),
        ("  pdfplumber / ingest", f"{report['warm_no_host_ratio']}×", ""),
        ("  command start → first document", f"{report['warm_no_host_first_document_s']} s", ""),
        ("16 documents, 2 vs 1 worker (median)", f"{scale['median_speedup']}×", "≥ 1.8×"),
        ("  the same, no flow host", f"{report['scale_16_no_host']['median_speedup']}×", ""),
        (
            "  documents alone, 2 vs 1 (ceiling)",
            f"{report['scale_16_documents_alone']['median_speedup']}×",
            "",
        ),
    ]
    if report["make_demo_s"]:
        rows.append(
            ("make demo, 1st / 2nd run", " / ".join(map(str, report["make_demo_s"])), "≤ 5 s")
        )
    width = max(len(row[0]) for row in rows)
    for name, value, bar in rows:
        print(f"{name:<{width}}  {value!s:>18}  {bar}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m benchmarks.startup",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--rounds", type=int, default=5, help="warm runs, and 1/2-worker pairs")
    ap.add_argument("--demo", action="store_true", help="also time `make demo` twice")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    report = measure(args.corpus.resolve(), out, args.rounds, args.demo)
    print_report(report)
    if args.json:
        args.json.write_text(json.dumps(report, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
