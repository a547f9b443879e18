import { describe, expect, it } from "vitest";
import { groupRuns } from "../src/lib/table";

const mk = (run_id: string, created: number, lr?: number, name = run_id) =>
  ({ run_id, name, _created: created, config: lr === undefined ? {} : { lr, opt: lr > 0.01 ? "adam" : "sgd" }, summary: {} });
const runs = [mk("a", 3, 0.1), mk("b", 1, 0.001), mk("c", 2), mk("d", 4, 0.05)];

describe("grouping", () => {
  it("emits a header per group and hides collapsed members", () => {
    const rows = groupRuns([runs[1], runs[2], runs[0], runs[3]], "config.opt", new Set(["adam"]));
    expect(rows.map((r) => (r.kind === "group" ? `[${r.label} ${r.count}]` : r.run.run_id))).toEqual([
      "[config.opt = sgd 1]", "b", "[config.opt = (none) 1]", "c", "[config.opt = adam 2]",
    ]);
  });
});

import { arrange, reorder } from "../src/lib/table";

describe("column layout", () => {
  const col = (key: string, width = 100) => ({ key, label: key, width, sortable: true });
  const cols = [col("_sel", 44), col("_pin", 26), col("name"), col("state"), col("tags"), col("summary.loss")];
  it("keeps the frozen columns first and applies order, widths and hidden columns", () => {
    const out = arrange(cols, { widths: { name: 300, "summary.loss": 10 }, order: ["summary.loss", "state"], hidden: ["tags"] });
    expect(out.map((c) => c.key)).toEqual(["_sel", "_pin", "name", "summary.loss", "state"]);
    expect(out.map((c) => c.width)).toEqual([44, 26, 300, 40, 100]); // 40: the narrowest a column gets
  });
  it("moves a column before another or by a step, within bounds", () => {
    expect(reorder(["a", "b", "c"], "c", "a")).toEqual(["c", "a", "b"]);
    expect(reorder(["a", "b", "c"], "a", 1)).toEqual(["b", "a", "c"]);
    expect(reorder(["a", "b", "c"], "a", -1)).toEqual(["a", "b", "c"]);
    expect(reorder(["a", "b", "c"], "b", 5)).toEqual(["a", "c", "b"]);
  });
});
