// The scheduler's decisions, pure: which pods it takes, and where a pod goes. The filters are
// those of kube-scheduler's default profile that matter on berth (NodeUnschedulable,
// TaintToleration, NodeAffinity, NodeResourcesFit, VolumeRestrictions and VolumeBinding); among
// the nodes that fit, the one with the fewest pods wins. Messages are kube-scheduler's, with the
// verdict of its DefaultPreemption PostFilter appended (berth preempts nothing: pods carry the
// same priority unless a priority class says otherwise), so `kubectl describe pod` reads the same.
import { hostPortsConflict, podHostPorts } from './hostports.js';
import type * as v1 from 'kubernetes-types/core/v1.js';
import type { Node } from '../api/core/nodes.js';
import { storageClassOf, type PersistentVolumeClaim } from '../api/core/persistentvolumeclaims.js';
import type { PersistentVolume } from '../api/core/persistentvolumes.js';
import type { StorageClass } from '../api/storage/storageclasses.js';
import type { Pod } from '../api/core/pods.js';
import { matchesNodeSelectorTerms } from '../machinery/nodeaffinity.js';
import { deepEqual } from '../machinery/objects.js';
import { isTerminalPhase } from '../node/status.js';
import { insufficientResources, nodeAllocatable, podRequests } from './resources.js';

export const DEFAULT_SCHEDULER = 'default-scheduler';

export type ScheduleResult =
  | { type: 'bind'; node: string }
  /** The node is chosen, but these WaitForFirstConsumer claims must be bound there first (VolumeBinding PreBind). */
  | { type: 'bindVolumes'; node: string; claims: string[] }
  | { type: 'unschedulable'; message: string };

export interface Lookup<T> {
  get(name: string): T | undefined;
  values(): Iterable<T>;
}

export interface Snapshot {
  nodes: readonly Node[];
  /** Claims in the pod's namespace, by name. */
  claims: ReadonlyMap<string, PersistentVolumeClaim>;
  /** Pods (not finished) assigned to each node, including pods bound but not yet observed. */
  podCounts: ReadonlyMap<string, number>;
  /** What those pods request, summed per node (resources.ts units); a node missing requests nothing. */
  requested?: ReadonlyMap<string, ReadonlyMap<string, bigint>>;
  /** The host ports those pods hold per node (hostports.ts keys, counted). */
  hostPorts?: ReadonlyMap<string, ReadonlyMap<string, number>>;
  /** PersistentVolumes and StorageClasses by name (VolumeBinding); a Map or an informer's cache. */
  volumes?: Lookup<PersistentVolume>;
  classes?: Lookup<StorageClass>;
  /** Whether a claim (by name, in the pod's namespace) is used by another pod placed on a node. */
  claimInUse?: (name: string) => boolean;
}

/** A claim is bound once the volume controller completed it. */
function isBound(claim: PersistentVolumeClaim): boolean {
  return !!claim.spec?.volumeName && claim.status?.phase === 'Bound';
}

/** The unbound claims of the pod whose class binds on first consumer (the rest were checked by PreFilter). */
function delayedClaims(pod: Pod, snapshot: Snapshot): string[] {
  if (!snapshot.classes) return [];
  return claimNames(pod)
    .map(({ name }) => snapshot.claims.get(name)!)
    .filter((c) => !isBound(c))
    .map((c) => c.metadata.name!);
}

/** Whether this scheduler should place the pod: unbound, not going away, ours, not gated. */
export function needsScheduling(pod: Pod): boolean {
  const spec = pod.spec;
  if (!spec || spec.nodeName || pod.metadata.deletionTimestamp || isTerminalPhase(pod.status?.phase)) return false;
  if (spec.schedulerName && spec.schedulerName !== DEFAULT_SCHEDULER) return false;
  return !spec.schedulingGates?.length;
}

export function schedule(pod: Pod, snapshot: Snapshot): ScheduleResult {
  const total = snapshot.nodes.length;
  if (total === 0) return { type: 'unschedulable', message: 'no nodes available to schedule pods' };
  const claimProblem = checkClaims(pod, snapshot);
  // A PreFilter rejection applies to every node, and no preemption can change it.
  if (claimProblem) return { type: 'unschedulable', message: `0/${total} nodes are available: ${claimProblem}. ${preemptionMessage(pod, total, 0)}` };

  const request = podRequests(pod);
  const reasons = new Map<string, number>();
  let resolvable = 0;
  let best: { name: string; pods: number } | undefined;
  for (const node of snapshot.nodes) {
    const name = node.metadata.name!;
    const pods = snapshot.podCounts.get(name) ?? 0;
    const failure = filter(pod, node, pods, request, snapshot) ?? volumeFilter(pod, node, snapshot);
    if (failure) {
      for (const reason of failure.reasons) reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
      if (failure.resolvable) resolvable++;
    } else if (!best || pods < best.pods || (pods === best.pods && name < best.name)) best = { name, pods };
  }
  if (best) {
    const delayed = delayedClaims(pod, snapshot);
    return delayed.length ? { type: 'bindVolumes', node: best.name, claims: delayed } : { type: 'bind', node: best.name };
  }
  return { type: 'unschedulable', message: `0/${total} nodes are available: ${histogram(reasons)}. ${preemptionMessage(pod, total, resolvable)}` };
}

/** FitError's histogram: `<count> <reason>`, sorted as strings. */
function histogram(reasons: ReadonlyMap<string, number>): string {
  return [...reasons].map(([reason, n]) => `${n} ${reason}`).sort().join(', ');
}

/**
 * DefaultPreemption's PostFilter verdict. Only nodes that failed resolvably (NodeResourcesFit,
 * VolumeRestrictions) are tried, and with no lower-priority pod to evict none has victims.
 */
function preemptionMessage(pod: Pod, total: number, resolvable: number): string {
  if (pod.spec?.preemptionPolicy === 'Never') return 'preemption: not eligible due to preemptionPolicy=Never.';
  const reasons = new Map<string, number>();
  if (resolvable) reasons.set('No preemption victims found for incoming pod', resolvable);
  if (total - resolvable) reasons.set('Preemption is not helpful for scheduling', total - resolvable);
  return `preemption: 0/${total} nodes are available: ${histogram(reasons)}.`;
}

/** The claims the pod's volumes name; a generic ephemeral volume's claim is `<pod>-<volume>`. */
export function claimNames(pod: Pod): { name: string; ephemeral: boolean }[] {
  const names: { name: string; ephemeral: boolean }[] = [];
  for (const volume of pod.spec?.volumes ?? []) {
    const claimName = volume.persistentVolumeClaim?.claimName;
    if (claimName) names.push({ name: claimName, ephemeral: false });
    else if (volume.ephemeral) names.push({ name: `${pod.metadata.name}-${volume.name}`, ephemeral: true });
  }
  return names;
}

/**
 * VolumeBinding PreFilter: every claim the pod's volumes name must exist and not be going away, and
 * one that is unbound must be of a class that binds on first consumer.
 */
function checkClaims(pod: Pod, snapshot: Snapshot): string | undefined {
  let unboundImmediate = false;
  for (const { name, ephemeral } of claimNames(pod)) {
    const claim = snapshot.claims.get(name);
    if (!claim) {
      return ephemeral
        ? `waiting for ephemeral volume controller to create the persistentvolumeclaim "${name}"`
        : `persistentvolumeclaim "${name}" not found`;
    }
    if (claim.metadata.deletionTimestamp) return `persistentvolumeclaim "${name}" is being deleted`;
    if (snapshot.classes && !isBound(claim) && !delaysBinding(claim, snapshot)) unboundImmediate = true;
  }
  return unboundImmediate ? 'pod has unbound immediate PersistentVolumeClaims' : undefined;
}

function delaysBinding(claim: PersistentVolumeClaim, snapshot: Snapshot): boolean {
  const cls = snapshot.classes?.get(storageClassOf(claim));
  return cls?.volumeBindingMode === 'WaitForFirstConsumer';
}

/**
 * VolumeBinding Filter: a bound claim's volume must allow the node; an unbound one needs an available
 * volume there or a class that provisions.
 */
function volumeFilter(pod: Pod, node: Node, snapshot: Snapshot): Failure | undefined {
  if (!snapshot.volumes) return undefined;
  const at = { name: node.metadata.name!, labels: node.metadata.labels ?? {} };
  for (const { name } of claimNames(pod)) {
    const claim = snapshot.claims.get(name)!;
    if (isBound(claim)) {
      const terms = snapshot.volumes.get(claim.spec!.volumeName!)?.spec?.nodeAffinity?.required?.nodeSelectorTerms;
      if (terms && !matchesNodeSelectorTerms(terms, at)) return unresolvable('node(s) had volume node affinity conflict');
      continue;
    }
    const cls = snapshot.classes?.get(storageClassOf(claim));
    if (cls?.provisioner && cls.provisioner !== 'kubernetes.io/no-provisioner') continue;
    const fits = [...snapshot.volumes.values()].some((v) => {
      if (v.spec?.claimRef || v.status?.phase !== 'Available' || (v.spec?.storageClassName ?? '') !== storageClassOf(claim)) return false;
      const affinity = v.spec?.nodeAffinity?.required?.nodeSelectorTerms;
      return !affinity || matchesNodeSelectorTerms(affinity, at);
    });
    if (!fits) return unresolvable("node(s) didn't find available persistent volumes to bind");
  }
  return undefined;
}

/** Why a node does not fit: the failing plugin's reasons, and whether preemption could help. */
interface Failure {
  reasons: string[];
  resolvable: boolean;
}

const unresolvable = (reason: string): Failure => ({ reasons: [reason], resolvable: false });

/** The first filter the node fails, in the default profile's order; undefined when it fits. */
function filter(pod: Pod, node: Node, pods: number, request: ReadonlyMap<string, bigint>, snapshot: Snapshot): Failure | undefined {
  const tolerations = pod.spec?.tolerations ?? [];
  if (node.spec?.unschedulable && !tolerates(tolerations, { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }))
    return unresolvable('node(s) were unschedulable');
  const untolerated = effectiveTaints(node).find(
    (t) => (t.effect === 'NoSchedule' || t.effect === 'NoExecute') && !tolerates(tolerations, t),
  );
  if (untolerated) return unresolvable(`node(s) had untolerated taint {${untolerated.key}: ${untolerated.value ?? ''}}`);
  if (!matchesNodeSelectorAndAffinity(pod, node)) return unresolvable("node(s) didn't match Pod's node affinity/selector");
  if (hostPortsConflict(podHostPorts(pod), snapshot.hostPorts?.get(node.metadata.name!)))
    return { reasons: ["node(s) didn't have free ports for the requested pod ports"], resolvable: true };
  // NodeResourcesFit: every insufficient resource is a reason of its own.
  const reasons: string[] = [];
  const allowed = Number(node.status?.allocatable?.pods ?? Infinity);
  if (pods + 1 > allowed) reasons.push('Too many pods');
  if (request.size) reasons.push(...insufficientResources(request, nodeAllocatable(node), snapshot.requested?.get(node.metadata.name!)));
  if (reasons.length) return { reasons, resolvable: true };
  // VolumeRestrictions: a ReadWriteOncePod claim serves one pod in the whole cluster.
  for (const { name } of claimNames(pod)) {
    if (snapshot.claims.get(name)?.spec?.accessModes?.includes('ReadWriteOncePod') && snapshot.claimInUse?.(name))
      return { reasons: ['node has pod using PersistentVolumeClaim with the same name and ReadWriteOncePod access mode'], resolvable: true };
  }
  return undefined;
}

/**
 * The node's taints, plus the one Kubernetes' node lifecycle controller would add for a node
 * that is not Ready (berth runs no such controller, so the scheduler reads the condition).
 */
function effectiveTaints(node: Node): v1.Taint[] {
  const taints = [...(node.spec?.taints ?? [])];
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
  if (ready?.status !== 'True') {
    const key = ready?.status === 'False' ? 'node.kubernetes.io/not-ready' : 'node.kubernetes.io/unreachable';
    if (!taints.some((t) => t.key === key)) taints.push({ key, effect: 'NoSchedule' });
  }
  return taints;
}

/** v1.Toleration.ToleratesTaint, over a list. */
function tolerates(tolerations: readonly v1.Toleration[], taint: v1.Taint): boolean {
  return tolerations.some((t) => {
    if (t.effect && t.effect !== taint.effect) return false;
    if (t.key && t.key !== taint.key) return false;
    if (t.operator === 'Exists') return true;
    return (!t.operator || t.operator === 'Equal') && (t.value ?? '') === (taint.value ?? '');
  });
}


/** spec.nodeSelector, then the required node affinity: any term, each term all of its requirements. */
function matchesNodeSelectorAndAffinity(pod: Pod, node: Node): boolean {
  const labels = node.metadata.labels ?? {};
  for (const [k, v] of Object.entries(pod.spec?.nodeSelector ?? {})) if (labels[k] !== v) return false;
  const terms = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  return !terms || matchesNodeSelectorTerms(terms, { name: node.metadata.name!, labels });
}

/**
 * The PodScheduled=False condition to write for an unschedulable pod, or undefined when the pod
 * already carries it. The transition time stays while the status does, as UpdatePodCondition keeps it.
 */
export function unschedulableCondition(pod: Pod, message: string, now: string): v1.PodCondition | undefined {
  const cur = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
  if (cur?.status === 'False' && cur.reason === 'Unschedulable' && cur.message === message) return undefined;
  const since = cur?.status === 'False' && cur.lastTransitionTime ? cur.lastTransitionTime : now;
  return { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message, lastTransitionTime: since };
}

/** Whether an update may change where the pod can go: anything but its status and bookkeeping. */
export function schedulingInputsChanged(old: Pod, pod: Pod): boolean {
  const strip = (p: Pod) => ({ ...p, status: undefined, metadata: { ...p.metadata, resourceVersion: undefined, managedFields: undefined } });
  return !deepEqual(strip(old), strip(pod));
}
