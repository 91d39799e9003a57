// The Node and Lease the node agent keeps, pure: the kubelet's labels, conditions (with its
// reasons and messages), capacity, addresses and system info, from facts about the host.
import type * as v1 from 'kubernetes-types/core/v1.js';
import type { Lease } from '../api/coordination/leases.js';
import type { Node } from '../api/core/nodes.js';
import type { Mutable } from '../api/types.js';
import { VERSION_INFO } from '../apiserver/discovery.js';
import type { RuntimeInfo } from './runtime/types.js';

type NodeStatus = Mutable<v1.NodeStatus>;
type NodeCondition = Mutable<v1.NodeCondition>;

export const NODE_LEASE_NAMESPACE = 'kube-node-lease';
/** The one node's pod range, and its address: loopback, as berth's API server listens there. */
export const POD_CIDR = '10.244.0.0/16';
export const NODE_ADDRESS = '127.0.0.1';
export const LEASE_DURATION_S = 40;

export interface HostFacts {
  cpus: number;
  memoryBytes: number;
  /** Size of the filesystem holding the data dir, if known. */
  ephemeralStorageBytes?: number;
  /** GOARCH spelling: amd64, arm64, ... */
  arch: string;
  osImage: string;
  kernelVersion: string;
  machineID: string;
  systemUUID: string;
  bootID: string;
}

export interface NodeConfig {
  name: string;
  /** The node's address, as pods' hostIP. */
  address: string;
  podCIDR: string;
  runtime: RuntimeInfo;
}

const GOARCH: Record<string, string> = { x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64', loong64: 'loong64' };

/** Node.js's process.arch in Go's spelling, as the kubernetes.io/arch label has it. */
export function goArch(nodeArch: string): string {
  return GOARCH[nodeArch] ?? nodeArch;
}

/**
 * A host name as a node name: lower case, a DNS-1123 subdomain (the kubelet lowercases the host
 * name; berth also replaces what a node name cannot hold).
 */
export function nodeNameFromHostname(hostname: string): string {
  const labels = hostname
    .toLowerCase()
    .split('.')
    .map((l) => l.replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, ''))
    .filter(Boolean);
  const name = labels.join('.').slice(0, 253).replace(/[.-]+$/, '');
  return name || 'berth';
}

export function nodeLabels(config: NodeConfig, facts: HostFacts): Record<string, string> {
  return {
    'beta.kubernetes.io/arch': facts.arch,
    'beta.kubernetes.io/os': 'linux',
    'kubernetes.io/arch': facts.arch,
    'kubernetes.io/hostname': config.name,
    'kubernetes.io/os': 'linux',
  };
}

const KIB = 1024;

/** The kubelet's node status; conditions keep their transition times from `old` while unchanged. */
export function nodeStatus(config: NodeConfig, facts: HostFacts, old: NodeStatus | undefined, now: string): NodeStatus {
  const capacity: Record<string, string> = {
    cpu: String(facts.cpus),
    ...(facts.ephemeralStorageBytes !== undefined && { 'ephemeral-storage': `${Math.floor(facts.ephemeralStorageBytes / KIB)}Ki` }),
    'hugepages-1Gi': '0',
    'hugepages-2Mi': '0',
    memory: `${Math.floor(facts.memoryBytes / KIB)}Ki`,
    pods: String(config.runtime.maxPods),
  };
  const conditions: NodeCondition[] = [
    { type: 'MemoryPressure', status: 'False', reason: 'KubeletHasSufficientMemory', message: 'kubelet has sufficient memory available' },
    { type: 'DiskPressure', status: 'False', reason: 'KubeletHasNoDiskPressure', message: 'kubelet has no disk pressure' },
    { type: 'PIDPressure', status: 'False', reason: 'KubeletHasSufficientPID', message: 'kubelet has sufficient PID available' },
    { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' },
  ].map((c) => {
    const prev = old?.conditions?.find((o) => o.type === c.type);
    const since = prev?.status === c.status && prev.lastTransitionTime ? prev.lastTransitionTime : now;
    return { ...c, lastHeartbeatTime: now, lastTransitionTime: since };
  });
  return {
    ...old,
    capacity,
    allocatable: { ...capacity },
    conditions,
    addresses: [
      { type: 'InternalIP', address: config.address },
      { type: 'Hostname', address: config.name },
    ],
    nodeInfo: {
      machineID: facts.machineID,
      systemUUID: facts.systemUUID,
      bootID: facts.bootID,
      kernelVersion: facts.kernelVersion,
      osImage: facts.osImage,
      containerRuntimeVersion: `${config.runtime.name}://${config.runtime.version}`,
      kubeletVersion: VERSION_INFO.gitVersion,
      kubeProxyVersion: '',
      operatingSystem: 'linux',
      architecture: facts.arch,
    },
  };
}

export function newNode(config: NodeConfig, facts: HostFacts, now: string): Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: config.name, labels: nodeLabels(config, facts) },
    spec: { podCIDR: config.podCIDR, podCIDRs: [config.podCIDR] },
    status: nodeStatus(config, facts, undefined, now),
  };
}

/**
 * The node as registered before, with the kubelet's labels restored and a pod range if it has
 * none; undefined when nothing needs changing. Labels users added are kept.
 */
export function reconcileNode(existing: Node, config: NodeConfig, facts: HostFacts): Node | undefined {
  const labels = { ...existing.metadata.labels, ...nodeLabels(config, facts) };
  const missingLabels = Object.entries(labels).some(([k, v]) => existing.metadata.labels?.[k] !== v);
  const missingCIDR = !existing.spec?.podCIDR;
  if (!missingLabels && !missingCIDR) return undefined;
  return {
    ...existing,
    metadata: { ...existing.metadata, labels },
    spec: { ...existing.spec, ...(missingCIDR && { podCIDR: config.podCIDR, podCIDRs: [config.podCIDR] }) },
  };
}

/** The node's heartbeat lease, owned by its Node so it goes with it; `renewTime` is a MicroTime. */
export function nodeLease(node: Node, renewTime: string, existing?: Lease): Lease {
  const name = node.metadata.name!;
  return {
    ...existing,
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: {
      ...existing?.metadata,
      name,
      namespace: NODE_LEASE_NAMESPACE,
      ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name, uid: node.metadata.uid! }],
    },
    spec: { ...existing?.spec, holderIdentity: name, leaseDurationSeconds: LEASE_DURATION_S, renewTime },
  };
}
