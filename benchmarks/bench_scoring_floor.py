"""The least time MedQA-TW scoring can take on this machine: the suite's arithmetic for a
model, divided by the fastest matrix multiply the CPU does, in fp32 and in bf16.

    OMP_WAIT_POLICY=PASSIVE python benchmarks/bench_scoring_floor.py --workdir W [--model DIR]
        [--medqa shared/data/medqa_tw/test.jsonl] [--items N] [--gen-tokens 8]
        [--no-options-only] [--out result.json]

Tokens are counted exactly as ``evaluate.scoring`` feeds them (the shared prefix once,
each prompt's remainder and its options; the options-only pass likewise), with the real
tokenizer. FLOPs per fed token are 2 × the non-embedding parameters (from the model's
config: attention and MLP weights of every layer), plus 2 × the vocabulary projection at
each position whose log-probabilities are read, plus the greedy answer's decoding steps.
Attention scores, norms and activations are left out, so the floor is generous.

The matrix-multiply peak is torch's own (the scorer's library, its thread count), best of
several shapes: the model's own and large square-ish ones. Figures go to
docs/benchmarks.md ("The arithmetic floor").
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import torch

SHAPES = [(2320, 576, 1536), (2320, 1536, 576), (320, 576, 1536), (2048, 4096, 4096)]


def matmul_peak(dtype: torch.dtype, shapes=SHAPES, repeats: int = 5) -> dict:
    """Best GFLOP/s of ``x @ w.T`` over ``shapes`` (rows, inner, outer)."""
    best = {}
    for m, k, n in shapes:
        x, w = torch.randn(m, k, dtype=dtype), torch.randn(n, k, dtype=dtype)
        torch.nn.functional.linear(x, w)  # warm-up: oneDNN picks its kernel
        t0 = time.perf_counter()
        for _ in range(repeats):
            torch.nn.functional.linear(x, w)
        best[f"{m}x{k}x{n}"] = 2 * m * k * n * repeats / (time.perf_counter() - t0) / 1e9
    return {"best_gflops": max(best.values()), "by_shape": best}


def model_params(config) -> tuple[int, int]:
    """(non-embedding weights per token, vocabulary projection weights) of a Llama-like config."""
    h, inter = config.hidden_size, config.intermediate_size
    head = getattr(config, "head_dim", None) or h // config.num_attention_heads
    kv = config.num_key_value_heads * head
    attn = h * config.num_attention_heads * head * 2 + h * kv * 2  # q, o; k, v
    mlp = 3 * h * inter  # gate, up, down
    return config.num_hidden_layers * (attn + mlp), config.vocab_size * h


def fed_tokens(lm, contexts, continuations) -> tuple[int, int]:
    """(tokens fed, positions scored) for ``score_mcq`` on these prompts, padding left out."""
    from taigimed.evaluate.scoring import encode_mcq, shared_prefix_length

    enc = [encode_mcq(lm, c, cs) for c, cs in zip(contexts, continuations, strict=True)]
    prefix = shared_prefix_length([e.context for e in enc])
    fed = prefix + sum(
        len(e.context) - prefix + sum(len(c) - 1 for c in e.continuations) for e in enc
    )
    scored = sum(1 + sum(len(c) - 1 for c in e.continuations) for e in enc)
    return fed, scored


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--model", default=None, help="model folder (default: the embedded SmolLM2)")
    default_data = Path(os.environ.get("TAIGIMED_DATA_ROOT", "../shared/data"))
    ap.add_argument("--medqa", type=Path, default=default_data / "medqa_tw" / "test.jsonl")
    ap.add_argument(
        "--items", type=int, default=None, help="items the suite scores (default: the file's)"
    )
    ap.add_argument("--gen-tokens", type=int, default=8)
    ap.add_argument("--no-options-only", action="store_true")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()

    from transformers import AutoConfig, AutoTokenizer

    from taigimed import chat
    from taigimed.config import load_config
    from taigimed.evaluate.eval_sets import check_mcq, read_jsonl
    from taigimed.evaluate.scoring import LoadedModel
    from taigimed.models.resolve import resolve_base
    from taigimed.train.precision import cpu_flags
    from taigimed.workdir import Workdir

    cfg = load_config("default")
    model_dir = args.model or resolve_base(cfg.model, Workdir.resolve(args.workdir))
    tok = AutoTokenizer.from_pretrained(str(model_dir))
    lm = LoadedModel(None, tok, cfg.model.max_context, [], 0)  # the tokenizer is all it reads
    items = check_mcq(read_jsonl(args.medqa), str(args.medqa))
    conts = [
        [chat.mcq_assistant_answer(k, i["options"]) for k in sorted(i["options"])] for i in items
    ]
    passes = {"main": [chat.mcq_messages(i["question"], i["options"]) for i in items]}
    if not args.no_options_only:  # evaluate.suites.score_options_only: question left empty
        passes["options_only"] = [chat.mcq_messages("", i["options"]) for i in items]

    body, vocab = model_params(AutoConfig.from_pretrained(str(model_dir)))
    per_item = {}
    for name, messages in passes.items():
        fed, scored = fed_tokens(lm, [chat.render(m, True) for m in messages], conts)
        per_item[name] = {
            "fed_tokens": fed / len(items),
            "gflop": (2 * body * fed + 2 * vocab * scored) / len(items) / 1e9,
        }
    per_item["greedy_answer"] = {"gflop": args.gen_tokens * 2 * (body + vocab) / 1e9}
    n_items = args.items or len(items)
    total = sum(p["gflop"] for p in per_item.values()) * n_items / 1e3  # TFLOP

    result = {
        "machine": f"{os.cpu_count()} cores, torch threads {torch.get_num_threads()}",
        "cpu_flags": sorted(f for f in cpu_flags() if f.startswith(("avx", "amx", "fma"))),
        "load_average_start": os.getloadavg(),
        "model": str(model_dir),
        "params": {"non_embedding": body, "vocab_projection": vocab},
        "per_item": per_item,
        "items": n_items,
        "tflop": total,
    }
    for dtype in (torch.float32, torch.bfloat16):
        peak = matmul_peak(dtype)
        result[str(dtype).removeprefix("torch.")] = {
            **peak,
            "floor_minutes": total * 1e3 / peak["best_gflops"] / 60,
        }
    result["load_average_end"] = os.getloadavg()
    text = json.dumps(result, indent=1)
    print(text)
    if args.out:
        args.out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
