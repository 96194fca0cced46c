"""Time `data prepare` on the full shared data: cold, cached, and a 1-worker baseline.

    TAIGIMED_DATA_ROOT=../shared/data python benchmarks/bench_data_prepare.py
    python benchmarks/bench_data_prepare.py --data-root ../shared/data --no-baseline

Prints wall and CPU seconds, input rows/s and MB/s, and the per-step breakdown that
`prepare` records in manifest.json. Each run uses a fresh work directory (the Sinica
file comes from the data root, so nothing is downloaded). Record the figures in
docs/benchmarks.md ("Data preparation") together with the machine's load.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import time
from pathlib import Path


def _cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def run(workers: int, workdir: Path) -> dict:
    from taigimed.config import load_config
    from taigimed.data.prepare import prepare
    from taigimed.workdir import Workdir

    cfg = load_config("default", [f"data.workers={workers}"])
    wd = Workdir(workdir)
    cpu0, t0 = _cpu_seconds(), time.perf_counter()
    path = prepare(cfg, wd, progress=False)
    cold, cold_cpu = time.perf_counter() - t0, _cpu_seconds() - cpu0
    t1 = time.perf_counter()
    again = prepare(cfg, wd, progress=False)
    cached = time.perf_counter() - t1
    assert again == path
    manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    rows_in = sum(f["read"] for f in manifest["filters"].values())
    rows_out = sum(d["rows"] for d in manifest["datasets"].values())
    size = sum(
        Path(f["path"]).stat().st_size for s in manifest["sources"].values() for f in s["files"]
    )
    return {
        "workers": workers,
        "cold_s": round(cold, 2),
        "cold_cpu_s": round(cold_cpu, 2),
        "cached_s": round(cached, 3),
        "rows_in": rows_in,
        "rows_out": rows_out,
        "input_mb": round(size / 1e6, 2),
        "rows_per_s": round(rows_in / cold),
        "mb_per_s": round(size / 1e6 / cold, 2),
        "steps_s": manifest["timings_s"],
    }


def dedup_compare(prepared: Path, sample: int) -> dict:
    """Our numpy MinHash + banding vs datasketch's per-document MinHash + MinHashLSH,
    on the same texts (Sinica sentences and textbook chunks of a prepared version)."""
    from datasketch import MinHash, MinHashLSH

    from taigimed.data.dedup import deduplicate
    from taigimed.data.load import load_prepared

    data = load_prepared(prepared)
    s1 = data.dataset("stage1_train").filter(lambda r: r["kind"] == "text")["text"]
    s2 = data.dataset("stage2_train").filter(lambda r: r["id"].endswith("-han"))["text"]
    texts = (list(s2) + list(s1))[:sample]
    k, num_perm, threshold = 5, 128, 0.8
    out = {"texts": len(texts), "chars": sum(map(len, texts))}
    for workers in (1, 2):
        t0 = time.perf_counter()
        deduplicate(texts, threshold, num_perm, k, workers)
        out[f"ours_{workers}w_s"] = round(time.perf_counter() - t0, 2)
    t0 = time.perf_counter()
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    dups = 0
    for i, text in enumerate(texts):
        m = MinHash(num_perm=num_perm)
        grams = {text[j : j + k] for j in range(max(1, len(text) - k + 1))}
        m.update_batch([g.encode("utf-8") for g in grams])
        if lsh.query(m):
            dups += 1
        else:
            lsh.insert(str(i), m)
    out["datasketch_1w_s"] = round(time.perf_counter() - t0, 2)
    out["datasketch_near_dups"] = dups
    out["speedup_ours_1w_vs_datasketch"] = round(out["datasketch_1w_s"] / out["ours_1w_s"], 1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", default=os.environ.get("TAIGIMED_DATA_ROOT"))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-baseline", action="store_true", help="skip the 1-worker run")
    parser.add_argument(
        "--dedup-compare",
        type=int,
        default=0,
        metavar="N",
        help="also time dedup of N texts against datasketch's MinHash + MinHashLSH loop",
    )
    args = parser.parse_args()
    if not args.data_root:
        raise SystemExit("set TAIGIMED_DATA_ROOT or --data-root to a copy of shared/data")
    os.environ["TAIGIMED_DATA_ROOT"] = str(Path(args.data_root).resolve())
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

    print(f"load average before: {os.getloadavg()}, cores: {os.cpu_count()}")
    results = []
    plan = [args.workers] + ([] if args.no_baseline or args.workers == 1 else [1])
    for workers in plan:
        with tempfile.TemporaryDirectory(prefix="bench-data-") as tmp:
            results.append(run(workers, Path(tmp) / "work"))
            print(json.dumps(results[-1], indent=2))
            if args.dedup_compare and workers == args.workers:
                report = dedup_compare(Path(tmp) / "work", args.dedup_compare)
                print("dedup:", json.dumps(report, indent=2))
    if len(results) == 2:
        fast, base = results
        print(f"cold speed-up {args.workers} workers vs 1: {base['cold_s'] / fast['cold_s']:.2f}x")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
