"""Issue 21, eighteenth round (rules 2026.12.24): what held-out v20 (judged blind at
2026.12.23, a tuning set since) showed, as classes. A carer's story that names a pill and
asks nothing is no dosing question; "ten-odd" and "half an hour" are no amounts; a
medicine named by its form, its transliteration or the doctor's frequency; "nearly" is no
event; laughter makes "about to" a joke; "V to death" is a degree; a "when" with its
question in one clause; the writer as the learner; a resolution in doubt does not reach
back; and the words it showed. Our own sentences; each check comes with a broken input that
makes it fail."""

from __future__ import annotations

import re

from rounds import RULES, TEXT
from rounds import fires as _fires
from rounds import hits as _rule_hits

from support import rules_from, without_cues
from support import rules_replaced as replaced
from taigimed.safety import conversation, dose, triage
from taigimed.safety.conversation import standardized
from taigimed.safety.dose import asked_doses, asks_something, is_dose_conversation

NEVER = re.compile(r"(?!)")

STORY = "A-pah kâm tsi̍t lia̍p sim-tsōng io̍h mā bô-hāu, bīn tshenn-sun-sun, kuānn it-ti̍t lâu."


def test_a_story_that_asks_nothing_is_no_dosing_question(monkeypatch):
    assert not asks_something(RULES, standardized(STORY))
    assert asks_something(RULES, standardized("Tsia̍h nn̄g lia̍p ē-sái--bô"))
    assert asks_something(RULES, standardized("降血糖藥是不是要先停"))
    # kám-kak (feeling) is no kám (a question).
    assert not asks_something(RULES, standardized("Guá kám-kak bô tuì, kâm tsi̍t lia̍p io̍h-á"))
    assert _fires(STORY)
    # Broken input: every turn taken for a question, as before: the pill silences it.
    monkeypatch.setattr(conversation, "asks_something", lambda rules, text: True)
    assert _fires(STORY, sure=False) == []


def test_ten_odd_and_half_an_hour_are_no_amounts(monkeypatch):
    told = standardized("阿公共一禮拜的藥仔攏食去，十幾粒，有血壓藥")
    assert not dose.is_dose_question(RULES, told, ways=False)
    assert dose.is_dose_question(RULES, standardized("血壓藥一擺愛食幾粒？"))
    assert asked_doses("tsit-má puànn tiám-tsing ah") == []
    assert asked_doses("ba̍k-io̍h tsi̍t pái tiám nn̄g tiám") == ["nn̄g tiám"]
    monkeypatch.setattr(dose, "_APPROXIMATE", NEVER)
    assert dose.is_dose_question(RULES, told, ways=False)


def test_a_medicine_named_by_its_form_its_spelling_or_the_doctors_frequency(tmp_path):
    asks = [
        "Guá ta̍k kang tsia̍h a-su-phî-lîn, bán gê tsìn-tsîng ài thîng kuí kang?",
        "Thiap-puh tsi̍t kang uānn kuí pái?",
        "過敏的噴霧 一天最多可以噴幾次",
        "I-sing kóng tsi̍t kang nn̄g pái, guá ē-sái kái tsò tsi̍t pái bô?",
        "昨天晚上忘了吃，今天可以吃兩顆補回來嗎",
        "Can I 把膠囊拍開倒佇果汁內底?",
    ]
    assert all(is_dose_conversation(RULES, [standardized(t)]) for t in asks)
    # Since the twenty-sixth round a name is also heard by ear (dose.by_ear): the list's
    # a-su-phí-lîng holds a-su-phî-lîn too, so the broken file has neither spelling.
    text = TEXT.replace(", a-su-phî-lîn, huâ-huat-lîm", "").replace(", a-su-phí-lîng", "")
    assert not is_dose_conversation(rules_from(tmp_path, text), [standardized(asks[0])])
    (tmp_path / "b").mkdir()
    broken = replaced(tmp_path / "b", ", 顆補回來, 粒補回來")
    assert not is_dose_conversation(broken, [standardized(asks[4])])


def test_nearly_is_no_event(tmp_path):
    text = "阿嬤在菜市場排隊差一點昏倒，老人夏天出門要帶什麼?"
    assert _rule_hits(text) == []
    broken = TEXT.replace(", tsha-tsi̍t-tiám, 差一點", "").replace(", 差點, 差一點", "")
    assert _rule_hits(text, rules_from(tmp_path, broken))


BILL = "看到這個月的電費單，老公的心臟快停了，哈哈"


def test_laughter_makes_about_to_a_joke(tmp_path):
    assert _rule_hits(BILL) == []
    assert "chest_pain" in _rule_hits("我爸說胸口很痛 哈哈")  # a real sign still counts
    assert _rule_hits(BILL, rules_from(tmp_path, without_cues(TEXT, "joking")))


def test_to_death_is_a_degree(tmp_path):
    queue = "Guá pâi-tuī pâi kah beh sí, lāu-lâng tshut-mn̂g ài tsù-ì siánn?"
    assert _rule_hits(queue) == []
    assert "suicide" in _rule_hits("Guá beh sí")
    degree = r"(?!(?:tshuan|thoo|hueh) )\S+ (?:kah|kau) (?:beh|kiong beh|khuai) si(?!\S)"
    broken = replaced(tmp_path, ", '(?<!\\S)" + degree + "'")
    assert "suicide" in _rule_hits(queue, broken)


def test_a_when_with_its_question_in_one_clause(monkeypatch):
    text = "胸痛的時候什麼情況要馬上叫救護車 我想幫家裡的長輩先準備"
    burned = "奶奶燒紙錢的時候袖子著火了 整隻手臂起水泡 皮白白的 不怎麼痛了"
    assert _rule_hits(text) == []
    assert "burns" in _rule_hits(burned)  # 不怎麼 far after the "when" asks nothing
    monkeypatch.setattr(triage, "_WHEN_ASK_REACH", -1)
    assert _rule_hits(text)


def test_the_writer_as_the_learner(monkeypatch, tmp_path):
    assert _fires("CPR 要壓多深 我想去上課") == []
    # Somebody here, outside the clauses about learning: no lesson.
    assert "cardiac_arrest" in _fires("我爸倒下了 沒有呼吸 CPR要怎麼壓 我想去上課")
    monkeypatch.setattr(conversation, "HAN_SPACE", NEVER)
    # "How deep to press" asks in general since the twenty-eighth round: not in this file.
    pressing = rules_from(tmp_path, TEXT.replace(", 按多深, 壓多深, 按幾下", ""))
    assert _fires("CPR 要壓多深 我想去上課", rules=pressing, sure=False)


def test_a_resolution_in_doubt_does_not_reach_back(tmp_path):
    text = "我爸說胸口很痛 應該沒事吧"
    assert "chest_pain" in _rule_hits(text)
    assert _fires("阿公剛剛胸口痛，吃了藥已經好了，現在在看電視") == []
    broken = TEXT.replace(" 應該, ing-kai,", "").replace(" 好像, 應該, 可能,", " 好像, 可能,")
    assert "chest_pain" not in _rule_hits(text, rules_from(tmp_path, broken))


def test_words_of_this_round(tmp_path):
    chest = "A-má kóng hing-khám ná hōo tsio̍h-thâu teh--leh"
    arm = "a pah hing kham bo song khuai, thiann kah to tshiu"
    eye = "Guá teh phun tû-tsháu-tse, io̍h-tsuí phùn ji̍p ba̍k-tsiu, tsit-má thiànn kah"
    week = "阮阿公共規禮拜的藥仔攏總食落去"
    assert "chest_pain" in _rule_hits(chest)
    assert "chest_pain" in _rule_hits(arm)
    assert "eye_chemical" in _rule_hits(eye)
    assert "poisoning" in _rule_hits(week)
    assert "chest_pain" not in _rule_hits(chest, replaced(tmp_path, ", tsio̍h-thâu teh, 石頭硩"))
    assert "chest_pain" not in _rule_hits(
        arm, replaced(tmp_path, ", thiànn kah tò-tshiú, thiànn kàu tò-tshiú, 疼甲倒手, 疼到倒手")
    )
    assert "eye_chemical" not in _rule_hits(
        eye, replaced(tmp_path, ", tû-tsháu, 除草, io̍h-tsuí phùn, 藥水噴")
    )
    assert "poisoning" not in _rule_hits(
        week, replaced(tmp_path, ", 藥…攏總食落去, io̍h … lóng-tsóng tsia̍h")
    )


def test_general_questions_and_traits_of_this_round(tmp_path):
    when = "Hing-khám thiànn tong-sî ài kiò kiù-hōo-tshia?"
    counts = "Hing-khám thiànn guā-kú tsiah sǹg guî-hiám?"
    signs = "What are the signs of stroke? 阮阿母驚家己 tiòng-hong 毋知影"
    birth = "我弟 from birth 就大舌，找工作會不會有影響"
    assert _rule_hits(when) == _rule_hits(counts) == _rule_hits(signs) == _rule_hits(birth) == []
    assert _rule_hits(when, replaced(tmp_path, ", tong-sî ài"))
    assert _rule_hits(counts, replaced(tmp_path, ", tsiah sǹg, 才算"))
    assert _rule_hits(signs, replaced(tmp_path, ", 驚家己, kiann ka-kī"))
    # Since the twenty-sixth round "looking for a job" tells the trait too (cues.speech_trait):
    # the broken file has neither.
    broken = TEXT.replace(", from birth, since birth", "").replace(", 找工作", "")
    assert broken.count("找工作") < TEXT.count("找工作")
    assert _fires(birth, rules=rules_from(tmp_path, broken))
