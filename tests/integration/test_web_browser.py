"""The chat page in real headless Chromium against a real `taigimed serve` process.

Debian's /usr/bin/chromium driven by Playwright (never a downloaded browser); CJK text
needs a font such as fonts-wqy-zenhei, and Tâi-lô's tone marks a Latin font that draws
combining marks (fonts-dejavu-core). Screenshots go to docs/screenshots/.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from support import start_serve, stop

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CHROMIUM = os.environ.get("TAIGIMED_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture(scope="module")
def server(tiny_model_dir, tmp_path_factory):
    root = tmp_path_factory.mktemp("web")
    args = ["--config", "tiny", "--model", str(tiny_model_dir)]
    server = start_serve(root / "work", *args, "--set", "serve.default_max_tokens=24")
    yield server.base_url, root / "work" / "serve" / "taigimed.sqlite"
    stop(server.proc)


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium fonts-wqy-zenhei)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def _send(page, text: str):
    before = page.locator(".msg.bot[data-done]").count()
    page.fill("#input", text)
    page.keyboard.press("Enter")
    page.wait_for_function(
        f"document.querySelectorAll('.msg.bot[data-done]').length > {before}", timeout=60000
    )
    return page.locator(".msg.bot[data-done]").nth(before)


def _feedback(db, columns: str, answer_id: str, timeout: float = 10) -> list[tuple]:
    """The feedback rows stored for an answer (the writer stores in the background)."""
    deadline = time.monotonic() + timeout
    rows = []
    while time.monotonic() < deadline and not rows:
        with sqlite3.connect(db) as conn:
            rows = conn.execute(
                f"select {columns} from feedback where message_id = ?", (answer_id,)
            ).fetchall()
        time.sleep(0.2)
    return rows


def test_chat_page_end_to_end(server, browser):
    url, db = server
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    frames: list[str] = []
    page.on(
        "websocket",
        lambda ws: ws.on("framereceived", lambda f: frames.append(f if isinstance(f, str) else "")),
    )
    page.goto(url)
    assert page.locator("#disclaimer").is_visible()
    assert "毋是診斷" in page.locator("#disclaimer").inner_text()
    assert page.evaluate("getComputedStyle(document.documentElement).fontSize") >= "20px"

    # An ordinary question: the answer streams in token by token and ends with the disclaimer.
    answer = _send(page, "感冒欲按怎照顧？")
    assert sum('"type":"token"' in f.replace(" ", "") for f in frames) >= 2
    assert "毋是診斷" in answer.inner_text()
    assert page.locator("#emergency").is_hidden()

    # Tâi-lô toggle: the answer's Tâi-lô view and the UI romanisation show and hide.
    tl = answer.locator(".tl-block")
    assert tl.is_visible() and tl.inner_text().strip()
    page.click("#tailo-toggle")
    assert tl.is_hidden() and page.get_attribute("#tailo-toggle", "aria-pressed") == "false"
    page.click("#tailo-toggle")
    assert tl.is_visible()

    # Feedback is stored against the answer's id.
    answer.locator(".feedback button").first.click()
    page.wait_for_selector(".feedback .thanks")
    answer_id = page.evaluate("document.querySelectorAll('.msg.bot[data-done]')[0].dataset.id")
    assert _feedback(db, "kind, thumbs", answer_id) == [("thumbs", "up")]

    # A red flag: the emergency notice appears and cannot be missed.
    emergency = _send(page, "我胸坎真疼，喘袂過來")
    assert "119" in emergency.inner_text() and "red_flag" in emergency.get_attribute("class")
    notice = page.locator("#emergency")
    assert notice.is_visible() and page.locator("#call-1925").is_hidden()
    assert notice.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(176, 0, 0)"
    # On a desktop the disclaimer stays whole on screen beside the banner.
    d = page.locator("#disclaimer").bounding_box()
    header = page.locator("header.top").bounding_box()
    assert d and header and d["y"] + d["height"] <= header["y"] + header["height"] + 1
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "chat-desktop.png"))
    page.close()


def _phone(browser):
    return browser.new_context(
        viewport={"width": 390, "height": 844}, device_scale_factor=1, is_mobile=True
    )


def test_phone_layout_emergency_dismiss_and_tailo_font(server, browser):
    url, _ = server
    ctx = _phone(browser)
    page = ctx.new_page()
    page.goto(url)
    page.evaluate("localStorage.clear()")
    page.reload()
    # Every visible line of the disclaimer, the Tâi-lô one included, is 18 px or more.
    sizes = page.evaluate(
        "[...document.querySelectorAll('#disclaimer, #disclaimer *')]"
        ".filter(e => e.offsetParent !== null && e.textContent.trim())"
        ".map(e => parseFloat(getComputedStyle(e).fontSize))"
    )
    assert sizes and min(sizes) >= 18, sizes
    reply = _send(page, "阮阿公胸坎足疼，喘袂過來")
    assert "119" in reply.inner_text() and "red_flag" in reply.get_attribute("class")
    # The banner is on screen and not covered or clipped by anything.
    banner = page.locator("#emergency").bounding_box()
    assert banner and banner["y"] >= 0 and banner["y"] + banner["height"] <= 844
    assert page.evaluate(
        "(() => { const b = document.getElementById('emergency').getBoundingClientRect();"
        " const e = document.elementFromPoint(b.left + 20, b.top + b.height / 2);"
        " return !!e.closest('#emergency'); })()"
    )
    # The conversation keeps at least half the screen, and the emergency answer is in it.
    log = page.evaluate(
        "(() => { const r = document.getElementById('log')"
        ".getBoundingClientRect(); return [r.top, r.bottom]; })()"
    )
    assert log[1] - log[0] >= 844 / 2, log
    box = reply.bounding_box()
    assert box and log[0] - 1 <= box["y"] < log[1] - 40, (box, log)
    # A Taigi Han answer has its Tâi-lô line, drawn with a font that has the tone marks.
    tl = reply.locator(".tl-block")
    assert tl.is_visible() and "119" in tl.inner_text()
    assert tl.evaluate("e => getComputedStyle(e).fontFamily").startswith('"DejaVu Sans"')
    assert page.evaluate("document.fonts.check('20px \"DejaVu Sans\"', 'a̍ m̄ o͘ ⁿ')")
    page.screenshot(path=str(SHOTS / "chat-phone.png"))
    # A false alarm can be dismissed; the answer stays.
    page.click("#em-dismiss")
    assert page.locator("#emergency").is_hidden() and reply.is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(SHOTS / "chat-phone-dismissed.png"))
    ctx.close()
    fonts = subprocess.run(["fc-list"], capture_output=True, text=True).stdout
    assert shutil.which("fc-list") is None or ("WenQuanYi" in fonts and "DejaVu Sans" in fonts)


def test_phone_mandarin_suicide_line_and_no_tailo_line(server, browser):
    url, _ = server
    ctx = _phone(browser)
    page = ctx.new_page()
    page.goto(url)
    page.select_option("#lang", "mandarin")
    assert "不是診斷" in page.locator("#disclaimer").inner_text()
    reply = _send(page, "我好想死，活不下去了")
    assert "1925" in reply.inner_text()
    assert page.locator("#call-1925").is_visible()
    # A Mandarin answer gets no word-by-word Taigi reading.
    assert reply.locator(".tl-block").count() == 0
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(SHOTS / "chat-phone-mandarin.png"))
    page.select_option("#lang", "taigi")
    ctx.close()


@pytest.fixture(scope="module")
def cards_server(tiny_model_dir, tmp_path_factory):
    """The page as the default recipe serves it: answers are the vetted demo cards."""
    root = tmp_path_factory.mktemp("web-cards")
    args = ["--config", "tiny", "--model", str(tiny_model_dir)]
    sets = ["serve.answer_mode=cards", "serve.answer_guard=true"]
    server = start_serve(root / "work", *args, *[x for s in sets for x in ("--set", s)])
    yield server.base_url, root / "work" / "serve" / "taigimed.sqlite"
    stop(server.proc)


def test_phone_card_answer_shows_its_source_in_large_type(cards_server, browser):
    url, db = cards_server
    ctx = _phone(browser)
    page = ctx.new_page()
    page.goto(url)
    page.evaluate("localStorage.clear()")
    page.reload()
    reply = _send(page, "阮阿母血壓懸，平常食物愛注意啥物？")
    assert "card" in reply.get_attribute("class")
    assert reply.locator(".body").inner_text().startswith("血壓懸")
    sources = reply.locator(".sources")
    assert sources.is_visible()
    assert "衛生福利部國民健康署" in sources.inner_text()
    assert sources.locator("a").get_attribute("href").startswith("https://")
    warning = sources.locator(".unreviewed")
    assert warning.is_visible() and "猶未予醫生審過" in warning.inner_text()
    size = sources.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
    assert size >= 20, size
    # The card's own Tâi-lô text, not a machine reading, is the Tâi-lô line.
    assert "Hueh-ap kuân" in reply.locator(".tl-block").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    sources.scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "chat-phone-card.png"))
    # "This is wrong" is stored against the card, for the review queue.
    answer_id = reply.get_attribute("data-id")
    reply.locator(".feedback button").nth(2).click()
    page.wait_for_selector(".feedback .thanks")
    card = sources.get_attribute("data-cards")
    assert card.startswith("hypertension-")
    assert _feedback(db, "kind, card_id", answer_id) == [("inaccuracy", card)]
    ctx.close()


def test_chat_page_reads_the_conversation(server, browser):
    """Issue 21 on the page: an emergency told across two turns raises the notice on the
    second; after a hypo already corrected, a prevention question does not."""
    url, _ = server
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(url)
    first = _send(page, "阮阿嬤有糖尿病，有拍胰島素")
    assert "red_flag" not in (first.get_attribute("class") or "")
    second = _send(page, "看護講阿嬤一直流汗，手咧掣，叫伊攏無應")
    assert "119" in second.inner_text() and "red_flag" in second.get_attribute("class")
    assert page.locator("#emergency").is_visible()

    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(url)
    # A hypo already corrected, told in one message: the resolution after the event reaches
    # back (safety/resolution.py), so neither it nor the prevention question after it raises
    # the notice.
    settled = _send(page, "阿嬤拄才血糖低，啉糖仔水已經好矣")
    assert "red_flag" not in (settled.get_attribute("class") or "")
    assert page.locator("#emergency").is_hidden()
    reply = _send(page, "以後欲按怎預防？")
    assert "red_flag" not in (reply.get_attribute("class") or "")
    page.close()
