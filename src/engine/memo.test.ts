import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { WeakMemo } from "./memo.ts";

describe("WeakMemo", () => {
  it("derives once per function and keys, compared by identity", () => {
    const memo = new WeakMemo();
    let calls = 0;
    const sizeOf = (list: readonly string[]): number => (calls++, list.length);
    const joined = (list: readonly string[], by: { readonly separator: string }): string => {
      calls++;
      return list.join(by.separator);
    };
    const list = ["a", "b"];
    const comma = { separator: "," };
    assert.equal(memo.of(sizeOf, list), 2);
    assert.equal(memo.of(sizeOf, list), 2);
    assert.equal(calls, 1, "same function, same key: derived once");
    assert.equal(memo.of(sizeOf, ["a", "b", "c"]), 3, "another list of the same contents is derived afresh");
    assert.equal(memo.of(joined, list, comma), "a,b");
    assert.equal(memo.of(joined, list, { separator: ";" }), "a;b", "the second key counts too");
    assert.equal(memo.of(joined, list, comma), "a,b");
    assert.equal(calls, 4);
    assert.equal(new WeakMemo().of(sizeOf, list), 2);
    assert.equal(calls, 5, "each memo derives for itself");
  });

  it("keeps a derived undefined without deriving again", () => {
    const memo = new WeakMemo();
    let calls = 0;
    const nothing = (_: object): number | undefined => {
      calls++;
      return undefined;
    };
    const key = {};
    assert.equal(memo.of(nothing, key), undefined);
    assert.equal(memo.of(nothing, key), undefined);
    assert.equal(calls, 1);
  });
});
