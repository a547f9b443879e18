// Test hook: the end-to-end tests read chart data and table state from window.__trackway
// instead of judging pixels. Cheap to keep in production (references, no copies).

export interface ChartProbe {
  metric: string; runs: string[]; x: number[];
  raw: (number | null)[][]; smooth: (number | null)[][]; drawnAt: number; smoothing: number;
  /** line colours, NaN/Inf points counted, lines drawn with markers (sparse) */
  colors?: string[]; nonfinite?: number; markers?: string[]; yTicks?: string[]; kind?: string;
}

export const hook = {
  charts: {} as Record<string, ChartProbe>,
  table: { total: 0, rows: [] as string[], visible: [] as string[], loaded: 0, paintMs: [] as number[], copied: null as string | null, firstRowsAt: 0 },
  firstChartAt: 0,
  /** the report on screen: live panels, how many finished loading, when the last one did */
  report: { panels: 0, loaded: 0, doneAt: 0 },
  navStart: performance.now(),
  timings: [] as { metric: string; ms: number }[],
  /** perf script: apply a smoothing weight to every visible chart and time the redraws */
  smoothTest: null as null | ((w: number) => { charts: number; ms: number }),
  /** media panels by panel id (`<kind>:<key>`): what each one shows (src/panels/*) */
  media: {} as Record<string, Record<string, unknown>>,
  reset() {
    this.media = {};
    this.charts = {}; this.table = { total: 0, rows: [], visible: [], loaded: 0, paintMs: [], copied: null, firstRowsAt: 0 };
    this.firstChartAt = 0; this.report = { panels: 0, loaded: 0, doneAt: 0 }; this.navStart = performance.now(); this.timings = []; this.smoothTest = null;
  },
};

/** Probes that chart components add to the hook (read by the e2e tests). */
export interface ChartHooks {
  parallel?: { axes: string[]; lines: number; brushed: number | null; ticks: string[][] };
  scatter?: { points: number; x: string; y: string; xticks: string[]; yticks: string[] };
  importance?: { metric: string; keys: string[]; importance: number[]; correlation: (number | null)[] };
}

declare global {
  interface Window { __trackway: typeof hook & ChartHooks }
}

window.__trackway = hook;
