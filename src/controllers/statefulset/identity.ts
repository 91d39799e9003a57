// A StatefulSet's replicas and their identities, pure: ordinals and names,
// the pod and claims each ordinal gets, and the predicates on pod state the
// controller's decisions rest on (as Kubernetes' stateful_set_utils).
import type * as appsv1 from 'kubernetes-types/apps/v1.js';
import type * as corev1 from 'kubernetes-types/core/v1.js';
import type { KubeObject, Mutable } from '../../api/types.js';

export type StatefulSet = KubeObject & Mutable<Pick<appsv1.StatefulSet, 'spec' | 'status'>>;
export type Pod = KubeObject & Mutable<Pick<corev1.Pod, 'spec' | 'status'>>;
export type Claim = KubeObject & Mutable<Pick<corev1.PersistentVolumeClaim, 'spec' | 'status'>>;
export type OwnerReference = NonNullable<Pod['metadata']['ownerReferences']>[number];

export const POD_NAME_LABEL = 'statefulset.kubernetes.io/pod-name';
export const POD_INDEX_LABEL = 'apps.kubernetes.io/pod-index';
export const REVISION_LABEL = 'controller-revision-hash';

const ORDINAL_NAME = /^(.*)-(\d+)$/;

const parsed = new Map<string, { parent: string; ordinal: number }>();

/** The set name and ordinal a pod name encodes (`web-3` → web, 3); ordinal -1 when there is none. */
export function parentAndOrdinal(podName: string): { parent: string; ordinal: number } {
  // Every sync of a large set asks this of every pod: remember the answers.
  let result = parsed.get(podName);
  if (result) return result;
  const m = ORDINAL_NAME.exec(podName);
  const ordinal = m ? Number(m[2]) : -1;
  result = m && Number.isSafeInteger(ordinal) ? { parent: m[1], ordinal } : { parent: '', ordinal: -1 };
  if (parsed.size >= 100_000) parsed.clear();
  parsed.set(podName, result);
  return result;
}

export function ordinalOf(pod: KubeObject): number {
  return parentAndOrdinal(pod.metadata.name ?? '').ordinal;
}

/** A pod belongs to a set by its name: `<set>-<ordinal>`. */
export function isMemberOf(set: StatefulSet, pod: KubeObject): boolean {
  return parentAndOrdinal(pod.metadata.name ?? '').parent === set.metadata.name;
}

export function startOrdinal(set: StatefulSet): number {
  return set.spec?.ordinals?.start ?? 0;
}

export function replicaCount(set: StatefulSet): number {
  return set.spec?.replicas ?? 1;
}

export function inOrdinalRange(set: StatefulSet, ordinal: number): boolean {
  const start = startOrdinal(set);
  return ordinal >= start && ordinal < start + replicaCount(set);
}

export function podName(set: StatefulSet, ordinal: number): string {
  return `${set.metadata.name}-${ordinal}`;
}

export function claimName(template: { metadata?: { name?: string } }, set: StatefulSet, ordinal: number): string {
  return `${template.metadata?.name}-${podName(set, ordinal)}`;
}

export function claimTemplates(set: StatefulSet): NonNullable<NonNullable<StatefulSet['spec']>['volumeClaimTemplates']> {
  return set.spec?.volumeClaimTemplates ?? [];
}

export function controllerRef(set: StatefulSet): OwnerReference {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    name: set.metadata.name!,
    uid: set.metadata.uid!,
    controller: true,
    blockOwnerDeletion: true,
  };
}

export function controllerOf(obj: KubeObject): OwnerReference | undefined {
  return obj.metadata.ownerReferences?.find((r) => r.controller);
}

export function revisionOf(pod: KubeObject): string {
  return pod.metadata.labels?.[REVISION_LABEL] ?? '';
}

// --- pod state -------------------------------------------------------------------------

export const isCreated = (pod: Pod): boolean => !!pod.status?.phase;
export const isFailed = (pod: Pod): boolean => pod.status?.phase === 'Failed';
export const isSucceeded = (pod: Pod): boolean => pod.status?.phase === 'Succeeded';
export const isPending = (pod: Pod): boolean => pod.status?.phase === 'Pending';
export const isTerminating = (pod: KubeObject): boolean => !!pod.metadata.deletionTimestamp;

export function readyCondition(pod: Pod): { status: string; lastTransitionTime?: string } | undefined {
  return pod.status?.conditions?.find((c) => c.type === 'Ready');
}

export function isRunningAndReady(pod: Pod): boolean {
  return pod.status?.phase === 'Running' && readyCondition(pod)?.status === 'True';
}

/** Milliseconds until a ready pod counts as available for minReadySeconds (0: it is available). */
export function msUntilAvailable(pod: Pod, minReadySeconds: number, now: number): number {
  if (minReadySeconds <= 0) return 0;
  const since = Date.parse(readyCondition(pod)?.lastTransitionTime ?? '');
  if (!Number.isFinite(since)) return minReadySeconds * 1000;
  return Math.max(0, since + minReadySeconds * 1000 - now);
}

export function isRunningAndAvailable(pod: Pod, minReadySeconds: number, now: number): boolean {
  return isRunningAndReady(pod) && msUntilAvailable(pod, minReadySeconds, now) === 0;
}

export function isHealthy(pod: Pod): boolean {
  return isRunningAndReady(pod) && !isTerminating(pod);
}

// --- what an ordinal gets ---------------------------------------------------------------

type ClaimTemplate = ReturnType<typeof claimTemplates>[number];

/** The claim of one ordinal from one template: selector labels added, as Kubernetes names and labels it. */
export function claimFor(set: StatefulSet, template: ClaimTemplate, ordinal: number): Claim {
  const tmpl = structuredClone(template) as Claim;
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: {
      ...(tmpl.metadata ?? {}),
      name: claimName(template, set, ordinal),
      namespace: set.metadata.namespace,
      labels: { ...(tmpl.metadata?.labels ?? {}), ...(set.spec?.selector?.matchLabels ?? {}) },
    },
    spec: tmpl.spec,
  };
}

/** The pod of one ordinal at a revision: the template, its identity, and a volume per claim template. */
export function newPod(set: StatefulSet, ordinal: number, revisionName: string): Pod {
  const template = structuredClone(set.spec?.template ?? {}) as Mutable<corev1.PodTemplateSpec>;
  const name = podName(set, ordinal);
  const spec = (template.spec ?? { containers: [] }) as NonNullable<Pod['spec']>;
  spec.hostname = name;
  spec.subdomain = set.spec?.serviceName || undefined;
  const claimVolumes = claimTemplates(set).map((t) => ({
    name: t.metadata?.name ?? '',
    persistentVolumeClaim: { claimName: claimName(t, set, ordinal) },
  }));
  const claimed = new Set(claimVolumes.map((v) => v.name));
  spec.volumes = [...(spec.volumes ?? []).filter((v) => !claimed.has(v.name)), ...claimVolumes];
  if (spec.volumes.length === 0) delete spec.volumes;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: set.metadata.namespace,
      labels: { ...(template.metadata?.labels ?? {}), ...identityLabels(set, ordinal), [REVISION_LABEL]: revisionName },
      ...(template.metadata?.annotations ? { annotations: template.metadata.annotations } : {}),
      ...(template.metadata?.finalizers ? { finalizers: template.metadata.finalizers } : {}),
      ownerReferences: [controllerRef(set)],
    },
    spec,
  };
}

function identityLabels(set: StatefulSet, ordinal: number): Record<string, string> {
  return { [POD_NAME_LABEL]: podName(set, ordinal), [POD_INDEX_LABEL]: String(ordinal) };
}

/** The identity labels a pod lacks or has wrong (hostname and subdomain are immutable on pods). */
export function identityMismatch(set: StatefulSet, pod: Pod): Record<string, string> | undefined {
  const want = identityLabels(set, ordinalOf(pod));
  const labels = pod.metadata.labels ?? {};
  const fix = Object.fromEntries(Object.entries(want).filter(([k, v]) => labels[k] !== v));
  return Object.keys(fix).length ? fix : undefined;
}
