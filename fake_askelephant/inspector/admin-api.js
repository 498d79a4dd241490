// The control plane (/__admin/...): the only thing this page ever talks to.

const ADMIN = "/__admin";
const TOKEN_KEY = "fake-askelephant-admin-token";
let asked = false; // the page asks for the admin token once per load, whatever the polling does
let memoryToken = null;

function storedToken() {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch (_) {
    return null;
  }
}

// An emulator started with --admin-token answers 401 until the page sends the token: ask the user once, keep it
// for this tab (sessionStorage), send it as X-Admin-Token from then on.
async function askForToken() {
  if (asked) return null;
  asked = true;
  const given = window.prompt("This emulator's control plane needs its admin token (serve --admin-token):");
  const token = given ? given.trim() : "";
  if (!token) return null;
  try {
    sessionStorage.setItem(TOKEN_KEY, token);
  } catch (_) {
    // storage refused: the token still works until the page reloads
  }
  memoryToken = token;
  return token;
}

// The last answer to each GET that carried an ETag: polls send If-None-Match and a 304 (nothing changed, so the
// server built nothing) reuses it.
const answered = new Map();

// { status, ok, body, text }; `text` doubles as a change signature so unchanged data is not re-rendered.
export async function api(path, options) {
  const init = { headers: { Accept: "application/json" }, ...(options || {}) };
  if (init.json !== undefined) {
    init.method = init.method || "POST";
    init.body = JSON.stringify(init.json);
    init.headers["Content-Type"] = "application/json";
    delete init.json;
  }
  const token = memoryToken || storedToken();
  if (token) init.headers["X-Admin-Token"] = token;
  const isGet = !init.method || init.method === "GET";
  const cached = isGet ? answered.get(path) : undefined;
  if (cached) init.headers["If-None-Match"] = cached.etag;
  let resp;
  for (let attempt = 0; ; attempt++) {
    resp = await fetch(ADMIN + path, init);
    if (resp.status !== 401 || attempt > 0) break;
    const given = await askForToken();
    if (!given) break;
    init.headers["X-Admin-Token"] = given;
  }
  if (resp.status === 304 && cached) return cached.result;
  const text = await resp.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch (_) {
    body = text;
  }
  const result = { status: resp.status, ok: resp.ok, body, text };
  const etag = resp.headers.get("ETag");
  if (isGet && etag && resp.ok) answered.set(path, { etag, result });
  else if (isGet) answered.delete(path);
  return result;
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

// Every item of a paged list (api.md §8 envelope), following next_cursor up to `cap` items.
// { status, ok, items, capped, text } — `text` concatenates the pages, as a change signature.
export async function listAll(path, params, cap) {
  const items = [];
  const texts = [];
  let cursor = null;
  for (;;) {
    const res = await api(path + query({ ...params, limit: "100", cursor }));
    texts.push(res.text);
    if (!res.ok) return { status: res.status, ok: false, body: res.body, items, capped: false, text: texts.join("") };
    items.push(...listData(res.body));
    cursor = res.body.has_more ? res.body.next_cursor : null;
    if (!cursor || items.length >= cap) {
      return { status: res.status, ok: true, items, capped: Boolean(cursor), text: texts.join("") };
    }
  }
}
