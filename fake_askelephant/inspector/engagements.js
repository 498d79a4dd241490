// Engagements per workspace, and one engagement's causal history:
// request → pipeline stages → events → delivery attempts (with the sink's signature check).

import {
  badge, duration, el, externalLink, internalLink, note, parseTime, statusBadge, table, timeEl, unavailable,
} from "./dom.js";
import {
  ATTEMPT_HEADERS, attemptCells, attemptRow, joinVerifications, resendButton, verificationBadge,
} from "./webhooks.js";

const STAGE_LABELS = {
  processing: "processing",
  transcript: "transcript",
  action_items: "action items",
  signals: "signals",
};

const engagementLink = (id, text, props) => internalLink(`engagement/${encodeURIComponent(id)}`, text, props);

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

// GET /__admin/state → one table per workspace: its newest engagements (the state's first page) and how many.
export function renderEngagements(state) {
  const out = [];
  for (const ws of state.workspaces) {
    const rows = ws.engagements
      .slice()
      .sort((a, b) => (a.created_at < b.created_at ? 1 : a.created_at > b.created_at ? -1 : 0))
      .map((e) =>
        el(
          "tr",
          { class: "engagement", dataset: { engagementId: e.id } },
          el("td", null, engagementLink(e.id, e.title, { class: "title" }), el("div", { class: "muted mono", text: e.id })),
          el("td", null, statusBadge(e.processing_status)),
          el("td", { class: "mono", text: e.external_id }),
          el("td", { class: "url" }, externalLink(e.external_url)),
          el("td", null, timeEl(e.created_at)),
          el("td", null, stageStrip(e.pipeline && e.pipeline.stages)),
        ),
      );
    out.push(
      el("h2", null, "Workspace ", el("code", { text: ws.id }),
        el("span", { class: "muted", text: ` · ${countText(rows.length, ws.counts && ws.counts.engagements)} engagement(s)` })),
      rows.length
        ? table(["Title", "Status", "external_id", "external_url", "Created", "Pipeline (virtual time)"], rows,
            { class: "engagements", dataset: { workspace: ws.id } })
        : note("No engagements yet: POST /api/v2/engagements to create one."),
    );
  }
  return out;
}

function countText(shown, total) {
  return total === undefined || total === shown ? `${shown}` : `newest ${shown} of ${total}`;
}

function summary(e) {
  const fact = (name, value) => [el("dt", { text: name }), el("dd", null, value)];
  const text = (value, cls) => el("span", { class: cls, text: value === null || value === undefined ? "—" : value });
  return el(
    "div",
    { class: "summary" },
    el("h2", { class: "engagement-title", text: e.title }),
    el(
      "dl",
      { class: "facts" },
      fact("id", text(e.id, "mono")),
      fact("status", [statusBadge(e.processing_status), e.deleted ? badge("deleted", "bad") : null]),
      fact("workspace", text(e.workspace_id, "mono")),
      fact("external_id", text(e.external_id, "mono")),
      fact("external_url", externalLink(e.external_url)),
      fact("duration", text(e.duration_seconds === null || e.duration_seconds === undefined ? null : `${e.duration_seconds} s`)),
    ),
    el("p", null,
      internalLink(`deliveries?engagement_id=${encodeURIComponent(e.id)}`, "all attempts in Deliveries"), " · ",
      internalLink(`events?engagement_id=${encodeURIComponent(e.id)}`, "raw events")),
  );
}

function attemptsBlock(attempts, verifications) {
  if (!attempts.length) {
    return el("div", { class: "muted small", text: "no delivery attempts (no endpoint subscribed, or none due yet)" });
  }
  return table(
    [...ATTEMPT_HEADERS, "Signature check (sink)"],
    attempts.map((a) => attemptRow(a, attemptCells(a), el("td", { class: "signature" }, verificationBadge(verifications.get(a))))),
    { class: "attempts" },
  );
}

// history: GET /__admin/engagements/{id}/history; deliveries: its attempts, or null when the build has none.
export function renderHistory(history, deliveries, sinks, onResend) {
  const e = history.engagement;
  const t0 = parseTime(history.steps[0].at);
  const now = parseTime(history.now);
  const attemptsByEvent = {};
  for (const a of deliveries || []) (attemptsByEvent[a.event_id] = attemptsByEvent[a.event_id] || []).push(a);
  const verifications = joinVerifications(deliveries || [], sinks);

  const steps = history.steps.map((step) => {
    const at = parseTime(step.at);
    const when = el("div", { class: "when" }, timeEl(step.at), el("span", { class: "offset", text: `t0 ${duration(at - t0)}` }));
    if (step.kind === "request") {
      const outcome = step.replay ? "replayed: same external_id, nothing changed, no events" : "created";
      return el("li", { class: "step request", dataset: { kind: "request", status: step.status } }, when,
        el("div", { class: "what" }, badge("request", "kind"), " ", el("code", { text: step.route }), " → ",
          badge(String(step.status), "ok"), " ", el("span", { text: outcome }),
          step.request_id ? el("span", { class: "muted mono small", text: ` ${step.request_id}` }) : null,
          step.source_system && !step.replay ? el("div", { class: "muted", text: `source_system ${step.source_system}` }) : null));
    }
    if (step.kind === "stage") {
      const due = step.state === "pending" && now !== null && at > now ? ` (due in ${duration(at - now).slice(1)})` : "";
      return el("li", { class: `step stage ${step.state}`, dataset: { kind: "stage", stage: step.stage, state: step.state } }, when,
        el("div", { class: "what" }, badge("stage", "kind"), " ", el("strong", { text: STAGE_LABELS[step.stage] || step.stage }),
          " ", el("span", { class: "stage-state", text: step.state + due })));
    }
    const attempts = attemptsByEvent[step.event_id] || [];
    const messageIds = [...new Set(attempts.map((a) => a.svix_id))];
    return el("li", { class: "step event", dataset: { kind: "event", eventId: step.event_id, type: step.type } }, when,
      el("div", { class: "what" },
        badge("event", "kind"), " ", el("code", { text: step.type }),
        step.changed.length ? el("span", { class: "muted", text: ` changed: ${step.changed.join(", ")}` }) : null,
        messageIds.map((id) => resendButton(id, onResend)),
        deliveries === null ? null : attemptsBlock(attempts, verifications)));
  });
  return [
    summary(e),
    el("h3", null, "What happened, in virtual time"),
    deliveries === null ? unavailable("Webhook deliveries") : null,
    el("ol", { class: "history" }, steps),
  ];
}
