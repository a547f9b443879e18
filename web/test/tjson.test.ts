import { describe, expect, it } from "vitest";
import golden from "../../crates/trackway-types/testdata/tjson_golden.json";
import { num } from "../src/lib/buckets";
import { decode, flatten, formatValue, getPath, TjsonError, toNumber } from "../src/lib/tjson";

describe("Trackway JSON decoding", () => {
  it("decodes tagged floats", () => {
    expect(Number.isNaN(decode({ $f: "NaN" }) as number)).toBe(true);
    expect(decode({ $f: "Infinity" })).toBe(Infinity);
    expect(decode({ $f: "-Infinity" })).toBe(-Infinity);
  });
  it("decodes big integers exactly and small ones as numbers", () => {
    expect(decode({ $int: "18446744073709551615" })).toBe(18446744073709551615n);
    expect(decode({ $int: "-42" })).toBe(-42);
  });
  it("unwraps escaped maps without decoding their keys as tags", () => {
    expect(decode({ $map: { $f: "x" } })).toEqual({ $f: "x" });
  });
  it("decodes nested values in config-like objects", () => {
    expect(decode({ a: [{ $f: "NaN" }, 1], b: { c: { $int: "5" } } })).toEqual({ a: [NaN, 1], b: { c: 5 } });
  });
  it("leaves maps with more keys alone", () => {
    expect(decode({ $f: "NaN", other: 1 })).toEqual({ $f: "NaN", other: 1 });
  });
  it("reads dotted paths, exact keys first", () => {
    const o = { "a.b": 1, a: { b: 2, c: { d: 3 } }, "x.y": { z: 4 } };
    expect(getPath(o, "a.b")).toBe(1);
    expect(getPath(o, "a.c.d")).toBe(3);
    expect(getPath(o, "x.y.z")).toBe(4);
    expect(getPath(o, "nope")).toBeUndefined();
  });
  it("flattens nested maps", () => {
    expect(flatten({ model: { layers: 4, act: "relu" }, lr: 0.1, tags: [1] })).toEqual({
      "model.layers": 4, "model.act": "relu", lr: 0.1, tags: [1],
    });
  });
  it("converts values to numbers for charts", () => {
    expect(toNumber({ $f: "NaN" })).toBeNaN();
    expect(toNumber(3n)).toBe(3);
    expect(toNumber("x")).toBeNull();
    expect(formatValue(0.000012345678)).toBe("1.2346e-5");
    expect(formatValue(2n ** 70n)).toBe("1180591620717411303424");
    expect(formatValue(1795899319.8390207)).toBe("1795899319.839");
    expect(formatValue(0.123456789)).toBe("0.123457");
  });
});

describe("golden cases shared with the Rust and Python decoders", () => {
  for (const c of golden.valid) {
    it(`decodes ${c.json}`, () => {
      const v = decode(JSON.parse(c.json));
      if (c.number !== undefined) expect(String(v)).toBe(c.number);
      else if (c.int !== undefined) expect(String(v)).toBe(c.int);
      else expect(v).toEqual(c.value);
    });
  }
  for (const bad of golden.invalid) {
    it(`refuses ${bad}`, () => { expect(() => decode(JSON.parse(bad))).toThrow(TjsonError); });
  }
  it("chart cells use the same decoder", () => {
    expect(num({ $f: "-Infinity" })).toBe(-Infinity);
    expect(() => num({ $f: "garbage" })).toThrow(TjsonError);
  });
});
