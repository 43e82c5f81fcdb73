import { homedir } from "node:os";
import { join } from "node:path";

/**
 * The one place vakt reads its environment. Every setting has a name, an environment
 * variable, a default and a description; commands take flags that override these.
 * Nothing else in the code base reads process.env (the linter enforces it).
 */
export interface SettingSpec {
  readonly name: string;
  readonly env: string;
  readonly description: string;
  readonly default: () => string;
}

const cacheHome = (): string => process.env["XDG_CACHE_HOME"] ?? join(homedir(), ".cache");

export const SETTINGS = {
  home: {
    name: "home",
    env: "VAKT_HOME",
    description: "Where vakt keeps local state (the dev control plane's data, logs and kubeconfig).",
    default: (): string => join(homedir(), ".vakt"),
  },
  toolsCache: {
    name: "tools-cache",
    env: "VAKT_TOOLS_CACHE",
    description: "Cache of the control-plane binaries built from Go modules by scripts/build-tools.sh.",
    default: (): string => join(cacheHome(), "vakt", "tools"),
  },
  binDir: {
    name: "bin-dir",
    env: "VAKT_BIN_DIR",
    description:
      "Directory holding etcd, kube-apiserver, kube-controller-manager, kubectl and kwok; defaults to <tools-cache>/current/bin.",
    default: (): string => join(setting("toolsCache"), "current", "bin"),
  },
  backupBinDir: {
    name: "backup-bin-dir",
    env: "VAKT_BACKUP_BIN_DIR",
    description:
      "Directory holding velero, plugins/velero-plugin-for-aws and versitygw (scripts/build-backup-tools.sh); defaults to <tools-cache>/backup-current/bin.",
    default: (): string => join(setting("toolsCache"), "backup-current", "bin"),
  },
  kubeconfig: {
    name: "kubeconfig",
    env: "KUBECONFIG",
    description: "Kubeconfig for commands that talk to a cluster.",
    default: (): string => join(homedir(), ".kube", "config"),
  },
  logLevel: {
    name: "log-level",
    env: "VAKT_LOG_LEVEL",
    description: "pino log level: trace, debug, info, warn, error.",
    default: (): string => "info",
  },
  evidenceUrl: {
    name: "evidence-url",
    env: "VAKT_EVIDENCE_URL",
    description:
      "The evidence history: a postgres:// URL, or a directory for the embedded database (PGlite); defaults to <home>/evidence.",
    default: (): string => join(setting("home"), "evidence"),
  },
  clusterName: {
    name: "cluster-name",
    env: "VAKT_CLUSTER_NAME",
    description: "The cluster's name in evidence records and reports.",
    default: (): string => "default",
  },
  oscalSchemaDir: {
    name: "oscal-schema-dir",
    env: "VAKT_OSCAL_SCHEMA_DIR",
    description:
      "Tests: the directory holding NIST's OSCAL JSON schema (it has no package to fetch it from); scripts/setup.sh copies it here from ../shared/schemas/oscal/ when that folder is beside the clone.",
    default: (): string => join(cacheHome(), "vakt", "schemas", "oscal"),
  },
  testPostgresUrl: {
    name: "test-postgres-url",
    env: "VAKT_TEST_POSTGRES_URL",
    description:
      "Set by `npm test`: URL of the PostgreSQL server shared by the tests (started once per run).",
    default: (): string => "",
  },
  testKubeconfig: {
    name: "test-kubeconfig",
    env: "VAKT_TEST_KUBECONFIG",
    description: "Set by `npm test`: kubeconfig of the control plane shared by the integration tests.",
    default: (): string => "",
  },
  testBinDir: {
    name: "test-bin-dir",
    env: "VAKT_TEST_BIN_DIR",
    description: "Set by `npm test`: directory of the control-plane binaries used by the tests.",
    default: (): string => "",
  },
  updateGolden: {
    name: "update-golden",
    env: "UPDATE_GOLDEN",
    description:
      "Set to 1 when running tests to rewrite golden files (test/golden) instead of comparing with them.",
    default: (): string => "",
  },
  noColor: {
    name: "no-color",
    env: "NO_COLOR",
    description: "Set (to anything) to disable colour in text output.",
    default: (): string => "",
  },
} as const satisfies Record<string, SettingSpec>;

export type SettingName = keyof typeof SETTINGS;

/** The effective value of a setting: its environment variable when set and non-empty, else the default. */
export function setting(name: SettingName): string {
  const spec: SettingSpec = SETTINGS[name];
  const value = process.env[spec.env];
  return value !== undefined && value !== "" ? value : spec.default();
}

/** Whether the environment variable of a setting is present at all (NO_COLOR semantics). */
export function settingPresent(name: SettingName): boolean {
  return process.env[SETTINGS[name].env] !== undefined;
}
