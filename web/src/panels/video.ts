// Video panel: a player per run for the video logged at the slider's step. GIFs (the encoding
// used when no mp4 encoder is installed) are images, so they get an <img>.

import { mediaUrl } from "../mediaapi";
import { h, steppedPanel } from "./stepped";
import type { Panel, PanelCtx } from "./common";

export function videoPanel(ctx: PanelCtx): Panel {
  return steppedPanel("video", ctx, (_run, item) => {
    const v = item.value as Record<string, unknown>;
    const gif = String(v.format ?? "").toLowerCase() === "gif" || String(v.path ?? "").toLowerCase().endsWith(".gif");
    const el = gif ? h("img", { class: "media-video", alt: String(v.caption ?? "") }) : h("video", { controls: true, preload: "metadata", class: "media-video", muted: true });
    const ready = mediaUrl(String(v.url)).then((src) => new Promise<Record<string, unknown>>((resolve) => {
      const done = () => resolve({ src: v.path, format: v.format ?? null, player: gif ? "img" : "video",
        width: gif ? (el as HTMLImageElement).naturalWidth : (el as HTMLVideoElement).videoWidth,
        height: gif ? (el as HTMLImageElement).naturalHeight : (el as HTMLVideoElement).videoHeight,
        duration: gif ? null : (el as HTMLVideoElement).duration, caption: v.caption ?? null });
      if (gif) (el as HTMLImageElement).onload = done; else (el as HTMLVideoElement).onloadedmetadata = done;
      el.onerror = () => resolve({ src: v.path, error: "the browser cannot play this file" });
      el.src = src;
    }));
    return { el: h("div", null, el, v.caption ? h("div", { class: "caption" }, String(v.caption)) : null), ready };
  });
}
