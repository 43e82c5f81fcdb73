import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { rollUp, summaryFindings } from "./posture.ts";

describe("posture roll-up", () => {
  it("a webhook that answers with the wanted version: both conditions True, the findings carried", () => {
    const { status, conditions } = rollUp(
      { webhook: "Ready", webhookMessage: "answers", vaktVersion: "0.1.0", findings: 3 },
      "0.1.0",
    );
    assert.deepEqual(status, { webhook: "Ready", wantedVersion: "0.1.0", vaktVersion: "0.1.0", findings: 3 });
    assert.deepEqual(
      conditions.map((c) => [c.type, c.status, c.reason]),
      [
        ["WebhookReady", "True", "Answering"],
        ["VersionMatched", "True", "SameVersion"],
      ],
    );
  });

  it("version skew names both versions and the fix; a webhook not answering is False", () => {
    const { status, conditions } = rollUp(
      {
        webhook: "NotAnswering",
        webhookMessage: "no answer from https://127.0.0.1:1/readyz",
        vaktVersion: "0.0.9",
      },
      "0.1.0",
    );
    assert.equal(status.findings, undefined);
    const [webhook, version] = conditions;
    assert.deepEqual([webhook?.status, webhook?.reason], ["False", "NotAnswering"]);
    assert.deepEqual([version?.status, version?.reason], ["False", "VersionSkew"]);
    assert.match(version?.message ?? "", /vakt 0\.0\.9 .* 0\.1\.0 is wanted: upgrade vakt there/);
  });

  it("no webhook configuration: NotRegistered, the version Unknown", () => {
    const { status, conditions } = rollUp({ webhook: "NotRegistered", webhookMessage: "none" }, "0.1.0");
    assert.equal(status.vaktVersion, undefined);
    assert.deepEqual(
      conditions.map((c) => [c.status, c.reason]),
      [
        ["False", "NotRegistered"],
        ["Unknown", "VersionUnknown"],
      ],
    );
  });

  it("counts fail, warn and error of a report summary, nothing else, and ignores junk", () => {
    assert.equal(summaryFindings({ pass: 10, fail: 2, warn: 1, error: 1, skip: 4 }), 4);
    assert.equal(summaryFindings({ fail: -1, warn: "2", error: Number.NaN }), 0);
    assert.equal(summaryFindings(undefined), 0);
  });
});
