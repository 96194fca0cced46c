"""`taigimed knowledge eval | medrag | grounding`: evaluation's commands in the knowledge group.

They score the knowledge build (``evaluate/knowledge.py``, ``evaluate/medrag.py``), so they
live with evaluation; ``evaluate.cli.register`` adds them to the `knowledge` group.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from taigimed.cli_options import ConfigOpt, SetOpt, WorkdirOpt, load, workdir
from taigimed.knowledge.cli import open_or_exit


def register(knowledge_app: typer.Typer) -> None:
    knowledge_app.command("eval")(eval_cmd)
    knowledge_app.command("medrag")(medrag_cmd)
    knowledge_app.command("grounding")(grounding_cmd)


def eval_cmd(
    config: ConfigOpt = None,
    set_: SetOpt = None,
    workdir_: WorkdirOpt = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write the report here.")] = None,
) -> None:
    """Retrieval recall@1/@3, MRR and abstention per script on each question set (dev, the
    v1 regression set, the v2 held-out set the gate judges, the v3 held-out set), and the
    rubric recall of `cards`-mode answers, with 95 % intervals.

    taigimed knowledge eval --out knowledge-report.json
    """
    from taigimed.artifacts import write_json_atomic
    from taigimed.evaluate.knowledge import QUESTION_SETS, evaluate_knowledge

    cfg = load(config, set_)
    kb = open_or_exit(cfg, workdir(workdir_))
    report = evaluate_knowledge(
        kb, cfg.knowledge.top_k, cfg.knowledge.min_score, cfg.eval.bootstrap_samples, cfg.seed
    )
    for name in QUESTION_SETS:
        typer.echo(f"{name}:")
        for script, m in [("all", report[name]["overall"]), *report[name]["by_script"].items()]:
            typer.echo("  " + _row(script, m))
    rub = report["served_rubric"]
    typer.echo(
        f"served answers (cards mode), open questions: rubric recall "
        f"{_fmt(rub['rubric_recall'])}, violations {_fmt(rub['rubric_violations'])}"
    )
    if out:
        write_json_atomic(out, report)
        typer.echo(f"report: {out}")


def medrag_cmd(
    model: Annotated[str, typer.Option("--model", "-m", help="Model folder, alias or version.")],
    n: Annotated[int | None, typer.Option("--n", help="MedQA-TW test items (all: omit).")] = None,
    k: Annotated[int, typer.Option("--k", help="Textbook chunks placed before each.")] = 3,
    out: Annotated[Path | None, typer.Option("--out", help="Write the report here.")] = None,
    config: ConfigOpt = None,
    set_: SetOpt = None,
    workdir_: WorkdirOpt = None,
) -> None:
    """MedQA-TW closed book against open book on the prepared textbooks, paired
    (evaluate/medrag.py: the MedRAG-style cross-check; the harness for gpu-7b).

    taigimed knowledge medrag --model staging --n 100 --out medrag.json
    """
    from taigimed.artifacts import write_json_atomic
    from taigimed.evaluate.cli import _resolve
    from taigimed.evaluate.medrag import medrag_crosscheck

    cfg = load(config, set_)
    wd = workdir(workdir_)
    report = medrag_crosscheck(cfg, wd, _resolve(wd, cfg, model), n, k)
    p = report["paired"]
    typer.echo(
        f"MedQA-TW n={report['n']}: closed book acc {_fmt(report['closed_book']['acc'])}, "
        f"open book (k={k} of {report['textbook_chunks']} chunks) acc "
        f"{_fmt(report['open_book']['acc'])}; paired difference {p['diff']:+.3f} "
        f"(open only {p['b_only']}, closed only {p['a_only']}, McNemar p={p['p_value']:.3f})"
    )
    if out:
        write_json_atomic(out, report)


def grounding_cmd(
    model: Annotated[str, typer.Option("--model", "-m", help="Model folder, alias or version.")],
    n: Annotated[int, typer.Option("--n", help="Held-out on-topic questions asked.")] = 30,
    out: Annotated[Path | None, typer.Option("--out", help="Write the report here.")] = None,
    config: ConfigOpt = None,
    set_: SetOpt = None,
    workdir_: WorkdirOpt = None,
) -> None:
    """The grounding rate of a model in `rag` mode: the share of its answers the answer guard
    shows whole (evaluate/knowledge.py).

    taigimed knowledge grounding --model staging --n 30
    """
    from taigimed.artifacts import write_json_atomic
    from taigimed.evaluate.cli import _resolve
    from taigimed.evaluate.eval_sets import stratified_sample
    from taigimed.evaluate.knowledge import QUESTION_SETS, load_questions, rag_grounding
    from taigimed.evaluate.scoring import load_model

    cfg = load(config, set_)
    wd = workdir(workdir_)
    kb = open_or_exit(cfg, wd)
    rows = [r for r in load_questions(QUESTION_SETS["heldout"], set(kb.cards)) if r["cards"]]
    rows = stratified_sample(rows, n, cfg.seed, lambda r: r["script"])  # every script
    lm = load_model(
        _resolve(wd, cfg, model),
        cfg.eval.dtype or cfg.model.dtype,
        cfg.model.max_context,
        cfg.model.trust_remote_code,
    )
    k = cfg.knowledge
    report = rag_grounding(
        kb, lm, rows, k.top_k, k.min_score, cfg.serve.rag_min_support,
        n_resamples=cfg.eval.bootstrap_samples, seed=cfg.seed,
    )  # fmt: skip
    typer.echo(
        f"rag answers n={report['n']}: grounding rate {_fmt(report['grounding_rate'])}; "
        f"verdicts {report['verdicts']}"
    )
    if out:
        write_json_atomic(out, report)


def _fmt(m) -> str:
    if m is None:
        return "—"
    return f"{m['value']:.3f} [{m['ci_low']:.2f}, {m['ci_high']:.2f}]"


def _row(script: str, m: dict) -> str:
    return (
        f"{script:22s} n={m['n_on_topic']:3d}+{m['n_off_topic']:2d}  r@1 {_fmt(m['recall@1'])}  "
        f"r@3 {_fmt(m['recall@3'])}  mrr {_fmt(m['mrr'])}  "
        f"abst.prec {_fmt(m['abstention_precision'])}  abst.rec {_fmt(m['abstention_recall'])}"
    )
