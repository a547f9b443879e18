import { describe, expect, it } from "vitest";
import { appendLines, highlight, parsePage, trimFront, type OutputLine } from "../src/lib/console";

const L = (line: number, text = `l${line}`, stream = "out"): OutputLine => ({ line, stream, text, ts: null });

describe("console pages", () => {
  it("parses the output route's answer and derives a missing cursor", () => {
    const p = parsePage({ lines: [{ line: 0, stream: "out", text: "a", ts: 1.5 }, { line: 1, stream: "err", text: "b" }], after_line: 1, more: true });
    expect(p).toEqual({ lines: [{ line: 0, stream: "out", text: "a", ts: 1.5 }, { line: 1, stream: "err", text: "b", ts: null }], after_line: 1, more: true });
    expect(parsePage({ lines: [], after_line: null, more: false })).toEqual({ lines: [], after_line: null, more: false });
    expect(parsePage({ lines: [{ line: 4, text: "x" }, { text: "no number" }, null] })).toEqual({ lines: [{ line: 4, stream: "out", text: "x", ts: null }], after_line: 4, more: false });
    expect(parsePage("not json")).toEqual({ lines: [], after_line: null, more: false });
  });

  it("appends only lines after the last one held, so a repeated page changes nothing", () => {
    const held: OutputLine[] = [];
    expect(appendLines(held, [L(0), L(1), L(2)]).map((l) => l.line)).toEqual([0, 1, 2]);
    expect(appendLines(held, [L(1), L(2)])).toEqual([]);
    expect(appendLines(held, [L(2), L(3), L(5)]).map((l) => l.line)).toEqual([3, 5]);
    expect(held.map((l) => l.line)).toEqual([0, 1, 2, 3, 5]);
  });

  it("keeps the newest lines when trimming", () => {
    const held = [L(0), L(1), L(2), L(3)];
    expect(trimFront(held, 10)).toBe(0);
    expect(trimFront(held, 2)).toBe(2);
    expect(held.map((l) => l.line)).toEqual([2, 3]);
  });
});

describe("search highlight", () => {
  it("marks every case-insensitive occurrence", () => {
    expect(highlight("Epoch 1 loss, epoch 2", "EPOCH")).toEqual([
      { text: "Epoch", hit: true }, { text: " 1 loss, ", hit: false }, { text: "epoch", hit: true }, { text: " 2", hit: false }]);
  });
  it("returns the whole text when there is no query or no match", () => {
    expect(highlight("abc", "")).toEqual([{ text: "abc", hit: false }]);
    expect(highlight("abc", "z")).toEqual([{ text: "abc", hit: false }]);
    expect(highlight("", "z")).toEqual([{ text: "", hit: false }]);
  });
  it("folds ASCII only, like the server's q", () => {
    expect(highlight("ÉTÉ été", "été").filter((p) => p.hit).map((p) => p.text)).toEqual(["été"]);
  });
  it("handles adjacent and whole-line matches", () => {
    expect(highlight("aaaa", "aa")).toEqual([{ text: "aa", hit: true }, { text: "aa", hit: true }]);
    expect(highlight("warn", "WARN")).toEqual([{ text: "warn", hit: true }]);
  });
});
