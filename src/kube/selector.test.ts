import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { checkLabelSelector } from "./selector.ts";

describe("checkLabelSelector", () => {
  it("accepts what the API server accepts", () => {
    for (const selector of [
      "app=web",
      "app==web,tier!=db",
      "vakt.dev/region=se",
      "env in (prod, test),!legacy",
      "env notin (dev),team",
      "app.kubernetes.io/name=vakt,vakt.dev/test-location-1a2b=true",
      "empty=",
    ])
      assert.equal(checkLabelSelector(selector), undefined, selector);
  });

  it("names the requirement and what is wrong with it", () => {
    const cases: [string, RegExp][] = [
      ["", /empty \(leave the option out/],
      ["region=se,,tier=db", /requirement 2 is empty/],
      ["env in (prod", /parentheses do not pair/],
      ["env in ((a))", /parentheses do not pair/],
      ["env in ()", /requirement 1, "env in \(\)": the set of values is empty/],
      ["Vakt.Dev/region=se", /requirement 1, key "Vakt.Dev\/region": the prefix/],
      ["region=se north", /requirement 1, "region=se north" is not key/],
      ["region=-se", /requirement 1, value "-se"/],
      [`app=${"x".repeat(64)}`, /requirement 1, value "x{64}"/],
      ["app=web,tier<db", /requirement 2, key "tier<db": a name of at most 63/],
    ];
    for (const [selector, problem] of cases)
      assert.match(checkLabelSelector(selector) ?? "", problem, selector);
  });
});
