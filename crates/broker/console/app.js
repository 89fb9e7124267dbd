// The console's entry: the API with the user's credentials, the live view (Server-Sent
// Events from /api/v1/events, read with fetch so the credentials go with it), and the
// router: every page is a path the server also serves, so links deep-link and reload.

import { overview, streams, groups, group, connections, config } from "./pages.js";
import { stream } from "./browser.js";

const CREDENTIALS = "memstream.authorization";
/** Samples kept for the charts: ten minutes at the default one per second. */
const HISTORY_MAX = 600;

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

function authorization() { return sessionStorage.getItem(CREDENTIALS); }

function headers(extra = {}) {
  const out = { "X-Requested-With": "memstream-console", ...extra };
  const auth = authorization();
  if (auth) out.Authorization = auth;
  return out;
}

/** A call to the REST API: the JSON answer, or an ApiError with the server's code. */
export async function api(path, { method = "GET", body } = {}) {
  const init = { method, headers: headers(body === undefined ? {} : { "Content-Type": "application/json" }) };
  if (body !== undefined) init.body = JSON.stringify(body);
  const response = await fetch(path, init);
  if (response.status === 401) {
    login.show();
    throw new ApiError(401, "AUTHENTICATION_REQUIRED", "log in to see this");
  }
  const text = await response.text();
  const json = text ? JSON.parse(text) : null;
  if (!response.ok) {
    throw new ApiError(response.status, json?.code || "ERROR", json?.message || response.statusText);
  }
  return json;
}

/** The live view: the last snapshot, a bounded history of them, and who listens. */
export const live = {
  last: null,
  history: [],
  listeners: new Set(),
  /** Calls fn with each snapshot (and the last one now, if any); returns the unsubscribe. */
  subscribe(fn) {
    this.listeners.add(fn);
    if (this.last) fn(this.last);
    return () => this.listeners.delete(fn);
  },
};

const status = document.getElementById("live");

function setStatus(text, ok) {
  status.textContent = text;
  status.className = `live ${ok ? "ok" : "down"}`;
}

function received(snapshot) {
  live.last = snapshot;
  const sample = {
    t: snapshot.time_ms,
    in_records: snapshot.produce_records_per_sec,
    out_records: snapshot.consume_records_per_sec,
    in_bytes: snapshot.produce_bytes_per_sec,
    out_bytes: snapshot.consume_bytes_per_sec,
    lag: Object.fromEntries(snapshot.groups.map((g) => [g.name, g.total_lag])),
  };
  live.history.push(sample);
  if (live.history.length > HISTORY_MAX) live.history.shift();
  setStatus("live", true);
  for (const fn of live.listeners) fn(snapshot);
}

/**
 * Reads the event stream until `signal` aborts it. A page that is left aborts its stream
 * (pagehide): otherwise a page kept in the back-forward cache keeps its connection, and a
 * browser's few connections per server run out after a few pages.
 */
async function follow(signal) {
  let delay = 500;
  while (!signal.aborted) {
    try {
      const response = await fetch("/api/v1/events", { headers: headers(), signal });
      if (response.status === 401) {
        setStatus("logged out", false);
        await login.wait();
        continue;
      }
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      delay = 500;
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const event = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = event.split("\n").filter((l) => l.startsWith("data: ")).map((l) => l.slice(6)).join("\n");
          if (data) received(JSON.parse(data));
        }
      }
      setStatus("reconnecting…", false);
    } catch (e) {
      if (signal.aborted) return;
      setStatus(`disconnected (${e.message}); retrying`, false);
    }
    await new Promise((resolve) => { setTimeout(resolve, delay); });
    delay = Math.min(delay * 2, 10000);
  }
}

/** The login dialog, shown when the API answers 401. */
const login = {
  dialog: document.getElementById("login"),
  waiting: [],
  show() {
    if (!this.dialog.open) this.dialog.showModal();
  },
  wait() {
    this.show();
    return new Promise((resolve) => { this.waiting.push(resolve); });
  },
  async submit(event) {
    event.preventDefault();
    const form = new FormData(event.target);
    const token = String(form.get("token") || "").trim();
    const user = String(form.get("user") || "");
    const value = token ? `Bearer ${token}` : `Basic ${btoa(unescape(encodeURIComponent(`${user}:${form.get("password") || ""}`)))}`;
    sessionStorage.setItem(CREDENTIALS, value);
    const check = await fetch("/api/v1/node", { headers: headers() });
    const error = document.getElementById("login-error");
    if (!check.ok) {
      sessionStorage.removeItem(CREDENTIALS);
      error.textContent = check.status === 401 ? "Those credentials were refused." : `The server answered ${check.status}.`;
      return;
    }
    error.textContent = "";
    this.dialog.close();
    for (const resolve of this.waiting.splice(0)) resolve();
    render();
  },
};
document.getElementById("login-form").addEventListener("submit", (e) => login.submit(e));

const ROUTES = [
  [/^\/$/, "overview", overview],
  [/^\/streams$/, "streams", streams],
  [/^\/streams\/([^/]+)$/, "streams", stream],
  [/^\/groups$/, "groups", groups],
  [/^\/groups\/([^/]+)$/, "groups", group],
  [/^\/connections$/, "connections", connections],
  [/^\/config$/, "config", config],
];

let leave = null;

/** Shows the page for the current path. */
async function render() {
  if (leave) { leave(); leave = null; }
  const main = document.getElementById("main");
  const path = location.pathname.replace(/\/+$/, "") || "/";
  const route = ROUTES.find(([pattern]) => pattern.test(path));
  for (const a of document.querySelectorAll("[data-nav]")) {
    if (route && a.dataset.nav === route[1]) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  if (!route) {
    main.replaceChildren(Object.assign(document.createElement("h1"), { textContent: "Not found" }));
    return;
  }
  const args = path.match(route[0]).slice(1).map(decodeURIComponent);
  const page = { main, cleanups: [], onLeave(fn) { this.cleanups.push(fn); } };
  leave = () => page.cleanups.forEach((fn) => fn());
  document.title = `${route[1][0].toUpperCase()}${route[1].slice(1)} · MemoryStreamer`;
  try {
    await route[2](page, ...args);
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return;
    const p = document.createElement("p");
    p.className = "error";
    p.setAttribute("role", "alert");
    p.textContent = e instanceof ApiError ? `${e.code}: ${e.message}` : String(e);
    main.replaceChildren(p);
  }
}

/** Goes to a path of the console without reloading. */
export function go(path) {
  history.pushState(null, "", path);
  render();
  document.getElementById("main").focus();
}

document.addEventListener("click", (event) => {
  const a = event.target.closest("a[href]");
  if (!a || a.target || event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || !ROUTES.some(([p]) => p.test(url.pathname))) return;
  event.preventDefault();
  go(url.pathname + url.search);
});
window.addEventListener("popstate", render);

let following = new AbortController();
window.addEventListener("pagehide", () => following.abort());
window.addEventListener("pageshow", (event) => {
  if (!event.persisted) return;
  following = new AbortController();
  follow(following.signal);
});

render();
follow(following.signal);
