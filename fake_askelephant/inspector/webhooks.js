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

// { ok: true | false | null, text } from a sink request's verification result.
export function verificationOf(sinkRequest) {
  const v = sinkRequest.verification !== undefined ? sinkRequest.verification : sinkRequest.verified;
  if (v === undefined || v === null) return { ok: null, text: "not checked" };
  if (typeof v === "boolean") return { ok: v, text: v ? "signature valid" : "signature invalid" };
  if (typeof v === "object") {
    const ok = v.ok !== undefined ? v.ok : v.valid !== undefined ? v.valid : v.verified;
    const why = v.error || v.reason || v.detail || "";
    return {
      ok: ok === undefined ? null : Boolean(ok),
      text: (ok ? "signature valid" : "signature invalid") + (why ? `: ${why}` : ""),
    };
  }
  return { ok: null, text: String(v) };
}

export function verificationBadge(result) {
  if (!result) return el("span", { class: "muted", text: "—" });
  return badge(result.text, result.ok === true ? "ok" : result.ok === false ? "bad" : "idle");
}

function byVirtualTime(a, b) {
  if (a.virtual_time !== b.virtual_time) return a.virtual_time < b.virtual_time ? -1 : 1;
  return a.attempt - b.attempt;
}

// Attempt → verification: the n-th request a sink received for a message answers the n-th attempt that
// reached that sink for it (attempts without an HTTP answer never reached it).
export function joinVerifications(attempts, sinks) {
  const used = {};
  const out = new Map();
  for (const attempt of attempts.slice().sort(byVirtualTime)) {
    const sink = sinkNameOf(attempt.url);
    if (!sink || !sinks[sink] || attempt.response_status_code === null) continue;
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

export function sortAttempts(attempts) {
  return attempts.slice().sort(byVirtualTime);
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
  const answered = r.response_status !== undefined ? r.response_status : r.status;
  return el(
    "details",
    { class: "sink-request", dataset: { verified: String(verification.ok) }, open: index === 0 },
    el("summary", null,
      verificationBadge(verification), " ",
      el("code", { text: messageIdOf(r) || "(no svix-id)" }), " ",
      r.received_at || r.virtual_time ? timeEl(r.received_at || r.virtual_time) : null, " ",
      typeof answered === "number" ? badge(`answered ${answered}`, answered < 300 ? "ok" : "bad") : null),
    el("h4", { text: "Headers" }),
    el("dl", { class: "headers" },
      pairs.map(([k, v]) => [el("dt", { text: k }), el("dd", { class: "mono", text: typeof v === "string" ? v : JSON.stringify(v) })])),
    el("h4", { text: "Body" }),
    el("pre", { class: "body", text: pretty(r.body !== undefined ? r.body : r.raw_body) }),
  );
}
