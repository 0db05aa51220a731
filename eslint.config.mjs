// @ts-check
// ESLint flat config: typescript-eslint's `recommended` rules over the library, tests, benchmarks and scripts.
// Not `recommendedTypeChecked`: on two cores it takes ~70 s (longer than `tsc`), and on this code it reports only
// redundant type assertions, non-string template values and tfjs `any` interop, no floating promises.
// Formatting is prettier's job (`npm run format`), so no stylistic rules here.
import eslint from "@eslint/js";
import globals from "globals";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["build/", "node_modules/", "notebooks/", "datasets/", "shared/", "packages/", ".venv/"] },
  eslint.configs.recommended,
  tseslint.configs.recommended,
  {
    linterOptions: { reportUnusedDisableDirectives: "error" },
    rules: {
      // A leading underscore marks a parameter a signature needs (tfjs `call(inputs, _kwargs)`, hooks) or a field
      // dropped by destructuring (`const { epoch: _epoch, ...metrics } = logs`): deliberate, not forgotten.
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", destructuredArrayIgnorePattern: "^_" },
      ],
      // `require` stays for modules loaded lazily on purpose: optional or side-effect backends (tfjs-node, wasm),
      // danfo (slow to load, only for DataFrame output), usearch (a native addon, only for ApproximateIndex), tslab's kernel internals and a tfjs internal used in a test.
      "@typescript-eslint/no-require-imports": [
        "error",
        {
          allow: [
            "^@tensorflow/tfjs-node$",
            "^@tensorflow/tfjs-backend-wasm$",
            "^danfojs-node$",
            "^usearch$",
            "^tslab/dist/jupyter$",
            "^@tensorflow/tfjs-layers/dist/",
          ],
        },
      ],
    },
  },
  {
    // CommonJS JavaScript (mocha's reporter and the kernel launcher are loaded with `require`).
    files: ["**/*.js", "**/*.cjs"],
    languageOptions: { sourceType: "commonjs", globals: { ...globals.node } },
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
  {
    // Scripts the built site loads in the browser (copied to build/site/assets/).
    files: ["scripts/site/assets/**/*.js"],
    languageOptions: { sourceType: "script", globals: { ...globals.browser } },
  },
);
