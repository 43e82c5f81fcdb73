import { defineControls } from "../define.ts";
import type { Control, Framework } from "../types.ts";

/**
 * Swedish patient data rules. Ids "pdl:<chapter>.<section>" are provisions of Socialstyrelsen's
 * regulation HSLF-FS 2016:40 (journalföring och behandling av personuppgifter i hälso- och
 * sjukvården); ids "pdl:PDL-<chapter>.<section>" are provisions of the Patient Data Act,
 * Patientdatalagen (2008:355). Summaries are our English paraphrases. Where the content of a
 * section was taken from secondary sources rather than checked against the regulation text,
 * the entry says so in `note`.
 */
export const PDL: Framework = {
  id: "pdl",
  name: "Patientdatalagen (2008:355) and HSLF-FS 2016:40",
  version: "SFS 2008:355; HSLF-FS 2016:40 (consolidated, as amended)",
  description:
    "Swedish rules for care providers handling patient data: the Patient Data Act and the National Board of Health and Welfare's regulation on record keeping and processing of personal data in health care, whose chapter 3 covers information security and chapter 4 access rights and access control.",
  url: "https://www.socialstyrelsen.se/kunskapsstod-och-regler/regler-och-riktlinjer/foreskrifter-och-allmanna-rad/konsoliderade-foreskrifter/201640-om-journalforing-och-behandling-av-personuppgifter-i-halso--och-sjukvarden/",
};

const F = PDL.id;

const UNVERIFIED =
  "Section content paraphrased from secondary sources (supervision decisions, vendor compliance mappings); not checked word by word against the regulation.";

const CHAPTER_3 = defineControls(F, "HSLF-FS 2016:40 ch. 3, information security", [
  [
    "3.1",
    "Provider responsible for information security",
    "The care provider answers for information security of patient data and runs it through its management system.",
    { note: UNVERIFIED },
  ],
  [
    "3.2",
    "Availability, integrity, confidentiality, traceability",
    "Through its management system the provider ensures patient data stays available, correct and confidential, and that actions in automated systems can be traced to a user.",
  ],
  [
    "3.9",
    "Security requirements when procuring systems",
    "When information systems for patient data are procured, the provider sets and follows up requirements that protect that data.",
    { note: UNVERIFIED },
  ],
  [
    "3.10",
    "Safe development, commissioning and change",
    "Developing, putting into service or changing an information system must not put the availability, integrity, confidentiality or traceability of patient data at risk.",
  ],
  [
    "3.12",
    "Regular backups kept apart",
    "Patient data in information systems is backed up on a fixed schedule and the copies are stored securely, well separated from the originals.",
  ],
  [
    "3.13",
    "Backup retention and restore tests",
    "The provider decides how long backups are kept and how often restoring from them is tested.",
  ],
  [
    "3.14",
    "Physical protection of information systems",
    "Equipment and information systems that process patient data are physically protected against damage and unauthorised access.",
    { note: UNVERIFIED },
  ],
  [
    "3.15",
    "Open networks: protected transfer and strong authentication",
    "When open networks are used, patient data is transferred so outsiders cannot read it, and electronic or direct access requires strong authentication.",
  ],
  [
    "3.18",
    "Yearly evaluation of protection against intrusion",
    "Once a year the provider evaluates how well networks and systems are protected against unauthorised access from inside and outside.",
  ],
]);

const CHAPTER_4 = defineControls(F, "HSLF-FS 2016:40 ch. 4, access rights and access control", [
  [
    "4.2",
    "Needs-and-risk analysis before granting access",
    "Before access rights to patient data are assigned, the provider analyses what each user needs and what risks access brings, and assigns individual rights from that.",
    { note: UNVERIFIED },
  ],
  [
    "4.3",
    "Managing assigned access rights",
    "Assigned access rights are limited to what each user's work requires, documented and kept current.",
    { note: UNVERIFIED },
  ],
  [
    "4.9",
    "Access logs and log checks",
    "Logs show who did what to which patient's data, where and when; they are checked systematically by sampling, the checks are documented, and logs are kept at least five years.",
  ],
]);

const PATIENT_DATA_ACT = defineControls(F, "Patientdatalagen (2008:355) ch. 4", [
  [
    "PDL-4.1",
    "Inner confidentiality",
    "Staff may access a patient's data only when they take part in that patient's care or otherwise need the data for their work in health care.",
  ],
  [
    "PDL-4.2",
    "Conditions for access rights",
    "The care provider sets the conditions for granting access to patient data in electronic form, restricted to what each user needs.",
  ],
  [
    "PDL-4.3",
    "Access documentation and systematic checks",
    "The provider ensures every access to patient data in electronic form is recorded and that recurring, systematic checks look for unauthorised access.",
  ],
]);

export const PDL_CONTROLS: readonly Control[] = [...CHAPTER_3, ...CHAPTER_4, ...PATIENT_DATA_ACT];
