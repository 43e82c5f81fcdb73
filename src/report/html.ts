/**
 * The model as one self-contained HTML page a person reads (and Chromium prints to PDF): no
 * scripts, no external assets (a Content-Security-Policy forbids both), every recorded text
 * cleaned, bounded and escaped (text.ts). Pure.
 */
import { VERSION } from "../version.ts";
import type { Subject } from "../evidence/types.ts";
import type { ControlStatus, FindingEntry, FrameworkPosture, ReportModel } from "./model.ts";
import { chainWords, scopeWords } from "./oscal.ts";
import { html, MAX_NAME } from "./text.ts";

const STATUS_WORDS: Readonly<Record<ControlStatus, string>> = {
  satisfied: "satisfied",
  "not-satisfied": "not satisfied",
  "not-evidenced": "not evidenced by vakt",
};

const STYLE = `
body { font: 10.5pt/1.45 system-ui, sans-serif; color: #1b1b1b; margin: 2em auto; max-width: 70em; padding: 0 1em; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { font-size: 1.25em; margin-top: 1.8em; border-bottom: 1px solid #bbb; }
h3 { font-size: 1.05em; margin-top: 1.3em; }
table { border-collapse: collapse; width: 100%; margin: 0.5em 0; } th, td { border: 1px solid #ccc; padding: 0.25em 0.4em; vertical-align: top; text-align: left; }
th { background: #f0f0f0; } tr { break-inside: avoid; } td { overflow-wrap: break-word; white-space: pre-wrap; } td.text { overflow-wrap: anywhere; } td.id { white-space: nowrap; } td.seen { min-width: 9em; }
.posture td:nth-child(1) { width: 6em; } .posture td:nth-child(2) { width: 14em; } .posture td:nth-child(3) { width: 7.5em; } .posture td:nth-child(4) { width: 10em; }
.satisfied { color: #0b6b2b; font-weight: 600; } .not-satisfied { color: #a40e0e; font-weight: 600; } .not-evidenced { color: #6b5a00; font-weight: 600; }
.boundary { color: #555; font-size: 0.9em; } .meta td:first-child { width: 12em; font-weight: 600; white-space: normal; }
.alert { border: 2px solid #a40e0e; padding: 0.5em; color: #a40e0e; font-weight: 600; }
.more { font-style: italic; color: #555; }
@page { size: A4; margin: 14mm 12mm; }
@media print { body { margin: 0; max-width: none; font-size: 9pt; } h2 { break-after: avoid; } }
`;

export function renderHtml(model: ReportModel): string {
  const { request } = model;
  const title = `vakt compliance report: ${scopeWords(request.scope)}`;
  const parts = [
    "<!DOCTYPE html>",
    '<html lang="en"><head><meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`,
    `<title>${html(title, MAX_NAME)}</title><style>${STYLE}</style></head><body>`,
    `<h1>${html(title, MAX_NAME)}</h1>`,
    `<p>${day(request.from)} to ${day(request.to)} (end exclusive), frameworks ${html(request.frameworks.join(", "))}. Generated ${html(request.generatedAt)} by vakt ${html(VERSION)}.</p>`,
    chainSection(model),
    summarySection(model),
    ...model.frameworks.map(frameworkSection),
    openSection(model),
    historySection(model),
    exceptionsSection(model),
    methodSection(model),
    "</body></html>",
    "",
  ];
  return parts.join("\n");
}

function chainSection(model: ReportModel): string {
  if (model.chain !== undefined && !model.chain.ok)
    return `<p class="alert">The evidence history failed verification: ${html(chainWords(model))}. Records from there on cannot be trusted; run vakt report verify.</p>`;
  return "";
}

function summarySection(model: ReportModel): string {
  const rows = model.frameworks.map(
    (f) =>
      `<tr><td>${html(f.name)}</td><td class="satisfied">${f.satisfied}</td><td class="not-satisfied">${f.notSatisfied}</td><td class="not-evidenced">${f.notEvidenced}</td></tr>`,
  );
  return [
    "<h2>Summary</h2>",
    `<p>${model.openTotal} findings open at the period's end; ${model.openedTotal} opened and ${model.resolvedTotal} resolved in the period; ${model.exceptions.length} exceptions in force during it.</p>`,
    "<table><thead><tr><th>Framework</th><th>Controls satisfied</th><th>Not satisfied</th><th>Not evidenced by vakt</th></tr></thead>",
    `<tbody>${rows.join("")}</tbody></table>`,
  ].join("\n");
}

function frameworkSection(framework: FrameworkPosture): string {
  const rows = framework.controls.map((posture) => {
    const c = posture.control;
    const counts =
      posture.status === "not-evidenced"
        ? ""
        : `${posture.open} open, ${posture.exceptions} excepted; ${posture.opened} opened, ${posture.resolved} resolved in the period`;
    return (
      `<tr><td>${html(c.ref)}</td><td>${html(c.title)}${c.note === undefined ? "" : `<div class="boundary">${html(c.note)}</div>`}</td>` +
      `<td class="${posture.status}">${STATUS_WORDS[posture.status]}</td><td>${counts}</td>` +
      `<td class="boundary">${html(posture.boundary)}</td></tr>`
    );
  });
  return [
    `<h2>${html(framework.name)} (${html(framework.version)})</h2>`,
    `<p>${framework.satisfied} satisfied, ${framework.notSatisfied} not satisfied, ${framework.notEvidenced} not evidenced by vakt, of ${framework.controls.length} controls.</p>`,
    '<table class="posture"><thead><tr><th>Control</th><th>Title</th><th>Status</th><th>Findings</th><th>What it rests on</th></tr></thead>',
    `<tbody>${rows.join("")}</tbody></table>`,
  ].join("\n");
}

function object(subject: Subject): string {
  const where = subject.namespace === undefined ? "" : `${subject.namespace}/`;
  return html(`${subject.kind} ${where}${subject.name}`, MAX_NAME);
}

function findingRow(finding: FindingEntry, resolved: boolean): string {
  const seen = resolved
    ? `${when(finding.firstSeen)}<br>resolved ${when(finding.resolved?.time ?? "")} (${html(finding.resolved?.reason ?? "")}), after ${duration(Date.parse(finding.resolved?.time ?? "") - Date.parse(finding.firstSeen))}`
    : `${when(finding.firstSeen)}<br>last ${when(finding.lastSeen)}`;
  // Rule ids stay whole; object names and messages are recorded text of any shape and may break anywhere.
  return (
    `<tr><td>${html(finding.severity)}</td><td class="id">${html(finding.rule, MAX_NAME)}</td>` +
    `<td class="text">${object(finding.subject)}</td>` +
    `<td class="text">${finding.tenant === undefined ? "(none)" : html(finding.tenant, MAX_NAME)}</td>` +
    `<td>${html(finding.controls.join(", "))}</td><td class="seen">${seen}</td><td class="text">${html(finding.message)}</td></tr>`
  );
}

function openSection(model: ReportModel): string {
  if (model.openTotal === 0) return "<h2>Open findings</h2>\n<p>None at the period's end.</p>";
  return [
    "<h2>Open findings</h2>",
    `<p>${model.openTotal} findings open at the period's end, most severe first.</p>`,
    "<table><thead><tr><th>Severity</th><th>Rule</th><th>Object</th><th>Owner tenant</th><th>Controls</th><th>First seen, last seen</th><th>Message</th></tr></thead>",
    `<tbody>${model.open.map((f) => findingRow(f, false)).join("\n")}</tbody></table>`,
    more(model.openTotal - model.open.length, "open findings"),
  ].join("\n");
}

function historySection(model: ReportModel): string {
  const rows = model.history.map(
    (h) =>
      `<tr><td>${html(h.rule, MAX_NAME)}</td><td>${h.opened}</td><td>${h.resolved}</td><td>${h.medianResolveMs === null ? "" : duration(h.medianResolveMs)}</td><td>${h.maxResolveMs === null ? "" : duration(h.maxResolveMs)}</td></tr>`,
  );
  const parts = [
    "<h2>History over the period</h2>",
    `<p>${model.openedTotal} findings opened and ${model.resolvedTotal} resolved.</p>`,
  ];
  if (rows.length > 0)
    parts.push(
      "<table><thead><tr><th>Rule</th><th>Opened</th><th>Resolved</th><th>Median time to resolve</th><th>Longest</th></tr></thead>",
      `<tbody>${rows.join("")}</tbody></table>`,
    );
  if (model.resolved.length > 0)
    parts.push(
      "<h3>Resolved, latest first</h3>",
      "<table><thead><tr><th>Severity</th><th>Rule</th><th>Object</th><th>Owner tenant</th><th>Controls</th><th>Opened, resolved</th><th>Message</th></tr></thead>",
      `<tbody>${model.resolved.map((f) => findingRow(f, true)).join("\n")}</tbody></table>`,
      more(model.resolvedTotal - model.resolved.length, "resolved findings"),
    );
  return parts.join("\n");
}

function exceptionsSection(model: ReportModel): string {
  if (model.exceptions.length === 0)
    return "<h2>Exceptions</h2>\n<p>No exception covered a finding in the period.</p>";
  const rows = model.exceptions.map((e) => {
    const objects = e.subjects.map(object).join("<br>");
    return (
      `<tr><td class="text">${html(e.name, MAX_NAME)}</td><td class="text">${html(e.approver, MAX_NAME)}</td><td class="text">${html(e.justification)}</td>` +
      `<td>${e.expires === null ? "never" : `${when(e.expires)}${e.expired ? " (expired)" : ""}`}</td>` +
      `<td>${html(e.rules.join(", "))}</td><td class="text">${objects}${e.subjectCount > e.subjects.length ? `<br><span class="more">and ${e.subjectCount - e.subjects.length} more</span>` : ""}</td></tr>`
    );
  });
  return [
    "<h2>Exceptions</h2>",
    "<p>Approved deviations: each lets rules fail on some objects until it expires.</p>",
    "<table><thead><tr><th>PolicyException</th><th>Approved by</th><th>Justification</th><th>Expires</th><th>Rules</th><th>Objects</th></tr></thead>",
    `<tbody>${rows.join("\n")}</tbody></table>`,
  ].join("\n");
}

function methodSection(model: ReportModel): string {
  const p = model.passes;
  const rows: [string, string][] = [
    ["Scope", html(scopeWords(model.request.scope), MAX_NAME)],
    ["Period", `${when(model.request.from)} to ${when(model.request.to)} (end exclusive)`],
    ["Evidence source", html(model.request.source, MAX_NAME)],
    ["Evidence chain", html(chainWords(model))],
    [
      "Audit passes",
      p.full + p.partial === 0
        ? "none recorded in the period"
        : `${p.full} full and ${p.partial} event-driven, ${when(p.first ?? "")} to ${when(p.last ?? "")}; the last full pass judged ${p.objects} objects, ${p.unjudgeable} could not be judged`,
    ],
  ];
  return [
    "<h2>Scope and method</h2>",
    '<table class="meta"><tbody>',
    rows.map(([k, v]) => `<tr><td>${k}</td><td>${v}</td></tr>`).join("\n"),
    "</tbody></table>",
    "<p>vakt's background audit applies the same rules, exceptions and live inventory as its admission webhook to every live object of the kinds the rules read, at each full pass and on every change, and appends what it finds to a hash-chained evidence history: a finding when it opens and when it is resolved, each exception that covers one, each pass. This report is computed from that history.</p>",
    "<p>A control is <b>satisfied</b> when rules evidence it, full passes ran in the period, and no finding of those rules is open and no exception covers one at the period's end; <b>not satisfied</b> when one is; <b>not evidenced by vakt</b> when no vakt rule evidences it (its evidence lies outside the cluster's objects) or no full pass ran. A rule that passes proves only what it checks: each control says what its rules do not prove.</p>",
  ].join("\n");
}

function more(count: number, what: string): string {
  return count > 0
    ? `<p class="more">${count} more ${what} are left out here (raise --limit, or use -o json).</p>`
    : "";
}

/** A recorded instant for people: "2026-03-05 12:00 UTC" (the recorded text itself when it is not an instant). */
function when(iso: string): string {
  const time = Date.parse(iso);
  if (Number.isNaN(time)) return html(iso, MAX_NAME);
  return `${new Date(time).toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

function day(iso: string): string {
  return html(iso.endsWith("T00:00:00.000Z") ? iso.slice(0, 10) : iso);
}

/** A duration in the largest units that say it: "3 d 4 h", "2 h 5 min", "40 s". */
export function duration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "unknown";
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 1) return `${Math.round(ms / 1000)} s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 1) return `${minutes} min`;
  const days = Math.floor(hours / 24);
  if (days < 1) return `${hours} h ${minutes % 60} min`;
  return `${days} d ${hours % 24} h`;
}
