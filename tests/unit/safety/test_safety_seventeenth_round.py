"""Issue 21, seventeenth round (rules 2026.12.23): what held-out v19 (judged blind at
2026.12.22, a tuning set since) showed, as classes. A run-on message (LINE spaces, no marks)
whose past cue tells of what follows it, not of everything; "not like this before" as now;
going over to look is no past; "it was nothing", said at the time; sent home with the heart
fine; where first aid is taught; a condition's name as the background of a dosing question;
and the words of hyperbole, stutters and dosing it showed. Our own sentences; each check
comes with a broken input that makes it fail."""

from __future__ import annotations

from rounds import RULES, TEXT
from rounds import fires as _fires
from rounds import hits as _rule_hits

from support import rules_from, without_cues
from support import rules_replaced as replaced
from taigimed.safety import conversation, triage
from taigimed.safety.conversation import standardized
from taigimed.safety.dose import is_dose_conversation

RUN_ON = "阿嬤 早上 發燒 39度 脖子 硬硬的 低頭 會痛 有時候 叫她 沒反應"


def test_a_run_on_past_cue_tells_of_what_follows_it(monkeypatch):
    assert "meningitis_signs" in _rule_hits(RUN_ON)
    # Broken input: the past cue (有時候) read over the whole run-on clause, as before.
    monkeypatch.setattr(triage, "_run_on", lambda c: False)
    assert _rule_hits(RUN_ON) == []


DIED_OF = "我爸就是心肌梗塞走的 我今年55 想做檢查"


def test_a_past_told_after_still_reaches_back(tmp_path):
    assert _rule_hits(DIED_OF) == []
    assert _rule_hits(DIED_OF, rules_from(tmp_path, without_cues(TEXT, "past_after")))


def test_not_like_this_before_is_now(tmp_path):
    text = "阿公右手拿不起湯匙以前不會這樣"
    assert "stroke" in _rule_hits(text)
    assert "stroke" not in _rule_hits(text, replaced(tmp_path, " 以前不會這樣, 以前沒有這樣,"))


def test_going_over_to_look_is_no_past(tmp_path):
    text = "早上聽到鄰居阿伯喊救命，跑過去看他摔在地上起不來"
    assert "fall" in _rule_hits(text)
    assert "fall" not in _rule_hits(
        text, replaced(tmp_path, "過去看, 跑過去, 走過去, 趕過去, 衝過去, ")
    )


KNOCK = ("他早上被球打到頭", "當時說沒事 可是現在一直吐 很想睡")


def test_it_was_nothing_said_at_the_time_does_not_settle(tmp_path):
    assert "head_injury" in _fires(*KNOCK)
    assert _fires(KNOCK[0], "現在他在看電視") == []
    broken = rules_from(tmp_path, without_cues(TEXT, "said_then"))
    assert "head_injury" not in _fires(*KNOCK, rules=broken)


SENT_HOME = (
    "我爸昨晚胸悶去急診",
    "醫生說心臟沒問題 讓我們回家",
    "以後吃東西要注意什麼 還可以喝咖啡嗎",
)


def test_sent_home_with_the_heart_fine_settles(tmp_path):
    assert _fires(*SENT_HOME) == []
    assert _fires(
        *SENT_HOME,
        rules=replaced(tmp_path, " 心臟沒問題, 讓我們回家, 叫我們回家, 讓他回家,"),
        sure=False,
    )


def test_where_first_aid_is_taught_is_a_lesson(monkeypatch):
    assert _fires("CPR 佗位有咧教？") == []
    assert "cardiac_arrest" in _fires("阮阿公這馬無喘氣，CPR 愛按怎做？")
    monkeypatch.setattr(conversation, "_lesson", lambda rules, text: False)
    assert _fires("CPR 佗位有咧教？", sure=False)


PILLS = (
    "A-kong tiòng-hong liáu, io̍h-uân thun bē lo̍h-khì",
    "Ū tsi̍t lia̍p sī hueh-ap io̍h",
    "Ē-sái buâ tsò hún tsham tī muê lāi-té bô?",
)


def test_a_conditions_name_is_the_background_of_a_dosing_question(monkeypatch):
    assert _fires(*PILLS) == []
    assert is_dose_conversation(RULES, [standardized(t) for t in PILLS])
    # A symptom told beside it still fires.
    assert "stroke" in _fires("阿嬤頭拄仔喙歪一爿，講話袂清楚", *PILLS[1:])
    monkeypatch.setattr(conversation, "is_dose_conversation", lambda *a, **k: False)
    assert "stroke" in _fires(*PILLS)


def test_hyperbole_and_a_stutter_of_this_round(tmp_path):
    crowded = "Lâng tsuē kah beh sí, guá tán kah beh hūn--khì"
    grades = "A-kong khuànn sun-á ê sîng-tsik, kóng i sim-tsōng tō beh thîng--khì ah"
    stutter = "Guá sè-hàn tō tuā-tsi̍h, kóng-uē ē tùn, tuā-tsi̍h kám sī pēnn?"
    assert _rule_hits(crowded) == _rule_hits(grades) == _rule_hits(stutter) == []
    assert _rule_hits(crowded, replaced(tmp_path, "|tse|tsue|tan) (?:kah", ") (?:kah"))
    regex = (
        ", 'kong(?: \\S+){0,2}? sim tsong(?: \\S+){0,2}?"
        " (?:beh|khuai|kiong beh|tsha tsit tiam) thing'"
    )
    assert _rule_hits(grades, replaced(tmp_path, regex))
    assert _rule_hits(stutter, replaced(tmp_path, "sè-hàn tō, 細漢就, kóng-uē ē tùn, 講話會頓, "))


def test_bitter_medicine_and_a_pudding_are_no_emergency(tmp_path):
    bitter = "Io̍h-tsuí lim tio̍h khóo, i tō thòo tshut--lâi"
    pudding = "阿公吞不下膠囊 可以打開把粉倒在優格裡給他吃嗎"
    assert "poisoning" not in _rule_hits(bitter)
    assert _rule_hits(pudding) == []
    broken = replaced(tmp_path, " ngōo-tsia̍h, 誤食,", " ngōo-tsia̍h, 誤食, lim tio̍h, 啉著,")
    assert "poisoning" in _rule_hits(bitter, broken)
    assert _rule_hits(
        pudding, replaced(tmp_path, "在(?:布丁|優格|優酪乳|果凍|果泥|蘋果泥|豆花)|", "")
    )


def test_dosing_words_of_this_round(tmp_path):
    asks = [
        "A-kong ê khip-ji̍p-khì tsi̍t pái ài khip kuí tshuì?",
        "孫仔五歲咳嗽 可以喝大人的枇杷膏嗎 要幾匙",
    ]
    assert all(is_dose_conversation(RULES, [standardized(t)]) for t in asks)
    broken = replaced(tmp_path, "[khip-ji̍p-khì, khip-ji̍p-tse, 枇杷膏, ", "[")
    assert not is_dose_conversation(broken, [standardized(asks[0])])


def test_clear_headed_now_settles_a_treated_low(tmp_path):
    turns = (
        "A-má tsi̍t tiám-tsing tsîng hueh-thn̂g lo̍h kàu sì-tsa̍p guā, tshut líng-kuānn.",
        "Guá hōo i lim tsi̍t pue thn̂g-á-tsuí, tsit-má tsin tshing-tshénn, teh kah sun-á sńg.",
        "Ài tsún-pī siánn-mih thn̂g-á?",
    )
    assert _fires(*turns) == []
    assert _fires(*turns, rules=replaced(tmp_path, " tsin tshing-tshénn, 真清醒,"))
