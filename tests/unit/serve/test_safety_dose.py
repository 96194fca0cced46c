"""The post-model dose filter and the answer-side safety hook."""

from __future__ import annotations

from taigimed.serve.hooks import TurnContext
from taigimed.serve.safety.dose import find_doses, redact_doses
from taigimed.serve.safety.layer import AnswerSafety
from taigimed.serve.safety.rules import load_rules


def test_doses_found_lab_values_left_alone():
    assert find_doses("一擺食 500 mg，一日兩粒；血糖 126 mg/dL 較懸") == ["500 mg", "兩粒"]
    assert find_doses("普拿疼一次吃1-2顆，每天最多4000毫克") == ["1-2顆", "4000毫克"]
    assert find_doses("化療 75 mg/m2，小兒 10 mg/kg/day") == ["75 mg/m2", "10 mg/kg/day"]
    for safe in ("SpO2 低於 94% 要就醫", "HbA1c 7%", "吃一片麵包", "H1N1 疫苗", "我有三個囡仔"):
        assert find_doses(safe) == [], safe


def test_redact_counts():
    text, n = redact_doses("Take 2 tablets, then 5 mL.", "[ask]")
    assert (text, n) == ("Take [ask], then [ask].", 2)


def ctx(script: str) -> TurnContext:
    return TurnContext("r", "s", [{"role": "user", "content": "q"}], "q", {"script": script})


def test_answer_safety_replaces_doses_and_says_why():
    rules = load_rules()
    hook = AnswerSafety(rules)
    c = ctx("taigi_han")
    out = hook.amend_chunk(c, "普拿疼一擺食 500 mg。")
    assert "500" not in out and rules.reply("dose_placeholder", "taigi_han") in out
    suffix = hook.finish(c, out)
    assert rules.reply("dose_removed", "taigi_han") in suffix
    assert rules.reply("disclaimer", "taigi_han") in suffix
    assert [t.category for t in c.triggers] == ["dose"]
    assert c.meta["answer_tailo"]  # the Tâi-lô view of the whole answer


def test_disclaimer_in_the_users_language_every_time():
    rules = load_rules()
    hook = AnswerSafety(rules)
    for script in ("taigi_han", "tailo", "poj", "mandarin_traditional", "mandarin_simplified"):
        c = ctx(script)
        assert hook.amend_chunk(c, "多啉水。") == "多啉水。"
        suffix = hook.finish(c, "多啉水。")
        assert suffix.strip() == rules.reply("disclaimer", script)
        assert not c.triggers
