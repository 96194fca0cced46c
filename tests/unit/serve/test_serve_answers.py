"""The answer modes through the real app: cards, rag and model, with the answer guard.

The cards come from tests/assets/cards. ``ReplayEngine`` stands in for the model only: it
streams text SmolLM2-135M really answered on CPU (issue 20), so the guard is tested on the
degenerate output patients were shown, and it records the prompt it was given.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

import pytest

from taigimed.config import load_config
from taigimed.serve.engines.base import Engine, EngineInfo, GenerationParams, TokenEvent

TAIGI_Q = "阮阿母血壓傷懸，平常食物愛注意啥物？"
# SmolLM2-135M-Instruct through `taigimed serve` on CPU (issue 20).
CPU_LOOP = "阮阿母血壓傷懸，是一種病患者的感慨感慨的感慨感慨的感慨。感慨感慨的感慨感慨的感慨。"
CPU_ECHO = "阮阿母血壓傷懸，平常食物愛注意啥物？阮阿母血壓傷懸，平常食物愛注意啥物？"
GROUNDED = "血壓懸的人愛食較汫，較少食鹹的、醃的佮加工的食物 [1]。"


class ReplayEngine(Engine):
    def __init__(self, text: str):
        self.text = text
        self.prompts: list[list[dict]] = []
        self.info = EngineInfo("replay", "replay", "replay-v1", "a test", 2048)

    async def warmup(self) -> None:
        return None

    async def health(self) -> bool:
        return True

    async def generate_stream(
        self, prompt_messages: Sequence[dict[str, str]], params: GenerationParams
    ) -> AsyncIterator[TokenEvent]:
        self.prompts.append(list(prompt_messages))
        for i in range(0, len(self.text), 3):
            await asyncio.sleep(0)
            yield TokenEvent(self.text[i : i + 3])
        yield TokenEvent("", "stop", 10, len(self.text) // 3)

    def count_tokens(self, prompt_messages: Sequence[dict[str, str]]) -> int:
        return sum(len(m["content"]) for m in prompt_messages) // 2


@pytest.fixture()
def answer_client(test_kb, tmp_path):
    """``answer_client(mode, engine=None, **serve)`` → a ready TestClient on the test cards."""
    from fastapi.testclient import TestClient

    from taigimed.serve.app import create_app, default_hooks

    clients = []

    def factory(mode: str, engine: Engine | None = None, **serve):
        # the shipped answer decision, with its own threshold, on the three test cards
        overrides = [f"serve.answer_mode={mode}", "serve.answer_guard=true"]
        cfg = load_config("tiny", overrides)
        for key, value in serve.items():
            setattr(cfg.serve, key, value)
        engine = engine or ReplayEngine(GROUNDED)
        app = create_app(cfg, tmp_path / "work", engine=engine, hooks=default_hooks(cfg, test_kb))
        client = TestClient(app)
        client.__enter__()
        clients.append(client)
        return client

    yield factory
    for c in clients:
        c.__exit__(None, None, None)


def _ask(client, text: str, **body):
    r = client.post(
        "/v1/chat/completions", json={"messages": [{"role": "user", "content": text}], **body}
    )
    assert r.status_code == 200, r.text
    return r.json()


def test_cards_mode_answers_with_the_card_in_the_users_script_and_its_source(answer_client):
    engine = ReplayEngine("never used")
    client = answer_client("cards", engine)
    out = _ask(client, TAIGI_Q)
    text = out["choices"][0]["message"]["content"]
    assert text.startswith("血壓懸的人愛食較汫")
    assert "資料來源：衛生福利部國民健康署〈高血壓防治〉" in text
    assert "猶未予醫生審過" in text and "毋是診斷" in text  # unreviewed, and the disclaimer
    info = out["taigimed"]
    assert info["reply_kind"] == "card"
    assert info["sources"][0]["card_id"] == "test-hypertension-salt"
    assert info["sources"][0]["reviewed"] is False
    assert engine.prompts == []  # the model never ran

    mandarin = _ask(client, "我媽媽血壓很高，吃東西要注意什麼？")["choices"][0]["message"][
        "content"
    ]
    assert mandarin.startswith("血壓高的人要少吃鹽") and "尚未經醫師審閱" in mandarin
    poj = _ask(client, "Góa ê a-bú hoeh-ap koân, chia̍h-mi̍h ài chù-ì sáⁿ-mih?")
    assert poj["choices"][0]["message"]["content"].startswith("Hoeh-ap koân ê lâng")
    simplified = _ask(client, "我妈妈血压很高，吃东西要注意什么？")
    assert simplified["choices"][0]["message"]["content"].startswith("血压高的人要少吃盐")


def test_no_close_card_gets_the_honest_reply(answer_client):
    client = answer_client("cards")
    out = _ask(client, "明天會不會下雨？要不要帶傘出門？")
    assert out["taigimed"]["reply_kind"] == "no_card"
    assert out["taigimed"]["sources"] == []
    text = out["choices"][0]["message"]["content"]
    assert "沒有經過審核的衛教資料" in text and "1966" in text


def test_triage_and_dosing_stay_in_front_of_the_cards(answer_client):
    client = answer_client("cards")
    emergency = _ask(client, "我爸爸突然倒在地上，叫他都沒有反應，也沒有呼吸")
    assert emergency["taigimed"]["reply_kind"] == "red_flag"
    dose = _ask(client, "我的降血壓藥一次要吃幾顆？")
    assert dose["taigimed"]["reply_kind"] == "dose_question"


@pytest.mark.parametrize(("cpu_text", "cut"), [(CPU_LOOP, "loop"), (CPU_ECHO, "echo")])
@pytest.mark.parametrize("mode", ["rag", "model"])
def test_the_cpu_models_loops_and_echoes_never_reach_the_patient(
    answer_client, mode, cpu_text, cut
):
    client = answer_client(mode, ReplayEngine(cpu_text))
    out = _ask(client, TAIGI_Q)
    text = out["choices"][0]["message"]["content"]
    assert "感慨感慨" not in text
    assert text.count("平常食物愛注意啥物") == 0
    assert text.startswith("血壓懸的人愛食較汫")  # the card replaces it
    assert out["taigimed"]["meta"]["answer_cut"] == cut
    assert out["taigimed"]["sources"][0]["card_id"] == "test-hypertension-salt"
    stream = client.post(
        "/v1/chat/completions",
        json={"messages": [{"role": "user", "content": TAIGI_Q}], "stream": True},
    )
    assert "感慨感慨" not in stream.text and "血壓懸的人愛食較汫" in stream.text


def test_rag_puts_the_cards_in_the_prompt_and_shows_a_supported_answer(answer_client):
    engine = ReplayEngine(GROUNDED)
    client = answer_client("rag", engine)
    out = _ask(client, TAIGI_Q)
    text = out["choices"][0]["message"]["content"]
    assert text.startswith(GROUNDED)
    assert "answer_cut" not in out["taigimed"]["meta"]
    assert out["taigimed"]["sources"][0]["card_id"] == "test-hypertension-salt"
    system = engine.prompts[0][0]
    assert (
        system["role"] == "system" and "[1] 血壓懸，食較汫：血壓懸的人愛食較汫" in system["content"]
    )


def test_rag_replaces_an_unsupported_answer(answer_client):
    client = answer_client("rag", ReplayEngine("你會使去夜市買臭豆腐佮珍珠奶茶，食了心情會較好。"))
    out = _ask(client, TAIGI_Q)
    assert out["taigimed"]["meta"]["answer_cut"] == "unsupported"
    assert out["choices"][0]["message"]["content"].startswith("血壓懸的人愛食較汫")


def test_the_websocket_end_carries_the_sources(answer_client):
    from support import ws_turn

    client = answer_client("cards")
    with client.websocket_connect("/v1/chat/ws") as ws:
        assert ws.receive_json()["type"] == "session"
        text, end = ws_turn(ws, TAIGI_Q)
    assert text.startswith("血壓懸的人愛食較汫")
    assert end["reply_kind"] == "card"
    assert end["sources"][0]["card_id"] == "test-hypertension-salt"


def test_a_wrong_report_puts_the_card_in_the_review_queue(answer_client, tmp_path):
    from taigimed.serve.storage import db
    from taigimed.serve.storage.feedback import card_review_queue

    client = answer_client("cards")
    out = _ask(client, TAIGI_Q)
    r = client.post(
        "/v1/feedback",
        json={"response_id": out["id"], "inaccuracy": {"category": "medically_wrong"}},
    )
    assert r.status_code == 200, r.text
    other = _ask(client, "我想戒菸，有專線嗎？")
    client.post("/v1/feedback", json={"response_id": other["id"], "thumbs": "up"})
    url = client.app.state.taigimed.database_url
    with db.session_factory(db.make_engine(url))() as session:
        queue = card_review_queue(session)
    assert [(q["card_id"], q["inaccuracy"]) for q in queue] == [("test-hypertension-salt", 1)]


@pytest.fixture()
def eager_classifier(tmp_path):
    """The shipped triage classifier with its threshold at 0 and no second readings: it
    takes every message for an emergency, as it wrongly takes some everyday ones."""
    import json

    from taigimed.safety.classifier import MODEL_PATH

    tree = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
    tree["threshold"] = 0.0
    tree.pop("everyday", None)
    tree.pop("syllables", None)
    path = tmp_path / "eager.json"
    path.write_text(json.dumps(tree, ensure_ascii=False), encoding="utf-8")
    return str(path)


def test_an_alarm_only_the_classifier_raised_carries_the_card(answer_client, eager_classifier):
    """The 119 notice stays first; the vetted card for the message follows it, with its
    source. An alarm the rules raised, and a message no card answers, get the notice alone.
    Broken input: ``model`` mode, which shows no card, answers with the notice alone."""
    safety = load_config("tiny").serve.safety.model_copy(
        update={"classifier": True, "classifier_path": eager_classifier}
    )
    client = answer_client("cards", safety=safety)
    statement = "阮阿母血壓傷懸"  # a statement: an everyday question is never the classifier's
    out = _ask(client, statement)
    info, text = out["taigimed"], out["choices"][0]["message"]["content"]
    assert info["reply_kind"] == "red_flag"
    assert info["triggers"][-1]["rule_id"].endswith(":classifier")
    assert text.index("119") < text.index("若毋是這馬當咧發生的緊急狀況") < text.index("血壓懸的人")
    assert [s["card_id"] for s in info["sources"]] == ["test-hypertension-salt"]

    by_rules = _ask(client, "我爸爸突然倒在地上，叫他都沒有反應，也沒有呼吸")
    assert by_rules["taigimed"]["reply_kind"] == "red_flag"
    assert by_rules["taigimed"]["sources"] == []
    assert "緊急狀況，以下是一般衛教資訊" not in by_rules["choices"][0]["message"]["content"]
    no_card = _ask(client, "我明天要去台北")  # a statement no card answers
    assert no_card["taigimed"]["reply_kind"] == "red_flag"
    assert no_card["taigimed"]["sources"] == []

    model = answer_client("model", ReplayEngine(GROUNDED), safety=safety)
    plain = _ask(model, statement)
    assert plain["taigimed"]["reply_kind"] == "red_flag"
    assert plain["taigimed"]["sources"] == []
