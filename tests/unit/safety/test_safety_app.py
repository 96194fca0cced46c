"""The safety layer inside the real app (tiny model): triage, disclaimer, storage, metrics."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from support import ws_turn
from taigimed.config import load_config
from taigimed.safety.config import SafetyConfig
from taigimed.safety.rules import load_rules
from taigimed.serve.app import default_hooks
from taigimed.serve.safety_layer import safety_hooks
from taigimed.serve.storage.models import Message, SafetyEvent

RULES = load_rules()


def test_default_hooks_are_the_safety_layer():
    hooks = default_hooks(load_config("tiny"))
    assert hooks.standardizers and hooks.pre_model and hooks.post_model
    assert not safety_hooks(SafetyConfig(enabled=False)).pre_model


def test_the_hook_interface_imports_no_implementation():
    # hooks.py is the interface the safety layer builds on: no import of safety, even a late one.
    import ast

    import taigimed.serve.hooks as hooks_module

    tree = ast.parse(Path(hooks_module.__file__).read_text(encoding="utf-8"))
    imported = [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    imported += [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    assert not [m for m in imported if m.startswith("taigimed.safety")], imported


def test_red_flag_answers_at_once_and_is_recorded(make_client):
    client = make_client(hooks=safety_hooks(SafetyConfig()))
    st = client.app.state.taigimed
    with client.websocket_connect("/v1/chat/ws") as ws:
        ws.receive_json()  # session
        text, end = ws_turn(ws, "gua2 hing1-kham2 tsin1 thiann3, tshuan2 be7 kue3--lai5")
        assert end["reply_kind"] == "red_flag"
        assert "khà 119" in text  # answered in Tâi-lô, the user's script
        assert {t["category"] for t in end["triggers"]} >= {"chest_pain", "breathing"}
        assert end["meta"]["script"] == "tailo" and end["meta"]["rules_version"] == RULES.version
        # The answer is already romanised: no second Tâi-lô line.
        assert "answer_tailo" not in end["meta"]
        assert all(t["detail"].startswith("path: ") for t in end["triggers"])
        text, end = ws_turn(ws, "我想欲自殺")
        assert "1925" in text and "119" in text and end["reply_kind"] == "red_flag"
        assert "119" in end["meta"]["answer_tailo"]  # Taigi Han answer: the Tâi-lô line
        assert end["meta"]["triage_path"] in ("rules", "both")
    st.writer.flush()
    with st.sessions_factory() as s:
        events = s.scalars(select(SafetyEvent)).all()
        assert {e.category for e in events} >= {"chest_pain", "breathing", "suicide"}
        assert all(e.rule_id.startswith(RULES.version) for e in events)
        user = s.scalars(select(Message).where(Message.role == "user")).first()
        assert user.content == "guá hing-khám tsin thiànn, tshuán bē kuè--lâi"  # standardised
        assert user.raw_content.startswith("gua2")
    metrics = client.get("/metrics").text
    assert 'category="suicide"' in metrics and "taigimed:safety_triggers" in metrics


def test_model_answer_carries_disclaimer_and_tailo(make_client):
    client = make_client(hooks=safety_hooks(SafetyConfig()))
    with client.websocket_connect("/v1/chat/ws") as ws:
        ws.receive_json()
        text, end = ws_turn(ws, "我無胸坎疼，干焦咳嗽")  # negated: goes to the model
        assert end["reply_kind"] == "model"
        assert text.rstrip().endswith(RULES.reply("disclaimer", "taigi_han"))
        assert end["meta"]["answer_tailo"]
        assert "chest_pain:negation" in end["meta"]["red_flag_suppressed"]
    r = client.post(
        "/v1/chat/completions",
        json={"model": "tiny", "messages": [{"role": "user", "content": "我胸口很痛，喘不过气"}]},
    )
    body = r.json()
    assert r.status_code == 200 and body["taigimed"]["reply_kind"] == "red_flag"
    assert "拨打 119" in body["choices"][0]["message"]["content"]
    assert "answer_tailo" not in body["taigimed"]["meta"]  # Mandarin: no Tâi-lô reading


@pytest.mark.parametrize(
    ("text", "marker"),
    [
        ("普拿疼一天最多可以吃幾顆？", "藥師"),
        ("血壓藥袂記得食，會當食雙倍無？", "藥師"),
        ("Hueh-ap io̍h ē-tàng tsia̍h siang-puē bô?", "io̍h-su"),
        ("Hoeh-ap io̍h ē-tàng chia̍h kúi lia̍p?", "io̍h-su"),
        ("Kam2-moo7 ioh8-a2 tsit8-pai2 tsiah8 kui2 liap8?", "io̍h-su"),
        ("阿公 ê 血壓藥 ē-tàng 停 tsi̍t-kang 無？", "藥師"),
    ],
)
def test_dose_question_never_reaches_the_model(make_client, text, marker):
    client = make_client(hooks=safety_hooks(SafetyConfig()))
    st = client.app.state.taigimed
    with client.websocket_connect("/v1/chat/ws") as ws:
        ws.receive_json()
        answer, end = ws_turn(ws, text)
    assert end["reply_kind"] == "dose_question", answer
    assert marker in answer and not re.search(r"\d", answer.split("\n")[0])
    st.writer.flush()
    with st.sessions_factory() as s:
        assert [e.category for e in s.scalars(select(SafetyEvent)).all()] == ["dose_question"]


def test_dose_question_hook_can_be_switched_off(make_client):
    client = make_client(hooks=safety_hooks(SafetyConfig(dose_questions=False)))
    with client.websocket_connect("/v1/chat/ws") as ws:
        ws.receive_json()
        _, end = ws_turn(ws, "普拿疼一天最多可以吃幾顆？")
    assert end["reply_kind"] == "model"
