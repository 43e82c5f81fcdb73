import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ALL_RULES } from "../engine/rules/index.ts";
import { webhookConfigurations } from "./registration.ts";

function resourcesOf(object: unknown): string[] {
  const webhooks = (object as { webhooks: { rules: { resources: string[] }[] }[] }).webhooks;
  return webhooks.flatMap((webhook) => webhook.rules.flatMap((rule) => rule.resources));
}

describe("webhook configurations", () => {
  const [validating, mutating] = webhookConfigurations({
    name: "vakt",
    target: { url: "https://127.0.0.1:8443" },
    caBundle: "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n",
    failurePolicy: "Fail",
    timeoutSeconds: 5,
    excludedNamespaces: ["kube-system"],
    rules: ALL_RULES,
    mutate: true,
  });

  it("send the pod subresources that change what a pod runs to the validating webhook", () => {
    const resources = resourcesOf(validating);
    // kubectl debug adds containers through pods/ephemeralcontainers; without it a privileged
    // debug container is never judged.
    assert.ok(resources.includes("pods/ephemeralcontainers"), resources.join(", "));
    assert.ok(resources.includes("pods/resize"), resources.join(", "));
    assert.ok(!resources.includes("pods/status"));
  });

  it("do not send subresources to the mutating webhook (defaults are added on CREATE of the object)", () => {
    assert.deepEqual(
      resourcesOf(mutating).filter((resource) => resource.includes("/")),
      [],
    );
  });
});
