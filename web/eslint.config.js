// `npm run lint` (run by `make lint`): eslint's recommended rules and typescript-eslint's
// recommended rules over the UI, its tests and the node scripts that drive it.
import js from "@eslint/js";
import globals from "globals";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  { files: ["src/**/*.ts", "test/**/*.ts"], languageOptions: { globals: globals.browser } },
  // The e2e scripts run in node and hand callbacks to the browser (page.evaluate).
  { files: ["e2e/**/*.mjs"], languageOptions: { globals: { ...globals.node, ...globals.browser } } },
  { files: ["mock/**/*.mjs", "*.config.*"], languageOptions: { globals: globals.node } },
);
