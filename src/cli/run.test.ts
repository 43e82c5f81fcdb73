import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Command } from "commander";
import { UsageError } from "./errors.ts";
import { parseInterval, parseParts, registerRun } from "./run.ts";

describe("vakt run --parts", () => {
  it("takes the known parts in any order, spaced or repeated, and returns them in start order", () => {
    assert.deepEqual(parseParts("webhook,controller"), ["webhook", "controller"]);
    assert.deepEqual(parseParts(" controller , webhook ,controller"), ["webhook", "controller"]);
    assert.deepEqual(parseParts("controller"), ["controller"]);
    assert.deepEqual(parseParts("webhook,"), ["webhook"]);
  });

  it("refuses an unknown part with a usage error that lists the known ones", () => {
    assert.throws(
      () => parseParts("webhook,drills"),
      (error: unknown) =>
        error instanceof UsageError &&
        /--parts: unknown part "drills"; the known parts are: webhook \(.+\); controller \(.+\); audit \(.+\)/.test(
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

describe("vakt run --audit-interval", () => {
  it("reads hours, minutes and seconds", () => {
    assert.equal(parseInterval("1h", "--audit-interval"), 3_600_000);
    assert.equal(parseInterval("2h30m", "--audit-interval"), 9_000_000);
    assert.equal(parseInterval("90s", "--audit-interval"), 90_000);
  });

  it("refuses what is not a duration, or too short or long, saying how to write one", () => {
    for (const text of ["", "1d", "5s", "200h", "1.5h", "h"])
      assert.throws(
        () => parseInterval(text, "--audit-interval"),
        (error: unknown) =>
          error instanceof UsageError && /--audit-interval .* e\.g\. 30m, 1h/.test(error.message),
      );
  });
});

describe("vakt run --backup-locations", () => {
  it("refuses a selector the API server would refuse on every list, before connecting", async () => {
    const program = new Command();
    registerRun(program);
    await assert.rejects(
      program.parseAsync(["node", "vakt", "run", "--parts=backup", "--backup-locations=region=se,,tier=db"]),
      (error: unknown) =>
        error instanceof UsageError &&
        /--backup-locations "region=se,,tier=db": requirement 2 is empty .*such as vakt\.dev\/region=se/.test(
          error.message,
        ),
    );
  });
});
