// Builds web/dist: the widget loader, the widget frame and the dashboard.
//
// The output is committed and CI rebuilds it and diffs it, so it must be reproducible byte for
// byte: fixed file names (no content hashes), no timestamps, no sourcemaps, no legal comments,
// and files written in a fixed order. The size budgets are checked here, after every build.
import * as esbuild from "esbuild";
import { copyFile, mkdir, readFile, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const src = join(root, "src");
const dist = join(root, "dist");

/** Gzipped budgets in bytes. The loader is on every page of every customer's site. */
const BUDGETS = [
  { name: "loader", limit: 6 * 1024, files: ["widget.js"] },
  {
    name: "frame",
    limit: 40 * 1024,
    files: ["widget/frame.html", "widget/frame.js", "widget/frame.css"],
  },
  {
    name: "dashboard",
    limit: null,
    files: ["app/index.html", "app/app.js", "app/app.css"],
  },
];

const common = {
  bundle: true,
  minify: true,
  sourcemap: false,
  legalComments: "none",
  charset: "ascii",
  logLevel: "warning",
  write: true,
  define: { "process.env.NODE_ENV": '"production"' },
};

async function main() {
  await rm(dist, { recursive: true, force: true });
  await mkdir(join(dist, "widget"), { recursive: true });
  await mkdir(join(dist, "app"), { recursive: true });

  // The loader runs on customers' pages, whatever their age: ES2019, an IIFE, no globals leaked.
  await esbuild.build({
    ...common,
    entryPoints: [join(src, "widget/loader.ts")],
    outfile: join(dist, "widget.js"),
    format: "iife",
    target: "es2019",
  });
  await esbuild.build({
    ...common,
    entryPoints: [join(src, "widget/frame.ts")],
    outfile: join(dist, "widget/frame.js"),
    format: "iife",
    target: "es2019",
  });
  await esbuild.build({
    ...common,
    entryPoints: [join(src, "widget/frame.css")],
    outfile: join(dist, "widget/frame.css"),
    target: ["chrome80", "firefox78", "safari13"],
  });
  await copyFile(join(src, "widget/frame.html"), join(dist, "widget/frame.html"));
  // The hosted chat page's first script: hands over the token from an email link (chat.ts).
  await esbuild.build({
    ...common,
    entryPoints: [join(src, "widget/chat.ts")],
    outfile: join(dist, "widget/chat.js"),
    format: "iife",
    target: "es2019",
  });

  await esbuild.build({
    ...common,
    entryPoints: [join(src, "app/main.tsx")],
    outfile: join(dist, "app/app.js"),
    format: "iife",
    target: "es2020",
    jsx: "automatic",
    jsxImportSource: "preact",
  });
  await esbuild.build({
    ...common,
    entryPoints: [join(src, "app/app.css")],
    outfile: join(dist, "app/app.css"),
    target: ["chrome87", "firefox78", "safari14"],
  });
  await copyFile(join(src, "app/index.html"), join(dist, "app/index.html"));

  await checkBudgets();
}

async function checkBudgets() {
  let failed = false;
  console.log("gzipped sizes (level 9):");
  for (const b of BUDGETS) {
    let total = 0;
    for (const f of b.files) {
      const bytes = await readFile(join(dist, f));
      const gz = gzipSync(bytes, { level: 9 }).length;
      total += gz;
      console.log(`  ${f.padEnd(22)} ${fmt(bytes.length).padStart(9)} raw ${fmt(gz).padStart(9)} gz`);
    }
    const over = b.limit !== null && total > b.limit;
    failed ||= over;
    const limit = b.limit === null ? "no budget" : `budget ${fmt(b.limit)}`;
    console.log(`  = ${b.name.padEnd(20)} ${fmt(total).padStart(23)} gz  (${limit})${over ? "  OVER BUDGET" : ""}`);
  }
  if (failed) {
    console.error("build failed: a size budget was exceeded");
    process.exit(1);
  }
}

function fmt(n) {
  return n < 1024 ? `${n} B` : `${(n / 1024).toFixed(2)} KB`;
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
