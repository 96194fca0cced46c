"""Serving load test: p50/p95 time to first token, aggregate tokens/s and error rate at several
concurrency levels, for the built-in engine, llama.cpp's server called directly, and the TaigiMed
gateway with its default CPU engine (which supervises its own llama.cpp server on the same GGUF)
— all on the embedded SmolLM2-135M, in one run.

    OMP_WAIT_POLICY=PASSIVE python benchmarks/bench_serve_load.py                 # everything
    python benchmarks/bench_serve_load.py --targets llamacpp,gateway --levels 1,4 # a subset

The GGUF is the model's own export (``models.gguf_export``, ``--gguf-type``, f16 by default),
the file `taigimed serve` runs; llama.cpp direct gets the same file and the same thread count
(the physical cores, detected). Each target is a real server process on a free loopback port,
all started before measuring; at each concurrency level the targets take turns (``--rounds``
times), so load from other jobs on a shared machine hits them alike. Driven by an async httpx
client streaming /v1/chat/completions (temperature 0, fixed prompts). The safety layer is off in
the gateway so the figure is the serving overhead alone. Prints a Markdown table (ratios against
llama.cpp direct at the same concurrency) and writes JSON to --out.

Each row also gives the CPU seconds per request of the server process itself and of its
children (the gateway's supervised llama.cpp server): on a machine where llama.cpp already
uses every core, whatever the gateway process spends is taken from generation.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil

from taigimed.chat import SYSTEM_PROMPT
from taigimed.localproc import free_port, stop, wait_http

PROMPTS = [
    "What are common symptoms of high blood pressure?",
    "How can an older adult sleep better at night?",
    "What should I eat if I have diabetes?",
    "Why is drinking water important in hot weather?",
]


def start(cmd: list[str], ready_path: str, port: int, log: Path, env: dict) -> subprocess.Popen:
    with log.open("w") as fh:
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, env=env)
    wait_http(f"http://127.0.0.1:{port}{ready_path}", proc, 600, log)
    return proc


async def one_request(
    client: httpx.AsyncClient, url: str, model: str, prompt: str, max_tokens: int, direct: bool
):
    messages = [{"role": "user", "content": prompt}]
    if direct:  # the gateway adds TaigiMed's system prompt; give llama.cpp the same prompt
        messages.insert(0, {"role": "system", "content": SYSTEM_PROMPT})
    body = {
        "model": model,
        "messages": messages,
        "max_tokens": max_tokens,
        "temperature": 0,
        "stream": True,
    }
    t0 = time.perf_counter()
    ttft, pieces = None, 0
    try:
        async with client.stream("POST", url, json=body) as resp:
            if resp.status_code != 200:
                await resp.aread()
                return {"ok": False, "status": resp.status_code}
            async for line in resp.aiter_lines():
                if not line.startswith("data:") or line.strip() == "data: [DONE]":
                    continue
                chunk = json.loads(line[5:])
                for choice in chunk.get("choices") or []:
                    if (choice.get("delta") or {}).get("content"):
                        pieces += 1
                        if ttft is None:
                            ttft = time.perf_counter() - t0
    except httpx.HTTPError as exc:
        return {"ok": False, "status": type(exc).__name__}
    return {
        "ok": ttft is not None,
        "ttft": ttft,
        "pieces": pieces,
        "total": time.perf_counter() - t0,
    }


async def run_level(
    base: str, model: str, concurrency: int, n_requests: int, max_tokens: int, direct: bool
):
    url = f"{base}/v1/chat/completions"
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(n_requests):
        queue.put_nowait(i)
    results = []
    limits = httpx.Limits(max_connections=concurrency + 4)

    async with httpx.AsyncClient(timeout=600, limits=limits) as client:

        async def worker():
            while not queue.empty():
                i = queue.get_nowait()
                prompt = PROMPTS[i % len(PROMPTS)]
                results.append(await one_request(client, url, model, prompt, max_tokens, direct))

        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.perf_counter() - t0
    ok = [r for r in results if r["ok"]]
    ttfts = sorted(r["ttft"] for r in ok)

    def pct(p: float) -> float | None:
        if not ttfts:
            return None
        return ttfts[min(len(ttfts) - 1, round(p * (len(ttfts) - 1)))]

    return {
        "concurrency": concurrency,
        "requests": n_requests,
        "errors": len(results) - len(ok),
        "error_rate": (len(results) - len(ok)) / max(1, len(results)),
        "ttft_p50_s": statistics.median(ttfts) if ttfts else None,
        "ttft_p95_s": pct(0.95),
        "tokens": sum(r["pieces"] for r in ok),
        "wall_s": wall,
        "tokens_per_s": sum(r["pieces"] for r in ok) / wall,
        "ttfts": ttfts,
    }


def cpu_seconds(proc: subprocess.Popen) -> tuple[float, float]:
    """User + system CPU seconds so far of a server process and of its child processes."""
    p = psutil.Process(proc.pid)
    own = p.cpu_times()
    kids = [c.cpu_times() for c in p.children(recursive=True)]
    return own.user + own.system, sum(k.user + k.system for k in kids)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--targets", default="builtin,llamacpp,gateway")
    ap.add_argument("--levels", default="1,4,16")
    ap.add_argument("--max-tokens", type=int, default=32)
    ap.add_argument("--requests-per-slot", type=int, default=1, help="requests = max(4, c * this)")
    ap.add_argument("--rounds", type=int, default=2, help="turns per target and level")
    ap.add_argument("--gguf-type", default="f16", choices=["f32", "f16", "q8_0"])
    ap.add_argument("--workdir", type=Path, default=None, help="where the embedded model is cached")
    ap.add_argument(
        "--out", type=Path, default=Path(tempfile.gettempdir()) / "bench_serve_load.json"
    )
    args = ap.parse_args()

    from taigimed.models.gguf_export import ensure_gguf, template_for
    from taigimed.models.llamacpp import default_threads
    from taigimed.models.pull import pull_embedded
    from taigimed.models.resolve import EMBEDDED_NAME
    from taigimed.serve.engines.llamacpp import server_command
    from taigimed.workdir import Workdir

    wd = Workdir.resolve(args.workdir)
    model_dir = pull_embedded(wd)
    gguf = ensure_gguf(model_dir, args.gguf_type, template_for(EMBEDDED_NAME, wd)).path
    threads = default_threads()  # what the gateway's engine picks too
    levels = [int(x) for x in args.levels.split(",")]
    targets = args.targets.split(",")
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE", "HF_HUB_OFFLINE": "1"}
    logs = Path(tempfile.mkdtemp(prefix="bench-serve-"))
    py = sys.executable
    serve = [py, "-m", "taigimed.cli", "serve", "--workdir", str(wd)]
    serve += ["--set", "serve.safety.enabled=false", "--set", "serve.rate_limit_per_minute=null"]
    serve += ["--set", f"serve.gguf_type={args.gguf_type}"]
    serve += ["--set", f"serve.llama_threads={threads}"]  # llama.cpp direct gets the same
    serve += ["--set", f"serve.database_url=sqlite:///{logs / 'serve.db'}"]
    procs: dict[str, subprocess.Popen] = {}
    bases: dict[str, tuple[str, str]] = {}
    try:
        for target in targets:
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            if target == "builtin":
                cmd = [*serve, "--port", str(port), "--model", str(model_dir)]
                cmd += ["--engine", "builtin", "--set", f"serve.torch_threads={threads}"]
                procs[target] = start(cmd, "/readyz", port, logs / f"{target}.log", env)
                bases[target] = (base, model_dir.name)
            elif target == "llamacpp":
                cmd = server_command(
                    gguf, port, model_id="smollm2-135m", n_ctx=2048, threads=threads
                )
                procs[target] = start(cmd, "/v1/models", port, logs / "llama.log", env)
                bases[target] = (base, "smollm2-135m")
            elif target == "gateway":  # the default engine: auto → llama.cpp on CPU
                cmd = [*serve, "--port", str(port), "--model", str(model_dir)]
                procs[target] = start(cmd, "/readyz", port, logs / "gateway.log", env)
                bases[target] = (base, model_dir.name)
            else:
                raise SystemExit(f"unknown target {target!r}")
        results: dict[str, list[dict]] = {t: [] for t in targets}
        for c in levels:
            n = max(4, c * args.requests_per_slot)
            rows: dict[str, list[dict]] = {t: [] for t in targets}
            for _ in range(args.rounds):
                for target in targets:
                    base, model = bases[target]
                    direct = target == "llamacpp"
                    own0, kids0 = cpu_seconds(procs[target])
                    row = asyncio.run(run_level(base, model, c, n, args.max_tokens, direct))
                    own1, kids1 = cpu_seconds(procs[target])
                    row["server_cpu_s"], row["child_cpu_s"] = own1 - own0, kids1 - kids0
                    rows[target].append(row)
            for target in targets:
                row = merge_rounds(rows[target])
                results[target].append(row)
                print(f"{target:10s} c={c:<3d} {json.dumps(row)}", flush=True)
    finally:
        for proc in procs.values():
            stop(proc)
    engine_line = (
        next((ln for ln in (logs / "gateway.log").read_text().splitlines() if "engine" in ln), "")
        if (logs / "gateway.log").exists()
        else ""
    )
    payload = {
        "max_tokens": args.max_tokens,
        "gguf": str(gguf),
        "threads": threads,
        "rounds": args.rounds,
        "gateway_engine_log": engine_line[:300],
        "results": results,
    }
    args.out.write_text(json.dumps(payload, indent=2))
    print_table(results)


def merge_rounds(rounds: list[dict]) -> dict:
    """One row for a level: TTFTs pooled over rounds, tokens/s = all tokens / all wall time."""
    ttfts = sorted(t for r in rounds for t in r["ttfts"])

    def pct(p: float) -> float | None:
        if not ttfts:
            return None
        return ttfts[min(len(ttfts) - 1, round(p * (len(ttfts) - 1)))]

    requests = sum(r["requests"] for r in rounds)
    errors = sum(r["errors"] for r in rounds)
    tokens = sum(r["tokens"] for r in rounds)
    wall = sum(r["wall_s"] for r in rounds)
    return {
        "concurrency": rounds[0]["concurrency"],
        "requests": requests,
        "errors": errors,
        "error_rate": errors / max(1, requests),
        "ttft_p50_s": statistics.median(ttfts) if ttfts else None,
        "ttft_p95_s": pct(0.95),
        "tokens": tokens,
        "wall_s": wall,
        "tokens_per_s": tokens / wall if wall else 0.0,
        "server_cpu_s_per_request": sum(r["server_cpu_s"] for r in rounds) / max(1, requests),
        "child_cpu_s_per_request": sum(r["child_cpu_s"] for r in rounds) / max(1, requests),
    }


def print_table(results: dict[str, list[dict]]) -> None:
    base = {r["concurrency"]: r for r in results.get("llamacpp", [])}
    print(
        "\n| target | c | p50 TTFT s | p95 TTFT s | tokens/s | errors "
        "| TTFT p50 ÷ llama.cpp | tok/s ÷ llama.cpp | CPU s/request: server, children |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for target, rows in results.items():
        for r in rows:
            b = base.get(r["concurrency"])
            ratio_ttft = ratio_tps = "–"
            if b and b["ttft_p50_s"] and r["ttft_p50_s"]:
                ratio_ttft = f"{r['ttft_p50_s'] / b['ttft_p50_s']:.2f}"
                ratio_tps = f"{r['tokens_per_s'] / b['tokens_per_s']:.2f}"
            p50 = f"{r['ttft_p50_s']:.3f}" if r["ttft_p50_s"] is not None else "–"
            p95 = f"{r['ttft_p95_s']:.3f}" if r["ttft_p95_s"] is not None else "–"
            print(
                f"| {target} | {r['concurrency']} | {p50} | {p95} | {r['tokens_per_s']:.1f} "
                f"| {r['errors']}/{r['requests']} | {ratio_ttft} | {ratio_tps} "
                f"| {r['server_cpu_s_per_request']:.3f}, {r['child_cpu_s_per_request']:.3f} |"
            )


if __name__ == "__main__":
    main()
