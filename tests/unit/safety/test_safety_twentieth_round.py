"""Issue 21, twentieth round (rules 2026.12.26): what held-out v23 (judged blind at
2026.12.25, a tuning set since) showed, as classes. Pills hard to swallow beside a question
on how to take them; how to tell two things apart; an earlier year as an earlier day; a
teacher's words as hearsay; and the words it showed. Our own sentences; each check comes
with a broken input that makes it fail."""

from __future__ import annotations

from rounds import RULES, TEXT
from rounds import fires as _fires
from rounds import hits as _rule_hits

from support import rules_from, without_cues
from support import rules_replaced as replaced
from taigimed.safety import conversation
from taigimed.safety.conversation import standardized
from taigimed.safety.dose import is_dose_conversation

PILLS = (
    "阮阿嬤吞藥仔攏鯁著",
    "伊有一粒是膠囊，一粒是大粒的藥丸",
    "我敢會使共膠囊拍開，藥粉攪佇糜內底予伊食？",
)


def test_pills_hard_to_swallow_beside_how_to_take_them(monkeypatch):
    single = "A-má tsia̍h io̍h-á lóng ē kénn--tio̍h, kám ē-tàng kā io̍h-á buâ hōo hún?"
    assert _fires(*PILLS) == _fires(single) == []
    assert is_dose_conversation(RULES, [standardized(t) for t in PILLS])
    # A sign of distress still fires.
    assert "breathing" in _fires("阿嬤吞藥仔攏鯁著，這馬面紫紫，喘袂過來")
    monkeypatch.setattr(conversation, "_pill_trouble", lambda rules, hit, turns=(): False)
    assert "choking" in _fires(*PILLS, sure=False)
    assert "choking" in _fires(single, sure=False)


def test_how_to_tell_two_things_apart(tmp_path):
    text = "sim tsong penn kah ui sng gek liu e hing kham thiann, ai an tsuann hun?"
    assert _rule_hits(text) == []
    assert "chest_pain" in _rule_hits("阿公胸口很痛，怎麼分辨是不是心臟病？")  # somebody named
    assert _rule_hits(text, rules_from(tmp_path, without_cues(TEXT, "distinguish")))


CARE = ("我阿嬤去年中風過 現在左手比較沒力", "復健做了快一年", "在家裡還可以做哪些復健運動")


def test_an_earlier_year_is_an_earlier_day(tmp_path):
    assert _fires(*CARE) == []
    broken = TEXT.replace(", kū-nî, 舊年, khì-nî", "").replace(", 去年, 個月前]", ", 個月前]")
    assert "stroke" in _fires(*CARE, rules=rules_from(tmp_path, broken))


def test_a_teachers_words_are_hearsay(tmp_path):
    turns = ("我在上健康課", "老師說胸痛有的要馬上叫救護車", "那哪些情況要叫 哪些可以等明天看門診")
    assert _fires(*turns) == []
    assert _fires(*turns, rules=replaced(tmp_path, ", 老師說, 老師講, 那集", ", 那集"))


def test_over_and_laughing_settles(tmp_path):
    turns = (
        "一個小時前我媽血糖掉到55 手在抖",
        "我給她喝糖水 吃了餅乾 現在有說有笑在看電視",
        "以後要怎麼預防 睡前要不要先吃點東西",
    )
    assert _fires(*turns) == []
    broken = replaced(tmp_path, ", 有說有笑, 拍出來了, 完全正常, 不是心臟", ", 不是心臟")
    assert _fires(*turns, rules=broken)


def test_words_of_this_round(tmp_path):
    fridge = "i to soo khui liau ai khng ping siunn bo? bo khui e neh?"
    bill = "Lûn-í beh sì-bān, guá khuànn--tio̍h kè-siàu sim-tsōng suah beh thîng--khì, ha ha."
    assert _rule_hits(fridge) == _rule_hits(bill) == []
    assert _rule_hits(fridge, replaced(tmp_path, ", bô khui ê, 無開的", ""))
    assert _rule_hits(bill, replaced(tmp_path, ", sim-tsōng suah beh thîng"))


def test_a_storys_episode_and_whoever_is_in_it(tmp_path):
    turns = (
        "阮阿母逐暗看八點檔",
        "內面有一个阿嬤佇灶跤倒落去，喙歪，講話袂清楚",
        "彼是中風無？真的人中風嘛是按呢無？",
    )
    assert _fires(*turns) == []
    assert _fires(*turns, rules=replaced(tmp_path, ", lāi-bīn tsi̍t ê, 內面有一个"))


def test_sent_home_not_the_heart(tmp_path):
    turns = (
        "Tsa-hng àm-sî a-kong hing-khám thiànn, guán khì kip-tsín.",
        "I-sing kóng m̄ sī sim-tsōng, sī kin-bah khiú--tio̍h.",
        "Kin-á-ji̍t i bô koh thiànn--ah, ài án-tsuánn tsiah ē khah kín hó?",
    )
    assert _fires(*turns) == []
    broken = replaced(tmp_path, ", m̄ sī sim-tsōng, 毋是心臟, bô koh thiànn, 無閣疼")
    # Without the sure readings: yesterday's word and a sure "no" would set the pain aside
    # too (conversation.py step 7).
    assert "chest_pain" in _fires(*turns, rules=broken, sure=False)


def test_months_ago_is_an_earlier_day(tmp_path):
    turns = (
        "我公公三個月前中風 右手還是沒什麼力氣",
        "現在每週去醫院復健兩次",
        "在家裡可以幫他做什麼運動",
    )
    assert _fires(*turns) == []
    broken = TEXT.replace(", kò gue̍h tsîng, kò-gue̍h tsîng, 個月前", "").replace(
        ", 去年, 個月前]", ", 去年]"
    )
    assert "stroke" in _fires(*turns, rules=rules_from(tmp_path, broken))


def test_worries_and_questions_of_this_round(tmp_path):
    lately = "gua tsit tsun a tsiann kiann ka ti tiong hong, tshiu tsit tiam a ba tsiu kiann."
    english = "請問 when should I call 119 for 胸口痛? 阮阿爸有高血壓 我想先知道"
    assert _rule_hits(lately) == _rule_hits(english) == []
    assert _rule_hits(lately, replaced(tmp_path, ", tsiânn kiann ka-tī, tsiânn kiann, 誠驚"))
    assert _rule_hits(english, replaced(tmp_path, ", should i call, should we call"))


def test_injecting_less_needs_no_medicine_named(tmp_path):
    ask = "i sing kong tsa khi phah tsap nng tan ui, hueh thng khah ke e si, kam ai phah khah tsio?"
    assert is_dose_conversation(RULES, [standardized(ask)])
    broken = replaced(tmp_path, ", phah khah tsió, 拍較少")
    assert not is_dose_conversation(broken, [standardized(ask)])
