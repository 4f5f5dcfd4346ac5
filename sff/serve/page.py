"""The ``/_sff`` page: the per-function summary, then recent invocations as waterfalls.

Rendered on the server, so the first paint already shows the data (a plain headless
screenshot shows invocations, not "loading…"); a small script re-fetches the page every
few seconds and swaps the content in. Each source has one *state*, with its own colour in
the legend: attempts (retries) and items (``each``) are different things and are never
drawn as each other (a retried source shows each attempt's span, the pauses between
them empty), a source that never finished is never drawn as ok, and an error's
whole text is shown, wrapped.
"""

from __future__ import annotations

from html import escape
from typing import Any

from sff.serve.report import Invocation
from sff.serve.stats import Stats

STATES = {  # state -> legend text, in legend order
    "ok": "ok",
    "retried": "retried, then ok",
    "degraded": "degraded: a fallback stands in (cache with its age, value, omit, items, deadline)",
    "failed": "failed",
    "cancelled": "cancelled: started, never finished",
    "not-started": "not started",
    "skipped": "skipped by its `when`",
}

STYLE = """
body { font: 13px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 18px; margin: 0 0 .3em; } h2 { font-size: 15px; margin: 1em 0 .3em; }
.muted { color: #666; font-family: ui-monospace, monospace; font-size: 12px; }
table.summary { border-collapse: collapse; font-size: 12px; }
table.summary th, table.summary td { padding: 2px 8px; border-bottom: 1px solid #eee;
  text-align: right; } table.summary th:first-child, table.summary td:first-child {
  text-align: left; }
.legend { display: flex; flex-wrap: wrap; gap: .4em 1.2em; margin: .5em 0 1em; }
.legend span { display: inline-flex; align-items: center; gap: .35em; }
.swatch { display: inline-block; width: 22px; height: 10px; border-radius: 2px; }
.inv { border: 1px solid #ddd; border-radius: 6px; padding: .5em .8em; margin: .6em 0; }
.inv.error { border-color: #e08080; }
.head { display: flex; gap: 1em; align-items: baseline; flex-wrap: wrap; }
.fn { font-weight: 600; }
.badge { border-radius: 3px; padding: 0 .4em; font-size: 11px; font-weight: 600; }
.cold-marker { background: #1f5fbf; color: white; } .warm-marker { background: #d8ecd8; }
.status-bad { background: #c33; color: white; }
.lane { display: grid; grid-template-columns: 24em 1fr; gap: .6em; margin: 2px 0; }
.label { overflow-wrap: anywhere; }
.note { font-size: 11px; color: #555; margin-left: .4em; }
.track { position: relative; height: 16px; background: #f6f6f6; border-radius: 2px; }
.bar { position: absolute; top: 2px; height: 12px; min-width: 2px; border-radius: 2px; }
.attempts { grid-column: 1 / -1; margin: 0 0 2px 1em; font: 11px ui-monospace, monospace;
  color: #555; }
.errtext { grid-column: 1 / -1; margin: 0 0 4px 1em; white-space: pre-wrap;
  overflow-wrap: anywhere; color: #8a1f1f; font: 12px ui-monospace, monospace; }
.s-ok { background: #3c8d3c; } .s-retried { background: #7b4fbf; }
.s-degraded { background: #e0a020; } .s-failed { background: #c33; }
.s-cancelled { background: repeating-linear-gradient(45deg, #888, #888 3px, #ccc 3px,
  #ccc 6px); } .s-not-started { background: #fff; outline: 1px dashed #999; }
.s-skipped { background: #ddd; } .s-init { background: repeating-linear-gradient(45deg,
  #1f5fbf, #1f5fbf 4px, #5b8ee0 4px, #5b8ee0 8px); }
.lane.skipped .name { color: #999; text-decoration: line-through; }
"""

SCRIPT = """
setInterval(async () => {
  try {
    const html = await (await fetch("/_sff", {cache: "no-store"})).text();
    const fresh = new DOMParser().parseFromString(html, "text/html");
    document.getElementById("content").replaceWith(fresh.getElementById("content"));
  } catch (err) { /* the gateway is gone: keep what is drawn */ }
}, 3000);
"""


def render(stats: Stats, model: str) -> str:
    invocations = list(stats.recent)[::-1]
    content = [
        "<div id='content'>",
        summary_table(stats.summary(), model),
        "<h2>Recent invocations, newest first</h2>",
        legend(),
        *(waterfall(inv) for inv in invocations),
        "" if invocations else "<p class='muted'>no invocations yet</p>",
        "</div>",
    ]
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>sff serve — invocations</title><style>{STYLE}</style></head>"
        "<body data-loaded='true'><h1>sff serve — local function platform</h1>"
        + "".join(content)
        + f"<script>{SCRIPT}</script></body></html>"
    )


def summary_table(summary: dict[str, Any], model: str) -> str:
    """The numbers of ``/_sff/stats``, per function, for the running process model."""
    head = ("function", "calls", "cold starts", "p50 ms", "p95 ms", "5xx", "503",
            "init ms (alone / contended)", "GB-s", "cost USD")  # fmt: skip
    rows = []
    for name, f in summary["functions"].items():
        cells = (name, f["invocations"], f["cold_starts"], _num(f["p50_ms"]), _num(f["p95_ms"]),
                 f["errors"], f["throttled"], _init(f), f"{f['gb_seconds']:.6f}",
                 f"{f['cost_usd']:.9f}")  # fmt: skip
        rows.append(f"<tr data-function='{escape(name)}'>{_cells('td', cells)}</tr>")
    return (
        f"<h2>Summary (model={escape(model)})</h2><table class='summary'>"
        f"<tr>{_cells('th', head)}</tr>{''.join(rows)}</table>"
        f"<p class='muted'>{escape(summary['prices']['note'])}; "
        f"{summary['host']['cpus']} CPUs</p>"
    )


def _init(f: dict[str, Any]) -> str:
    if f["avg_init_ms"] is None:
        return "-"
    return f"{_num(f['avg_init_alone_ms'])} / {_num(f['avg_init_contended_ms'])}"


def _cells(tag: str, values: tuple[Any, ...]) -> str:
    return "".join(f"<{tag}>{escape(str(v))}</{tag}>" for v in values)


def legend() -> str:
    items = [
        f"<span><i class='swatch s-{state}'></i>{escape(text)}</span>"
        for state, text in {"init": "cold start (init)", **STATES}.items()
    ]
    return f"<div class='legend'>{''.join(items)}</div>"


def state_of(src: dict[str, Any]) -> str:
    """One state per source. An `each` source makes one attempt per item, so only attempts
    beyond its items are retries."""
    outcome = src.get("outcome", "pending")
    if outcome == "pending":  # the invocation ended before the source did
        return "cancelled" if src.get("start_ms") is not None else "not-started"
    if outcome == "ok" and src.get("attempts", 0) > max(1, src.get("items") or 0):
        return "retried"
    return outcome if outcome in STATES else "failed"


def notes(src: dict[str, Any], state: str, deps: list[str]) -> list[str]:
    found = []
    if src.get("duration_ms") is not None and state != "not-started":
        found.append(ms(src["duration_ms"]))
    if deps:
        found.append("after " + ", ".join(deps))
    items, attempts = src.get("items"), src.get("attempts", 0)
    if items is not None:
        failed = src.get("failed_items")
        found.append(f"{items} items" + (f", {failed} failed" if failed else ""))
        if attempts > items:
            found.append(f"{attempts - items} retries")
    elif attempts > 1:
        found.append(f"{attempts} attempts")
    if state == "degraded":
        found.append("degraded: " + reason(src))
    elif state == "skipped":
        found.append("skipped (when)")
    elif state in ("failed", "cancelled", "not-started"):
        found.append(STATES[state].split(":")[0])
    return found


def reason(src: dict[str, Any]) -> str:
    why = str(src.get("degraded") or "fallback")
    if src.get("stale_s") is not None:
        why += f" (cache age {round(src['stale_s'])} s)"
    elif src.get("cache"):
        why += f" (cache {src['cache']})"
    return why


def waterfall(inv: Invocation) -> str:
    offset = inv.init_ms if inv.cold else 0.0
    ends = [s.get("end_ms") or 0 for s in inv.sources.values()]
    total = max(offset + inv.duration_ms, offset + max(ends, default=0), 1.0)
    lanes = []
    if inv.cold:
        together = f"{inv.starting_together} starting at once on {inv.cpus} CPUs"
        init = f"init {ms(inv.init_ms)}, {together}"
        lanes.append(lane("init", "init", 0, inv.init_ms, total, [init, "cold start"], None))
    deps = inv.plan.get("sources", {}) if isinstance(inv.plan, dict) else {}
    for name, src in inv.sources.items():
        state = state_of(src)
        start, end = src.get("start_ms"), src.get("end_ms")
        width = None if start is None or end is None else end - start
        lanes.append(lane(name, state, offset + (start or 0), width, total,
                          notes(src, state, deps.get(name) or []), src.get("error"),
                          attempts(src.get("spans") or [], state, offset, total)))  # fmt: skip
    cls = "inv error" if inv.status >= 500 else "inv"
    return (
        f"<section class='{cls}' data-request-id='{escape(inv.request_id)}' "
        f"data-cold='{str(inv.cold).lower()}'>{head(inv)}{''.join(lanes)}</section>"
    )


def head(inv: Invocation) -> str:
    start = ("<span class='badge cold-marker'>cold start</span>" if inv.cold
             else "<span class='badge warm-marker'>warm</span>")  # fmt: skip
    status = "badge status-bad" if inv.status >= 400 else "muted"
    parts = [
        f"<span class='fn'>{escape(inv.function)}</span>", start,
        f"<span class='{status}'>{inv.status}</span>",
        f"<span class='muted'>{escape(inv.method)} {escape(inv.path)}</span>",
        f"<span class='muted'>instance {escape(inv.instance)}</span>",
        f"<span class='muted'>latency {ms(inv.latency_ms)} · run {ms(inv.duration_ms)} · "
        f"billed {inv.billed_ms} ms · {round(inv.max_memory_mb)}/{inv.memory_mb} MB</span>",
        f"<span class='muted'>{escape(inv.request_id)}</span>",
    ]  # fmt: skip
    if inv.error:
        parts.append(f"<span class='badge status-bad'>{escape(inv.error)}</span>")
    return f"<div class='head'>{''.join(parts)}</div>"


def attempts(
    spans: list[dict[str, Any]], state: str, offset: float, total: float
) -> tuple[str, str]:
    """A retried source's attempts: a bar each, over the source's (failed ones in the failed
    colour, the pauses between them left empty), and a line with each outcome."""
    if len(spans) < 2:
        return "", ""
    bars, said = [], []
    for number, span in enumerate(spans, 1):
        start, took = offset + span["start_ms"], span["end_ms"] - span["start_ms"]
        failed = "error" in span
        how = str(span.get("status") or ("failed" if failed else "ok"))
        look = "failed" if failed else ("ok" if state == "retried" else state)
        style = f"left:{100 * start / total:.2f}%;width:{max(0.3, 100 * took / total):.2f}%"
        title = f"attempt {number}: {how} ({ms(took)})" + (f": {span['error']}" if failed else "")
        bars.append(
            f"<div class='bar attempt s-{look}' data-attempt='{number}' "
            f"data-outcome='{'failed' if failed else 'ok'}' style='{style}' "
            f"title='{escape(title)}'></div>"
        )
        said.append(f"{number}: {how} {ms(took)}")
    return "".join(bars), f"<div class='attempts'>attempts {escape(' · '.join(said))}</div>"


def lane(name: str, state: str, left: float, width: float | None, total: float,
         found: list[str], error: str | None,
         tries: tuple[str, str] = ("", "")) -> str:  # fmt: skip
    bar, said = tries  # a retried source: its attempts stand in for its one bar
    if not bar and width is not None and state != "not-started":
        style = f"left:{100 * left / total:.2f}%;width:{max(0.3, 100 * width / total):.2f}%"
        title = f"{name}: {ms(left)} → {ms(left + width)} ({STATES.get(state, state)})"
        bar = f"<div class='bar s-{state}' style='{style}' title='{escape(title)}'></div>"
    label = f"<span class='name'>{escape(name)}</span>" + "".join(
        f"<span class='note'>{escape(n)}</span>" for n in found
    )
    text = f"<div class='errtext'>{escape(error)}</div>" if error else ""
    return (
        f"<div class='lane {state}' data-source='{escape(name)}' data-state='{state}'>"
        f"<div class='label'>{label}</div><div class='track'>{bar}</div>{said}{text}</div>"
    )


def ms(value: float) -> str:
    return f"{value:.1f} ms" if value < 10 else f"{round(value)} ms"


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"
