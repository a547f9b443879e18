// 3D objects and molecules: no viewer is bundled (a WebGL viewer would double the bundle), so
// the panel names the file and offers it for download; point clouds (pts.json) also get a
// flat x/y preview.

import { fetchBlob, mediaUrl } from "../mediaapi";
import { fmtBytes } from "../lib/files";
import { axes, canvas, extent, points } from "./plot";
import { h, steppedPanel } from "./stepped";
import type { Panel, PanelCtx } from "./common";

export function filePanel(kind: "object3d" | "molecule", ctx: PanelCtx): Panel {
  return steppedPanel(kind, ctx, (_run, item) => {
    const v = item.value as Record<string, unknown>;
    const name = String(v.path ?? "").split("/").pop() ?? "";
    const link = h("a", { href: "#", download: name }, `download ${name}`);
    const wrap = h("div", null, h("div", { class: "muted" }, `${String(v.format ?? "")} · ${fmtBytes(Number(v.size) || 0)} `), link);
    const ready = mediaUrl(String(v.url)).then(async (u) => {
      link.setAttribute("href", u);
      let pointsDrawn = 0;
      if (String(v.path).endsWith(".pts.json")) {
        const pts = JSON.parse(await (await fetchBlob(String(v.url))).text()) as number[][];
        const { cv, g } = canvas(260, 200);
        const f = axes(g, 260, 200, extent(pts.map((p) => p[0])), extent(pts.map((p) => p[1])), { x: "x" });
        points(f, pts.map((p) => p[0]), pts.map((p) => p[1]), "#2f6fde");
        wrap.append(cv);
        pointsDrawn = pts.length;
      }
      return { src: v.path, format: v.format ?? null, points: pointsDrawn };
    });
    return { el: wrap, ready };
  });
}
