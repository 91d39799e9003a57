// ControllerRevisions of a StatefulSet, pure: each holds the pod template as
// a strategic merge patch (`$patch: replace`, so `kubectl rollout undo` can
// apply it), is named `<set>-<hash>` and numbered in order of use. An update
// revision equal to an older one reuses it with the next number (a rollback);
// a name clash with different data bumps status.collisionCount.
import type { KubeObject } from '../../api/types.js';
import { deepEqual } from '../../machinery/objects.js';
import { controllerRef, type StatefulSet } from './identity.js';

export const HASH_LABEL = 'controller.kubernetes.io/hash';

export interface ControllerRevision extends KubeObject {
  data?: unknown;
  revision: number;
}

/** JSON with sorted keys, so equal data hashes equally whatever the key order. */
function canonicalJSON(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJSON).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.keys(v)
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJSON((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v);
}

function fnv32a(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

// Kubernetes spells hashes in this vowel-free alphabet so names never form words.
const SAFE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

function safeEncode(s: string): string {
  let out = '';
  for (const ch of s) out += SAFE_ALPHABET[ch.charCodeAt(0) % SAFE_ALPHABET.length];
  return out;
}

export function revisionData(set: StatefulSet): unknown {
  return { spec: { template: { ...(set.spec?.template ?? {}), $patch: 'replace' } } };
}

/** The set as it was at `revision`: its template replaced by the revision's (Kubernetes' ApplyRevision). */
export function setAtRevision(set: StatefulSet, revision: ControllerRevision): StatefulSet {
  const template = (revision.data as { spec?: { template?: Record<string, unknown> } } | undefined)?.spec?.template;
  if (!template) return set;
  const { $patch: _, ...rest } = template;
  return { ...set, spec: { ...set.spec!, template: rest as NonNullable<StatefulSet['spec']>['template'] } };
}

export function revisionHash(data: unknown, collisionCount: number): string {
  return safeEncode(String(fnv32a(canonicalJSON(data) + String(collisionCount))));
}

export function revisionName(set: StatefulSet, hash: string): string {
  return `${set.metadata.name!.slice(0, 223)}-${hash}`;
}

export function sortRevisions(revisions: ControllerRevision[]): ControllerRevision[] {
  return [...revisions].sort((a, b) => a.revision - b.revision || (a.metadata.name! < b.metadata.name! ? -1 : 1));
}

export function newRevision(set: StatefulSet, data: unknown, hash: string, number: number): ControllerRevision {
  return {
    apiVersion: 'apps/v1',
    kind: 'ControllerRevision',
    metadata: {
      name: revisionName(set, hash),
      namespace: set.metadata.namespace,
      labels: { ...(set.spec?.template?.metadata?.labels ?? {}), [HASH_LABEL]: hash },
      // The set's annotations (kubernetes.io/change-cause among them) are what `rollout history` shows.
      ...(set.metadata.annotations ? { annotations: { ...set.metadata.annotations } } : {}),
      ownerReferences: [controllerRef(set)],
    },
    data,
    revision: number,
  };
}

export interface RevisionPlan {
  /** The revision pods should converge to; already in `revisions` unless `create` is set. */
  update: ControllerRevision;
  current: ControllerRevision;
  collisionCount: number;
  create?: ControllerRevision;
  /** A rollback: the existing equal revision gets this number. */
  renumber?: number;
}

/** Resolves the current and update revisions of a set from its existing revisions. */
export function planRevisions(set: StatefulSet, existing: ControllerRevision[]): RevisionPlan {
  const revisions = sortRevisions(existing);
  const data = revisionData(set);
  const next = revisions.length ? revisions[revisions.length - 1].revision + 1 : 1;
  let collisionCount = set.status?.collisionCount ?? 0;
  const equal = revisions.filter((r) => deepEqual(r.data, data));
  let update: ControllerRevision;
  let create: ControllerRevision | undefined;
  let renumber: number | undefined;
  if (equal.length && equal[equal.length - 1] === revisions[revisions.length - 1]) {
    update = revisions[revisions.length - 1];
  } else if (equal.length) {
    renumber = next;
    update = { ...equal[equal.length - 1], revision: next };
  } else {
    // A name taken by different data is a hash collision: probe with the next count.
    const byName = new Map(revisions.map((r) => [r.metadata.name!, r]));
    let hash = revisionHash(data, collisionCount);
    while (byName.has(revisionName(set, hash))) hash = revisionHash(data, ++collisionCount);
    update = create = newRevision(set, data, hash, next);
  }
  const currentName = set.status?.currentRevision;
  const current = (currentName && revisions.find((r) => r.metadata.name === currentName)) || update;
  return { update, current, collisionCount, create, renumber };
}

/**
 * Revisions beyond revisionHistoryLimit that no pod uses and that are neither current nor update,
 * oldest first (Kubernetes' truncateHistory).
 */
export function revisionsToPrune(set: StatefulSet, revisions: ControllerRevision[], live: Set<string>): ControllerRevision[] {
  const limit = set.spec?.revisionHistoryLimit ?? 10;
  const history = sortRevisions(revisions).filter((r) => !live.has(r.metadata.name!));
  return history.slice(0, Math.max(0, history.length - limit));
}
