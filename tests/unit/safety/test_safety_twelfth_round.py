"""Issue 21, twelfth round (rules 2026.12.18): what held-out v12 (judged blind at 2026.12.17,
a tuning set since) showed, as classes. Our own sentences; each check comes with a broken
input that makes it fail."""

from __future__ import annotations

from support import fired
from taigimed.safety.classifier import load_classifier
from taigimed.safety.conversation import standardized
from taigimed.safety.dose import is_dose_conversation
from taigimed.safety.rules import load_rules

RULES = load_rules()
CLF = load_classifier()


def _fires(*turns: str) -> list[str]:
    return fired(RULES, CLF, *turns)


def test_a_low_sugar_treated_and_fine_now_settles():
    turns = [
        "阿公早上血糖很低，手抖流汗",
        "我給他喝糖水，現在量是120，講話也都正常",
        "晚餐要吃什麼比較好？",
    ]
    assert _fires(*turns) == []
    # Broken input: without the middle turn the low sugar is still the story.
    assert "hypoglycaemia" in _fires(turns[0], "他現在還是手抖流汗")


def test_a_patients_own_nothing_does_not_settle_the_pain():
    assert "testicular_torsion" in _fires("我孫子半夜痛醒，說蛋蛋很痛，一邊腫起來，他一直說沒事")
    assert _fires("我孫子昨天蛋蛋撞到，醫生檢查說沒事，要冰敷嗎？") == []


def test_the_same_pill_taken_again_with_its_signs():
    text = "阿公袂記得伊食過矣，今仔日血壓藥食三擺，這馬頭殼眩甲徛袂牢"
    assert "poisoning" in _fires(text)
    assert "poisoning" not in _fires("阿公今仔日血壓藥食三擺，是醫生按呢開的")


def test_worry_about_oneself_some_day_and_prices_are_no_alarm():
    assert _fires("我常常擔心自己哪天會心肌梗塞，要做什麼檢查？") == []
    assert _fires("物價 heart attack 啦 一個便當 150 心臟 beh 停 哈") == []
    assert "chest_pain" in _fires("我爸現在胸口好痛，一直冒冷汗")


def test_metformin_in_chinese_and_stop_in_english_are_dosing():
    assert is_dose_conversation(
        RULES, [standardized("我老公在吃二甲雙胍，中午忘了吃，晚上要不要一次吃兩顆")]
    )
    assert is_dose_conversation(
        RULES, [standardized("Antibiotic 食三工 feel better 矣，賰的 can stop 無")]
    )
