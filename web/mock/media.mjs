// The media routes of docs/media-api.md for the mock server, over the runs it stores (rows
// ingested through /ingest, files uploaded through PUT .../files): media keys, media items per
// run or for many runs, tables paged/sorted/filtered, histograms over steps, plus the plain
// history route the text panel uses.

const typeOf = (v) => (v && typeof v === "object" && !Array.isArray(v) && typeof v._type === "string" ? v._type : "");
const FILE_TYPES = new Set(["image-file", "mask", "table-file", "audio-file", "video-file", "html-file", "plotly-file", "object3D-file", "molecule-file"]);

function fileUrl(r, path) {
  return `/api/v1/runs/${encodeURIComponent(r.entity)}/${encodeURIComponent(r.project)}/${encodeURIComponent(r.run_id)}/files/${path.split("/").map(encodeURIComponent).join("/")}`;
}

/** Add `url`/`uploaded` to every stored file reference inside a value (docs/media-api.md §2). */
export function withUrls(r, v) {
  if (Array.isArray(v)) return v.map((x) => withUrls(r, x));
  if (!v || typeof v !== "object") return v;
  const out = {};
  for (const [k, x] of Object.entries(v)) out[k] = withUrls(r, x);
  const t = typeOf(v);
  if ((FILE_TYPES.has(t) || t === "") && typeof v.path === "string" && (t || v.path.startsWith("media/"))) {
    out.url = fileUrl(r, v.path);
    out.uploaded = r._files.has(v.path);
  }
  if (t === "images/separated" && Array.isArray(v.filenames)) out.urls = v.filenames.map((p) => fileUrl(r, p));
  return out;
}

function itemsOf(r, key, minStep, maxStep) {
  const out = [];
  for (const row of r._rows) {
    if (!(key in row) || row[key] === null) continue;
    if ((minStep != null && row._step < minStep) || (maxStep != null && row._step > maxStep)) continue;
    out.push({ step: row._step, value: row[key] });
  }
  return out;
}

/** At most n evenly spaced entries, first and last kept. */
function spaced(list, n) {
  if (list.length <= n) return list;
  if (n <= 1) return [list.at(-1)];
  const out = [];
  for (let i = 0; i < n; i++) out.push(list[Math.round((i * (list.length - 1)) / (n - 1))]);
  return out;
}

function readTableFile(r, path) {
  const versions = r._files.get(path);
  if (!versions) return null;
  return JSON.parse(versions.at(-1).bytes.toString("utf8"));
}

function sortKey(v) {
  if (v === null || v === undefined) return null;
  if (typeof v === "object") return typeof v.path === "string" ? v.path : JSON.stringify(v);
  return v;
}

function cmp(a, b) {
  const ka = sortKey(a), kb = sortKey(b);
  if (ka === null || kb === null) return ka === kb ? 0 : ka === null ? 1 : -1;
  if (typeof ka === "number" && typeof kb === "number") return ka - kb;
  if (typeof ka === "number") return -1;
  if (typeof kb === "number") return 1;
  return String(ka) < String(kb) ? -1 : String(ka) > String(kb) ? 1 : 0;
}

const OPS = {
  $eq: (a, b) => a === b, $ne: (a, b) => a !== b, $gt: (a, b) => a > b, $gte: (a, b) => a >= b, $lt: (a, b) => a < b, $lte: (a, b) => a <= b,
  $contains: (a, b) => typeof a === "string" && a.toLowerCase().includes(String(b).toLowerCase()), $in: (a, b) => Array.isArray(b) && b.includes(a),
};

function tableRoute(r, url, json, err) {
  const key = url.searchParams.get("key");
  const stepQ = url.searchParams.get("step");
  const items = itemsOf(r, key, null, stepQ === null ? null : Number(stepQ));
  if (!items.length) return err(404, "not_found", `no value under ${key}`);
  let item = items.at(-1);
  let ref = item.value;
  if (typeOf(ref) === "custom-chart") {
    const t = itemsOf(r, ref.table_key, null, item.step);
    if (!t.length) return err(404, "not_found", `no value under ${ref.table_key}`);
    ref = t.at(-1).value;
  }
  if (typeOf(ref) !== "table-file") return err(400, "bad_request", `${key} is not a table`);
  let data = [], table = null;
  const parts = ref.log_mode === "INCREMENTAL" ? items.map((i) => i.value).filter((v) => typeOf(v) === "table-file") : [ref];
  for (const p of parts) {
    table = readTableFile(r, p.path);
    if (!table) return err(404, "not_found", "table file not uploaded yet");
    data = data.concat(table.data);
  }
  const columns = table.columns;
  let rows = data.map((cells, index) => ({ index, cells }));
  const filterQ = url.searchParams.get("filter");
  if (filterQ) {
    let f;
    try { f = JSON.parse(filterQ); } catch { return err(400, "invalid_filter", "filter is not JSON"); }
    for (const [col, ops] of Object.entries(f)) {
      const ci = columns.indexOf(col);
      if (ci < 0) return err(400, "invalid_filter", `no column ${col}`);
      for (const [op, val] of Object.entries(ops)) {
        if (!OPS[op]) return err(400, "invalid_filter", `unknown operator ${op}`);
        rows = rows.filter((row) => OPS[op](row.cells[ci], val));
      }
    }
  }
  const q = (url.searchParams.get("q") ?? "").toLowerCase();
  if (q) rows = rows.filter((row) => row.cells.some((c) => typeof c === "string" && c.toLowerCase().includes(q)));
  const sort = url.searchParams.get("sort");
  if (sort) {
    const ci = columns.indexOf(sort);
    if (ci < 0) return err(400, "invalid_filter", `no column ${sort}`);
    const desc = url.searchParams.get("order") === "desc";
    rows.sort((a, b) => {
      const na = sortKey(a.cells[ci]) === null, nb = sortKey(b.cells[ci]) === null;
      if (na || nb) return na === nb ? a.index - b.index : na ? 1 : -1;
      return (desc ? -cmp(a.cells[ci], b.cells[ci]) : cmp(a.cells[ci], b.cells[ci])) || a.index - b.index;
    });
  }
  const offset = Number(url.searchParams.get("offset") ?? 0), limit = Math.min(10000, Number(url.searchParams.get("limit") ?? 100));
  return json(200, { key, step: item.step, columns, column_types: table.column_types ?? {}, nrows: data.length, total: rows.length, offset,
    rows: rows.slice(offset, offset + limit).map((row) => ({ index: row.index, cells: withUrls(r, row.cells) })) });
}

function histogramRoute(r, url, json) {
  const key = url.searchParams.get("key");
  const samples = Math.min(10000, Number(url.searchParams.get("samples") ?? 500));
  const hs = spaced(itemsOf(r, key).filter((i) => typeOf(i.value) === "histogram"), samples).map((i) => ({ step: i.step, bins: i.value.bins, values: i.value.values }));
  let min = Infinity, max = -Infinity, maxCount = 0;
  for (const x of hs) { min = Math.min(min, x.bins[0]); max = Math.max(max, x.bins.at(-1)); maxCount = Math.max(maxCount, ...x.values); }
  return json(200, { key, steps: hs.map((x) => x.step), histograms: hs, min: hs.length ? min : null, max: hs.length ? max : null, max_count: maxCount });
}

/** GET {run}/media/keys | media | tables | histograms | history; null when not a media route. */
export function mediaRoute(r, what, url, json, err) {
  if (what === "media/keys") {
    const keys = new Map();
    for (const row of r._rows) for (const [k, v] of Object.entries(row)) {
      const t = typeOf(v) || (Array.isArray(v) && typeOf(v[0]));
      if (!t) continue;
      const e = keys.get(k) ?? { key: k, type: t, count: 0, first_step: row._step, last_step: row._step };
      e.type = t; e.count++; e.last_step = row._step;
      keys.set(k, e);
    }
    return json(200, { keys: [...keys.values()] });
  }
  if (what === "media") {
    const key = url.searchParams.get("key");
    const min = url.searchParams.get("min_step"), max = url.searchParams.get("max_step");
    const items = itemsOf(r, key, min === null ? null : Number(min), max === null ? null : Number(max));
    const limit = Math.min(10000, Number(url.searchParams.get("limit") ?? 500)), start = Number(url.searchParams.get("cursor") ?? 0);
    const page = items.slice(start, start + limit).map((i) => ({ step: i.step, value: withUrls(r, i.value) }));
    return json(200, { key, items: page, next_cursor: start + limit < items.length ? String(start + limit) : null });
  }
  if (what === "tables") return tableRoute(r, url, json, err);
  if (what === "histograms") return histogramRoute(r, url, json);
  if (what === "history") {
    const keys = (url.searchParams.get("keys") ?? "").split(",").filter(Boolean);
    const rows = spaced(r._rows.filter((row) => keys.some((k) => k in row)), Number(url.searchParams.get("samples") ?? 1e9))
      .map((row) => Object.fromEntries(Object.entries(row).filter(([k]) => k.startsWith("_") || keys.includes(k))));
    return json(200, { rows, next_cursor: null });
  }
  return null;
}

/** POST /media/query */
export function mediaQuery(byId, body, json) {
  const steps = Math.min(1000, body.steps ?? 100);
  const runs = (body.runs ?? []).slice(0, 100).map((ref) => {
    const r = byId.get(ref.run_id);
    if (!r || !r._stored) return { ...ref, items: [], error: { code: "run_not_found", message: "no such run" } };
    const items = spaced(itemsOf(r, body.key, body.min_step, body.max_step), steps).map((i) => ({ step: i.step, value: withUrls(r, i.value) }));
    return { ...ref, items, error: null };
  });
  return json(200, { runs });
}
