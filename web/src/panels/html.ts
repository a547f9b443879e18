// HTML panel: logged HTML in an iframe sandboxed to scripts only (no same-origin, so it can
// neither read the API key in localStorage nor call the API with the page's origin).

import { fetchText } from "../mediaapi";
import { h, steppedPanel } from "./stepped";
import type { Panel, PanelCtx } from "./common";

export const HTML_SANDBOX = "allow-scripts";

export function htmlPanel(ctx: PanelCtx): Panel {
  return steppedPanel("html", ctx, (_run, item) => {
    const v = item.value as Record<string, unknown>;
    const frame = h("iframe", { class: "media-html", sandbox: HTML_SANDBOX, title: ctx.key, referrerpolicy: "no-referrer" });
    const ready = fetchText(String(v.url)).then((text) => new Promise<Record<string, unknown>>((resolve) => {
      frame.onload = () => resolve({ src: v.path, sandbox: frame.getAttribute("sandbox"), length: text.length });
      frame.srcdoc = text;
    }));
    return { el: frame, ready };
  });
}
