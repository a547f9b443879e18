// CSV (RFC 4180) for exports: the run table and a chart's data. Cells holding a comma, quote or
// line break are quoted with doubled quotes; a leading =, +, - or @ gets a ' so that a
// spreadsheet does not run a logged string as a formula.

export function csvCell(v: unknown): string {
  let s = v === null || v === undefined ? "" : typeof v === "string" ? v : typeof v === "object" ? JSON.stringify(v) : String(v);
  if (/^[=+\-@]/.test(s) && !/^-?[\d.]/.test(s.slice(s[0] === "-" ? 0 : 1))) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsv(header: string[], rows: unknown[][]): string {
  return [header, ...rows].map((r) => r.map(csvCell).join(",")).join("\r\n") + "\r\n";
}

/** Save text (or a blob) as a file through a temporary object URL. */
export function download(name: string, data: string | Blob, type = "text/csv;charset=utf-8") {
  const blob = typeof data === "string" ? new Blob([data], { type }) : data;
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url; a.download = name;
  document.body.append(a); a.click(); a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
