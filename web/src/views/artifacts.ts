// Artifacts (docs/artifacts.md): the project's Artifacts page (types -> names -> versions), a
// version page (aliases, metadata, file browser with preview and download, lineage graph, size)
// and the run page's "artifacts" tab (what the run logged and used). Blobs need the Bearer key,
// so bytes are fetched and handed to the page as blob URLs. A version's time to live is shown
// wherever the version is, and set or cleared on its page (PATCH `ttl`).

import { authHeaders, call } from "../api";
import { clear, fmtTime, h } from "../lib/dom";
import { fmtBytes } from "../lib/files";
import { expiryText, span, TTL_UNITS, ttlInput, ttlOf, ttlSeconds, type TtlUnit } from "../lib/ttl";
import { navigate } from "../main";

interface RunRef { entity: string; project: string; run_id: string; name: string | null }
interface Entry { path: string; sha256?: string; size: number; ref?: string }
export interface Version {
  entity: string; project: string; name: string; type: string; version: number; digest: string;
  size: number; file_count: number; description: string | null; metadata: Record<string, unknown>;
  aliases: string[]; tags: string[]; created_at: number; expires_at: number | null; producer: RunRef | null;
  consumers?: RunRef[]; entries?: Entry[];
}
interface Collection { name: string; type: string; versions: number; latest: number | null; size: number; updated_at: number }

const q = encodeURIComponent;
const TEXT_PREVIEW_BYTES = 256 * 1024;

export function artifactsPath(e: string, p: string, name?: string, sel?: string): string {
  return `/${q(e)}/${q(p)}/artifacts${name ? `/${q(name)}/${q(sel ?? "latest")}` : ""}`;
}

function link(href: string, text: string, id?: string) {
  return h("a", { href, id, onclick: (ev: Event) => { ev.preventDefault(); navigate(href); } }, text);
}

function runLink(r: RunRef) {
  return link(`/${q(r.entity)}/${q(r.project)}/runs/${q(r.run_id)}`, r.name || r.run_id);
}

/** The project's artifacts grouped by type; a name opens its versions. */
export function artifactsView(el: HTMLElement, e: string, p: string): () => void {
  const body = h("div", { class: "card", id: "artifacts" }, h("p", { class: "muted" }, "loading…"));
  el.append(h("h2", null, "Artifacts"), body);
  call<{ artifacts: Collection[] }>("GET", `/artifacts/${q(e)}/${q(p)}`).then(({ artifacts }) => {
    if (!artifacts.length) { clear(body, h("p", { class: "empty" }, "No artifacts yet: log one with run.log_artifact().")); return; }
    const byType = new Map<string, Collection[]>();
    for (const c of artifacts) byType.set(c.type, [...(byType.get(c.type) ?? []), c]);
    clear(body, ...[...byType].map(([type, cs]) => h("section", { class: "artifact-type" },
      h("h3", null, type),
      h("table", { class: "kv" }, h("tr", null, h("th", null, "name"), h("th", null, "versions"), h("th", null, "size"), h("th", null, "updated")),
        ...cs.map((c) => h("tr", { "data-name": c.name },
          h("td", null, link(artifactsPath(e, p, c.name, "latest"), c.name)),
          h("td", null, String(c.versions)), h("td", null, fmtBytes(c.size)), h("td", null, fmtTime(c.updated_at))))))));
  }).catch((err) => clear(body, h("div", { class: "error" }, err.message)));
  return () => {};
}

const nowSec = () => Date.now() / 1000;

/** A badge saying when a version expires (nothing for one kept for good). */
function expiryBadge(v: Version) {
  return v.expires_at === null ? null : h("span", { class: "badge ttl", title: fmtTime(v.expires_at) }, expiryText(v.expires_at, nowSec()));
}

/** One version: header with aliases, versions list, metadata, retention, files, lineage. */
export function artifactVersionView(el: HTMLElement, e: string, p: string, name: string, sel: string): () => void {
  const urls: string[] = [];
  const base = `/artifacts/${q(e)}/${q(p)}/${q(name)}`;
  const load = () => Promise.all([call<Version>("GET", `${base}/${q(sel)}`), call<{ versions: Version[] }>("GET", base)]).then(([v, { versions }]) => {
    const versionsList = h("ul", { class: "artifact-versions", id: "artifact-versions" }, ...versions.map((o) =>
      h("li", { class: o.version === v.version ? "on" : "", "data-version": String(o.version) }, link(artifactsPath(e, p, name, `v${o.version}`), `v${o.version}`),
        " ", ...o.aliases.map((a) => h("span", { class: "badge" }, a)), " ", expiryBadge(o))));
    const files = h("div", { class: "card" });
    const preview = h("div", { class: "card file-preview", id: "artifact-preview" }, h("p", { class: "muted" }, "Select a file to preview it."));
    const fetchBlob = async (f: Entry) => {
      const res = await fetch(`/api/v1/artifact-blobs/${q(e)}/${q(p)}/${f.sha256}`, { headers: authHeaders() });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      return res.blob();
    };
    const show = async (f: Entry) => {
      if (!f.sha256) { clear(preview, h("b", null, f.path), h("p", null, `reference: ${f.ref}`)); return; }
      const dl = h("button", { id: "artifact-download", onclick: async () => {
        const u = URL.createObjectURL(await fetchBlob(f)); urls.push(u);
        const a = h("a", { href: u, download: f.path.split("/").pop() ?? "file" }); document.body.append(a); a.click(); a.remove();
      } }, "Download");
      clear(preview, h("div", { class: "preview-head" }, h("b", null, f.path), " ", dl), h("p", { class: "muted" }, "loading…"));
      if (f.size > TEXT_PREVIEW_BYTES) { preview.append(h("p", { class: "empty" }, `${fmtBytes(f.size)}: too large to preview, download it.`)); return; }
      const blob = await fetchBlob(f);
      preview.lastChild?.remove();
      if (/\.(png|jpe?g|gif|webp)$/i.test(f.path)) {
        const u = URL.createObjectURL(blob); urls.push(u);
        preview.append(h("img", { class: "file-image", src: u, alt: f.path }));
      } else {
        preview.append(h("pre", { class: "file-text", id: "artifact-text" }, await blob.text()));
      }
    };
    clear(files, h("table", { class: "kv", id: "artifact-files" }, h("tr", null, h("th", null, "file"), h("th", null, "size")),
      ...(v.entries ?? []).map((f) => h("tr", { "data-path": f.path, style: { cursor: "pointer" }, onclick: () => { show(f).catch((err) => preview.append(h("div", { class: "error" }, err.message))); } },
        h("td", null, f.path), h("td", null, fmtBytes(f.size))))));
    clear(el,
      h("h2", null, `${v.name}:v${v.version}`, " ", h("span", { class: "badge" }, v.type), " ", ...v.aliases.map((a) => h("span", { class: "badge alias" }, a))),
      h("div", { class: "muted" }, `${v.entity}/${v.project} · ${v.file_count} files · ${fmtBytes(v.size)} · ${fmtTime(v.created_at)} · digest ${v.digest.slice(0, 12)} · `,
        h("span", { id: "artifact-expiry-head" }, expiryText(v.expires_at, nowSec()))),
      h("div", { class: "artifact-page" },
        h("div", { class: "card" }, h("h3", null, "Versions"), versionsList),
        h("div", { class: "card" }, h("h3", null, "Retention"), retention(v, `${base}/v${v.version}`, () => void load().catch(() => {}))),
        h("div", { class: "card" }, h("h3", null, "Lineage"), lineage(v)),
        h("div", { class: "card" }, h("h3", null, "Metadata"), h("pre", { id: "artifact-metadata" }, JSON.stringify(v.metadata, null, 2)),
          v.description ? h("p", null, v.description) : null, v.tags.length ? h("p", null, `tags: ${v.tags.join(", ")}`) : null)),
      h("h3", null, "Files"), h("div", { class: "files" }, files, preview));
  });
  load().catch((err) => clear(el, h("div", { class: "error" }, err.message)));
  return () => urls.forEach((u) => URL.revokeObjectURL(u));
}

/** The version's time to live: when it expires, and a form to set it (from the version's
 *  creation, as wandb's `Artifact.ttl`) or to keep the version for good. */
function retention(v: Version, path: string, changed: () => void): HTMLElement {
  const ttl = ttlOf(v), init = ttlInput(ttl);
  const value = h("input", { id: "artifact-ttl", type: "number", min: "0", step: "any", value: init.value, placeholder: "none", "aria-label": "Time to live" });
  const unit = h("select", { id: "artifact-ttl-unit", "aria-label": "Unit" },
    ...Object.keys(TTL_UNITS).map((u) => h("option", { value: u, selected: u === init.unit }, u)));
  const error = h("div", { class: "error", id: "artifact-ttl-error", hidden: true });
  const send = async (seconds: number | null) => {
    error.hidden = true;
    if (seconds !== null && v.created_at + seconds <= nowSec()
      && !confirm(`v${v.version} is older than that: it will be deleted at the next expiry pass. Set it anyway?`)) return;
    try { await call<Version>("PATCH", path, { ttl: seconds }); changed(); } catch (err) { error.textContent = `not changed: ${(err as Error).message}`; error.hidden = false; }
  };
  const set = () => {
    const r = ttlSeconds(value.value, unit.value as TtlUnit);
    if ("error" in r) { error.textContent = r.error; error.hidden = false; return; }
    void send(r.seconds);
  };
  return h("div", { class: "retention" },
    h("p", { id: "artifact-expiry" }, expiryText(v.expires_at, nowSec()),
      v.expires_at === null || ttl === null ? "" : ` · ${fmtTime(v.expires_at)}, ${span(ttl)} after its creation`,
      v.expires_at !== null && v.expires_at <= nowSec() ? " · deleted at the server's next expiry pass" : ""),
    h("div", { class: "toolbar" }, h("label", null, "Time to live ", value), unit,
      h("button", { id: "artifact-ttl-set", onclick: set }, "Set"),
      h("button", { id: "artifact-ttl-clear", disabled: v.expires_at === null, onclick: () => void send(null) }, "Keep for good")),
    error);
}

/** Producer run -> this version -> consumer runs, as an SVG graph with run links below. */
function lineage(v: Version): HTMLElement {
  const consumers = v.consumers ?? [];
  const rows = Math.max(1, consumers.length);
  const H = 40 + rows * 36, W = 520;
  const NS = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(NS, "svg");
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`); svg.setAttribute("width", String(W)); svg.setAttribute("id", "lineage-graph");
  const node = (x: number, y: number, text: string, cls: string) => {
    const g = document.createElementNS(NS, "g");
    const r = document.createElementNS(NS, "rect");
    // Colours as attributes: an SVG shape without them is filled black.
    const fill = cls === "lineage-artifact" ? "#dbe7fb" : "#ffffff";
    Object.entries({ x: x - 75, y: y - 13, width: 150, height: 26, rx: 6, class: cls, fill, stroke: "#7a8699" }).forEach(([k, val]) => r.setAttribute(k, String(val)));
    const t = document.createElementNS(NS, "text");
    Object.entries({ x, y: y + 4, "text-anchor": "middle", "font-size": 11, fill: "#1f2937" }).forEach(([k, val]) => t.setAttribute(k, String(val)));
    t.textContent = text.length > 22 ? `${text.slice(0, 21)}…` : text;
    g.append(r, t); svg.append(g);
  };
  const edge = (x1: number, y1: number, x2: number, y2: number) => {
    const l = document.createElementNS(NS, "line");
    Object.entries({ x1, y1, x2, y2, stroke: "currentColor", "stroke-opacity": 0.5 }).forEach(([k, val]) => l.setAttribute(k, String(val)));
    svg.append(l);
  };
  const mid = H / 2;
  if (v.producer) { edge(160, mid, 185, mid); node(85, mid, v.producer.name || v.producer.run_id, "lineage-run"); }
  consumers.forEach((c, i) => { const y = 30 + i * 36; edge(335, mid, 360, y); node(435, y, c.name || c.run_id, "lineage-run"); });
  node(260, mid, `${v.name}:v${v.version}`, "lineage-artifact");
  return h("div", { class: "lineage" }, svg,
    h("p", null, "produced by: ", v.producer ? runLink(v.producer) : "no run"),
    h("p", null, "used by: ", ...(consumers.length ? consumers.flatMap((c, i) => [i ? ", " : "", runLink(c)]) : ["no run yet"])));
}

/** The run page's artifacts tab: versions the run logged and used. */
export function runArtifactsTab(el: HTMLElement, e: string, p: string, id: string): () => void {
  const box = h("div", { class: "card", id: "run-artifacts" }, h("p", { class: "muted" }, "loading…"));
  el.append(box);
  const list = (title: string, vs: Version[]) => h("section", null, h("h3", null, title),
    vs.length ? h("ul", null, ...vs.map((v) => h("li", null, link(artifactsPath(v.entity, v.project, v.name, `v${v.version}`), `${v.name}:v${v.version}`),
      ` (${v.type}, ${fmtBytes(v.size)}) `, expiryBadge(v)))) : h("p", { class: "empty" }, "none"));
  call<{ logged: Version[]; used: Version[] }>("GET", `/runs/${q(e)}/${q(p)}/${q(id)}/artifacts`)
    .then((r) => clear(box, list("Logged", r.logged), list("Used", r.used)))
    .catch((err) => clear(box, h("div", { class: "error" }, err.message)));
  return () => {};
}
