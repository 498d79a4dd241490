// Webhook delivery attempts and the built-in sink's received requests, with the signature check joined in.

import { api, listData } from "./admin-api.js";
import { badge, cell, el, externalLink, internalLink, pretty, statusBadge, table, timeEl } from "./dom.js";

export const ATTEMPT_HEADERS = ["Attempt", "Result", "HTTP", "Latency", "Virtual time", "Endpoint URL", "Error", "Hazard", "Next attempt"];

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

export function attemptCells(a) {
  return [
    el("td", null, `#${a.attempt}`, a.kind && a.kind !== "scheduled" ? [" ", badge(a.kind, "kind")] : null),
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

export function attemptRow(a, ...cells) {
  return el("tr", { class: "attempt", dataset: { status: a.status, attempt: a.attempt, svixId: a.svix_id } }, ...cells);
}

export function resendButton(msgId, onResend) {
  return el("button", { type: "button", class: "resend", dataset: { msgId }, onclick: () => onResend(msgId) }, "resend");
}

export function deliveriesTable(items, onResend) {
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
