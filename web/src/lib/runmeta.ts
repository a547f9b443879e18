// Run metadata for the overview (pure, unit-tested): the command line and git facts from the
// agent's trackway-metadata.json (docs/capture.md section 3), which the server merges into
// Run.metadata.

import type { Decoded } from "./tjson";

const str = (v: Decoded | undefined): string => (typeof v === "string" ? v : typeof v === "number" ? String(v) : "");

/** Quote an argument the way a POSIX shell would need it. */
export function shellQuote(a: string): string {
  return a !== "" && /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`;
}

/** `python train.py --lr 0.1` from program + args; an explicit `command` wins. */
export function commandLine(meta: Record<string, Decoded>): string {
  if (str(meta.command)) return str(meta.command);
  const prog = str(meta.program) || str(meta.code_path);
  let args = Array.isArray(meta.args) ? meta.args.map((a) => str(a as Decoded)) : str(meta.args) ? [str(meta.args)] : [];
  // The agent's `args` is the whole argv (program first); older captures left the program out.
  const base = (s: string) => s.slice(s.lastIndexOf("/") + 1);
  if (prog && args.length && (args[0] === prog || base(args[0]) === base(prog))) args = args.slice(1);
  if (!prog && !args.length) return "";
  const head = prog.endsWith(".py") ? ["python", prog] : prog ? [prog] : [];
  return [...head.map(shellQuote), ...args.map(shellQuote)].join(" ");
}

export interface GitInfo { commit: string; branch: string; remote: string; dirty: boolean }

export function gitInfo(meta: Record<string, Decoded>): GitInfo | null {
  const g = meta.git;
  const o = g && typeof g === "object" && !Array.isArray(g) ? (g as Record<string, Decoded>) : {};
  const info = { commit: str(o.commit) || str(meta.git_commit), branch: str(o.branch), remote: str(o.remote_url) || str(o.url) || str(o.remote) || str(meta.git_remote),
    dirty: o.dirty === true };
  return info.commit || info.remote ? info : null;
}
