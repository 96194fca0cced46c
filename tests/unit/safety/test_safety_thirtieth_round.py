"""Issue 21, thirtieth round (rules 2027.01.06): a wound's blood pressed with a towel and
still flowing. The classifier caught the original held-out file's 傷口的血用毛巾壓了很久
還是一直流 until it was retrained with v41-v44 (its score fell under the threshold), and no
rule read the blood and the flowing eight characters apart. Our own sentences; each check
comes with a broken input that makes it fail."""

from __future__ import annotations

from rounds import hits

from support import rules_replaced as replaced

PRESSED = "阿公切菜割到手 血用紗布壓了半天 還是一直流"
REGEX = ", 're:血(?!壓).{0,8}?壓.{0,6}?還是一直流'"


def test_blood_pressed_and_still_flowing_is_bleeding(tmp_path):
    assert "bleeding" in hits(PRESSED)
    assert "bleeding" not in hits(PRESSED, rules=replaced(tmp_path, REGEX))


def test_blood_pressure_is_not_blood_pressed(tmp_path):
    # 血壓 is blood pressure, and a runny nose that will not stop is no bleeding.
    nose = "阿公吃完血壓藥壓力很大 鼻水還是一直流"
    assert hits(nose) == []
    no_lookahead = replaced(tmp_path, "(?!壓)")
    assert "bleeding" in hits(nose, rules=no_lookahead)
