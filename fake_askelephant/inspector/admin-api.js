// The control plane (/__admin/...): the only thing this page ever talks to.

const ADMIN = "/__admin";

// { status, ok, body, text }; `text` doubles as a change signature so unchanged data is not re-rendered.
export async function api(path, options) {
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

export function problemText(result) {
  const b = result.body;
  return b && typeof b === "object" && b.detail ? `${result.status}: ${b.detail}` : `HTTP ${result.status}`;
}

export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v) q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : "";
}

// The items of a list answer: the list envelope's `data`, or a bare array.
export function listData(body) {
  if (Array.isArray(body)) return body;
  if (body && Array.isArray(body.data)) return body.data;
  if (body && Array.isArray(body.requests)) return body.requests;
  return [];
}
