// Webhook delivery attempts and the built-in sink's received requests, with the signature check joined in.

import { api, listData } from "./admin-api.js";
import { badge, cell, el, externalLink, internalLink, pretty, statusBadge, table, timeEl } from "./dom.js";

export const ATTEMPT_HEADERS = ["Attempt", "Result", "Virtual time", "Endpoint", "Error / hazard", "Next attempt"];

// "orders" for an endpoint URL whose path is /__admin/sink/orders; null for any other receiver.
export function sinkNameOf(url) {
  try {
    const m = new URL(url).pathname.match(/^\/__admin\/sink\/([^/]+)$/);
    return m ? decodeURIComponent(m[1]) : null;
  } catch (_) {
    return null;
  }
}

function header(headers, name) {
  if (!headers) return undefined;
  const pairs = Array.isArray(headers) ? headers : Object.entries(headers);
  const hit = pairs.find((pair) => String(pair[0]).toLowerCase() === name);
  return hit ? hit[1] : undefined;
}

export function messageIdOf(sinkRequest) {
  return header(sinkRequest.headers, "svix-id") || header(sinkRequest.headers, "webhook-id");
}

// { ok, text } from a sink request: `verified` is the outcome, `verification` the reason in words.
export function verificationOf(sinkRequest) {
  const ok = typeof sinkRequest.verified === "boolean" ? sinkRequest.verified : null;
  const text = sinkRequest.verification || (ok === null ? "not checked" : ok ? "signature verified" : "signature invalid");
  return { ok, text };
}

export function verificationBadge(result) {
  if (!result) return el("span", { class: "muted", text: "—" });
  return badge(result.text, result.ok === true ? "ok" : result.ok === false ? "bad" : "idle");
}

// Attempt → verification. Every attempt to a sink endpoint lands there once, in attempt order, so the n-th
// request a sink received for a message answers the n-th attempt (attempts in log order) sent there for it.
export function joinVerifications(attempts, sinks) {
  const used = {};
  const out = new Map();
  for (const attempt of attempts) {
    const sink = sinkNameOf(attempt.url);
    if (!sink || !sinks[sink]) continue;
    const key = `${sink} ${attempt.svix_id}`;
    const index = used[key] || 0;
    const received = sinks[sink].filter((r) => messageIdOf(r) === attempt.svix_id)[index];
    if (received) {
      out.set(attempt, verificationOf(received));
      used[key] = index + 1;
    }
  }
  return out;
}

export async function fetchSinkRequests(names) {
  const sinks = {};
  await Promise.all(
    [...names].map(async (name) => {
      const res = await api(`/sink/${encodeURIComponent(name)}/requests`);
      if (res.ok) sinks[name] = listData(res.body);
    }),
  );
  return sinks;
}

// The built-in sink by name (its full URL on hover), any other receiver as its URL; the endpoint id below.
function endpointCell(a) {
  const sink = sinkNameOf(a.url);
  const target = sink ? el("span", { title: a.url }, badge("sink", "kind"), " ", sink) : externalLink(a.url);
  return el("td", { class: "url" }, target, el("div", { class: "muted mono small", text: a.endpoint_id }));
}

// Attempt, result (HTTP status and latency), when, where, what went wrong, when the next try is due.
export function attemptCells(a) {
  const code = a.response_status_code === null ? "no answer" : `HTTP ${a.response_status_code}`;
  const latency = a.duration_ms === null || a.duration_ms === undefined ? "" : ` · ${Math.round(a.duration_ms)} ms`;
  return [
    el("td", null, `#${a.attempt}`, a.kind && a.kind !== "scheduled" ? [" ", badge(a.kind, "kind")] : null),
    el("td", { class: "result" }, statusBadge(a.status), " ", el("span", { class: "code", text: code + latency })),
    el("td", null, timeEl(a.virtual_time)),
    endpointCell(a),
    el("td", null, a.error ? el("div", { class: "error", text: a.error }) : null,
      a.hazard ? badge(`hazard: ${a.hazard}`, "bad") : null, !a.error && !a.hazard ? el("span", { class: "muted", text: "—" }) : null),
    el("td", null, a.next_attempt_at ? timeEl(a.next_attempt_at) : el("span", { class: "muted", text: "—" })),
  ];
}

export function attemptRow(a, ...cells) {
  return el("tr", { class: "attempt", dataset: { status: a.status, attempt: a.attempt, svixId: a.svix_id } }, ...cells);
}

export function resendButton(msgId, onResend) {
  return el("button", { type: "button", class: "resend", dataset: { msgId }, onclick: () => onResend(msgId) }, "resend");
}

// GET /__admin/webhook-endpoints; `onPick(id)` narrows the attempts below to one endpoint.
export function endpointsTable(endpoints, onPick) {
  return table(
    ["Endpoint", "URL", "Event types", "State", "Headers", "Hazards"],
    endpoints.map((ep) => {
      const hazards = Object.entries(ep.hazards || {}).filter(([, v]) => v);
      return el("tr", { class: "endpoint", dataset: { endpointId: ep.id } },
        el("td", null, el("button", { type: "button", class: "pick", title: "show only this endpoint's attempts", onclick: () => onPick(ep.id) },
          el("span", { class: "mono small", text: ep.id }))),
        el("td", { class: "url" }, sinkNameOf(ep.url) ? el("span", { title: ep.url }, badge("sink", "kind"), " ", sinkNameOf(ep.url)) : externalLink(ep.url)),
        cell(ep.event_types ? ep.event_types.join(", ") : "all"),
        el("td", null, ep.disabled ? badge("disabled", "bad") : badge("enabled", "ok"),
          ep.failing_since ? [" failing since ", timeEl(ep.failing_since)] : null),
        cell(ep.header_style),
        cell(hazards.length ? hazards.map(([k, v]) => `${k}=${v}`).join(", ") : null),
      );
    }),
    { class: "endpoints" },
  );
}

// "v1.engagement.transcript_timeline.completed" may wrap after each dot.
function breakable(type) {
  return String(type).split(".").map((part, i) => (i ? [".", el("wbr"), part] : part));
}

export function deliveriesTable(items, onResend) {
  return table(
    ["Event (svix-id)", "Engagement", ...ATTEMPT_HEADERS, ""],
    items.map((a) =>
      attemptRow(
        a,
        el("td", null, el("div", null, breakable(a.type)), el("div", { class: "muted mono small", text: a.svix_id })),
        el("td", null, a.engagement_id
          ? internalLink(`engagement/${encodeURIComponent(a.engagement_id)}`, a.engagement_id, { class: "mono small" })
          : "—"),
        attemptCells(a),
        el("td", null, resendButton(a.svix_id, onResend)),
      ),
    ),
    { class: "deliveries" },
  );
}

export function sinkRequestCard(r, index) {
  const verification = verificationOf(r);
  const headers = r.headers || {};
  const pairs = Array.isArray(headers) ? headers : Object.entries(headers);
  const answered = r.response_status;
  return el(
    "details",
    { class: "sink-request", dataset: { verified: String(verification.ok) }, open: index === 0 },
    el("summary", null,
      verificationBadge(verification), " ",
      el("code", { text: messageIdOf(r) || "(no svix-id)" }), " ",
      timeEl(r.virtual_time), " ",
      typeof answered === "number" ? badge(`answered ${answered}`, answered < 300 ? "ok" : "bad") : null),
    el("h4", { text: "Headers" }),
    el("dl", { class: "headers" },
      pairs.map(([k, v]) => [el("dt", { text: k }), el("dd", { class: "mono", text: typeof v === "string" ? v : JSON.stringify(v) })])),
    el("h4", { text: "Body" }),
    r.body !== null && r.body !== undefined
      ? el("pre", { class: "body", text: pretty(r.body) })
      : [el("p", { class: "muted", text: "not UTF-8; base64:" }), el("pre", { class: "body", text: r.body_base64 })],
  );
}
