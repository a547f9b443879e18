import { defineConfig } from "vitest/config";

// public/.gitkeep is copied so web/dist/.gitkeep survives the emptied outDir.
// The server embeds web/dist with rust-embed and serves index.html for non-/api paths,
// so assets use absolute paths from the root. `npm run dev` proxies /api to a running
// server (TRACKWAY_URL) or the mock (mock/server.mjs, default port 8790).
export default defineConfig({
  base: "/",
  // plotly.js (the lazily loaded Plotly panel) is one prebuilt ~1.1 MB chunk, ~380 KB gzipped.
  build: { outDir: "dist", emptyOutDir: true, target: "es2022", sourcemap: false, chunkSizeWarningLimit: 1200 },
  server: { proxy: { "/api": process.env.TRACKWAY_URL ?? "http://127.0.0.1:8790" } },
  test: { include: ["test/**/*.test.ts"], environment: "node" },
});
