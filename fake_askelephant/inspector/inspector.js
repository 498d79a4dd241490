// fake-askelephant inspector: reads the control plane (/__admin/...) and renders it.
//
// Safety rule for this file: data only ever reaches the page as text (textContent / Text nodes via el()).
// No innerHTML, no string-built markup, no data in href except through externalLink(), which keeps only
// http(s) URLs. The page's CSP enforces Trusted Types, so an innerHTML assignment would throw anyway.
"use strict";

const POLL_MS = 1000;
const ADMIN = "/__admin";
const NOT_AVAILABLE = "not available in this build";
const STAGE_LABELS = {
  processing: "processing",
  transcript: "transcript",
  action_items: "action items",
  signals: "signals",
};

// ---------------------------------------------------------------------------------------------
// DOM helpers

function el(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = String(value);
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "href") throw new Error("use internalLink() or externalLink() for links");
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

function internalLink(hash, text, props) {
  const a = el("a", props, text);
  a.setAttribute("href", "#" + hash);
  return a;
}

// Only http(s) URLs become links; anything else (javascript:, data:, wavv://…) is shown as inert text.
function externalLink(url) {
  if (url === null || url === undefined || url === "") return el("span", { class: "muted", text: "—" });
  let parsed = null;
  try {
    parsed = new URL(String(url));
  } catch (_) {
    parsed = null;
  }
  if (!parsed || (parsed.protocol !== "http:" && parsed.protocol !== "https:")) {
    return el("span", { class: "inert", title: "not an http(s) URL: shown as text", text: String(url) });
  }
  const a = el("a", { class: "external", rel: "noopener noreferrer", target: "_blank", text: String(url) });
  a.setAttribute("href", parsed.href);
  return a;
}

function note(text, cls) {
  return el("p", { class: "note " + (cls || "") }, text);
}

function unavailable(what) {
  return note(`${what}: ${NOT_AVAILABLE} (the control-plane route answered 404).`, "unavailable");
}

function jsonText(value) {
  return typeof value === "string" ? value : JSON.stringify(value);
}

function pretty(value) {
  if (typeof value === "string") {
    try {
      return JSON.stringify(JSON.parse(value), null, 2);
    } catch (_) {
      return value;
    }
  }
  return JSON.stringify(value, null, 2);
}

function badge(text, kind) {
  return el("span", { class: `badge ${kind || ""}`, text: text === null || text === undefined ? "—" : text });
}

function statusBadge(status) {
  const kind = { COMPLETED: "ok", succeeded: "ok", FAILED: "bad", failed: "bad", PROCESSING: "busy" }[status];
  return badge(status, kind || "idle");
}

function table(headers, rows, props) {
  return el(
    "table",
    props,
    el("thead", null, el("tr", null, headers.map((h) => el("th", { text: h })))),
    el("tbody", null, rows),
  );
}

function cell(value) {
  if (value instanceof Node) return el("td", null, value);
  if (value === null || value === undefined) return el("td", { class: "muted", text: "—" });
  return el("td", { text: typeof value === "object" ? JSON.stringify(value) : String(value) });
}

// ---------------------------------------------------------------------------------------------
// Time

const pad = (n, w = 2) => String(n).padStart(w, "0");

function parseTime(iso) {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? null : ms;
}

// "03-09 11:59:03.250" (virtual time is UTC); the full ISO string goes in the title.
function timeEl(iso) {
  const ms = parseTime(iso);
  if (iso === null || iso === undefined || ms === null) return el("span", { class: "muted", text: iso || "—" });
  const d = new Date(ms);
  const text =
    `${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}` +
    (d.getUTCMilliseconds() ? `.${pad(d.getUTCMilliseconds(), 3)}` : "");
  return el("time", { datetime: iso, title: iso, text });
}

function duration(ms) {
  const sign = ms < 0 ? "−" : "+";
  let s = Math.abs(ms) / 1000;
  const parts = [];
  for (const [unit, size] of [["d", 86400], ["h", 3600], ["min", 60]]) {
    if (s >= size) {
      parts.push(`${Math.floor(s / size)} ${unit}`);
      s %= size;
    }
  }
  if (s || !parts.length) parts.push(`${Number.isInteger(s) ? s : s.toFixed(1)} s`);
  return `${sign}${parts.join(" ")}`;
}

// ---------------------------------------------------------------------------------------------
// Control-plane access: the only network calls this page makes.

async function api(path, options) {
  const init = { headers: { Accept: "application/json" }, ...(options || {}) };
  if (init.json !== undefined) {
    init.method = init.method || "POST";
    init.body = JSON.stringify(init.json);
    init.headers["Content-Type"] = "application/json";
    delete init.json;
  }
  const resp = await fetch(ADMIN + path, init);
  const text = await resp.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch (_) {
    body = text;
  }
  return { status: resp.status, ok: resp.ok, body, text };
}

function problemText(result) {
  const b = result.body;
  return b && typeof b === "object" && b.detail ? `${result.status}: ${b.detail}` : `HTTP ${result.status}`;
}

function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v) q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : "";
}

// The outcome of the last action (advance, resend), kept until the next one.
function setMessage(text, kind) {
  const node = document.getElementById("message");
  node.textContent = text;
  node.className = kind === "error" ? "error" : "ok";
}

// ---------------------------------------------------------------------------------------------
// Clock panel

let clockSignature = "";

async function refreshClock() {
  const res = await api("/clock");
  if (!res.ok || res.text === clockSignature) return;
  clockSignature = res.text;
  const now = document.getElementById("clock-now");
  now.replaceChildren(timeEl(res.body.now));
  now.setAttribute("datetime", res.body.now);
  now.dataset.now = res.body.now;
  const scale = res.body.time_scale;
  document.getElementById("clock-scale").textContent = scale === 0 ? "0 (frozen)" : `×${scale}`;
}

async function advance(seconds) {
  const buttons = document.querySelectorAll("#clock button");
  buttons.forEach((b) => (b.disabled = true));
  try {
    const res = await api("/clock/advance", { json: { seconds } });
    if (res.ok) setMessage(`advanced ${duration(seconds * 1000)} → ${res.body.now}`);
    else setMessage(`advance failed: ${problemText(res)}`, "error");
  } finally {
    buttons.forEach((b) => (b.disabled = false));
  }
  await refresh();
}

async function loadBuild() {
  const res = await api("/health");
  if (res.ok) {
    document.getElementById("build").textContent = `v${res.body.version} · seed ${res.body.seed}`;
  }
}

// ---------------------------------------------------------------------------------------------
// Engagements (GET /__admin/state)

function stageStrip(stages) {
  const names = Object.keys(stages || {});
  if (!names.length) return el("span", { class: "muted", text: "no pipeline" });
  return el(
    "ol",
    { class: "stages" },
    names.map((name) =>
      el(
        "li",
        { class: `stage ${stages[name].state}`, dataset: { stage: name, state: stages[name].state } },
        el("span", { class: "stage-name", text: STAGE_LABELS[name] || name }),
        " ",
        timeEl(stages[name].at),
        " ",
        el("span", { class: "stage-state", text: stages[name].state }),
      ),
    ),
  );
}

function renderEngagements(state) {
  const body = [];
  for (const ws of state.workspaces) {
    const rows = ws.engagements
      .slice()
      .sort((a, b) => (a.created_at < b.created_at ? 1 : -1))
      .map((e) =>
        el(
          "tr",
          { class: "engagement", dataset: { engagementId: e.id } },
          el("td", null, internalLink(`engagement/${encodeURIComponent(e.id)}`, e.title, { class: "title" }),
            el("div", { class: "muted mono", text: e.id })),
          el("td", null, statusBadge(e.processing_status)),
          cell(e.external_id),
          el("td", { class: "url" }, externalLink(e.external_url)),
          el("td", null, timeEl(e.created_at)),
          el("td", null, stageStrip(e.pipeline && e.pipeline.stages)),
        ),
      );
    body.push(
      el("h2", null, "Workspace ", el("code", { text: ws.id }), el("span", { class: "muted", text: ` · ${rows.length} engagement(s)` })),
      rows.length
        ? table(["Title", "Status", "external_id", "external_url", "Created", "Pipeline (virtual time)"], rows, {
            class: "engagements",
          })
        : note("No engagements yet: POST /api/v2/engagements to create one."),
    );
  }
  return body;
}

// ---------------------------------------------------------------------------------------------
// One engagement's causal history: request → stages → events → delivery attempts (+ sink verification)

function sinkNameOf(url) {
  try {
    const m = new URL(url).pathname.match(/^\/__admin\/sink\/([^/]+)$/);
    return m ? decodeURIComponent(m[1]) : null;
  } catch (_) {
    return null;
  }
}

function header(headers, name) {
  if (!headers) return undefined;
  if (Array.isArray(headers)) {
    const hit = headers.find((pair) => String(pair[0]).toLowerCase() === name);
    return hit ? hit[1] : undefined;
  }
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === name) return v;
  return undefined;
}

function messageIdOf(sinkRequest) {
  return header(sinkRequest.headers, "svix-id") || header(sinkRequest.headers, "webhook-id");
}

// { ok: bool|null, text } from a sink request's verification result, whatever its exact shape.
function verificationOf(sinkRequest) {
  const v = sinkRequest.verification !== undefined ? sinkRequest.verification : sinkRequest.verified;
  if (v === undefined || v === null) return { ok: null, text: "not checked" };
  if (typeof v === "boolean") return { ok: v, text: v ? "signature valid" : "signature invalid" };
  if (typeof v === "object") {
    const ok = v.ok !== undefined ? v.ok : v.valid !== undefined ? v.valid : v.verified;
    const why = v.error || v.reason || v.detail || "";
    return { ok: ok === undefined ? null : Boolean(ok), text: (ok ? "signature valid" : "signature invalid") + (why ? `: ${why}` : "") };
  }
  return { ok: null, text: String(v) };
}

function verificationBadge(result) {
  if (!result) return el("span", { class: "muted", text: "—" });
  return badge(result.text, result.ok === true ? "ok" : result.ok === false ? "bad" : "idle");
}

// The n-th request a sink got for a message answers the n-th attempt sent to that sink for it.
function joinVerifications(attempts, sinks) {
  const seen = {};
  const sorted = attempts.slice().sort((a, b) => (a.virtual_time < b.virtual_time ? -1 : a.virtual_time > b.virtual_time ? 1 : a.attempt - b.attempt));
  const out = new Map();
  for (const attempt of sorted) {
    const sink = sinkNameOf(attempt.url);
    if (!sink || !sinks[sink]) continue;
    const key = `${sink} ${attempt.svix_id}`;
    const index = seen[key] || 0;
    const matching = sinks[sink].filter((r) => messageIdOf(r) === attempt.svix_id);
    if (attempt.response_status_code !== null && matching[index]) {
      out.set(attempt, verificationOf(matching[index]));
      seen[key] = index + 1;
    }
  }
  return out;
}

// One delivery attempt as table cells; the signature check column only where sink data was joined.
function attemptCells(a) {
  return [
    cell(`#${a.attempt}`),
    el("td", null, statusBadge(a.status)),
    cell(a.response_status_code),
    cell(a.duration_ms === null || a.duration_ms === undefined ? null : `${a.duration_ms} ms`),
    el("td", null, timeEl(a.virtual_time)),
    el("td", { class: "url" }, externalLink(a.url)),
    cell(a.error),
    cell(a.hazard),
    el("td", null, a.next_attempt_at ? timeEl(a.next_attempt_at) : el("span", { class: "muted", text: "—" })),
  ];
}

function attemptRow(a, ...extra) {
  return el("tr", { class: "attempt", dataset: { status: a.status, attempt: a.attempt, svixId: a.svix_id } }, ...extra);
}

function resendButton(msgId) {
  return el("button", { type: "button", class: "resend", dataset: { msgId }, onclick: () => resend(msgId) }, "resend");
}

const ATTEMPT_HEADERS = ["Attempt", "Result", "HTTP", "Latency", "Virtual time", "Endpoint URL", "Error", "Hazard", "Next attempt"];

function renderHistory(history, deliveries, sinks) {
  const e = history.engagement;
  const t0 = parseTime(history.steps.length ? history.steps[0].at : e.created_at);
  const now = parseTime(history.now);
  const attemptsByEvent = {};
  for (const a of deliveries || []) (attemptsByEvent[a.event_id] = attemptsByEvent[a.event_id] || []).push(a);
  const verifications = joinVerifications(deliveries || [], sinks);

  const summary = el(
    "div",
    { class: "summary" },
    el("h2", { class: "engagement-title", text: e.title }),
    el(
      "dl",
      { class: "facts" },
      el("dt", { text: "id" }), el("dd", { class: "mono", text: e.id }),
      el("dt", { text: "status" }), el("dd", null, statusBadge(e.processing_status), e.deleted ? badge("deleted", "bad") : null),
      el("dt", { text: "workspace" }), el("dd", { class: "mono", text: e.workspace_id }),
      el("dt", { text: "external_id" }), el("dd", { class: "mono", text: e.external_id || "—" }),
      el("dt", { text: "external_url" }), el("dd", { class: "url" }, externalLink(e.external_url)),
      el("dt", { text: "duration" }), el("dd", { text: e.duration_seconds === null || e.duration_seconds === undefined ? "—" : `${e.duration_seconds} s` }),
    ),
    el("p", null,
      internalLink(`deliveries?engagement_id=${encodeURIComponent(e.id)}`, "all attempts in Deliveries"), " · ",
      internalLink(`events?engagement_id=${encodeURIComponent(e.id)}`, "raw events")),
  );

  const steps = history.steps.map((step) => {
    const at = parseTime(step.at);
    const when = el("div", { class: "when" }, timeEl(step.at), el("span", { class: "offset", text: `t0 ${duration(at - t0)}` }));
    if (step.kind === "request") {
      return el("li", { class: "step request", dataset: { kind: "request" } }, when,
        el("div", { class: "what" }, badge("request", "kind"), " ", el("code", { text: step.route }), " → ", badge(String(step.status), "ok"),
          step.source_system ? el("span", { class: "muted", text: ` source_system ${step.source_system}` }) : null));
    }
    if (step.kind === "stage") {
      const due = step.state === "pending" && now !== null ? ` (due in ${duration(at - now).slice(1)})` : "";
      return el("li", { class: `step stage ${step.state}`, dataset: { kind: "stage", stage: step.stage, state: step.state } }, when,
        el("div", { class: "what" }, badge("stage", "kind"), " ", el("strong", { text: STAGE_LABELS[step.stage] || step.stage }), " ",
          el("span", { class: "stage-state", text: step.state + due })));
    }
    const attempts = (attemptsByEvent[step.event_id] || []).slice().sort((a, b) => (a.virtual_time < b.virtual_time ? -1 : 1));
    const msgIds = [...new Set(attempts.map((a) => a.svix_id))];
    return el("li", { class: "step event", dataset: { kind: "event", eventId: step.event_id, type: step.type } }, when,
      el("div", { class: "what" },
        badge("event", "kind"), " ", el("code", { text: step.type }),
        step.changed.length ? el("span", { class: "muted", text: ` changed: ${step.changed.join(", ")}` }) : null,
        msgIds.map(resendButton),
        deliveries === null
          ? null
          : attempts.length
            ? table([...ATTEMPT_HEADERS, "Signature check (sink)"],
                attempts.map((a) => attemptRow(a, attemptCells(a), el("td", null, verificationBadge(verifications.get(a))))),
                { class: "attempts" })
            : el("div", { class: "muted small", text: "no delivery attempts (no endpoint subscribed, or not yet due)" }),
      ));
  });
  return [
    summary,
    el("h3", null, "What happened, in virtual time"),
    deliveries === null ? unavailable("Webhook deliveries") : null,
    el("ol", { class: "history" }, steps),
  ];
}

async function sinkRequests(names) {
  const sinks = {};
  await Promise.all(
    [...names].map(async (name) => {
      const res = await api(`/sink/${encodeURIComponent(name)}/requests`);
      if (res.ok) sinks[name] = listData(res.body);
    }),
  );
  return sinks;
}

function listData(body) {
  if (Array.isArray(body)) return body;
  if (body && Array.isArray(body.data)) return body.data;
  if (body && Array.isArray(body.requests)) return body.requests;
  return [];
}

// ---------------------------------------------------------------------------------------------
// Deliveries, sink, events, journal, faults

function deliveriesTable(items) {
  return table(
    ["Message (svix-id)", "Event type", "Engagement", ...ATTEMPT_HEADERS, ""],
    items.map((a) =>
      attemptRow(
        a,
        el("td", { class: "mono", text: a.svix_id }),
        cell(a.type),
        el("td", null, a.engagement_id
          ? internalLink(`engagement/${encodeURIComponent(a.engagement_id)}`, a.engagement_id, { class: "mono" })
          : "—"),
        attemptCells(a),
        el("td", null, resendButton(a.svix_id)),
      ),
    ),
    { class: "deliveries" },
  );
}

async function resend(msgId) {
  const res = await api(`/deliveries/${encodeURIComponent(msgId)}/resend`, { method: "POST" });
  setMessage(res.ok ? `resent ${msgId}` : `resend failed: ${problemText(res)}`, res.ok ? null : "error");
  await refresh();
}

function formValues(id) {
  const out = {};
  for (const [k, v] of new FormData(document.getElementById(id)).entries()) out[k] = String(v).trim();
  return out;
}

function sinkRequestCard(r, index) {
  const verification = verificationOf(r);
  const headers = r.headers || {};
  const pairs = Array.isArray(headers) ? headers : Object.entries(headers);
  return el(
    "details",
    { class: "sink-request", dataset: { verified: String(verification.ok) }, open: index === 0 },
    el("summary", null,
      verificationBadge(verification), " ",
      el("code", { text: messageIdOf(r) || "(no svix-id)" }), " ",
      r.received_at || r.virtual_time ? timeEl(r.received_at || r.virtual_time) : null, " ",
      r.response_status !== undefined ? badge(`answered ${r.response_status}`, r.response_status < 300 ? "ok" : "bad") : null),
    el("h4", { text: "Headers" }),
    el("dl", { class: "headers" }, pairs.map(([k, v]) => [el("dt", { text: k }), el("dd", { class: "mono", text: jsonText(v) })])),
    el("h4", { text: "Body" }),
    el("pre", { class: "body", text: pretty(r.body !== undefined ? r.body : r.raw_body) }),
  );
}

function genericTable(items, cls) {
  const columns = [];
  for (const item of items.slice(0, 50)) for (const k of Object.keys(item)) if (!columns.includes(k)) columns.push(k);
  return table(columns, items.map((item) => el("tr", null, columns.map((c) => cell(item[c])))), { class: cls });
}

// ---------------------------------------------------------------------------------------------
// Views and routing

const views = {
  async engagements() {
    const res = await api("/state");
    return { sig: res.text, render: () => (res.ok ? renderEngagements(res.body) : [note(problemText(res), "error")]) };
  },

  async engagement(id) {
    const hist = await api(`/engagements/${encodeURIComponent(id)}/history`);
    if (!hist.ok) return { sig: hist.text, render: () => [note(`Engagement ${id}: ${problemText(hist)}`, "error")] };
    const del = await api(`/deliveries${query({ engagement_id: id, limit: "100" })}`);
    const deliveries = del.status === 404 ? null : listData(del.body);
    const names = new Set((deliveries || []).map((a) => sinkNameOf(a.url)).filter(Boolean));
    const sinks = await sinkRequests(names);
    return {
      sig: hist.text + del.text + JSON.stringify(sinks),
      render: () => renderHistory(hist.body, deliveries, sinks),
    };
  },

  async deliveries() {
    const filters = formValues("deliveries-filter");
    const res = await api(`/deliveries${query({ ...filters, limit: "100" })}`);
    return {
      sig: res.text,
      render: () => {
        if (res.status === 404) return [unavailable("Webhook deliveries")];
        if (!res.ok) return [note(problemText(res), "error")];
        const items = listData(res.body);
        return [
          items.length ? deliveriesTable(items) : note("No delivery attempts match."),
          res.body.has_more ? note("Showing the first 100 attempts; narrow the filters to see others.") : null,
        ];
      },
    };
  },

  async sink(name) {
    const [endpoints, deliveries] = await Promise.all([api("/webhook-endpoints"), api("/deliveries?limit=100")]);
    if (endpoints.status === 404) return { sig: "404", render: () => [unavailable("Webhook endpoints and the sink")] };
    const names = new Set();
    for (const ep of listData(endpoints.body)) if (sinkNameOf(ep.url)) names.add(sinkNameOf(ep.url));
    for (const a of listData(deliveries.body)) if (sinkNameOf(a.url)) names.add(sinkNameOf(a.url));
    const chosen = name || [...names][0];
    const reqs = chosen ? await api(`/sink/${encodeURIComponent(chosen)}/requests`) : null;
    return {
      sig: endpoints.text + (reqs ? reqs.text : ""),
      render: () => {
        document.getElementById("sink-names").replaceChildren(
          ...[...names].map((n) => internalLink(`sink/${encodeURIComponent(n)}`, n, { class: n === chosen ? "chip active" : "chip" })),
        );
        if (!chosen) return [note("No endpoint points at the built-in sink yet: POST /__admin/webhook-endpoints with url http://HOST:PORT/__admin/sink/NAME.")];
        if (!reqs.ok) return [note(`Sink ${chosen}: ${problemText(reqs)}`, "error")];
        const items = listData(reqs.body);
        return [
          el("h2", null, "Sink ", el("code", { text: chosen }), el("span", { class: "muted", text: ` · ${items.length} request(s)` })),
          items.length ? el("div", { class: "sink-requests" }, items.slice().reverse().map(sinkRequestCard)) : note("Nothing received yet."),
        ];
      },
    };
  },

  async events() {
    const res = await api(`/events${query(formValues("events-filter"))}`);
    return {
      sig: res.text,
      render: () => {
        if (!res.ok) return [note(problemText(res), "error")];
        const items = listData(res.body);
        if (!items.length) return [note("No events match.")];
        return [
          table(
            ["Virtual time", "Type", "Event id", "Resource", "previous_attributes"],
            items.map((ev) =>
              el("tr", { class: "event-row", dataset: { type: ev.type } },
                el("td", null, timeEl(ev.created_at)),
                cell(ev.type),
                el("td", { class: "mono", text: ev.id }),
                el("td", null, ev.data.object.object === "engagement"
                  ? internalLink(`engagement/${encodeURIComponent(ev.data.object.id)}`, ev.data.object.id, { class: "mono" })
                  : el("span", { class: "mono", text: ev.data.object.id })),
                cell(Object.keys(ev.data.previous_attributes || {}).length ? ev.data.previous_attributes : null),
              ),
            ),
            { class: "events" },
          ),
        ];
      },
    };
  },

  async requests() {
    const res = await api("/requests");
    return {
      sig: res.text,
      render: () => {
        if (res.status === 404) return [unavailable("Request journal")];
        if (!res.ok) return [note(problemText(res), "error")];
        const items = listData(res.body);
        return [items.length ? genericTable(items, "journal") : note("No requests recorded yet.")];
      },
    };
  },

  async faults() {
    const res = await api("/faults");
    return {
      sig: res.text,
      render: () => {
        if (res.status === 404) return [unavailable("Fault injection")];
        if (!res.ok) return [note(problemText(res), "error")];
        const items = listData(res.body);
        return [items.length ? genericTable(items, "faults") : note("No faults armed.")];
      },
    };
  },
};

const BODY_OF = {
  engagements: "engagements-body",
  engagement: "engagement-body",
  deliveries: "deliveries-body",
  sink: "sink-body",
  events: "events-body",
  requests: "requests-body",
  faults: "faults-body",
};

function route() {
  const raw = decodeURIComponent(location.hash.replace(/^#/, ""));
  const [path, search] = raw.split("?");
  const [name, ...rest] = path.split("/");
  const view = BODY_OF[name] ? name : "engagements";
  return { view, arg: rest.join("/") || null, params: new URLSearchParams(search || "") };
}

let lastSignature = "";
let lastView = "";

async function refreshView() {
  const { view, arg } = route();
  const result = await views[view](arg);
  const signature = `${view} ${arg} ${result.sig}`;
  if (signature === lastSignature) return;
  lastSignature = signature;
  document.getElementById(BODY_OF[view]).replaceChildren(...result.render().flat().filter(Boolean));
}

// One refresh at a time; asking while one runs queues exactly one more, and every caller awaits both.
let running = null;
let queued = false;

function refresh() {
  if (running) {
    queued = true;
    return running;
  }
  running = (async () => {
    do {
      queued = false;
      try {
        await Promise.all([refreshClock(), refreshView()]);
        const t = new Date();
        document.getElementById("status").textContent = `updated ${pad(t.getHours())}:${pad(t.getMinutes())}:${pad(t.getSeconds())}`;
      } catch (err) {
        document.getElementById("status").textContent = `cannot reach the emulator: ${err.message}`;
      }
    } while (queued);
  })().finally(() => {
    running = null;
  });
  return running;
}

function showView() {
  const { view, params } = route();
  for (const section of document.querySelectorAll(".view")) section.hidden = section.id !== `view-${view}`;
  const tab = view === "engagement" ? "engagements" : view;
  for (const a of document.querySelectorAll(".tabs a")) a.classList.toggle("active", a.dataset.tab === tab);
  const form = { deliveries: "deliveries-filter", events: "events-filter" }[view];
  if (form && params.toString()) {
    const f = document.getElementById(form);
    for (const [k, v] of params.entries()) if (f.elements[k]) f.elements[k].value = v;
  }
  if (view !== lastView) {
    lastView = view;
    lastSignature = "";
  }
  refresh();
}

function init() {
  for (const button of document.querySelectorAll("[data-advance]")) {
    button.addEventListener("click", () => advance(Number(button.dataset.advance)));
  }
  document.getElementById("advance-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const seconds = Number(document.getElementById("advance-seconds").value);
    if (Number.isFinite(seconds) && seconds >= 0) advance(seconds);
    else setMessage("enter a number of seconds ≥ 0", "error");
  });
  for (const id of ["deliveries-filter", "events-filter"]) {
    const form = document.getElementById(id);
    form.addEventListener("submit", (ev) => ev.preventDefault());
    form.addEventListener("input", () => refresh());
    form.addEventListener("reset", () => setTimeout(refresh, 0));
  }
  window.addEventListener("hashchange", showView);
  setInterval(() => {
    if (document.getElementById("live").checked && !document.hidden) refresh();
  }, POLL_MS);
  loadBuild();
  showView();
}

document.addEventListener("DOMContentLoaded", init);
