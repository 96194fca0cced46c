"""Training step throughput and peak RSS by precision and gradient checkpointing.

    OMP_WAIT_POLICY=PASSIVE python benchmarks/bench_train_memory.py --workdir W [--data DIR]
        [--steps 2] [--rows 8] [--seq-len 512] [--model DIR]
        [--variants fp32,fp32+ckpt,bf16,bf16+ckpt,fp32/m2] [--out result.json]

Every variant trains the default recipe's stage-1 LoRA on the same packed MedQA-TW
records of ``stage1_train`` through the training loop's own pieces (``load_model``,
``CausalLMLoss`` with the chunked answer-only loss, AdamW), in its own process so that its
peak RSS is its own: one warm-up step, then ``--steps`` timed steps. Variants:

- ``fp32``: fp32 weights and activations (the baseline);
- ``bf16``: ``torch.autocast(bfloat16)`` over fp32 master weights (``train.precision:
  bf16-autocast``), fast only where the CPU has avx512_bf16/AMX;
- ``+ckpt``: ``train.gradient_checkpointing: true`` (recompute each layer in backward);
- ``/mN``: N rows per forward pass, gradients accumulated over the step's ``--rows``
  (``micro_batch_rows: N``): the same optimizer step with 1/(rows/N) of the activations.

Reported per variant: s/step, tokens/s, peak RSS; then every variant's ratio to the first
one, and the CPU's bf16-related flags. Figures go to docs/benchmarks.md ("Training").
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

# Run as a script: its folder is on sys.path, so the sibling benchmark's loader is shared.
from bench_train_packing import training_examples


def run_variant(args) -> dict:
    import torch

    from taigimed.config import load_config
    from taigimed.train.loop import _autocast
    from taigimed.train.loss import CausalLMLoss
    from taigimed.train.model import autocast_dtype, load_model
    from taigimed.train.packing import collate_packed, pack

    cfg = load_config("default")
    name, _, micro = args.variant.partition("/m")
    precision = "bf16-autocast" if name.startswith("bf16") else "fp32"
    train = cfg.train.model_copy(
        update={"precision": precision, "gradient_checkpointing": name.endswith("+ckpt")}
    )
    micro = int(micro) if micro else args.rows
    if args.rows % micro:
        raise SystemExit(f"{args.variant}: micro-batch rows must divide --rows {args.rows}")
    tok, examples = training_examples(args)
    model = load_model(args.model, train, cfg.train.stage1, "cpu", False)
    model.train()
    wrapper = CausalLMLoss(model, train.loss_chunk_tokens)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
    amp = autocast_dtype(train)
    rows = pack(examples, args.seq_len)
    times, tokens = [], 0
    for step in range(args.steps + 1):
        step_rows = rows[step * args.rows : (step + 1) * args.rows]
        if len(step_rows) < args.rows:
            raise SystemExit(f"only {len(rows)} packed rows; lower --rows or --steps")
        started = time.perf_counter()
        useful = sum(ex.useful for row in step_rows for ex in row)
        for i in range(0, args.rows, micro):
            batch = collate_packed(step_rows[i : i + micro], args.seq_len, tok.eos_token_id)
            with _autocast("cpu", amp):
                loss_sum, _ = wrapper(batch.input_ids, batch.targets, batch.position_ids)
            (loss_sum / useful).backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if step == 0:
            continue  # warm-up step: allocator, oneDNN kernels
        times.append(time.perf_counter() - started)
        tokens += args.rows * args.seq_len
    seconds = sum(times)
    return {
        "variant": args.variant,
        "steps": len(times),
        "seconds_per_step": seconds / len(times),
        "tokens_per_s": tokens / seconds,
        "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--data", default=None)
    parser.add_argument("--model", default=None, help="default: the pulled embedded model")
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--rows", type=int, default=8)
    parser.add_argument("--seq-len", type=int, default=512)
    parser.add_argument("--variants", default="fp32,fp32+ckpt,bf16,bf16+ckpt,fp32/m2")
    parser.add_argument("--variant", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    if args.model is None:
        from taigimed.models.pull import pull_embedded
        from taigimed.workdir import Workdir

        args.model = str(pull_embedded(Workdir.resolve(args.workdir)))
    if args.variant:
        print(json.dumps(run_variant(args)))
        return
    from taigimed.train.precision import NATIVE_BF16_CPU_FLAGS, cpu_flags

    flags = cpu_flags()
    results: dict = {
        "cpu_flags": sorted(f for f in flags if f.startswith(("avx", "amx"))),
        "native_bf16": [f for f in NATIVE_BF16_CPU_FLAGS if f in flags],
        "variants": {},
    }
    variants = args.variants.split(",")
    for variant in variants:
        cmd = [sys.executable, __file__, "--variant", variant, "--model", args.model]
        cmd += ["--workdir", args.workdir, "--steps", str(args.steps), "--rows", str(args.rows)]
        cmd += ["--seq-len", str(args.seq_len)]
        cmd += ["--data", args.data] if args.data else []
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        results["variants"][variant] = json.loads(out.strip().splitlines()[-1])
        print(variant, results["variants"][variant], flush=True)
    base = results["variants"][variants[0]]
    results["ratio_to_" + variants[0]] = {
        v: {k: r[k] / base[k] for k in ("tokens_per_s", "peak_rss_gb")}
        for v, r in results["variants"].items()
    }
    print(json.dumps(results["ratio_to_" + variants[0]], indent=2))
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
