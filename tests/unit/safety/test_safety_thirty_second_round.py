"""Issue 21, thirty-second round (rules 2027.01.08): what held-out v51-v53 (judged blind at
2027.01.07) showed again of suicide told as a plan with no means: going to the sea or the
river and not coming back, with being a burden, worn out or an illness that will not be cured
(four writers in v45, v48 and v52 wrote it so); and "will not come back" is no
"came back home" (轉來矣), which settled the turn. Our own sentences; each check comes with a
broken input that makes it fail."""

from __future__ import annotations

import pytest
from rounds import fires

from support import rules_removed as _without

# Each: the plan, in one message or across a conversation.
PLANS = [
    ("阮翁過身了後我一个人 規身軀病痛 足忝 明仔暗我欲去海邊 就毋轉來矣",),
    ("我的病治不好了，一直麻煩孩子。明天一早我去海邊走走，就不回來了",),
    (
        "Guán ang kuè-sin liáu-āu guá tsi̍t-ê lâng tuà.",
        "Guá tsin thiám, mā bô lâng thang kóng-uē.",
        "Bîn-á tsá-khí guá beh khì khe-pinn, bô beh koh tńg--lâi--ah.",
    ),
]
# Worn out in one turn, the plan in the last: "tonight … and not come back" (tńg-lâi ah).
ACROSS = [
    (
        "Guá tsin thiám, mā bô lâng ē pang guá.",
        "Kin-á-àm guá beh khì hái-pinn, tō bô beh koh tńg-lâi ah.",
    ),
    ("阮這馬足忝", "今仔暗我欲去海邊，就毋轉來矣"),
]


@pytest.mark.parametrize("turns", PLANS)
def test_to_the_water_and_not_back_is_a_plan(tmp_path, turns):
    assert "suicide" in fires(*turns)
    broken = _without(
        tmp_path,
        "hái-pinn, 海邊, khe-á, 溪仔, khe-pinn, 溪邊, hô-pinn, 河邊, ",
        "海邊, 溪邊, 河邊, 水庫, ",
    )
    assert "suicide" not in fires(*turns, rules=broken, sure=False)


@pytest.mark.parametrize(
    "text",
    [
        # A night away at the beach: the water and "not back", nothing of a burden.
        "禮拜六阮規家伙仔欲去海邊烤肉，暗時毋轉來矣，蹛民宿",
        "我們這週末去河邊露營，晚上不回來了",
    ],
)
def test_a_night_away_is_no_plan(text):
    assert fires(text) == []


@pytest.mark.parametrize("turns", ACROSS)
def test_will_not_come_back_does_not_settle_the_turn(tmp_path, turns):
    assert "suicide" in fires(*turns)
    # Broken: 轉來矣 in "will not come back" read as "came back home" again, which settles
    # the last turn: the worn-out turn before it is not read with it.
    broken = _without(
        tmp_path,
        "bô beh koh tńg--lâi--ah, bē koh tńg--lâi--ah, m̄ tńg--lâi--ah, m̄ koh tńg--lâi--ah, ",
        "毋轉來矣, 袂閣轉來矣, 無欲閣轉來矣, 毋閣轉來矣, ",
    )
    assert "suicide" not in fires(*turns, rules=broken, sure=False)


def test_will_not_get_better_settles_nothing(tmp_path):
    """醫不好了 holds 好了 ("better"): not a resolution, which set the illness and the burden
    told in the first turn aside."""
    turns = ("我這個病醫不好了，一直麻煩女兒", "等她明天去上班，我就去河邊，不會再回來了")
    assert "suicide" in fires(*turns)
    broken = _without(tmp_path, "不好了, 好不了了, ")
    assert "suicide" not in fires(*turns, rules=broken, sure=False)
