import { defineControls } from "../define.ts";
import type { Control, Framework } from "../types.ts";

/**
 * ISO/IEC 27001:2022 Annex A. Numbers follow the standard; titles are short labels and
 * summaries are our own one-line paraphrases, not the standard's control text.
 */
export const ISO27001: Framework = {
  id: "iso27001",
  name: "ISO/IEC 27001:2022 Annex A",
  version: "2022",
  description:
    "The reference list of information security controls attached to the ISO/IEC 27001 management-system standard, in four themes: organizational, people, physical and technological.",
  url: "https://www.iso.org/standard/27001",
};

const F = ISO27001.id;

const ORGANIZATIONAL = defineControls(F, "organizational", [
  [
    "A.5.1",
    "Information security policies",
    "Management approves, publishes and periodically reviews a security policy and the topic policies under it.",
  ],
  [
    "A.5.2",
    "Security roles and responsibilities",
    "Who is responsible for which part of information security is decided and written down.",
  ],
  [
    "A.5.3",
    "Segregation of duties",
    "Duties that would let one person both commit and hide misuse are split between different people.",
  ],
  [
    "A.5.4",
    "Management responsibilities",
    "Managers make staff follow the security policies and procedures that apply to them.",
  ],
  [
    "A.5.5",
    "Contact with authorities",
    "The organization knows and keeps in touch with the authorities it must report to or may need.",
  ],
  [
    "A.5.6",
    "Contact with special interest groups",
    "The organization keeps in touch with security forums and professional groups to stay informed.",
  ],
  [
    "A.5.7",
    "Threat intelligence",
    "Information about current threats is gathered and analysed so it can inform protective measures.",
  ],
  [
    "A.5.8",
    "Security in project management",
    "Every project considers and handles information security from its start.",
  ],
  [
    "A.5.9",
    "Asset inventory",
    "Information and the assets that hold or process it are listed, each with an owner.",
  ],
  [
    "A.5.10",
    "Acceptable use of assets",
    "Rules for using and handling information and assets are set, documented and applied.",
  ],
  [
    "A.5.11",
    "Return of assets",
    "People leaving or changing role hand back the organization's assets they hold.",
  ],
  [
    "A.5.12",
    "Information classification",
    "Information is classified by its confidentiality, integrity and availability needs.",
  ],
  [
    "A.5.13",
    "Information labelling",
    "Information is labelled according to its classification so handling rules can be followed.",
  ],
  [
    "A.5.14",
    "Information transfer",
    "Rules or agreements protect information whenever it is transferred, inside or outside the organization.",
  ],
  [
    "A.5.15",
    "Access control",
    "Rules for logical and physical access are set from business and security needs and enforced.",
  ],
  [
    "A.5.16",
    "Identity management",
    "Identities of people and systems are managed over their whole life cycle.",
  ],
  [
    "A.5.17",
    "Authentication information",
    "Passwords, keys and other secrets are issued, stored and handled under a controlled process.",
  ],
  [
    "A.5.18",
    "Access rights",
    "Access rights are granted, reviewed, changed and removed according to the access policy.",
  ],
  [
    "A.5.19",
    "Security in supplier relationships",
    "Risks from using suppliers' products and services are identified and managed.",
  ],
  [
    "A.5.20",
    "Security in supplier agreements",
    "Security requirements are agreed with each supplier according to the kind of relationship.",
  ],
  [
    "A.5.21",
    "ICT supply chain security",
    "Security risks in the supply chain of ICT products and services are managed.",
  ],
  [
    "A.5.22",
    "Supplier service monitoring and change",
    "Supplier security practices and service delivery are monitored, reviewed and changes are managed.",
  ],
  [
    "A.5.23",
    "Security for cloud services",
    "Acquiring, using, managing and leaving cloud services follows the organization's security requirements.",
  ],
  [
    "A.5.24",
    "Incident management planning",
    "Processes, roles and responsibilities for handling security incidents are defined in advance.",
  ],
  [
    "A.5.25",
    "Assessing security events",
    "Security events are assessed to decide whether they count as incidents.",
  ],
  [
    "A.5.26",
    "Responding to incidents",
    "Security incidents are responded to following documented procedures.",
  ],
  ["A.5.27", "Learning from incidents", "What is learned from incidents is used to strengthen controls."],
  [
    "A.5.28",
    "Collection of evidence",
    "Evidence about security events is identified, collected and preserved in a reliable way.",
  ],
  [
    "A.5.29",
    "Security during disruption",
    "Information security is kept at an appropriate level while operations are disrupted.",
  ],
  [
    "A.5.30",
    "ICT readiness for business continuity",
    "ICT is planned, tested and maintained so it can be recovered in time to meet continuity goals.",
  ],
  [
    "A.5.31",
    "Legal and contractual requirements",
    "Legal, regulatory and contractual security requirements are identified, documented and kept current.",
  ],
  [
    "A.5.32",
    "Intellectual property rights",
    "Procedures protect intellectual property, including proper licensing of software.",
  ],
  [
    "A.5.33",
    "Protection of records",
    "Records are protected against loss, destruction, falsification and unauthorised access or release.",
  ],
  [
    "A.5.34",
    "Privacy and PII protection",
    "Personal data is protected in line with applicable privacy law and contracts.",
  ],
  [
    "A.5.35",
    "Independent security review",
    "The way security is managed is reviewed independently at planned intervals and after major changes.",
  ],
  [
    "A.5.36",
    "Compliance with security policies",
    "Conformance with the security policy, topic policies, rules and standards is regularly checked.",
  ],
  [
    "A.5.37",
    "Documented operating procedures",
    "Operating procedures for information processing are written down and available to those who need them.",
  ],
]);

const PEOPLE = defineControls(F, "people", [
  [
    "A.6.1",
    "Screening",
    "Candidates are background-checked before joining, proportionate to the role and the law.",
  ],
  [
    "A.6.2",
    "Terms of employment",
    "Employment contracts state the security responsibilities of staff and organization.",
  ],
  [
    "A.6.3",
    "Awareness, education and training",
    "Staff receive security awareness and training suited to their role, kept up to date.",
  ],
  ["A.6.4", "Disciplinary process", "A known disciplinary process exists for breaches of security policy."],
  [
    "A.6.5",
    "Duties after leaving or changing role",
    "Security duties that continue after employment ends or changes are defined and enforced.",
  ],
  [
    "A.6.6",
    "Confidentiality agreements",
    "Confidentiality or non-disclosure agreements reflect protection needs and are signed and reviewed.",
  ],
  [
    "A.6.7",
    "Remote working",
    "Measures protect information accessed, processed or stored when people work away from the premises.",
  ],
  [
    "A.6.8",
    "Reporting security events",
    "Staff have a way to report observed or suspected security events quickly.",
  ],
]);

const PHYSICAL = defineControls(F, "physical", [
  [
    "A.7.1",
    "Physical perimeters",
    "Areas holding information and assets are protected by defined physical perimeters.",
  ],
  ["A.7.2", "Physical entry", "Entry to secure areas is controlled so only authorised people get in."],
  [
    "A.7.3",
    "Securing offices and facilities",
    "Offices, rooms and facilities are designed and run with physical security in mind.",
  ],
  [
    "A.7.4",
    "Physical security monitoring",
    "Premises are watched continuously for unauthorised physical access.",
  ],
  [
    "A.7.5",
    "Physical and environmental threats",
    "Protection exists against natural disasters, fire, flooding and other physical threats.",
  ],
  ["A.7.6", "Working in secure areas", "Rules govern how work is done inside secure areas."],
  ["A.7.7", "Clear desk and clear screen", "Papers, media and screens are not left exposed when unattended."],
  [
    "A.7.8",
    "Equipment siting and protection",
    "Equipment is placed and protected to reduce physical and environmental risks.",
  ],
  ["A.7.9", "Assets off-premises", "Assets used outside the organization's premises are protected."],
  [
    "A.7.10",
    "Storage media",
    "Storage media are managed through acquisition, use, transport and disposal according to classification.",
  ],
  [
    "A.7.11",
    "Supporting utilities",
    "Power, cooling and other utilities are protected against failures and disruption.",
  ],
  [
    "A.7.12",
    "Cabling security",
    "Power and data cables are protected from interception, interference and damage.",
  ],
  [
    "A.7.13",
    "Equipment maintenance",
    "Equipment is maintained so information stays available, intact and confidential.",
  ],
  [
    "A.7.14",
    "Secure disposal or reuse",
    "Sensitive data and licensed software are removed or securely overwritten before equipment is disposed of or reused.",
  ],
]);

const TECHNOLOGICAL = defineControls(F, "technological", [
  [
    "A.8.1",
    "User endpoint devices",
    "Information stored on, processed by or reachable from user devices is protected.",
  ],
  [
    "A.8.2",
    "Privileged access rights",
    "Privileged access is restricted, granted deliberately and managed closely.",
  ],
  [
    "A.8.3",
    "Information access restriction",
    "Access to information and other assets is limited according to the access policy.",
  ],
  [
    "A.8.4",
    "Access to source code",
    "Read and write access to source code, tools and libraries is appropriately managed.",
  ],
  [
    "A.8.5",
    "Secure authentication",
    "Authentication methods and technology match the sensitivity of what they protect.",
  ],
  [
    "A.8.6",
    "Capacity management",
    "Resource use is monitored and adjusted against current and expected capacity needs.",
  ],
  [
    "A.8.7",
    "Protection against malware",
    "Technical measures and user awareness together protect against malicious software.",
  ],
  [
    "A.8.8",
    "Technical vulnerability management",
    "Vulnerabilities in systems in use are found, assessed for exposure and remediated.",
  ],
  [
    "A.8.9",
    "Configuration management",
    "Secure configurations of hardware, software, services and networks are defined, applied, monitored and reviewed.",
  ],
  [
    "A.8.10",
    "Information deletion",
    "Information is deleted when no longer needed, from systems, devices and storage media.",
  ],
  [
    "A.8.11",
    "Data masking",
    "Data is masked, pseudonymised or anonymised where policy, law or risk calls for it.",
  ],
  [
    "A.8.12",
    "Data leakage prevention",
    "Measures detect and prevent unauthorised disclosure or extraction of sensitive information.",
  ],
  [
    "A.8.13",
    "Information backup",
    "Backups of information, software and systems are kept and regularly tested against an agreed policy.",
  ],
  [
    "A.8.14",
    "Redundancy of processing facilities",
    "Processing facilities have enough redundancy to meet availability requirements.",
  ],
  [
    "A.8.15",
    "Logging",
    "Logs of activities, exceptions, faults and other relevant events are produced, stored, protected and analysed.",
  ],
  [
    "A.8.16",
    "Monitoring activities",
    "Networks, systems and applications are watched for anomalous behaviour and responded to.",
  ],
  ["A.8.17", "Clock synchronisation", "System clocks are synchronised to approved time sources."],
  [
    "A.8.18",
    "Privileged utility programs",
    "Utilities that can override system or application controls are restricted and tightly controlled.",
  ],
  [
    "A.8.19",
    "Software installation on operational systems",
    "Installing software on operational systems is done under controlled procedures.",
  ],
  [
    "A.8.20",
    "Network security",
    "Networks and network devices are secured, managed and controlled to protect the information on them.",
  ],
  [
    "A.8.21",
    "Security of network services",
    "Security mechanisms, service levels and requirements of network services are defined and monitored.",
  ],
  [
    "A.8.22",
    "Network segregation",
    "Groups of services, users and systems are separated from each other on the network.",
  ],
  [
    "A.8.23",
    "Web filtering",
    "Access to external websites is managed to reduce exposure to malicious content.",
  ],
  [
    "A.8.24",
    "Use of cryptography",
    "Rules for effective use of cryptography, including key management, are defined and applied.",
  ],
  [
    "A.8.25",
    "Secure development life cycle",
    "Rules for developing software and systems securely are set and followed.",
  ],
  [
    "A.8.26",
    "Application security requirements",
    "Security requirements are identified and approved when building or acquiring applications.",
  ],
  [
    "A.8.27",
    "Secure architecture and engineering",
    "Principles for engineering secure systems are set, documented, maintained and applied.",
  ],
  ["A.8.28", "Secure coding", "Software is written following secure coding principles."],
  [
    "A.8.29",
    "Security testing",
    "Security testing is defined and carried out during development and before acceptance.",
  ],
  [
    "A.8.30",
    "Outsourced development",
    "Development done by others is directed, monitored and reviewed by the organization.",
  ],
  [
    "A.8.31",
    "Separation of environments",
    "Development, test and production environments are kept separate and each is secured.",
  ],
  [
    "A.8.32",
    "Change management",
    "Changes to processing facilities and information systems go through change management.",
  ],
  ["A.8.33", "Test information", "Information used for testing is chosen with care, protected and managed."],
  [
    "A.8.34",
    "Protecting systems during audit testing",
    "Audit tests on operational systems are planned and agreed so they do not harm operations.",
  ],
]);

export const ISO27001_CONTROLS: readonly Control[] = [
  ...ORGANIZATIONAL,
  ...PEOPLE,
  ...PHYSICAL,
  ...TECHNOLOGICAL,
];
