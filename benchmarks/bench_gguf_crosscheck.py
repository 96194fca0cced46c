"""GGUF export cross-check on the real model: greedy answers and log-prob differences against the
safetensors model, for each exported type.

    python benchmarks/bench_gguf_crosscheck.py --workdir W [--model DIR] [--prompts 50]
        [--types f16,q8_0] [--max-new-tokens 24] [--out result.json]

Prompts: the first ``--prompts`` MedQA-TW test questions rendered as the MCQ chat prompt
(``taigimed.chat``), each answered greedily by transformers (fp32) and by llama.cpp on the
GGUF from the same token ids. Reported per type: how many answers are identical token for
token, the mismatching prompts, and |log p_torch − log p_gguf| over the fp32 answer's tokens
(max, mean, p95). Figures go to docs/benchmarks.md ("GGUF export").
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--model", default=None, help="model folder (default: the embedded SmolLM2)")
    default_data = Path(os.environ.get("TAIGIMED_DATA_ROOT", "../shared/data"))
    ap.add_argument("--medqa", type=Path, default=default_data / "medqa_tw" / "test.jsonl")
    ap.add_argument("--prompts", type=int, default=50)
    ap.add_argument("--types", default="f16,q8_0")
    ap.add_argument("--max-new-tokens", type=int, default=24)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()

    from taigimed import chat
    from taigimed.config import load_config
    from taigimed.evaluate.crosscheck_gguf import crosscheck_gguf
    from taigimed.evaluate.eval_sets import check_mcq, read_jsonl
    from taigimed.models.gguf_export import ensure_gguf, template_for
    from taigimed.models.resolve import resolve_base
    from taigimed.workdir import Workdir

    cfg = load_config("default")
    wd = Workdir.resolve(args.workdir)
    model_dir = Path(args.model or resolve_base(cfg.model, wd))
    items = check_mcq(read_jsonl(args.medqa), str(args.medqa))[: args.prompts]
    prompts = [chat.render(chat.mcq_messages(i["question"], i["options"]), True) for i in items]
    template = template_for(cfg.model.base, wd) if args.model is None else None
    result: dict = {"model": str(model_dir), "prompts": len(prompts), "types": {}}
    for outtype in args.types.split(","):
        t0 = time.perf_counter()
        exported = ensure_gguf(model_dir, outtype, template)
        export_s = time.perf_counter() - t0
        check = crosscheck_gguf(
            model_dir, exported.path, prompts, args.max_new_tokens, cfg.model.max_context
        )
        check["mismatches"] = [m["prompt"] for m in check["mismatches"]]
        result["types"][outtype] = {
            "file": str(exported.path),
            "bytes": exported.path.stat().st_size,
            "sha256": exported.sha256,
            "export_seconds": round(export_s, 1),
            **check,
        }
        print(outtype, json.dumps(result["types"][outtype]), flush=True)
    text = json.dumps(result, indent=1)
    print(text)
    if args.out:
        args.out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
