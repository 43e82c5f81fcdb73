// @ts-check
import eslint from "@eslint/js";
import globals from "globals";
import tseslint from "typescript-eslint";

/**
 * The layers of src/ (ARCHITECTURE.md), top to bottom. A folder imports only folders of lower
 * layers; tests (*.test.ts) and src/testing/ may import anything, and nothing else imports
 * src/testing/. The lint turns this list into no-restricted-imports patterns per folder.
 */
const LAYERS = [
  ["cli"],
  ["manager", "install"],
  ["audit", "fleet", "backup"],
  ["webhook", "controllers", "check", "devcluster", "report"],
  ["environment"],
  ["kube", "tenant", "crds", "evidence"],
  ["config"],
  ["outputs"],
  ["inputs"],
  ["engine", "catalog"],
  ["api"],
];

/** For each folder, a config block that forbids imports of its own layer's siblings, higher layers and testing/. */
function layerRules() {
  return LAYERS.flatMap((layer, level) =>
    layer.map((folder) => {
      const above = LAYERS.slice(0, level).flat();
      const siblings = layer.filter((other) => other !== folder);
      const forbidden = [...above, ...siblings, "testing"];
      return {
        files: [`src/${folder}/**/*.ts`],
        ignores: ["src/**/*.test.ts"],
        rules: {
          "no-restricted-imports": [
            "error",
            {
              patterns: [
                {
                  // A relative import that climbs out of src/<folder>/ into a forbidden folder.
                  regex: `^(\\.\\./)+(${forbidden.join("|")})/`,
                  message: `src/${folder}/ sits below ${forbidden.filter((f) => f !== "testing").join(", ") || "nothing"} and must not import them (ARCHITECTURE.md, the layers); src/testing/ is for tests only. Move the shared piece down a layer, or pass it in.`,
                },
              ],
            },
          ],
        },
      };
    }),
  );
}

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", "tools/", "coverage/"] },
  eslint.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": [
        "error",
        {
          allowForKnownSafeCalls: [
            {
              from: "package",
              package: "node:test",
              name: ["describe", "it", "test", "suite", "before", "after", "beforeEach", "afterEach"],
            },
          ],
        },
      ],
      "@typescript-eslint/restrict-template-expressions": [
        "error",
        { allowNumber: true, allowBoolean: true },
      ],
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      // @kubernetes/client-node models are generated classes with no behaviour or private
      // state; its documented use is plain object literals, which this rule rejects.
      "@typescript-eslint/no-unsafe-class-instance-assignment": "off",
      "no-restricted-properties": [
        "error",
        { object: "process", property: "env", message: "Read settings through src/config/settings.ts only." },
      ],
    },
  },
  {
    files: ["src/config/settings.ts", "scripts/**", "bench/**"],
    rules: { "no-restricted-properties": "off" },
  },
  {
    // The engine is pure: a verdict depends on its inputs only (the objects, the settings, the
    // clock the caller passes). Per-object views are built by the evaluator and handed to rules in
    // RuleContext; anything that must outlive one call lives in a value the caller owns. Module
    // state would leak between runs, webhook reviews and tests, and hide from reviewers.
    files: ["src/engine/**/*.ts"],
    rules: {
      "no-restricted-syntax": [
        "error",
        {
          selector:
            ":matches(Program, Program > ExportNamedDeclaration) > VariableDeclaration[kind!='const']",
          message:
            "No module-level let/var in src/engine (the engine is pure): pass the value in EngineSettings or RuleContext, or keep it local to a call.",
        },
        {
          selector:
            ":matches(Program, Program > ExportNamedDeclaration) > VariableDeclaration > VariableDeclarator:not([id.typeAnnotation.typeAnnotation.typeName.name=/^Readonly(Map|Set)$/]) > NewExpression.init[callee.name=/^(Map|WeakMap|Set|WeakSet)$/]",
          message:
            "No module-level Map/WeakMap/Set/WeakSet in src/engine (a cache here is state shared by every run): memoize per run in a value the evaluator owns. A constant lookup table is typed ReadonlyMap/ReadonlySet.",
        },
      ],
    },
  },
  ...layerRules(),
  {
    files: ["**/*.js", "**/*.mjs"],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: globals.node },
  },
);
