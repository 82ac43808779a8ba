/**
 * The status page: one static HTML document with its script inline (no build step, nothing fetched
 * from elsewhere), readable on a phone. It loads a snapshot and follows changes over server-sent
 * events (/api/events); the token, if any, comes from the page's own `access_token` query parameter.
 */
export const STATUS_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>subflash gateway</title>
<style>
  :root { font-family: system-ui, sans-serif; color-scheme: light dark; --ok: #2e7d32; --bad: #c62828; --work: #1565c0; }
  body { margin: 0; padding: 12px; max-width: 960px; margin-inline: auto; }
  header { display: flex; flex-wrap: wrap; gap: 8px; align-items: baseline; justify-content: space-between; }
  h1 { font-size: 1.25rem; margin: 0; }
  .pill { border-radius: 999px; padding: 2px 10px; font-size: .85rem; border: 1px solid currentColor; }
  .live { color: var(--ok); } .down { color: var(--bad); }
  #summary { margin: 8px 0 12px; font-size: .95rem; }
  #modules { display: grid; gap: 10px; grid-template-columns: repeat(auto-fill, minmax(260px, 1fr)); }
  .card { border: 1px solid #8884; border-radius: 10px; padding: 10px 12px; }
  .card h2 { font-size: 1.05rem; margin: 0 0 4px; display: flex; justify-content: space-between; gap: 6px; }
  .state { font-size: .85rem; font-weight: 600; }
  .state.committed, .state.idle { color: var(--ok); } .state.failed, .state.rolled-back, .state.rolling-back { color: var(--bad); }
  .state.working { color: var(--work); }
  dl { display: grid; grid-template-columns: auto 1fr; gap: 2px 10px; margin: 6px 0; font-size: .9rem; }
  dt { color: #888; }
  .track { height: 10px; background: #8883; border-radius: 5px; overflow: hidden; }
  .bar { height: 100%; width: 0; background: var(--work); transition: width .3s; }
  .progress-text { font-size: .85rem; margin-top: 2px; min-height: 1.2em; }
  .error { color: var(--bad); font-size: .85rem; margin-top: 4px; word-break: break-word; }
  #events { font-size: .8rem; padding-left: 18px; max-height: 40vh; overflow: auto; }
  code { font-size: .85em; }
</style>
</head>
<body>
<header><h1 id="title">subflash gateway</h1><span id="live" class="pill down">connecting…</span></header>
<div id="summary"></div>
<section id="modules"></section>
<h3>Recent events</h3>
<ol id="events" reversed></ol>
<script>
"use strict";
const token = new URLSearchParams(location.search).get("access_token");
const q = token ? "?access_token=" + encodeURIComponent(token) : "";
const SETTLED = ["idle", "committed", "failed", "rolled-back"];
const modules = new Map();
let gateway = null;
const el = (tag, attrs, text) => { const e = document.createElement(tag); Object.assign(e, attrs || {}); if (text !== undefined) e.textContent = text; return e; };

function card(id) {
  let c = document.querySelector('[data-module="' + CSS.escape(id) + '"]');
  if (c) return c;
  c = el("article", { className: "card" });
  c.dataset.module = id;
  c.innerHTML = '<h2><span class="name"></span><span class="state"></span></h2>' +
    '<dl><dt>version</dt><dd class="version"></dd><dt>slot</dt><dd class="slot"></dd><dt>type</dt><dd class="type"></dd></dl>' +
    '<div class="track"><div class="bar" role="progressbar" aria-valuemin="0" aria-valuemax="100"></div></div>' +
    '<div class="progress-text"></div><div class="error"></div>';
  c.querySelector(".name").textContent = id;
  document.getElementById("modules").append(c);
  return c;
}

function duration(s) {
  if (s === null || s === undefined) return "";
  s = Math.round(s);
  return s >= 60 ? Math.floor(s / 60) + " min " + (s % 60) + " s left" : s + " s left";
}

function renderModule(m) {
  modules.set(m.module, m);
  const c = card(m.module);
  const state = c.querySelector(".state");
  state.textContent = m.state;
  state.className = "state " + (SETTLED.includes(m.state) ? m.state : "working " + m.state);
  c.querySelector(".version").textContent = (m.version || "unknown") + (m.targetVersion && m.targetVersion !== m.version ? " → " + m.targetVersion : "");
  c.querySelector(".slot").textContent = m.activeSlot || "-";
  c.querySelector(".type").textContent = m.moduleType || "-";
  const bar = c.querySelector(".bar");
  const p = m.progress;
  const percent = p ? p.percent : (m.state === "committed" ? 100 : 0);
  bar.style.width = percent + "%";
  bar.dataset.percent = String(percent);
  bar.setAttribute("aria-valuenow", String(percent));
  c.querySelector(".progress-text").textContent = p ? p.phase + " " + percent.toFixed(1) + " % " + duration(m.remainingSeconds) : "";
  const err = c.querySelector(".error");
  err.textContent = m.lastError ? m.lastError.code + ": " + m.lastError.message : "";
  err.dataset.code = m.lastError ? m.lastError.code : "";
}

function renderGateway(g) {
  gateway = g;
  document.getElementById("title").textContent = "subflash " + g.gateway;
  document.title = "subflash " + g.gateway;
  const run = g.lastRun ? g.lastRun.summary : (g.bundle ? "bundle " + g.bundle.release + " " + g.bundle.state : "no run yet");
  const refused = (g.stateAlert ? " · refusing every bundle: " + g.stateAlert.code : "") + (g.lastRejected ? " · refused: " + g.lastRejected.error.code : "");
  document.getElementById("summary").textContent = run + refused;
}

function addEvent(e) {
  const li = el("li", {}, new Date(e.at).toLocaleTimeString() + " " + describe(e));
  const list = document.getElementById("events");
  list.prepend(li);
  while (list.children.length > 50) list.lastChild.remove();
}

function describe(e) {
  if (e.type === "transition") return e.module + ": " + e.from + " → " + e.to + (e.error ? " (" + e.error.code + ")" : "");
  if (e.type === "bundle") return "run " + (e.release || "rollback") + " " + e.state + (e.error ? " (" + e.error.code + ")" : "");
  if (e.type === "rejected") return "bundle refused: " + (e.error ? e.error.code : "?");
  if (e.type === "command") return "command " + e.command + (e.error ? " refused: " + e.error.code : " accepted");
  return e.type;
}

function connect() {
  const source = new EventSource("api/events" + q);
  const live = document.getElementById("live");
  source.addEventListener("open", () => { live.textContent = "live"; live.className = "pill live"; });
  source.addEventListener("error", () => { live.textContent = "reconnecting…"; live.className = "pill down"; });
  source.addEventListener("snapshot", (ev) => {
    const s = JSON.parse(ev.data);
    renderGateway(s.gateway);
    Object.values(s.modules).forEach(renderModule);
    document.getElementById("events").replaceChildren();
    s.recent.filter((e) => e.type !== "progress").forEach(addEvent);
  });
  source.addEventListener("module", (ev) => renderModule(JSON.parse(ev.data)));
  source.addEventListener("gateway", (ev) => renderGateway(JSON.parse(ev.data)));
  source.addEventListener("event", (ev) => addEvent(JSON.parse(ev.data)));
}
connect();
</script>
</body>
</html>
`;
