"""Batch scale-out benchmark (issue 7): 1 vs 2 workers, memory, Prefect overhead.

``python -m benchmarks.scale --corpus ../shared/corpus/dev --corpus ../shared/corpus/real``
ingests the PDFs of all corpora (≥ 60 documents) into fresh curated folders with
``--workers 1`` and ``--workers 2`` through the real CLI, and reports:

* wall time of each run and the speed-up;
* time from command start to the first document starting (Prefect start-up), and the
  per-document orchestration overhead, from the run log's ``timing`` record (see
  ``benchmarks/prefect_overhead.py`` for the focused measurement);
* peak memory (RSS) of the document processes: each document runs in its own child, so the
  peak per document is read from the children's max RSS after the first 5 documents vs
  over the whole batch (``resource.getrusage(RUSAGE_CHILDREN)`` of a wrapper process).

This machine's speed drifts by ±10 % from one minute to the next (the same 1-worker batch
took 97–112 s of document work within half an hour), so ``--rounds N`` repeats the pair
N times and reports each round's speed-up and their median; odd rounds run 1 worker then 2,
even rounds 2 then 1 (ABBA), so a steady drift does not favour either side of the ratio.
``--running-server`` adds the configuration of a Prefect server that is already up (as
under ``disclosures serve``, or with ``PREFECT_API_URL``), alternating with the default one
(a temporary server per command) round by round.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from statistics import median

import pandas as pd

DISCLOSURES = Path(sys.executable).parent / "disclosures"


def _tree_rss_mb(pid: int) -> float:
    """RSS of the flow process and its direct children (forkserver, Prefect's temporary
    server), in MB: the long-lived processes of a batch. Document processes (grandchildren)
    live for one document each and are left out."""
    total = 0.0
    pids = [(pid, 0)]
    seen: set[int] = set()
    while pids:
        current, depth = pids.pop()
        if current in seen or depth > 1:
            continue
        seen.add(current)
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) / 1024
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        pids.extend((int(c), depth + 1) for c in children)
    return total


def collect(corpora: list[Path]) -> list[Path]:
    files: list[Path] = []
    for corpus in corpora:
        files.extend(sorted(p for p in corpus.rglob("*.pdf")))
    return files


def run(files: list[Path], out: Path, workers: int, env: dict[str, str] | None = None) -> dict:
    """One timed CLI run into a fresh curated folder, inputs linked into one batch folder."""
    batch = out / f"batch-{workers}"
    curated = out / f"curated-{workers}"
    for folder in (batch, curated):
        shutil.rmtree(folder, ignore_errors=True)
    batch.mkdir(parents=True)
    for index, path in enumerate(files):
        os.symlink(path.resolve(), batch / f"{index:03d}-{path.name}")
    started = time.perf_counter()
    process = subprocess.Popen(
        [
            str(DISCLOSURES),
            "ingest",
            str(batch),
            "--curated",
            str(curated),
            "--workers",
            str(workers),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    peak_after_5 = peak = 0.0
    while process.poll() is None:
        rss = _tree_rss_mb(process.pid)
        peak = max(peak, rss)
        done = (
            len(list((curated / "documents").glob("*.parquet")))
            if (curated / "documents").exists()
            else 0
        )
        if done <= 5:
            peak_after_5 = peak
        time.sleep(0.2)
    wall = time.perf_counter() - started
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    docs = pd.read_parquet(curated / "documents")
    runs = [
        json.loads(line) for line in (curated / "_state" / "runs.jsonl").read_text().splitlines()
    ]
    flow_seconds = runs[-1]["seconds"]
    timing = runs[-1].get("timing") or {}  # where the time went (flows/timing.py)
    return {
        "workers": workers,
        "documents": len(docs),
        "pages": int(docs["pages"].fillna(0).sum()),
        "wall_seconds": round(wall, 2),
        "flow_seconds": flow_seconds,
        "startup_seconds": round(wall - flow_seconds, 2),
        "command_to_first_document_s": timing.get("command_to_first_document_s"),
        "documents_work_s": timing.get("documents_work_s"),
        "overhead_per_document_s": timing.get("overhead_per_document_s"),
        "children_max_rss_mb": round(children.ru_maxrss / 1024, 1),
        "orchestrator_peak_rss_mb_first5": round(peak_after_5, 1),
        "orchestrator_peak_rss_mb": round(peak, 1),
        "exit_code": process.returncode,
    }


def pair(files: list[Path], out: Path, env: dict[str, str], two_first: bool = False) -> dict:
    """One round: the batch with 1 worker and with 2 (in that order, or the other way
    round with ``two_first``), and the speed-ups."""
    if two_first:
        two = run(files, out, 2, env)
        one = run(files, out, 1, env)
    else:
        one = run(files, out, 1, env)
        two = run(files, out, 2, env)
    return {
        "one_worker": one,
        "two_workers": two,
        "speedup_flow": round(one["flow_seconds"] / two["flow_seconds"], 2),
        "speedup_wall": round(one["wall_seconds"] / two["wall_seconds"], 2),
        "orchestration_overhead_share": round(one["startup_seconds"] / one["wall_seconds"], 3),
    }


def summary(rounds: list[dict]) -> dict:
    walls = [r["speedup_wall"] for r in rounds]
    flows = [r["speedup_flow"] for r in rounds]
    return {
        "speedup_wall_median": round(median(walls), 2),
        "speedup_wall_range": [min(walls), max(walls)],
        "speedup_flow_median": round(median(flows), 2),
        "rounds": rounds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, action="append", required=True)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/out/scale"))
    parser.add_argument("--json", type=Path)
    parser.add_argument("--rounds", type=int, default=1, help="1- and 2-worker pairs per setup")
    parser.add_argument(
        "--running-server",
        action="store_true",
        help="also measure against a Prefect server that is already running",
    )
    args = parser.parse_args()
    files = collect(args.corpus)
    args.out.mkdir(parents=True, exist_ok=True)
    temporary_env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    setups: dict[str, list[dict]] = {"temporary server": []}
    with contextlib.ExitStack() as stack:
        envs = {"temporary server": temporary_env}
        if args.running_server:
            from benchmarks.prefect_overhead import running_server

            api_url = stack.enter_context(running_server(args.out / "prefect-server.log"))
            envs["running server"] = temporary_env | {"PREFECT_API_URL": api_url}
            setups["running server"] = []
        for round_no in range(args.rounds):
            for name, env in envs.items():
                # ABBA: alternate which run goes first, so a machine that speeds up or slows
                # down over the benchmark favours neither side of the ratio
                result = pair(files, args.out, env, two_first=round_no % 2 == 1)
                setups[name].append(result)
                print(
                    f"round {round_no + 1} {name}: 1 worker {result['one_worker']['wall_seconds']} s, "
                    f"2 workers {result['two_workers']['wall_seconds']} s, "
                    f"{result['speedup_wall']}x wall ({result['speedup_flow']}x flow)",
                    file=sys.stderr,
                    flush=True,
                )
    docs = pd.read_parquet(args.out / "curated-1" / "documents")
    report = {
        "files": len(files),
        "setups": {name: summary(rounds) for name, rounds in setups.items()},
        "documents_failed": int((docs["status"] == "failed").sum()),
    }
    print(json.dumps(report, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
