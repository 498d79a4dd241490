// DOM and time primitives for the inspector.
//
// Safety rule: data only ever reaches the page as text (textContent, or Text nodes appended by el()).
// el() refuses `href`; links come from internalLink() (a hash we build) or externalLink(), which keeps only
// http(s) URLs. The page's CSP enforces Trusted Types, so assigning a markup string to an element would throw.

export function el(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = String(value);
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "href" || key === "src") throw new Error("links go through internalLink() or externalLink()");
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

// A link to another view of this page (`#engagement/ngmt_…`); callers encode ids into the hash.
export function internalLink(hash, text, props) {
  const a = el("a", props, text);
  a.setAttribute("href", "#" + hash);
  return a;
}

// Only http(s) URLs become links; anything else (javascript:, data:, a dialer deep link) stays inert text.
export function externalLink(url) {
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

export function note(text, cls) {
  return el("p", { class: "note " + (cls || "") }, text);
}

export const NOT_AVAILABLE = "not available in this build";

export function unavailable(what) {
  return note(`${what}: ${NOT_AVAILABLE} (the control-plane route answered 404).`, "unavailable");
}

export function pretty(value) {
  if (typeof value === "string") {
    try {
      return JSON.stringify(JSON.parse(value), null, 2);
    } catch (_) {
      return value;
    }
  }
  return JSON.stringify(value, null, 2);
}

export function badge(text, kind) {
  return el("span", { class: `badge ${kind || ""}`, text: text === null || text === undefined ? "—" : text });
}

export function statusBadge(status) {
  const kind = { COMPLETED: "ok", succeeded: "ok", FAILED: "bad", failed: "bad", PROCESSING: "busy" }[status];
  return badge(status, kind || "idle");
}

export function table(headers, rows, props) {
  return el(
    "table",
    props,
    el("thead", null, el("tr", null, headers.map((h) => el("th", { text: h })))),
    el("tbody", null, rows),
  );
}

export function cell(value) {
  if (value instanceof Node) return el("td", null, value);
  if (value === null || value === undefined) return el("td", { class: "muted", text: "—" });
  return el("td", { text: typeof value === "object" ? JSON.stringify(value) : String(value) });
}

// Rows of arbitrary objects (journal, faults): one column per key seen, objects shown as JSON text.
export function genericTable(items, cls) {
  const columns = [];
  for (const item of items.slice(0, 50)) for (const k of Object.keys(item)) if (!columns.includes(k)) columns.push(k);
  return table(columns, items.map((item) => el("tr", null, columns.map((c) => cell(item[c])))), { class: cls });
}

// Time ---------------------------------------------------------------------------------------------

export const pad = (n, w = 2) => String(n).padStart(w, "0");

export function parseTime(iso) {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? null : ms;
}

// "03-09 11:59:03.250" (virtual time is UTC); the full ISO string goes in the title.
export function timeEl(iso) {
  const ms = iso === null || iso === undefined ? null : parseTime(iso);
  if (ms === null) return el("span", { class: "muted", text: iso || "—" });
  const d = new Date(ms);
  const text =
    `${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}` +
    (d.getUTCMilliseconds() ? `.${pad(d.getUTCMilliseconds(), 3)}` : "");
  return el("time", { datetime: iso, title: iso, text });
}

// "+2 min 1.7 s"
export function duration(ms) {
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
