// TaigiMed chat page: plain JavaScript, no build step, nothing fetched from the internet.
"use strict";

const TEXT = {
  taigi: {
    title: "台語健康資訊", tailo: "羅馬字", lang: "語言", send: "送出",
    disclaimer: "這是一般的健康資訊，毋是診斷。緊急狀況請隨時敲 119。",
    emergency: "緊急！請隨時敲 119", line1925: "安心專線", dismiss: "✕ 毋是緊急，關掉",
    placeholder: "佇遮寫你的問題 Tī-tsia siá lí ê būn-tê",
    up: "✔ 好", down: "✘ 無好", report: "⚠ 回報錯誤", call: "敲", thanks: "已經收著，多謝你 Í-king siu--tio̍h, to-siā lí",
    connecting: "連線中…", connected: "", lost: "連線斷去矣，閣試一擺…",
    waiting: "這个回答當咧等醫護人員檢查", released: "醫護人員檢查好矣：",
    source: "資料來源", unreviewed: "這張衛教卡猶未予醫生審過",
  },
  mandarin: {
    title: "台語健康資訊", tailo: "羅馬字", lang: "語言", send: "送出",
    disclaimer: "以上是一般健康資訊，不是診斷。緊急狀況請立刻撥打 119。",
    emergency: "緊急！請立刻撥打 119", line1925: "安心專線", dismiss: "✕ 不是緊急，關閉",
    placeholder: "請在這裡輸入你的問題",
    up: "✔ 有幫助", down: "✘ 沒幫助", report: "⚠ 回報錯誤", call: "撥打", thanks: "已收到，謝謝你",
    connecting: "連線中…", connected: "", lost: "連線中斷，重新連線…",
    waiting: "這個回答正在等候醫護人員審核", released: "醫護人員已審核：",
    source: "資料來源", unreviewed: "這張衛教卡尚未經醫師審閱",
  },
};
const TAILO = {
  up: "Hó", down: "Bô-hó", report: "Huê-pò tshò-gōo",
};

const state = { lang: localStorage.getItem("taigimed.lang") || "taigi", ws: null, bot: null, queue: [] };
const $ = (id) => document.getElementById(id);
const t = (key) => TEXT[state.lang][key];

function applyLanguage() {
  document.documentElement.lang = state.lang === "taigi" ? "nan-Hant-TW" : "zh-Hant-TW";
  document.querySelectorAll("[data-t]").forEach((el) => { el.textContent = t(el.dataset.t); });
  document.querySelectorAll("[data-tl]").forEach((el) => { el.hidden = state.lang !== "taigi"; });
  $("input").placeholder = t("placeholder");
  $("lang").value = state.lang;
}

function setTailo(on) {
  document.body.classList.toggle("show-tailo", on);
  $("tailo-toggle").setAttribute("aria-pressed", String(on));
  localStorage.setItem("taigimed.tailo", on ? "1" : "0");
}

function bubble(kind, text) {
  const div = document.createElement("div");
  div.className = `msg ${kind}`;
  const body = document.createElement("div");
  body.className = "body";
  body.textContent = text || "";
  div.appendChild(body);
  $("log").appendChild(div);
  div.scrollIntoView({ block: "end" });
  return div;
}

function button(label, tailo, onClick) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = label;
  if (tailo && state.lang === "taigi") {
    const s = document.createElement("span");
    s.className = "tl";
    s.textContent = " " + tailo;
    b.appendChild(s);
  }
  b.addEventListener("click", onClick);
  return b;
}

async function sendFeedback(id, payload, box) {
  const res = await fetch("/v1/feedback", {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ response_id: id, ...payload }),
  });
  const note = document.createElement("span");
  note.className = "thanks";
  note.textContent = res.ok ? t("thanks") : `✗ ${res.status}`;
  box.replaceChildren(note);
}

function addFeedback(div, id) {
  const box = document.createElement("div");
  box.className = "feedback";
  box.append(
    button(t("up"), TAILO.up, () => sendFeedback(id, { thumbs: "up" }, box)),
    button(t("down"), TAILO.down, () => sendFeedback(id, { thumbs: "down" }, box)),
    button(t("report"), TAILO.report, () => sendFeedback(id, { inaccuracy: { category: "medically_wrong" } }, box)),
  );
  div.appendChild(box);
}

function addTailo(div, text) {
  // The server sends a Tâi-lô reading only for Taigi Han answers; a reading of a
  // Mandarin answer would be meaningless, so the Mandarin page never shows one.
  if (!text || state.lang !== "taigi") return;
  const tl = document.createElement("div");
  tl.className = "tl-block";
  tl.lang = "nan-Latn-TW";
  tl.textContent = text;
  div.insertBefore(tl, div.querySelector(".feedback"));
}

// Where the answer comes from, in large type under it: the vetted card, its publisher
// and link, and a plain warning while no clinician has reviewed the card.
function addSources(div, sources) {
  if (!sources || !sources.length) return;
  const box = document.createElement("div");
  box.className = "sources";
  box.dataset.cards = sources.map((s) => s.card_id).join(" ");
  for (const s of sources) {
    const line = document.createElement("p");
    const label = document.createElement("strong");
    label.textContent = `${t("source")}：`;
    const link = document.createElement("a");
    link.href = s.url;
    link.rel = "noopener noreferrer";
    link.target = "_blank";
    link.textContent = `${s.publisher}〈${s.source_title}〉${s.year}`;
    line.append(label, link);
    box.appendChild(line);
    if (!s.reviewed) {
      const warn = document.createElement("p");
      warn.className = "unreviewed";
      warn.textContent = `⚠ ${t("unreviewed")}`;
      box.appendChild(warn);
    }
  }
  div.insertBefore(box, div.querySelector(".feedback"));
}

function showEmergency(triggers) {
  const suicide = (triggers || []).some((x) => x.category === "suicide");
  $("call-1925").hidden = !suicide;
  $("emergency").hidden = false;
  document.body.classList.add("alarm");
}

// A false alarm can be dismissed; the emergency answer itself stays in the conversation.
function dismissEmergency() {
  $("emergency").hidden = true;
  document.body.classList.remove("alarm");
}

async function pollHeld(id, div) {
  const res = await fetch(`/v1/answers/${encodeURIComponent(id)}`);
  if (!res.ok) return;
  const a = await res.json();
  if (a.review_status === "pending") { setTimeout(() => pollHeld(id, div), 10000); return; }
  const released = bubble("bot reviewed", a.text ? `${t("released")}\n${a.text}` : a.notice);
  addFeedback(released, id);
  const ids = JSON.parse(localStorage.getItem("taigimed.held") || "[]").filter((x) => x !== id);
  localStorage.setItem("taigimed.held", JSON.stringify(ids));
}

function onEvent(ev) {
  const m = JSON.parse(ev.data);
  if (m.type === "session") { localStorage.setItem("taigimed.session", m.session_id); $("status").textContent = t("connected"); return; }
  if (m.type === "start") { state.bot = bubble("bot", ""); state.bot.dataset.id = m.id; return; }
  if (m.type === "token") { state.bot.querySelector(".body").textContent += m.text; state.bot.scrollIntoView({ block: "end" }); return; }
  if (m.type === "end") {
    const div = state.bot;
    div.classList.add(m.reply_kind);
    div.dataset.done = "1";
    addFeedback(div, m.id);
    addTailo(div, m.meta && m.meta.answer_tailo);
    addSources(div, m.sources);
    if (m.reply_kind === "red_flag") showEmergency(m.triggers);
    div.scrollIntoView({ block: "start" });
    if (m.reply_kind === "review_pending") {
      const ids = JSON.parse(localStorage.getItem("taigimed.held") || "[]");
      localStorage.setItem("taigimed.held", JSON.stringify([...ids, m.id]));
      setTimeout(() => pollHeld(m.id, div), 10000);
    }
    $("send").disabled = false;
    return;
  }
  if (m.type === "error") {
    // A stored session the server no longer knows (purged, or never made by it): start anew.
    if (m.error.code === "session_not_found") { localStorage.removeItem("taigimed.session"); return; }
    bubble("bot error", `✗ ${m.error.message}`);
    $("send").disabled = false;
  }
}

function connect() {
  const sid = localStorage.getItem("taigimed.session");
  const proto = location.protocol === "https:" ? "wss" : "ws";
  const url = `${proto}://${location.host}/v1/chat/ws${sid ? `?session_id=${encodeURIComponent(sid)}` : ""}`;
  $("status").textContent = t("connecting");
  state.ws = new WebSocket(url);
  state.ws.onmessage = onEvent;
  state.ws.onopen = () => { while (state.queue.length) state.ws.send(state.queue.shift()); };
  state.ws.onclose = () => { $("status").textContent = t("lost"); setTimeout(connect, 2000); };
}

$("ask").addEventListener("submit", (e) => {
  e.preventDefault();
  const text = $("input").value.trim();
  if (!text) return;
  bubble("user", text);
  $("input").value = "";
  $("send").disabled = true;
  const msg = JSON.stringify({ type: "message", content: text });
  if (state.ws && state.ws.readyState === WebSocket.OPEN) state.ws.send(msg); else state.queue.push(msg);
});
$("input").addEventListener("keydown", (e) => {
  if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); $("ask").requestSubmit(); }
});
$("em-dismiss").addEventListener("click", dismissEmergency);
$("tailo-toggle").addEventListener("click", () => setTailo(!document.body.classList.contains("show-tailo")));
$("lang").addEventListener("change", (e) => { state.lang = e.target.value; localStorage.setItem("taigimed.lang", state.lang); applyLanguage(); });

applyLanguage();
setTailo(localStorage.getItem("taigimed.tailo") !== "0");
for (const id of JSON.parse(localStorage.getItem("taigimed.held") || "[]")) pollHeld(id, null);
connect();
