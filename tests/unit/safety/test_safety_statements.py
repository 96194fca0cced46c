"""Issue 21, fifth round (rules 2026.12.6): romanised everyday statements, habits, questions
asked by their words, adherence vs a missed dose, a condition named as background ("after a
stroke"), poisoning told by what was swallowed, 倒 read "pour", and lexicon gaps. Each check
comes with a broken input that makes it fail."""

from __future__ import annotations

import dataclasses
import re

from taigimed.safety import classifier as clf_module
from taigimed.safety.classifier import load_classifier
from taigimed.safety.conversation import assess_conversation, is_dose_conversation
from taigimed.safety.inquiry import asks_by_word, tells_habit, tells_no_alarm
from taigimed.safety.rules import DEFAULT_RULES, load_rules
from taigimed.safety.triage import triage
from taigimed.text.romanize import standardize_input

RULES = load_rules()
# These readings only cancel the classifier alone. Since the sixth round the shipped letters,
# trained on real writing too, no longer fire on most of the everyday sentences below (the
# market trip scores 0.37 against 0.58, LINE的字怎麼調大 0.05; 0.04 since the sixteenth, 0.024
# since the twenty-first, 0.012 since the twenty-ninth); lowered to 0.01 they do, as
# an eager classifier would, and what is tested is that the readings hold it back. Since the
# seventh round the syllable reading judges romanised statements too and holds these back as
# well; each broken input below turns it off (``_statements_off``) so the cue is what counts.
CLF = dataclasses.replace(load_classifier(), threshold=0.01)


def _std(text: str) -> str:
    return standardize_input(text)[0]


def _decide(*turns: str, rules=RULES, clf=CLF):
    return assess_conversation(rules, [_std(t) for t in turns], clf)


def _edited(tmp_path, pattern: str, repl: str = "\n"):
    """The shipped rule file with one block replaced (a broken input)."""
    text, n = re.subn(pattern, repl, DEFAULT_RULES.read_text(encoding="utf-8"))
    assert n == 1, pattern
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    return load_rules(path)


def _statements_off(monkeypatch):
    """The syllable reading on romanised questions only, as before the seventh round."""
    monkeypatch.setattr(clf_module, "STATEMENTS_TOO", False)


def _without_cue(tmp_path, key: str):
    return _edited(tmp_path, rf"\n  {key}:\n(?:    .*\n)+")


# Our wording (not from any evaluation file): the letters' classifier alone scores each
# over its threshold.
HABIT = "gua2 tiann7-tiann7 thau5-khak4 hin5"  # I am often dizzy
MARKET = "Guá kin-á-ji̍t khì tshī-tiûnn bé tshài."  # I went to the market today
ASKED = "A-kong ê tshuì-khí beh án-tsuánn sé"  # how to clean grandpa's teeth


def test_the_classifier_alone_fires_on_these_romanised_statements():
    for text in (HABIT, MARKET, ASKED):
        assert CLF.fires(CLF.score(_std(text), RULES.variants)), text


def test_a_habit_told_is_not_an_emergency_now(tmp_path, monkeypatch):
    assert tells_habit(RULES, _std(HABIT))
    assert not _decide(HABIT).triggered
    assert not _decide("我常常晚上起來尿尿，睡不好").triggered
    # Something now still fires: the habit is background.
    assert not tells_habit(
        RULES, _std("Guá tiānn-tiānn thâu-khak hîn, tsit-má hiông-hiông khuànn bô")
    )
    # Broken input: without cues.habitual the 119 reply is back.
    _statements_off(monkeypatch)
    assert not _decide(HABIT).triggered
    assert _decide(HABIT, rules=_without_cue(tmp_path, "habitual")).triggered


def test_a_romanised_question_asked_by_its_words(tmp_path, monkeypatch):
    assert asks_by_word(RULES, _std(ASKED))
    assert not _decide(ASKED).triggered
    # "What do I do now" at the end is a carer's report, not an everyday question.
    assert not asks_by_word(RULES, _std("A-kong kiò bē tsing-sîn, guá beh án-tsuánn"))
    # Broken input: without cues.asking the mouth (a word of harm) keeps the 119 reply.
    _statements_off(monkeypatch)
    assert not _decide(ASKED).triggered
    assert _decide(ASKED, rules=_without_cue(tmp_path, "asking")).triggered


def test_a_romanised_statement_with_no_word_of_harm(tmp_path, monkeypatch):
    assert tells_no_alarm(RULES, _std(MARKET))
    assert not _decide(MARKET).triggered
    # Even where the everyday reading agrees with the letters (it scores this 0.96): no word
    # of harm, no 119 from the classifier alone.
    assert not _decide("Guán sun-á kin-á-ji̍t tsò-sit tsiok kut-la̍t.").triggered
    # A romanised emergency with a word of harm still fires on the classifier alone.
    told = "A-pa ê kha hueh lâu tsin tsē, mōo-kin at bē tiâu"
    assert not tells_no_alarm(RULES, _std(told))
    assert _decide(told).triggered
    # Broken input: without cues.alarm the market trip gets 119 again.
    _statements_off(monkeypatch)
    assert not _decide(MARKET).triggered
    assert _decide(MARKET, rules=_without_cue(tmp_path, "alarm")).triggered


def test_adherence_is_not_a_dosing_question_a_missed_dose_is(tmp_path):
    tips = _std("我定定袂記得食藥仔，有啥物好辦法？")
    assert not is_dose_conversation(RULES, [tips])
    assert not is_dose_conversation(RULES, [_std("我媽常常忘記吃藥，有什麼方法可以提醒她？")])
    for text in (
        "我昨天忘記吃藥，今天可以吃兩顆嗎？",
        "我忘記吃藥了，現在可以補吃嗎？",
        "醫生說一天三次，可是我一天只吃兩餐，可以改成一天兩次嗎？",  # a prescribed frequency
        "i-sing kong tsit kang sann pai, e-sai kai tso nng pai bo?",
        "Phó-ná-thóng tsi̍t pái ē-sái tsia̍h kuí lia̍p?",
    ):
        assert is_dose_conversation(RULES, [_std(text)]), text
    # Broken input: without dose_intent.adherence the tips question is taken for dosing.
    broken = _edited(tmp_path, r"\n  adherence:\n(?:    .*\n)+")
    assert is_dose_conversation(broken, [tips])


def test_yesterday_in_taigi_is_not_fainting():
    # 昨昏 tsa-hng holds 昏: with 糖尿病 it read as a diabetic who fainted.
    text = "我昨昏袂記得食糖尿病的藥，今仔日會使食兩倍無？"
    assert not _decide(text).triggered
    assert is_dose_conversation(RULES, [_std(text)])
    assert "hypoglycaemia" in _decide("阮阿公有糖尿病，拄才昏去矣").categories


def test_a_condition_named_with_after_is_background():
    for text in (
        "阿公中風後講話不清楚，要怎麼跟他溝通？",
        "阮阿公中風了後，食物愛按怎款？",
        "我媽中風過，現在在做復健，飲食要注意什麼？",
        "中风后的康复训练怎么做？",
        "Tiòng-hong liáu-āu ê hok-kiān ài tsò guā-kú?",
    ):
        assert not _decide(text).triggered, text
    # Something starting or going on is not background.
    assert _decide("我爸中風後在家，剛剛突然講不出話").triggered
    assert _decide("阿公中風後一直吐，叫不醒").triggered
    # Broken input: with no topics the condition is read as an event again.
    broken = dataclasses.replace(RULES, topic=frozenset())
    assert triage(broken, _std("阿公中風後講話不清楚，要怎麼跟他溝通？")).hits


def test_poisoning_told_by_what_was_swallowed():
    for text in (
        "我孫子把我的降血壓藥當糖果吃了，現在很想睡",
        "Guán sun-á tsia̍h tio̍h a-kong ê hueh-ap io̍h, tsit-má ài khùn.",
        "孩子吃了洗衣球，現在一直吐",
        "阿公把漂白水當水喝了一口",
        "家裡熱水器好像壞了，全家都頭痛想吐",
        "我孫子把洗碗精喝了一口",  # the writer's own grandchild and a product: no sign needed
    ):
        assert "poisoning" in triage(RULES, _std(text)).categories, text
    for text in (
        "吃了感冒藥會很想睡，正常嗎？",
        "小孩吃了退燒藥，多久可以再吃一次？",
        "冬天全家都感冒頭痛，要吃什麼？",
        "熱水器要裝在哪裡比較安全？",
        "有個小孩吃了洗衣球送醫，家裡有小孩要怎麼收？",  # a story, no sign
        "阮囡仔嗽，大人的藥仔會使予伊食無？",  # the cough is why, not a sign after
    ):
        assert "poisoning" not in triage(RULES, _std(text)).categories, text
    # Broken input: the category without its combos misses them.
    cats = tuple(
        dataclasses.replace(c, combos=()) if c.id == "poisoning" else c for c in RULES.categories
    )
    broken = dataclasses.replace(RULES, categories=cats)
    assert "poisoning" not in triage(broken, _std("孩子吃了洗衣球，現在一直吐")).categories


def test_dao_before_a_direction_is_pour_not_faint():
    pour = "這個膠囊可以掰開把粉倒出來拌在粥裡嗎"
    assert not _decide(pour).triggered
    assert _decide("我媽剛剛粉倒了叫不醒").triggered  # the dictation homophone still fires
    assert _decide("阿嬤把藥粉倒進杯子以後突然昏倒").triggered
    # Broken input: without the look-alike expressions 粉倒 reads hūn-tó again.
    broken = dataclasses.replace(RULES, lookalike_re=((), ()))
    # (Judged with the classifier never clear: conversation.py step 6 would send the
    # capsule question to the pharmacist whatever the rules read.)
    assert _decide(pour, rules=broken, clf=dataclasses.replace(CLF, clear_below=0.0)).triggered


def test_lexicon_gaps_of_the_fifth_round(tmp_path):
    assert "unconscious" in triage(RULES, _std("I tsit-má kiò bē tshínn")).categories
    assert "child_danger" in triage(RULES, _std("他三個禮拜大，現在量三十八度二")).categories
    assert "stroke" in triage(RULES, _std("現在 他 右手 不能 動 說話 聽 不 懂")).categories
    assert "dehydration" in triage(RULES, _std("阿公 漏屎 兩工，一整天 bô 尿")).categories
    assert "suicide" in triage(RULES, _std("活著好累，木炭買好了，等家裡沒人的時候")).categories
    # Broken input: without the i/e fold, tshínn is not tshénn.
    broken = _edited(tmp_path, r"\n  tshinn: tshenn\n")
    assert "unconscious" not in triage(broken, _std("I tsit-má kiò bē tshínn")).categories


def test_a_han_question_asked_by_its_words_but_not_a_reported_one(tmp_path):
    asked = "LINE的字怎麼調大"  # no question mark
    # The classifier rebuilt for rules 2026.12.14 no longer fires on it (0.04); a classifier
    # whose threshold sits just below its score stands in for the eager one this guards against.
    score = CLF.score(_std(asked), RULES.variants)
    eager = dataclasses.replace(CLF, threshold=min(CLF.threshold, score - 0.001))
    assert eager.fires(score)
    assert asks_by_word(RULES, _std(asked)) and not _decide(asked, clf=eager).triggered
    # "I don't know how much" is a carer's report holding the question word: it still fires.
    told = "小孩子吃了多少我不知道，整瓶都空了"
    assert not asks_by_word(RULES, _std(told))
    assert _decide(told).triggered
    # "Not long after" is a measure, not a question (無外久就足疼).
    assert not asks_by_word(RULES, _std("伊講予球 kòng 著，無外久就足疼"))
    # Broken input: without cues.asking, and without the everyday reading (which since the
    # sixth round judges a Han statement by itself), the question gets 119 again.
    letters = dataclasses.replace(eager, everyday=None)
    assert _decide(asked, rules=_without_cue(tmp_path, "asking"), clf=letters).triggered
    # The everyday reading alone now holds it back too.
    assert not _decide(asked, rules=_without_cue(tmp_path, "asking"), clf=eager).triggered


def test_a_care_question_after_a_stroke_last_month(tmp_path):
    before = "我先生上個月中風，現在右手還是比較沒力"
    assert not _decide(before, "復健大概要做多久才會進步？在家可以做哪些動作？").triggered
    assert not _decide(
        "Gún a-kong sann-gue̍h tiòng-hong, tsit-má tò-tshiú iáu-koh khah bô-la̍t.",
        "Tī tshù-lāi ē-sái tsò siánn-mih ūn-tōng pang-tsān i?",
    ).triggered
    # Something new in either turn, or a plea for help, is no care question.
    assert _decide("我爸上個月中風，剛剛突然講不出話", "可以吃什麼？").triggered
    assert _decide(before, "他現在又講不出話了，怎麼辦").triggered
    # Broken input: without cues.earlier_day the stroke last month is read as now.
    broken = _without_cue(tmp_path, "earlier_day")
    assert _decide(before, "復健大概要做多久才會進步？", rules=broken).triggered


def test_a_blood_pressure_reading_in_its_own_clause():
    for text in (
        "Guá tú-tsiah niû hiat-ap, nn̄g-pah-tsa̍p, thâu-khak thiànn, ba̍k-tsiu bū-bū",
        "我爸量血壓，210，頭很痛",
    ):
        assert "hypertensive_crisis" in triage(RULES, _std(text)).categories, text
    # A high reading alone, or no reading, is not a crisis.
    assert "hypertensive_crisis" not in triage(RULES, _std("我爸量血壓，210")).categories
    assert "hypertensive_crisis" not in triage(RULES, _std("我爸血壓120，頭有點痛")).categories


def test_dosing_kinds_of_rules_2026_12_8():
    for text in (
        "大人咳嗽的藥水會使予阮三歲的孫仔啉寡仔無？",  # an adult's syrup for a child
        "Gín-á ê ka-sàu io̍h-tsuí tsi̍t-pái ài lim kuí cc?",
        "一工三擺 ê 藥，我 kan-na 食早頓 kap 暗頓，ē-sái 改兩擺無？",
        "阿嬤的血糖藥，今天晚上她沒吃飯，那包藥還要吃嗎？",
    ):
        assert is_dose_conversation(RULES, [_std(text)]), text


def test_f_and_hu_meet_in_the_pinyin_view(monkeypatch):
    from taigimed.safety import pinyin

    heard = _std("我媽突然分過去了")  # 分 fen dictated for 昏 hun
    assert "unconscious" in triage(RULES, heard).categories
    assert "breathing" in triage(RULES, _std("阿公夫吸困難")).categories
    # Broken input: without the f/hu fold the dictated word is not heard.
    monkeypatch.setattr(pinyin, "_F_TO_HU", {})
    pinyin.pinyin_tokens.cache_clear()
    try:
        assert "unconscious" not in triage(RULES, heard).categories
    finally:
        pinyin.pinyin_tokens.cache_clear()


def test_an_object_swallowed_told_by_what_the_child_does():
    for text in (
        "Gín-á thun tsi̍t lia̍p tsînn, tsit-má lâu nuā bē thun",
        "孩子吞了一個硬幣，現在一直流口水",
    ):
        assert "choking" in triage(RULES, _std(text)).categories, text
    assert not _decide("小孩吞口水會痛，喉嚨發炎要吃什麼").triggered
    # Broken input: the category without its combos misses them.
    cats = tuple(
        dataclasses.replace(c, combos=()) if c.id == "choking" else c for c in RULES.categories
    )
    broken = dataclasses.replace(RULES, categories=cats)
    assert "choking" not in triage(broken, _std("孩子吞了一個硬幣，現在一直流口水")).categories


def test_the_alarm_words_keep_their_tones(tmp_path):
    # a-kong (grandfather) is not kòng (to hit); lāu-lâng (old people) is not lâu (to flow).
    everyday = "Guá a-kong kin-á-ji̍t beh khì tsò kiān-khong kiám-tsa"
    assert CLF.fires(CLF.score(_std(everyday), RULES.variants))
    assert tells_no_alarm(RULES, _std(everyday)) and not _decide(everyday).triggered
    assert tells_no_alarm(RULES, _std("Lāu-lâng ē-sái tsia̍h siánn"))
    assert not tells_no_alarm(RULES, _std("A-pa ê kha hueh lâu tsin tsē"))
    # Broken input: an alarm list holding kòng reads a-kong as a blow.
    broken = _edited(tmp_path, r"(\n  alarm:\n    taigi: \[)", r"\1kòng, ")
    assert not tells_no_alarm(broken, _std(everyday))
