"""Issue 20's everyday check: ask a running `taigimed serve` everyday questions as a patient
would (the OpenAI client, one new conversation each) and count the relevant cards.

    .venv/bin/taigimed serve --model staging &
    .venv/bin/python benchmarks/everyday_check.py http://127.0.0.1:8000 \\
        src/taigimed/evaluate/sets/knowledge_everyday_check.jsonl --out everyday.json

An on-topic question counts when the answer's first source is one of its labelled cards; an
off-topic one when no card is cited and no emergency reply was given. Every reply is printed
with its kind (card, no_card, red_flag, dose_question, model).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import openai


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("url", help="the server, e.g. http://127.0.0.1:8000")
    ap.add_argument("questions", type=Path, help="JSONL rows: id, question, script, cards")
    ap.add_argument("--out", type=Path, default=None, help="write every reply here")
    args = ap.parse_args()
    client = openai.OpenAI(base_url=args.url.rstrip("/") + "/v1", api_key="none")
    model = client.models.list().data[0].id
    rows = [json.loads(x) for x in args.questions.read_text("utf-8").splitlines() if x.strip()]
    items, on, off = [], [0, 0], [0, 0]
    for r in rows:
        messages = [{"role": "user", "content": r["question"]}]
        resp = client.chat.completions.create(model=model, messages=messages, temperature=0)
        info = (resp.model_extra or {}).get("taigimed", {})
        cited = [s.get("card_id") for s in info.get("sources", [])]
        kind = info.get("reply_kind")
        if r["cards"]:
            good = bool(cited) and cited[0] in r["cards"]
            on = [on[0] + good, on[1] + 1]
        else:
            good = not cited and kind != "red_flag"
            off = [off[0] + good, off[1] + 1]
        text = resp.choices[0].message.content
        items.append({**r, "reply_kind": kind, "cited": cited, "good": good, "reply": text})
        print(f"{'ok' if good else 'NO'}  {r['id']:28s} {kind:13s} {cited[:1]} <- {r['cards'][:2]}")
    print(f"on-topic with a relevant card: {on[0]}/{on[1]}; off-topic: {off[0]}/{off[1]}")
    if args.out:
        args.out.write_text(json.dumps(items, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
