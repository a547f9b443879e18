// Serves the freshly built web/dist and forwards /api to the server under test, so the
// browser tests always exercise the current build even when the server binary embeds an
// older one (set TRACKWAY_E2E_EMBEDDED=1 to test the UI embedded in the binary instead).

import http from "node:http";
import fs from "node:fs";
import path from "node:path";
import { WEB } from "./lib.mjs";

const TYPES = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml", ".png": "image/png" };

export function startFront(apiUrl) {
  const dist = path.join(WEB, "dist");
  if (!fs.existsSync(path.join(dist, "index.html"))) throw new Error("web/dist/index.html missing: run npm run build first");
  const api = new URL(apiUrl);
  const server = http.createServer((req, res) => {
    if (req.url.startsWith("/api/")) {
      const up = http.request({ host: api.hostname, port: api.port, path: req.url, method: req.method, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers); r.pipe(res);
      });
      up.on("error", (e) => { res.writeHead(502); res.end(String(e)); });
      req.pipe(up);
      return;
    }
    const p = decodeURIComponent(new URL(req.url, "http://x").pathname);
    let file = path.join(dist, path.normalize(p));
    if (!file.startsWith(dist) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) file = path.join(dist, "index.html");
    res.writeHead(200, { "content-type": TYPES[path.extname(file)] ?? "application/octet-stream" });
    fs.createReadStream(file).pipe(res);
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve({
    url: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((r) => server.close(r)),
  })));
}
