import { describe, expect, it } from "vitest";
import { basename, decodePrefix, diffLineClass, encodeFilePath, extension, fmtBytes, joinChunks, looksLikeText, previewKind } from "../src/lib/files";

const enc = (s: string) => new TextEncoder().encode(s);

describe("run files", () => {
  it("picks a preview by extension, then by content type", () => {
    expect(previewKind("media/plot.PNG")).toBe("image");
    expect(previewKind("output.log")).toBe("text");
    expect(previewKind("config.yaml")).toBe("text");
    expect(previewKind("Makefile")).toBe("text");
    expect(previewKind("model.bin")).toBe("other");
    expect(previewKind("model.bin", "image/png")).toBe("image");
    expect(previewKind("notes", "text/plain; charset=utf-8")).toBe("text");
    expect(previewKind("data.weird", "application/json")).toBe("text");
    expect(previewKind("blob", "application/octet-stream")).toBe("other");
  });
  it("finds extensions and base names", () => {
    expect(extension("a/b.tar.gz")).toBe("gz");
    expect(extension("a.dir/README")).toBe("readme");
    expect(extension(".gitignore")).toBe(".gitignore");
    expect(basename("a/b/c.txt")).toBe("c.txt");
    expect(basename("c.txt")).toBe("c.txt");
  });
  it("encodes each path segment but keeps the slashes", () => {
    expect(encodeFilePath("media/my plot#1.png")).toBe("media/my%20plot%231.png");
    expect(encodeFilePath("ü/?.txt")).toBe("%C3%BC/%3F.txt");
  });
  it("tells text from binary bytes", () => {
    expect(looksLikeText(enc("hello\n\tworld\r\n"))).toBe(true);
    expect(looksLikeText(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 13]))).toBe(false);
    expect(looksLikeText(new Uint8Array(200).fill(1))).toBe(false);
    expect(looksLikeText(new Uint8Array())).toBe(true);
  });
  it("formats sizes", () => {
    expect(fmtBytes(0)).toBe("0 B");
    expect(fmtBytes(1023)).toBe("1023 B");
    expect(fmtBytes(1536)).toBe("1.5 KB");
    expect(fmtBytes(256 * 1024)).toBe("256 KB");
    expect(fmtBytes(5 * 1024 ** 3)).toBe("5.0 GB");
    expect(fmtBytes(NaN)).toBe("");
  });
  it("joins chunks up to a limit", () => {
    const out = joinChunks([enc("abc"), enc("defg"), enc("hij")], 5);
    expect(new TextDecoder().decode(out)).toBe("abcde");
    expect(joinChunks([enc("ab")], 10).length).toBe(2);
  });
  it("drops a multi-byte character cut by the preview limit", () => {
    const bytes = enc("ab€"); // € is 3 bytes
    expect(decodePrefix(bytes.subarray(0, 4), true)).toBe("ab");
    expect(decodePrefix(bytes.subarray(0, 3), true)).toBe("ab");
    expect(decodePrefix(bytes, true)).toBe("ab€");
    expect(decodePrefix(enc("plain"), true)).toBe("plain");
    expect(decodePrefix(enc("ab€"), false)).toBe("ab€");
  });
  it("classes unified-diff lines", () => {
    expect(["+++ b/x", "--- a/x", "+new", "-old", "@@ -1 +1 @@", " same", ""].map(diffLineClass)).toEqual(["", "", "add", "del", "hunk", "", ""]);
  });
});
