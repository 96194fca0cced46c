"""Hand-made prepared data in the contract's layout, so training tests need no data pipeline."""

from __future__ import annotations

import random
from pathlib import Path

from support import write_prepared
from taigimed import chat
from taigimed.data.records import record

_SYMPTOMS = ["發燒", "咳嗽", "頭殼痛", "腹肚痛", "嚨喉疼", "流鼻水", "血壓懸", "血糖懸"]
_ADVICE = ["愛啉水", "愛歇睏", "愛去看醫生", "愛量血壓", "愛食藥仔", "愛注意飲食"]


def _record(rid: str, source: str, kind: str, messages=None, text="", phase=1) -> dict:
    return record(rid, source, kind, text=text, messages=messages, phase=phase) | {
        "difficulty": 0.5
    }


def _mcq(i: int, rng: random.Random) -> dict:
    options = {k: rng.choice(_SYMPTOMS) for k in "ABCD"}
    letter = "ABCD"[i % 4]
    msgs = chat.mcq_messages(f"病人{options[letter]}，下列何者正確？", options, letter)
    return _record(f"mcq-{i}", "medqa", "chat", messages=msgs)


def _taigi(i: int, rng: random.Random) -> dict:
    text = f"阮阿公{rng.choice(_SYMPTOMS)}，{rng.choice(_ADVICE)}。" * 2
    return _record(f"tg-{i}", "taigi", "text", text=text, phase=1 + i % 2)


def _translation(i: int, rng: random.Random) -> dict:
    s = rng.choice(_SYMPTOMS)
    msgs = [
        {"role": "user", "content": f"請翻譯成台語：病人{s}。"},
        {"role": "assistant", "content": f"病人{s}，{rng.choice(_ADVICE)}。"},
    ]
    return _record(f"tr-{i}", "translation", "chat", messages=msgs, phase=2)


def make_prepared(root: Path, n: int = 48) -> Path:
    """A prepared-data folder (datasets + manifest) like `taigimed data prepare` writes."""
    rng = random.Random(0)
    sets = {
        "stage1_train": [_mcq(i, rng) for i in range(n)]
        + [
            _record(f"tb-{i}", "textbook", "text", text="糖尿病的病人應該定期檢查血糖。")
            for i in range(4)
        ],
        "stage1_validation": [_mcq(1000 + i, rng) for i in range(12)],
        "stage2_train": [_taigi(i, rng) for i in range(n)]
        + [_translation(i, rng) for i in range(n // 2)]
        + [_mcq(2000 + i, rng) for i in range(n // 4)],
        "stage2_validation": [_taigi(3000 + i, rng) for i in range(12)],
    }
    return write_prepared(root, sets)
