// fake-askelephant inspector: views, hash routing, live polling and the clock panel.

import { api, listAll, listData, problemText, query } from "./admin-api.js";
import { cell, duration, el, genericTable, internalLink, note, pad, table, timeEl, unavailable } from "./dom.js";
import { renderEngagements, renderHistory } from "./engagements.js";
import { deliveriesTable, endpointsTable, fetchSinkRequests, sinkNameOf, sinkRequestCard } from "./webhooks.js";

const POLL_MS = 1000;
const MAX_ATTEMPTS_SHOWN = 1000;

// The outcome of the last action (advance, resend), kept until the next one.
function setMessage(text, kind) {
  const node = document.getElementById("message");
  node.textContent = text;
  node.className = kind === "error" ? "error" : "ok";
}

function formValues(id) {
  const out = {};
  for (const [k, v] of new FormData(document.getElementById(id)).entries()) out[k] = String(v).trim();
  return out;
}

// Clock panel ---------------------------------------------------------------------------------------

let clockSignature = "";

async function refreshClock() {
  const res = await api("/clock");
  if (!res.ok || res.text === clockSignature) return;
  clockSignature = res.text;
  const now = document.getElementById("clock-now");
  now.replaceChildren(timeEl(res.body.now));
  now.setAttribute("datetime", res.body.now);
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

async function resend(msgId) {
  const res = await api(`/deliveries/${encodeURIComponent(msgId)}/resend`, { method: "POST" });
  setMessage(res.ok ? `resent ${msgId}` : `resend failed: ${problemText(res)}`, res.ok ? null : "error");
  await refresh();
}

function pickEndpoint(endpointId) {
  document.getElementById("deliveries-filter").elements.endpoint_id.value = endpointId;
  refresh();
}

async function loadBuild() {
  const res = await api("/health");
  if (res.ok) document.getElementById("build").textContent = `v${res.body.version} · seed ${res.body.seed}`;
}

// Journal entries that name the engagement in their path or are the requests that created or replayed it.
function relatedRequests(items, history) {
  const requestIds = new Set(history.steps.filter((s) => s.kind === "request" && s.request_id).map((s) => s.request_id));
  return items.filter((item) => requestIds.has(item.request_id) || String(item.path || "").includes(history.engagement.id));
}

// Views: each loads what it shows and returns { sig, render }; render runs only when sig changed. --

function listView(path, what, empty, renderItems) {
  return async () => {
    const res = await api(path());
    return {
      sig: res.text,
      render: () => {
        if (res.status === 404) return [unavailable(what)];
        if (!res.ok) return [note(problemText(res), "error")];
        const items = listData(res.body);
        return [items.length ? renderItems(items) : note(empty)];
      },
    };
  };
}

// The journal, with a note when requests drew Warning headers (a Bearer API key, parameters the API ignored).
function journalTable(items) {
  const rows = genericTable(items, "journal");
  const warned = items.filter((i) => Array.isArray(i.warnings) && i.warnings.length);
  if (!warned.length) return rows;
  const text =
    `${warned.length} request(s) here drew a Warning header, e.g. "${warned[0].warnings[0]}" ` +
    `(${warned[0].method} ${warned[0].path}). The emulator tolerated them; --strict rejects them, and the real API may.`;
  return el("div", null, note(text, "warning"), rows);
}

function eventsTable(items) {
  return table(
    ["Virtual time", "Type", "Event id", "Resource", "previous_attributes"],
    items.map((ev) => {
      const obj = ev.data.object;
      return el("tr", { class: "event-row", dataset: { type: ev.type } },
        el("td", null, timeEl(ev.created_at)),
        cell(ev.type),
        el("td", { class: "mono", text: ev.id }),
        el("td", null, obj.object === "engagement"
          ? internalLink(`engagement/${encodeURIComponent(obj.id)}`, obj.id, { class: "mono" })
          : el("span", { class: "mono", text: obj.id })),
        cell(Object.keys(ev.data.previous_attributes || {}).length ? ev.data.previous_attributes : null));
    }),
    { class: "events" },
  );
}

const views = {
  async engagements() {
    const res = await api("/state");
    return { sig: res.text, render: () => (res.ok ? renderEngagements(res.body) : [note(problemText(res), "error")]) };
  },

  async engagement(id) {
    const hist = await api(`/engagements/${encodeURIComponent(id)}/history`);
    if (!hist.ok) return { sig: hist.text, render: () => [note(`Engagement ${id}: ${problemText(hist)}`, "error")] };
    const del = await listAll("/deliveries", { engagement_id: id }, MAX_ATTEMPTS_SHOWN);
    const deliveries = del.status === 404 ? null : del.items;
    const [sinks, journal] = await Promise.all([
      fetchSinkRequests(new Set((deliveries || []).map((a) => sinkNameOf(a.url)).filter(Boolean))),
      api("/requests"),
    ]);
    const related = journal.ok ? relatedRequests(listData(journal.body), hist.body) : null;
    return {
      sig: hist.text + del.text + JSON.stringify(sinks) + (journal.ok ? journal.text : journal.status),
      render: () => [
        renderHistory(hist.body, deliveries, sinks, resend),
        el("h3", null, "Requests in the journal that name this engagement"),
        related === null
          ? unavailable("Request journal")
          : related.length
            ? genericTable(related, "journal related")
            : note("None recorded."),
      ],
    };
  },

  async deliveries() {
    const [res, endpoints] = await Promise.all([
      listAll("/deliveries", formValues("deliveries-filter"), MAX_ATTEMPTS_SHOWN),
      api("/webhook-endpoints"),
    ]);
    return {
      sig: res.text + endpoints.text,
      render: () => {
        if (res.status === 404) return [unavailable("Webhook deliveries")];
        if (!res.ok) return [note(problemText(res), "error")];
        const known = endpoints.ok ? listData(endpoints.body) : [];
        return [
          el("h3", { text: "Endpoints" }),
          known.length ? endpointsTable(known, pickEndpoint) : note("No webhook endpoints: POST /__admin/webhook-endpoints."),
          el("h3", { text: "Attempts" }),
          res.items.length ? el("p", { class: "hint", text: `${res.items.length} attempt(s), newest first.` }) : note("No delivery attempts match."),
          res.capped ? note(`Showing the oldest ${MAX_ATTEMPTS_SHOWN} matches; narrow the filters to see the rest.`) : null,
          res.items.length ? deliveriesTable(res.items.slice().reverse(), resend) : null,
        ];
      },
    };
  },

  async sink(name) {
    const [endpoints, deliveries] = await Promise.all([api("/webhook-endpoints"), api("/deliveries?limit=100")]);
    if (endpoints.status === 404) return { sig: "404", render: () => [unavailable("Webhook endpoints and the sink")] };
    const names = new Set();
    for (const item of [...listData(endpoints.body), ...listData(deliveries.body)]) {
      if (sinkNameOf(item.url)) names.add(sinkNameOf(item.url));
    }
    const chosen = name || [...names][0];
    const reqs = chosen ? await api(`/sink/${encodeURIComponent(chosen)}/requests`) : null;
    return {
      sig: JSON.stringify([...names]) + (reqs ? reqs.text : ""),
      render: () => {
        document.getElementById("sink-names").replaceChildren(
          ...[...names].map((n) => internalLink(`sink/${encodeURIComponent(n)}`, n, { class: n === chosen ? "chip active" : "chip" })),
        );
        if (!chosen) {
          const example = `${location.origin}/__admin/sink/NAME`;
          return [note(`No endpoint points at the built-in sink yet: POST /__admin/webhook-endpoints with url ${example}.`)];
        }
        if (!reqs.ok) return [note(`Sink ${chosen}: ${problemText(reqs)}`, "error")];
        const items = listData(reqs.body);
        return [
          el("h2", null, "Sink ", el("code", { text: chosen }), el("span", { class: "muted", text: ` · ${items.length} request(s), newest first` })),
          items.length ? el("div", { class: "sink-requests" }, items.slice().reverse().map(sinkRequestCard)) : note("Nothing received yet."),
        ];
      },
    };
  },

  events: listView(
    () => `/events${query({ ...formValues("events-filter"), order: "created_at:desc", limit: "200" })}`,
    "Events",
    "No events match.",
    eventsTable,
  ),
  requests: listView(() => "/requests", "Request journal", "No requests recorded yet.", journalTable),
  faults: listView(() => "/faults", "Fault injection", "No faults armed.", (items) => genericTable(items, "faults")),
};

// Routing: #engagements, #engagement/ngmt_…, #deliveries?engagement_id=…, #sink/NAME, #events, … ----

function route() {
  const raw = location.hash.replace(/^#/, "");
  const [path, search] = raw.split("?");
  const [name, ...rest] = path.split("/");
  const view = Object.hasOwn(views, name) ? name : "engagements";
  const arg = rest.length ? decodeURIComponent(rest.join("/")) : null;
  return { view, arg, params: new URLSearchParams(search || "") };
}

let lastSignature = "";

async function refreshView() {
  const { view, arg } = route();
  const result = await views[view](arg);
  const signature = `${view} ${arg} ${result.sig}`;
  if (signature === lastSignature || route().view !== view) return;
  lastSignature = signature;
  document.getElementById(`${view}-body`).replaceChildren(...result.render().flat().filter(Boolean));
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
      const status = document.getElementById("status");
      try {
        await Promise.all([refreshClock(), refreshView()]);
        const t = new Date();
        status.textContent = `updated ${pad(t.getHours())}:${pad(t.getMinutes())}:${pad(t.getSeconds())}`;
        status.className = "muted";
      } catch (err) {
        status.textContent = `cannot reach the emulator: ${err.message}`;
        status.className = "error";
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
  const form = document.getElementById(`${view}-filter`);
  if (form) for (const [k, v] of params.entries()) if (form.elements[k]) form.elements[k].value = v;
  lastSignature = "";
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
  for (const form of document.querySelectorAll("form.filters")) {
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

init();
