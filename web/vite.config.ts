import { defineConfig } from "vite";

// Served by `flixstack up` under /app/ from the API's origin (and from S3 + CloudFront on AWS).
// Two pages: the app (index.html) and the standalone player (player.html), one player between
// them; hls.js and dash.js are split into chunks loaded on first play.
export default defineConfig({
  base: "/app/",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    sourcemap: true,
    // hls.js (~160 kB gzipped) and dash.js (~260 kB) are chunks of their own, loaded on the
    // first play of each; the app itself is ~15 kB
    chunkSizeWarningLimit: 900,
    rollupOptions: {
      input: { app: "index.html", player: "player.html" }, // relative to web/
    },
  },
});
