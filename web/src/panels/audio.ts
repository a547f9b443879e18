// Audio panel: a player per run for the clip logged at the slider's step.

import { mediaUrl } from "../mediaapi";
import { h, steppedPanel } from "./stepped";
import type { Panel, PanelCtx } from "./common";

export function audioPanel(ctx: PanelCtx): Panel {
  return steppedPanel("audio", ctx, (_run, item) => {
    const v = item.value as Record<string, unknown>;
    const audio = h("audio", { controls: true, preload: "metadata", class: "media-audio" });
    const ready = mediaUrl(String(v.url)).then((src) => new Promise<Record<string, unknown>>((resolve) => {
      audio.onloadedmetadata = () => resolve({ src: v.path, duration: audio.duration, caption: v.caption ?? null, sampleRate: v.sample_rate ?? null });
      audio.onerror = () => resolve({ src: v.path, error: "the browser cannot play this file" });
      audio.src = src;
    }));
    return { el: h("div", null, audio, v.caption ? h("div", { class: "caption" }, String(v.caption)) : null), ready };
  });
}
