import { defineControls } from "../define.ts";
import type { Control, Framework } from "../types.ts";

/**
 * HIPAA Security Rule technical safeguards, 45 CFR 164.312. Standards carry the paragraph
 * number; implementation specifications are children of their standard. "Required" and
 * "addressable" follow the rule as in force, not the 2025 proposed amendments.
 */
export const HIPAA: Framework = {
  id: "hipaa",
  name: "HIPAA Security Rule, technical safeguards (45 CFR 164.312)",
  version: "45 CFR 164.312",
  description:
    "The US rule on safeguarding electronic protected health information. The catalog lists the technical safeguards section: access control, audit controls, integrity, authentication and transmission security.",
  url: "https://www.ecfr.gov/current/title-45/subtitle-A/subchapter-C/part-164/subpart-C/section-164.312",
};

const F = HIPAA.id;

export const HIPAA_CONTROLS: readonly Control[] = [
  ...defineControls(F, "access control", [
    [
      "164.312(a)(1)",
      "Access control",
      "Systems holding ePHI let only authorised persons or software reach it.",
    ],
    [
      "164.312(a)(2)(i)",
      "Unique user identification",
      "Required: each user gets a unique name or number so activity can be traced to them.",
      { parent: "164.312(a)(1)" },
    ],
    [
      "164.312(a)(2)(ii)",
      "Emergency access procedure",
      "Required: there is a way to get at necessary ePHI during an emergency.",
      { parent: "164.312(a)(1)" },
    ],
    [
      "164.312(a)(2)(iii)",
      "Automatic logoff",
      "Addressable: sessions end automatically after a set period of inactivity.",
      { parent: "164.312(a)(1)" },
    ],
    [
      "164.312(a)(2)(iv)",
      "Encryption and decryption",
      "Addressable: ePHI can be encrypted and decrypted by a mechanism.",
      { parent: "164.312(a)(1)" },
    ],
  ]),
  ...defineControls(F, "audit controls", [
    [
      "164.312(b)",
      "Audit controls",
      "Hardware, software or procedures record and let you examine activity in systems that hold ePHI.",
    ],
  ]),
  ...defineControls(F, "integrity", [
    ["164.312(c)(1)", "Integrity", "ePHI is protected from being altered or destroyed improperly."],
    [
      "164.312(c)(2)",
      "Mechanism to authenticate ePHI",
      "Addressable: electronic means confirm that ePHI has not been altered or destroyed improperly.",
      { parent: "164.312(c)(1)" },
    ],
  ]),
  ...defineControls(F, "authentication", [
    [
      "164.312(d)",
      "Person or entity authentication",
      "Anyone seeking access to ePHI is verified to be who or what they claim to be.",
    ],
  ]),
  ...defineControls(F, "transmission security", [
    [
      "164.312(e)(1)",
      "Transmission security",
      "ePHI sent over electronic networks is guarded against unauthorised access.",
    ],
    [
      "164.312(e)(2)(i)",
      "Integrity controls in transit",
      "Addressable: ePHI in transit cannot be changed undetected before it is disposed of.",
      { parent: "164.312(e)(1)" },
    ],
    [
      "164.312(e)(2)(ii)",
      "Encryption in transit",
      "Addressable: ePHI is encrypted whenever that is deemed appropriate.",
      { parent: "164.312(e)(1)" },
    ],
  ]),
];
