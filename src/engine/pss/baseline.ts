/**
 * Baseline Pod Security Standards checks: they forbid known privilege escalations and apply at
 * both the baseline and restricted levels. Semantics follow k8s.io/pod-security-admission
 * (policy/check_*.go), version by version; each check notes the versions it changed at.
 */
import type { Violation } from "../types.ts";
import { isDict } from "../workloads.ts";
import { pssRule } from "./define.ts";
import type { PssRule } from "./define.ts";
import {
  annotationField,
  containerField,
  describeContainer,
  dictOrUndefined,
  goString,
  inUserNamespace,
  podSecurityContextOf,
  isSet,
  NO_VIOLATIONS,
  securityContextOf,
  specField,
} from "./pod.ts";
import type { PodView } from "./pod.ts";

// ---------------------------------------------------------------------------------------------
// Host namespaces (v1.0): spec.hostNetwork, spec.hostPID, spec.hostIPC must be unset or false.

const HOST_NAMESPACE_FIELDS = ["hostNetwork", "hostPID", "hostIPC"] as const;

export const hostNamespaces: PssRule = pssRule({
  id: "pss-host-namespaces",
  upstreamId: "hostNamespaces",
  level: "baseline",
  since: 0,
  title: "Pods must not share the host's network, PID or IPC namespace",
  rationale:
    "Sharing host namespaces lets a pod see and talk to host processes and interfaces, bypassing container isolation and network segregation.",
  fix: "Remove spec.hostNetwork, spec.hostPID and spec.hostIPC (or set them to false).",
  controls: ["iso27001:A.8.22", "iso27001:A.8.27", "nis2:21.2.e", "gdpr:32"],
  evidenceBoundary:
    "A pass shows the pod spec does not request host namespaces; it says nothing about node-level isolation or what other pods on the node do.",
  evaluate(view) {
    let found: Violation[] | undefined;
    for (const field of HOST_NAMESPACE_FIELDS) {
      if (view.spec[field] === true) {
        (found ??= []).push({
          path: specField(view, field),
          message: `pod must not set ${field}=true`,
        });
      }
    }
    return found ?? NO_VIOLATIONS;
  },
});

// ---------------------------------------------------------------------------------------------
// Privileged containers (v1.0): securityContext.privileged must be unset or false.

export const privileged: PssRule = pssRule({
  id: "pss-privileged",
  upstreamId: "privileged",
  level: "baseline",
  since: 0,
  title: "Containers must not run privileged",
  rationale:
    "A privileged container has nearly all host capabilities and device access: a container escape is one step away.",
  fix: "Remove securityContext.privileged (or set it to false) on every container, init container and ephemeral container.",
  controls: ["iso27001:A.8.2", "iso27001:A.8.9", "nis2:21.2.i", "gdpr:32", "hipaa:164.312(a)(1)", "pdl:3.2"],
  evidenceBoundary:
    "A pass shows no container asks for privileged mode; capabilities, host mounts and other escalation paths are separate checks.",
  evaluate(view) {
    let found: Violation[] | undefined;
    for (const container of view.containers) {
      if (securityContextOf(container)?.["privileged"] === true) {
        (found ??= []).push({
          path: containerField(container, "securityContext", "privileged"),
          message: `${describeContainer(container)} must not set securityContext.privileged=true`,
        });
      }
    }
    return found ?? NO_VIOLATIONS;
  },
});

// ---------------------------------------------------------------------------------------------
// Capabilities (v1.0): capabilities.add only from the runtime's default set.

const BASELINE_CAPABILITIES: ReadonlySet<string> = new Set([
  "AUDIT_WRITE",
  "CHOWN",
  "DAC_OVERRIDE",
  "FOWNER",
  "FSETID",
  "KILL",
  "MKNOD",
  "NET_BIND_SERVICE",
  "SETFCAP",
  "SETGID",
  "SETPCAP",
  "SETUID",
  "SYS_CHROOT",
]);

export const capabilitiesBaseline: PssRule = pssRule({
  id: "pss-capabilities-baseline",
  upstreamId: "capabilities_baseline",
  level: "baseline",
  since: 0,
  overriddenBy: { id: "pss-capabilities-restricted", since: 22 },
  title: "Containers must not add capabilities beyond the default set",
  rationale:
    "Capabilities such as SYS_ADMIN, NET_ADMIN or NET_RAW grant pieces of root's power on the node and widen the attack surface.",
  fix: "Remove capabilities.add entries other than AUDIT_WRITE, CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, MKNOD, NET_BIND_SERVICE, SETFCAP, SETGID, SETPCAP, SETUID and SYS_CHROOT.",
  controls: ["iso27001:A.8.2", "iso27001:A.8.9", "nis2:21.2.i", "gdpr:32"],
  evidenceBoundary:
    "A pass shows no extra capability is requested; the default set the container runtime grants is still in effect unless dropped.",
  evaluate(view) {
    let found: Violation[] | undefined;
    for (const container of view.containers) {
      const capabilities = dictOrUndefined(securityContextOf(container)?.["capabilities"]);
      const add = capabilities?.["add"];
      if (!Array.isArray(add)) continue;
      add.forEach((capability: unknown, index) => {
        const name = goString(capability);
        if (BASELINE_CAPABILITIES.has(name)) return;
        (found ??= []).push({
          path: containerField(container, "securityContext", "capabilities", "add", index),
          message: `${describeContainer(container)} must not include ${JSON.stringify(name)} in securityContext.capabilities.add`,
        });
      });
    }
    return found ?? NO_VIOLATIONS;
  },
});

// ---------------------------------------------------------------------------------------------
// HostPath volumes (v1.0): spec.volumes[*].hostPath must be unset.

export const hostPathVolumes: PssRule = pssRule({
  id: "pss-host-path-volumes",
  upstreamId: "hostPathVolumes",
  level: "baseline",
  since: 0,
  overriddenBy: { id: "pss-restricted-volumes", since: 0 },
  title: "Pods must not mount hostPath volumes",
  rationale:
    "A hostPath volume exposes the node's filesystem to the pod: credentials, other pods' data, the container runtime socket.",
  fix: "Replace hostPath volumes with persistentVolumeClaim, emptyDir, configMap, secret or CSI volumes.",
  controls: ["iso27001:A.8.27", "iso27001:A.5.15", "gdpr:32", "hipaa:164.312(a)(1)", "pdl:3.2"],
  evidenceBoundary:
    "A pass shows the pod declares no hostPath volume; a CSI driver or persistent volume may still be backed by node storage.",
  evaluate(view) {
    const volumes = view.spec["volumes"];
    if (!Array.isArray(volumes)) return NO_VIOLATIONS;
    let found: Violation[] | undefined;
    volumes.forEach((volume: unknown, index) => {
      if (!isDict(volume) || !isSet(volume["hostPath"])) return;
      (found ??= []).push({
        path: specField(view, "volumes", index, "hostPath"),
        message: `volume ${JSON.stringify(goString(volume["name"]))} must not use hostPath`,
      });
    });
    return found ?? NO_VIOLATIONS;
  },
});

// ---------------------------------------------------------------------------------------------
// Host ports (v1.0): containers[*].ports[*].hostPort must be unset or 0.

export const hostPorts: PssRule = pssRule({
  id: "pss-host-ports",
  upstreamId: "hostPorts",
  level: "baseline",
  since: 0,
  title: "Containers must not bind host ports",
  rationale:
    "A host port exposes the pod directly on the node's network, outside Services and NetworkPolicy segmentation.",
  fix: "Remove ports[].hostPort (or set it to 0) and expose the workload through a Service or Ingress.",
  controls: ["iso27001:A.8.22", "iso27001:A.8.9", "nis2:21.2.e"],
  evidenceBoundary:
    "A pass shows no container binds a host port; hostNetwork pods and NodePort Services expose node ports by other means.",
  evaluate(view) {
    let found: Violation[] | undefined;
    for (const container of view.containers) {
      const ports = container.container["ports"];
      if (!Array.isArray(ports)) continue;
      ports.forEach((port: unknown, index) => {
        if (!isDict(port)) return;
        const hostPort = port["hostPort"];
        if (!isSet(hostPort) || hostPort === 0) return;
        (found ??= []).push({
          path: containerField(container, "ports", index, "hostPort"),
          message: `${describeContainer(container)} must not use hostPort ${goString(hostPort)}`,
        });
      });
    }
    return found ?? NO_VIOLATIONS;
  },
});

// ---------------------------------------------------------------------------------------------
// AppArmor (v1.0, amended in place upstream): the appArmorProfile fields (pod and containers)
// must be RuntimeDefault or Localhost, and the deprecated per-container annotations must be
// empty, "runtime/default" or "localhost/…". Both channels apply at every policy version.

const APPARMOR_ANNOTATION_PREFIX = "container.apparmor.security.beta.kubernetes.io/";
const ALLOWED_APPARMOR_TYPES: ReadonlySet<string> = new Set(["RuntimeDefault", "Localhost"]);

function allowedAppArmorAnnotation(value: string): boolean {
  return value === "" || value === "runtime/default" || value.startsWith("localhost/");
}

export const appArmor: PssRule = pssRule({
  id: "pss-apparmor",
  upstreamId: "appArmorProfile",
  level: "baseline",
  since: 0,
  title: "AppArmor must not be disabled or overridden with an unconfined profile",
  rationale:
    "The runtime's default AppArmor profile confines what a compromised container can do; Unconfined removes that layer.",
  fix: 'Leave appArmorProfile unset or set type to "RuntimeDefault" or "Localhost"; remove container.apparmor.security.beta.kubernetes.io annotations set to "unconfined".',
  controls: ["iso27001:A.8.9", "iso27001:A.8.27", "nis2:21.2.e"],
  evidenceBoundary:
    "A pass shows no profile is switched off; it does not prove the node enforces AppArmor or that a Localhost profile is restrictive.",
  evaluate(view) {
    let found: Violation[] | undefined;
    const podProfile = podSecurityContextOf(view)?.["appArmorProfile"];
    if (isSet(podProfile)) {
      const type = isDict(podProfile) ? goString(podProfile["type"]) : "";
      if (!ALLOWED_APPARMOR_TYPES.has(type)) {
        (found ??= []).push({
          path: specField(view, "securityContext", "appArmorProfile", "type"),
          message: `pod must not set securityContext.appArmorProfile.type to ${JSON.stringify(type)}`,
        });
      }
    }
    for (const container of view.containers) {
      const profile = securityContextOf(container)?.["appArmorProfile"];
      if (!isSet(profile)) continue;
      const type = isDict(profile) ? goString(profile["type"]) : "";
      if (ALLOWED_APPARMOR_TYPES.has(type)) continue;
      (found ??= []).push({
        path: containerField(container, "securityContext", "appArmorProfile", "type"),
        message: `${describeContainer(container)} must not set securityContext.appArmorProfile.type to ${JSON.stringify(type)}`,
      });
    }
    const annotations = view.template.metadata["annotations"];
    if (isDict(annotations)) {
      for (const key in annotations) {
        if (!key.startsWith(APPARMOR_ANNOTATION_PREFIX)) continue;
        const value = goString(annotations[key]);
        if (allowedAppArmorAnnotation(value)) continue;
        (found ??= []).push({
          path: annotationField(view, key),
          message: `annotation ${key}=${JSON.stringify(value)} sets a forbidden AppArmor profile`,
        });
      }
    }
    return found ?? NO_VIOLATIONS;
  },
});

// ---------------------------------------------------------------------------------------------
// SELinux (v1.0; v1.31 adds container_engine_t): seLinuxOptions.type from an allowed set,
// user and role unset, at pod and container level.

const SELINUX_TYPES_1_0: ReadonlySet<string> = new Set([
  "",
  "container_t",
  "container_init_t",
  "container_kvm_t",
]);
const SELINUX_TYPES_1_31: ReadonlySet<string> = new Set([...SELINUX_TYPES_1_0, "container_engine_t"]);

function seLinuxViolations(
  options: unknown,
  basePath: readonly (string | number)[],
  who: string,
  allowedTypes: ReadonlySet<string>,
  found: Violation[] | undefined,
): Violation[] | undefined {
  if (!isSet(options)) return found;
  const dict = isDict(options) ? options : {};
  const type = goString(dict["type"]);
  if (!allowedTypes.has(type)) {
    (found ??= []).push({
      path: [...basePath, "type"],
      message: `${who} must not set securityContext.seLinuxOptions.type to ${JSON.stringify(type)}`,
    });
  }
  for (const field of ["user", "role"] as const) {
    if (goString(dict[field]) !== "") {
      (found ??= []).push({
        path: [...basePath, field],
        message: `${who} must not set securityContext.seLinuxOptions.${field}`,
      });
    }
  }
  return found;
}

export const seLinux: PssRule = pssRule({
  id: "pss-selinux",
  upstreamId: "seLinuxOptions",
  level: "baseline",
  since: 0,
  title: "SELinux options must not set a custom user, role or privileged type",
  rationale:
    "A custom SELinux type, user or role can lift the mandatory access control that separates containers from the host.",
  fix: "Remove seLinuxOptions.user and .role; leave .type unset or use container_t, container_init_t, container_kvm_t (or container_engine_t from v1.31).",
  controls: ["iso27001:A.8.9", "iso27001:A.5.15", "nis2:21.2.e"],
  evidenceBoundary:
    "A pass shows no SELinux override is requested; it does not prove SELinux is enforcing on the nodes.",
  evaluate(view, minor) {
    const allowed = minor >= 31 ? SELINUX_TYPES_1_31 : SELINUX_TYPES_1_0;
    let found = seLinuxViolations(
      podSecurityContextOf(view)?.["seLinuxOptions"],
      specField(view, "securityContext", "seLinuxOptions"),
      "pod",
      allowed,
      undefined,
    );
    for (const container of view.containers) {
      found = seLinuxViolations(
        securityContextOf(container)?.["seLinuxOptions"],
        containerField(container, "securityContext", "seLinuxOptions"),
        describeContainer(container),
        allowed,
        found,
      );
    }
    return found ?? NO_VIOLATIONS;
  },
});

// ---------------------------------------------------------------------------------------------
// /proc mount type (v1.0; v1.35 relaxes it for pods with hostUsers: false): procMount must be
// unset or "Default". Shared with the restricted check, which stays unconditional.

export function unmaskedProcMounts(view: PodView): readonly Violation[] {
  let found: Violation[] | undefined;
  for (const container of view.containers) {
    const procMount = securityContextOf(container)?.["procMount"];
    if (!isSet(procMount) || procMount === "Default") continue;
    (found ??= []).push({
      path: containerField(container, "securityContext", "procMount"),
      message: `${describeContainer(container)} must not set securityContext.procMount to ${JSON.stringify(goString(procMount))}`,
    });
  }
  return found ?? NO_VIOLATIONS;
}

export const procMount: PssRule = pssRule({
  id: "pss-proc-mount",
  upstreamId: "procMount",
  level: "baseline",
  since: 0,
  overriddenBy: { id: "pss-proc-mount-restricted", since: 35 },
  title: "Containers must keep the default /proc masking",
  rationale:
    "The default /proc mask hides kernel interfaces that leak host information or allow host changes.",
  fix: 'Remove securityContext.procMount or set it to "Default" (from v1.35, baseline allows other values only for pods with spec.hostUsers: false).',
  controls: ["iso27001:A.8.27", "iso27001:A.8.9", "nis2:21.2.e"],
  evidenceBoundary:
    "A pass shows /proc stays masked, or (v1.35+) that the pod runs in its own user namespace; it does not check the runtime honours the mask.",
  evaluate(view, minor) {
    if (minor >= 35 && inUserNamespace(view)) return NO_VIOLATIONS;
    return unmaskedProcMounts(view);
  },
});

// ---------------------------------------------------------------------------------------------
// Seccomp (v1.0 annotations; v1.19 fields): a profile, when set, must not be Unconfined.

const SECCOMP_POD_ANNOTATION = "seccomp.security.alpha.kubernetes.io/pod";
const SECCOMP_CONTAINER_ANNOTATION_PREFIX = "container.seccomp.security.alpha.kubernetes.io/";
export const ALLOWED_SECCOMP_TYPES: ReadonlySet<string> = new Set(["RuntimeDefault", "Localhost"]);

function allowedSeccompAnnotation(value: string): boolean {
  return value === "runtime/default" || value === "docker/default" || value.startsWith("localhost/");
}

function seccompAnnotationViolations(view: PodView): readonly Violation[] {
  const annotations = view.template.metadata["annotations"];
  if (!isDict(annotations)) return NO_VIOLATIONS;
  let found: Violation[] | undefined;
  const check = (key: string): void => {
    if (!Object.hasOwn(annotations, key)) return;
    const value = goString(annotations[key]);
    if (allowedSeccompAnnotation(value)) return;
    (found ??= []).push({
      path: annotationField(view, key),
      message: `annotation ${key}=${JSON.stringify(value)} sets a forbidden seccomp profile`,
    });
  };
  check(SECCOMP_POD_ANNOTATION);
  for (const container of view.containers) check(SECCOMP_CONTAINER_ANNOTATION_PREFIX + container.name);
  return found ?? NO_VIOLATIONS;
}

function seccompFieldViolations(view: PodView): readonly Violation[] {
  let found: Violation[] | undefined;
  const podProfile = podSecurityContextOf(view)?.["seccompProfile"];
  if (isSet(podProfile)) {
    const type = isDict(podProfile) ? goString(podProfile["type"]) : "";
    if (!ALLOWED_SECCOMP_TYPES.has(type)) {
      (found ??= []).push({
        path: specField(view, "securityContext", "seccompProfile", "type"),
        message: `pod must not set securityContext.seccompProfile.type to ${JSON.stringify(type)}`,
      });
    }
  }
  for (const container of view.containers) {
    const profile = securityContextOf(container)?.["seccompProfile"];
    if (!isSet(profile)) continue;
    const type = isDict(profile) ? goString(profile["type"]) : "";
    if (ALLOWED_SECCOMP_TYPES.has(type)) continue;
    (found ??= []).push({
      path: containerField(container, "securityContext", "seccompProfile", "type"),
      message: `${describeContainer(container)} must not set securityContext.seccompProfile.type to ${JSON.stringify(type)}`,
    });
  }
  return found ?? NO_VIOLATIONS;
}

export const seccompBaseline: PssRule = pssRule({
  id: "pss-seccomp-baseline",
  upstreamId: "seccompProfile_baseline",
  level: "baseline",
  since: 0,
  overriddenBy: { id: "pss-seccomp-restricted", since: 19 },
  title: "Seccomp must not be explicitly disabled",
  rationale:
    "Seccomp filters the system calls a container can make; an Unconfined profile exposes the whole kernel syscall surface.",
  fix: 'Set seccompProfile.type to "RuntimeDefault" or "Localhost" (or leave it unset); before v1.19, remove seccomp annotations other than runtime/default, docker/default or localhost/*.',
  controls: ["iso27001:A.8.9", "iso27001:A.8.27", "nis2:21.2.e"],
  evidenceBoundary:
    "A pass shows seccomp is not switched off explicitly; baseline does not require a profile, so an unset profile may still mean unconfined on some runtimes.",
  evaluate(view, minor) {
    return minor >= 19 ? seccompFieldViolations(view) : seccompAnnotationViolations(view);
  },
});

// ---------------------------------------------------------------------------------------------
// Sysctls (v1.0; safe set grows at v1.27, v1.29, v1.32, v1.37).

const SYSCTLS_1_0 = [
  "kernel.shm_rmid_forced",
  "net.ipv4.ip_local_port_range",
  "net.ipv4.tcp_syncookies",
  "net.ipv4.ping_group_range",
  "net.ipv4.ip_unprivileged_port_start",
];
const SYSCTLS_1_27 = [...SYSCTLS_1_0, "net.ipv4.ip_local_reserved_ports"];
const SYSCTLS_1_29 = [
  ...SYSCTLS_1_27,
  "net.ipv4.tcp_keepalive_time",
  "net.ipv4.tcp_fin_timeout",
  "net.ipv4.tcp_keepalive_intvl",
  "net.ipv4.tcp_keepalive_probes",
];
const SYSCTLS_1_32 = [...SYSCTLS_1_29, "net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem"];
const SYSCTLS_1_37 = [...SYSCTLS_1_32, "net.ipv4.tcp_slow_start_after_idle", "net.ipv4.tcp_notsent_lowat"];

/** Safe sysctls by the first minor version each list applies from, newest first. */
const SAFE_SYSCTLS: readonly (readonly [number, ReadonlySet<string>])[] = [
  [37, new Set(SYSCTLS_1_37)],
  [32, new Set(SYSCTLS_1_32)],
  [29, new Set(SYSCTLS_1_29)],
  [27, new Set(SYSCTLS_1_27)],
  [0, new Set(SYSCTLS_1_0)],
];

export function safeSysctls(minor: number): ReadonlySet<string> {
  for (const [since, names] of SAFE_SYSCTLS) if (minor >= since) return names;
  throw new Error(`no sysctl list for v1.${minor}`);
}

export const sysctls: PssRule = pssRule({
  id: "pss-sysctls",
  upstreamId: "sysctls",
  level: "baseline",
  since: 0,
  title: "Pods may set only namespaced, safe sysctls",
  rationale:
    "Unsafe sysctls change kernel behaviour for the whole node or disable security mechanisms; only a vetted, isolated subset is safe.",
  fix: "Remove spec.securityContext.sysctls entries outside the safe set for the pinned Pod Security Standards version.",
  controls: ["iso27001:A.8.9", "iso27001:A.8.27", "nis2:21.2.e"],
  evidenceBoundary:
    "A pass shows only safe sysctls are requested for the pinned version; the kubelet's allowed-unsafe-sysctls setting is not examined.",
  evaluate(view, minor) {
    const entries = podSecurityContextOf(view)?.["sysctls"];
    if (!Array.isArray(entries)) return NO_VIOLATIONS;
    const allowed = safeSysctls(minor);
    let found: Violation[] | undefined;
    entries.forEach((entry: unknown, index) => {
      const name = isDict(entry) ? goString(entry["name"]) : "";
      if (allowed.has(name)) return;
      (found ??= []).push({
        path: specField(view, "securityContext", "sysctls", index, "name"),
        message: `pod must not set sysctl ${JSON.stringify(name)} (not in the safe set for v1.${minor})`,
      });
    });
    return found ?? NO_VIOLATIONS;
  },
});

// ---------------------------------------------------------------------------------------------
// Windows HostProcess (v1.0): windowsOptions.hostProcess must be unset or false.

export const windowsHostProcess: PssRule = pssRule({
  id: "pss-windows-hostprocess",
  upstreamId: "windowsHostProcess",
  level: "baseline",
  since: 0,
  title: "Windows pods must not run as HostProcess containers",
  rationale: "A Windows HostProcess container runs directly on the host with the node's privileges.",
  fix: "Remove securityContext.windowsOptions.hostProcess (or set it to false) on the pod and every container.",
  controls: ["iso27001:A.8.2", "iso27001:A.8.27", "nis2:21.2.i", "gdpr:32"],
  evidenceBoundary:
    "A pass shows no HostProcess container is requested; other Windows node hardening is not examined.",
  evaluate(view) {
    let found: Violation[] | undefined;
    const podOptions = dictOrUndefined(podSecurityContextOf(view)?.["windowsOptions"]);
    if (podOptions?.["hostProcess"] === true) {
      (found ??= []).push({
        path: specField(view, "securityContext", "windowsOptions", "hostProcess"),
        message: "pod must not set securityContext.windowsOptions.hostProcess=true",
      });
    }
    for (const container of view.containers) {
      const options = dictOrUndefined(securityContextOf(container)?.["windowsOptions"]);
      if (options?.["hostProcess"] !== true) continue;
      (found ??= []).push({
        path: containerField(container, "securityContext", "windowsOptions", "hostProcess"),
        message: `${describeContainer(container)} must not set securityContext.windowsOptions.hostProcess=true`,
      });
    }
    return found ?? NO_VIOLATIONS;
  },
});

// ---------------------------------------------------------------------------------------------
// Probe and lifecycle hosts (v1.34): httpGet.host / tcpSocket.host of probes and lifecycle
// handlers must be unset or empty.

const PROBES = ["livenessProbe", "readinessProbe", "startupProbe"] as const;
const LIFECYCLE_HANDLERS = ["postStart", "preStop"] as const;
const HOST_ACTIONS = ["httpGet", "tcpSocket"] as const;

function handlerHostViolations(
  handler: unknown,
  container: PodView["containers"][number],
  location: readonly string[],
  found: Violation[] | undefined,
): Violation[] | undefined {
  if (!isDict(handler)) return found;
  for (const action of HOST_ACTIONS) {
    const target = handler[action];
    if (!isDict(target)) continue;
    const host = goString(target["host"]);
    if (host === "") continue;
    (found ??= []).push({
      path: containerField(container, ...location, action, "host"),
      message: `${describeContainer(container)} must not set ${location.join(".")}.${action}.host (${JSON.stringify(host)})`,
    });
  }
  return found;
}

export const hostProbesAndLifecycle: PssRule = pssRule({
  id: "pss-host-probes-lifecycle",
  upstreamId: "hostProbesAndHostLifecycle",
  level: "baseline",
  since: 34,
  title: "Probes and lifecycle hooks must not target other hosts",
  rationale:
    "The kubelet performs probe and lifecycle requests from the node; a custom host turns them into requests to arbitrary addresses from a privileged network position.",
  fix: "Remove the host field from httpGet and tcpSocket probes and lifecycle handlers (they then target the pod's own IP).",
  controls: ["iso27001:A.8.22", "iso27001:A.8.27", "nis2:21.2.e"],
  evidenceBoundary:
    "A pass shows no probe or hook names a host (checked from policy v1.34); it does not restrict what the pod itself connects to.",
  evaluate(view) {
    let found: Violation[] | undefined;
    for (const container of view.containers) {
      for (const probe of PROBES) {
        found = handlerHostViolations(container.container[probe], container, [probe], found);
      }
      const lifecycle = container.container["lifecycle"];
      if (!isDict(lifecycle)) continue;
      for (const hook of LIFECYCLE_HANDLERS) {
        found = handlerHostViolations(lifecycle[hook], container, ["lifecycle", hook], found);
      }
    }
    return found ?? NO_VIOLATIONS;
  },
});

export const BASELINE_RULES: readonly PssRule[] = [
  privileged,
  hostNamespaces,
  hostPorts,
  hostPathVolumes,
  capabilitiesBaseline,
  seccompBaseline,
  appArmor,
  seLinux,
  procMount,
  sysctls,
  windowsHostProcess,
  hostProbesAndLifecycle,
];
