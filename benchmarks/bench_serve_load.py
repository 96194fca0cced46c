"""Serving load test: p50/p95 time to first token, aggregate tokens/s and error rate at several
concurrency levels, for the built-in engine, the llama.cpp server called directly, and the
TaigiMed gateway in front of that llama.cpp server — all on the embedded SmolLM2-135M, in one run.

    OMP_WAIT_POLICY=PASSIVE python benchmarks/bench_serve_load.py                 # everything
    python benchmarks/bench_serve_load.py --targets llamacpp,gateway --levels 1,4 # a subset

Each target is a real server process on a free loopback port, driven by an async httpx client
streaming /v1/chat/completions (temperature 0, fixed prompts). The safety layer is switched off
in the gateway so the figure is the serving overhead alone. Prints a Markdown table (ratios
against llama.cpp direct at the same concurrency) and writes JSON to --out.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from taigimed.chat import SYSTEM_PROMPT

PROMPTS = [
    "What are common symptoms of high blood pressure?",
    "How can an older adult sleep better at night?",
    "What should I eat if I have diabetes?",
    "Why is drinking water important in hot weather?",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(url: str, proc: subprocess.Popen, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server for {url} exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{url} not ready after {timeout} s")


def start(cmd: list[str], ready_path: str, port: int, log: Path, env: dict) -> subprocess.Popen:
    with log.open("w") as fh:
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, env=env)
    wait_ready(f"http://127.0.0.1:{port}{ready_path}", proc)
    return proc


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


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
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--targets", default="builtin,builtin-2threads,llamacpp,gateway")
    ap.add_argument("--levels", default="1,4,16")
    ap.add_argument("--max-tokens", type=int, default=32)
    ap.add_argument("--requests-per-slot", type=int, default=1, help="requests = max(4, c * this)")
    ap.add_argument("--workdir", type=Path, default=None, help="where the embedded model is cached")
    ap.add_argument(
        "--out", type=Path, default=Path(tempfile.gettempdir()) / "bench_serve_load.json"
    )
    args = ap.parse_args()

    from taigimed.models.pull import download_gguf, pull_embedded
    from taigimed.workdir import Workdir

    wd = Workdir.resolve(args.workdir)
    model_dir = pull_embedded(wd)
    gguf = download_gguf(wd.models / "downloads")
    levels = [int(x) for x in args.levels.split(",")]
    targets = args.targets.split(",")
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE", "HF_HUB_OFFLINE": "1"}
    logs = Path(tempfile.mkdtemp(prefix="bench-serve-"))
    serve_wd = logs / "work"
    py = sys.executable
    results: dict[str, list[dict]] = {}
    llama_proc, llama_base = None, None

    def llama() -> str:
        nonlocal llama_proc, llama_base
        if llama_proc is None:
            port = free_port()
            cmd = [py, "-m", "llama_cpp.server", "--model", str(gguf), "--port", str(port)]
            cmd += ["--host", "127.0.0.1", "--n_threads", "1", "--interrupt_requests", "False"]
            cmd += ["--n_ctx", "2048", "--model_alias", "smollm2-135m"]
            llama_proc = start(cmd, "/v1/models", port, logs / "llama.log", env)
            llama_base = f"http://127.0.0.1:{port}"
        return llama_base

    try:
        for target in targets:
            port = free_port()
            proc = None
            serve = [
                py,
                "-m",
                "taigimed.cli",
                "serve",
                "--workdir",
                str(serve_wd),
                "--port",
                str(port),
            ]
            serve += [
                "--set",
                "serve.safety.enabled=false",
                "--set",
                "serve.rate_limit_per_minute=null",
            ]
            if target.startswith("builtin"):
                threads = 2 if target.endswith("2threads") else 1
                cmd = [*serve, "--model", str(model_dir), "--set", f"serve.torch_threads={threads}"]
                proc = start(cmd, "/readyz", port, logs / f"{target}.log", env)
                base, model = f"http://127.0.0.1:{port}", model_dir.name
            elif target == "llamacpp":
                base, model = llama(), "smollm2-135m"
            elif target == "gateway":
                cmd = [*serve, "--engine", "upstream", "--upstream-url", llama()]
                proc = start(cmd, "/readyz", port, logs / "gateway.log", env)
                base, model = f"http://127.0.0.1:{port}", "smollm2-135m"
            else:
                raise SystemExit(f"unknown target {target!r}")
            try:
                results[target] = []
                for c in levels:
                    n = max(4, c * args.requests_per_slot)
                    direct = target == "llamacpp"
                    row = asyncio.run(run_level(base, model, c, n, args.max_tokens, direct))
                    results[target].append(row)
                    print(f"{target:18s} c={c:<3d} {json.dumps(row)}", flush=True)
            finally:
                if proc is not None:
                    stop(proc)
    finally:
        if llama_proc is not None:
            stop(llama_proc)
    args.out.write_text(json.dumps({"max_tokens": args.max_tokens, "results": results}, indent=2))
    print_table(results)


def print_table(results: dict[str, list[dict]]) -> None:
    base = {r["concurrency"]: r for r in results.get("llamacpp", [])}
    print(
        "\n| target | c | p50 TTFT s | p95 TTFT s | tokens/s | errors "
        "| TTFT p50 ÷ llama.cpp | tok/s ÷ llama.cpp |"
    )
    print("|---|---|---|---|---|---|---|---|")
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
                f"| {r['errors']}/{r['requests']} | {ratio_ttft} | {ratio_tps} |"
            )


if __name__ == "__main__":
    main()
