// The pages: overview, streams, groups, a group, connections, config. Each draws from the
// REST API and the live view, and stops listening when the user leaves it.

import { api, live, go, ApiError } from "./app.js";
import { h, bytes, count, rate, duration, card, empty, sortable, plain, chart } from "./ui.js";

const WINDOW_MS = 5 * 60 * 1000;

function heading(text, crumbs) {
  const title = h("h1", {}, text);
  return crumbs ? [h("div", { class: "crumbs" }, crumbs), title] : [title];
}

function notice(el, text, ok) {
  el.textContent = text;
  el.className = ok ? "notice" : "error";
}

export async function overview(page) {
  const [node, cluster] = await Promise.all([api("/api/v1/node"), api("/api/v1/cluster")]);
  const cards = h("div", { class: "cards" });
  const inOut = [
    { key: "in_records", label: "in", cls: "in", color: "#0b57d0" },
    { key: "out_records", label: "out", cls: "out", color: "#b3261e" },
  ];
  const records = chart("Records per second", inOut, count, WINDOW_MS);
  const byteRate = chart("Bytes per second", [
    { key: "in_bytes", label: "in", cls: "in", color: "#0b57d0" },
    { key: "out_bytes", label: "out", cls: "out", color: "#b3261e" },
  ], bytes, WINDOW_MS);
  const healthy = cluster.nodes.filter((n) => n.healthy).length;
  const listeners = Object.entries(node.listeners).filter(([, l]) => l)
    .map(([name, l]) => `${name} ${l.address}${l.tls ? " (TLS)" : ""}`).join(", ");
  page.main.replaceChildren(...heading("Overview"),
    h("p", {}, `${node.name} ${node.version}, node ${node.node_id} (${node.role}); `,
      `security ${node.security ? "on" : "off"}; listening on ${listeners}.`),
    cards, h("div", { class: "charts" }, records.el, byteRate.el));
  const draw = (snap) => {
    cards.replaceChildren(
      card("Uptime", duration(snap.uptime_ms), `since ${new Date(node.started_ms).toLocaleString()}`),
      card("Produce", rate(snap.produce_records_per_sec), `${bytes(snap.produce_bytes_per_sec)}/s`),
      card("Consume", rate(snap.consume_records_per_sec), `${bytes(snap.consume_bytes_per_sec)}/s`),
      card("Connections", String(snap.connections.native + snap.connections.kafka),
        `${snap.connections.native} native, ${snap.connections.kafka} Kafka`),
      card("Streams", String(snap.streams.length), `${count(snap.records)} records held`),
      card("Disk", bytes(snap.disk_bytes), `${bytes(snap.bytes)} held in all`),
      card("Consumer lag", count(snap.total_lag), `${snap.groups.length} groups`),
      card("Cluster", `${healthy}/${cluster.nodes.length} healthy`, cluster.mode));
    records.update(live.history);
    byteRate.update(live.history);
  };
  page.onLeave(live.subscribe(draw));
  if (!live.last) cards.append(h("p", {}, "Waiting for the first live update…"));
}

export async function streams(page) {
  const table = sortable([
    { key: "name", label: "Stream", cell: (s) => h("a", { href: `/streams/${encodeURIComponent(s.name)}` }, s.name) },
    { key: "partitions", label: "Partitions", num: true },
    { key: "storage", label: "Storage" },
    { key: "records", label: "Records", num: true, cell: (s) => count(s.records) },
    { key: "bytes", label: "Size", num: true, cell: (s) => bytes(s.bytes) },
    { key: "produce_records_per_sec", label: "In", num: true, cell: (s) => rate(s.produce_records_per_sec) },
    { key: "consume_records_per_sec", label: "Out", num: true, cell: (s) => rate(s.consume_records_per_sec) },
  ], { label: "Streams", rowKey: (s) => s.name });
  const body = h("div");
  const result = h("p", { role: "status" });
  const form = h("form", { class: "inline", "aria-label": "Create a stream" },
    h("label", {}, "Name", h("input", { name: "name", required: true, pattern: "[A-Za-z0-9._\\-]+", placeholder: "orders" })),
    h("label", {}, "Partitions", h("input", { name: "partitions", type: "number", min: 1, value: 1 })),
    h("label", {}, "Storage", h("select", { name: "storage" }, h("option", { value: "memory" }, "memory"), h("option", { value: "disk" }, "disk"))),
    h("button", { type: "submit", class: "primary" }, "Create stream"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    try {
      const created = await api("/api/v1/streams", { method: "POST", body: {
        name: data.get("name"), partitions: Number(data.get("partitions")), settings: { storage: data.get("storage") },
      } });
      notice(result, `Created ${created.name}.`, true);
      form.reset();
      draw((await api("/api/v1/streams")).streams);
    } catch (e) {
      notice(result, e instanceof ApiError ? `${e.code}: ${e.message}` : String(e), false);
    }
  });
  let shown = false;
  const draw = (list) => {
    if (!list.length) {
      shown = false;
      body.replaceChildren(empty("No streams yet: create one here, or with", "memstream stream create orders --partitions 3"));
      return;
    }
    if (!shown) { body.replaceChildren(table.el); shown = true; }
    table.update(list);
  };
  page.main.replaceChildren(...heading("Streams"), form, result, body);
  draw((await api("/api/v1/streams")).streams);
  page.onLeave(live.subscribe((snap) => draw(snap.streams)));
}

const STATE_COLUMN = { key: "state", label: "State", cell: (g) => h("span", { class: `state-${g.state}` }, g.state) };

export async function groups(page) {
  const table = sortable([
    { key: "name", label: "Group", cell: (g) => h("a", { href: `/groups/${encodeURIComponent(g.name)}` }, g.name) },
    STATE_COLUMN,
    { key: "protocol_type", label: "Protocol", value: (g) => g.protocol_type || "native" },
    { key: "members", label: "Members", num: true },
    { key: "total_lag", label: "Lag", num: true, cell: (g) => count(g.total_lag) },
  ], { label: "Consumer groups", sort: "name", rowKey: (g) => g.name });
  const body = h("div");
  let shown = false;
  const draw = (list) => {
    if (!list.length) {
      shown = false;
      body.replaceChildren(empty("No consumer groups yet: they appear when a consumer joins one, e.g.",
        "memstream consume orders --group billing --follow"));
      return;
    }
    if (!shown) { body.replaceChildren(table.el); shown = true; }
    table.update(list);
  };
  page.main.replaceChildren(...heading("Consumer groups"), body);
  draw((await api("/api/v1/groups")).groups);
  page.onLeave(live.subscribe((snap) => draw(snap.groups)));
}

export async function group(page, name) {
  const path = `/api/v1/groups/${encodeURIComponent(name)}`;
  const summary = h("div", { class: "cards" });
  const members = h("div");
  const partitions = h("div");
  const lagChart = chart("Lag over time", [{ key: "lag", label: "lag", cls: "out", color: "#b3261e" }], count, WINDOW_MS);
  page.main.replaceChildren(...heading(name, [h("a", { href: "/groups" }, "Groups"), " / ", name]),
    summary, h("div", { class: "charts" }, lagChart.el), h("h2", {}, "Members"), members, h("h2", {}, "Lag per partition"), partitions);
  const draw = async () => {
    const g = await api(path);
    summary.replaceChildren(
      card("State", g.state),
      card("Total lag", count(g.total_lag), `${g.partitions.length} partitions committed`),
      card("Members", String(g.members.length), `generation ${g.generation}`),
      card("Protocol", g.protocol || "none", g.protocol_type || "native"));
    members.replaceChildren(g.members.length ? plain([
      { key: "member_id", label: "Member" },
      { key: "client_id", label: "Client", cell: (m) => m.client_id || "" },
      { key: "client_host", label: "Address", cell: (m) => m.client_host || "" },
      { key: "assignment", label: "Assignment", cell: (m) => m.assignment.map((a) => `${a.stream}[${a.partition}]`).join(", ") },
    ], g.members, "Members") : empty("No members: the group is empty; its committed offsets stay."));
    partitions.replaceChildren(g.partitions.length ? plain([
      { key: "stream", label: "Stream", cell: (p) => h("a", { href: `/streams/${encodeURIComponent(p.stream)}` }, p.stream) },
      { key: "partition", label: "Partition", num: true },
      { key: "committed", label: "Committed", num: true, cell: (p) => (p.committed ?? "none") },
      { key: "end_offset", label: "End offset", num: true },
      { key: "lag", label: "Lag", num: true },
    ], g.partitions, "Lag per partition") : empty("No committed offsets yet."));
    lagChart.update(live.history.map((s) => ({ t: s.t, lag: s.lag[name] ?? 0 })));
  };
  await draw();
  let busy = false;
  page.onLeave(live.subscribe(async () => {
    if (busy) return;
    busy = true;
    try { await draw(); } catch (e) { if (e.status === 404) go("/groups"); } finally { busy = false; }
  }));
}

export async function connections(page) {
  const result = h("p", { role: "status" });
  const table = sortable([
    { key: "id", label: "Id", num: true },
    { key: "protocol", label: "Protocol" },
    { key: "peer", label: "Peer", cell: (c) => `${c.peer || ""}${c.tls ? " (TLS)" : ""}` },
    { key: "client", label: "Client" },
    { key: "principal", label: "Principal" },
    { key: "age_ms", label: "Age", num: true, cell: (c) => duration(c.age_ms) },
    { key: "bytes_in", label: "In", num: true, cell: (c) => bytes(c.bytes_in) },
    { key: "bytes_out", label: "Out", num: true, cell: (c) => bytes(c.bytes_out) },
    { key: "requests", label: "Requests", num: true },
    { key: "subscriptions", label: "Subs", num: true },
    { key: "close", label: "", nosort: true, value: () => "", cell: (c) => h("button", { type: "button", class: "danger", "aria-label": `Close connection ${c.id}`, onclick: async () => {
      try {
        await api(`/api/v1/connections/${c.id}`, { method: "DELETE" });
        notice(result, `Closing connection ${c.id}.`, true);
      } catch (e) { notice(result, `${e.code || ""} ${e.message}`, false); }
    } }, "Close") },
  ], { label: "Connections", rowKey: (c) => String(c.id) });
  const body = h("div");
  page.main.replaceChildren(...heading("Connections"), result, body);
  const draw = async () => {
    const list = (await api("/api/v1/connections")).connections;
    if (!list.length) body.replaceChildren(empty("No native or Kafka clients are connected. Try", "memstream ping"));
    else { if (!body.contains(table.el)) body.replaceChildren(table.el); table.update(list); }
  };
  await draw();
  let busy = false;
  page.onLeave(live.subscribe(async () => {
    if (busy) return;
    busy = true;
    try { await draw(); } finally { busy = false; }
  }));
}

export async function config(page) {
  const result = h("p", { role: "status" });
  const filter = h("input", { type: "search", placeholder: "key or value", "aria-label": "Filter keys" });
  const body = h("div");
  const reload = h("button", { type: "button" }, "Reload configuration");
  reload.addEventListener("click", async () => {
    try {
      const r = await api("/api/v1/config/reload", { method: "POST" });
      notice(result, `Reloaded: ${r.applied.length ? r.applied.join(", ") : "nothing changed"}${r.needs_restart?.length ? `; needs a restart: ${r.needs_restart.join(", ")}` : ""}.`, true);
      await load();
    } catch (e) { notice(result, `${e.code || ""} ${e.message}`, false); }
  });
  let data = null;
  const draw = () => {
    const q = filter.value.trim().toLowerCase();
    const rows = data.keys.filter((k) => !q || k.key.includes(q) || JSON.stringify(k.value).toLowerCase().includes(q));
    body.replaceChildren(plain([
      { key: "key", label: "Key", cell: (k) => h("code", {}, k.key) },
      { key: "value", label: "Value", cell: (k) => h("code", {}, JSON.stringify(k.value)) },
      { key: "origin", label: "Origin" },
      { key: "live", label: "Applies", cell: (k) => (k.live ? "live" : "on restart") },
    ], rows, "Configuration"));
  };
  const load = async () => { data = await api("/api/v1/config"); draw(); };
  filter.addEventListener("input", draw);
  page.main.replaceChildren(...heading("Configuration"),
    h("div", { class: "toolbar" }, h("label", {}, "Filter", filter), reload), result, body);
  await load();
  if (data.file) body.before(h("p", {}, "From ", h("code", {}, data.file), ", the environment and flags over the defaults."));
}
