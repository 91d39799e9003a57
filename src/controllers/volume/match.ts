// Which PersistentVolume may serve a claim, pure: the predicates of Kubernetes'
// persistentvolume util (IsVolumeBoundToClaim, CheckVolumeModeMismatches,
// CheckAccessModes, CheckNodeAffinity) and FindMatchingVolume with the PV
// controller's access-mode ordering (index.go findByClaim).
import type { PersistentVolume } from '../../api/core/persistentvolumes.js';
import { matchesNodeSelectorTerms } from '../../machinery/nodeaffinity.js';
import { storageClassOf, type PersistentVolumeClaim } from '../../api/core/persistentvolumeclaims.js';
import { Quantity, resourceQuantity } from '../../machinery/quantity.js';
import { labelSelectorFromObject, type Labels } from '../../machinery/selectors.js';

export type Volume = PersistentVolume;
export type Claim = PersistentVolumeClaim;

/** Set on a claim once its binding is complete: from then on it is synced as a bound claim. */
export const ANN_BIND_COMPLETED = 'pv.kubernetes.io/bind-completed';
/** Set on a claim or volume whose half of the binding the controller (not the user) wrote. */
export const ANN_BOUND_BY_CONTROLLER = 'pv.kubernetes.io/bound-by-controller';
/** Set on a volume by the provisioner that created it. */
export const ANN_PROVISIONED_BY = 'pv.kubernetes.io/provisioned-by';
/** The node the scheduler chose for a WaitForFirstConsumer claim's first pod. */
export const ANN_SELECTED_NODE = 'volume.kubernetes.io/selected-node';
/** The provisioner asked to create a claim's volume (and its deprecated beta spelling). */
export const ANN_STORAGE_PROVISIONER = 'volume.kubernetes.io/storage-provisioner';
export const ANN_BETA_STORAGE_PROVISIONER = 'volume.beta.kubernetes.io/storage-provisioner';

export function hasAnnotation(obj: { metadata: { annotations?: Record<string, string> } }, key: string): boolean {
  return Object.hasOwn(obj.metadata.annotations ?? {}, key);
}

/** The claim's class, as admission resolved it; "" means "only volumes without a class". */
export function claimClass(claim: Claim): string {
  return storageClassOf(claim);
}

export function volumeClass(volume: Volume): string {
  return storageClassOf(volume);
}

/** The `storage` entry of a resource list; undefined when absent or unreadable. */
export function storageOf(list: Record<string, unknown> | undefined): Quantity | undefined {
  return resourceQuantity(list, 'storage');
}

/** What the claim asks for; none asked is zero, as an absent map entry is in Go. */
export function requestedStorage(claim: Claim): Quantity {
  return storageOf(claim.spec?.resources?.requests) ?? Quantity.fromValue(0);
}

/** A volume without (or with an unreadable) capacity has none. */
export function volumeStorage(volume: Volume): Quantity {
  return storageOf(volume.spec?.capacity) ?? Quantity.fromValue(0);
}

/** The volume's claimRef names this claim, by namespace and name, and by uid unless the ref has none (pre-bound). */
export function isVolumeBoundToClaim(volume: Volume, claim: Claim): boolean {
  const ref = volume.spec?.claimRef;
  if (!ref) return false;
  if (ref.name !== claim.metadata.name || ref.namespace !== claim.metadata.namespace) return false;
  return !ref.uid || ref.uid === claim.metadata.uid;
}

/** volumeMode defaults to Filesystem on both sides. */
export function volumeModeMismatch(claim: Claim, volume: Volume): boolean {
  return (claim.spec?.volumeMode ?? 'Filesystem') !== (volume.spec?.volumeMode ?? 'Filesystem');
}

/** Every mode the claim asks for is one the volume offers. */
export function hasAccessModes(claim: Claim, volume: Volume): boolean {
  const offered = new Set(volume.spec?.accessModes ?? []);
  return (claim.spec?.accessModes ?? []).every((m) => offered.has(m));
}

/** How many distinct access modes a volume offers: the PV controller tries the fewest first. */
function accessModeCount(volume: Volume): number {
  return new Set(volume.spec?.accessModes ?? []).size;
}

export interface NodeInfo {
  name: string;
  labels?: Labels;
}


/**
 * CheckNodeAffinity: a volume without required node affinity fits every node; otherwise one of its
 * terms must match the node's labels (matchExpressions) and name (matchFields on metadata.name).
 * An empty term matches nothing.
 */
export function nodeAffinityAllows(volume: Volume, node: NodeInfo): boolean {
  const terms = volume.spec?.nodeAffinity?.required?.nodeSelectorTerms;
  return !terms || matchesNodeSelectorTerms(terms, node);
}

export interface MatchOptions {
  /** The node a WaitForFirstConsumer claim's pod goes to: volumes whose node affinity excludes it are skipped. */
  node?: NodeInfo;
  /**
   * The claim's class binds on first consumer and no node is chosen yet: only a volume pre-bound to
   * the claim may match (Kubernetes leaves the rest to the scheduler's choice of node).
   */
  delayBinding?: boolean;
}

/**
 * The volume a claim should bind to, or undefined. A volume whose claimRef names this claim wins
 * whatever its class, labels, phase or size beyond the request; otherwise the smallest Available
 * volume of the claim's class that offers its access modes, matches its selector and node, and
 * holds at least what it requests. Without a node, volumes offering fewer access modes are tried
 * first (RWO before RWO+ROX), as the PV controller's index does. Ties go to the first name, so the
 * answer does not depend on list order.
 *
 * In Kubernetes a pre-bound volume must still hold the request, have the claim's volumeMode and not
 * be deleting; so here.
 */
export function findMatchingVolume(claim: Claim, volumes: readonly Volume[], opts: MatchOptions = {}): Volume | undefined {
  const requested = requestedStorage(claim);
  const cls = claimClass(claim);
  // A claim without a selector takes any labels (a nil selector here means "no constraint").
  const selector = claim.spec?.selector ? labelSelectorFromObject(claim.spec.selector) : undefined;
  let best: { volume: Volume; size: Quantity; modes: number } | undefined;
  for (const volume of volumes) {
    if (volume.spec?.claimRef && !isVolumeBoundToClaim(volume, claim)) continue;
    const size = volumeStorage(volume);
    if (size.cmp(requested) < 0) continue;
    if (volumeModeMismatch(claim, volume)) continue;
    if (volume.metadata.deletionTimestamp) continue;
    const fitsNode = !opts.node || nodeAffinityAllows(volume, opts.node);
    if (isVolumeBoundToClaim(volume, claim)) return fitsNode ? volume : undefined;
    if (!opts.node && opts.delayBinding) continue;
    // Only Available volumes: one about to become Available would likely conflict if bound now.
    if (volume.status?.phase !== 'Available') continue;
    if (selector && !selector.matches(volume.metadata.labels)) continue;
    if (volumeClass(volume) !== cls) continue;
    if (!fitsNode) continue;
    if (!hasAccessModes(claim, volume)) continue;
    const modes = opts.node ? 0 : accessModeCount(volume);
    if (!best || better({ volume, size, modes }, best)) best = { volume, size, modes };
  }
  return best?.volume;
}

function better(a: { volume: Volume; size: Quantity; modes: number }, b: { volume: Volume; size: Quantity; modes: number }): boolean {
  if (a.modes !== b.modes) return a.modes < b.modes;
  const c = a.size.cmp(b.size);
  if (c !== 0) return c < 0;
  return (a.volume.metadata.name ?? '') < (b.volume.metadata.name ?? '');
}

/**
 * checkVolumeSatisfyClaim: why a volume the claim names in spec.volumeName cannot serve it, in
 * Kubernetes' words; undefined when it can.
 */
export function volumeMismatch(volume: Volume, claim: Claim): string | undefined {
  if (volumeStorage(volume).cmp(requestedStorage(claim)) < 0) return 'requested PV is too small';
  if (volumeClass(volume) !== claimClass(claim)) return 'storageClassName does not match';
  if (volumeModeMismatch(claim, volume)) return 'incompatible volumeMode';
  if (!hasAccessModes(claim, volume)) return 'incompatible accessMode';
  return undefined;
}
