/**
 * Evidence records for the report's unit tests: a small history of one cluster over a period,
 * and hostile text to put into it. Hashes are placeholders: the model never reads them (verify
 * is the store's, tested there).
 */
import { ALL_RULES } from "../engine/rules/index.ts";
import type { EvidenceEvent, EvidenceRecord, Subject } from "../evidence/types.ts";
import type { ReportRequest, RuleInfo } from "./model.ts";

export const RULES: readonly RuleInfo[] = ALL_RULES;

export const FROM = new Date("2026-03-01T00:00:00Z");
export const TO = new Date("2026-04-01T00:00:00Z");

export function request(overrides: Partial<ReportRequest> = {}): ReportRequest {
  return {
    from: FROM,
    to: TO,
    scope: { cluster: "prod" },
    frameworks: ["iso27001"],
    generatedAt: new Date("2026-04-02T08:00:00Z"),
    source: "the embedded database (PGlite) at /tmp/evidence",
    limit: 1000,
    ...overrides,
  };
}

export function pod(namespace: string, name: string): Subject {
  return { apiVersion: "v1", kind: "Pod", namespace, name, uid: `uid-${name}` };
}

/** `events` as stored records: numbered from 1, with placeholder chain fields. */
export function stored(events: readonly EvidenceEvent[]): EvidenceRecord[] {
  return events.map((event, index) => ({
    ...event,
    seq: index + 1,
    prevHash: index.toString(16).padStart(64, "0"),
    hash: (index + 1).toString(16).padStart(64, "0"),
  }));
}

const ACME = { cluster: "prod", tenant: "acme", namespace: "shop" };

function pass(time: string): EvidenceEvent {
  return {
    kind: "audit.pass",
    time,
    scope: { cluster: "prod" },
    data: {
      full: true,
      started: time,
      durationMs: 1200,
      objects: 40,
      unjudgeable: 1,
      findingsOpen: 1,
      opened: 0,
      resolved: 0,
    },
  };
}

/**
 * The story: pss-privileged failed on shop/db before the period and is still open; image-tag
 * failed on shop/web in the period and was fixed two days later; an exception covers
 * pss-host-namespaces on shop/legacy; full passes ran daily.
 */
export function history(
  text: { name?: string; message?: string; justification?: string } = {},
): EvidenceRecord[] {
  const webTag = {
    scope: ACME,
    subject: pod("shop", text.name ?? "web"),
    rule: "image-tag",
    controls: ["iso27001:A.8.32", "iso27001:A.8.9", "iso27001:A.8.19"],
    severity: "medium",
    message: text.message ?? 'container "web" uses image nginx:latest',
  } as const;
  return stored([
    {
      kind: "finding.opened",
      time: "2026-02-20T10:00:00.000Z",
      scope: ACME,
      subject: pod("shop", "db"),
      rule: "pss-privileged",
      controls: ["iso27001:A.8.2", "iso27001:A.8.9", "gdpr:32"],
      severity: "high",
      message: 'container "db" runs privileged',
      data: { action: "deny" },
    },
    {
      kind: "exception.applied",
      time: "2026-02-25T09:00:00.000Z",
      scope: ACME,
      subject: pod("shop", "legacy"),
      rule: "pss-host-namespaces",
      controls: ["iso27001:A.8.22", "iso27001:A.8.27", "gdpr:32"],
      severity: "high",
      message: "hostNetwork is true",
      data: {
        exception: "shop/legacy-host-network",
        approver: "ciso@example.org",
        justification:
          text.justification ?? "The legacy VPN gateway needs the host network until its replacement ships.",
        expires: "2026-06-30T00:00:00.000Z",
      },
    },
    pass("2026-03-01T01:00:00.000Z"),
    { ...webTag, kind: "finding.opened", time: "2026-03-05T12:00:00.000Z", data: { action: "warn" } },
    pass("2026-03-06T01:00:00.000Z"),
    {
      ...webTag,
      kind: "finding.resolved",
      time: "2026-03-07T12:00:00.000Z",
      data: { reason: "fixed", firstSeen: "2026-03-05T12:00:00.000Z", lastSeen: "2026-03-06T01:00:00.000Z" },
    },
    pass("2026-03-31T01:00:00.000Z"),
  ]);
}

/** Text an attacker controls (object names, messages, justifications): markup, control characters, size. */
export const HOSTILE = {
  name: `<script>alert("name")</script>\u0007\u001b[31m`,
  message: `</td></tr></table><img src=x onerror=alert(1)>\u0000\u2028line\nbreak \ud800 ${"A".repeat(100_000)}`,
  justification: `"><iframe src="https://evil.example/"></iframe>\u0008 ${"&lt;".repeat(5000)}`,
};
