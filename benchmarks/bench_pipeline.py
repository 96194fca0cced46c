"""Time `taigimed pipeline run` end to end: a cold run, then the fully cached re-run (baseline).

    TAIGIMED_DATA_ROOT=../shared/data python benchmarks/bench_pipeline.py --config default
    python benchmarks/bench_pipeline.py --config tiny --workdir /tmp/tm-bench

Prints JSON: wall and CPU seconds of both runs, their ratio, the gate decision, the
registered version, and each step's seconds and status. Uses a fresh work directory
unless --workdir names one (then the "cold" run may already be partly cached). Record
the figures in docs/benchmarks.md ("Pipeline") with the machine's load average.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path


def _cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _timed(cfg, wd) -> dict:
    from taigimed.pipeline.run import run_pipeline

    cpu0, t0 = _cpu_seconds(), time.perf_counter()
    with contextlib.redirect_stdout(sys.stderr):  # progress bars; stdout carries the JSON
        result = run_pipeline(cfg, wd)
    return {
        "wall_s": round(time.perf_counter() - t0, 1),
        "cpu_s": round(_cpu_seconds() - cpu0, 1),
        "status": result.status,
        "version": result.version,
        "attempts": len(result.attempts),
        "steps": [
            {"step": r.step, "attempt": r.attempt, "status": r.status, "s": round(r.seconds, 1)}
            for r in result.rows
        ],
        "metrics": {k: v["value"] for k, v in result.metrics.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="default")
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

    from taigimed.config import load_config
    from taigimed.workdir import Workdir

    cfg = load_config(args.config)
    root = args.workdir or Path(tempfile.mkdtemp(prefix="taigimed-bench-pipeline-"))
    wd = Workdir.resolve(root)
    cold = _timed(cfg, wd)
    cached = _timed(cfg, wd)
    print(
        json.dumps(
            {
                "config": args.config,
                "workdir": str(wd.root),
                "load_avg": os.getloadavg(),
                "cold": cold,
                "cached": cached,
                "cold_over_cached": round(cold["wall_s"] / max(cached["wall_s"], 1e-9), 1),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
