/**
 * `vakt check` with PolicyExceptions beyond the configured bounds (docs/adr/0011): an exception
 * for every rule set, every namespace and until 9999 must not silence anything, and says so.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";

import {
  PRIVILEGED_POD,
  parseJsonReport,
  removeDir,
  rulesOf,
  runVakt,
  tempDir,
  writeFiles,
} from "./helpers.ts";
import type { JsonReport } from "./helpers.ts";

/** In vakt's namespace: namespaces on line 8, rules on line 9, expires on line 12. */
function everything(expires: string, rules = "[pss-baseline, pss-restricted, platform, governance]"): string {
  return `apiVersion: vakt.dev/v1alpha1
kind: PolicyException
metadata:
  name: everything
  namespace: vakt-system
spec:
  match:
    namespaces: ["*"]
  rules: ${rules}
  justification: "switch vakt off while we migrate, approved in a hurry"
  approvedBy: ciso@example.com
  expires: "${expires}"
`;
}

const config = (exceptions: string): string => `apiVersion: vakt.dev/v1alpha1
kind: VaktConfiguration
spec:
  exceptions: ${exceptions}
`;

/** A day `days` after today (UTC), as a date. */
const daysAhead = (days: number): string =>
  new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);

function findingsOf(report: JsonReport, rule: string): Record<string, unknown>[] {
  return report.findings.filter((finding) => finding["rule"] === rule);
}

describe("vakt check: bounded PolicyExceptions", { concurrency: true }, () => {
  let dir = "";

  before(async () => {
    dir = await tempDir();
    await writeFiles(dir, {
      "privileged.yaml": PRIVILEGED_POD,
      "everything.yaml": everything("9999-01-01"),
      "wide.yaml": everything(daysAhead(20)),
      "month.yaml": everything(daysAhead(20), "[pss-privileged]").replace('["*"]', "[shop]"),
      "two-months.yaml": everything(daysAhead(40), "[pss-privileged]").replace('["*"]', "[shop]"),
      "allow-wide.yaml": config("{allowWide: {namespaces: true, ruleSets: true}}"),
      "allow-namespaces.yaml": config("{allowWide: {namespaces: true}}"),
      "thirty-days.yaml": config("{maxExpiryDays: 30}"),
    });
  });

  after(async () => {
    await removeDir(dir);
  });

  const check = (...args: string[]): ReturnType<typeof runVakt> =>
    runVakt(["check", "privileged.yaml", "--select", "pss-baseline,governance", ...args], { cwd: dir });

  it("an exception for every rule set, every namespace, until 9999 suppresses nothing and is a finding per field", async () => {
    const [json, text] = await Promise.all([
      check("everything.yaml", "-o", "json"),
      check("everything.yaml"),
    ]);
    assert.equal(json.code, 1, json.stdout + json.stderr);
    const report = parseJsonReport(json.stdout);
    assert.deepEqual(rulesOf(report), ["exception-scope", "pss-privileged"]);
    assert.ok(
      report.findings.every((finding) => finding["suppressed"] === false),
      "nothing is suppressed",
    );
    const scope = findingsOf(report, "exception-scope");
    assert.deepEqual(
      scope.map((finding) => [finding["field"], finding["line"], finding["action"]]),
      [
        ["spec.match.namespaces", 8, "deny"],
        ["spec.rules", 9, "deny"],
        ["spec.expires", 12, "deny"],
      ],
    );
    assert.ok(
      scope.every((finding) => finding["file"] === "everything.yaml" && finding["name"] === "everything"),
    );
    assert.match(
      String(scope[0]?.["message"]),
      /covers more than one namespace; .*allowWide\.namespaces: true/,
    );
    assert.match(
      String(scope[1]?.["message"]),
      /rule sets "pss-baseline", "pss-restricted", "platform", "governance", .*allowWide\.ruleSets: true/,
    );
    assert.match(
      String(scope[2]?.["message"]),
      /^spec\.expires 9999-01-01 is more than 365 days after \d{4}-\d{2}-\d{2}; write \d{4}-\d{2}-\d{2} or earlier, or raise spec\.exceptions\.maxExpiryDays/,
    );
    assert.equal(text.code, 1);
    assert.match(text.stdout, /everything\.yaml:12:.*exception-scope/);
  });

  it("applies a wide exception where vakt.yaml allows it, and only the bounds it lifts", async () => {
    const [allowed, tooLong, onlyNamespaces] = await Promise.all([
      check("wide.yaml", "-c", "allow-wide.yaml", "-o", "json"),
      check("everything.yaml", "-c", "allow-wide.yaml", "-o", "json"),
      check("wide.yaml", "-c", "allow-namespaces.yaml", "-o", "json"),
    ]);
    assert.equal(allowed.code, 0, allowed.stdout + allowed.stderr);
    const suppressed = parseJsonReport(allowed.stdout);
    assert.deepEqual(rulesOf(suppressed), ["pss-privileged"]);
    assert.ok(suppressed.findings.every((finding) => finding["exception"] === "everything"));

    assert.equal(tooLong.code, 1, tooLong.stderr);
    const expiry = findingsOf(parseJsonReport(tooLong.stdout), "exception-scope");
    assert.deepEqual(
      expiry.map((finding) => finding["field"]),
      ["spec.expires"],
    );

    assert.equal(onlyNamespaces.code, 1, onlyNamespaces.stderr);
    const sets = parseJsonReport(onlyNamespaces.stdout);
    assert.deepEqual(
      findingsOf(sets, "exception-scope").map((finding) => finding["field"]),
      ["spec.rules"],
    );
    assert.equal(findingsOf(sets, "pss-privileged")[0]?.["suppressed"], false);
  });

  it("takes the maximum expiry from vakt.yaml", async () => {
    const [within, beyond, beyondDefault] = await Promise.all([
      check("month.yaml", "-c", "thirty-days.yaml", "-o", "json"),
      check("two-months.yaml", "-c", "thirty-days.yaml", "-o", "json"),
      check("two-months.yaml", "-o", "json"),
    ]);
    assert.equal(within.code, 0, within.stdout + within.stderr);
    assert.equal(beyond.code, 1, beyond.stderr);
    const [finding, ...others] = findingsOf(parseJsonReport(beyond.stdout), "exception-scope");
    assert.deepEqual(others, []);
    assert.equal(finding?.["field"], "spec.expires");
    assert.match(String(finding["message"]), /is more than 30 days after/);
    assert.equal(beyondDefault.code, 0, "40 days are within the default 365");
  });
});
