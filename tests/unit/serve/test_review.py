"""Clinician review mode: answers held, the queue API, and the user's later fetch."""

from __future__ import annotations

from support import ws_turn
from taigimed.safety.config import SafetyConfig
from taigimed.safety.rules import load_rules
from taigimed.serve.safety_layer import safety_hooks

RULES = load_rules()
TOKEN = "unit-review-token-0123456789abcdef"


def test_review_all_hold_approve_edit_reject(make_client, monkeypatch):
    monkeypatch.setenv("TAIGIMED_REVIEW_TOKEN", TOKEN)
    cfg = SafetyConfig(review_mode="all")
    client = make_client(hooks=safety_hooks(cfg), safety=cfg)
    st = client.app.state.taigimed
    with client.websocket_connect("/v1/chat/ws") as ws:
        ws.receive_json()
        ids = []
        for q in ("感冒欲按怎照顧？", "gua2 thau5-khak4 thiann3", "頭痛怎麼辦？"):
            text, end = ws_turn(ws, q, max_tokens=6)
            assert end["reply_kind"] == "review_pending" and end["review_status"] == "pending"
            ids.append(end["id"])
        assert text == RULES.reply("review_pending", "mandarin_traditional")
    st.writer.flush()
    hdr = {"X-Review-Token": TOKEN}

    assert client.get("/v1/review/queue").status_code == 401  # clinicians only
    queue = client.get("/v1/review/queue", headers=hdr).json()
    assert [h["response_id"] for h in queue] == ids
    assert queue[0]["question"] == "感冒欲按怎照顧？" and queue[0]["script"] == "taigi_han"
    assert RULES.reply("disclaimer", "taigi_han") in queue[0]["answer"]  # the full held answer

    pending = client.get(f"/v1/answers/{ids[0]}").json()  # the user's client, before review
    assert pending["text"] is None and pending["notice"] == RULES.reply(
        "review_pending", "taigi_han"
    )

    r = client.post(
        f"/v1/review/{ids[0]}", json={"action": "approve", "reviewer": "dr.lin"}, headers=hdr
    )
    assert r.status_code == 200 and r.json()["reviewer"] == "dr.lin" and r.json()["reviewed_at"]
    assert client.get(f"/v1/answers/{ids[0]}").json()["text"] == queue[0]["answer"]

    r = client.post(
        f"/v1/review/{ids[1]}",
        json={"action": "edit", "reviewer": "rn.tan", "text": "加減歇睏，啉水。"},
        headers=hdr,
    )
    assert r.json()["status"] == "edited"
    released = client.get(f"/v1/answers/{ids[1]}").json()["text"]
    # The edit gets the same answer-side safety as a model answer: the disclaimer too.
    assert released.startswith("加減歇睏，啉水。") and released != "加減歇睏，啉水。"

    client.post(
        f"/v1/review/{ids[2]}", json={"action": "reject", "reviewer": "dr.lin"}, headers=hdr
    )
    got = client.get(f"/v1/answers/{ids[2]}").json()
    assert got["text"] is None and got["notice"] == RULES.reply(
        "review_rejected", "mandarin_traditional"
    )

    # Bad decisions get a 4xx naming the problem.
    again = client.post(
        f"/v1/review/{ids[0]}", json={"action": "reject", "reviewer": "x"}, headers=hdr
    )
    assert (
        again.status_code == 409
        and "already approved by dr.lin" in again.json()["error"]["message"]
    )
    edit = client.post(
        f"/v1/review/{ids[0]}", json={"action": "edit", "reviewer": "x"}, headers=hdr
    )
    assert edit.status_code in (400, 409)
    assert (
        client.post(
            "/v1/review/nope", json={"action": "approve", "reviewer": "x"}, headers=hdr
        ).status_code
        == 404
    )
    assert client.get("/v1/review/queue", headers=hdr).json() == []
    done = client.get("/v1/review/queue?status=all", headers=hdr).json()
    assert {h["status"] for h in done} == {"approved", "edited", "rejected"}
    assert st.writer.failures == 0  # refused decisions are not storage failures


def test_review_flagged_holds_only_flagged(make_client, monkeypatch):
    monkeypatch.setenv("TAIGIMED_REVIEW_TOKEN", TOKEN)
    cfg = SafetyConfig(review_mode="flagged")
    client = make_client(hooks=safety_hooks(cfg), safety=cfg)
    with client.websocket_connect("/v1/chat/ws") as ws:
        ws.receive_json()
        _, plain = ws_turn(ws, "今仔日天氣真好", max_tokens=6)
        _, medicine = ws_turn(ws, "降血壓的藥仔有啥物副作用？", max_tokens=6)
        _, negated = ws_turn(ws, "我無胸坎疼", max_tokens=6)
        _, emergency = ws_turn(ws, "我胸坎真疼", max_tokens=6)
    assert plain["reply_kind"] == "model"
    assert medicine["reply_kind"] == negated["reply_kind"] == "review_pending"
    assert emergency["reply_kind"] == "red_flag"  # emergencies are never held


def test_one_rule_file_in_effect_for_triage_holding_and_the_users_notice(
    make_client, monkeypatch, tmp_path
):
    """``serve.safety.rules_path`` reaches every reader through ``safety.in_effect``: the
    triggers' version, the hold notice and the notice ``/v1/answers`` gives later."""
    from taigimed.safety.rules import DEFAULT_RULES

    monkeypatch.setenv("TAIGIMED_REVIEW_TOKEN", TOKEN)
    theirs = "院方版本：回答審查中。"
    text = DEFAULT_RULES.read_text(encoding="utf-8")
    text = text.replace(f"version: {RULES.version}", "version: 2099.1.1", 1)
    text = text.replace(RULES.reply("review_pending", "taigi_han"), theirs, 1)
    rules_file = tmp_path / "clinic.yaml"
    rules_file.write_text(text, encoding="utf-8")
    # The shipped classifier and dosing reading were built for the shipped rules: with these
    # they cannot run.
    cfg = SafetyConfig(
        review_mode="all", rules_path=str(rules_file), classifier=False, dose_reading=False
    )
    client = make_client(hooks=safety_hooks(cfg), safety=cfg)
    with client.websocket_connect("/v1/chat/ws") as ws:
        ws.receive_json()
        held, end = ws_turn(ws, "感冒欲按怎照顧？", max_tokens=6)
        _, emergency = ws_turn(ws, "我胸坎真疼", max_tokens=6)
    assert held == theirs and end["meta"]["rules_version"] == "2099.1.1"
    assert emergency["triggers"][0]["rule_id"].startswith("2099.1.1:")
    client.app.state.taigimed.writer.flush()
    assert client.get(f"/v1/answers/{end['id']}").json()["notice"] == theirs
