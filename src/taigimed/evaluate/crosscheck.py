"""Score MCQ items with the real ``lm-eval`` package, on exactly our prompts, for cross-checks.

A local task (``dataset_path: json`` with ``data_files``, ``output_type:
multiple_choice``) whose documents carry the rendered chat prompt and the option
continuations, so lm-evaluation-harness and ``suites.evaluate_mcq`` see the
same strings. Runs offline (``HF_HUB_OFFLINE=1``) on a local model folder.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from taigimed import chat

TASK_NAME = "taigimed_mcq_crosscheck"


def write_task(items: Sequence[dict[str, Any]], folder: Path) -> Path:
    """Write the documents and the task YAML into ``folder``; returns the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    docs = folder / "docs.jsonl"
    with docs.open("w", encoding="utf-8") as fh:
        for it in items:
            letters = sorted(it["options"])
            doc = {
                "id": it["id"],
                "prompt": chat.render(chat.mcq_messages(it["question"], it["options"]), True),
                "choices": [chat.mcq_assistant_answer(k, it["options"]) for k in letters],
                "gold": letters.index(it["answer_idx"]),
            }
            fh.write(json.dumps(doc, ensure_ascii=False) + "\n")
    # The prompt already ends with the assistant header, so no delimiter goes between.
    (folder / f"{TASK_NAME}.yaml").write_text(
        "\n".join(
            [
                f"task: {TASK_NAME}",
                "dataset_path: json",
                "dataset_kwargs:",
                f"  data_files: {{test: {json.dumps(str(docs))}}}",
                "test_split: test",
                "output_type: multiple_choice",
                "doc_to_text: prompt",
                "doc_to_choice: choices",
                "doc_to_target: gold",
                'target_delimiter: ""',
                "metric_list:",
                "  - metric: acc",
                "  - metric: acc_norm",
                "",
            ]
        ),
        encoding="utf-8",
    )
    return folder


def lm_eval_mcq(
    model_dir: str | Path, items: Sequence[dict[str, Any]], folder: Path, dtype: str = "float32"
) -> dict[str, Any]:
    """``{"acc", "acc_norm", "items": {id: {"logliks", "acc", "acc_norm"}}}`` from lm-eval."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    from lm_eval import simple_evaluate
    from lm_eval.tasks import TaskManager

    write_task(items, folder)
    out = simple_evaluate(
        model="hf",
        model_args=f"pretrained={model_dir},dtype={dtype}",
        tasks=[TASK_NAME],
        task_manager=TaskManager(include_path=str(folder), include_defaults=False),
        batch_size=8,
        device="cpu",
        log_samples=True,
        bootstrap_iters=0,
    )
    metrics = out["results"][TASK_NAME]
    per_item = {}
    for sample in out["samples"][TASK_NAME]:
        lls = [float(r[0]) for r in sample["filtered_resps"]]
        per_item[sample["doc"]["id"]] = {
            "logliks": lls,
            "acc": float(sample["acc"]),
            "acc_norm": float(sample["acc_norm"]),
        }
    return {"acc": metrics["acc,none"], "acc_norm": metrics["acc_norm,none"], "items": per_item}
