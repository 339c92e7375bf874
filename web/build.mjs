// Bundles the review UI (src/main.js, Leaflet and its CSS and images) into ../src/schouw/web/static/dist.
import { build } from "esbuild";

await build({
  entryPoints: ["src/main.js"],
  bundle: true,
  minify: true,
  sourcemap: true,
  format: "iife",
  target: ["es2020"],
  outdir: "../src/schouw/web/static/dist",
  entryNames: "app",
  loader: { ".png": "file", ".svg": "file" },
  logLevel: "info",
});
