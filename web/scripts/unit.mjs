// Unit tests of the browser code that has logic worth testing alone (web/test/*.test.mjs):
// bundles each module they import into web/.unit/ with esbuild, then runs node's test runner.
import * as esbuild from "esbuild";
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
await esbuild.build({
  entryPoints: { rich: join(root, "src/shared/rich.ts"), text: join(root, "src/shared/text.ts"), filters: join(root, "src/app/filter-rules.ts"), contacts: join(root, "src/app/contact-rules.ts"), files: join(root, "src/shared/files.ts"), triggers: join(root, "src/widget/triggers.ts"), i18n: join(root, "src/widget/i18n.ts") },
  outdir: join(root, ".unit"),
  outExtension: { ".js": ".mjs" },
  bundle: true,
  format: "esm",
  platform: "neutral",
  logLevel: "warning",
});
const r = spawnSync(process.execPath, ["--test", join(root, "test")], { stdio: "inherit" });
process.exit(r.status ?? 1);
