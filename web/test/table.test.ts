import { describe, expect, it } from "vitest";
import { groupRuns, sortRuns } from "../src/lib/table";

const mk = (run_id: string, created: number, lr?: number, name = run_id) =>
  ({ run_id, name, _created: created, config: lr === undefined ? {} : { lr, opt: lr > 0.01 ? "adam" : "sgd" }, summary: {} });
const runs = [mk("a", 3, 0.1), mk("b", 1, 0.001), mk("c", 2), mk("d", 4, 0.05)];

describe("sorting", () => {
  it("sorts by created time both ways", () => {
    expect(sortRuns(runs, "created_at").map((r) => r.run_id)).toEqual(["b", "c", "a", "d"]);
    expect(sortRuns(runs, "-created_at").map((r) => r.run_id)).toEqual(["d", "a", "c", "b"]);
  });
  it("keeps missing values last in both directions", () => {
    expect(sortRuns(runs, "config.lr").map((r) => r.run_id)).toEqual(["b", "d", "a", "c"]);
    expect(sortRuns(runs, "-config.lr").map((r) => r.run_id)).toEqual(["a", "d", "b", "c"]);
  });
  it("puts pinned runs first", () => {
    expect(sortRuns(runs, "created_at", new Set(["d"])).map((r) => r.run_id)).toEqual(["d", "b", "c", "a"]);
  });
  it("sorts names naturally", () => {
    const named = [mk("x", 0, 1, "run-10"), mk("y", 0, 1, "run-9")];
    expect(sortRuns(named, "name").map((r) => r.name)).toEqual(["run-9", "run-10"]);
  });
});

describe("grouping", () => {
  it("emits a header per group and hides collapsed members", () => {
    const rows = groupRuns(sortRuns(runs, "created_at"), "config.opt", new Set(["adam"]));
    expect(rows.map((r) => (r.kind === "group" ? `[${r.label} ${r.count}]` : r.run.run_id))).toEqual([
      "[config.opt = sgd 1]", "b", "[config.opt = (none) 1]", "c", "[config.opt = adam 2]",
    ]);
  });
});
