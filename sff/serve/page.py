"""The ``/_sff`` page: recent invocations drawn as waterfalls of their sources.

One HTML document with inline CSS and JS, no build step. It reads ``/_sff/invocations``
and draws, per invocation, the cold start (init bar) and then each source from its start
to its end offset: what ran in parallel, what waited for what (``after``), retries
(attempts), cache fallbacks and degraded sources.
"""

HTML = r"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>sff serve — invocations</title>
<style>
  body { font: 13px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
  h1 { font-size: 18px; margin: 0 0 .3em; }
  #status { color: #666; margin-bottom: 1em; }
  .inv { border: 1px solid #ddd; border-radius: 6px; padding: .5em .8em; margin: .6em 0; }
  .inv.error { border-color: #e08080; }
  .head { display: flex; gap: 1em; align-items: baseline; flex-wrap: wrap; }
  .fn { font-weight: 600; }
  .muted { color: #777; font-family: ui-monospace, monospace; font-size: 12px; }
  .badge { border-radius: 3px; padding: 0 .4em; font-size: 11px; font-weight: 600; }
  .cold-marker { background: #1f5fbf; color: white; }
  .warm-marker { background: #d8ecd8; color: #245; }
  .status-bad { background: #c33; color: white; }
  .lane { display: grid; grid-template-columns: 20em 1fr; gap: .6em; margin: 2px 0; }
  .label { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
  .track { position: relative; height: 16px; background: #f6f6f6; border-radius: 2px; }
  .bar { position: absolute; top: 2px; height: 12px; min-width: 2px; border-radius: 2px;
         background: #4a8f4a; }
  .bar.init { background: repeating-linear-gradient(45deg,#1f5fbf,#1f5fbf 4px,#5b8ee0 4px,
         #5b8ee0 8px); }
  .bar.degraded { background: #e0a020; }
  .bar.failed, .bar.cancelled { background: #c33; }
  .bar.retried { outline: 2px dashed #a040a0; }
  .note { font-size: 11px; color: #555; margin-left: .4em; }
  .skipped .label { color: #999; text-decoration: line-through; }
</style>
</head>
<body>
<h1>sff serve — recent invocations</h1>
<div id="status">loading…</div>
<div id="invocations"></div>
<script>
"use strict";
const el = (tag, cls, text) => {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined) node.textContent = text;
  return node;
};
const ms = (v) => (v < 10 ? v.toFixed(1) : Math.round(v)) + " ms";

function head(inv) {
  const row = el("div", "head");
  row.append(el("span", "fn", inv.function));
  const start = inv.cold ? el("span", "badge cold-marker", "cold start")
                         : el("span", "badge warm-marker", "warm");
  row.append(start, el("span", inv.status >= 400 ? "badge status-bad" : "muted",
                       String(inv.status)));
  row.append(el("span", "muted", `${inv.method} ${inv.path}`));
  row.append(el("span", "muted", `instance ${inv.instance}`));
  row.append(el("span", "muted",
    `latency ${ms(inv.latency_ms)} · run ${ms(inv.duration_ms)} · billed ${inv.billed_ms} ms · ` +
    `${Math.round(inv.max_memory_mb)}/${inv.memory_mb} MB`));
  row.append(el("span", "muted", inv.request_id));
  if (inv.error) row.append(el("span", "badge status-bad", inv.error));
  return row;
}

function lane(name, cls, left, width, total, notes) {
  const row = el("div", "lane " + (cls.includes("skipped") ? "skipped" : ""));
  row.dataset.source = name;
  const label = el("div", "label", name);
  for (const note of notes) label.append(el("span", "note", note));
  const track = el("div", "track");
  if (width !== null) {
    const bar = el("div", "bar " + cls);
    bar.style.left = (100 * left / total) + "%";
    bar.style.width = Math.max(0.3, 100 * width / total) + "%";
    bar.title = `${name}: ${ms(left)} → ${ms(left + width)}`;
    track.append(bar);
  }
  row.append(label, track);
  return row;
}

function sourceNotes(name, src, deps) {
  const notes = [];
  if (src.duration_ms !== undefined) notes.push(ms(src.duration_ms));
  if (deps && deps.length) notes.push("after " + deps.join(", "));
  if (src.attempts > 1) notes.push(`${src.attempts} attempts`);
  if (src.items !== undefined) notes.push(`${src.items} items`);
  if (src.cache) notes.push("cache " + src.cache);
  if (src.outcome === "degraded") notes.push("degraded: " + (src.degraded || "fallback"));
  if (src.outcome === "failed") notes.push("failed" + (src.error ? ": " + src.error : ""));
  if (["skipped", "cancelled", "pending"].includes(src.outcome)) notes.push(src.outcome);
  return notes;
}

function waterfall(inv) {
  const box = el("section", "inv" + (inv.status >= 500 ? " error" : ""));
  box.dataset.requestId = inv.request_id;
  box.dataset.cold = String(inv.cold);
  box.append(head(inv));
  const offset = inv.cold ? inv.init_ms : 0;
  const sources = Object.entries(inv.sources || {});
  const ends = sources.map(([, s]) => s.end_ms || 0);
  const total = Math.max(offset + inv.duration_ms, offset + Math.max(0, ...ends), 1);
  if (inv.cold) {
    box.append(lane("init", "init", 0, inv.init_ms, total, [ms(inv.init_ms), "cold start"]));
  }
  const deps = (inv.plan && inv.plan.sources) || {};
  for (const [name, src] of sources) {
    const timed = src.start_ms !== undefined && src.end_ms !== undefined;
    let cls = "source " + (src.outcome || "ok");
    if (src.attempts > 1) cls += " retried";
    box.append(lane(name, cls, offset + (src.start_ms || 0),
                    timed ? src.end_ms - src.start_ms : null, total,
                    sourceNotes(name, src, deps[name])));
  }
  return box;
}

async function refresh() {
  const status = document.getElementById("status");
  try {
    const response = await fetch("/_sff/invocations", {cache: "no-store"});
    const invocations = await response.json();
    const list = document.getElementById("invocations");
    list.replaceChildren(...invocations.slice().reverse().map(waterfall));
    status.textContent = `${invocations.length} recent invocations, newest first · ` +
      `updated ${new Date().toLocaleTimeString()}`;
    document.body.dataset.loaded = "true";
  } catch (err) {
    status.textContent = "could not read /_sff/invocations: " + err;
  }
}
refresh();
setInterval(refresh, 3000);
</script>
</body>
</html>
"""
