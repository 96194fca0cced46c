"""Issue 21, sixteenth round (rules 2026.12.22): what held-out v17 (judged blind at
2026.12.21, a tuning set since) showed, as classes. A knock on the head told as nothing in
the morning with its signs now; a question about care after an event the turns settled;
waking from a nap is no recovery; the Han reader's tones held in Han text; a generic subject
whole, "when" a condition comes, "if a person", how to tell two pains apart and a habit of
worry as general questions; the heart "about to stop" at a price; pills eaten up, a
burden and a pesticide in the eyes; swallowing pills is hard; coughed out and well; the
dosing words of a diuretic's day off, supplements together and a forgotten dose in a mixed
message. Our own sentences; each check comes with a broken input that makes it fail."""

from __future__ import annotations

import dataclasses

from rounds import RULES, TEXT
from rounds import fires as _fires
from rounds import hits as _rule_hits

from support import rules_from, without_cues
from support import rules_replaced as replaced
from taigimed.safety import conversation, inquiry, triage
from taigimed.safety.conversation import standardized
from taigimed.safety.dose import is_dose_conversation

KNOCK = (
    "阿公的房間要怎麼布置比較安全",
    "他早上在廁所滑倒 頭撞到門 那時候說沒事",
)


def test_a_knock_told_as_nothing_with_its_signs_now_fires():
    assert "head_injury" in _fires(*KNOCK, "現在傍晚他一直想睡 剛剛吐了 他有在吃抗凝血")
    # The earlier turns alone are not completed by a calm last turn.
    assert _fires(*KNOCK, "現在他在客廳看電視") == []


def test_without_late_harm_the_knock_stays_over(monkeypatch):
    monkeypatch.setattr(conversation, "LATE_HARM", frozenset())
    assert "head_injury" not in _fires(*KNOCK, "現在傍晚他一直想睡 剛剛吐了 他有在吃抗凝血")


CARE = (
    "阮阿母上個月中風，蹛院十工",
    "這馬出院矣，正手猶閣較無力",
    "厝裡愛按怎復健？",
)


def test_care_after_a_settled_event_does_not_fire():
    # The question about care does not reopen the turn that said it is over: the earlier
    # turn that named the stroke is not read together with the deficit it left.
    assert _fires(*CARE) == []
    assert "stroke" in _fires(*CARE[:2], "拄才伊喙煞歪一爿，講話講袂清楚")


def test_without_resolved_the_deficit_is_read_again(tmp_path):
    assert _fires(*CARE, rules=rules_from(tmp_path, without_cues(TEXT, "resolved"))) != []


NAP = "阮阿嬤有糖尿病，睏晝醒起來規身軀汗，手皮皮掣"


def test_waking_from_a_nap_is_no_recovery():
    assert "hypoglycaemia" in _fires(NAP)


def test_waking_as_recovery_drops_the_low(tmp_path):
    broken = replaced(tmp_path, "tshénn--khí-lâi--ah, tshénn--khí-lâi ah,", "tshénn--khí-lâi,")
    assert _fires(NAP, rules=broken) == []


def test_a_gap_patterns_tones_hold_in_han_text(monkeypatch):
    text = "阮阿公有糖尿病，規身軀汗"
    assert "burns" not in _rule_hits(text)  # 有糖 iú thn̂g is not 油…燙 iû … thǹg
    # A writer's own tones are not held to the rule file's (phā here, phà there).
    assert "seizure" in _rule_hits("Kha-tshiú it-tit tiô, tshuì-lāi tshut phā")
    monkeypatch.setattr(triage, "_fits", lambda *a: True)
    assert "burns" in _rule_hits(text)


GENERIC = "心臟停去的人，愛按怎做CPR？"


def test_a_generic_subject_whole_is_a_general_question(monkeypatch):
    assert _rule_hits(GENERIC) == []
    assert "cardiac_arrest" in _rule_hits("阮阿公心臟停去矣，愛按怎做CPR？")
    monkeypatch.setattr(triage, "_whole_subject", lambda c: False)
    assert _rule_hits(GENERIC)


def test_when_a_condition_comes_is_background():
    assert _rule_hits("中風的時候，要多久內送到醫院？") == []
    assert _rule_hits("Tiòng-hong ê sî, ài guā kú lāi kàu pēnn-īnn?") == []
    assert "stroke" in _rule_hits("我媽剛剛中風了，要多久內送到醫院？")


IF_A_PERSON = "老人若昏去，愛先做啥物？"


def test_if_a_person_is_a_supposition(tmp_path):
    assert _rule_hits(IF_A_PERSON) == []
    assert _rule_hits(IF_A_PERSON, replaced(tmp_path, ", lâng nā, 人若, lāu-lâng nā, 老人若"))


TELL_APART = "心臟病的胸坎疼佮胃疼愛按怎分？"


def test_telling_two_pains_apart_is_general(tmp_path):
    assert _rule_hits(TELL_APART) == []
    words = " án-tsuánn hun, 按怎分, hun-pia̍t, 分別, 分辨,"
    assert _rule_hits(TELL_APART, replaced(tmp_path, words))


HABIT = "我這陣定定驚會中風，敢愛做檢查？"


def test_a_habit_of_worry_is_no_now(tmp_path):
    assert _rule_hits(HABIT) == []
    assert "stroke" in _rule_hits("阮阿母這陣喙歪一爿，講話袂清楚")
    assert _rule_hits(HABIT, rules_from(tmp_path, without_cues(TEXT, "habitual")))


PRICE = "Tshī-á ê hî tsi̍t bé sann-pah, guá khuànn--tio̍h sim-tsōng beh thîng--khì"


def test_the_heart_about_to_stop_at_a_price_is_hyperbole(tmp_path):
    assert _rule_hits(PRICE) == []
    assert "cardiac_arrest" in _rule_hits("A-kong sim-tsōng thîng--khì, bô teh tshuán-khuì")
    regex = (
        ", 'khuann tioh(?: \\S+){0,1}? sim tsong(?: \\S+){0,2}?"
        " (?:beh|khuai|kiong beh|tsha tsit tiam) thing'"
    )
    broken = replaced(tmp_path, regex)
    assert _rule_hits(PRICE, broken)


def test_pills_eaten_up_a_burden_and_a_pesticide_in_the_eyes(tmp_path):
    pills = "婆婆把桌上一整排安眠藥都吃掉了，現在一直想睡"
    burden = "Guá í-king kā tsînn pun hōo kiánn. Lé-pài-ji̍t liáu, guá bián koh tsò lín ê tāng-tann."
    eyes = "A-pah teh phùn io̍h, hong tshue--lâi, io̍h-tsuí tshiâng-ji̍p ba̍k-tsiu"
    assert "poisoning" in _rule_hits(pills)
    assert "suicide" in _rule_hits(burden)
    assert "eye_chemical" in _rule_hits(eyes)
    assert "poisoning" not in _rule_hits(pills, replaced(tmp_path, " 一整排…吃掉, 一整排…吃光,"))
    assert "suicide" not in _rule_hits(burden, replaced(tmp_path, " 重擔, tāng-tann,"))
    assert "eye_chemical" not in _rule_hits(eyes, replaced(tmp_path, " phùn … io̍h, 噴…藥,"))


def test_han_text_holds_the_readers_tones(monkeypatch):
    # 整排 tsíng-pâi read from Han is not the past cue 前擺 tsîng-pái.
    pills = "阿嬤把一整排安眠藥都吃掉了"
    assert "poisoning" in _rule_hits(pills)
    seq = triage._seq_spans

    def toneless(c, cue, tone):
        return seq(dataclasses.replace(c, held=()), cue, tone)

    monkeypatch.setattr(triage, "_seq_spans", toneless)
    assert "poisoning" not in _rule_hits(pills)


def test_swallowing_pills_is_hard_is_a_dosing_question():
    text = "阮阿公吞藥仔足困難，會使共藥仔剖一半無？"
    assert _rule_hits(text) == []
    assert is_dose_conversation(RULES, [standardized(text)])
    assert "poisoning" in _rule_hits("阮孫仔共阿公的藥仔吞落去，這馬足愛睏")


COUGHED = (
    "Tsa-khí a-bú tsia̍h kué kénn--tio̍h",
    "Guán kā i phah kha-tsiah-phiann, i ka-sàu tshut-lâi, tsit-má ē kóng-uē",
    "Lāu-lâng tsia̍h siánn khah bē kénn--tio̍h?",
)


def test_coughed_out_and_talking_settles_a_choking(tmp_path):
    assert _fires(*COUGHED) == []
    # Broken input: neither the coughing out (cues.resolved) nor the talking (cues.well).
    old = " ka-sàu tshut-lâi, 嗽出來矣,"
    assert old in TEXT
    broken = rules_from(tmp_path, without_cues(TEXT.replace(old, "", 1), "well"))
    assert _fires(*COUGHED, rules=broken)


def test_dosing_words_of_this_round(tmp_path):
    asks = [
        "Lī-jiō-tse kám ē-sái hit kang bô tsia̍h?",
        "Iron 跟 calcium 可以一起食嗎?",
        "Blood pressure pill 早上忘了食，要補無?",
    ]
    assert all(is_dose_conversation(RULES, [standardized(t)]) for t in asks)
    broken = replaced(tmp_path, " hit kang bô tsia̍h, 彼工無食,")
    assert not is_dose_conversation(broken, [standardized(asks[0])])


# The second half of the round: what held-out v18 (judged blind after the first half, a
# tuning set since) showed.

FEAR = "阿嬤嘴唇紫紫的一直喘 講話講不完一句 我很怕"


def test_a_fear_told_at_the_end_is_no_worry(monkeypatch):
    assert "breathing" in _rule_hits(FEAR)
    assert _rule_hits("我很怕會中風，要怎麼預防") == []
    # Broken input: every hypothetical cue a worry, wherever it stands, and over the whole
    # clause (the twenty-second round's phrases of a run-on clause also read FEAR right).
    monkeypatch.setattr(triage, "_worried", lambda rules, c: triage._has(c, rules.hypothetical))
    monkeypatch.setattr(triage, "_worry_phrase", lambda rules, c: 0)
    assert "breathing" not in _rule_hits(FEAR)


WEDDING = ("今天去吃喜酒", "回到家他的臉跟嘴唇腫起來 喉嚨緊緊的 有點喘")


def test_arriving_home_is_no_recovery(tmp_path):
    assert "anaphylaxis" in _fires(*WEDDING)
    broken = replaced(tmp_path, "已經回家, 回家了,", "已經回家, 回家了, 回到家,")
    assert "anaphylaxis" not in _fires(*WEDDING, rules=broken)


STENT = ("阮翁兩冬前有放支架", "伊胸坎足痛敢若頂擺彼款")


def test_like_last_time_is_now(tmp_path):
    assert "chest_pain" in _fires(*STENT)
    broken = replaced(tmp_path, " 敢若頂擺, 親像頂擺, 佮頂擺仝款,")
    assert "chest_pain" not in _fires(*STENT, rules=broken)


GRANDSON = "Guán sun-á thau tsia̍h a-má ê hueh-ap io̍h, tsit-má khuànn--khí-lâi bô siánn"


def test_an_adults_medicine_swallowed_by_a_grandchild_needs_no_sign(tmp_path):
    assert "poisoning" in _rule_hits(GRANDSON)
    old = (
        "    - taigi: [hueh-ap io̍h, 血壓藥, an-bîn-io̍h, 安眠藥, hueh-thn̂g io̍h, 血糖藥,"
        " sim-tsōng io̍h, 心臟藥, tuā-lâng ê io̍h, 大人的藥, a-kong ê io̍h, 阿公的藥, a-má ê io̍h,"
        " 阿嬤的藥, sé-uánn-tsing,"
    )
    broken = replaced(tmp_path, old, "    - taigi: [sé-uánn-tsing,")
    assert "poisoning" not in _rule_hits(GRANDSON, broken)


def test_one_day_a_lifelong_stutter_and_when_it_happens(tmp_path):
    one_day = "Guá kiann ka-kī ū tsi̍t ji̍t ē tiòng-hong, ū siánn-mih hong-huat?"
    years = "Guá tuā-tsi̍h tsin tsē tang--ah, kóng-uē tiānn-tiānn tn̄g--tio̍h"
    when = "Lāu-lâng tshuán bē kuè--lâi ê sî, ài án-tsuánn tshú-lí?"
    assert _rule_hits(one_day) == _rule_hits(years) == _rule_hits(when) == []
    # A plan's time is no question: "when nobody is home at the weekend".
    assert "suicide" in _rule_hits("活著好累，木炭買好了，等週末家裡沒人的時候")
    # Without the eighteenth round's 驚家己 too, which reads the same worry.
    no_day = TEXT.replace(" ū tsi̍t ji̍t, 有一日, tsi̍t ji̍t ē, 一日會,", "", 1)
    assert _rule_hits(one_day, rules_from(tmp_path, no_day.replace(", 驚家己, kiann ka-kī", "")))
    many = ", tsin tsē tang, 真濟冬, kuí-nā tang, 幾若冬, tsē-tsē tang"
    assert _rule_hits(years, replaced(tmp_path, many))


def test_a_when_clause_needs_the_question_after_it(monkeypatch):
    monkeypatch.setattr(triage, "_whole_when", lambda rules, c, then: False)
    assert _rule_hits("Lāu-lâng tshuán bē kuè--lâi ê sî, ài án-tsuánn tshú-lí?")


WELL_ON_PILLS = "阮查某囝有羊眩，食藥到這馬攏真好，伊欲結婚矣，會使生囡仔無？"


def test_now_and_well_is_nothing_happening_now(monkeypatch):
    assert _fires(WELL_ON_PILLS) == []
    monkeypatch.setattr(inquiry, "well_now", lambda rules, text: False)
    assert "seizure" in _fires(WELL_ON_PILLS)


CHECKED = (
    "我很怕突然喘不過氣",
    "醫生檢查過，說心臟都沒問題，是焦慮",
    "有什麼方法晚上比較不會怕？",
)


def test_nothing_wrong_found_settles_a_fear(tmp_path):
    assert _fires(*CHECKED) == []
    # And a new attack after it still fires.
    assert "breathing" in _fires(*CHECKED[:2], "剛剛他又喘不過氣，嘴唇發紫")
    # Broken: not settled. Without the sure readings: the worry word and a sure "no" would
    # set the words aside too (conversation.py step 7).
    assert _fires(*CHECKED, rules=replaced(tmp_path, " 都沒問題, 都沒有問題,"), sure=False)


def test_a_pill_each_morning_and_evening_is_a_medicine(tmp_path):
    text = "我上夜班 醫生說早晚各一顆 可以改成下午跟半夜吃嗎"
    assert is_dose_conversation(RULES, [standardized(text)])
    broken = replaced(tmp_path, " 各一顆, 各一粒, 各一錠,")
    assert not is_dose_conversation(broken, [standardized(text)])
