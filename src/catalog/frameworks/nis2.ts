import { defineControls } from "../define.ts";
import type { Control, Framework } from "../types.ts";

/** NIS2 Article 21(2): the minimum cybersecurity risk-management measures, points (a) to (j). */
export const NIS2: Framework = {
  id: "nis2",
  name: "NIS2 Directive (EU) 2022/2555",
  version: "2022/2555",
  description:
    "The EU directive on a high common level of cybersecurity. The catalog lists the ten minimum risk-management measures that essential and important entities must take under Article 21(2).",
  url: "https://eur-lex.europa.eu/eli/dir/2022/2555/oj",
};

export const NIS2_CONTROLS: readonly Control[] = defineControls(NIS2.id, "article 21(2)", [
  [
    "21.2.a",
    "Risk analysis and security policies",
    "Policies exist for analysing risk and for the security of network and information systems.",
  ],
  ["21.2.b", "Incident handling", "Incidents are prevented, detected, analysed, contained and responded to."],
  [
    "21.2.c",
    "Business continuity",
    "Backups, disaster recovery and crisis management keep the service running or bring it back.",
  ],
  [
    "21.2.d",
    "Supply chain security",
    "Security in the relationships with direct suppliers and service providers is managed.",
  ],
  [
    "21.2.e",
    "Secure acquisition, development and maintenance",
    "Systems are acquired, built and maintained securely, including handling and disclosing vulnerabilities.",
  ],
  [
    "21.2.f",
    "Assessing measure effectiveness",
    "Policies and procedures check whether the cybersecurity risk-management measures actually work.",
  ],
  [
    "21.2.g",
    "Cyber hygiene and training",
    "Basic cyber hygiene practices are followed and people are trained in cybersecurity.",
  ],
  [
    "21.2.h",
    "Cryptography and encryption",
    "Policies and procedures govern the use of cryptography and, where fitting, encryption.",
  ],
  [
    "21.2.i",
    "HR security, access control and assets",
    "Personnel security, access control policies and asset management are in place.",
  ],
  [
    "21.2.j",
    "Strong authentication and secure communications",
    "Multi-factor or continuous authentication and secured voice, video, text and emergency communications are used where fitting.",
  ],
]);
