import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { parseFrameworks, parsePeriod, ReportInputError } from "./request.ts";

const NOW = new Date("2026-04-10T12:00:00Z");

describe("parsePeriod", () => {
  it("defaults to the 90 days before now", () => {
    const { from, to } = parsePeriod({}, NOW);
    assert.equal(to.toISOString(), NOW.toISOString());
    assert.equal(to.getTime() - from.getTime(), 90 * 86_400_000);
  });

  it("counts a --period back from --to, in hours, days or weeks", () => {
    assert.equal(parsePeriod({ period: "48h" }, NOW).from.toISOString(), "2026-04-08T12:00:00.000Z");
    const weeks = parsePeriod({ period: "2w", to: "2026-03-31" }, NOW);
    // A date as --to includes that day.
    assert.equal(weeks.to.toISOString(), "2026-04-01T00:00:00.000Z");
    assert.equal(weeks.from.toISOString(), "2026-03-18T00:00:00.000Z");
  });

  it("takes --from and --to as dates or times with a zone", () => {
    const { from, to } = parsePeriod({ from: "2026-01-01", to: "2026-03-31T23:00:00+02:00" }, NOW);
    assert.equal(from.toISOString(), "2026-01-01T00:00:00.000Z");
    assert.equal(to.toISOString(), "2026-03-31T21:00:00.000Z");
  });

  it("refuses bad periods saying what and how", () => {
    const cases: [Parameters<typeof parsePeriod>[0], RegExp][] = [
      [{ period: "90" }, /--period "90" is not a length; write --period as a number and a unit \(90d/],
      [{ period: "-5d" }, /--period "-5d" is not a length/],
      [{ period: "0d" }, /--period "0d" is not a length/],
      [{ from: "yesterday" }, /--from "yesterday" is not a date or a time with a zone/],
      [{ from: "2026-02-30" }, /--from "2026-02-30" is not a date/],
      [{ to: "2026-03-31T10:00:00" }, /--to "2026-03-31T10:00:00" is not a date or a time with a zone/],
      [
        { from: "2026-03-01", to: "2026-02-01" },
        /the period is empty: --from 2026-03-01T00:00:00.000Z is not before --to/,
      ],
      [{ from: "2026-03-01", period: "30d" }, /give --period or --from, not both/],
    ];
    for (const [flags, message] of cases) {
      assert.throws(
        () => parsePeriod(flags, NOW),
        (error: unknown) => {
          assert.ok(error instanceof ReportInputError);
          assert.match(error.message, message);
          return true;
        },
      );
    }
  });
});

describe("parseFrameworks", () => {
  it("reads comma-separated and repeated lists, every framework by default", () => {
    assert.deepEqual(parseFrameworks(["iso27001,gdpr", "NIS2", "gdpr"]), ["iso27001", "gdpr", "nis2"]);
    assert.deepEqual(parseFrameworks([]), ["iso27001", "gdpr", "nis2", "pdl", "hipaa"]);
  });

  it("refuses unknown ones listing the known", () => {
    assert.throws(
      () => parseFrameworks(["iso27001,soc2"]),
      /unknown framework "soc2"; --framework takes a comma-separated list of: iso27001 \(ISO\/IEC 27001:2022 Annex A\), gdpr/,
    );
  });
});
