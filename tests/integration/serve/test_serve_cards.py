"""`taigimed serve` in `cards` mode as a real process, asked by the real openai client and a
WebSocket in every script: answers are the shipped demo cards, with their sources."""

from __future__ import annotations

import json

import openai
import pytest
from websockets.sync.client import connect

from support import start_serve, stop

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cards_server(tmp_path_factory):
    sets = ["serve.answer_mode=cards", "serve.answer_guard=true"]
    args = [x for s in sets for x in ("--set", s)]
    server = start_serve(tmp_path_factory.mktemp("serve") / "work", "--config", "tiny", *args)
    yield server
    stop(server.proc)


@pytest.mark.parametrize(
    ("question", "cards"),
    [
        ("高血壓的人飲食要注意什麼？", {"hypertension-salt"}),
        ("糖尿病的人，跤愛按怎顧？", {"diabetes-foot-care", "diabetes-daily-care"}),
        ("Guá kha-thâu-u tsiok thiànn, ài án-tsuánn pó-ióng?", {"knee-osteoarthritis"}),
        ("我爸爸最近常常忘记事情，还会迷路，是不是老人痴呆？", {"dementia-warning-signs"}),
    ],
)
def test_a_question_gets_its_card_and_source_through_the_openai_client(
    cards_server, question, cards
):
    client = openai.OpenAI(base_url=f"{cards_server.base_url}/v1", api_key="x", max_retries=0)
    resp = client.chat.completions.create(
        model="tiny-random", messages=[{"role": "user", "content": question}]
    )
    info = resp.model_extra["taigimed"]
    assert info["reply_kind"] == "card", info
    assert info["sources"][0]["card_id"] in cards
    text = resp.choices[0].message.content
    source = info["sources"][0]
    assert f"{source['publisher']}〈{source['source_title']}〉" in text  # the citation line
    assert source["url"] in text and source["reviewed"] is False


def test_off_topic_gets_the_honest_reply_and_the_stream_carries_sources(cards_server):
    client = openai.OpenAI(base_url=f"{cards_server.base_url}/v1", api_key="x", max_retries=0)
    resp = client.chat.completions.create(
        model="tiny-random",
        messages=[{"role": "user", "content": "明天台北會下雨嗎？要不要帶雨傘？"}],
    )
    assert resp.model_extra["taigimed"]["reply_kind"] == "no_card"
    assert "1966" in resp.choices[0].message.content
    chunks = list(
        client.chat.completions.create(
            model="tiny-random",
            messages=[{"role": "user", "content": "我想戒菸，可以打什麼專線？"}],
            stream=True,
        )
    )
    last = chunks[-1].model_extra["taigimed"]
    assert last["reply_kind"] == "card" and last["sources"][0]["card_id"] == "quit-smoking"


def test_the_websocket_end_message_carries_the_card(cards_server):
    url = cards_server.base_url.replace("http", "ws") + "/v1/chat/ws"
    with connect(url) as ws:
        assert json.loads(ws.recv())["type"] == "session"
        ws.send(
            json.dumps(
                {
                    "type": "message",
                    "content": "Guá ê a-bú hueh-ap kuân, tsia̍h-mi̍h ài tsù-ì siánn-mih?",
                }
            )
        )
        while (m := json.loads(ws.recv()))["type"] != "end":
            assert m["type"] in ("start", "token")
    assert m["reply_kind"] == "card"
    assert m["sources"][0]["card_id"].startswith("hypertension")
