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
