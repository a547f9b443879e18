import { describe, expect, it } from "vitest";
import { csvCell, toCsv } from "../src/lib/csv";

describe("csv", () => {
  it("quotes commas, quotes and newlines", () => {
    expect(csvCell("a,b")).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell("l1\nl2")).toBe('"l1\nl2"');
    expect(csvCell(null)).toBe("");
    expect(csvCell(0.5)).toBe("0.5");
    expect(csvCell({ a: 1 })).toBe('"{""a"":1}"');
  });
  it("defuses formulas but keeps negative numbers", () => {
    expect(csvCell("=SUM(A1)")).toBe("'=SUM(A1)");
    expect(csvCell("@x")).toBe("'@x");
    expect(csvCell("-0.25")).toBe("-0.25");
    expect(csvCell(-3)).toBe("-3");
  });
  it("joins rows with CRLF", () => {
    expect(toCsv(["name", "lr"], [["r1", 0.1], ["r,2", null]])).toBe('name,lr\r\nr1,0.1\r\n"r,2",\r\n');
  });
});
