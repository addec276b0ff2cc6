// The lurescan page: send the pasted ad to /v1/score and show the score with
// the red flags highlighted at the offsets the API returns. Offsets count
// Unicode code points (Python's str), so the text is sliced as code points,
// not as JavaScript's UTF-16 units. Text is inserted with textContent only:
// the ad is untrusted input.
"use strict";

const SEVERITY_RANK = { high: 0, medium: 1, low: 2 };
const KEY_STORAGE = "lurescan.apiKey";
const $ = (id) => document.getElementById(id);

function show(el, visible) { el.hidden = !visible; }

function highlight(container, text, reasons) {
  // Split the text at every span boundary; each piece is marked with the most
  // severe reason covering it, so overlapping flags stay readable.
  const chars = Array.from(text);
  const spans = reasons
    .map((r, i) => ({ ...r, index: i, start: Math.max(0, Math.min(r.start, chars.length)), end: Math.max(0, Math.min(r.end, chars.length)) }))
    .filter((r) => r.end > r.start);
  const cuts = new Set([0, chars.length]);
  spans.forEach((r) => { cuts.add(r.start); cuts.add(r.end); });
  const bounds = Array.from(cuts).sort((a, b) => a - b);
  container.replaceChildren();
  for (let k = 0; k + 1 < bounds.length; k++) {
    const a = bounds[k], b = bounds[k + 1];
    const piece = chars.slice(a, b).join("");
    const covering = spans.filter((r) => r.start <= a && r.end >= b);
    if (!covering.length) { container.append(document.createTextNode(piece)); continue; }
    covering.sort((x, y) => SEVERITY_RANK[x.severity] - SEVERITY_RANK[y.severity]);
    const mark = document.createElement("mark");
    mark.className = `flag sev-${covering[0].severity}`;
    mark.textContent = piece;
    mark.dataset.start = String(a);
    mark.dataset.end = String(b);
    mark.dataset.reasons = covering.map((r) => r.index).join(" ");
    mark.dataset.categories = Array.from(new Set(covering.map((r) => r.category))).join(" ");
    mark.title = covering.map((r) => `${r.severity}: ${r.explanation}`).join("\n");
    container.append(mark);
  }
}

function listReasons(list, reasons) {
  list.replaceChildren();
  reasons.forEach((r, i) => {
    const li = document.createElement("li");
    li.dataset.index = String(i);
    const sev = document.createElement("span");
    sev.className = `sev sev-${r.severity}`;
    sev.textContent = r.severity;
    const quote = document.createElement("span");
    quote.className = "quote";
    quote.textContent = `“${r.text}”`;
    li.append(sev, quote, document.createTextNode(` ${r.explanation}`));
    li.addEventListener("mouseenter", () => toggleActive(i, true));
    li.addEventListener("mouseleave", () => toggleActive(i, false));
    list.append(li);
  });
}

function toggleActive(index, on) {
  document.querySelectorAll("#highlighted mark").forEach((m) => {
    if (m.dataset.reasons.split(" ").includes(String(index))) m.classList.toggle("active", on);
  });
}

function render(text, result) {
  const badge = $("risk-level");
  badge.textContent = result.risk_level;
  badge.className = `badge risk-${result.risk_level}`;
  $("verdict").textContent = result.flagged ? "Flagged: looks like a scam lure" : "Not flagged";
  $("probability").textContent = `${(result.scam_probability * 100).toFixed(1)}%`;
  $("model-version").textContent = result.model_version;
  $("threshold").textContent = result.threshold.toFixed(3);
  $("language").textContent = result.language;
  show($("truncated"), result.truncated);
  const inText = result.reasons.filter((r) => r.field === "text");
  highlight($("highlighted"), text, inText);
  listReasons($("reasons"), inText);
  show($("no-flags"), inText.length === 0);
  show($("result"), true);
}

async function score(event) {
  event.preventDefault();
  const text = $("ad").value;
  show($("error"), false);
  if (!text.trim()) { $("error").textContent = "Paste an ad first."; show($("error"), true); return; }
  const key = $("api-key").value.trim();
  if (key) localStorage.setItem(KEY_STORAGE, key); else localStorage.removeItem(KEY_STORAGE);
  const headers = { "Content-Type": "application/json" };
  if (key) headers["X-API-Key"] = key;
  $("score-btn").disabled = true;
  show($("busy"), true);
  try {
    const response = await fetch("/v1/score", { method: "POST", headers, body: JSON.stringify({ id: "page", text }) });
    const body = await response.json().catch(() => null);
    if (!response.ok) {
      const err = body && body.error ? body.error : { type: "http_error", message: `HTTP ${response.status}` };
      if (err.type === "missing_api_key" || err.type === "invalid_api_key") $("key-box").open = true;
      throw new Error(err.message);
    }
    render(text, body);
  } catch (err) {
    $("error").textContent = `Could not check the ad: ${err.message}`;
    show($("error"), true);
  } finally {
    $("score-btn").disabled = false;
    show($("busy"), false);
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("api-key").value = localStorage.getItem(KEY_STORAGE) || "";
  $("score-form").addEventListener("submit", score);
  $("ad").addEventListener("keydown", (e) => { if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) $("score-form").requestSubmit(); });
});
