"""What trying the service by hand found (issue 21, rules 2026.12.5), each with the input
that breaks it: "flowing non-stop" alone is not bleeding (a runny nose, tears, sweat) while a
wound or blood still is; weakness of the left or right side, and slurred speech, are stroke
signs; "if one meets …" questions are hypothetical; crushing a pill in Taigi is dosing."""

from __future__ import annotations

from taigimed.safety.conversation import assess_conversation, is_dose_conversation
from taigimed.safety.rules import DEFAULT_RULES, load_rules
from taigimed.text.romanize import standardize_input

RULES = load_rules()


def _categories(text: str, rules=RULES) -> list[str]:
    return [h.category for h in assess_conversation(rules, [standardize_input(text)[0]]).hits]


def test_flowing_non_stop_is_bleeding_only_with_blood_or_a_wound(tmp_path):
    for everyday in ("阿公這兩工有小可感冒，鼻水流袂停", "phīnn-tsuí lâu bē thîng", "汗一直流袂停"):
        assert _categories(everyday) == [], everyday
    for bleeding in ("傷口流袂停", "手割著，血流袂停", "kha kuah--tio̍h, hueh lâu bē thîng"):
        assert "bleeding" in _categories(bleeding), bleeding
    # Broken input: the rules before 2026.12.5 (bare 流袂停 in the bleeding lexicon).
    old = DEFAULT_RULES.read_text(encoding="utf-8").replace(
        "  taigi: [hueh … lâu bē thîng, hueh … tsí bē tiâu,",
        "  taigi: [hueh … lâu bē thîng, lâu bē thîng, 流袂停, hueh … tsí bē tiâu,",
    )
    path = tmp_path / "rules.yaml"
    path.write_text(old, encoding="utf-8")
    assert "bleeding" in _categories("阿公這兩工有小可感冒，鼻水流袂停", load_rules(path))


def test_one_side_named_and_slurred_speech_are_stroke_signs():
    long = (
        "今仔日透早阮去市場買菜，阿母講欲買魚，結果行到一半伊講頭殼足痛，倒爿身軀無力，"
        "這馬坐佇椅仔頂講話糊糊，阮欲先去領藥仔抑是按怎？"
    )
    for text in (long, "阿母倒爿身軀無力", "a-bú tò-pîng sin-khu bô la̍t", "我爸右邊手腳突然沒力"):
        assert "stroke" in _categories(text), text
    assert "stroke" not in _categories("阿母倒爿的膝頭仔較疼")  # a sore knee is not a stroke


def test_if_one_meets_questions_are_hypothetical():
    assert _categories("Nā tú-tio̍h lâng tiòng-hong, sî-tsūn ài khà 119?") == []
    assert "stroke" in _categories("Guá a-bú tsit-má tiòng-hong, ài khà 119 bô?")


def test_crushing_a_pill_in_taigi_is_a_dosing_question():
    assert is_dose_conversation(RULES, ["阮阿母血壓藥仔會使研做粉摻水予伊食無？"])
    assert not is_dose_conversation(RULES, ["阮阿母血壓懸，食物愛注意啥物？"])
