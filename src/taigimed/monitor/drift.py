"""Drift report: do production inputs still look like the training data?

    taigimed deploy drift --out /tmp/drift --workdir /tmp/tm

Compares the user turns stored by ``taigimed serve`` with the user turns (and texts) of the
prepared training data on four views: script mix (``taigimed.text.script``), message length,
topics (keyword lists in ``monitor.drift.topics``) and red-flag rate (the rules in effect for
serving, ``serve.safety.rules_path``, applied to both sides alike; the report records their
version). Writes ``report.md``, ``report.html`` (plots embedded),
``drift.json`` and one PNG per view into ``--out``, all at once (temp folder, then rename).
"""

from __future__ import annotations

import base64
import itertools
import json
import math
import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from taigimed.artifacts import publish_dir
from taigimed.config import Config
from taigimed.workdir import Workdir

TRAINING_DATASETS = ("stage2_train", "stage1_train")


class DriftError(RuntimeError):
    """The report cannot be built; the message says which input is missing."""


def js_distance(p: dict[str, float], q: dict[str, float]) -> float:
    """Jensen-Shannon distance (base 2, in [0, 1]) between two count or share tables."""
    keys = sorted(set(p) | set(q))
    sp, sq = sum(p.values()) or 1.0, sum(q.values()) or 1.0
    a = [p.get(k, 0) / sp for k in keys]
    b = [q.get(k, 0) / sq for k in keys]
    m = [(x + y) / 2 for x, y in zip(a, b, strict=True)]

    def kl(x: list[float]) -> float:
        return sum(xi * math.log2(xi / mi) for xi, mi in zip(x, m, strict=True) if xi > 0)

    return math.sqrt(max(0.0, (kl(a) + kl(b)) / 2))


def production_inputs(url: str, since_days: float | None) -> list[str]:
    from sqlalchemy import select

    from taigimed.serve.storage.db import make_engine, session_factory
    from taigimed.serve.storage.models import Message

    engine = make_engine(url)
    try:
        with session_factory(engine)() as session:
            query = select(Message.content).where(Message.role == "user")
            if since_days is not None:
                query = query.where(
                    Message.created_at >= datetime.now(UTC) - timedelta(days=since_days)
                )
            return [t for t in session.scalars(query) if t]
    except Exception as exc:  # a missing table or unreachable server: say which database
        raise DriftError(f"cannot read user messages from the serving database: {exc}") from exc
    finally:
        engine.dispose()


def training_inputs(prepared, limit: int, seed: int) -> list[str]:
    """User turns of the training chats (and texts when a set has no chats), seeded sample."""
    texts: list[str] = []
    for name in TRAINING_DATASETS:
        if name not in prepared.names:
            continue
        for rec in prepared.dataset(name):
            if rec.get("kind") == "chat":
                texts.extend(m["content"] for m in rec["messages"] if m["role"] == "user")
            elif rec.get("text"):
                texts.append(rec["text"])
    if not texts:
        raise DriftError(
            f"{prepared.path}: none of {TRAINING_DATASETS} holds any user turns or texts"
        )
    random.Random(seed).shuffle(texts)
    return texts[:limit]


def profile(texts: list[str], cfg: Config, rules) -> dict[str, Any]:
    """Script, length, topic and red-flag (by ``rules``) tables of a list of messages."""
    from taigimed.safety.triage import triage
    from taigimed.text.script import detect_script

    edges = cfg.monitor.drift.length_bins
    scripts, lengths, topics = Counter(), Counter(), Counter()
    red = 0
    for text in texts:
        scripts[detect_script(text).script] += 1
        n = len(text)
        for lo, hi in itertools.pairwise(edges):
            if lo <= n < hi:
                lengths[f"{lo}-{hi}"] += 1
                break
        lowered = text.lower()
        hit = [
            t for t, words in cfg.monitor.drift.topics.items() if any(w in lowered for w in words)
        ]
        topics.update(hit or ["other"])
        red += triage(rules, text).triggered
    return {
        "n": len(texts),
        "script": dict(scripts),
        "length": {
            f"{lo}-{hi}": lengths.get(f"{lo}-{hi}", 0) for lo, hi in itertools.pairwise(edges)
        },
        "topic": dict(topics),
        "red_flag_rate": red / len(texts) if texts else 0.0,
        "mean_length": sum(map(len, texts)) / len(texts) if texts else 0.0,
    }


def _plot(name: str, prod: dict[str, float], train: dict[str, float], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = list(dict.fromkeys([*train, *prod]))
    sp, st = sum(prod.values()) or 1, sum(train.values()) or 1
    x = range(len(keys))
    fig, ax = plt.subplots(figsize=(max(5, len(keys) * 0.8), 3.2))
    ax.bar([i - 0.2 for i in x], [train.get(k, 0) / st for k in keys], 0.4, label="training")
    ax.bar([i + 0.2 for i in x], [prod.get(k, 0) / sp for k in keys], 0.4, label="production")
    ax.set_xticks(list(x), keys, rotation=30, ha="right")
    ax.set_ylabel("share")
    ax.set_title(name)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def drift_report(
    cfg: Config,
    workdir: Workdir,
    out: Path,
    db_url: str | None = None,
    data_dir: Path | None = None,
    since_days: float | None = None,
) -> dict[str, Any]:
    """Build the report into ``out``; returns what ``drift.json`` holds."""
    from taigimed.safety.in_effect import rules_in_effect, rules_path
    from taigimed.serve.storage.db import database_url

    dcfg = cfg.monitor.drift
    url = db_url or database_url(cfg.serve, workdir)
    prod_texts = production_inputs(url, since_days)
    if not prod_texts:
        raise DriftError("the serving database holds no user messages yet (nothing to compare)")
    from taigimed.data.load import PreparedDataError, load_prepared

    try:
        prepared = load_prepared(data_dir if data_dir is not None else workdir)
    except PreparedDataError as exc:
        raise DriftError(str(exc)) from exc
    rules = rules_in_effect(cfg.serve.safety)
    train = profile(training_inputs(prepared, dcfg.sample_training_rows, cfg.seed), cfg, rules)
    prod = profile(prod_texts, cfg, rules)
    distances = {v: js_distance(prod[v], train[v]) for v in ("script", "length", "topic")}
    red_change = prod["red_flag_rate"] - train["red_flag_rate"]
    drifted = {v: d > dcfg.max_js_distance for v, d in distances.items()}
    drifted["red_flag_rate"] = abs(red_change) > dcfg.max_red_flag_rate_change
    report = {
        "created_at": datetime.now(UTC).isoformat(),
        "training_data": str(prepared.path),
        # Which red-flag rules judged both sides: a rate change across rule versions is
        # the rules' doing, not the users'.
        "rules_version": rules.version,
        "rules_path": str(rules_path(cfg.serve.safety)),
        "production": prod,
        "training": train,
        "js_distance": distances,
        "red_flag_rate_change": red_change,
        "drifted": drifted,
        "thresholds": {
            "max_js_distance": dcfg.max_js_distance,
            "max_red_flag_rate_change": dcfg.max_red_flag_rate_change,
        },
    }
    with publish_dir(Path(out).resolve()) as tmp:
        for view in ("script", "length", "topic"):
            _plot(view, prod[view], train[view], tmp / f"{view}.png")
        _plot(
            "red_flag_rate",
            {"red flag": prod["red_flag_rate"], "none": 1 - prod["red_flag_rate"]},
            {"red flag": train["red_flag_rate"], "none": 1 - train["red_flag_rate"]},
            tmp / "red_flag_rate.png",
        )
        (tmp / "drift.json").write_text(
            json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8"
        )
        md = _markdown(report)
        (tmp / "report.md").write_text(md, encoding="utf-8")
        (tmp / "report.html").write_text(_html(md, tmp), encoding="utf-8")
    return report


def _markdown(r: dict[str, Any]) -> str:
    p, t = r["production"], r["training"]
    lines = [
        "# Drift report: production inputs vs training data",
        "",
        f"Created {r['created_at']}; production n={p['n']} user messages, training n={t['n']} "
        f"(sampled from `{r['training_data']}`).",
        "",
        "| view | distance / change | threshold | drifted |",
        "|---|---|---|---|",
    ]
    for view, d in r["js_distance"].items():
        lines.append(
            f"| {view} mix (Jensen-Shannon) | {d:.3f} | {r['thresholds']['max_js_distance']} "
            f"| {'**yes**' if r['drifted'][view] else 'no'} |"
        )
    lines.append(
        f"| red-flag rate | {p['red_flag_rate']:.3f} vs {t['red_flag_rate']:.3f} "
        f"({r['red_flag_rate_change']:+.3f}) | ±{r['thresholds']['max_red_flag_rate_change']} "
        f"| {'**yes**' if r['drifted']['red_flag_rate'] else 'no'} |"
    )
    lines += [
        "",
        f"Red flags by the safety rules version {r['rules_version']} (`{r['rules_path']}`).",
        "",
        f"Mean length: production {p['mean_length']:.1f}, "
        f"training {t['mean_length']:.1f} characters.",
        "",
    ]
    for view in ("script", "length", "topic", "red_flag_rate"):
        lines += [f"## {view}", "", f"![{view}]({view}.png)", ""]
        if view != "red_flag_rate":
            lines += ["| value | training | production |", "|---|---|---|"]
            for k in dict.fromkeys([*t[view], *p[view]]):
                lines.append(f"| {k} | {t[view].get(k, 0)} | {p[view].get(k, 0)} |")
            lines.append("")
    return "\n".join(lines)


def _html(markdown: str, folder: Path) -> str:
    """The Markdown as simple HTML with the plots embedded, so the file travels alone."""
    import html

    body = []
    for line in markdown.splitlines():
        if line.startswith("!["):
            name = line[line.index("(") + 1 : line.index(")")]
            data = base64.b64encode((folder / name).read_bytes()).decode()
            body.append(f'<img alt="{html.escape(name)}" src="data:image/png;base64,{data}">')
        elif line.startswith("# "):
            body.append(f"<h1>{html.escape(line[2:])}</h1>")
        elif line.startswith("## "):
            body.append(f"<h2>{html.escape(line[3:])}</h2>")
        elif line.startswith("|"):
            if set(line) <= set("|-"):
                continue
            cells = "".join(
                f"<td>{html.escape(c.strip())}</td>" for c in line.strip("|").split("|")
            )
            body.append(f"<table><tr>{cells}</tr></table>")
        elif line:
            body.append(f"<p>{html.escape(line)}</p>")
    return "<!doctype html><meta charset='utf-8'><title>TaigiMed drift</title>\n" + "\n".join(body)
