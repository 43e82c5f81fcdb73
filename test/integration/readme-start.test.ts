// The README's main job and its report, as a user runs them on a fresh home: `vakt dev up`
// (what `npm start` runs after setup) starts a real control plane with `vakt run` and its
// background audit on the embedded evidence database; the example tenants are applied as
// scripts/start.sh applies them; then the README's command prints the HTML report of those
// tenants, read from the embedded database while `vakt run` holds it open.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { setting } from "../../src/config/settings.ts";
import { eventually } from "../../src/testing/cluster.ts";
import { freshHome } from "./vakt-process.ts";

const { dir: home, vakt, kubectl } = freshHome("vakt-readme-");

test("npm start's control plane audits the example tenants, and `vakt report --period 1d` prints their HTML report", async () => {
  await vakt("dev", "up", "--nodes", "2", "--bin-dir", setting("testBinDir"));
  await kubectl("wait", "--for=condition=Established", "--timeout=60s", "crd/tenants.vakt.dev");
  await kubectl("apply", "--server-side", "--field-manager=vakt-examples", "-f", "examples/tenants/");
  assert.ok(
    existsSync(join(home, "evidence")),
    "vakt run did not open the embedded database in <home>/evidence",
  );

  // The audit judges the tenants' namespaces as they appear; the history then names their owner.
  const model = await eventually(
    "findings owned by both example tenants in the evidence history",
    90_000,
    async () => {
      const json = JSON.parse(await vakt("report", "-o", "json", "--period", "1d")) as {
        open: { tenant?: string; subject: { namespace?: string } }[];
        chain: { ok: boolean } | null;
      };
      const tenants = new Set(json.open.map((finding) => finding.tenant));
      return tenants.has("carelink") && tenants.has("labflow") ? json : undefined;
    },
  );
  assert.equal(model.chain?.ok, true, "the evidence chain did not verify");

  const html = await vakt("report", "--period", "1d");
  assert.match(html, /^<!doctype html>/i);
  for (const text of ["carelink", "labflow", "carelink-app", "ISO/IEC 27001:2022"])
    assert.ok(html.includes(text), `the HTML report does not mention ${text}`);
});
