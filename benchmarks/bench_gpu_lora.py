"""LoRA training steps on a randomly initialised 7B-shaped Llama: tokens/s and peak memory.

    python benchmarks/bench_gpu_lora.py                       # 7B shape, the gpu-7b recipe, GPU
    python benchmarks/bench_gpu_lora.py --beside-vllm 0.45    # only the memory vLLM leaves
    python benchmarks/bench_gpu_lora.py --shape tiny --device cpu --steps 2   # smoke test
    python benchmarks/bench_gpu_lora.py --table               # the memory table, no training

Nothing is downloaded: the model is built from its architecture (``--shape 7b``: Llama-2-7B,
the architecture of TAIDE-LX-7B; ``--vocab`` sets the vocabulary of the base you will train)
with random weights, in the dtype the training code loads the recipe's base in
(``taigimed.train.model.base_weight_dtype``: bf16 for LoRA under bf16-autocast), with the
recipe's adapters (``attach_adapters``), its chunked answer-only loss (``CausalLMLoss``),
its autocast, gradient checkpointing, sequence length and rows per forward pass. One
warm-up step, then ``--steps`` timed steps of random tokens.

Printed (and written with ``--out``): tokens/s, s/step, peak memory (``torch.cuda`` /
ROCm's ``max_memory_reserved`` on a GPU, peak RSS on CPU), and the estimate the memory table
in docs/deploy.md uses, computed from parameter counts:

    base weights    P_base x bytes (bf16 2; fp32 4; NF4 4-bit ~0.5 + bf16 embeddings)
    adapters        P_lora x 16 (fp32 weight 4 + grad 4 + AdamW moments 8)
    activations     layers x rows x seq x hidden x 2   (checkpointed layer inputs, bf16)
                    + one layer recomputed: rows x seq x (4 hidden + 3 intermediate) x 2
    logits          loss_chunk_tokens x vocab x 4 x 3  (fp32 logits, softmax, grad)
    overhead        1.5 GB (CUDA/ROCm context, allocator fragmentation)

``--beside-vllm F`` caps this process at (1 - F) of the GPU
(``torch.cuda.set_per_process_memory_fraction``), what a vLLM with
``--gpu-memory-utilization F`` on the same GPU leaves: the run fails with out-of-memory
exactly where the shared GPU would.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

GB = 1e9
# Memory per card in GB (1e9 bytes), as sold.
CARDS = {"A100-40GB": 40, "A100-80GB": 80, "H100-80GB": 80, "MI100-32GB": 32}
OVERHEAD_GB = 1.5


def model_config(shape: str, vocab: int | None):
    from transformers import LlamaConfig

    if shape == "7b":  # Llama-2-7B (TAIDE-LX-7B's architecture)
        cfg = LlamaConfig(
            vocab_size=vocab or 32000,
            hidden_size=4096,
            intermediate_size=11008,
            num_hidden_layers=32,
            num_attention_heads=32,
            num_key_value_heads=32,
            max_position_embeddings=4096,
        )
    else:  # a few MB: the same code path on a CPU
        cfg = LlamaConfig(
            vocab_size=vocab or 512,
            hidden_size=64,
            intermediate_size=172,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=4,
            max_position_embeddings=4096,
        )
    cfg.use_cache = False
    return cfg


def parameter_counts(cfg, targets: list[str], r: int) -> dict[str, int]:
    """Base parameters (linear layers apart) and LoRA parameters, from the architecture."""
    h, i, layers = cfg.hidden_size, cfg.intermediate_size, cfg.num_hidden_layers
    kv = h * cfg.num_key_value_heads // cfg.num_attention_heads
    shapes = {
        "q_proj": (h, h),
        "k_proj": (h, kv),
        "v_proj": (h, kv),
        "o_proj": (h, h),
        "gate_proj": (h, i),
        "up_proj": (h, i),
        "down_proj": (i, h),
    }
    linear = layers * sum(a * b for a, b in shapes.values())
    embeddings = 2 * cfg.vocab_size * h  # input embeddings and lm_head (untied)
    norms = (2 * layers + 1) * h
    lora = layers * sum(r * (a + b) for name, (a, b) in shapes.items() if name in targets)
    return {"linear": linear, "embeddings": embeddings, "norms": norms, "lora": lora}


def estimate_gb(cfg, stage, loss_chunk_tokens: int, method: str) -> dict[str, float]:
    """The formula in this module's docstring, in GB."""
    n = parameter_counts(cfg, stage.lora.target_modules, stage.lora.r)
    if method == "qlora":  # NF4 + double quantisation: ~4.13 bits per linear weight
        base = n["linear"] * 4.13 / 8 + (n["embeddings"] + n["norms"]) * 2
    elif method == "lora-fp32":  # before: fp32 master copy of a frozen base
        base = (n["linear"] + n["embeddings"] + n["norms"]) * 4
    else:
        base = (n["linear"] + n["embeddings"] + n["norms"]) * 2
    rows, seq, h = stage.rows_per_forward, stage.seq_len, cfg.hidden_size
    acts = cfg.num_hidden_layers * rows * seq * h * 2
    acts += rows * seq * (4 * h + 3 * cfg.intermediate_size) * 2
    logits = min(loss_chunk_tokens, rows * seq) * cfg.vocab_size * 4 * 3
    parts = {
        "base": base / GB,
        "adapters": n["lora"] * 16 / GB,
        "activations": acts / GB,
        "logits": logits / GB,
        "overhead": OVERHEAD_GB,
    }
    parts["total"] = sum(parts.values())
    parts["params_billion"] = (n["linear"] + n["embeddings"] + n["norms"]) / 1e9
    parts["lora_params_million"] = n["lora"] / 1e6
    return parts


def memory_table(cfg, recipe, vllm_fraction: float = 0.45) -> str:
    stage = recipe.train.stage2
    rows = [
        ("LoRA, fp32 base (before)", "lora-fp32", stage),
        ("LoRA, bf16 base (gpu-7b)", "lora", stage),
        (
            "LoRA, bf16 base, micro_batch_rows 1",
            "lora",
            stage.model_copy(update={"micro_batch_rows": 1}),
        ),
        ("QLoRA (NF4 base)", "qlora", stage),
    ]
    head = "| recipe | need (GB) | " + " | ".join(
        f"{c} alone / beside vLLM ({c_gb} / {c_gb * (1 - vllm_fraction):.1f})"
        for c, c_gb in CARDS.items()
    )
    lines = [head + " |", "|---" * (2 + len(CARDS)) + "|"]
    for label, method, st in rows:
        need = estimate_gb(cfg, st, recipe.train.loss_chunk_tokens, method)["total"]
        cells = []
        for c_gb in CARDS.values():
            alone = "fits" if need <= c_gb else "no"
            beside = "fits" if need <= c_gb * (1 - vllm_fraction) else "no"
            cells.append(f"{alone} / {beside}")
        lines.append(f"| {label} | {need:.1f} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def run(args) -> dict:
    import torch

    from taigimed.config import load_config
    from taigimed.train.loss import CausalLMLoss
    from taigimed.train.model import attach_adapters, autocast_dtype, base_weight_dtype

    recipe = load_config(args.recipe, [f"train.precision={args.precision}"])
    stage = recipe.train.stage2.model_copy(
        update={k: v for k, v in (("seq_len", args.seq_len), ("micro_batch_rows", args.rows)) if v}
    )
    cfg = model_config(args.shape, args.vocab)
    if args.table:
        return {"table": memory_table(cfg, recipe, args.beside_vllm or 0.45)}
    device = args.device
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and args.beside_vllm:
        torch.cuda.set_per_process_memory_fraction(1 - args.beside_vllm)
    dtype = base_weight_dtype(recipe.train, stage)
    torch.manual_seed(0)
    started = time.perf_counter()
    with torch.device(device):
        from transformers import LlamaForCausalLM

        model = LlamaForCausalLM(cfg).to(dtype)
    build_s = time.perf_counter() - started
    if recipe.train.gradient_checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    model = attach_adapters(model, recipe.train, stage)
    wrapper = CausalLMLoss(model, recipe.train.loss_chunk_tokens)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=stage.learning_rate)
    amp = autocast_dtype(recipe.train)
    rows, seq = stage.rows_per_forward, stage.seq_len
    gen = torch.Generator(device="cpu").manual_seed(0)

    def step() -> None:
        ids = torch.randint(0, cfg.vocab_size, (rows, seq), generator=gen).to(device)
        pos = torch.arange(seq).expand(rows, seq).to(device)
        with torch.autocast(device, dtype=amp, enabled=amp is not None):
            loss_sum, n = wrapper(input_ids=ids, targets=ids, position_ids=pos)
        (loss_sum / n).backward()
        torch.nn.utils.clip_grad_norm_(params, stage.max_grad_norm)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    def sync() -> None:
        if device == "cuda":
            torch.cuda.synchronize()

    step()  # warm-up: kernels chosen, optimizer state allocated
    sync()
    t0 = time.perf_counter()
    for _ in range(args.steps):
        step()
    sync()
    seconds = time.perf_counter() - t0
    if device == "cuda":
        peak = torch.cuda.max_memory_reserved() / GB
        where = torch.cuda.get_device_name()
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / GB
        where = "cpu"
    est = estimate_gb(cfg, stage, recipe.train.loss_chunk_tokens, stage.method)
    return {
        "shape": args.shape,
        "device": where,
        "base_dtype": str(dtype).removeprefix("torch."),
        "precision": recipe.train.precision,
        "rows_per_forward": rows,
        "seq_len": seq,
        "lora_r": stage.lora.r,
        "steps": args.steps,
        "build_s": round(build_s, 2),
        "s_per_step": round(seconds / args.steps, 3),
        "tokens_per_s": round(rows * seq * args.steps / seconds, 1),
        "peak_memory_gb": round(peak, 2),
        "estimate_gb": {k: round(v, 2) for k, v in est.items()},
        "beside_vllm": args.beside_vllm,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--shape", choices=["7b", "tiny"], default="7b")
    p.add_argument("--vocab", type=int, default=None, help="Vocabulary size of the base.")
    p.add_argument("--recipe", default="gpu-7b", help="Recipe whose stage-2 settings are used.")
    p.add_argument("--precision", default="bf16-autocast")
    p.add_argument("--device", choices=["auto", "cuda", "cpu"], default="auto")
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--seq-len", type=int, default=None, help="Default: the recipe's.")
    p.add_argument("--rows", type=int, default=None, help="Rows per forward (micro batch).")
    p.add_argument("--beside-vllm", type=float, default=None, help="vLLM's memory fraction.")
    p.add_argument("--table", action="store_true", help="Print the memory table and exit.")
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args(argv)
    result = run(args)
    if args.table:
        print(result["table"])
        return 0
    print(json.dumps(result, indent=1))
    if args.out:
        args.out.write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
