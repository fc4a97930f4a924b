import { defineConfig } from "vite";

// Served by `flixstack up` under /app/ from the API's origin (and from S3 + CloudFront on AWS).
export default defineConfig({
  base: "/app/",
  build: { outDir: "dist", emptyOutDir: true, target: "es2022", sourcemap: true },
});
