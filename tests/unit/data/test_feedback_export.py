"""The feedback export on a database filled by the real server: chats, feedback and clinician
reviews go in through the API; a scrubbed, versioned dataset comes out."""

from __future__ import annotations

import json
import time

import pytest
from datasets import load_from_disk
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from taigimed.cli import app as cli_app
from taigimed.config import load_config
from taigimed.data.feedback_export import FeedbackExportError, export_feedback
from taigimed.serve.app import create_app
from taigimed.serve.engines.builtin import BuiltinEngine
from taigimed.workdir import Workdir

REVIEW_TOKEN = "unit-test-review-token-0123456789abcdef"
PII = ["0912-345-678", "0912345678", "A123456789", "陳大明", "lin.mei@example.com"]


def _ready(client: TestClient) -> None:
    deadline = time.monotonic() + 60
    while client.get("/readyz").status_code != 200:
        assert time.monotonic() < deadline, client.get("/readyz").json()
        time.sleep(0.05)


@pytest.fixture(scope="module")
def filled_workdir(tmp_path_factory, tiny_model_dir):
    """A work directory whose serving database holds five reviewed or rated answers."""
    root = tmp_path_factory.mktemp("fb") / "work"
    cfg = load_config("tiny")
    cfg.serve.safety.review_mode = "all"  # every answer waits for a clinician
    # Review needs a reviewer credential, or the server refuses to start.
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(cfg.serve.safety.review_token_env, REVIEW_TOKEN)
        return _fill(root, cfg, tiny_model_dir)


def _fill(root, cfg, tiny_model_dir):
    engine = BuiltinEngine(
        tiny_model_dir, model_id="tiny", model_version="test-v1", source="test", max_context=512
    )
    with TestClient(create_app(cfg, root, engine=engine)) as client:
        _ready(client)
        questions = [
            "我叫陳大明，手機 0912-345-678，頭殼痛欲按怎？",
            "身分證 A123456789，血壓 150/95 是懸無？",
            "腹肚痛三工矣",
            "暗時睏袂去",
            "咳嗽有痰",
        ]
        ids = []
        for q in questions:
            r = client.post(
                "/v1/chat/completions",
                json={
                    "model": "tiny",
                    "messages": [{"role": "user", "content": q}],
                    "max_tokens": 6,
                },
            )
            assert r.status_code == 200, r.text
            ids.append(r.json()["id"])

        def review(i, action, text=None):
            body = {"action": action, "reviewer": "dr.lin", **({"text": text} if text else {})}
            r = client.post(
                f"/v1/review/{ids[i]}", json=body, headers={"X-Review-Token": REVIEW_TOKEN}
            )
            assert r.status_code == 200, r.text

        review(0, "approve")
        review(1, "edit", "血壓偏懸，請問醫師，mail lin.mei@example.com 預約。毋是診斷。")
        review(2, "reject")
        for body in (
            {"response_id": ids[0], "thumbs": "up"},
            {"response_id": ids[3], "thumbs": "down"},
            {
                "response_id": ids[4],
                "inaccuracy": {"category": "medically_wrong", "comment": "我的電話 0912345678"},
            },
            {"response_id": ids[4], "rating": 1},
        ):
            r = client.post("/v1/feedback", json=body)
            assert r.status_code in (200, 201), r.text
    return root, ids


def test_export_is_scrubbed_versioned_and_labelled(filled_workdir):
    root, ids = filled_workdir
    cfg = load_config("tiny")
    path = export_feedback(cfg, Workdir.resolve(root))
    manifest = json.loads((path / "manifest.json").read_text())
    assert path.parent == Workdir.resolve(root).feedback
    assert json.loads((path.parent / "current.json").read_text())["version"] == manifest["version"]

    everything = load_from_disk(str(path / "datasets" / "feedback_all"))
    chat = load_from_disk(str(path / "datasets" / "feedback_chat"))
    assert sorted(everything["id"]) == sorted(ids)
    labels = dict(zip(everything["id"], everything["label"], strict=True))
    assert labels[ids[0]] == "positive" and labels[ids[1]] == "corrected"
    assert labels[ids[2]] == labels[ids[3]] == labels[ids[4]] == "negative"
    assert manifest["labels"] == {"positive": 1, "corrected": 1, "negative": 3}

    # Only approved and corrected answers become training records, the edit as the target.
    assert sorted(chat["id"]) == sorted(f"feedback-{i}" for i in ids[:2])
    edited = next(r for r in chat if r["id"] == f"feedback-{ids[1]}")
    assert edited["messages"][0]["role"] == "system"
    assert edited["messages"][-1]["content"].startswith("血壓偏懸")
    assert "<email>" in edited["messages"][-1]["content"]
    assert {r["source"] for r in chat} == {"feedback"} and {r["kind"] for r in chat} == {"chat"}

    dumped = json.dumps([*everything.to_list(), *chat.to_list()], ensure_ascii=False)
    for secret in PII:
        assert secret not in dumped
    scrubbed = manifest["pii_scrubbed"]
    assert scrubbed["national_id"] >= 1 and scrubbed["email"] >= 1 and scrubbed["name"] >= 1
    assert scrubbed["phone"] >= 2  # the question and the inaccuracy comment

    # Same content, same version: a second export writes nothing new.
    assert export_feedback(cfg, Workdir.resolve(root)) == path


def test_cli_and_missing_database(filled_workdir, tmp_path):
    root, _ = filled_workdir
    result = CliRunner().invoke(
        cli_app,
        [
            "data",
            "export-feedback",
            "--config",
            "tiny",
            "--workdir",
            str(root),
            "--out",
            str(tmp_path / "fb"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "feedback_chat" in result.output and "national_id" in result.output
    with pytest.raises(FeedbackExportError, match="no serving database"):
        export_feedback(load_config("tiny"), Workdir.resolve(tmp_path / "empty"))
    result = CliRunner().invoke(
        cli_app, ["data", "export-feedback", "--workdir", str(tmp_path / "e")]
    )
    assert result.exit_code == 1
    assert "taigimed serve" in result.output
