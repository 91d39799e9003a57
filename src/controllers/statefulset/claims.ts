// A StatefulSet's claims, pure: which owners persistentVolumeClaimRetentionPolicy
// gives each claim (the garbage collector then deletes claims whose owners are
// gone), whether a leftover claim still waits for that, and the storage a grown
// volumeClaimTemplate asks of an existing claim.
import { resourceQuantity } from '../../machinery/quantity.js';
import { inOrdinalRange, ordinalOf, type Claim, type OwnerReference, type Pod, type StatefulSet } from './identity.js';

function ownerRef(kind: 'StatefulSet' | 'Pod', obj: { metadata: { name?: string; uid?: string } }): OwnerReference {
  return { apiVersion: kind === 'Pod' ? 'v1' : 'apps/v1', kind, name: obj.metadata.name!, uid: obj.metadata.uid! };
}

/**
 * The ownerReferences a claim of `pod` should carry (Kubernetes' updateClaimOwnerRefForSetAndPod):
 * whenDeleted=Delete makes the set an owner; whenScaled=Delete makes the pod the owner once its
 * ordinal is scaled away. Other owners are kept. `pod` may not exist yet (no uid): then only the
 * set's reference is considered.
 */
export function desiredClaimOwners(set: StatefulSet, pod: Pod | undefined, claim: Claim): OwnerReference[] {
  const policy = set.spec?.persistentVolumeClaimRetentionPolicy ?? {};
  const deleteWithSet = policy.whenDeleted === 'Delete';
  const deleteOnScale = policy.whenScaled === 'Delete';
  const scaledDown = pod ? !inOrdinalRange(set, ordinalOf(pod)) : false;
  let refs = [...(claim.metadata.ownerReferences ?? [])];
  const has = (uid: string) => refs.some((r) => r.uid === uid);
  const set_ = (kind: 'StatefulSet' | 'Pod', obj: { metadata: { name?: string; uid?: string } }, want: boolean) => {
    const uid = obj.metadata.uid;
    if (!uid) return;
    if (want && !has(uid)) refs.push(ownerRef(kind, obj));
    if (!want) refs = refs.filter((r) => r.uid !== uid);
  };
  // With both policies Delete, a scaled-down claim belongs to its pod alone (the set may stay).
  set_('StatefulSet', set, deleteWithSet && !(deleteOnScale && scaledDown));
  if (pod) set_('Pod', pod, deleteOnScale && scaledDown);
  return refs;
}

/** A claim still owned by an earlier pod of the same name waits for the garbage collector. */
export function isStale(claim: Claim, podName: string, podUid: string | undefined): boolean {
  return (claim.metadata.ownerReferences ?? []).some((r) => r.kind === 'Pod' && r.name === podName && r.uid !== podUid);
}

/** The storage request a claim should grow to, when its template asks for more than it has. */
export function grownStorage(template: Claim, claim: Claim): string | undefined {
  const want = resourceQuantity(template.spec?.resources?.requests, 'storage');
  const have = resourceQuantity(claim.spec?.resources?.requests, 'storage');
  if (!want || !have || want.cmp(have) <= 0) return undefined;
  return String(template.spec!.resources!.requests!.storage);
}
