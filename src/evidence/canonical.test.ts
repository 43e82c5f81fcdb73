// The hash chain's encoding must never change: a record written by one vakt has to verify with
// the next. The expected bytes and hash below were produced by the first implementation (keys
// sorted with map/join); a faster encoder must give exactly the same.
import assert from "node:assert/strict";
import { test } from "node:test";
import { canonical, recordHash } from "./canonical.ts";
import type { EvidenceRecord, JsonValue } from "./types.ts";

const RECORD = {
  seq: 7,
  prevHash: "0".repeat(64),
  kind: "finding.opened",
  time: "2026-03-01T00:00:00.000Z",
  scope: { cluster: "c1", namespace: "shop", tenant: "acme" },
  subject: { apiVersion: "v1", kind: "Pod", namespace: "shop", name: "web", uid: "u-1" },
  rule: "pss-restricted-run-as-non-root",
  controls: ["iso27001:A.8.9"],
  severity: "high",
  message: 'pod "web" runs as root – ok ✓',
  data: {
    'key with "quote"': 1,
    ångström: [1, 2.5, null, true, { b: "x\n", a: [] }],
    action: "warn",
    "": -0.0001,
  },
} as unknown as Omit<EvidenceRecord, "hash">;

test("the encoding of a record is the one the chain was started with", () => {
  assert.equal(
    canonical(RECORD as unknown as JsonValue),
    String.raw`{"controls":["iso27001:A.8.9"],"data":{"":-0.0001,"action":"warn","key with \"quote\"":1,"ångström":[1,2.5,null,true,{"a":[],"b":"x\n"}]},"kind":"finding.opened","message":"pod \"web\" runs as root – ok ✓","prevHash":"0000000000000000000000000000000000000000000000000000000000000000","rule":"pss-restricted-run-as-non-root","scope":{"cluster":"c1","namespace":"shop","tenant":"acme"},"seq":7,"severity":"high","subject":{"apiVersion":"v1","kind":"Pod","name":"web","namespace":"shop","uid":"u-1"},"time":"2026-03-01T00:00:00.000Z"}`,
  );
  assert.equal(recordHash(RECORD), "7b9472a43504ec2d5a72cd991647d6deeea0cff13c0471cc1c7abf1822da4054");
});

test("keys are escaped as JSON escapes them, sorted by UTF-16 code units, undefined left out", () => {
  const keys = ["z", "a\u0001", "\\", "é", "\ud83d\ude00", "A", "a b", "~"];
  const object: Record<string, JsonValue> = {};
  for (const key of keys) object[key] = key;
  (object as Record<string, unknown>)["gone"] = undefined;
  const expected = `{${[...keys]
    .sort()
    .map((key) => `${JSON.stringify(key)}:${JSON.stringify(key)}`)
    .join(",")}}`;
  assert.equal(canonical(object), expected);
  assert.deepEqual(JSON.parse(canonical(object)), Object.fromEntries(keys.map((key) => [key, key])));
});

test("arrays keep their order and nest; scalars are JSON", () => {
  assert.equal(canonical([[], [{}], [1, "1", false, null]]), '[[],[{}],[1,"1",false,null]]');
  assert.equal(canonical("a\u2028b"), JSON.stringify("a\u2028b"));
  assert.equal(canonical(1e21), "1e+21");
});
