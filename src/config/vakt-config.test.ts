import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { ConfigError, DEFAULT_CONFIG, engineSettings, parseConfig } from "./vakt-config.ts";

const KNOWN = new Set(["image-tag", "replicas", "pss-privileged"]);
const HEADER = "apiVersion: vakt.dev/v1alpha1\nkind: VaktConfiguration\n";

/** The message of the ConfigError that parsing `text` throws, split into lines. */
function errorsOf(text: string, file = "vakt.yaml"): string[] {
  try {
    parseConfig(text, file, KNOWN);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return error.message.split("\n");
  }
  assert.fail(`expected ${JSON.stringify(text)} to be rejected`);
}

describe("parseConfig", () => {
  it("reads every field of a complete configuration", () => {
    const config = parseConfig(
      HEADER +
        [
          "metadata:",
          "  name: default",
          "spec:",
          "  failOn: warn",
          "  pssVersion: v1.25",
          "  rules:",
          "    image-tag: off",
          "    replicas: audit",
          "  registries: [registry.example.com/team, ghcr.io]",
          "  allowedRegions: [eu-north-1]",
          "  frameworks: [nis2, gdpr]",
          "  exceptions:",
          "    allowWide: {namespaces: true}",
          "    maxExpiryDays: 90",
          "",
        ].join("\n"),
      "vakt.yaml",
      KNOWN,
    );
    assert.equal(config.failOn, "warn");
    assert.equal(config.pssVersion, "v1.25");
    assert.deepEqual(
      [...config.rules],
      [
        ["image-tag", "off"],
        ["replicas", "audit"],
      ],
    );
    assert.deepEqual(config.registries, ["registry.example.com/team", "ghcr.io"]);
    assert.deepEqual(config.allowedRegions, ["eu-north-1"]);
    assert.deepEqual(config.frameworks, ["nis2", "gdpr"]);
    assert.deepEqual(config.exceptions, {
      allowWide: { namespaces: true, ruleSets: false },
      maxExpiryDays: 90,
    });
    const now = new Date("2026-01-01T00:00:00Z");
    assert.deepEqual(engineSettings(config, now), {
      pssVersion: "v1.25",
      registries: ["registry.example.com/team", "ghcr.io"],
      allowedRegions: ["eu-north-1"],
      exceptions: config.exceptions,
      now,
    });
    assert.equal(engineSettings(config, now).now, now);
  });

  it("uses the defaults for an empty file, a comment-only file and a missing spec", () => {
    assert.equal(parseConfig("", "vakt.yaml", KNOWN), DEFAULT_CONFIG);
    assert.equal(parseConfig("# nothing yet\n", "vakt.yaml", KNOWN), DEFAULT_CONFIG);
    assert.equal(parseConfig(HEADER, "vakt.yaml", KNOWN), DEFAULT_CONFIG);
    const empty = parseConfig(HEADER + "spec: {}\n", "vakt.yaml", KNOWN);
    assert.equal(empty.failOn, "deny");
    assert.equal(empty.pssVersion, "latest");
    assert.equal(empty.rules.size, 0);
    assert.deepEqual(empty.exceptions, {
      allowWide: { namespaces: false, ruleSets: false },
      maxExpiryDays: 365,
    });
  });

  it("reads a YAML 1.1 boolean false as the action off", () => {
    const config = parseConfig(
      `%YAML 1.1\n---\n${HEADER}spec:\n  rules:\n    image-tag: off\n`,
      "v.yaml",
      KNOWN,
    );
    assert.equal(config.rules.get("image-tag"), "off");
  });

  it("names file, line and column of a YAML syntax error", () => {
    assert.deepEqual(errorsOf(HEADER + "spec:\n  failOn: a: b\n  rules: {}\n", "conf/vakt.yaml"), [
      "conf/vakt.yaml:4:11: Nested mappings are not allowed in compact mappings",
    ]);
  });

  it("rejects duplicate keys at their line", () => {
    assert.match(
      errorsOf(HEADER + "spec:\n  failOn: warn\n  failOn: deny\n")[0] ?? "",
      /^vakt\.yaml:5:3: .*unique/,
    );
  });

  it("rejects a document that is not a mapping", () => {
    assert.deepEqual(errorsOf("- a\n- b\n"), [
      "vakt.yaml:1:1: the configuration must be a mapping (apiVersion, kind, spec)",
    ]);
  });

  it("checks apiVersion and kind, at their lines", () => {
    assert.deepEqual(errorsOf("apiVersion: v1\nkind: ConfigMap\nspec: {}\n"), [
      'vakt.yaml:1:13: apiVersion must be "vakt.dev/v1alpha1"',
      'vakt.yaml:2:7: kind must be "VaktConfiguration"',
    ]);
    // Missing ones point at the document.
    assert.deepEqual(errorsOf("spec:\n  failOn: warn\n"), [
      'vakt.yaml:1:1: apiVersion must be "vakt.dev/v1alpha1"',
      'vakt.yaml:1:1: kind must be "VaktConfiguration"',
    ]);
  });

  it("rejects unknown top-level fields, suggesting the nearest (a misspelled spec is not ignored)", () => {
    assert.deepEqual(errorsOf(HEADER + "spce:\n  failOn: warn\n"), [
      'vakt.yaml:3:1: spce is not a configuration field; did you mean "spec"? (top-level fields: apiVersion, kind, metadata, spec)',
    ]);
  });

  it("rejects a spec that is not a mapping", () => {
    assert.deepEqual(errorsOf(HEADER + "spec: 3\n"), ["vakt.yaml:3:7: spec must be a mapping"]);
  });

  it("rejects unknown spec fields at their line, suggesting the nearest", () => {
    const errors = errorsOf(HEADER + "spec:\n  failOn: warn\n  failon: deny\n  colour: red\n");
    assert.equal(errors.length, 2);
    assert.match(
      errors[0] ?? "",
      /^vakt\.yaml:5:3: spec\.failon is not a configuration field; did you mean "failOn"\?/,
    );
    assert.match(
      errors[1] ?? "",
      /^vakt\.yaml:6:3: spec\.colour is not a configuration field; known fields: failOn, rules,/,
    );
  });

  it("rejects a bad action, off for failOn, and a missing action, at the value's line", () => {
    assert.deepEqual(errorsOf(HEADER + "spec:\n  rules:\n    replicas: warn\n    image-tag: maybe\n"), [
      "vakt.yaml:6:16: spec.rules.image-tag must be one of deny, warn, audit, off",
    ]);
    assert.deepEqual(errorsOf(HEADER + "spec:\n  failOn: off\n"), [
      "vakt.yaml:4:11: spec.failOn must be one of deny, warn, audit",
    ]);
    assert.deepEqual(errorsOf(HEADER + "spec:\n  failOn: [deny]\n"), [
      "vakt.yaml:4:11: spec.failOn must be one of deny, warn, audit",
    ]);
  });

  it("rejects unknown rule ids, suggesting the nearest known id only when it is close", () => {
    assert.deepEqual(errorsOf(HEADER + "spec:\n  rules:\n    image-tg: off\n    zzz: warn\n"), [
      'vakt.yaml:5:5: spec.rules.image-tg is not a known rule; did you mean "image-tag"? (list them with `vakt rules`)',
      "vakt.yaml:6:5: spec.rules.zzz is not a known rule (list them with `vakt rules`)",
    ]);
    assert.deepEqual(errorsOf(HEADER + "spec:\n  rules:\n    [a]: deny\n"), [
      'vakt.yaml:5:5: spec.rules keys must be rule ids, e.g. "image-tag: warn"',
    ]);
    assert.deepEqual(errorsOf(HEADER + "spec:\n  rules: [image-tag]\n"), [
      'vakt.yaml:4:10: spec.rules must map rule ids to actions, e.g. "image-tag: warn"',
    ]);
  });

  it("validates list fields item by item", () => {
    assert.deepEqual(errorsOf(HEADER + 'spec:\n  registries: ["", 3, https://x.io]\n'), [
      "vakt.yaml:4:16: spec.registries[0] must be a non-empty string",
      "vakt.yaml:4:20: spec.registries[1] must be a non-empty string",
      'vakt.yaml:4:23: spec.registries[2] "https://x.io" must be a registry host with an optional path, like "registry.example.com/team" (no scheme, no spaces)',
    ]);
    assert.deepEqual(
      errorsOf(HEADER + "spec:\n  registries: ghcr.io\n  frameworks:\n    - nis2\n    - sox\n").sort(),
      [
        "vakt.yaml:4:15: spec.registries must be a list of strings",
        'vakt.yaml:7:7: spec.frameworks[1] "sox" is not a framework; use one of iso27001, gdpr, pdl, nis2, hipaa',
      ],
    );
  });

  it("validates pssVersion", () => {
    assert.deepEqual(errorsOf(HEADER + "spec:\n  pssVersion: 1.25\n"), [
      'vakt.yaml:4:15: spec.pssVersion must be "latest" or "v1.N" (v1.0 to v1.37), got "1.25"',
    ]);
    assert.equal(parseConfig(HEADER + "spec:\n  pssVersion: latest\n", "v.yaml", KNOWN).pssVersion, "latest");
    assert.equal(parseConfig(HEADER + "spec:\n  pssVersion: v1.0\n", "v.yaml", KNOWN).pssVersion, "v1.0");
  });

  it("validates spec.exceptions, at the line of each bad value", () => {
    assert.deepEqual(
      errorsOf(
        HEADER +
          "spec:\n  exceptions:\n    maxExpiryDays: 36500\n    allowWide: {namespaces: yes, rulesets: true}\n    maxAge: 3\n",
      ),
      [
        "vakt.yaml:5:20: spec.exceptions.maxExpiryDays must be a whole number of days from 1 to 3650 (an exception is temporary), e.g. 365",
        "vakt.yaml:6:29: spec.exceptions.allowWide.namespaces must be true or false",
        'vakt.yaml:6:34: spec.exceptions.allowWide.rulesets is not a field; did you mean "ruleSets"?; known: namespaces, ruleSets',
        "vakt.yaml:7:5: spec.exceptions.maxAge is not a field; known: allowWide, maxExpiryDays",
      ],
    );
    for (const days of ["0", "1.5", "-3", '"365"', "null"])
      assert.match(
        errorsOf(HEADER + `spec:\n  exceptions: {maxExpiryDays: ${days}}\n`)[0] ?? "",
        /spec\.exceptions\.maxExpiryDays must be a whole number of days from 1 to 3650/,
        days,
      );
    assert.deepEqual(errorsOf(HEADER + "spec:\n  exceptions: [allowWide]\n"), [
      'vakt.yaml:4:15: spec.exceptions must be a mapping, e.g. "exceptions: { maxExpiryDays: 180 }"',
    ]);
    assert.deepEqual(errorsOf(HEADER + "spec:\n  exceptions: {allowWide: true}\n"), [
      'vakt.yaml:4:27: spec.exceptions.allowWide must be a mapping, e.g. "allowWide: { namespaces: true, ruleSets: false }"',
    ]);
    const wide = parseConfig(
      HEADER + "spec:\n  exceptions: {allowWide: {ruleSets: true}, maxExpiryDays: 3650}\n",
      "v.yaml",
      KNOWN,
    );
    assert.deepEqual(wide.exceptions, {
      allowWide: { namespaces: false, ruleSets: true },
      maxExpiryDays: 3650,
    });
  });

  it("reports every problem at once", () => {
    const errors = errorsOf(HEADER + "spec:\n  bogus: 1\n  failOn: never\n  rules:\n    image-tg: off\n");
    assert.deepEqual(
      errors.map((line) => line.split(": ")[0]),
      ["vakt.yaml:4:3", "vakt.yaml:5:11", "vakt.yaml:7:5"],
    );
  });
});
