import { describe, expect, it } from "vitest";
import { expiryText, span, ttlInput, ttlOf, ttlSeconds } from "../src/lib/ttl";

describe("artifact time to live", () => {
  it("reads the TTL back from a version's expiry and creation", () => {
    expect(ttlOf({ created_at: 1000.25, expires_at: 1000.25 + 7 * 86400 })).toBe(7 * 86400);
    expect(ttlOf({ created_at: 1000, expires_at: null })).toBeNull();
    expect(ttlOf({ created_at: 1000 })).toBeNull();
  });
  it("fills the editor with whole days, else hours", () => {
    expect(ttlInput(30 * 86400)).toEqual({ value: "30", unit: "days" });
    expect(ttlInput(36 * 3600)).toEqual({ value: "36", unit: "hours" });
    expect(ttlInput(5400)).toEqual({ value: "1.5", unit: "hours" });
    expect(ttlInput(null)).toEqual({ value: "", unit: "days" });
  });
  it("turns the editor's value into whole seconds and refuses what is not a TTL", () => {
    expect(ttlSeconds("30", "days")).toEqual({ seconds: 30 * 86400 });
    expect(ttlSeconds(" 1.5 ", "hours")).toEqual({ seconds: 5400 });
    expect(ttlSeconds("0.0000001", "hours")).toEqual({ seconds: 1 });
    for (const bad of ["", "0", "-3", "abc", "Infinity"]) expect(ttlSeconds(bad, "days")).toHaveProperty("error");
    expect(ttlSeconds("36501", "days")).toHaveProperty("error");
    expect(ttlSeconds("36500", "days")).toEqual({ seconds: 36500 * 86400 });
  });
  it("says when a version goes, in its two largest units", () => {
    expect(span(6 * 86400 + 23 * 3600 + 59)).toBe("6 d 23 h");
    expect(span(5 * 3600 + 600)).toBe("5 h 10 min");
    expect(span(7200)).toBe("2 h");
    expect(span(45)).toBe("45 s");
    expect(expiryText(null, 0)).toBe("kept for good");
    expect(expiryText(1000 + 86400, 1000)).toBe("expires in 1 d");
    expect(expiryText(1000, 1000 + 120)).toBe("expired 2 min ago");
  });
});
