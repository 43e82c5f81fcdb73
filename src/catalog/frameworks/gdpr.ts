import { defineControls } from "../define.ts";
import type { Control, Framework } from "../types.ts";

/**
 * The GDPR articles vakt maps evidence to. Article-level ids ("gdpr:32") are the stable ones
 * rules use; a few sub-points ("gdpr:32.1.a", paragraph 1 point a) allow finer mapping.
 */
export const GDPR: Framework = {
  id: "gdpr",
  name: "General Data Protection Regulation (EU) 2016/679",
  version: "2016/679",
  description:
    "The EU regulation on processing personal data. The catalog lists the principles, privacy by design, records, security and breach notification articles, and the chapter V rules on transfers to third countries.",
  url: "https://eur-lex.europa.eu/eli/reg/2016/679/oj",
};

const F = GDPR.id;

const PRINCIPLES = defineControls(F, "principles", [
  [
    "5",
    "Principles of processing",
    "Personal data is processed lawfully, fairly and transparently, for set purposes, minimised, accurate, kept no longer than needed and secured, and the controller can show it.",
  ],
  [
    "5.1.c",
    "Data minimisation",
    "Only the personal data needed for the purpose is processed.",
    { parent: "5" },
  ],
  [
    "5.1.e",
    "Storage limitation",
    "Identifiable personal data is kept no longer than the purpose requires.",
    { parent: "5" },
  ],
  [
    "5.1.f",
    "Integrity and confidentiality",
    "Personal data is protected against unauthorised processing, loss and damage by suitable measures.",
    { parent: "5" },
  ],
  [
    "5.2",
    "Accountability",
    "The controller is responsible for, and must be able to show, compliance with the principles.",
    { parent: "5" },
  ],
]);

const ACCOUNTABILITY = defineControls(F, "accountability", [
  [
    "25",
    "Data protection by design and by default",
    "Processing is designed with data protection built in, and by default only the data necessary for each purpose is processed or exposed.",
  ],
  [
    "30",
    "Records of processing activities",
    "Controllers and processors keep a written record of what processing they do, why, on whose data and with what safeguards.",
  ],
]);

const SECURITY = defineControls(F, "security", [
  [
    "32",
    "Security of processing",
    "Controller and processor apply technical and organisational measures giving security appropriate to the risk.",
  ],
  [
    "32.1.a",
    "Pseudonymisation and encryption",
    "Pseudonymisation and encryption are used where appropriate to the risk.",
    { parent: "32" },
  ],
  [
    "32.1.b",
    "Confidentiality, integrity, availability and resilience",
    "Systems and services processing personal data stay confidential, intact, available and resilient.",
    { parent: "32" },
  ],
  [
    "32.1.c",
    "Timely restore after incidents",
    "Availability of and access to personal data can be restored quickly after a physical or technical incident.",
    { parent: "32" },
  ],
  [
    "32.1.d",
    "Regular testing of measures",
    "The effectiveness of the security measures is tested and evaluated regularly.",
    { parent: "32" },
  ],
  [
    "33",
    "Breach notification to the authority",
    "Personal data breaches are reported to the supervisory authority without undue delay, normally within 72 hours, and documented.",
  ],
]);

const TRANSFERS = defineControls(F, "transfers", [
  [
    "44",
    "General principle for transfers",
    "Personal data leaves the EU/EEA only when the conditions of the transfer chapter are met.",
  ],
  [
    "45",
    "Transfers on an adequacy decision",
    "Transfers may go to a country or organisation the Commission has found to give adequate protection.",
  ],
  [
    "46",
    "Transfers with appropriate safeguards",
    "Without adequacy, transfers need safeguards such as standard contractual clauses, with enforceable rights for data subjects.",
  ],
  [
    "47",
    "Binding corporate rules",
    "A corporate group may transfer within itself under binding rules approved by a supervisory authority.",
  ],
  [
    "48",
    "Foreign orders not based on EU law",
    "A third-country court or authority order alone does not justify a transfer unless backed by an international agreement.",
  ],
  [
    "49",
    "Derogations for specific situations",
    "Narrow exceptions, such as explicit consent or contract necessity, allow occasional transfers without adequacy or safeguards.",
  ],
]);

export const GDPR_CONTROLS: readonly Control[] = [
  ...PRINCIPLES,
  ...ACCOUNTABILITY,
  ...SECURITY,
  ...TRANSFERS,
];
