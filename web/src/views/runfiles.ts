// Run page, files tab: the run's files (`GET .../files`) with size and version, a preview of
// text (the first 256 KB, monospace) and images, downloads, and a version picker for files that
// have several versions. The API needs the Bearer key, so bytes are fetched and handed to the
// page as blob URLs (a plain <img src> or <a href> would go out without it).

import { api } from "../api";
import { basename, decodePrefix, diffLineClass, extension, fmtBytes, joinChunks, looksLikeText, previewKind, type RunFile } from "../lib/files";
import { clear, fmtTime, h } from "../lib/dom";

const TEXT_PREVIEW_BYTES = 256 * 1024;
/** Larger images are offered for download instead of being decoded in the page. */
const IMAGE_PREVIEW_BYTES = 32 * 1024 * 1024;

export function filesTab(el: HTMLElement, e: string, p: string, id: string, open?: string): () => void {
  const urls = new Set<string>();
  const version = new Map<string, number | null>(); // path -> picked version (null = latest)
  let shown = "";   // the previewed path
  let token = 0;    // a newer preview request supersedes older ones
  const list = h("div", { class: "card files-list" }, h("p", { class: "muted" }, "loading…"));
  const preview = h("div", { class: "card file-preview", id: "file-preview" }, h("p", { class: "muted" }, "Select a file to preview it."));
  el.append(h("div", { class: "files" }, list, preview));

  const blobUrl = (blob: Blob) => { const u = URL.createObjectURL(blob); urls.add(u); return u; };
  const drop = (u: string) => { URL.revokeObjectURL(u); urls.delete(u); };

  const download = async (f: RunFile, btn: HTMLButtonElement) => {
    btn.disabled = true;
    try {
      const blob = await (await api.file(e, p, id, f.path, version.get(f.path) ?? null)).blob();
      const u = blobUrl(blob);
      const a = h("a", { href: u, download: basename(f.path), style: { display: "none" } });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => drop(u), 30_000); // the browser has taken the blob by then
    } catch (err) { alert(`download failed: ${(err as Error).message}`); } finally { btn.disabled = false; }
  };

  const show = async (f: RunFile) => {
    const my = ++token;
    shown = f.path;
    list.querySelectorAll("tr.on").forEach((r) => r.classList.remove("on"));
    list.querySelector(`tr[data-path="${CSS.escape(f.path)}"]`)?.classList.add("on");
    const v = version.get(f.path) ?? null;
    const dl = h("button", { id: "file-download", onclick: () => download(f, dl) }, "Download");
    const head = h("div", { class: "preview-head" }, h("b", null, f.path), h("span", { class: "muted" }, ` v${v ?? f.version}`), " ", dl);
    const body = h("div", { class: "preview-body" }, h("p", { class: "muted" }, "loading…"));
    preview.querySelectorAll("img").forEach((img) => drop(img.src));
    clear(preview, head, body);
    try {
      const res = await api.file(e, p, id, f.path, v);
      const size = Number(res.headers.get("content-length") ?? f.size);
      const kind = previewKind(f.path, res.headers.get("content-type") ?? "");
      if (kind === "image" && size <= IMAGE_PREVIEW_BYTES) {
        const blob = await res.blob();
        if (my !== token) return;
        clear(body, h("img", { class: "file-image", id: "file-image", alt: f.path, src: blobUrl(blob) }));
        return;
      }
      if (kind === "image") { void res.body?.cancel(); clear(body, h("p", { class: "empty" }, `Image of ${fmtBytes(size)}: too large to preview, download it.`)); return; }
      const { bytes, truncated } = await readPrefix(res, TEXT_PREVIEW_BYTES);
      if (my !== token) return;
      if (kind === "other" && !looksLikeText(bytes)) { clear(body, h("p", { class: "empty" }, `Binary file (${fmtBytes(size)}): no preview, download it.`)); return; }
      clear(body, truncated ? h("p", { class: "muted" }, `The first ${fmtBytes(bytes.length)} of ${fmtBytes(size)}; download the file for all of it.`) : null,
        h("pre", { class: "file-text", id: "file-text" }, textBody(f.path, decodePrefix(bytes, truncated))));
    } catch (err) {
      if (my === token) clear(body, h("div", { class: "error" }, (err as Error).message));
    }
  };

  const row = (f: RunFile) => {
    const pick = f.versions > 1 ? h("select", { class: "file-version", title: "version", onchange: () => {
      version.set(f.path, pick!.value ? Number(pick!.value) : null);
      void show(f);
    } }, h("option", { value: "", selected: !version.get(f.path) }, `v${f.version} (latest)`),
      Array.from({ length: f.version - 1 }, (_, i) => f.version - 1 - i).map((n) => h("option", { value: String(n), selected: version.get(f.path) === n }, `v${n}`))) : null;
    const dl = h("button", { class: "link", title: "download", onclick: (ev: Event) => { ev.stopPropagation(); void download(f, dl); } }, "⤓");
    return h("tr", { "data-path": f.path, class: shown === f.path ? "on" : "", onclick: (ev: Event) => { if ((ev.target as HTMLElement).tagName !== "SELECT") void show(f); } },
      h("td", { class: "path" }, h("a", { href: "#", onclick: (ev: Event) => ev.preventDefault() }, f.path)),
      h("td", { class: "num" }, fmtBytes(f.size)),
      h("td", null, pick ?? `v${f.version}`),
      h("td", { class: "muted" }, fmtTime(f.updated_at)),
      h("td", null, dl));
  };

  // A live run keeps uploading (output.log, new versions): the list can be re-read by hand.
  const refresh = h("button", { class: "link", id: "files-refresh", title: "reload the list", onclick: () => load() }, "↻");
  const load = () => api.files(e, p, id).then((files) => {
    if (!files.length) { clear(list, h("p", { class: "empty", id: "files-empty" }, "No files saved for this run. ", refresh)); return; }
    clear(list, h("table", { class: "grid", id: "files-table" },
      h("thead", null, h("tr", null, ["File", "Size", "Version", "Updated"].map((t) => h("th", null, t)), h("th", null, refresh))),
      h("tbody", null, files.map(row))));
    const first = shown ? undefined : files.find((f) => f.path === open);
    if (first) void show(first);
  }).catch((err) => clear(list, h("div", { class: "error" }, (err as Error).message)));
  void load();

  return () => { token++; urls.forEach((u) => URL.revokeObjectURL(u)); urls.clear(); };
}

/** Plain text, or for a diff one span per line coloured by diffLineClass. */
function textBody(path: string, text: string): string | HTMLElement[] {
  const ext = extension(path);
  if (ext !== "diff" && ext !== "patch") return text;
  return text.split("\n").map((l, i, all) => h("span", { class: diffLineClass(l) }, i < all.length - 1 ? `${l}\n` : l));
}

/** Read at most `limit` bytes of a response body, then stop the download. */
async function readPrefix(res: Response, limit: number): Promise<{ bytes: Uint8Array; truncated: boolean }> {
  if (!res.body) { const all = new Uint8Array(await res.arrayBuffer()); return { bytes: all.subarray(0, limit), truncated: all.length > limit }; }
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let got = 0, truncated = false;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    got += value.length;
    if (got > limit) { truncated = true; void reader.cancel(); break; }
  }
  return { bytes: joinChunks(chunks, limit), truncated };
}
