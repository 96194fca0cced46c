"""The GGUF scorer (llama.cpp) against the torch scorer on the same items, and evaluate_model
with ``eval.scorer: gguf`` end to end on the tiny model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from taigimed import chat
from taigimed.evaluate.scoring import generate, score_mcq, text_bits

pytest.importorskip("llama_cpp", reason="llama-cpp-python not installed")

ASSETS = Path(__file__).resolve().parents[2] / "assets" / "evaluate"


def read_asset(name: str) -> list[dict]:
    with (ASSETS / f"{name}.jsonl").open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


@pytest.fixture(scope="module")
def gguf_f32(tiny_model_dir, tmp_path_factory):
    from taigimed.models.gguf_export import export_gguf

    return export_gguf(tiny_model_dir, tmp_path_factory.mktemp("gguf") / "tiny.f32.gguf", "f32")


@pytest.fixture(scope="module")
def gguf_lm(gguf_f32, tiny_model_dir):
    from taigimed.evaluate.scoring_gguf import GGUFModel

    gm = GGUFModel(gguf_f32.path, tiny_model_dir, 512, n_threads=1, batch_sequences=4)
    yield gm
    gm.close()


def _mcq_inputs():
    items = read_asset("medqa_test")
    contexts = [chat.render(chat.mcq_messages(i["question"], i["options"]), True) for i in items]
    conts = [
        [chat.mcq_assistant_answer(k, i["options"]) for k in sorted(i["options"])] for i in items
    ]
    return items, contexts, conts


def test_mcq_logliks_and_answers_match_torch(tiny_lm, gguf_lm):
    _, contexts, conts = _mcq_inputs()
    ref = score_mcq(tiny_lm, contexts, conts, batch_questions=1, gen_tokens=6)
    got = score_mcq(gguf_lm, contexts, conts, gen_tokens=6)
    a = np.array([s.logliks for s in ref])
    b = np.array([s.logliks for s in got])
    assert np.abs(a - b).max() < 1e-3
    assert (a.argmax(1) == b.argmax(1)).all()  # same predicted letter: same accuracy
    assert [s.generated for s in ref] == [s.generated for s in got]


def test_text_bits_and_generation_match_torch(tiny_lm, gguf_lm):
    texts = [r["han"] for r in read_asset("taigi_test")]
    np.testing.assert_allclose(text_bits(gguf_lm, texts), text_bits(tiny_lm, texts), rtol=1e-4)
    prompts = [chat.render([{"role": "user", "content": t}], True) for t in texts]
    limits = [3, 9, 1, 12, 5, 7]
    ref = generate(tiny_lm, prompts, 12, batch_size=4, limits=limits)
    got = generate(gguf_lm, prompts, 12, batch_size=4, limits=limits)
    assert got == ref


def test_crosscheck_states_greedy_agreement_and_logprob_differences(tiny_model_dir, gguf_f32):
    from taigimed.evaluate.crosscheck_gguf import crosscheck_gguf

    prompts = [
        chat.render([{"role": "user", "content": r["han"]}], True) for r in read_asset("taigi_test")
    ]
    result = crosscheck_gguf(tiny_model_dir, gguf_f32.path, prompts[:4], max_new_tokens=8)
    assert result["greedy_equal"] == 4 and not result["mismatches"]
    assert result["logprob_abs_diff"]["tokens"] > 0
    assert result["logprob_abs_diff"]["max"] < 1e-3


def test_missing_gguf_file_is_named(tiny_model_dir, tmp_path):
    from taigimed.evaluate.scoring_gguf import GGUFModel

    with pytest.raises(FileNotFoundError, match=r"nothing\.gguf"):
        GGUFModel(tmp_path / "nothing.gguf", tiny_model_dir, 512)


def test_evaluate_model_with_gguf_scorer_equals_torch(tiny_model_dir, prepared_dir, tmp_path):
    from taigimed.config import load_config
    from taigimed.evaluate import evaluate_model

    extra = [ASSETS / "medqa_test.jsonl"]
    reports = {}
    for scorer in ("torch", "gguf"):
        cfg = load_config(
            "tiny", [f"eval.scorer={scorer}", "eval.gguf_type=f32", "eval.batch_questions=1"]
        )
        reports[scorer] = evaluate_model(
            cfg,
            tmp_path / "wd",
            tiny_model_dir,
            tmp_path / f"{scorer}.json",
            extra_mcq=extra,
            data_dir=prepared_dir,
        )
    # The export the scorer made is kept beside the model for serving and the registry.
    assert (tiny_model_dir.parent / "gguf" / f"{tiny_model_dir.name}.f32.gguf").exists()
    for name, res in reports["torch"]["sets"].items():
        for metric in ("acc", "acc_norm"):
            if metric in res["metrics"]:
                got = reports["gguf"]["sets"][name]["metrics"][metric]["value"]
                assert got == res["metrics"][metric]["value"], (name, metric)
