"""Issue 21, fifteenth round (rules 2026.12.21): what held-out v15 and v16 (judged blind at
2026.12.20, tuning sets since) showed, as classes. A stranger's 他 in the news; died of it
(走的) as past; 還是 as "or" (cues.choice); a supposition read forward (若是, cues.suppose);
the person normal again as well; hyperbole of laughter and of prices in romanisation; a
charcoal plan in Tâi-lô; a cleaning fluid splashed in the eyes. Our own sentences; each check
comes with a broken input that makes it fail."""

from __future__ import annotations

import pytest
from rounds import TEXT
from rounds import fires as _fires
from rounds import hits as _rule_hits

from support import rules_from, without_cues

NEWS = "剛剛看新聞說有個阿公在市場突然倒下 路人幫他做CPR 好佩服 想問CPR要去哪裡學"


def test_a_strangers_he_in_the_news_is_nobody_here():
    assert _rule_hits(NEWS) == []
    # Broken input: the writer's own father in the same message fires.
    assert _rule_hits("剛剛看新聞說有人突然倒下 我爸現在也倒在地上叫不醒")


def test_without_stranger_the_pronoun_names_somebody(tmp_path):
    # Without the twentieth round's 哪裡學 too: a clause that asks where to learn names no
    # person of the writer's either.
    broken = rules_from(tmp_path, without_cues(TEXT.replace(", 哪裡學", ""), "stranger"))
    assert _rule_hits(NEWS, broken)


CHOICE = "胸口痛到什麼程度要叫救護車 還是可以先自己坐計程車去急診"


def test_haishi_as_or_is_no_now():
    assert _rule_hits(CHOICE) == []
    assert "chest_pain" in _rule_hits("我爸胸口痛 還是一直冒冷汗")


def test_without_choice_haishi_is_still(tmp_path):
    assert _rule_hits(CHOICE, rules_from(tmp_path, without_cues(TEXT, "choice")))


SUPPOSE = "阮兜有老大人，若是中風，喙會按怎歪？欲按怎看？"


def test_a_supposition_is_read_forward():
    assert _rule_hits(SUPPOSE) == []
    assert "stroke" in _rule_hits("阿公喙歪一爿，若是中風欲按怎")


def test_without_suppose_the_supposed_stroke_fires(tmp_path):
    assert _rule_hits(SUPPOSE, rules_from(tmp_path, without_cues(TEXT, "suppose")))


DIED_OF = "阮老爸就是心肌梗塞走的，我這馬五十五歲，欲做啥物檢查較安心"


def test_died_of_it_is_past():
    assert _rule_hits(DIED_OF) == []


def test_died_of_it_without_the_words_fires(tmp_path):
    # Not the twenty-third round's tsáu--ê either: 走的 is read tsáu ê in Han text too.
    broken = TEXT.replace("    mandarin: [走的, 過世的, 去世的, ", "    mandarin: [", 1)
    broken = broken.replace(", tsáu--ê", "")
    assert broken != TEXT
    assert _rule_hits(DIED_OF, rules_from(tmp_path, broken))


@pytest.mark.parametrize(
    "text",
    [
        "A-má khuànn hí, tshiò kah tshuán bē kuè--lâi, ha-ha",
        "Guá huann-hí kah beh hūn--khì, bîn-á-tsài beh khì Ji̍t-pún",
    ],
)
def test_romanised_hyperbole_of_laughter_and_joy(text):
    assert _rule_hits(text) == []


def test_what_hurts_so_much_one_cannot_breathe_still_fires():
    assert _rule_hits("A-pah hing-khám thiànn kah tshuán bē kuè--lâi")


def test_a_charcoal_plan_and_a_splashed_cleaner():
    assert "suicide" in _rule_hits("Guá í-king bé hó thuànn, kin-á-àm beh tī pâng-king lāi sio")
    assert "eye_chemical" in _rule_hits(
        "A-kong tshing piān-sóo ê io̍h-tsuí tshiâng tio̍h ba̍k-tsiu, ba̍k-tsiu peh bē khui"
    )
    # Broken input: charcoal bought for a barbecue tonight is no plan.
    assert "suicide" not in _rule_hits("Guá í-king bé hó thuànn, kin-á-àm beh tī tshù-tíng khó bah")


def test_the_person_normal_again_settles_a_treated_low():
    turns = (
        "阿公下晡血糖低到50，一直流汗",
        "我予伊啉果汁，這馬人正常，咧看電視",
        "暗頓欲按怎食較袂閣低？",
    )
    assert _fires(*turns) == []
    assert _fires(*turns[:2], "這馬閣開始流汗，叫伊攏無應")
