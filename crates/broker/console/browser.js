// A stream's page: its partitions and settings, and the message browser (a partition, from
// an offset, a time or the newest records; pages forward and back; filters on key or value;
// values as pretty JSON, text or hex, with headers).

import { api, live, go } from "./app.js";
import { h, bytes, count, card, empty, plain, shown } from "./ui.js";

const PAGE = 20;

function record(r) {
  return h("article", { class: "record", "data-offset": r.offset },
    h("div", { class: "meta" },
      h("span", {}, "offset ", h("b", {}, String(r.offset))),
      h("span", {}, "time ", h("b", {}, r.timestamp)),
      h("span", {}, "key ", h("b", { class: "mono", "data-key": true }, r.key ? String(r.key.encoding === "json" ? JSON.stringify(r.key.data) : r.key.data) : "null")),
      h("span", {}, `${r.value ? r.value.size : 0} bytes`)),
    r.headers.length ? h("div", { class: "headers" }, "headers: ",
      r.headers.map((x, i) => [i ? ", " : "", h("code", {}, x.name), "=", h("code", {}, x.value ? String(x.value.data) : "null")])) : null,
    h("div", { "data-value": true }, shown(r.value)));
}

export async function stream(page, name) {
  const path = `/api/v1/streams/${encodeURIComponent(name)}`;
  let info;
  try {
    info = await api(path);
  } catch (e) {
    if (e.status !== 404) throw e;
    page.main.replaceChildren(h("h1", {}, name),
      empty("No such stream. It may have been deleted; see", h("a", { href: "/streams" }, "all streams")));
    return;
  }
  const cards = h("div", { class: "cards" });
  const partitions = h("div");
  const drawInfo = () => {
    const held = info.partitions.reduce((n, p) => n + p.records, 0);
    cards.replaceChildren(
      card("Partitions", String(info.partitions.length)),
      card("Records held", count(held)),
      card("Size", bytes(info.partitions.reduce((n, p) => n + p.bytes, 0))),
      card("Storage", info.settings.storage, `fsync ${info.settings.fsync}`));
    partitions.replaceChildren(plain([
      { key: "partition", label: "Partition", num: true },
      { key: "start_offset", label: "Start", num: true },
      { key: "end_offset", label: "End", num: true },
      { key: "durable_offset", label: "Durable", num: true },
      { key: "records", label: "Records", num: true },
      { key: "bytes", label: "Size", num: true, cell: (p) => bytes(p.bytes) },
      { key: "segments", label: "Segments", num: true },
      { key: "leader", label: "Leader", num: true },
      { key: "corrupt", label: "Corrupt ranges", cell: (p) => (p.corrupt.length ? p.corrupt.map((c) => `${c.segment}@${c.position}: ${c.reason}`).join("; ") : "none") },
    ], info.partitions, "Partitions"));
  };
  const settings = plain([
    { key: "k", label: "Setting", cell: (r) => h("code", {}, r.k) },
    { key: "v", label: "Value", cell: (r) => h("code", {}, String(r.v)) },
  ], Object.entries(info.settings).map(([k, v]) => ({ k, v })), "Settings");

  // The message browser.
  const partition = h("select", { name: "partition" }, info.partitions.map((p) => h("option", { value: p.partition }, String(p.partition))));
  const from = h("select", { name: "from" }, h("option", { value: "latest" }, "newest"), h("option", { value: "offset" }, "offset"), h("option", { value: "time" }, "time"));
  const at = h("input", { name: "at", placeholder: "offset, or 2026-12-04T10:00:00Z", "aria-label": "Offset or time" });
  const key = h("input", { name: "key", type: "search", placeholder: "contains…", "aria-label": "Key contains" });
  const value = h("input", { name: "value", type: "search", placeholder: "contains…", "aria-label": "Value contains" });
  const format = h("select", { name: "format" }, ["auto", "json", "utf8", "hex"].map((f) => h("option", { value: f }, f)));
  const older = h("button", { type: "button" }, "← Older");
  const newer = h("button", { type: "button" }, "Newer →");
  const where = h("p", { role: "status", class: "crumbs" });
  const list = h("div", { class: "records", "aria-live": "polite" });
  let current = null;

  async function load(query) {
    const q = new URLSearchParams({ limit: String(PAGE), format: format.value });
    if (query.offset !== undefined) q.set("offset", String(query.offset));
    if (query.time) q.set("time", query.time);
    if (key.value) q.set("key", key.value);
    if (value.value) q.set("value", value.value);
    const result = await api(`${path}/partitions/${partition.value}/records?${q}`);
    current = result;
    where.textContent = `Partition ${result.partition}: offsets ${result.from_offset} to ${result.next_offset} of ${result.start_offset}..${result.end_offset}`;
    older.disabled = result.from_offset <= result.start_offset;
    newer.disabled = result.next_offset >= result.end_offset;
    list.replaceChildren(...(result.records.length ? result.records.map(record)
      : [empty(result.end_offset === result.start_offset ? "This partition holds no records yet. Produce one with" : "No records match here.",
        result.end_offset === result.start_offset ? `echo hello | memstream produce ${name} --partition ${result.partition}` : null)]));
  }
  function browse() {
    if (from.value === "offset") return load({ offset: Number(at.value) || 0 });
    if (from.value === "time") return load({ time: at.value.trim() });
    return load({});
  }
  const form = h("form", { class: "inline", "aria-label": "Browse records" },
    h("label", {}, "Partition", partition), h("label", {}, "From", from), h("label", {}, "Offset or time", at),
    h("label", {}, "Key contains", key), h("label", {}, "Value contains", value), h("label", {}, "Show as", format),
    h("button", { type: "submit", class: "primary" }, "Show"), older, newer);
  form.addEventListener("submit", (e) => { e.preventDefault(); browse().catch(showError); });
  older.addEventListener("click", () => {
    if (current) load({ offset: Math.max(current.start_offset, current.from_offset - PAGE) }).catch(showError);
  });
  newer.addEventListener("click", () => { if (current) load({ offset: current.next_offset }).catch(showError); });
  function showError(e) { where.textContent = `${e.code || "error"}: ${e.message}`; where.className = "error"; }

  const remove = h("button", { type: "button", class: "danger" }, "Delete stream…");
  remove.addEventListener("click", async () => {
    if (!window.confirm(`Delete the stream ${name} and all its records?`)) return;
    try { await api(path, { method: "DELETE" }); go("/streams"); } catch (e) { showError(e); }
  });

  page.main.replaceChildren(h("div", { class: "crumbs" }, h("a", { href: "/streams" }, "Streams"), " / ", name),
    h("h1", {}, name), cards, h("h2", {}, "Partitions"), partitions,
    h("h2", {}, "Messages"), form, where, list,
    h("h2", {}, "Settings"), settings, h("div", { class: "toolbar" }, remove));
  drawInfo();
  await browse();
  let busy = false;
  page.onLeave(live.subscribe(async (snap) => {
    if (busy || !snap.streams.some((s) => s.name === name)) return;
    busy = true;
    try { info = await api(path); drawInfo(); } catch { /* deleted meanwhile: the next update says so */ } finally { busy = false; }
  }));
}
