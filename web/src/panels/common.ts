// What every media panel shares: the card it lives in, the step slider, and the probe the
// browser tests read (window.__trackway.media["<kind>:<key>"]).

import type { Run, RunRef } from "../api";
import { runColor } from "../lib/colors";
import { h, clear } from "../lib/dom";
import { stepAt, unionSteps } from "../lib/media";
import { hook } from "../hook";

export interface PanelCtx {
  key: string;
  type: string;   // the `_type` the key holds (or "string")
  runs: Run[];    // one on the run page; the charted runs in the workspace
}

export interface Panel { el: HTMLElement; load(): Promise<void>; destroy(): void }

export const refOf = (r: Run): RunRef => ({ entity: r.entity, project: r.project, run_id: r.run_id });

/** The panel card: title, a status line, a toolbar and a body. */
export function card(kind: string, key: string) {
  const status = h("span", { class: "muted panel-status" }, "loading…");
  const tools = h("div", { class: "panel-tools" });
  const body = h("div", { class: "panel-body" });
  const el = h("div", { class: `card media-panel panel-${kind}`, "data-key": key, "data-kind": kind },
    h("div", { class: "panel-head" }, h("span", { class: "chart-title", title: key }, key), status), tools, body);
  const id = `${kind}:${key}`;
  return {
    el, status, tools, body,
    setStatus: (t: string) => { status.textContent = t; },
    probe: (data: Record<string, unknown>) => { hook.media[id] = { kind, key, ...data }; },
  };
}

export function runLabel(r: Run) {
  return h("div", { class: "run-label", title: r.run_id }, h("span", { class: "swatch", style: { background: runColor(r.run_id) } }), " ", r.name);
}

/**
 * A step slider over the union of the runs' logged steps. Each run then shows its value at the
 * last step it logged at or below the slider's step.
 */
export class StepSlider {
  readonly el: HTMLElement;
  steps: number[] = [];
  private input: HTMLInputElement;
  private label: HTMLSpanElement;
  constructor(private onChange: (step: number) => void) {
    this.input = h("input", { type: "range", min: "0", max: "0", step: "1", value: "0", class: "step-slider" });
    this.label = h("span", { class: "step-label" });
    this.input.addEventListener("input", () => this.fire());
    this.el = h("label", { class: "step" }, "Step ", this.input, this.label);
  }
  /** New steps (first load, or a live run logged more): stay on the step shown, or on the newest. */
  setSteps(lists: number[][]) {
    const keep = this.value();
    const atLast = keep === null || Number(this.input.value) >= this.steps.length - 1;
    this.steps = unionSteps(lists);
    this.input.max = String(Math.max(0, this.steps.length - 1));
    const i = atLast ? this.steps.length - 1 : Math.max(0, this.steps.indexOf(stepAt(this.steps, keep) ?? 0));
    this.input.value = String(Math.max(0, i));
    this.el.style.display = this.steps.length > 1 ? "" : "none";
    this.paint();
  }
  value(): number | null { return this.steps.length ? this.steps[Number(this.input.value)] ?? null : null; }
  set(step: number) {
    const i = this.steps.indexOf(stepAt(this.steps, step) ?? this.steps[0]);
    this.input.value = String(Math.max(0, i));
    this.fire();
  }
  private paint() { const v = this.value(); this.label.textContent = v === null ? "" : `${v} (${Number(this.input.value) + 1}/${this.steps.length})`; }
  private fire() { this.paint(); const v = this.value(); if (v !== null) this.onChange(v); }
}

/** The value a run shows at the slider step, from its items (ascending steps). */
export function itemAt<T extends { step: number }>(items: T[], step: number | null): T | null {
  if (!items.length || step === null) return items.at(-1) ?? null;
  const s = stepAt(items.map((i) => i.step), step);
  return items.find((i) => i.step === s) ?? null;
}

export function errorBox(e: unknown) {
  return h("div", { class: "error" }, e instanceof Error ? e.message : String(e));
}

export { h, clear };
