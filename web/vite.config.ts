import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

/**
 * The web UI's build. `npm run build:web` writes `web/dist/` (git-ignored), which `gimo serve`
 * serves at `/`; `npm run dev:web` runs Vite's dev server with the API proxied to a running GIMO
 * (`GIMO_URL`, default http://127.0.0.1:9325), so the UI talks to it on its own origin as in production.
 */
const target = process.env.GIMO_URL ?? "http://127.0.0.1:9325";
const api = ["/ops", "/status", "/health", "/ready", "/metrics", "/openapi.json"];

export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 800,
  },
  server: {
    port: 5173,
    proxy: Object.fromEntries(api.map((p) => [p, { target, changeOrigin: false }])),
  },
});
