"""Issue 21, fourteenth round (rules 2026.12.20): what held-out v14 (judged blind at
2026.12.19, a tuning set since) showed, as classes. An imagined again or sudden (會不會再發作,
哪天會突然) is no onset; a well word in a question or a doubt settles nothing; a stutter read
over the whole conversation; the English words of a code-mixed message heard in Han; a
nosebleed that "stops" in English. Our own sentences; each check comes with a broken input
that makes it fail."""

from __future__ import annotations

import pytest
from rounds import RULES, TEXT
from rounds import fires as _fires
from rounds import hits as _rule_hits

from support import rules_from, without_cues
from taigimed.safety.conversation import standardized
from taigimed.safety.dose import is_dose_conversation
from taigimed.safety.hearing import hear
from taigimed.safety.rules import RuleError

VERTIGO = (
    "我媽昨天晚上突然天旋地轉，我們嚇壞了，送急診",
    "醫生檢查說不是中風，是耳石症，打完點滴就回家了，今天好多了",
    "耳石症會不會再發作？平常要注意什麼",
)


def test_asking_whether_it_comes_back_is_no_again():
    assert _fires(*VERTIGO) == []
    # Broken input: told that it is back, it is again.
    assert _fires(*VERTIGO[:2], "剛剛又發作了，她吐了兩次，站不起來")


def test_without_imagined_the_question_brings_it_back(tmp_path):
    broken = rules_from(tmp_path, without_cues(TEXT, "imagined"))
    assert _fires(*VERTIGO, rules=broken)


def test_a_worry_about_a_sudden_attack_some_day_is_no_onset():
    text = "我常常擔心自己哪天會突然中風，晚上都睡不著，現在是沒有什麼不舒服"
    assert _rule_hits(text) == []
    assert "stroke" in _rule_hits("我常常擔心自己哪天會中風，結果今天早上突然嘴歪一邊")


LOW_SUGAR = ("阿嬤下午血糖掉到50，一直冒冷汗", "我給她喝果汁，現在量130")


def test_a_well_word_asked_or_doubted_settles_nothing():
    assert _fires(*LOW_SUGAR, "她現在講話正常，晚餐要吃什麼比較好") == []
    assert "hypoglycaemia" in _fires(*LOW_SUGAR, "她現在講話正常嗎？怎麼一直叫不太醒")
    # Asked in Taigi by its last word (正常無?), and the mark is gone from the clause.
    assert "hypoglycaemia" in _fires(*LOW_SUGAR, "伊這馬講話正常無？")
    assert "hypoglycaemia" in _fires(*LOW_SUGAR, "她說她現在很好，可是手還在抖，冒冷汗")


def test_a_stutter_is_read_over_the_conversation():
    turns = ("阮孫仔講話大舌", "伊這馬讀國小，同學會笑伊", "大舌敢會當矯正？愛看佗一科")
    assert _fires(*turns) == []
    # Broken input: the grandchild's speech changed suddenly: a stroke sign, read as such.
    assert "stroke" in _fires(turns[0], "伊拄才煞講話大舌，喙歪一爿")


ENGLISH = {
    "我爸chest pain 痛到冒cold sweat 左手麻麻的": "chest_pain",
    "阿公有食Xarelto 鼻血流1 hour了 還是stop袂牢": "bleeding",
    "伊一整排sleeping pills和血壓藥全部食落去 now叫袂醒": "poisoning",
}


@pytest.mark.parametrize("text", sorted(ENGLISH))
def test_english_words_of_a_mixed_message_are_heard(text):
    assert ENGLISH[text] in _rule_hits(text)


def test_without_the_english_glossary_they_are_missed(tmp_path):
    broken = rules_from(tmp_path, TEXT.replace("\nenglish:\n", "\nenglish_unused:\n", 1))
    missed = [t for t in ENGLISH if ENGLISH[t] not in _rule_hits(t, broken)]
    assert len(missed) >= 2


def test_english_is_heard_as_whole_words_only():
    assert hear(RULES, "I don't know why") == "I don't know why"
    assert hear(RULES, "Now 她 OK") == "現在她 OK"


def test_a_bad_english_entry_is_named(tmp_path):
    with pytest.raises(RuleError, match="english"):
        rules_from(tmp_path, TEXT.replace("\nenglish:\n", '\nenglish:\n  "": 空\n', 1))


DOSING = (
    "平常打12個單位，今天早上血糖280，要多打幾個單位嗎",
    "醫生開的心臟藥仔足大粒，阮阿母吞袂落，會使共伊研予碎無？",
)


@pytest.mark.parametrize("text", DOSING)
def test_units_and_grinding_a_pill_are_dosing(text):
    assert is_dose_conversation(RULES, [standardized(text)])


def test_without_the_new_words_they_are_not(tmp_path):
    text = TEXT.replace(", 幾個單位,", ",", 1).replace(
        ", 免食, 研, 共伊研, 共伊磨, 多打, 注較,", ",", 1
    )
    assert text.count("共伊研") == 0 and text.count("幾個單位") == 0
    broken = rules_from(tmp_path, text)
    assert not any(is_dose_conversation(broken, [standardized(t)]) for t in DOSING)
