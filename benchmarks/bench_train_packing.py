"""Training throughput and peak memory: packing + answer-only chunked loss vs padding to 512.

    OMP_WAIT_POLICY=PASSIVE python benchmarks/bench_train_packing.py --workdir W [--data DIR]
        [--steps 3] [--rows 8] [--seq-len 512] [--model DIR] [--out result.json]

Both variants train LoRA (the default recipe's stage settings) on the same MedQA-TW chat
records of ``stage1_train`` with the same model and precision (fp32 unless --precision):

- padded (the naive baseline): one example per row, padded to 512 with pad = EOS, full
  logits through ``model(labels=...)``, loss on prompt tokens too, real EOS masked out;
- packed (ours): several examples per row with restarting position_ids and no
  cross-example attention, loss only on answer tokens, computed in chunks.

Each variant runs in its own process so that its peak RSS is its own. Reported:
tokens/s (non-pad tokens), useful tokens/s (answer tokens, the ones SFT is for), peak RSS,
and the packed/padded ratios. Figures go to docs/benchmarks.md ("Training").
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path


def training_examples(args):
    """Tokeniser and encoded stage-1 chat records for ``args`` (shared with bench_train_memory)."""
    from transformers import AutoTokenizer

    from taigimed.train.data import open_prepared
    from taigimed.train.records import encode_dataset
    from taigimed.workdir import Workdir

    prepared = open_prepared(Workdir.resolve(args.workdir), args.data)
    ds = prepared.dataset("stage1_train").filter(lambda r: r["kind"] == "chat")
    ds = ds.shuffle(seed=0).select(range(min(len(ds), args.rows * (args.steps + 1) * 4)))
    tok = AutoTokenizer.from_pretrained(args.model)
    return tok, encode_dataset(ds, tok, args.seq_len)


def run_variant(args) -> dict:
    import torch

    from taigimed.config import load_config
    from taigimed.train.loss import CausalLMLoss
    from taigimed.train.model import load_model
    from taigimed.train.packing import collate_packed, pack, pad_rows, stack

    cfg = load_config("default")
    tok, examples = training_examples(args)
    model = load_model(args.model, cfg.train, cfg.train.stage1, "cpu", False)
    model.train()
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
    eos = tok.eos_token_id
    amp = (
        torch.autocast("cpu", dtype=torch.bfloat16)
        if args.precision == "bf16-autocast"
        else contextlib.nullcontext()
    )
    if args.variant == "packed":
        rows = pack(examples, args.seq_len)
        batches = [
            collate_packed(rows[i : i + args.rows], args.seq_len, eos)
            for i in range(0, len(rows), args.rows)
        ]
        wrapper = CausalLMLoss(model, cfg.train.loss_chunk_tokens)
    else:
        single = pad_rows(examples, args.seq_len, eos, train_prompt=True)
        batches = [stack(single[i : i + args.rows]) for i in range(0, len(single), args.rows)]
    # useful = answer tokens, whatever else a variant trains on
    answer = pad_rows(examples, args.seq_len, eos, train_prompt=False)
    useful_per_example = [b.useful for b in answer]
    times, tokens, useful = [], 0, 0
    for step, batch in enumerate(batches[: args.steps + 1]):
        started = time.perf_counter()
        with amp:
            if args.variant == "packed":
                loss_sum, n = wrapper(batch.input_ids, batch.targets, batch.position_ids)
                loss = loss_sum / n
            else:
                # the naive recipe: labels = input ids, then "mask the padding" by pad id,
                # which (pad = EOS) also drops every real EOS; HF shifts labels itself
                keep = batch.attention_mask.bool() & (batch.input_ids != eos)
                labels = torch.where(keep, batch.input_ids, -100)
                loss = model(
                    input_ids=batch.input_ids, attention_mask=batch.attention_mask, labels=labels
                ).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if step == 0:
            continue  # warm-up step: allocator and kernels
        times.append(time.perf_counter() - started)
        tokens += batch.tokens
        if args.variant == "packed":
            useful += batch.useful
        else:
            first = step * args.rows
            useful += sum(useful_per_example[first : first + batch.input_ids.shape[0]])
    seconds = sum(times)
    rows_per_example = (len(rows) if args.variant == "packed" else len(examples)) / len(examples)
    return {
        "variant": args.variant,
        "steps": len(times),
        "seconds_per_step": seconds / len(times),
        "tokens_per_s": tokens / seconds,
        "useful_tokens_per_s": useful / seconds,
        "useful_fraction": useful / (len(times) * args.rows * args.seq_len),
        "rows_per_example": rows_per_example,
        "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--data", default=None)
    parser.add_argument("--model", default=None, help="default: the pulled embedded model")
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--rows", type=int, default=8)
    parser.add_argument("--seq-len", type=int, default=512)
    parser.add_argument("--precision", choices=["fp32", "bf16-autocast"], default="fp32")
    parser.add_argument("--variant", choices=["packed", "padded"], default=None)
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
    results = {}
    for variant in ("padded", "packed"):
        cmd = [sys.executable, __file__, "--variant", variant, "--model", args.model]
        cmd += ["--workdir", args.workdir, "--steps", str(args.steps), "--rows", str(args.rows)]
        cmd += ["--seq-len", str(args.seq_len), "--precision", args.precision]
        cmd += ["--data", args.data] if args.data else []
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        results[variant] = json.loads(out.strip().splitlines()[-1])
        print(variant, results[variant], flush=True)
    p, b = results["packed"], results["padded"]
    results["ratio_packed_over_padded"] = {
        k: p[k] / b[k]
        for k in ("tokens_per_s", "useful_tokens_per_s", "peak_rss_gb", "rows_per_example")
    }
    print(json.dumps(results["ratio_packed_over_padded"], indent=2))
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
