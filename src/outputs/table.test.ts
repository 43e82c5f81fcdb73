import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { textTable } from "./table.ts";

describe("textTable", () => {
  it("pads each column to its widest cell, header included, and leaves the last one unpadded", () => {
    assert.equal(
      textTable(
        ["NAME", "PHASE", "NOTE"],
        [
          ["dev-1", "Ready", "-"],
          ["a", "Provisioning", "waiting for the cloud"],
        ],
      ),
      "NAME   PHASE         NOTE\ndev-1  Ready         -\na      Provisioning  waiting for the cloud\n",
    );
  });

  it("prints the header alone when there are no rows", () => {
    assert.equal(textTable(["TENANT", "LAST BACKUP"], []), "TENANT  LAST BACKUP\n");
  });
});
