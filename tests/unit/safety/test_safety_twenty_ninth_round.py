"""Issue 21, twenty-ninth round (rules 2027.01.05): what held-out v39 and v40 (judged blind
at 2027.01.04 with the sure readings, regression sets since) showed. Pills that often choke
a man are pill trouble, not choking now; a heartbeat that skips (心跳漏) is no jump from a
building; a body convulsing told as 全身抽; a question about prevention after a hypo treated
is not read joined with the hypo. Our own sentences; each check comes with a broken input
that makes it fail."""

from __future__ import annotations

from rounds import TEXT, redirected
from rounds import fires as _fires

from support import rules_from
from support import rules_replaced as replaced

PILLS = (
    "A-pah tsia̍h hueh-ap io̍h, io̍h-á tsin tuā lia̍p.",
    "I tsia̍h io̍h tiānn kénn--tio̍h, thun bē lo̍h-khì.",
    "Guá ē-sái kā io̍h-á phuà tsi̍t puànn, iah-sī gíng hōo iù bô?",
)


def test_pills_that_often_choke_are_pill_trouble(tmp_path):
    assert _fires(*PILLS) == []
    assert redirected(*PILLS)
    broken = replaced(tmp_path, ", tiānn kénn, tiānn-tiānn, 定定")
    assert "choking" in _fires(*PILLS, rules=broken, sure=False)


def test_a_heartbeat_that_skips_is_no_jump(tmp_path):
    message = "我心跳漏一拍 要怎麼辦"  # 跳漏 read thiàu-lāu
    assert _fires(message) == []
    broken = rules_from(tmp_path, TEXT.replace("han: ['心跳漏', ", "han: ["))
    assert "suicide" in _fires(message, rules=broken, sure=False)


def test_a_body_convulsing_told_short(tmp_path):
    bus = "阿嬤在公車上全身抽 司機停車了 她都沒反應"
    assert "seizure" in _fires(bus)
    assert _fires("我最近全身抽痛 睡不太好") == []  # aching all over: 抽痛 is a look-alike
    assert "seizure" not in _fires(bus, rules=replaced(tmp_path, ", 全身抽, 眼睛吊"), sure=False)
    aching = replaced(tmp_path, ", 抽痛, 抽血")
    assert "seizure" in _fires("我最近全身抽痛 睡不太好", rules=aching, sure=False)


def test_prevention_after_a_hypo_treated_is_not_read_joined(tmp_path):
    turns = (
        "gua a bu tsa khi hueh thng kang kau sann tsap gua",
        "gua hoo i lim thng tsui, tsiah piann, tsit tiam tsing au niu tsit pah ji",
        "tann i tsin tshing tsho, teh khuann tian si. gua beh an tsuann i hong?",
    )
    assert _fires(*turns) == []
    # Without ī-hông (預防) among the everyday questions' words the last turn asks nothing
    # of care, and the joined turns are read: the hypo fires again.
    unasked = TEXT.replace(", ī-hông, pó-ióng", ", pó-ióng", 1).replace(", 預防, 保養", ", 保養", 1)
    assert _fires(*turns, rules=rules_from(tmp_path, unasked)) != []
