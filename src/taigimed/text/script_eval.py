"""A labelled sample from the shared corpora and the script detector's accuracy on it.

Labels come from where the text was taken, not from a person: Sinica Han-Lo sentences
give Taigi Han and their numeric Tâi-lô; the parallel file gives Mandarin (``ZH``),
Taigi Han (``HAN``), Tâi-lô (``TL``) and POJ; Simplified Mandarin is the parallel
file's Mandarin through OpenCC ``t2s``. Run ``python benchmarks/script_detection.py``.
"""

from __future__ import annotations

import gzip
import json
import random
from collections import Counter, defaultdict
from pathlib import Path

from taigimed.text.script import detect_script


def _sinica(path: Path, n: int, rng: random.Random, scan: int = 20000) -> list[dict]:
    rows = []
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for i, line in enumerate(f):
            if i >= scan:
                break
            tokens = [t.partition("｜") for t in line.split()]
            if not tokens or any(not sep for _, sep, _ in tokens):
                continue
            words = [(h.replace("-", ""), tl) for h, _, tl in tokens if any(c.isalnum() for c in h)]
            if len(words) < 3:
                continue
            rows.append(
                {"han": "".join(h for h, _ in words), "tailo": " ".join(tl for _, tl in words)}
            )
    picked = rng.sample(rows, min(n, len(rows)))
    return [
        {"source": "sinica", "label": "taigi_han", "tone": None, "text": r["han"]} for r in picked
    ] + [
        {"source": "sinica", "label": "tailo", "tone": "numeric", "text": r["tailo"]}
        for r in picked
    ]


def _parallel(path: Path, n: int, rng: random.Random) -> list[dict]:
    import opencc

    t2s = opencc.OpenCC("t2s")
    rows = [
        json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
    ]
    rows = [r for r in rows if r.get("ZH") and r.get("HAN") and r.get("TL") and r.get("POJ")]
    picked = rng.sample(rows, min(n, len(rows)))
    out = []
    for r in picked:
        out += [
            {"source": "parallel", "label": "mandarin_traditional", "tone": None, "text": r["ZH"]},
            {
                "source": "parallel",
                "label": "mandarin_simplified",
                "tone": None,
                "text": t2s.convert(r["ZH"]),
            },
            {"source": "parallel", "label": "taigi_han", "tone": None, "text": r["HAN"]},
            {"source": "parallel", "label": "tailo", "tone": "diacritic", "text": r["TL"]},
            {"source": "parallel", "label": "poj", "tone": "diacritic", "text": r["POJ"]},
        ]
    return out


def labelled_sample(
    data_root: Path, n_sinica: int = 200, n_parallel: int = 100, seed: int = 1234
) -> list[dict]:
    """Rows ``{source, label, tone, text}`` drawn reproducibly from the shared corpora."""
    rng = random.Random(seed)
    taigi = Path(data_root) / "taigi"
    return _sinica(taigi / "sinica_hanlo_sentences.txt.gz", n_sinica, rng) + _parallel(
        taigi / "hokkien_parallel_240.jsonl", n_parallel, rng
    )


def accuracy_table(rows: list[dict]) -> dict:
    """Accuracy per (source, label), tone-style accuracy for romanised rows, and confusions."""
    per = defaultdict(lambda: [0, 0])
    tone = [0, 0]
    confusion: Counter = Counter()
    for r in rows:
        g = detect_script(r["text"])
        key = f"{r['source']}:{r['label']}"
        per[key][0] += g.script == r["label"]
        per[key][1] += 1
        if g.script != r["label"]:
            confusion[f"{r['label']}→{g.script}"] += 1
        if r["tone"]:
            tone[0] += g.tone_style == r["tone"]
            tone[1] += 1
    correct = sum(c for c, _ in per.values())
    total = sum(n for _, n in per.values())
    return {
        "overall": {"n": total, "accuracy": round(correct / total, 4) if total else None},
        "per_label": {
            k: {"n": n, "accuracy": round(c / n, 4)} for k, (c, n) in sorted(per.items())
        },
        "tone_style": {"n": tone[1], "accuracy": round(tone[0] / tone[1], 4) if tone[1] else None},
        "confusions": dict(confusion.most_common(10)),
    }
