// Building blocks: elements (text only through textContent: record contents are
// untrusted), number formats, sortable tables and line charts.

/** An element: h("td", {class: "num"}, "12"). Children are nodes or strings. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

/** An element in the SVG namespace. */
function s(tag, attrs = {}) {
  const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, String(value));
  return el;
}

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

export function bytes(n) {
  let v = Number(n) || 0;
  let i = 0;
  while (v >= 1024 && i < UNITS.length - 1) { v /= 1024; i += 1; }
  return `${i === 0 ? v : v.toFixed(1)} ${UNITS[i]}`;
}

export function count(n) {
  const v = Number(n) || 0;
  if (v >= 1e9) return `${(v / 1e9).toFixed(2)} G`;
  if (v >= 1e6) return `${(v / 1e6).toFixed(2)} M`;
  if (v >= 1e4) return `${(v / 1e3).toFixed(1)} k`;
  return Number.isInteger(v) ? String(v) : v.toFixed(1);
}

export function rate(n) { return `${count(n)}/s`; }

export function duration(ms) {
  let s = Math.floor((Number(ms) || 0) / 1000);
  const d = Math.floor(s / 86400); s -= d * 86400;
  const hr = Math.floor(s / 3600); s -= hr * 3600;
  const m = Math.floor(s / 60); s -= m * 60;
  if (d) return `${d}d ${hr}h`;
  if (hr) return `${hr}h ${m}m`;
  if (m) return `${m}m ${s}s`;
  return `${s}s`;
}

/** A card: a label, a big value and an optional line under it. */
export function card(label, value, sub) {
  return h("div", { class: "card" },
    h("div", { class: "label" }, label),
    h("div", { class: "value", "data-card": label }, value),
    sub ? h("div", { class: "sub" }, sub) : null);
}

/** What a page shows when there is nothing yet: what to do about it. */
export function empty(text, command) {
  return h("p", { class: "empty" }, text, command ? [" ", h("code", {}, command)] : null);
}

/**
 * A table whose headers sort it (buttons, so the keyboard reaches them).
 * columns: [{key, label, num, value(row) -> sortable, cell(row) -> node|string}].
 * Returns {el, update(rows)}: update keeps the sort the user chose.
 */
export function sortable(columns, { sort, label, rowKey } = {}) {
  let rows = [];
  let by = sort || columns[0].key;
  let descending = false;
  const tbody = h("tbody");
  const heads = columns.map((c) => {
    if (c.nosort) return h("th", { scope: "col" }, c.label);
    const th = h("th", { class: c.num ? "num" : null, scope: "col" },
      h("button", { type: "button", onclick: () => {
        descending = by === c.key ? !descending : Boolean(c.num);
        by = c.key;
        draw();
      } }, c.label));
    return th;
  });
  const table = h("table", { "aria-label": label }, h("thead", {}, h("tr", {}, heads)), tbody);
  function value(row, key) {
    const c = columns.find((col) => col.key === key);
    return c.value ? c.value(row) : row[key];
  }
  function draw() {
    columns.forEach((c, i) => {
      if (!c.nosort) heads[i].setAttribute("aria-sort", c.key === by ? (descending ? "descending" : "ascending") : "none");
    });
    const sorted = [...rows].sort((a, b) => {
      const x = value(a, by);
      const y = value(b, by);
      const order = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y));
      return descending ? -order : order;
    });
    tbody.replaceChildren(...sorted.map((row) => h("tr", { "data-row": rowKey ? rowKey(row) : null },
      columns.map((c) => h("td", { class: c.num ? "num" : null }, c.cell ? c.cell(row) : value(row, c.key))))));
  }
  return {
    el: h("div", { class: "scroll" }, table),
    update(next) { rows = next; draw(); },
  };
}

/** A plain table of rows (no sorting). */
export function plain(columns, rows, label) {
  return h("div", { class: "scroll" }, h("table", { "aria-label": label },
    h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col", class: c.num ? "num" : null }, c.label)))),
    h("tbody", {}, rows.map((row) => h("tr", {},
      columns.map((c) => h("td", { class: c.num ? "num" : null }, c.cell ? c.cell(row) : row[c.key])))))));
}

/**
 * A line chart of samples [{t, ...}] over a time window; series [{key, label, cls, color}].
 * Returns {el, update(samples)}.
 */
export function chart(title, series, format, windowMs) {
  const H = 160;
  const PAD = 56;
  const svg = s("svg", { viewBox: `0 0 600 ${H}`, role: "img" });
  const legend = h("div", { class: "legend" }, series.map((x) => h("span", { class: x.cls, "data-series": x.key }, x.label)));
  const el = h("figure", { class: "chart" }, h("h3", {}, title), svg, legend);
  function update(samples) {
    // Drawn in the SVG's own pixels, so that text keeps its size at any width.
    const W = Math.max(200, Math.round(svg.getBoundingClientRect().width) || 600);
    svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
    svg.replaceChildren();
    const now = samples.length ? samples[samples.length - 1].t : Date.now();
    const max = Math.max(1, ...samples.flatMap((p) => series.map((x) => p[x.key] || 0)));
    for (const f of [0, 0.5, 1]) {
      const y = H - 16 - f * (H - 28);
      svg.append(s("line", { class: "grid", x1: PAD, x2: W, y1: y, y2: y }));
      const text = s("text", { class: "axis", x: 2, y: y + 4 });
      text.textContent = format(max * f);
      svg.append(text);
    }
    const x = (t) => PAD + ((t - (now - windowMs)) / windowMs) * (W - PAD);
    const y = (v) => H - 16 - (v / max) * (H - 28);
    for (const line of series) {
      const points = samples.map((p) => `${x(p.t).toFixed(1)},${y(p[line.key] || 0).toFixed(1)}`);
      if (points.length > 1) {
        svg.append(s("polyline", { points: points.join(" "), fill: "none", stroke: line.color, "stroke-width": 2 }));
      } else if (points.length === 1) {
        const [cx, cy] = points[0].split(",");
        svg.append(s("circle", { cx, cy, r: 3, fill: line.color }));
      }
    }
    const last = samples[samples.length - 1] || {};
    const said = series.map((line) => `${line.label} ${format(last[line.key] || 0)}`).join(", ");
    svg.setAttribute("aria-label", `${title}: now ${said}`);
    series.forEach((line) => {
      legend.querySelector(`[data-series="${line.key}"]`).textContent = `${line.label} ${format(last[line.key] || 0)}`;
    });
  }
  update([]);
  return { el, update };
}

/** The value of a record's key or value as the API shows it: pretty JSON, text or hex. */
export function shown(item) {
  if (!item) return h("span", { class: "muted" }, "null");
  if (item.encoding === "json") return h("pre", {}, JSON.stringify(item.data, null, 2));
  return h("pre", { "data-encoding": item.encoding }, String(item.data));
}
