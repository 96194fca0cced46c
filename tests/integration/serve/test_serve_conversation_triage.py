"""A real `taigimed serve` process reads the conversation, not only the last message:
over HTTP (the client resends the history) and over the WebSocket (the server holds it)."""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.slow


def _ask(server, turns: list[tuple[str, str]]) -> dict:
    body = {
        "max_tokens": 4,
        "messages": [{"role": r, "content": c} for r, c in turns],
    }
    r = httpx.post(f"{server.base_url}/v1/chat/completions", json=body, timeout=120)
    assert r.status_code == 200, r.text
    return r.json()


def test_an_emergency_told_across_turns_fires_and_a_settled_one_does_not(tiny_server):
    # The infant's age in turn 1, the fever in turn 3: neither alone is the red flag.
    across = _ask(
        tiny_server,
        [
            ("user", "寶寶兩個月大"),
            ("assistant", "好的，請再多說一點。"),
            ("user", "現在量體溫38.5度"),
        ],
    )
    assert across["taigimed"]["reply_kind"] == "red_flag", across
    assert "child_danger" in across["taigimed"]["meta"]["red_flags"]
    alone = _ask(tiny_server, [("user", "現在量體溫38.5度")])
    assert alone["taigimed"]["reply_kind"] != "red_flag"
    # A hypo corrected in turn 1; turn 2 asks about prevention: the model answers.
    settled = _ask(
        tiny_server,
        [
            ("user", "阿嬤剛剛低血糖，喝了糖水已經好了"),
            ("assistant", "低血糖若叫袂醒，愛隨時敲119。"),  # the assistant's words are no evidence
            ("user", "以後血糖低要怎麼預防？"),
        ],
    )
    assert settled["taigimed"]["reply_kind"] == "model", settled
    # …unless the last turn says it is back.
    again = _ask(
        tiny_server,
        [("user", "我爸三年前裝過心臟支架"), ("user", "他現在又胸口悶，一直冒冷汗")],
    )
    assert again["taigimed"]["reply_kind"] == "red_flag"


def test_a_dosing_question_whose_medicine_is_named_a_turn_earlier(tiny_server):
    body = _ask(
        tiny_server,
        [("user", "我爸在吃華法林"), ("user", "他昨天忘記吃，今天可以吃兩倍嗎？")],
    )
    assert body["taigimed"]["reply_kind"] == "dose_question", body


def test_the_websocket_session_history_is_read(tiny_server):
    import json

    from websockets.sync.client import connect

    url = tiny_server.base_url.replace("http", "ws") + "/v1/chat/ws"
    with connect(url) as ws:
        kinds = []
        for text in ("阮阿嬤有糖尿病，有拍胰島素", "看護講阿嬤一直流汗，手咧掣，叫伊攏無應"):
            ws.send(json.dumps({"type": "message", "content": text, "max_tokens": 4}))
            while True:
                m = json.loads(ws.recv(timeout=120))
                if m["type"] in ("end", "error"):
                    break
            assert m["type"] == "end", m
            kinds.append(m["reply_kind"])
    assert kinds == ["model", "red_flag"]
    assert "hypoglycaemia" in m["meta"]["red_flags"]
