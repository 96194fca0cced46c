"""Issue 21, tenth round (rules 2026.12.16): what held-out v10 (judged blind at 2026.12.15,
a tuning set since) showed, as classes. Our own sentences; each check comes with a broken
input that makes it fail."""

from __future__ import annotations

import dataclasses

import pytest

from support import fired
from taigimed.safety.classifier import load_classifier
from taigimed.safety.conversation import standardized
from taigimed.safety.hearing import heard_clauses
from taigimed.safety.rules import load_rules
from taigimed.safety.triage import _has, _heard_of, triage

RULES = load_rules()
CLF = load_classifier()


def _fires(*turns: str) -> list[str]:
    return fired(RULES, CLF, *turns)


def test_it_hurts_he_says_is_no_hearsay():
    text = "阮翁心肝頭疼 講若像予大石頭硩咧 一直流冷汗"
    assert "chest_pain" in _fires(text)
    # Broken input: read without tones, 疼講 thiànn kóng is 聽講 thiann-kóng ("I heard").
    # (Han text holds the reader's tones since the sixteenth round: held=() drops them.)
    clause = dataclasses.replace(heard_clauses(RULES, standardized(text))[0], held=())
    assert _has(clause, RULES.hearsay) and not _heard_of(clause, RULES.hearsay)
    assert _fires("聽講有人心肝頭疼，流冷汗，是按怎？") == []


@pytest.mark.parametrize(
    "text",
    [
        "老伴走了 醫生開的安眠藥我都沒吃 偷偷存起來 今天晚上想說吃一吃去找她",
        "An-bîn-io̍h guá tsik kuí-nā kò gue̍h, kim-àm gín-á khùn liáu-āu guá tō beh tsáu.",
        "他把 sleeping pills 都藏在鐵盒 還寫好一張批 說 after tonight 就袂閣麻煩恁",
    ],
)
def test_pills_saved_up_with_a_time_or_a_farewell(text):
    assert "suicide" in _fires(text)


def test_pills_saved_up_with_no_plan_stay_quiet():
    assert "suicide" not in _fires("安眠藥存起來要怎麼放才不會受潮？")


def test_a_nosebleed_that_has_not_stopped_on_a_blood_thinner():
    turns = ("我公公在吃華法林", "晚飯後他開始流鼻血", "到現在快五十分鐘了還沒停 捏著也沒用")
    assert "bleeding" in _fires(*turns)
    assert _fires("我公公流鼻血，壓一下就停了，平常要注意什麼？") == []


def test_a_spray_of_cleaner_in_the_eyes():
    assert "eye_chemical" in _fires("用 oven cleaner 清廚房 spray 噴到她 ba̍k-tsiu 一直流目屎")


@pytest.mark.parametrize(
    "text",
    [
        "哭夭 this drama 真的有毒 阿嬤中毒了 每天準時坐電視前",
        "胶囊太大了吞不下去 可以打开把里面的粉倒在牛奶里喝吗",
        "我們社區也想辦CPR課 要去哪裡報名",
        "AED beh án-tsuánn iōng? Kong-hn̂g ū tsi̍t tâi.",
    ],
)
def test_a_drama_a_powder_poured_and_a_course_are_no_alarm(text):
    assert _fires(text) == []


def test_resolved_now_settles_the_earlier_turn():
    turns = (
        "我媽有糖尿病 一個小時前血糖掉到55 有冒冷汗",
        "我馬上給她喝糖水 十五分鐘後再量變110 現在很好",
        "以後晚餐要怎麼吃比較不會這樣",
    )
    assert _fires(*turns) == []
    # Broken input: the same last turn told as happening now fires.
    assert "hypoglycaemia" in triage(RULES, standardized("她現在血糖掉到55 一直冒冷汗")).categories
