import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Command } from "commander";
import { UsageError } from "./errors.ts";
import { parseParts, registerRun } from "./run.ts";

describe("vakt run --parts", () => {
  it("takes the known parts in any order, spaced or repeated, and returns them in start order", () => {
    assert.deepEqual(parseParts("webhook,controller"), ["webhook", "controller"]);
    assert.deepEqual(parseParts(" controller , webhook ,controller"), ["webhook", "controller"]);
    assert.deepEqual(parseParts("controller"), ["controller"]);
    assert.deepEqual(parseParts("webhook,"), ["webhook"]);
  });

  it("refuses an unknown part with a usage error that lists the known ones", () => {
    assert.throws(
      () => parseParts("webhook,audit"),
      (error: unknown) =>
        error instanceof UsageError &&
        /--parts: unknown part "audit"; the known parts are: webhook \(.+\); controller \(.+\)/.test(
          error.message,
        ),
    );
  });

  it("refuses an empty list", () => {
    assert.throws(
      () => parseParts(" , "),
      (error: unknown) =>
        error instanceof UsageError &&
        /--parts: name at least one part; the known parts are: webhook/.test(error.message),
    );
  });
});

describe("vakt run --help", () => {
  it("gives the kubeconfig lookup order kubeconfig.ts follows: $KUBECONFIG, ~/.kube/config, in-cluster", () => {
    const program = new Command();
    registerRun(program);
    const help = program.commands[0]?.helpInformation() ?? "";
    const flat = help.replace(/\s+/g, " ");
    assert.match(
      flat,
      /\$KUBECONFIG lists, merged; else ~\/\.kube\/config; else the in-cluster service account/,
    );
    assert.match(flat, /--parts <parts> comma-separated parts to run: webhook \(/);
  });
});
