// The panel router: one module per panel kind; views ask here for the panel a key needs.
// Panels never import views.

import { kindOfType, type MediaKind } from "../lib/media";
import type { Panel, PanelCtx } from "./common";
import { audioPanel } from "./audio";
import { customChartPanel } from "./customchart";
import { filePanel } from "./file";
import { histogramPanel } from "./histogram";
import { htmlPanel } from "./html";
import { imagePanel } from "./image";
import { plotlyPanel } from "./plotly";
import { tablePanel } from "./table";
import { textPanel } from "./text";
import { videoPanel } from "./video";

export type { Panel, PanelCtx };

const PANELS: Record<Exclude<MediaKind, "number">, (ctx: PanelCtx) => Panel> = {
  image: imagePanel, histogram: histogramPanel, table: tablePanel, audio: audioPanel, video: videoPanel,
  html: htmlPanel, plotly: plotlyPanel, chart: customChartPanel, text: textPanel,
  object3d: (ctx) => filePanel("object3d", ctx), molecule: (ctx) => filePanel("molecule", ctx),
};

/** The panel for a key holding values of `_type` `ctx.type`; null for numbers and unknown types. */
export function createPanel(ctx: PanelCtx): Panel | null {
  const kind = kindOfType(ctx.type);
  if (!kind || kind === "number") return null;
  return PANELS[kind](ctx);
}
