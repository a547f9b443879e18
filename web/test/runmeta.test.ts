import { describe, expect, it } from "vitest";
import { commandLine, gitInfo, shellQuote } from "../src/lib/runmeta";

describe("run metadata", () => {
  it("builds the command line from program and args", () => {
    expect(commandLine({ program: "train.py", args: ["--lr", "0.1", "--name", "my run"] })).toBe("python train.py --lr 0.1 --name 'my run'");
    expect(commandLine({ program: "/usr/bin/trainer", args: [] })).toBe("/usr/bin/trainer");
    expect(commandLine({ command: "make train" , program: "x.py" })).toBe("make train");
    expect(commandLine({})).toBe("");
    expect(commandLine({ program: "/w/train.py", args: ["/w/train.py", "--lr", "0.1"] })).toBe("python /w/train.py --lr 0.1");
    expect(commandLine({ program: "/w/train.py", args: ["train.py", "x"] })).toBe("python /w/train.py x");
  });
  it("quotes for a shell", () => {
    expect(shellQuote("it's")).toBe("'it'\\''s'");
    expect(shellQuote("")).toBe("''");
    expect(shellQuote("a=b,c")).toBe("a=b,c");
  });
  it("reads git facts, preferring the credential-free remote URL", () => {
    expect(gitInfo({ git: { commit: "abc123", branch: "main", remote: "origin", remote_url: "https://example.com/r.git", dirty: true } }))
      .toEqual({ commit: "abc123", branch: "main", remote: "https://example.com/r.git", dirty: true });
    expect(gitInfo({ git_commit: "def" })).toEqual({ commit: "def", branch: "", remote: "", dirty: false });
    expect(gitInfo({ host: "box" })).toBeNull();
  });
});
