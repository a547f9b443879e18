// 3D objects and molecules: a point view drawn by our own canvas code (drag to rotate, wheel to
// zoom) for the formats lib/cloud reads — point clouds, OBJ/STL vertices, PDB/PQR/SDF/MOL2
// atoms coloured by element. A WebGL library would multiply the bundle for a panel most pages
// never show. Every file is also offered for download.

import { fetchBlob, mediaUrl } from "../mediaapi";
import { fmtBytes } from "../lib/files";
import { normalise, parseCloud, type Cloud } from "../lib/cloud";
import { canvas } from "./plot";
import { h, steppedPanel } from "./stepped";
import type { Panel, PanelCtx } from "./common";

const SIZE = 260;

export function filePanel(kind: "object3d" | "molecule", ctx: PanelCtx): Panel {
  return steppedPanel(kind, ctx, (_run, item) => {
    const v = item.value as Record<string, unknown>;
    const name = String(v.path ?? "").split("/").pop() ?? "";
    const format = String(v.format ?? "");
    const link = h("a", { href: "#", download: name }, `download ${name}`);
    const wrap = h("div", null, h("div", { class: "muted" }, `${format} · ${fmtBytes(Number(v.size) || 0)} `), link);
    const ready = mediaUrl(String(v.url)).then(async (u) => {
      link.setAttribute("href", u);
      const cloud = parseCloud(format, await (await fetchBlob(String(v.url))).arrayBuffer());
      if (cloud && cloud.n) wrap.append(view3d(cloud, kind === "molecule" ? 4 : 2));
      else if (!cloud) wrap.append(h("div", { class: "muted" }, `no viewer for ${format} files here: download it`));
      return { src: v.path, format: v.format ?? null, points: cloud?.n ?? 0, viewer: !!cloud };
    });
    return { el: wrap, ready };
  });
}

/** An orthographic point view: drag rotates (yaw/pitch), the wheel zooms, far points drawn first. */
function view3d(cloud: Cloud, dot: number): HTMLElement {
  const { cv, g } = canvas(SIZE, SIZE);
  cv.classList.add("view3d");
  cv.title = "drag to rotate, scroll to zoom";
  const p = normalise(cloud);
  let yaw = 0.6, pitch = -0.4, zoom = 0.9;
  const order = new Uint32Array(cloud.n);
  const depth = new Float32Array(cloud.n), sx = new Float32Array(cloud.n), sy = new Float32Array(cloud.n);
  const draw = () => {
    const [cy, sy_, cp, sp] = [Math.cos(yaw), Math.sin(yaw), Math.cos(pitch), Math.sin(pitch)];
    const half = SIZE / 2, s = half * zoom;
    for (let i = 0; i < cloud.n; i++) {
      const x = p[i * 3], y = p[i * 3 + 1], z = p[i * 3 + 2];
      const x1 = cy * x + sy_ * z, z1 = -sy_ * x + cy * z;
      const y2 = cp * y - sp * z1, z2 = sp * y + cp * z1;
      sx[i] = half + x1 * s; sy[i] = half - y2 * s; depth[i] = z2; order[i] = i;
    }
    order.sort((a, b) => depth[a] - depth[b]);
    g.clearRect(0, 0, SIZE, SIZE);
    for (const i of order) {
      const shade = 0.55 + 0.45 * (depth[i] + 1) / 2;
      g.fillStyle = `rgb(${cloud.rgb[i * 3] * shade | 0},${cloud.rgb[i * 3 + 1] * shade | 0},${cloud.rgb[i * 3 + 2] * shade | 0})`;
      g.fillRect(sx[i] - dot / 2, sy[i] - dot / 2, dot, dot);
    }
  };
  let drag: { x: number; y: number } | null = null;
  cv.addEventListener("pointerdown", (e) => { drag = { x: e.clientX, y: e.clientY }; cv.setPointerCapture(e.pointerId); });
  cv.addEventListener("pointerup", () => { drag = null; });
  cv.addEventListener("pointermove", (e) => {
    if (!drag) return;
    yaw += (e.clientX - drag.x) * 0.01; pitch += (e.clientY - drag.y) * 0.01;
    drag = { x: e.clientX, y: e.clientY };
    requestAnimationFrame(draw);
  });
  cv.addEventListener("wheel", (e) => { e.preventDefault(); zoom = Math.min(8, Math.max(0.2, zoom * (e.deltaY < 0 ? 1.1 : 1 / 1.1))); requestAnimationFrame(draw); }, { passive: false });
  draw();
  return cv;
}
