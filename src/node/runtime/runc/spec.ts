// The OCI runtime spec (a bundle's config.json) for one container of a pod, with the defaults
// Docker and containerd give every container: capabilities, mounts, masked and read-only paths,
// a device cgroup that denies by default (runc then allows its standard devices). The process
// and the pod's files come from command.ts, env.ts and files.ts. No seccomp profile is set: the
// pod's seccompProfile (and RuntimeDefault) is not applied yet, as with `Unconfined`.
import type * as v1 from 'kubernetes-types/core/v1.js';
import type { Pod } from '../../../api/core/pods.js';
import { Quantity } from '../../../machinery/quantity.js';
import type { ProcessUser } from './command.js';
import { CreateContainerConfigError } from './env.js';

export interface OciMount {
  destination: string;
  type?: string;
  source: string;
  options?: string[];
}

export interface OciSpec {
  ociVersion: string;
  process: {
    terminal: boolean;
    user: { uid: number; gid: number; additionalGids?: number[] };
    args: string[];
    env: string[];
    cwd: string;
    capabilities: { bounding: string[]; effective: string[]; permitted: string[] };
    rlimits: { type: string; hard: number; soft: number }[];
    noNewPrivileges: boolean;
  };
  root: { path: string; readonly: boolean };
  hostname: string;
  mounts: OciMount[];
  linux: {
    namespaces: { type: string; path?: string }[];
    cgroupsPath: string;
    resources: {
      devices: { allow: boolean; access: string }[];
      memory?: { limit: number; swap: number };
      cpu: { shares: number; quota?: number; period?: number };
    };
    sysctl?: Record<string, string>;
    maskedPaths: string[];
    readonlyPaths: string[];
  };
}

/** A host path bound into the container: the pod's /etc files, its volumes. */
export interface BindMount {
  source: string;
  destination: string;
  readOnly?: boolean;
  /** rbind (the default, as the CRI runtimes mount) or a plain bind. */
  recursive?: boolean;
  propagation?: 'rprivate' | 'rslave' | 'rshared';
}

export interface SpecInput {
  pod: Pod;
  container: v1.Container;
  /** From command.ts and env.ts. */
  args: string[];
  env: string[];
  cwd: string;
  user: ProcessUser;
  /** The unpacked root filesystem. */
  rootPath: string;
  /** The UTS host name (files.ts' podNames().utsHostname). */
  hostname: string;
  mounts: readonly BindMount[];
  /** The pod's network namespace, which every container joins. */
  netnsPath: string;
  cgroupsPath: string;
  /** Run privileged containers (all capabilities, nothing masked); refused otherwise. */
  allowPrivileged?: boolean;
  /** RLIMIT_NOFILE; 1048576 (what containerd's service gives its containers) unless set. */
  nofile?: number;
}

/** Docker's (and containerd's) default capability set, in Docker's order. */
export const DEFAULT_CAPABILITIES = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];

/** Every Linux capability up to CAP_CHECKPOINT_RESTORE (5.9), in number order. */
export const ALL_CAPABILITIES = [
  'CHOWN', 'DAC_OVERRIDE', 'DAC_READ_SEARCH', 'FOWNER', 'FSETID', 'KILL', 'SETGID', 'SETUID', 'SETPCAP',
  'LINUX_IMMUTABLE', 'NET_BIND_SERVICE', 'NET_BROADCAST', 'NET_ADMIN', 'NET_RAW', 'IPC_LOCK', 'IPC_OWNER',
  'SYS_MODULE', 'SYS_RAWIO', 'SYS_CHROOT', 'SYS_PTRACE', 'SYS_PACCT', 'SYS_ADMIN', 'SYS_BOOT', 'SYS_NICE',
  'SYS_RESOURCE', 'SYS_TIME', 'SYS_TTY_CONFIG', 'MKNOD', 'LEASE', 'AUDIT_WRITE', 'AUDIT_CONTROL', 'SETFCAP',
  'MAC_OVERRIDE', 'MAC_ADMIN', 'SYSLOG', 'WAKE_ALARM', 'BLOCK_SUSPEND', 'AUDIT_READ', 'PERFMON', 'BPF',
  'CHECKPOINT_RESTORE',
].map((c) => `CAP_${c}`);

/** Docker's default masked and read-only /proc and /sys paths. */
export const MASKED_PATHS = [
  '/proc/asound', '/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
  '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware', '/sys/devices/virtual/powercap',
];
export const READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

/** Docker's default mounts; sysfs and cgroup read-only unless privileged. */
function defaultMounts(privileged: boolean): OciMount[] {
  const ro = privileged ? [] : ['ro'];
  return [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', ...ro] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: [...ro, 'nosuid', 'noexec', 'nodev'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
  ];
}

const cleanPath = (p: string) => ('/' + p.split('/').filter((s) => s && s !== '.').join('/'));
const depth = (p: string) => cleanPath(p).split('/').length;

/**
 * Default mounts, less those a given mount replaces (the same destination, or anything under
 * /dev when /dev itself is given), then the given ones, parents before children (containerd's WithMounts).
 */
export function composeMounts(given: readonly BindMount[], privileged = false): OciMount[] {
  const targets = new Set(given.map((m) => cleanPath(m.destination)));
  const defaults = defaultMounts(privileged).filter(
    (m) => !targets.has(m.destination) && !(targets.has('/dev') && m.destination.startsWith('/dev/')),
  );
  const binds = [...given]
    .sort((a, b) => depth(a.destination) - depth(b.destination))
    .map((m) => ({
      destination: cleanPath(m.destination),
      type: 'bind',
      source: m.source,
      options: [m.recursive === false ? 'bind' : 'rbind', m.propagation ?? 'rprivate', m.readOnly ? 'ro' : 'rw'],
    }));
  return [...defaults, ...binds];
}

const capName = (c: string) => {
  const up = c.toUpperCase();
  return up.startsWith('CAP_') ? up : `CAP_${up}`;
};

/** The capability set: the defaults, then add/drop as containerd applies them (ALL first, drop wins). */
export function capabilities(sc: v1.SecurityContext | undefined): string[] {
  if (sc?.privileged) return [...ALL_CAPABILITIES];
  const add = sc?.capabilities?.add ?? [];
  const drop = sc?.capabilities?.drop ?? [];
  let caps = [...DEFAULT_CAPABILITIES];
  if (add.some((c) => c.toUpperCase() === 'ALL')) caps = [...ALL_CAPABILITIES];
  if (drop.some((c) => c.toUpperCase() === 'ALL')) caps = [];
  for (const c of add) if (c.toUpperCase() !== 'ALL' && !caps.includes(capName(c))) caps.push(capName(c));
  const dropped = new Set(drop.map(capName));
  return caps.filter((c) => !dropped.has(c));
}

const MIN_SHARES = 2;
const MAX_SHARES = 262144;
const CPU_PERIOD = 100000;
const MIN_QUOTA = 1000;

const quantity = (list: Record<string, unknown> | undefined, name: string) =>
  list?.[name] === undefined ? undefined : Quantity.parse(String(list[name]));

/** The kubelet's cgroup values for a container: MilliCPUToShares, MilliCPUToQuota, the memory limit. */
export function resources(container: v1.Container): OciSpec['linux']['resources'] {
  const requestCPU = quantity(container.resources?.requests, 'cpu');
  const limitCPU = quantity(container.resources?.limits, 'cpu');
  const limitMemory = quantity(container.resources?.limits, 'memory');
  const milliRequest = Number(requestCPU?.milliValue() ?? 0n);
  const shares = milliRequest === 0 ? MIN_SHARES : Math.min(MAX_SHARES, Math.max(MIN_SHARES, Math.floor((milliRequest * 1024) / 1000)));
  const out: OciSpec['linux']['resources'] = { devices: [{ allow: false, access: 'rwm' }], cpu: { shares } };
  const milliLimit = Number(limitCPU?.milliValue() ?? 0n);
  if (milliLimit > 0) {
    out.cpu.quota = Math.max(MIN_QUOTA, Math.floor((milliLimit * CPU_PERIOD) / 1000));
    out.cpu.period = CPU_PERIOD;
  }
  if (limitMemory && !limitMemory.isZero()) {
    const limit = Number(limitMemory.value());
    // Swap equal to the limit means no swap (memory.swap.max=0 on cgroup v2), the kubelet's NoSwap.
    out.memory = { limit, swap: limit };
  }
  return out;
}

/** The container's config.json. Throws CreateContainerConfigError for a refused privileged container. */
export function ociSpec(input: SpecInput): OciSpec {
  const { pod, container } = input;
  const sc = container.securityContext;
  const privileged = !!sc?.privileged;
  if (privileged && !input.allowPrivileged) {
    throw new CreateContainerConfigError(`pod with UID "${pod.metadata.uid}" specified privileged container, but is disallowed`);
  }
  const caps = capabilities(sc);
  const nofile = input.nofile ?? 1048576;
  const user: OciSpec['process']['user'] = { uid: input.user.uid, gid: input.user.gid };
  if (input.user.additionalGids.length) user.additionalGids = [...input.user.additionalGids];
  const sysctls = pod.spec?.securityContext?.sysctls ?? [];
  const spec: OciSpec = {
    ociVersion: '1.0.2',
    process: {
      // With a terminal conmon receives the console from runc and serves it to attach.
      terminal: !!container.tty,
      user,
      args: [...input.args],
      env: [...input.env],
      cwd: input.cwd,
      capabilities: { bounding: caps, effective: [...caps], permitted: [...caps] },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: nofile, soft: nofile }],
      // AddNoNewPrivileges: only an explicit allowPrivilegeEscalation=false on an unprivileged container.
      noNewPrivileges: !privileged && sc?.allowPrivilegeEscalation === false,
    },
    root: { path: input.rootPath, readonly: !!sc?.readOnlyRootFilesystem },
    hostname: input.hostname,
    mounts: composeMounts(input.mounts, privileged),
    linux: {
      namespaces: [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'network', path: input.netnsPath }],
      cgroupsPath: input.cgroupsPath,
      resources: resources(container),
      maskedPaths: privileged ? [] : [...MASKED_PATHS],
      readonlyPaths: privileged ? [] : [...READONLY_PATHS],
    },
  };
  if (sysctls.length) spec.linux.sysctl = Object.fromEntries(sysctls.map((s) => [s.name, s.value]));
  return spec;
}
