"""MCQ scoring speed: shared-prefix KV-cache scorer vs a naive batched option loop, and the
GGUF scorer (llama.cpp) against both.

    OMP_WAIT_POLICY=PASSIVE python benchmarks/bench_eval.py --workdir W [--model DIR]
        [--medqa shared/data/medqa_tw/test.jsonl] [--naive 24] [--ours 200]
        [--dtype float32|bfloat16] [--gen-tokens 8] [--suite DATA_DIR] [--out result.json]
        [--gguf f16 [--gguf-items N]] [--suite-scorer torch|gguf] [--prefix-ab ROUNDS]

``--gguf TYPE`` exports the model to GGUF (``models.gguf_export``) and times
``scoring_gguf`` on ``--gguf-items`` questions (default: all), with the greedy answer; its
per-question predictions are compared with the torch scorer's on the questions both
scored (``--ours``): same argmax (acc) and acc_norm, largest log-likelihood difference.

Both scorers see the same MedQA-TW questions, prompts (taigimed.chat) and token split:

- naive (the baseline): for each question, its four ``prompt + option`` sequences as one
  right-padded batch, full forward over every token, summed option log-probabilities;
- ours (``taigimed.evaluate.scoring.score_mcq``): prompts batched by length and run once,
  options scored as continuations of the cached prompt, with and without the greedy
  answer used for generative accuracy.

``--prefix-ab ROUNDS`` times ``score_mcq`` (no greedy answer) with the shared-prefix cache
off and on, alternating, ROUNDS times each, on the ``--ours`` questions: wall and process
CPU seconds, so a busy machine shows in the gap between them.

Reported: questions/s of each, the ratio, the largest log-probability difference on the
shared questions, and the projected time for 1,000 questions. ``--suite DATA_DIR`` also
times ``evaluate_model(full=True)`` on the default recipe (all three sets) and reports the
seconds per set. Figures go to docs/benchmarks.md ("Evaluation").
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import torch


def naive_logliks(lm, items) -> list[list[float]]:
    from taigimed import chat
    from taigimed.evaluate.scoring import encode_mcq

    out = []
    for it in items:
        opts = it["options"]
        ctx = chat.render(chat.mcq_messages(it["question"], opts), True)
        enc = encode_mcq(lm, ctx, [chat.mcq_assistant_answer(k, opts) for k in sorted(opts)])
        seqs = [enc.context + c for c in enc.continuations]
        width = max(len(s) for s in seqs)
        ids = torch.full((len(seqs), width), lm.pad_id, dtype=torch.long)
        for r, s in enumerate(seqs):
            ids[r, : len(s)] = torch.tensor(s)
        with torch.inference_mode():
            logits = lm.model(input_ids=ids).logits.float()
        lp = torch.log_softmax(logits, dim=-1)
        row = []
        for r, c in enumerate(enc.continuations):
            start = len(enc.context)
            tgt = torch.tensor(c)
            row.append(lp[r, start - 1 : start - 1 + len(c)].gather(1, tgt[:, None]).sum().item())
        out.append(row)
    return out


def _picks(items, scores):
    """(acc pred letters, acc_norm pred letters) as suites.evaluate_mcq computes them."""
    from taigimed import chat

    acc, norm = [], []
    for it, s in zip(items, scores, strict=True):
        letters = sorted(it["options"])
        lengths = [len(chat.mcq_assistant_answer(k, it["options"])) for k in letters]
        acc.append(letters[max(range(len(letters)), key=lambda i: s.logliks[i])])
        norm.append(letters[max(range(len(letters)), key=lambda i: s.logliks[i] / lengths[i])])
    return acc, norm


def bench_gguf(args, cfg, wd, model_dir, items, contexts, conts, torch_scores) -> dict:
    """Time the GGUF scorer and compare its predictions with the torch scorer's."""
    from taigimed.evaluate.scoring_gguf import GGUFModel
    from taigimed.models.gguf_export import ensure_gguf, template_for

    t0 = time.perf_counter()
    exported = ensure_gguf(model_dir, args.gguf, template_for(cfg.model.base, wd))
    export_s = time.perf_counter() - t0
    gm = GGUFModel(exported.path, model_dir, cfg.model.max_context)
    m = min(args.gguf_items or len(items), len(items))
    gm.score_mcq(contexts[:4], conts[:4], gen_tokens=args.gen_tokens)  # warm-up
    t0 = time.perf_counter()
    scores = gm.score_mcq(contexts[:m], conts[:m], gen_tokens=args.gen_tokens)
    seconds = time.perf_counter() - t0
    gm.close()
    k = min(m, len(torch_scores))
    acc_t, norm_t = _picks(items[:k], torch_scores[:k])
    acc_g, norm_g = _picks(items[:k], scores[:k])
    gold = [it["answer_idx"] for it in items[:k]]
    diffs = [
        abs(a - b)
        for t, g in zip(torch_scores[:k], scores[:k], strict=True)
        for a, b in zip(t.logliks, g.logliks, strict=True)
    ]
    acc_all, norm_all = _picks(items[:m], scores)
    return {
        "type": args.gguf,
        "file": str(exported.path),
        "sha256": exported.sha256,
        "export_seconds": round(export_s, 1),
        "threads": gm.rt.threads,
        "questions": m,
        "gen_tokens": args.gen_tokens,
        "seconds": round(seconds, 1),
        "q_per_s": m / seconds,
        "projected_minutes_for_all": len(items) / (m / seconds) / 60,
        "speedup_vs_torch_with_gen": (m / seconds) / (len(torch_scores) / args.torch_gen_s),
        "accuracy_all": {
            "acc": sum(
                p == g for p, g in zip(acc_all, [i["answer_idx"] for i in items[:m]], strict=True)
            )
            / m,
            "acc_norm": sum(
                p == g for p, g in zip(norm_all, [i["answer_idx"] for i in items[:m]], strict=True)
            )
            / m,
        },
        "vs_torch": {
            "questions": k,
            "acc_torch": sum(p == g for p, g in zip(acc_t, gold, strict=True)) / max(k, 1),
            "acc_gguf": sum(p == g for p, g in zip(acc_g, gold, strict=True)) / max(k, 1),
            "acc_norm_torch": sum(p == g for p, g in zip(norm_t, gold, strict=True)) / max(k, 1),
            "acc_norm_gguf": sum(p == g for p, g in zip(norm_g, gold, strict=True)) / max(k, 1),
            "same_acc_pick": sum(a == b for a, b in zip(acc_t, acc_g, strict=True)),
            "same_acc_norm_pick": sum(a == b for a, b in zip(norm_t, norm_g, strict=True)),
            "same_generated": sum(
                t.generated == g.generated
                for t, g in zip(torch_scores[:k], scores[:k], strict=True)
            ),
            "max_abs_loglik_diff": max(diffs) if diffs else None,
        },
    }


def prefix_ab(lm, contexts, conts, batch_questions: int, rounds: int) -> dict:
    """The shared-prefix cache's gain: the same call with the cache disabled, then enabled."""
    from taigimed.evaluate import scoring

    enabled = scoring.MIN_SHARED_PREFIX
    ids = [scoring.encode_mcq(lm, c, x).context for c, x in zip(contexts, conts, strict=True)]
    runs: dict[str, list[tuple[float, float]]] = {"off": [], "on": []}
    logliks = {}
    try:
        for _ in range(rounds):
            for mode, threshold in (("off", 10**9), ("on", enabled)):
                scoring.MIN_SHARED_PREFIX = threshold
                t0, c0 = time.perf_counter(), time.process_time()
                scores = scoring.score_mcq(lm, contexts, conts, batch_questions, 0)
                runs[mode].append((time.perf_counter() - t0, time.process_time() - c0))
                logliks[mode] = [x for s in scores for x in s.logliks]
    finally:
        scoring.MIN_SHARED_PREFIX = enabled
    best = {m: (min(w for w, _ in r), min(c for _, c in r)) for m, r in runs.items()}
    return {
        "questions": len(contexts),
        "shared_prefix_tokens": scoring._SharedPrefix.of(lm, ids).length,
        "mean_prompt_tokens": sum(len(i) for i in ids) / len(ids),
        "rounds": rounds,
        "best_wall_s": {m: round(w, 2) for m, (w, _) in best.items()},
        "best_cpu_s": {m: round(c, 2) for m, (_, c) in best.items()},
        "speedup_wall": best["off"][0] / best["on"][0],
        "speedup_cpu": best["off"][1] / best["on"][1],
        "max_abs_loglik_diff": max(
            abs(a - b) for a, b in zip(logliks["off"], logliks["on"], strict=True)
        ),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--model", default=None, help="model folder (default: the embedded SmolLM2)")
    default_data = Path(os.environ.get("TAIGIMED_DATA_ROOT", "../shared/data"))
    ap.add_argument("--medqa", type=Path, default=default_data / "medqa_tw" / "test.jsonl")
    ap.add_argument("--naive", type=int, default=24, help="questions for the naive baseline")
    ap.add_argument("--ours", type=int, default=200, help="questions for the shared-prefix scorer")
    ap.add_argument("--dtype", default="float32")
    ap.add_argument("--batch-questions", type=int, default=8)
    ap.add_argument("--gen-tokens", type=int, default=8)
    ap.add_argument("--suite", type=Path, default=None, help="prepared data folder: time it all")
    ap.add_argument("--suite-scorer", default="gguf", choices=["torch", "gguf"])
    ap.add_argument("--gguf", default=None, choices=["f32", "f16", "q8_0"], help="GGUF type")
    ap.add_argument("--gguf-items", type=int, default=None, help="questions for the GGUF scorer")
    ap.add_argument("--prefix-ab", type=int, default=0, help="rounds of shared prefix off/on")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()

    from taigimed.config import load_config
    from taigimed.evaluate.eval_sets import check_mcq, read_jsonl
    from taigimed.evaluate.scoring import load_model, score_mcq
    from taigimed.models.resolve import resolve_base
    from taigimed.workdir import Workdir

    cfg = load_config("default")
    wd = Workdir.resolve(args.workdir)
    model_dir = args.model or resolve_base(cfg.model, wd)
    items = check_mcq(read_jsonl(args.medqa), str(args.medqa))
    lm = load_model(model_dir, args.dtype, cfg.model.max_context)
    from taigimed import chat

    contexts = [chat.render(chat.mcq_messages(i["question"], i["options"]), True) for i in items]
    conts = [
        [chat.mcq_assistant_answer(k, i["options"]) for k in sorted(i["options"])] for i in items
    ]

    result: dict = {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "load_average_start": os.getloadavg(),
        "model": str(model_dir),
        "dtype": args.dtype,
        "torch_threads": torch.get_num_threads(),
    }
    score_mcq(lm, contexts[:4], conts[:4], args.batch_questions)  # warm-up

    if args.prefix_ab:
        m = min(args.ours, len(items))
        result["shared_prefix"] = prefix_ab(
            lm, contexts[:m], conts[:m], args.batch_questions, args.prefix_ab
        )
    n = min(args.naive, len(items))
    t0 = time.perf_counter()
    naive = naive_logliks(lm, items[:n])
    naive_s = time.perf_counter() - t0
    result["naive"] = {
        "questions": n,
        "seconds": round(naive_s, 2),
        "q_per_s": n / max(naive_s, 1e-9),
    }

    m = min(args.ours, len(items))
    t0 = time.perf_counter()
    ours = score_mcq(lm, contexts[:m], conts[:m], args.batch_questions, 0)
    ours_s = time.perf_counter() - t0
    result["ours"] = {"questions": m, "seconds": round(ours_s, 2), "q_per_s": m / ours_s}
    t0 = time.perf_counter()
    ours = score_mcq(lm, contexts[:m], conts[:m], args.batch_questions, args.gen_tokens)
    gen_s = time.perf_counter() - t0
    args.torch_gen_s = gen_s
    result["ours_with_gen"] = {
        "questions": m,
        "gen_tokens": args.gen_tokens,
        "seconds": round(gen_s, 2),
        "q_per_s": m / gen_s,
    }
    if n:
        diffs = [
            abs(a - b)
            for o, nv in zip(ours[:n], naive, strict=True)
            for a, b in zip(o.logliks, nv, strict=True)
        ]
        result["max_abs_loglik_diff"] = max(diffs)
        result["speedup"] = result["ours"]["q_per_s"] / result["naive"]["q_per_s"]
        result["speedup_with_gen"] = result["ours_with_gen"]["q_per_s"] / result["naive"]["q_per_s"]
    result["projected_1000_q_minutes"] = {
        "ours": 1000 / result["ours"]["q_per_s"] / 60,
        "ours_with_gen": 1000 / result["ours_with_gen"]["q_per_s"] / 60,
    }
    if args.gguf:
        result["gguf"] = bench_gguf(args, cfg, wd, model_dir, items, contexts, conts, ours)
    if args.suite:
        from taigimed.evaluate.run import evaluate_model

        cfg_suite = load_config(
            "default", [f"eval.dtype={args.dtype}", f"eval.scorer={args.suite_scorer}"]
        )
        out_json = (args.out or Path("bench_eval.json")).with_name("bench_eval_suite.json")
        t0 = time.perf_counter()
        report = evaluate_model(cfg_suite, wd, model_dir, out_json, full=True, data_dir=args.suite)
        result["suite"] = {
            "seconds": round(time.perf_counter() - t0, 1),
            "set_seconds": report["set_seconds"],
            "per_set_n": report["sample"]["per_set_n"],
            "metrics": {
                s: {k: round(v["value"], 4) for k, v in r["metrics"].items()}
                for s, r in report["sets"].items()
            },
        }
    result["load_average_end"] = os.getloadavg()
    text = json.dumps(result, indent=1, ensure_ascii=False)
    print(text)
    if args.out:
        args.out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
