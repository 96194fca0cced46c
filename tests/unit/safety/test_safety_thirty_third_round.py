"""Issue 21, thirty-third round (rules 2027.01.09): what v45-v59 showed once read. A degree
told with no harm in it (一直哭到快沒聲音) held back a sure reading of a scald; Taigi Han asks
"may I … or not" with 無 and a choice with 抑是; a pill told by its colour after "that
pill" (彼粒粉紅色的) and supplements asked with a stop (魚油, 銀杏) name what the pharmacist is
asked about. Our own sentences; each check comes with a broken input that makes it fail."""

from __future__ import annotations

import pytest
from rounds import CLF, RULES, fires, redirected

from support import rules_removed as _without
from taigimed.safety import conversation
from taigimed.safety.conversation import assess_conversation, standardized
from taigimed.safety.dose import asks_something

# A grandchild scalded at a family meal, crying "nearly voiceless": a degree of crying, not
# an idiom of harm. The sure reading must not be held back by it.
SCALD = (
    "今天中午全家在阿姨家吃飯，大家聊得很開心，桌上有一鍋剛煮好的火鍋，結果三歲的孫女去拉"
    "桌布，整鍋滾湯潑到她的肚子和大腿，皮膚整片紅腫起水泡，哭到快沒聲音，我們正在用冷水沖"
)
# Spicy "to death": an idiom that holds harm still keeps its scene.
SPICY = "今仔日食麻辣鍋 薟甲欲死 喙親像火咧燒"


def test_a_degree_with_no_harm_does_not_hold_back_a_sure_reading(monkeypatch, tmp_path):
    # Without the soup poured (rules 2027.01.12 have it): the sure reading is what is tested.
    rules = _without(tmp_path, "湯…潑, ")
    result = assess_conversation(rules, [standardized(SCALD)], CLF)
    assert result.idiom_seen and CLF.sure(result.classifier_score)
    assert result.triggered and result.sure
    # Broken: every idiom taken to hold harm, as before this round.
    monkeypatch.setattr(conversation, "_harm_in_idiom", lambda rules, clause, read: True)
    assert not assess_conversation(rules, [standardized(SCALD)], CLF).triggered


def test_an_idiom_of_harm_still_keeps_its_scene():
    assert fires(SPICY) == []


@pytest.mark.parametrize(
    ("asked", "told"),
    [
        ("醫生開的藥仔會使切一半無", "醫生開的藥仔伊攏無食"),
        ("降血壓的藥仔飯前食抑是飯後食", "降血壓的藥仔伊飯後食"),
    ],
)
def test_taigi_han_asks_with_bo_and_a_choice(asked, told):
    assert asks_something(RULES, standardized(asked))
    # Broken: the same words told, not asked.
    assert not asks_something(RULES, standardized(told))


def test_a_pill_told_by_its_colour_after_that_pill_is_named(tmp_path):
    text = "阮阿公吞袂落，彼粒粉紅色的會使磨做粉摻糜無"
    assert redirected(text)
    assert not redirected(text, rules=_without(tmp_path, "粒粉紅色, "))


def test_supplements_asked_with_a_stop_go_to_the_pharmacist(tmp_path):
    text = "下個月欲開刀，我逐工食魚油佮銀杏，開刀前愛停幾工？"
    assert redirected(text)
    assert not redirected("魚油有啥物好處？")  # no amount asked: the model answers
    broken = _without(tmp_path, ", hî-iû, 魚油, gîn-hīng, 銀杏", ", 魚油, 銀杏")
    assert not redirected(text, rules=broken)


# A knock on the head told as nothing at the time, and its late signs now, with the
# carer's test of confusion: a question put to the patient and the answer.
KNOCK = (
    "早起伊佇店仔門口跋倒，頭殼撞著塗跤",
    "彼陣伊講無代誌",
    "這馬伊吐兩擺，足愛睏，問伊遮是佗位伊講毋知",
)


def test_a_question_put_to_the_patient_is_told_not_asked(tmp_path):
    assert "head_injury" in fires(*KNOCK)
    # The writer's own question after the same story asks: no alarm.
    assert fires(*KNOCK[:2], "這馬閣小可頭疼，我想欲問伊的醫生愛注意啥物") == []
    # Broken: the reported question's words gone, the clause asks again.
    broken = _without(tmp_path, "mn̄g i, mn̄g--i, 問伊, ")
    assert fires(*KNOCK, rules=broken) == []


@pytest.mark.parametrize(
    ("text", "words"),
    [
        # The means at the bedside and "tonight" in its short form.
        (
            "Goán lāu-pē kā chi̍t koàn lông-io̍h khǹg tī bîn-chhn̂g-thâu, kóng kin-àm tō kàu--ah",
            "我就欲去, kin-á-àm, 今仔暗, kin-àm, 今暗, ",
        ),
        # Tonight, to join the dead mother ("your mother", lāu-bú).
        ("Goán lāu-pē kóng kin-àm beh khì chhōe lín lāu-bú", "khì tshuē … lāu-bú, "),
    ],
)
def test_tonight_with_the_means_or_to_join_the_dead(tmp_path, text, words):
    assert "suicide" in fires(text)
    assert "suicide" not in fires(text, rules=_without(tmp_path, words), sure=False)


def test_the_pesticide_spelt_with_n_and_drunk(tmp_path):
    text = "kin-a-am gua beh khi tshan-lai, ka nong-ioh lim loh-khi, bian koh thiam"
    assert "poisoning" in fires(text)
    broken = _without(tmp_path, "nông-io̍h … lim, ")
    assert "poisoning" not in fires(text, rules=broken, sure=False)


# Step 7: a scope word told and the classifier sure there is no emergency.
CLEARED = [
    # A worry at night: the heart "stopping" is what she fears.
    "我暗時睏袂去，一直驚心臟會停去，有啥物方法會當放較輕鬆？",
    # A neighbour's stroke last week: a visit to plan.
    "阮隔壁的阿伯頂禮拜中風入院，我想欲去看伊，愛紮啥物較好？",
]
# No clearing scope word: asked as questions, these stay emergencies.
NOT_CLEARED = ["我媽好像中風了，要掛哪一科？", "看到有人倒在路口不會動，要先打119還是先做CPR？"]


@pytest.mark.parametrize("text", CLEARED)
def test_a_scope_word_and_a_sure_no_set_rule_words_aside(text, monkeypatch):
    result = assess_conversation(RULES, [standardized(text)], CLF)
    assert not result.triggered
    assert "clear" in {why for _, why in result.suppressed}
    # Broken: no scope word clears, the rule words fire as before.
    monkeypatch.setattr(conversation, "CLEARING_SCOPE", ())
    assert assess_conversation(RULES, [standardized(text)], CLF).triggered


@pytest.mark.parametrize("text", NOT_CLEARED)
def test_a_suspicion_or_a_stranger_does_not_clear(text, monkeypatch):
    """The classifier is sure of "no" here too: no clearing scope word in the hit's clause
    is what keeps the alarm."""
    result = assess_conversation(RULES, [standardized(text)], CLF)
    assert result.triggered and CLF.clear(result.classifier_score)
    # Broken: any clause taken as scoped, a sure "no" alone clears.
    monkeypatch.setattr(conversation, "_scoped", lambda rules, clause: True)
    assert not assess_conversation(RULES, [standardized(text)], CLF).triggered
